//! The key never leaks, and neither does what users write: a canary key and a canary prompt
//! go through every route (pages, server functions, images, errors, 404s) and every failure
//! shape, including upstream answers that quote the key back (a suspended key's 403, an error
//! message, a block message, the model's words), and then no response body or header, no
//! built browser file and no log line may contain either. The log
//! lines are also checked to be whole JSON lines with the audit events in them, so user input
//! (a model name with a line break) cannot forge a line.
//!
//! One test in its own binary: it installs the process-wide log subscriber.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::{
    io::Write,
    sync::{Arc, Mutex},
};

use axum::body::Body;
use common::{app_with, body_bytes, post};
use server::config::{LogConfig, LogFormat};

const CANARY_KEY: &str = "canary-key-7f3a9c1e5b2d4f6a8c0e2b4d6f8a0c2e";
const CANARY_PROMPT: &str = "canaryprompt-q8w7e6r5t4y3 a lighthouse";

/// Everything logged, shared with the subscriber.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn neither_the_key_nor_a_prompt_appears_in_any_answer_file_or_log_line() {
    let logs = Captured::default();
    let writer = logs.clone();
    server::telemetry::init_with_writer(
        &LogConfig {
            format: LogFormat::Json,
            filter: "trace,hyper=info,h2=info,reqwest=info,rustls=info".into(),
        },
        move || writer.clone(),
        false,
    )
    .unwrap();

    let app = app_with(&[
        ("GEMINI_API_KEY", CANARY_KEY),
        // Failures once each: retries are the client's business, tested elsewhere.
        ("GEMFLASH_UPSTREAM_ATTEMPTS", "1"),
    ])
    .await;
    let mut seen: Vec<(String, String)> = Vec::new();
    let record = |what: String, res: axum::http::Response<Body>| async move {
        let headers = format!("{:?}", res.headers());
        let body = String::from_utf8_lossy(&body_bytes(res).await).into_owned();
        (what, format!("{headers}\n{body}"))
    };

    // Make images: a generation, an edit of it, and failures of every kind.
    let res = app.generate(CANARY_PROMPT).await;
    assert_eq!(res.status(), 200);
    let (what, text) = record("generate".into(), res).await;
    let id = text
        .split("\"id\":\"")
        .nth(1)
        .map(|rest| rest[..32].to_owned())
        .expect("an image id");
    seen.push((what, text));
    let res = app
        .edit(&[
            ("prompt", CANARY_PROMPT.as_bytes()),
            ("model", b"gemini-3.1-flash-image"),
            ("source_id", id.as_bytes()),
        ])
        .await;
    seen.push(record("edit".into(), res).await);
    // Every failure shape, and every shape of upstream text that quotes the key back.
    for fault in [
        "quota",
        "prompt-blocked",
        "text-only",
        "leaked",
        "malformed",
        "internal",
        "suspended",
        "echo-key-400",
        "echo-key-500",
        "echo-key-blocked",
        "echo-key-text",
        "echo-key-image",
        "huge",
        "bomb",
    ] {
        let res = app
            .generate(&format!("{CANARY_PROMPT} [sim:{fault}]"))
            .await;
        seen.push(record(format!("generate [sim:{fault}]"), res).await);
    }
    // A model name that tries to start a log line of its own.
    let forged = "x\n{\"level\":\"INFO\",\"fields\":{\"message\":\"forged\"}}";
    seen.push(
        record(
            "forged model".into(),
            app.generate_with(CANARY_PROMPT, forged).await,
        )
        .await,
    );

    for path in [
        "/".to_owned(),
        "/editor".to_owned(),
        "/gallery".to_owned(),
        format!("/gallery?q={}", &CANARY_PROMPT[..12]),
        format!("/gallery/{id}"),
        "/gallery/0123456789abcdef0123456789abcdef".to_owned(),
        format!("/images/{id}"),
        format!("/images/{id}/thumb"),
        "/images/nope".to_owned(),
        "/no-such-page".to_owned(),
        "/healthz".to_owned(),
        "/readyz".to_owned(),
    ] {
        seen.push(record(path.clone(), app.get(&path).await).await);
    }
    for (endpoint, content_type, body) in [
        (
            "/api/server_info",
            "application/x-www-form-urlencoded",
            String::new(),
        ),
        (
            "/api/list_gallery",
            "application/json",
            r#"{"query":{}}"#.to_owned(),
        ),
        (
            "/api/image_detail",
            "application/x-www-form-urlencoded",
            format!("id={id}"),
        ),
        (
            "/api/delete_image",
            "application/x-www-form-urlencoded",
            "id=nope".to_owned(),
        ),
        ("/api/no_such_function", "application/json", "{}".to_owned()),
    ] {
        let res = app
            .send(
                post(endpoint)
                    .header("content-type", content_type)
                    .header("accept", "application/json")
                    .body(Body::from(body))
                    .unwrap(),
            )
            .await;
        seen.push(record(endpoint.to_owned(), res).await);
    }

    for (what, text) in &seen {
        assert!(!text.contains(CANARY_KEY), "the key leaked from {what}");
    }

    // The built browser files, when a release build is there.
    let site = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/site");
    if let Ok(entries) = walk(&site) {
        for file in entries {
            let bytes = std::fs::read(&file).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                !text.contains(CANARY_KEY),
                "{} holds the key",
                file.display()
            );
            assert!(
                !text.contains("AIza"),
                "{} holds something shaped like a Gemini key",
                file.display()
            );
        }
    }

    // The logs: whole JSON lines, audit events in them, and neither canary.
    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(!logged.contains(CANARY_KEY), "the key is in the log");
    assert!(!logged.contains("canaryprompt"), "a prompt is in the log");
    let lines: Vec<serde_json::Value> = logged
        .lines()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not a whole log line ({e}): {line}"))
        })
        .collect();
    assert!(
        !lines
            .iter()
            .any(|l| l["fields"]["message"] == "forged" || l["message"] == "forged"),
        "a forged line made it into the log"
    );
    let audits: Vec<&serde_json::Value> = lines.iter().filter(|l| l["target"] == "audit").collect();
    assert!(
        audits.len() >= 2,
        "an audit event per Gemini call: {audits:?}"
    );
    let ok = audits
        .iter()
        .find(|a| a["outcome"] == "ok")
        .expect("a successful call is audited");
    for field in [
        "model",
        "input_images",
        "input_bytes",
        "output_bytes",
        "output_tokens",
        "cost_usd",
        "latency_ms",
        "attempts",
    ] {
        assert!(!ok[field].is_null(), "audit event lacks {field}: {ok}");
    }
    assert!(
        ok["span"]["request_id"].is_string(),
        "audit events carry the request id: {ok}"
    );
    assert!(
        ok["span"]["caller"].is_string(),
        "audit events name the caller: {ok}"
    );
    assert!(
        audits
            .iter()
            .any(|a| a["outcome"] == "quota_exhausted" || a["outcome"] == "prompt_blocked"),
        "failed calls are audited with their kind: {audits:?}"
    );
}

fn walk(dir: &std::path::Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            out.extend(walk(&path)?);
        } else {
            out.push(path);
        }
    }
    Ok(out)
}
