//! Router tests: the real application built by `server::router`, called through `oneshot`
//! with no socket.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::{body::Body, http::Request};
use common::{app, app_with, app_with_site, body_text};
use protocol::{ServerInfo, Upstream};

const CANARY_KEY: &str = "canary-gemini-key-CANARYCANARYCANARY000";

#[tokio::test]
async fn healthz_answers_ok() {
    let res = app().await.get("/healthz").await;
    assert_eq!(res.status(), 200);
    assert_eq!(body_text(res).await, r#"{"status":"ok"}"#);
}

#[tokio::test]
async fn readyz_is_ready_with_a_writable_data_dir() {
    let res = app().await.get("/readyz").await;
    assert_eq!(res.status(), 200);
    let body = body_text(res).await;
    assert!(body.contains(r#""data_dir":"ok""#), "{body}");
}

#[tokio::test]
async fn readyz_is_unavailable_when_the_data_dir_cannot_be_written() {
    let app = app().await;
    // Replace the data directory by a file: nothing can be created in it, whoever runs the
    // test (permission bits would not stop root).
    std::fs::remove_dir_all(app.data_dir.path()).unwrap();
    std::fs::write(app.data_dir.path(), b"x").unwrap();
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 503);
    let body = body_text(res).await;
    assert!(body.contains("not writable"), "{body}");
    let path = app.data_dir.path().to_str().unwrap();
    assert!(
        !body.contains(path) && !body.contains('/'),
        "readyz must not reveal paths: {body}"
    );
}

#[tokio::test]
async fn home_page_is_server_rendered_with_the_model_table() {
    let res = app().await.get("/").await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = body_text(res).await;
    assert!(html.contains("Nano Banana 2"), "model label missing");
    assert!(html.contains("gemini-3-pro-image"), "model id missing");
    assert!(html.contains("Offline simulator"), "upstream missing");
    assert!(
        html.contains("/pkg/gemflash.js"),
        "hydration script missing"
    );
}

#[tokio::test]
async fn a_hashed_build_links_its_files_by_hash_and_they_are_cached_for_a_year() {
    // A site as `cargo leptos build` with `hash-files` leaves it: hashed names under pkg/ and
    // the hash file (here named by an absolute path, which the server and Leptos's scripts
    // both read in place of the one beside the binary).
    let site = tempfile::tempdir().unwrap();
    let pkg = site.path().join("pkg");
    std::fs::create_dir(&pkg).unwrap();
    let (js, wasm, css) = (
        "Jx0-_Jx0-_Jx0-_Jx0-_Jx",
        "Wa5m_Wa5m_Wa5m_Wa5m_Wa",
        "Cs5s-Cs5s-Cs5s-Cs5s-Cs",
    );
    std::fs::write(pkg.join(format!("gemflash.{css}.css")), "body{margin:0}").unwrap();
    std::fs::write(pkg.join(format!("gemflash.{js}.js")), "export default 1;").unwrap();
    std::fs::write(
        pkg.join(format!("gemflash.{wasm}.wasm")),
        b"\0asm\x01\0\0\0",
    )
    .unwrap();
    let hash_file = site.path().join("hash.txt");
    std::fs::write(&hash_file, format!("js: {js}\nwasm: {wasm}\ncss: {css}\n")).unwrap();
    let options = leptos::config::LeptosOptions::builder()
        .output_name("gemflash")
        .site_root(site.path().to_str().unwrap())
        .hash_files(true)
        .hash_file(hash_file.to_str().unwrap().into())
        .build();
    let app = app_with_site(gemini_sim::SimConfig::default(), &[], options).await;

    let page = app.get("/gallery").await;
    assert_eq!(page.headers()["cache-control"], "no-store, max-age=0");
    let html = body_text(page).await;
    for name in [
        format!("/pkg/gemflash.{js}.js"),
        format!("/pkg/gemflash.{wasm}.wasm"),
        format!("/pkg/gemflash.{css}.css"),
    ] {
        assert!(html.contains(&name), "{name} not linked by the page");
    }
    assert!(
        !html.contains("/pkg/gemflash.css") && !html.contains("/pkg/gemflash.js"),
        "a plain name is still linked"
    );
    for path in [
        format!("/pkg/gemflash.{css}.css"),
        format!("/pkg/gemflash.{wasm}.wasm"),
    ] {
        let res = app.get(&path).await;
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(
            res.headers()["cache-control"],
            "public, max-age=31536000, immutable",
            "{path}"
        );
    }
    // Scripts name each other by names hashed before those names were written in: revalidated.
    let script_path = format!("/pkg/gemflash.{js}.js");
    let script = app.get(&script_path).await;
    assert_eq!(script.status(), 200);
    assert_eq!(script.headers()["cache-control"], "no-cache");
    // Revalidating an unchanged script costs a 304, not the file.
    let since = script.headers()["last-modified"].clone();
    let again = app
        .send(
            axum::http::Request::get(&script_path)
                .header("if-modified-since", since)
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(again.status(), 304);
}

#[tokio::test]
async fn a_build_without_hashed_names_is_revalidated() {
    let site = tempfile::tempdir().unwrap();
    std::fs::create_dir(site.path().join("pkg")).unwrap();
    std::fs::write(site.path().join("pkg/gemflash.css"), "body{margin:0}").unwrap();
    let options = leptos::config::LeptosOptions::builder()
        .output_name("gemflash")
        .site_root(site.path().to_str().unwrap())
        .build();
    let app = app_with_site(gemini_sim::SimConfig::default(), &[], options).await;
    assert!(
        body_text(app.get("/").await)
            .await
            .contains("/pkg/gemflash.css")
    );
    let res = app.get("/pkg/gemflash.css").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-cache");
}

#[tokio::test]
async fn every_page_shows_the_simulator_banner_without_a_key() {
    let app = app().await;
    for path in ["/", "/editor", "/gallery", "/no-such-page"] {
        let html = body_text(app.get(path).await).await;
        assert!(
            html.contains("data-testid=\"simulator-banner\""),
            "no banner on {path}"
        );
    }
}

#[tokio::test]
async fn with_a_key_there_is_no_banner_and_the_key_never_appears() {
    let app = app_with(&[("GEMINI_API_KEY", CANARY_KEY)]).await;
    for path in [
        "/",
        "/editor",
        "/gallery",
        "/no-such-page",
        "/healthz",
        "/readyz",
    ] {
        let res = app.get(path).await;
        let headers = format!("{:?}", res.headers());
        let html = body_text(res).await;
        assert!(
            !html.contains(CANARY_KEY) && !headers.contains(CANARY_KEY),
            "key leaked on {path}"
        );
        assert!(
            !html.contains("simulator-banner"),
            "banner shown with a key on {path}"
        );
    }
    let html = body_text(app.get("/").await).await;
    assert!(html.contains("Google Gemini"));
}

#[tokio::test]
async fn server_function_returns_the_public_configuration() {
    let app = app_with(&[("GEMINI_API_KEY", CANARY_KEY)]).await;
    let req = common::post("/api/server_info")
        .header("accept", "application/json")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::empty())
        .unwrap();
    let res = app.send(req).await;
    assert_eq!(res.status(), 200);
    let body = body_text(res).await;
    assert!(
        !body.contains(CANARY_KEY),
        "key leaked by the server function"
    );
    let info: ServerInfo = serde_json::from_str(&body).unwrap();
    assert_eq!(info.upstream, Upstream::Gemini);
    assert!(info.key_configured);
    assert_eq!(info.default_model, "gemini-nano-banana-2.1");
    assert_eq!(info.models.len(), app.state.config.models.models.len());
}

#[tokio::test]
async fn unknown_page_is_a_designed_404() {
    let res = app().await.get("/definitely/not/here").await;
    assert_eq!(res.status(), 404);
    let html = body_text(res).await;
    assert!(html.contains("This page does not exist"), "{html}");
    assert!(
        html.contains("<header class=\"topbar\""),
        "404 page lacks the app shell"
    );
}

#[tokio::test]
async fn editor_and_gallery_pages_render() {
    let app = app().await;
    for (path, marker) in [
        ("/editor", "editor-needs-js"),
        ("/gallery", "gallery-empty"),
    ] {
        let res = app.get(path).await;
        assert_eq!(res.status(), 200, "{path}");
        let html = body_text(res).await;
        assert!(html.contains(marker), "{path} lacks {marker}");
        assert!(
            html.contains("aria-current=\"page\""),
            "{path}: current nav link not marked"
        );
    }
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = app().await;
    let res = app.get("/healthz").await;
    let id = res.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 36, "a UUID: {id}");

    let req = Request::get("/healthz")
        .header("x-request-id", "abc-123")
        .body(Body::empty())
        .unwrap();
    let res = app.send(req).await;
    assert_eq!(res.headers()["x-request-id"], "abc-123");

    let res = app.get("/nope").await;
    assert!(
        res.headers().contains_key("x-request-id"),
        "404s carry an id too"
    );
}
