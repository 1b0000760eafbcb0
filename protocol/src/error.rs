//! Errors as the browser sees them: a stable, machine-readable kind and a sentence a person can
//! act on. Internal detail (paths, SQL, upstream messages) never goes in here; it stays in the
//! server's log.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A stable, machine-readable error kind. New kinds are added as features arrive; the browser
/// treats a kind it does not know as [`ErrorKind::Internal`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The request itself was wrong; the message says how to fix it.
    BadRequest,
    /// The thing asked for does not exist.
    NotFound,
    /// Something went wrong on the server; the detail is in its log.
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
}

impl ErrorKind {
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
        }
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
