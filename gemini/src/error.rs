//! Every way a Gemini call can fail, as a variant a person can act on.
//!
//! [`GeminiError::kind`] is a stable machine-readable name; `Display` is a sentence for a
//! person, and it is always GemFlash's own: upstream text (error messages, `finishMessage`,
//! block messages, the model's words, transport errors) is data, never part of the sentence.
//! What upstream said is kept in the variant for the log ([`GeminiError::detail`]), scrubbed
//! of anything secret-shaped first ([`crate::scrub`]); the client also scrubs the configured
//! key. Answers that Google bills (a 200 that is still a failure: a blocked prompt, a withheld
//! image, text instead of an image) carry their token usage ([`GeminiError::billed`]), so the
//! caller can charge what was spent.

use std::time::Duration;

use crate::{
    scrub::scrub,
    usage::Usage,
    wire::{BlockReason, ErrorBody, ErrorEnvelope, FinishReason},
};

/// Why Gemini denied access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    /// Google reported the key as leaked and disabled it.
    Leaked,
    /// Google suspended the key's consumer (its project).
    Suspended,
    /// Any other refusal (a restricted key, a disabled API, a region).
    Other,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GeminiError {
    #[error("This server's Gemini API key is not valid. The operator must check GEMINI_API_KEY.")]
    InvalidKey,

    #[error("{}", denial_message(*.denial))]
    PermissionDenied {
        denial: Denial,
        /// What Gemini said, scrubbed: for the log.
        detail: String,
    },

    #[error(
        "The model {model:?} was retired or is not available to this server's key. Choose another model."
    )]
    ModelNotFound { model: String },

    #[error(
        "Gemini could not take this request. Try a different prompt or image; if it keeps happening, the server's log says why."
    )]
    BadRequest {
        /// What Gemini said, scrubbed: for the log.
        detail: String,
    },

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

    #[error("Could not reach Gemini. Check the server's network connection, then try again.")]
    Network {
        /// What failed, scrubbed: for the log.
        detail: String,
    },

    #[error("Gemini blocked the prompt ({}). Rephrase it and try again.", reason.label())]
    PromptBlocked {
        reason: BlockReason,
        /// Gemini's `blockReasonMessage`, scrubbed: for the log.
        detail: Option<String>,
        usage: Usage,
    },

    #[error("{}", image_blocked_message(reason))]
    ImageBlocked {
        reason: FinishReason,
        /// Gemini's `finishMessage`, scrubbed: for the log.
        detail: Option<String>,
        usage: Usage,
    },

    #[error(
        "Gemini answered without an image. Try again, or make the prompt ask for an image explicitly."
    )]
    NoImage {
        finish_reason: Option<FinishReason>,
        /// The words the model wrote instead, scrubbed: for the log.
        text: Option<String>,
        usage: Usage,
    },

    #[error("Gemini's answer could not be read. Try again.")]
    Malformed {
        /// What was wrong with it: for the log.
        detail: String,
    },
}

fn denial_message(denial: Denial) -> &'static str {
    match denial {
        Denial::Leaked => {
            "Google reports this server's Gemini API key as leaked and has disabled it. The operator must create a new key and set GEMINI_API_KEY."
        }
        Denial::Suspended => {
            "Google has suspended this server's Gemini API key. The operator must use another key."
        }
        Denial::Other => {
            "Gemini refused this server's key for this request. The operator must check the key's restrictions and its project."
        }
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

fn image_blocked_message(reason: &FinishReason) -> String {
    format!(
        "Gemini withheld the image ({}). You are not charged for blocked images. Try rephrasing the prompt.",
        reason.label()
    )
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

    /// What upstream said, scrubbed, for the log; never for a user.
    pub fn detail(&self) -> Option<&str> {
        match self {
            Self::PermissionDenied { detail, .. }
            | Self::BadRequest { detail }
            | Self::Network { detail }
            | Self::Malformed { detail } => Some(detail),
            Self::PromptBlocked { detail, .. } | Self::ImageBlocked { detail, .. } => {
                detail.as_deref()
            }
            Self::NoImage { text, .. } => text.as_deref(),
            _ => None,
        }
    }

    /// The tokens Google bills for this failure: a 200 answer that is still a failure (a
    /// blocked prompt, a withheld image, no image) is billed like any other answer.
    pub fn billed(&self) -> Option<&Usage> {
        match self {
            Self::PromptBlocked { usage, .. }
            | Self::ImageBlocked { usage, .. }
            | Self::NoImage { usage, .. } => Some(usage),
            _ => None,
        }
    }

    /// The same error with every piece of upstream text passed through `scrub` (the client
    /// uses it to remove its own key, which the shapes alone might miss).
    pub fn scrubbed(self, scrub: impl Fn(&str) -> String) -> Self {
        let opt = |text: Option<String>| text.map(|t| scrub(&t));
        match self {
            Self::PermissionDenied { denial, detail } => Self::PermissionDenied {
                denial,
                detail: scrub(&detail),
            },
            Self::BadRequest { detail } => Self::BadRequest {
                detail: scrub(&detail),
            },
            Self::Network { detail } => Self::Network {
                detail: scrub(&detail),
            },
            Self::Malformed { detail } => Self::Malformed {
                detail: scrub(&detail),
            },
            Self::PromptBlocked {
                reason,
                detail,
                usage,
            } => Self::PromptBlocked {
                reason,
                detail: opt(detail),
                usage,
            },
            Self::ImageBlocked {
                reason,
                detail,
                usage,
            } => Self::ImageBlocked {
                reason,
                detail: opt(detail),
                usage,
            },
            Self::NoImage {
                finish_reason,
                text,
                usage,
            } => Self::NoImage {
                finish_reason,
                text: opt(text),
                usage,
            },
            other => other,
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
                let text = error.message.to_ascii_lowercase();
                let denial = if text.contains("leaked") {
                    Denial::Leaked
                } else if reason.as_deref() == Some("CONSUMER_SUSPENDED")
                    || text.contains("suspended")
                {
                    Denial::Suspended
                } else {
                    Denial::Other
                };
                Self::PermissionDenied {
                    denial,
                    detail: scrub(&error.message),
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
                detail: scrub(&error.message),
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
                denial: Denial::Other,
                detail: String::new(),
            },
            GeminiError::ModelNotFound {
                model: String::new(),
            },
            GeminiError::BadRequest {
                detail: String::new(),
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
                detail: None,
                usage: Usage::default(),
            },
            GeminiError::ImageBlocked {
                reason: FinishReason::ImageSafety,
                detail: None,
                usage: Usage::default(),
            },
            GeminiError::NoImage {
                finish_reason: None,
                text: None,
                usage: Usage::default(),
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
