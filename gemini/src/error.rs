//! Every way a Gemini call can fail, as a variant a person can act on.
//!
//! [`GeminiError::kind`] is a stable machine-readable name; `Display` is a sentence for a
//! person. Neither ever contains the API key: the key is only ever in a request header, and
//! error texts are built from Gemini's answer or from fixed sentences, never from the request.

use std::time::Duration;

use crate::wire::{BlockReason, ErrorBody, ErrorEnvelope, FinishReason};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GeminiError {
    #[error("The Gemini API key is not valid. Check GEMINI_API_KEY on the server.")]
    InvalidKey,

    #[error("{}", permission_message(*.leaked, message))]
    PermissionDenied { leaked: bool, message: String },

    #[error(
        "The model {model:?} does not exist or was retired. Choose another model, or update the server's model table."
    )]
    ModelNotFound { model: String },

    #[error("Gemini refused the request: {message}")]
    BadRequest { message: String },

    #[error("{}", quota_message(*.zero_quota, *.retry_after))]
    QuotaExhausted {
        retry_after: Option<Duration>,
        zero_quota: bool,
    },

    #[error("The model is overloaded right now. Try again in a minute, or pick another model.")]
    Overloaded { retry_after: Option<Duration> },

    #[error("Gemini had an internal error (HTTP {status}). Try again.")]
    Upstream { status: u16 },

    #[error("Gemini did not answer in time. Try again, or ask for a smaller image.")]
    Timeout,

    #[error("Could not reach Gemini: {detail}. Check the server's network connection.")]
    Network { detail: String },

    #[error("{}", prompt_blocked_message(reason, message.as_deref()))]
    PromptBlocked {
        reason: BlockReason,
        message: Option<String>,
    },

    #[error("{}", image_blocked_message(reason, message.as_deref()))]
    ImageBlocked {
        reason: FinishReason,
        message: Option<String>,
    },

    #[error("{}", no_image_message(text.as_deref()))]
    NoImage {
        finish_reason: Option<FinishReason>,
        text: Option<String>,
    },

    #[error("Gemini's answer could not be read ({detail}). Try again.")]
    Malformed { detail: String },
}

fn permission_message(leaked: bool, message: &str) -> String {
    if leaked {
        "Google reports this API key as leaked and has disabled it. Create a new key and set GEMINI_API_KEY."
            .to_owned()
    } else {
        format!("Gemini denied access: {message}")
    }
}

fn quota_message(zero_quota: bool, retry_after: Option<Duration>) -> String {
    if zero_quota {
        return "This API key has no quota for this image model (image models have no free tier). \
                Enable billing for the key's project, or use another key."
            .to_owned();
    }
    match retry_after {
        Some(d) => format!(
            "Gemini's quota is used up for now. Try again in {} s.",
            d.as_secs().max(1)
        ),
        None => "Gemini's quota is used up for now. Try again later.".to_owned(),
    }
}

fn prompt_blocked_message(reason: &BlockReason, message: Option<&str>) -> String {
    let base = format!("Gemini blocked the prompt ({reason}). Rephrase it and try again.");
    match message {
        Some(m) if !m.is_empty() => format!("{base} {m}"),
        _ => base,
    }
}

fn image_blocked_message(reason: &FinishReason, message: Option<&str>) -> String {
    match message {
        Some(m) if !m.is_empty() => format!("Gemini withheld the image ({reason}): {m}"),
        _ => format!(
            "Gemini withheld the image ({reason}). You are not charged for blocked images. Try rephrasing the prompt."
        ),
    }
}

fn no_image_message(text: Option<&str>) -> String {
    match text {
        Some(t) if !t.trim().is_empty() => {
            format!(
                "Gemini answered with text instead of an image: \u{201c}{}\u{201d}",
                t.trim()
            )
        }
        _ => "Gemini returned no image. Try again, or make the prompt ask for an image explicitly."
            .to_owned(),
    }
}

impl GeminiError {
    /// A stable, machine-readable name for the variant.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::InvalidKey => "invalid_key",
            Self::PermissionDenied { .. } => "permission_denied",
            Self::ModelNotFound { .. } => "model_not_found",
            Self::BadRequest { .. } => "bad_request",
            Self::QuotaExhausted { .. } => "quota_exhausted",
            Self::Overloaded { .. } => "overloaded",
            Self::Upstream { .. } => "upstream_error",
            Self::Timeout => "timeout",
            Self::Network { .. } => "network",
            Self::PromptBlocked { .. } => "prompt_blocked",
            Self::ImageBlocked { .. } => "image_blocked",
            Self::NoImage { .. } => "no_image",
            Self::Malformed { .. } => "malformed_response",
        }
    }

    /// Whether trying the same request again can succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::QuotaExhausted { zero_quota, .. } => !zero_quota,
            Self::Overloaded { .. }
            | Self::Upstream { .. }
            | Self::Timeout
            | Self::Network { .. } => true,
            _ => false,
        }
    }

    /// The delay Gemini asked for before a retry, if it named one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::QuotaExhausted { retry_after, .. } | Self::Overloaded { retry_after } => {
                *retry_after
            }
            _ => None,
        }
    }

    /// Classifies a non-2xx answer from its status and body.
    pub fn from_http(status: u16, body: &[u8], model: &str) -> Self {
        let parsed = serde_json::from_slice::<ErrorEnvelope>(body)
            .ok()
            .map(|e| e.error);
        match parsed {
            Some(error) => Self::from_error_body(status, &error, model),
            None => match status {
                404 => Self::ModelNotFound {
                    model: model.to_owned(),
                },
                408 | 504 => Self::Timeout,
                429 => Self::QuotaExhausted {
                    retry_after: None,
                    zero_quota: false,
                },
                503 => Self::Overloaded { retry_after: None },
                500..=599 => Self::Upstream { status },
                _ => Self::Malformed {
                    detail: format!("HTTP {status} with an unreadable error body"),
                },
            },
        }
    }

    /// Classifies an error body (of a non-2xx answer, or an error event mid-stream).
    pub fn from_error_body(status: u16, error: &ErrorBody, model: &str) -> Self {
        let status = if status == 200 { error.code } else { status };
        let reason = detail_field(&error.details, "ErrorInfo", "reason");
        let retry_after = detail_field(&error.details, "RetryInfo", "retryDelay")
            .as_deref()
            .and_then(parse_duration)
            .or_else(|| retry_in_message(&error.message));
        match (status, error.status.as_str()) {
            (_, _) if reason.as_deref() == Some("API_KEY_INVALID") => Self::InvalidKey,
            (400, _) if error.message.contains("API key not valid") => Self::InvalidKey,
            (401 | 403, _) | (_, "PERMISSION_DENIED" | "UNAUTHENTICATED") => {
                Self::PermissionDenied {
                    leaked: error.message.to_ascii_lowercase().contains("leaked"),
                    message: error.message.clone(),
                }
            }
            (404, _) | (_, "NOT_FOUND") => Self::ModelNotFound {
                model: model.to_owned(),
            },
            (429, _) | (_, "RESOURCE_EXHAUSTED") => Self::QuotaExhausted {
                retry_after,
                zero_quota: is_zero_quota(error),
            },
            (408 | 504 | 499, _) | (_, "DEADLINE_EXCEEDED" | "CANCELLED") => Self::Timeout,
            (503, _) | (_, "UNAVAILABLE") => Self::Overloaded { retry_after },
            (500..=599, _) | (_, "INTERNAL") => Self::Upstream { status },
            (400..=499, _) => Self::BadRequest {
                message: error.message.clone(),
            },
            _ => Self::Malformed {
                detail: format!("unexpected error status {status}"),
            },
        }
    }
}

/// A field of the first `details` entry whose `@type` ends with `type_suffix`.
fn detail_field(details: &[serde_json::Value], type_suffix: &str, field: &str) -> Option<String> {
    details
        .iter()
        .find(|d| {
            d.get("@type")
                .and_then(|t| t.as_str())
                .is_some_and(|t| t.ends_with(type_suffix))
        })
        .and_then(|d| d.get(field))
        .and_then(|v| v.as_str())
        .map(str::to_owned)
}

/// True when the quota that ran out has a limit of zero: this key can never use this model.
fn is_zero_quota(error: &ErrorBody) -> bool {
    let in_details = error.details.iter().any(|d| {
        d.get("violations")
            .and_then(|v| v.as_array())
            .is_some_and(|violations| {
                violations
                    .iter()
                    .any(|v| v.get("quotaValue").and_then(|q| q.as_str()) == Some("0"))
            })
    });
    in_details || error.message.contains("limit: 0,") || error.message.contains("limit: 0\n")
}

/// Parses a protobuf JSON duration such as `10s` or `10.970611001s`.
pub(crate) fn parse_duration(text: &str) -> Option<Duration> {
    let seconds: f64 = text.trim().strip_suffix('s')?.parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds.min(86_400.0)))
}

/// Finds "Please retry in 10.970611001s." in a quota message.
fn retry_in_message(message: &str) -> Option<Duration> {
    let rest = message.split("retry in ").nth(1)?;
    let end = rest.find('s')?;
    parse_duration(&rest[..=end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_like_protobuf() {
        assert_eq!(parse_duration("10s"), Some(Duration::from_secs(10)));
        assert_eq!(parse_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("10"), None);
        assert_eq!(parse_duration("-1s"), None);
    }

    #[test]
    fn retry_delay_is_found_in_the_message_when_details_lack_it() {
        let d = retry_in_message("...\nPlease retry in 10.970611001s.").unwrap();
        assert_eq!(d.as_millis(), 10_970);
    }

    #[test]
    fn kinds_are_stable_and_distinct() {
        let all = [
            GeminiError::InvalidKey,
            GeminiError::PermissionDenied {
                leaked: false,
                message: String::new(),
            },
            GeminiError::ModelNotFound {
                model: String::new(),
            },
            GeminiError::BadRequest {
                message: String::new(),
            },
            GeminiError::QuotaExhausted {
                retry_after: None,
                zero_quota: false,
            },
            GeminiError::Overloaded { retry_after: None },
            GeminiError::Upstream { status: 500 },
            GeminiError::Timeout,
            GeminiError::Network {
                detail: String::new(),
            },
            GeminiError::PromptBlocked {
                reason: BlockReason::Safety,
                message: None,
            },
            GeminiError::ImageBlocked {
                reason: FinishReason::ImageSafety,
                message: None,
            },
            GeminiError::NoImage {
                finish_reason: None,
                text: None,
            },
            GeminiError::Malformed {
                detail: String::new(),
            },
        ];
        let kinds: std::collections::HashSet<_> = all.iter().map(GeminiError::kind).collect();
        assert_eq!(kinds.len(), all.len());
    }

    #[test]
    fn zero_quota_is_never_retryable() {
        let zero = GeminiError::QuotaExhausted {
            retry_after: Some(Duration::from_secs(1)),
            zero_quota: true,
        };
        assert!(!zero.is_retryable());
        assert!(zero.to_string().contains("no quota"));
        let some = GeminiError::QuotaExhausted {
            retry_after: Some(Duration::from_secs(7)),
            zero_quota: false,
        };
        assert!(some.is_retryable());
        assert!(some.to_string().contains("7 s"));
    }
}
