//! One conversion from an error to its answer, for every kind: a server function that fails
//! with any `ErrorKind` is answered, through the real router, with that kind's HTTP status,
//! its `Retry-After` when it says when, and its sentence (and never a status set by hand).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use app::error::AppError;
use axum::body::Body;
use common::{app, body_text, post};
use leptos::prelude::*;
use protocol::{ErrorKind, UserError};

/// Fails with the kind asked for, and a retry time when one is given: the shape every server
/// function's error takes.
#[server(prefix = "/api", endpoint = "test_fail_with")]
async fn fail_with(kind: ErrorKind, retry_after_secs: Option<u64>) -> Result<(), AppError> {
    let mut error = UserError::new(kind, format!("A {kind:?} failure, for the test."));
    error.retry_after_secs = retry_after_secs;
    Err(AppError(error))
}

#[tokio::test]
async fn every_error_kind_gets_its_status_and_retry_after_from_one_place() {
    let app = app().await;
    for kind in ErrorKind::ALL {
        for retry in [None, Some(7)] {
            let body = serde_json::json!({ "kind": kind, "retry_after_secs": retry });
            let res = app
                .send(
                    post("/api/test_fail_with")
                        .header("content-type", "application/x-www-form-urlencoded")
                        .header("accept", "application/json")
                        .body(Body::from(form(&body)))
                        .unwrap(),
                )
                .await;
            assert_eq!(
                res.status().as_u16(),
                kind.http_status(),
                "{kind:?} answers its own status"
            );
            let retry_after = res
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().parse::<u64>().unwrap());
            assert_eq!(
                retry_after, retry,
                "{kind:?}: Retry-After as the error says"
            );
            let error: UserError = serde_json::from_str(&body_text(res).await).unwrap();
            assert_eq!(error.kind, kind);
            assert_eq!(error.message, format!("A {kind:?} failure, for the test."));
        }
    }
}

#[tokio::test]
async fn a_malformed_image_id_is_not_found_with_its_404_not_a_500() {
    let app = app().await;
    let res = app
        .send(
            post("/api/delete_image")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("accept", "application/json")
                .body(Body::from("id=not-an-id"))
                .unwrap(),
        )
        .await;
    assert_eq!(res.status(), 404);
    let error: UserError = serde_json::from_str(&body_text(res).await).unwrap();
    assert_eq!(error.kind, ErrorKind::NotFound);
}

#[tokio::test]
async fn a_store_failure_is_an_internal_error_with_its_500() {
    let app = app().await;
    // The store's temporary directory becomes a file: every write fails.
    let tmp = app.data_dir.path().join("tmp");
    std::fs::remove_dir_all(&tmp).unwrap();
    std::fs::write(&tmp, b"x").unwrap();
    let res = app.generate("a cat").await;
    assert_eq!(res.status(), 500);
    let error: UserError = serde_json::from_str(&body_text(res).await).unwrap();
    assert_eq!(error.kind, ErrorKind::Internal);
    assert!(!error.message.contains("tmp"), "{}", error.message);
}

/// `kind=...&retry_after_secs=...` as a form posts it.
fn form(body: &serde_json::Value) -> String {
    let kind = body["kind"].as_str().unwrap();
    match body["retry_after_secs"].as_u64() {
        Some(secs) => format!("kind={kind}&retry_after_secs={secs}"),
        None => format!("kind={kind}"),
    }
}
