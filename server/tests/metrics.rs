//! `/metrics`: off without a token, refused without the right one, and with it the counts of
//! requests, Gemini calls, tokens, spend, stored images and refusals in Prometheus format.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::{body::Body, http::Request};
use common::{app, app_with, body_text};

const TOKEN: &str = "metrics-token-0123456789abcdef";

#[tokio::test]
async fn metrics_are_off_without_a_token_and_need_the_right_one() {
    assert_eq!(app().await.get("/metrics").await.status(), 404);

    let app = app_with(&[("GEMFLASH_METRICS_TOKEN", TOKEN)]).await;
    assert_eq!(app.get("/metrics").await.status(), 401);
    let wrong = Request::get("/metrics")
        .header("authorization", "Bearer metrics-token-0123456789abcdeX")
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(wrong).await.status(), 401);
}

#[tokio::test]
async fn metrics_count_requests_calls_tokens_spend_images_and_refusals() {
    let app = app_with(&[
        ("GEMFLASH_METRICS_TOKEN", TOKEN),
        ("GEMFLASH_DAILY_BUDGET_IMAGES", "1"),
    ])
    .await;
    assert_eq!(app.generate("a cat").await.status(), 200);
    assert_eq!(
        app.generate("another cat").await.status(),
        429,
        "over budget"
    );
    assert_eq!(app.get("/gallery").await.status(), 200);

    let res = app
        .send(
            Request::get("/metrics")
                .header("authorization", format!("Bearer {TOKEN}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = body_text(res).await;
    for expected in [
        "gemflash_http_requests_total{route=\"/gallery\",status=\"200\"}",
        "gemflash_http_requests_total{route=\"/api/generate_image\",status=\"429\"}",
        "gemflash_upstream_calls_total{model=\"gemini-3.1-flash-image\",outcome=\"ok\"}",
        "gemflash_upstream_latency_seconds_bucket",
        "gemflash_tokens_total{kind=\"output\"}",
        "gemflash_spend_usd_total",
        "gemflash_images_stored_total{kind=\"generated\"}",
        "gemflash_refusals_total{reason=\"budget\"}",
    ] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }
}
