//! The error type of every server function: a [`protocol::UserError`] that crosses the wire as
//! JSON, so the browser gets a stable kind and a sentence to show, never internal detail.
//!
//! On the server, errors of the layers below convert into it with `?`: the conversion picks
//! the sentence (by kind, never from upstream or internal text) and writes the log line
//! (internal failures at error level, with their detail; refusals as metadata). The HTTP
//! status and `Retry-After` follow from the kind, set in one place by the server
//! (`server::errors`); no server function sets them.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use protocol::{ErrorKind, UserError};
use serde::{Deserialize, Serialize};

/// What a server function answers when it fails.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{0}")]
pub struct AppError(pub UserError);

impl AppError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self(UserError::new(kind, message))
    }

    /// An internal failure. Log the cause before answering with this: the user sees none of it.
    pub fn internal() -> Self {
        Self(UserError::internal())
    }

    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    pub fn message(&self) -> &str {
        &self.0.message
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    /// Failures of the server-function machinery itself. Their text can hold internal detail,
    /// so it is logged (on the server) and replaced by a sentence meant for a person.
    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        #[cfg(feature = "ssr")]
        tracing::warn!(error = %value, "server function failed outside its body");
        match value {
            ServerFnErrorErr::Request(_) => Self::new(
                ErrorKind::Network,
                "Could not reach the GemFlash server. Check your connection and try again.",
            ),
            ServerFnErrorErr::Deserialization(_) => Self::new(
                ErrorKind::Network,
                "The server's answer could not be read. Reload the page and try again.",
            ),
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => Self::new(
                ErrorKind::BadRequest,
                "The request was incomplete or malformed. Reload the page and try again.",
            ),
            _ => Self::internal(),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<engine::studio::JobError> for AppError {
    fn from(error: engine::studio::JobError) -> Self {
        use engine::studio::JobError;
        let user = error.to_user_error();
        match &error {
            e if e.is_internal() => tracing::error!(error = %e, "image job failed"),
            // The kind only: upstream detail was logged, scrubbed, where the call was made.
            JobError::Gemini(e) => tracing::warn!(outcome = e.kind(), "image job refused upstream"),
            _ => tracing::info!(outcome = ?user.kind, "image job refused"),
        }
        Self(user)
    }
}

#[cfg(feature = "ssr")]
impl From<engine::store::StoreError> for AppError {
    fn from(error: engine::store::StoreError) -> Self {
        engine::studio::JobError::from(error).into()
    }
}

#[cfg(feature = "ssr")]
impl From<engine::memory::MemoryError> for AppError {
    fn from(error: engine::memory::MemoryError) -> Self {
        engine::studio::JobError::from(error).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machinery_errors_never_echo_their_internal_text() {
        let secret = "/srv/gemflash/data/db.sqlite: permission denied";
        for err in [
            ServerFnErrorErr::ServerError(secret.into()),
            ServerFnErrorErr::Args(secret.into()),
            ServerFnErrorErr::Request(secret.into()),
            ServerFnErrorErr::Response(secret.into()),
        ] {
            let app = AppError::from_server_fn_error(err);
            assert!(!app.message().contains(secret), "leaked: {}", app.message());
        }
    }

    #[test]
    fn bad_arguments_are_a_bad_request() {
        let app = AppError::from_server_fn_error(ServerFnErrorErr::Args("x".into()));
        assert_eq!(app.kind(), ErrorKind::BadRequest);
    }

    #[test]
    fn errors_round_trip_through_the_wire_encoding() {
        let original = AppError::new(ErrorKind::NotFound, "No such image.");
        let bytes = original.ser();
        assert_eq!(AppError::de(bytes), original);
    }
}
