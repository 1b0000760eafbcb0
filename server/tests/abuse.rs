//! Abuse and spend controls through the real router and the simulator: the per-client rate
//! limit (429, then recovery; forwarded addresses believed only from trusted proxies), the cap
//! on concurrent upstream calls, and the daily budget, which survives a restart.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::{net::SocketAddr, time::Duration};

use axum::{Router, body::Body, extract::connect_info::MockConnectInfo, http::Response};
use common::{TestApp, app_with, body_text, post};
use protocol::{ErrorKind, UserError};
use tower::ServiceExt;

fn generate_request(prompt: &str, forwarded_for: Option<&str>) -> axum::http::Request<Body> {
    let body = serde_json::json!({ "request": {
        "prompt": prompt, "model": "gemini-3.1-flash-image", "aspect_ratio": "1:1", "image_size": null
    }});
    let mut req = post("/api/generate_image")
        .header("content-type", "application/json")
        .header("accept", "application/json");
    if let Some(ip) = forwarded_for {
        req = req.header("x-forwarded-for", ip);
    }
    req.body(Body::from(body.to_string())).unwrap()
}

async fn call(router: &Router, req: axum::http::Request<Body>) -> Response<Body> {
    router.clone().oneshot(req).await.unwrap()
}

async fn error_of(res: Response<Body>) -> (u16, Option<String>, UserError) {
    let status = res.status().as_u16();
    let retry = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let text = body_text(res).await;
    (status, retry, serde_json::from_str(&text).unwrap())
}

/// The app as seen through a connection from `peer`.
fn behind(app: &TestApp, peer: &str) -> Router {
    app.router
        .clone()
        .layer(MockConnectInfo(peer.parse::<SocketAddr>().unwrap()))
}

#[tokio::test]
async fn the_rate_limit_answers_429_with_retry_after_then_recovers() {
    // One a second, one at a time: the second request at once is refused.
    let app = app_with(&[
        ("GEMFLASH_RATE_LIMIT_PER_MINUTE", "60"),
        ("GEMFLASH_RATE_LIMIT_BURST", "1"),
    ])
    .await;
    let router = behind(&app, "198.51.100.7:5000");
    assert_eq!(
        call(&router, generate_request("a cat", None))
            .await
            .status(),
        200
    );
    let (status, retry, error) =
        error_of(call(&router, generate_request("a cat", None)).await).await;
    assert_eq!((status, error.kind), (429, ErrorKind::RateLimited));
    assert_eq!(retry.as_deref(), Some("1"));
    assert_eq!(error.retry_after_secs, Some(1));
    assert_eq!(app.sim.calls(), 1, "a refused request never reaches Gemini");

    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        call(&router, generate_request("a cat", None))
            .await
            .status(),
        200
    );
    // Pages and images are not rate limited.
    assert_eq!(
        call(
            &router,
            axum::http::Request::get("/gallery")
                .body(Body::empty())
                .unwrap()
        )
        .await
        .status(),
        200
    );
}

#[tokio::test]
async fn forwarded_addresses_count_only_from_trusted_proxies() {
    let app = app_with(&[
        ("GEMFLASH_RATE_LIMIT_PER_MINUTE", "1"),
        ("GEMFLASH_RATE_LIMIT_BURST", "1"),
        ("GEMFLASH_TRUSTED_PROXIES", "10.0.0.0/8"),
    ])
    .await;
    let proxy = behind(&app, "10.0.0.1:443");
    let ok = |res: &Response<Body>| res.status() == 200;
    assert!(ok(&call(
        &proxy,
        generate_request("x", Some("203.0.113.1"))
    )
    .await));
    assert_eq!(
        call(&proxy, generate_request("x", Some("203.0.113.1")))
            .await
            .status(),
        429
    );
    let third = call(&proxy, generate_request("x", Some("203.0.113.2"))).await;
    let status = third.status();
    assert!(
        status == 200,
        "another client behind the proxy: {status} {}",
        body_text(third).await
    );

    // A client that is not a trusted proxy cannot choose its identity by the header.
    let direct = behind(&app, "198.51.100.9:5000");
    assert!(ok(
        &call(&direct, generate_request("x", Some("192.0.2.1"))).await
    ));
    assert_eq!(
        call(&direct, generate_request("x", Some("192.0.2.2")))
            .await
            .status(),
        429
    );
}

#[tokio::test]
async fn concurrent_upstream_calls_are_capped_and_the_rest_are_told_to_retry() {
    let app = app_with(&[
        ("GEMFLASH_MAX_CONCURRENT_CALLS", "1"),
        ("GEMFLASH_QUEUE_WAIT_SECS", "0"),
    ])
    .await;
    // The simulator's "slow" fault holds the one allowed call open.
    let router = app.router.clone();
    let slow =
        tokio::spawn(async move { call(&router, generate_request("hold [sim:slow]", None)).await });
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while app.sim.calls() < 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "the slow call never started"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (status, retry, error) =
        error_of(call(&app.router, generate_request("next", None)).await).await;
    assert_eq!((status, error.kind), (503, ErrorKind::Unavailable));
    assert!(retry.is_some(), "told when to retry");
    assert_eq!(app.sim.calls(), 1, "the refused job never called Gemini");
    slow.abort();
}

#[tokio::test]
async fn the_daily_budget_refuses_until_tomorrow_and_survives_a_restart() {
    let app = app_with(&[("GEMFLASH_DAILY_BUDGET_IMAGES", "2")]).await;
    for _ in 0..2 {
        assert_eq!(
            call(&app.router, generate_request("a cat", None))
                .await
                .status(),
            200
        );
    }
    let (status, retry, error) =
        error_of(call(&app.router, generate_request("a cat", None)).await).await;
    assert_eq!((status, error.kind), (429, ErrorKind::BudgetExhausted));
    let secs: u64 = retry.unwrap().parse().unwrap();
    assert!((1..=86_400).contains(&secs), "until midnight UTC: {secs}");
    assert!(error.message.contains("daily budget"));
    assert_eq!(app.sim.calls(), 2);

    // A new server on the same data directory remembers today's spending.
    let restarted = app_with(&[
        ("GEMFLASH_DAILY_BUDGET_IMAGES", "2"),
        ("GEMFLASH_DATA_DIR", app.data_dir.path().to_str().unwrap()),
    ])
    .await;
    let (status, _, error) =
        error_of(call(&restarted.router, generate_request("a cat", None)).await).await;
    assert_eq!((status, error.kind), (429, ErrorKind::BudgetExhausted));
    assert_eq!(restarted.sim.calls(), 0);
}
