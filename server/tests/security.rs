//! The security controls through the real router, each with a test that fails without it:
//! headers and the page's nonce-based CSP, CSRF, no state change on GET, body limits, and a
//! panic answered generically.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use axum::{Router, body::Body, http::Request, routing::get};
use common::{ORIGIN, app, app_with, body_text, post};
use server::security::SecurityConfig;
use tower::ServiceExt;

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = app().await;
    let id = app.store_image("kept");
    for path in [
        "/".to_owned(),
        "/gallery".to_owned(),
        "/no-such-page".to_owned(),
        "/healthz".to_owned(),
        format!("/images/{id}"),
    ] {
        let res = app.get(&path).await;
        let h = res.headers();
        for (name, value) in [
            ("x-content-type-options", "nosniff"),
            ("referrer-policy", "no-referrer"),
            ("x-frame-options", "DENY"),
            ("cross-origin-opener-policy", "same-origin"),
            ("cross-origin-resource-policy", "same-origin"),
            ("x-xss-protection", "0"),
        ] {
            assert_eq!(
                h.get(name).map(|v| v.to_str().unwrap()),
                Some(value),
                "{name} on {path}"
            );
        }
        let permissions = h["permissions-policy"].to_str().unwrap();
        assert!(permissions.contains("camera=()") && permissions.contains("geolocation=()"));
        assert!(h.contains_key("content-security-policy"), "CSP on {path}");
        assert!(
            !h.contains_key("strict-transport-security"),
            "no HSTS over http"
        );
    }
}

#[tokio::test]
async fn pages_carry_a_fresh_nonce_that_their_scripts_use_and_other_answers_a_closed_policy() {
    let app = app().await;
    let nonce_of = |csp: &str| {
        csp.split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .map(str::to_owned)
            .expect("a nonce in the policy")
    };
    let res = app.get("/").await;
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        res.headers()["cache-control"],
        "no-store, max-age=0",
        "pages are not cached"
    );
    let html = body_text(res).await;
    let nonce = nonce_of(&csp);
    assert!(nonce.len() >= 16, "{nonce}");
    assert!(csp.contains("'strict-dynamic'") && csp.contains("'wasm-unsafe-eval'"));
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("object-src 'none'"));
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "the loader script carries it"
    );
    for script in html.split("<script").skip(1) {
        assert!(
            script.contains(&format!("nonce=\"{nonce}\"")),
            "a script without the nonce: <script{}",
            &script[..script.len().min(80)]
        );
    }
    assert!(
        !html.contains(" style=\""),
        "no inline style attributes under this policy"
    );

    let again = app.get("/").await;
    let second = nonce_of(again.headers()["content-security-policy"].to_str().unwrap());
    assert_ne!(nonce, second, "a nonce is used once");

    let res = app.get("/healthz").await;
    assert_eq!(
        res.headers()["content-security-policy"],
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    );
}

#[tokio::test]
async fn pages_and_json_are_compressed_by_accept_encoding_but_images_and_job_streams_are_not() {
    use std::io::Read;
    let app = app().await;
    let get = |path: &str, encoding: Option<&str>| {
        let mut req = Request::get(path);
        if let Some(e) = encoding {
            req = req.header("accept-encoding", e);
        }
        app.send(req.body(Body::empty()).unwrap())
    };
    let encoding = |res: &axum::http::Response<Body>| {
        res.headers()
            .get("content-encoding")
            .map(|v| v.to_str().unwrap().to_owned())
    };

    // A page: gzip when asked for, and it decodes to the same HTML.
    let plain = get("/gallery", None).await;
    assert_eq!(encoding(&plain), None);
    let plain = body_text(plain).await;
    let gzipped = get("/gallery", Some("gzip")).await;
    assert_eq!(encoding(&gzipped).as_deref(), Some("gzip"));
    assert!(
        gzipped.headers()["vary"]
            .to_str()
            .unwrap()
            .contains("accept-encoding")
    );
    let bytes = common::body_bytes(gzipped).await;
    let mut html = String::new();
    flate2::read::GzDecoder::new(bytes.as_slice())
        .read_to_string(&mut html)
        .unwrap();
    assert!(
        html.starts_with("<!DOCTYPE html>"),
        "{}",
        &html[..40.min(html.len())]
    );
    assert!(
        bytes.len() * 2 < plain.len(),
        "{} of {}",
        bytes.len(),
        plain.len()
    );
    // Brotli first when both are accepted.
    let br = get("/", Some("gzip, br")).await;
    assert_eq!(encoding(&br).as_deref(), Some("br"));
    // The security headers are on the compressed answer too.
    assert!(br.headers().contains_key("content-security-policy"));

    // An image is compressed already.
    let made = app.generate("a plain hill").await;
    let result: protocol::ImageResult = serde_json::from_str(&body_text(made).await).unwrap();
    let image = get(&result.url, Some("gzip, br")).await;
    assert_eq!(image.status(), 200);
    assert_eq!(encoding(&image), None);

    // A job's stream goes out as written: no encoder holds its progress back.
    let body =
        serde_json::json!({"request": {"prompt": "a quiet bay", "model": "gemini-3-pro-image"}});
    let res = app
        .send(
            post("/api/generate_stream")
                .header("content-type", "application/json")
                .header("accept-encoding", "gzip, br")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("no-transform")
    );
    assert_eq!(encoding(&res), None);
}

#[tokio::test]
async fn server_function_answers_are_not_cached_and_images_are() {
    let app = app().await;
    let id = app.store_image("kept");
    let res = app
        .send(
            post("/api/server_info")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("accept", "application/json")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store, max-age=0");
    assert_eq!(res.headers()["pragma"], "no-cache");
    let res = app.get(&format!("/images/{id}")).await;
    assert_eq!(
        res.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
}

#[tokio::test]
async fn hsts_is_sent_when_the_public_origin_is_https() {
    let app = app_with(&[("GEMFLASH_PUBLIC_ORIGIN", "https://gemflash.example.com")]).await;
    let res = app.get("/healthz").await;
    assert_eq!(
        res.headers()["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );
}

fn delete(id: &str) -> axum::http::request::Builder {
    Request::post("/api/delete_image")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .uri(format!("/api/delete_image?unused={id}"))
}

#[tokio::test]
async fn a_cross_site_post_is_refused_and_changes_nothing() {
    let app = app().await;
    let id = app.store_image("kept");
    let body = || Body::from(format!("id={id}"));
    let cases: [(&str, Vec<(&str, &str)>); 4] = [
        (
            "fetch metadata says cross-site",
            vec![("sec-fetch-site", "cross-site"), ("origin", ORIGIN)],
        ),
        (
            "same site is not same origin",
            vec![("sec-fetch-site", "same-site")],
        ),
        ("another origin", vec![("origin", "https://evil.example")]),
        ("no evidence at all", vec![]),
    ];
    for (case, headers) in cases {
        let mut req = delete(&id);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        let res = app.send(req.body(body()).unwrap()).await;
        assert_eq!(res.status(), 403, "{case}");
        let text = body_text(res).await;
        assert!(text.contains("\"forbidden\""), "{case}: {text}");
        assert!(
            app.state.studio.store().get(&id).unwrap().is_some(),
            "{case}: deleted anyway"
        );
    }
    // From the app's own pages it works.
    let res = app
        .send(
            delete(&id)
                .header("sec-fetch-site", "same-origin")
                .body(body())
                .unwrap(),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert!(app.state.studio.store().get(&id).unwrap().is_none());
}

#[tokio::test]
async fn nothing_changes_state_on_get() {
    let app = app().await;
    let id = app.store_image("kept");
    let res = app.get(&format!("/api/delete_image?id={id}")).await;
    assert!(!res.status().is_success(), "{}", res.status());
    assert!(app.state.studio.store().get(&id).unwrap().is_some());
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused_declared_or_streamed() {
    let app = app().await;
    let big = vec![b'a'; server::security::DEFAULT_BODY_LIMIT + 1];
    let res = app
        .send(
            post("/api/generate_image")
                .header("content-type", "application/json")
                .header("content-length", big.len().to_string())
                .body(Body::from(big.clone()))
                .unwrap(),
        )
        .await;
    assert_eq!(res.status(), 413);
    assert!(body_text(res).await.contains("\"too_large\""));

    // Without a length, the limit holds while the body streams.
    let stream = chunked(big);
    let res = app
        .send(
            post("/api/generate_image")
                .header("content-type", "application/json")
                .body(stream)
                .unwrap(),
        )
        .await;
    assert!(
        res.status().is_client_error() || res.status().is_server_error(),
        "{}",
        res.status()
    );
    assert_ne!(res.status(), 200);
}

/// A body with no declared length, sent in chunks.
fn chunked(bytes: Vec<u8>) -> Body {
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        bytes.chunks(16 * 1024).map(|c| Ok(c.to_vec())).collect();
    Body::from_stream(futures_util::stream::iter(chunks))
}

#[tokio::test]
async fn a_panic_becomes_a_generic_500() {
    async fn boom() -> &'static str {
        panic!("secret internal detail /home/gemflash/data")
    }
    let server = server::config::Config::from_lookup(|_| None)
        .unwrap()
        .server;
    let app = server::middleware::apply(
        Router::new().route("/boom", get(boom)),
        server::middleware::Stack {
            server: std::sync::Arc::new(server),
            security: SecurityConfig {
                origin: ORIGIN.into(),
                https: false,
                pkg_cache_control: "no-cache",
            },
            request_timeout: Duration::from_secs(5),
            upload_deadline: Duration::from_secs(5),
            requests_in_flight: 8,
        },
    );
    let res = app
        .oneshot(
            Request::get("/boom")
                .header("host", common::HOST)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), 500);
    let text = body_text(res).await;
    assert!(text.contains("\"internal\""), "{text}");
    assert!(
        !text.contains("secret") && !text.contains("/home"),
        "{text}"
    );
}
