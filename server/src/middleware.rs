//! The middleware stack every request passes through, applied in one place.
//!
//! Outermost first: a request id (kept from a trusted caller or made here) and its echo on the
//! response; a tracing span per request that carries the id and the matched route, and logs
//! status and latency (the query string is never logged: it can carry user text); a panic
//! becomes a generic 500 and a log line; the security headers; CSRF; the body limit; a timeout
//! for the whole request and one for a body that stops arriving.

use std::{any::Any, time::Duration};

use axum::{
    Router,
    extract::MatchedPath,
    http::{Request, StatusCode},
    middleware::from_fn_with_state,
    response::{IntoResponse, Response},
};
use protocol::ErrorKind;
use tower::ServiceBuilder;
use tower_http::{
    catch_panic::CatchPanicLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    timeout::{RequestBodyTimeoutLayer, TimeoutLayer},
    trace::TraceLayer,
};
use tracing::Span;

use crate::security::{self, SecurityConfig};

/// How long a client may pause while sending a body before the request is dropped.
const BODY_STALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Wraps `app` in the middleware stack. `request_timeout` bounds a whole request; it must
/// exceed the upstream deadline, or a slow Gemini call would be cut off.
pub fn apply(app: Router, security: SecurityConfig, request_timeout: Duration) -> Router {
    app.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(request_span)
                    .on_request(())
                    .on_response(log_response),
            )
            .layer(PropagateRequestIdLayer::x_request_id())
            .layer(CatchPanicLayer::custom(panic_response))
            .layer(from_fn_with_state(security.clone(), security::headers))
            .layer(from_fn_with_state(security, security::csrf))
            .layer(axum::middleware::from_fn(security::body_limit))
            .layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                request_timeout,
            ))
            .layer(RequestBodyTimeoutLayer::new(BODY_STALL_TIMEOUT)),
    )
}

/// A panic's answer: a generic 500 (no message, no trace) and a log line.
fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = detail, "a request handler panicked");
    security::refuse(
        ErrorKind::Internal,
        "Something went wrong on the server. Try again; if it keeps happening, tell the operator.",
    )
    .into_response()
}

fn request_span<B>(req: &Request<B>) -> Span {
    let id = req
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or("-");
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str);
    tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        route = route.unwrap_or("-"),
        path = %req.uri().path(),
        // Filled in by `abuse::identify`: a keyed hash of the client's address, never the
        // address itself.
        caller = tracing::field::Empty,
    )
}

fn log_response<B>(res: &axum::http::Response<B>, latency: Duration, _span: &Span) {
    tracing::info!(
        status = res.status().as_u16(),
        latency_ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX),
        "response"
    );
}
