//! One conversion from a failed request to its HTTP answer.
//!
//! Every error a browser sees is a [`protocol::UserError`]: a kind, a sentence, maybe a time to
//! retry. Its HTTP status and `Retry-After` follow from it, decided here and nowhere else:
//! server functions return their error (through `?`), Leptos writes it as the body of a 500
//! marked `serverfnerror`, and this layer reads the kind back and sets the status it stands
//! for. No server function sets a status by hand, so none can forget to, or set a wrong one.
//! (Middleware refusals are built by `security::refuse_with`, from the same kind.)

use axum::{
    body::{Body, to_bytes},
    extract::Request,
    http::StatusCode,
    middleware::Next,
    response::Response,
};
use protocol::UserError;

use crate::security::set_retry_after;

/// The header Leptos marks a server function's error answer with.
const SERVER_FN_ERROR: &str = "serverfnerror";

/// The largest error body read back (errors are a sentence or two).
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Gives each server function's error answer the status and `Retry-After` of its kind.
pub async fn server_fn_status(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    // A form post without JavaScript is redirected with the error in the URL: leave it be.
    if res.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !res.headers().contains_key(SERVER_FN_ERROR)
    {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_ERROR_BODY).await else {
        tracing::error!("a server function's error answer could not be read");
        parts.status = StatusCode::INTERNAL_SERVER_ERROR;
        return Response::from_parts(parts, Body::empty());
    };
    match serde_json::from_slice::<UserError>(&bytes) {
        Ok(error) => {
            parts.status = StatusCode::from_u16(error.kind.http_status())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut res = Response::from_parts(parts, Body::from(bytes));
            if let Some(secs) = error.retry_after_secs {
                set_retry_after(&mut res, secs);
            }
            res
        }
        Err(_) => Response::from_parts(parts, Body::from(bytes)),
    }
}
