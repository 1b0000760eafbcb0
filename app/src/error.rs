//! The error type of every server function: a [`protocol::UserError`] that crosses the wire as
//! JSON, so the browser gets a stable kind and a sentence to show, never internal detail.

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

    /// Sets the current response's status (and `Retry-After`) from the error's kind, and
    /// returns the error for the body. Server functions answer with this.
    #[cfg(feature = "ssr")]
    pub fn respond(self) -> Self {
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            let status = http::StatusCode::from_u16(self.0.kind.http_status())
                .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
            response.set_status(status);
            if let Some(secs) = self.0.retry_after_secs
                && let Ok(value) = http::HeaderValue::from_str(&secs.to_string())
            {
                response.insert_header(http::header::RETRY_AFTER, value);
            }
        }
        self
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
