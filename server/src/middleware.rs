//! The middleware stack every request passes through, applied in one place.
//!
//! Outermost first: a request id (kept from the caller only when it is short and made of
//! safe characters, else made here) and its echo on the response; a tracing span per request
//! that carries the id and the matched route, and logs status and latency (the query string
//! is never logged: it can carry user text); the security headers (they only dress the
//! answer); the host check (a request for another host name goes no further); a cap on
//! requests served at once; a panic becomes a generic 500 and a log line; CSRF; the body limit
//! and upload deadline; a timeout for the whole request and one for a body that stops
//! arriving.

use std::{
    any::Any,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use axum::{
    Router,
    extract::{MatchedPath, State},
    http::{Request, StatusCode},
    middleware::{Next, from_fn_with_state},
    response::{IntoResponse, Response},
};
use protocol::{ErrorKind, UserError};
use tower::ServiceBuilder;
use tower_http::{
    catch_panic::CatchPanicLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    timeout::{RequestBodyTimeoutLayer, TimeoutLayer},
    trace::TraceLayer,
};
use tracing::Span;

use crate::{
    config::ServerConfig,
    routes,
    security::{self, SecurityConfig},
};

/// How long a client may pause while sending a body before the request is dropped.
const BODY_STALL_TIMEOUT: Duration = Duration::from_secs(30);

/// The longest request id kept from a caller.
const MAX_REQUEST_ID: usize = 64;

/// What the stack needs to know.
#[derive(Debug, Clone)]
pub struct Stack {
    pub server: Arc<ServerConfig>,
    pub security: SecurityConfig,
    /// Bounds a whole request; it must exceed the upstream deadline, or a slow Gemini call
    /// would be cut off.
    pub request_timeout: Duration,
    /// How long an upload may take to arrive.
    pub upload_deadline: Duration,
    /// Requests served at once, over all clients.
    pub requests_in_flight: usize,
}

/// Wraps `app` in the middleware stack.
pub fn apply(app: Router, stack: Stack) -> Router {
    let in_flight = InFlight {
        running: Arc::new(AtomicUsize::new(0)),
        max: stack.requests_in_flight.max(1),
    };
    app.layer(
        ServiceBuilder::new()
            .map_request(drop_unsafe_request_id)
            .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(request_span)
                    .on_request(())
                    .on_response(log_response),
            )
            .layer(PropagateRequestIdLayer::x_request_id())
            // The headers only dress the answer, so even a refusal below carries them.
            .layer(from_fn_with_state(
                stack.security.clone(),
                security::headers,
            ))
            .layer(from_fn_with_state(stack.server, security::host))
            .layer(from_fn_with_state(in_flight, limit_in_flight))
            .layer(CatchPanicLayer::custom(panic_response))
            .layer(from_fn_with_state(stack.security, security::csrf))
            .layer(from_fn_with_state(
                stack.upload_deadline,
                security::body_limit,
            ))
            .layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                stack.request_timeout,
            ))
            .layer(RequestBodyTimeoutLayer::new(BODY_STALL_TIMEOUT)),
    )
}

/// Whether a caller's request id may be kept: short, and only letters, digits and `-_.:`, so
/// it can go into a log line and a response header as it is.
fn is_safe_request_id(id: &[u8]) -> bool {
    !id.is_empty()
        && id.len() <= MAX_REQUEST_ID
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// Removes a caller's request id that is not safe to keep; a new one is made in its place.
fn drop_unsafe_request_id<B>(mut req: Request<B>) -> Request<B> {
    let unsafe_id = req.headers().get_all("x-request-id").iter().count() > 1
        || req
            .headers()
            .get("x-request-id")
            .is_some_and(|id| !is_safe_request_id(id.as_bytes()));
    if unsafe_id {
        req.headers_mut().remove("x-request-id");
    }
    req
}

/// The count of requests being served, and its cap.
#[derive(Debug, Clone)]
struct InFlight {
    running: Arc<AtomicUsize>,
    max: usize,
}

/// Refuses a request at once (503) when the server is already serving its most; health
/// checks always pass, so an orchestrator does not take a busy server for a dead one.
async fn limit_in_flight(
    State(in_flight): State<InFlight>,
    req: axum::extract::Request,
    next: Next,
) -> Response {
    if routes::is_health(req.uri().path()) {
        return next.run(req).await;
    }
    let before = in_flight.running.fetch_add(1, Ordering::SeqCst);
    let guard = Decrement(in_flight.running.clone());
    if before >= in_flight.max {
        drop(guard);
        metrics::counter!("gemflash_refusals_total", "reason" => "in_flight").increment(1);
        let mut error = UserError::new(
            ErrorKind::Unavailable,
            "GemFlash is serving as many requests as it can right now.",
        );
        error.retry_after_secs = Some(1);
        return security::refuse_with(error);
    }
    let res = next.run(req).await;
    drop(guard);
    res
}

struct Decrement(Arc<AtomicUsize>);

impl Drop for Decrement {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
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
        // Filled in by `abuse::rate_limit`: a keyed hash of the client's identity, never the
        // address itself (or, in proxy-header mode, the user the proxy names).
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_plain_request_ids_are_kept() {
        for ok in ["abc", "0f8e6a2c-1d2b-4c3d-8e9f-000000000000", "trace:1.2_3"] {
            assert!(is_safe_request_id(ok.as_bytes()), "{ok}");
        }
        let long = "a".repeat(65);
        for bad in ["", "a b", "x\"y", "id\n{\"forged\":1}", "é", long.as_str()] {
            assert!(!is_safe_request_id(bad.as_bytes()), "{bad:?}");
        }
    }
}
