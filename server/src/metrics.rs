//! `/metrics` in the Prometheus text format, with the `metrics` crate family.
//!
//! What is counted: requests by route and status (`gemflash_http_requests_total`), Gemini calls
//! by model and outcome with their latency (`gemflash_upstream_calls_total`,
//! `gemflash_upstream_latency_seconds`), every attempt by model, retries included
//! (`gemflash_upstream_attempts_total`), retries, tokens, dollars spent, images stored, and
//! refusals by reason (rate limit, per-client job cap, budget, concurrency, memory, storage,
//! host, sign-in throttle), and the store's size against its quota
//! (`gemflash_storage_used_bytes`, `gemflash_storage_quota_bytes`, read when scraped). The
//! engine records the upstream figures where the calls happen; the middleware records requests
//! and refusals.
//!
//! The endpoint is off unless `GEMFLASH_METRICS_TOKEN` is set, and then answers only a request
//! that carries `Authorization: Bearer <token>` (compared in constant time): the figures tell
//! of spend and use, which is nobody else's business.

use std::sync::OnceLock;

use axum::{
    extract::{MatchedPath, Request, State},
    http::{HeaderMap, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use secrecy::ExposeSecret;

use crate::{secret::constant_time_eq, state::AppState};

/// Latency buckets, in seconds: image calls take from about one to a few tens of seconds.
const LATENCY_BUCKETS: [f64; 12] = [
    0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0, 120.0, 300.0,
];

/// The process's recorder, installed on first use (one per process, however many routers).
pub fn handle() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let installed = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &LATENCY_BUCKETS)
                .and_then(PrometheusBuilder::install_recorder);
            match installed {
                Ok(handle) => Some(handle),
                Err(e) => {
                    tracing::warn!(error = %e, "metrics are off: no recorder could be installed");
                    None
                }
            }
        })
        .clone()
}

/// `GET /metrics`.
pub async fn render(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(expected) = state
        .config
        .ops
        .metrics_token
        .as_ref()
        .map(|t| t.expose_secret())
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let offered = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if !constant_time_eq(offered.as_bytes(), expected.as_bytes()) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "A metrics token is needed.",
        )
            .into_response();
    }
    match state.studio.store().run(|s| s.usage()).await {
        Ok(usage) => {
            metrics::gauge!("gemflash_storage_used_bytes").set(usage.used_bytes as f64);
            metrics::gauge!("gemflash_storage_quota_bytes")
                .set(usage.quota_bytes.map_or(0.0, |q| q as f64));
        }
        Err(e) => tracing::error!(error = %e, "the store's usage could not be read"),
    }
    match handle() {
        Some(handle) => (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            handle.render(),
        )
            .into_response(),
        None => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

/// Counts every request by its route pattern (never the raw path) and status.
pub async fn count_requests(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let res = next.run(req).await;
    metrics::counter!(
        "gemflash_http_requests_total",
        "route" => route,
        "status" => res.status().as_u16().to_string()
    )
    .increment(1);
    res
}
