//! Crash safety of the real binary: store many images concurrently, `kill -9` the server in
//! the middle of it, start it again on the same data directory, and check that every image
//! whose request had been answered is there and intact (its bytes hash to its recorded
//! sha256), that nothing partial is listed, and that start-up repair left no temporary files.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    net::TcpListener,
    path::Path,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use engine::store::{FileKind, ImageStore, ListQuery, Store};
use sha2::{Digest, Sha256};

/// Requests answered before the kill.
const ANSWERED_BEFORE_KILL: usize = 12;
const WORKERS: usize = 6;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(data_dir: &Path, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_gemflash"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("GEMFLASH_ADDR", format!("127.0.0.1:{port}"))
        .env("GEMFLASH_DATA_DIR", data_dir)
        .env("GEMFLASH_LOG", "warn")
        .env("GEMFLASH_RATE_LIMIT_PER_MINUTE", "0")
        // Every worker calls from 127.0.0.1: one client, as far as the job cap can tell.
        .env("GEMFLASH_MAX_JOBS_PER_CLIENT", "64")
        .env("LEPTOS_OUTPUT_NAME", "gemflash")
        .env("LEPTOS_SITE_ROOT", "target/site")
        .current_dir(std::env::temp_dir())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the gemflash binary starts")
}

async fn wait_until_ready(client: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(res) = client.get(format!("{base}/healthz")).send().await
            && res.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server did not become ready");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_9_loses_no_answered_image_and_lists_nothing_partial() {
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();

    let mut server = start(data.path(), port);
    wait_until_ready(&client, &base).await;

    // Workers store images one after another until the server dies under them.
    let answered: Arc<Mutex<Vec<String>>> = Arc::default();
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let (client, base, answered) = (client.clone(), base.clone(), answered.clone());
            tokio::spawn(async move {
                for i in 0.. {
                    let body = serde_json::json!({ "request": {
                        "prompt": format!("crash test {w}-{i}"),
                        "model": "gemini-3.1-flash-image",
                        "aspect_ratio": "1:1",
                        "image_size": null,
                    }});
                    let Ok(res) = client
                        .post(format!("{base}/api/generate_image"))
                        .header("origin", &base)
                        .json(&body)
                        .send()
                        .await
                    else {
                        return;
                    };
                    let Ok(json) = res.json::<serde_json::Value>().await else {
                        return;
                    };
                    if let Some(id) = json["id"].as_str() {
                        answered.lock().unwrap().push(id.to_owned());
                    }
                }
            })
        })
        .collect();

    let deadline = Instant::now() + Duration::from_secs(120);
    while answered.lock().unwrap().len() < ANSWERED_BEFORE_KILL {
        assert!(Instant::now() < deadline, "too few images were stored");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // SIGKILL, while the other workers' requests are in flight.
    server.kill().unwrap();
    server.wait().unwrap();
    for worker in workers {
        worker.await.unwrap();
    }
    let answered = answered.lock().unwrap().clone();
    assert!(answered.len() >= ANSWERED_BEFORE_KILL);

    // Start again: repair runs; every answered image is served whole.
    let mut server = start(data.path(), port);
    wait_until_ready(&client, &base).await;
    for id in &answered {
        let res = client
            .get(format!("{base}/images/{id}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "answered image {id} is missing");
        let etag = res.headers()["etag"]
            .to_str()
            .unwrap()
            .trim_matches('"')
            .to_owned();
        let bytes = res.bytes().await.unwrap();
        assert_eq!(
            hex::encode(Sha256::digest(&bytes)),
            etag,
            "image {id} is damaged"
        );
    }
    server.kill().unwrap();
    server.wait().unwrap();

    // Every listed record is whole, answered or not; nothing half-written is left.
    let store = Store::open(data.path()).unwrap();
    let listed = store
        .list(&ListQuery {
            limit: 100_000,
            ..Default::default()
        })
        .unwrap()
        .items;
    assert!(listed.len() >= answered.len());
    for record in &listed {
        let bytes = store
            .read(record, FileKind::Image)
            .unwrap()
            .unwrap_or_else(|| panic!("listed image {} has no file", record.id));
        assert_eq!(hex::encode(Sha256::digest(&bytes)), record.sha256);
        assert!(store.read(record, FileKind::Thumbnail).unwrap().is_some());
        image::load_from_memory(&bytes).expect("a listed image decodes");
    }
    for id in &answered {
        assert!(listed.iter().any(|r| &r.id == id), "{id} is not listed");
    }
    let leftovers = std::fs::read_dir(data.path().join("tmp")).unwrap().count();
    assert_eq!(leftovers, 0, "temporary files survived the restart");
}
