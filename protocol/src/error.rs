//! Errors as the browser sees them: a stable, machine-readable kind and a sentence a person can
//! act on. Internal detail (paths, SQL, upstream messages) never goes in here; it stays in the
//! server's log.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A stable, machine-readable error kind, `snake_case` on the wire. New kinds are added as
/// features arrive; the browser treats a kind it does not know as [`ErrorKind::Internal`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "&'static str", from = "String")]
pub enum ErrorKind {
    /// The request itself was wrong; the message says how to fix it.
    BadRequest,
    /// The thing asked for does not exist.
    NotFound,
    /// Something went wrong on the server; the detail is in its log. A kind this build does
    /// not know (a newer server's) reads as this one.
    Internal,
    /// The request could not reach the server, or its answer could not be read.
    Network,
    /// An image of a kind or size GemFlash cannot take.
    UnsupportedImage,
    /// The upload is larger than the server accepts.
    TooLarge,
    /// Gemini refused the prompt.
    PromptBlocked,
    /// Gemini made an image and withheld it.
    ImageBlocked,
    /// Gemini answered without an image (perhaps with text).
    NoImage,
    /// Gemini's quota is used up for now; `retry_after_secs` says when to try again.
    QuotaExhausted,
    /// The key has no quota for this model at all.
    NoQuota,
    /// The model is overloaded or Gemini failed; trying again later may work.
    Unavailable,
    /// Gemini took too long.
    Timeout,
    /// The server's Gemini key or model configuration is wrong: only the operator can fix it.
    Misconfigured,
    /// The request was refused: it came from another site, or it lacks a needed permission.
    Forbidden,
    /// Sign-in is needed first.
    Unauthorized,
    /// This client sent too many generation requests; `retry_after_secs` says when to retry.
    RateLimited,
    /// The server's daily spending limit is reached; `retry_after_secs` runs to the next day.
    BudgetExhausted,
    /// The server's image storage is full: nothing more can be kept until room is made.
    StorageFull,
    /// The request was sent to a host name this server does not answer for.
    MisdirectedRequest,
    /// The request (an upload) took longer to arrive than the server waits.
    RequestTimeout,
    /// The model asked for was retired, or this server's key may not use it: another model
    /// must be chosen.
    ModelUnavailable,
}

impl ErrorKind {
    /// Every kind, for tables and tests.
    pub const ALL: [ErrorKind; 22] = [
        ErrorKind::BadRequest,
        ErrorKind::NotFound,
        ErrorKind::Internal,
        ErrorKind::Network,
        ErrorKind::UnsupportedImage,
        ErrorKind::TooLarge,
        ErrorKind::PromptBlocked,
        ErrorKind::ImageBlocked,
        ErrorKind::NoImage,
        ErrorKind::QuotaExhausted,
        ErrorKind::NoQuota,
        ErrorKind::Unavailable,
        ErrorKind::Timeout,
        ErrorKind::Misconfigured,
        ErrorKind::Forbidden,
        ErrorKind::Unauthorized,
        ErrorKind::RateLimited,
        ErrorKind::BudgetExhausted,
        ErrorKind::StorageFull,
        ErrorKind::MisdirectedRequest,
        ErrorKind::RequestTimeout,
        ErrorKind::ModelUnavailable,
    ];

    /// The kind's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::BadRequest => "bad_request",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Internal => "internal",
            ErrorKind::Network => "network",
            ErrorKind::UnsupportedImage => "unsupported_image",
            ErrorKind::TooLarge => "too_large",
            ErrorKind::PromptBlocked => "prompt_blocked",
            ErrorKind::ImageBlocked => "image_blocked",
            ErrorKind::NoImage => "no_image",
            ErrorKind::QuotaExhausted => "quota_exhausted",
            ErrorKind::NoQuota => "no_quota",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Misconfigured => "misconfigured",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::BudgetExhausted => "budget_exhausted",
            ErrorKind::StorageFull => "storage_full",
            ErrorKind::MisdirectedRequest => "misdirected_request",
            ErrorKind::RequestTimeout => "request_timeout",
            ErrorKind::ModelUnavailable => "model_unavailable",
        }
    }

    /// The HTTP status the server answers this kind with.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorKind::BadRequest => 400,
            ErrorKind::NotFound => 404,
            ErrorKind::Internal => 500,
            ErrorKind::Network => 502,
            ErrorKind::UnsupportedImage => 415,
            ErrorKind::TooLarge => 413,
            ErrorKind::PromptBlocked | ErrorKind::ImageBlocked | ErrorKind::NoImage => 422,
            ErrorKind::QuotaExhausted => 429,
            ErrorKind::NoQuota => 402,
            ErrorKind::Unavailable => 503,
            ErrorKind::Timeout => 504,
            ErrorKind::Misconfigured => 502,
            ErrorKind::Forbidden => 403,
            ErrorKind::Unauthorized => 401,
            ErrorKind::RateLimited | ErrorKind::BudgetExhausted => 429,
            ErrorKind::StorageFull => 507,
            ErrorKind::MisdirectedRequest => 421,
            ErrorKind::RequestTimeout => 408,
            // Well-formed, but naming a model that cannot be used: another must be chosen.
            ErrorKind::ModelUnavailable => 422,
        }
    }
}

impl From<ErrorKind> for &'static str {
    fn from(kind: ErrorKind) -> Self {
        kind.as_str()
    }
}

impl From<String> for ErrorKind {
    /// A kind by its wire name; one this build does not know is [`ErrorKind::Internal`].
    fn from(name: String) -> Self {
        ErrorKind::ALL
            .into_iter()
            .find(|k| k.as_str() == name)
            .unwrap_or(ErrorKind::Internal)
    }
}

/// An error fit to show a user: its kind and a message that says what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserError {
    pub kind: ErrorKind,
    pub message: String,
    /// When trying again makes sense, after how many seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
}

impl UserError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            retry_after_secs: None,
        }
    }

    /// The answer for an internal failure: it says nothing about the failure itself.
    pub fn internal() -> Self {
        Self::new(
            ErrorKind::Internal,
            "Something went wrong on the server. Please try again; if it keeps happening, the \
             server's log has the details.",
        )
    }
}

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UserError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_their_http_status() {
        assert_eq!(ErrorKind::BadRequest.http_status(), 400);
        assert_eq!(ErrorKind::NotFound.http_status(), 404);
        assert_eq!(ErrorKind::Internal.http_status(), 500);
        for kind in ErrorKind::ALL {
            assert!((400..600).contains(&kind.http_status()), "{kind:?}");
        }
    }

    #[test]
    fn every_kind_round_trips_by_its_snake_case_name() {
        for kind in ErrorKind::ALL {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            assert!(
                kind.as_str()
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_')
            );
            assert_eq!(serde_json::from_str::<ErrorKind>(&json).unwrap(), kind);
        }
    }

    #[test]
    fn all_lists_every_kind_once() {
        // A new kind must be added here (the match has no catch-all) and to `ALL`.
        let position = |kind: ErrorKind| match kind {
            ErrorKind::BadRequest => 0,
            ErrorKind::NotFound => 1,
            ErrorKind::Internal => 2,
            ErrorKind::Network => 3,
            ErrorKind::UnsupportedImage => 4,
            ErrorKind::TooLarge => 5,
            ErrorKind::PromptBlocked => 6,
            ErrorKind::ImageBlocked => 7,
            ErrorKind::NoImage => 8,
            ErrorKind::QuotaExhausted => 9,
            ErrorKind::NoQuota => 10,
            ErrorKind::Unavailable => 11,
            ErrorKind::Timeout => 12,
            ErrorKind::Misconfigured => 13,
            ErrorKind::Forbidden => 14,
            ErrorKind::Unauthorized => 15,
            ErrorKind::RateLimited => 16,
            ErrorKind::BudgetExhausted => 17,
            ErrorKind::StorageFull => 18,
            ErrorKind::MisdirectedRequest => 19,
            ErrorKind::RequestTimeout => 20,
            ErrorKind::ModelUnavailable => 21,
        };
        for (i, kind) in ErrorKind::ALL.into_iter().enumerate() {
            assert_eq!(position(kind), i, "{kind:?}");
        }
    }

    #[test]
    fn a_kind_this_build_does_not_know_reads_as_internal() {
        let e: UserError =
            serde_json::from_str(r#"{"kind":"brand_new_kind","message":"Something new."}"#)
                .unwrap();
        assert_eq!(e.kind, ErrorKind::Internal);
        assert_eq!(e.message, "Something new.");
        assert_eq!(
            serde_json::to_string(&ErrorKind::Internal).unwrap(),
            "\"internal\""
        );
    }

    #[test]
    fn internal_error_message_reveals_nothing_specific() {
        let e = UserError::internal();
        assert_eq!(e.kind, ErrorKind::Internal);
        assert!(
            !e.message.contains('/'),
            "no paths in a user-facing message"
        );
    }
}
