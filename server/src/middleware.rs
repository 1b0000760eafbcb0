//! The middleware stack every request passes through, applied in one place.
//!
//! Outermost first: a request id (kept from a trusted caller or made here) and its echo on the
//! response, then a tracing span per request that carries the id and the matched route, and
//! logs status and latency. The query string is never logged: it can carry user text.

use std::time::Duration;

use axum::{Router, extract::MatchedPath, http::Request};
use tower::ServiceBuilder;
use tower_http::{
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    trace::TraceLayer,
};
use tracing::Span;

/// Wraps `app` in the middleware stack.
pub fn apply(app: Router) -> Router {
    app.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(request_span)
                    .on_request(())
                    .on_response(log_response),
            )
            .layer(PropagateRequestIdLayer::x_request_id()),
    )
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
    )
}

fn log_response<B>(res: &axum::http::Response<B>, latency: Duration, _span: &Span) {
    tracing::info!(
        status = res.status().as_u16(),
        latency_ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX),
        "response"
    );
}
