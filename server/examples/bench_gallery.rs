//! Benchmark: server time to render gallery pages with 10 000 stored images.
//!
//! Run with `./run.sh bench`. The real router over a real store in a temporary data directory
//! (SQLite with its FTS5 index, files on disk), called in-process with no socket, so the time
//! is the server's: routing, the store query, rendering the page (SSR) and its body. Measured:
//! the first page, a page deep in the listing (by cursor), a search matching one image in
//! ten, and a search matching one image. p50 and p99 of 300 requests each, and the page's
//! bytes at 100 and at 10 000 images.

// A benchmark reports on standard output.
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use axum::{Router, body::Body, http::Request};
use engine::store::{ImageKind, ImageStore, ListQuery, NewImage};
use http_body_util::BodyExt;
use leptos::config::LeptosOptions;
use server::{AppState, config::Config, router};
use tower::ServiceExt;

const IMAGES: usize = 10_000;
const ROUNDS: usize = 300;
const WORDS: [&str; 10] = [
    "lighthouse",
    "harbour",
    "forest",
    "portrait",
    "city",
    "desert",
    "ocean",
    "mountain",
    "garden",
    "robot",
];

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("a temporary data directory");
    let vars: HashMap<&str, String> = HashMap::from([
        ("GEMFLASH_DATA_DIR", dir.path().display().to_string()),
        // Never called: the bench renders pages only.
        ("GEMINI_BASE_URL", "http://127.0.0.1:9".to_owned()),
    ]);
    let config = Config::from_lookup(|name| vars.get(name).cloned()).expect("config");
    let options = LeptosOptions::builder()
        .output_name("gemflash")
        .site_root("target/site")
        .build();
    let state = AppState::new(config, options).expect("state");
    let app = router(state.clone());
    let store = state.studio.store().clone();

    let started = Instant::now();
    fill(&*store, 0, 100);
    let small_bytes = page(&app, "/gallery").await.1;
    fill(&*store, 100, IMAGES);
    println!(
        "stored {IMAGES} images in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let big_bytes = page(&app, "/gallery").await.1;

    // A cursor half-way down the listing.
    let middle = store
        .list(&ListQuery {
            limit: IMAGES / 2,
            ..Default::default()
        })
        .unwrap();
    let deep = format!(
        "/gallery?before={}",
        middle.older.expect("a cursor").token()
    );
    println!("{:<34} {:>9} {:>9} {:>9}", "request", "p50", "p99", "bytes");
    for (label, path) in [
        ("first page", "/gallery".to_owned()),
        ("page 5 000 images down (cursor)", deep),
        ("search, 1 in 10 match", "/gallery?q=lighthouse".to_owned()),
        ("search, 1 match", "/gallery?q=unique4242".to_owned()),
    ] {
        let mut times = Vec::with_capacity(ROUNDS);
        let mut bytes = 0;
        for _ in 0..ROUNDS {
            let (t, b) = page(&app, &path).await;
            times.push(t);
            bytes = b;
        }
        times.sort();
        println!(
            "{label:<34} {:>7.2}ms {:>7.2}ms {bytes:>9}",
            ms(times[ROUNDS / 2]),
            ms(times[ROUNDS * 99 / 100])
        );
    }
    println!("first page's bytes: {small_bytes} with 100 images, {big_bytes} with {IMAGES}");
}

/// Stores images `from..to` with varied prompts. They share one file (content-addressed), so
/// the setup is not a benchmark of fsync; the table and its index are as large as with
/// distinct files.
fn fill(store: &dyn ImageStore, from: usize, to: usize) {
    for seq in from..to {
        let word = WORDS[seq % WORDS.len()];
        let prompt = if seq == 4242 {
            "a unique4242 teapot".to_owned()
        } else {
            format!("a {word} at dusk, picture {seq}, in watercolour with soft light")
        };
        let kind = if seq % 3 == 0 {
            ImageKind::Edited
        } else {
            ImageKind::Generated
        };
        store
            .put(NewImage {
                bytes: b"\x89PNG shared bench bytes".to_vec(),
                thumbnail_webp: b"RIFF shared".to_vec(),
                width: 1024,
                height: 1024,
                aspect_ratio: Some("1:1".into()),
                prompt_tokens: 12,
                output_tokens: 1120,
                cost_usd: Some(0.067),
                ..NewImage::new(kind, prompt, "gemini-3.1-flash-image")
            })
            .expect("stored");
    }
}

/// Server time and body size of one GET.
async fn page(app: &Router, path: &str) -> (Duration, usize) {
    let started = Instant::now();
    let res = app
        .clone()
        .oneshot(
            Request::get(path)
                .header("host", "127.0.0.1:3000")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{path}");
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (started.elapsed(), body.len())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
