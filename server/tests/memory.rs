//! The image-memory bound, against the real binary: several clients at once send edits made
//! of many small-on-disk, high-bit-depth images at the pixel limits (a 16-bit 49 MP PNG is
//! under half a megabyte and 392 MB once decoded as it is stored). The server must stay up,
//! answer each request with an image or a clear refusal, and never hold more than the bound
//! SECURITY.md states: its idle size plus `GEMFLASH_IMAGE_MEMORY_MB` plus a fixed slack.
//!
//! A watchdog reads the server's resident size every few milliseconds and kills it past twice
//! the bound, so a regression fails this test instead of taking the machine down. The
//! simulator runs in this test's process, so its own memory is not counted.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    net::TcpListener,
    process::{Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use image::{
    EncodableLayout, ImageBuffer, ImageEncoder, Rgb, Rgba,
    codecs::png::{CompressionType, FilterType, PngEncoder},
};

/// The budget the server runs with.
const BUDGET_MB: u64 = 512;
/// What the process holds beyond its idle size and the image budget: the runtime's buffers,
/// a few connections, the allocator's own keeping. The same slack SECURITY.md names.
const SLACK_MB: u64 = 96;

/// A 16-bit PNG of `width`×`height` (RGBA, or RGB without `alpha`) in broad vertical bands: a
/// few hundred kilobytes on disk (each row filters to zeros), six or eight bytes a pixel when
/// decoded as it is stored.
fn png16(width: u32, height: u32, alpha: bool) -> Vec<u8> {
    let channels: usize = if alpha { 4 } else { 3 };
    let row: Vec<u16> = (0..width)
        .flat_map(|x| [0x1000 + (x / 512) as u16 * 0x0800, 0x2000, 0x4000, 0xFFFF])
        .enumerate()
        .filter(|(i, _)| i % 4 < channels)
        .map(|(_, v)| v)
        .collect();
    let data = row.repeat(height as usize);
    let (bytes, color) = if alpha {
        let img = ImageBuffer::<Rgba<u16>, Vec<u16>>::from_raw(width, height, data).unwrap();
        (
            img.as_raw().as_bytes().to_vec(),
            image::ExtendedColorType::Rgba16,
        )
    } else {
        let img = ImageBuffer::<Rgb<u16>, Vec<u16>>::from_raw(width, height, data).unwrap();
        (
            img.as_raw().as_bytes().to_vec(),
            image::ExtendedColorType::Rgb16,
        )
    };
    let mut out = Vec::new();
    PngEncoder::new_with_quality(&mut out, CompressionType::Default, FilterType::Up)
        .write_image(&bytes, width, height, color)
        .unwrap();
    out
}

/// The server process, killed when the test ends however it ends.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn multipart(fields: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "gemflash-memory-boundary";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let file = if matches!(*name, "image" | "mask") {
            "; filename=\"f.png\"\r\nContent-Type: image/png"
        } else {
            ""
        };
        body.extend_from_slice(
            format!("Content-Disposition: form-data; name=\"{name}\"{file}\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(value);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_edits_of_near_limit_16_bit_images_stay_under_the_memory_bound() {
    let sim = gemini_sim::spawn(gemini_sim::SimConfig {
        latency: gemini_sim::Latency::Fixed(Duration::from_millis(300)),
        ..Default::default()
    })
    .await
    .unwrap();
    let data = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let server = Server(
        Command::new(env!("CARGO_BIN_EXE_gemflash"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("GEMFLASH_ADDR", format!("127.0.0.1:{port}"))
            .env("GEMFLASH_DATA_DIR", data.path())
            .env("GEMINI_API_KEY", "memory-test-key-0000")
            .env("GEMINI_BASE_URL", sim.base_url())
            .env("GEMFLASH_IMAGE_MEMORY_MB", BUDGET_MB.to_string())
            .env("GEMFLASH_MAX_CONCURRENT_CALLS", "8")
            .env("GEMFLASH_MAX_JOBS_PER_CLIENT", "64")
            .env("GEMFLASH_RATE_LIMIT_PER_MINUTE", "0")
            .env("GEMFLASH_UPSTREAM_ATTEMPTS", "1")
            .env("GEMFLASH_LOG", "warn")
            .env("LEPTOS_OUTPUT_NAME", "gemflash")
            .env("LEPTOS_SITE_ROOT", "target/site")
            .current_dir(std::env::temp_dir())
            // Warnings and errors only (GEMFLASH_LOG), for a failure's story.
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the gemflash binary starts"),
    );
    let pid = server.0.id();
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(res) = client.get(format!("{base}/healthz")).send().await
            && res.status().is_success()
        {
            break;
        }
        assert!(Instant::now() < deadline, "the server did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let idle_kib = status_kib(pid, "VmRSS:").unwrap();
    let bound_kib = idle_kib + (BUDGET_MB + SLACK_MB) * 1024;

    // The watchdog: past twice the bound the server is killed and the test fails.
    let stop = Arc::new(AtomicBool::new(false));
    let peak_seen = Arc::new(AtomicU64::new(0));
    let watchdog = {
        let (stop, peak_seen) = (stop.clone(), peak_seen.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                let Some(rss) = status_kib(pid, "VmRSS:") else {
                    return false;
                };
                peak_seen.fetch_max(rss, Ordering::SeqCst);
                if rss > 2 * bound_kib {
                    let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
                    return true;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            false
        })
    };

    // Two shapes of request, each near the 100 MP request limit: a 49 MP RGB source with a
    // 49 MP reference, and thirteen 6.8 MP RGBA images (with the mask, the model's fourteen
    // inputs).
    let big = png16(7000, 7000, false);
    let small = png16(2600, 2600, true);
    assert!(
        big.len() < 2 * 1024 * 1024,
        "small on disk: {} bytes",
        big.len()
    );
    let shapes: Vec<Vec<&[u8]>> = vec![vec![&big, &big], vec![&small; 13]];
    let requests = (0..6).map(|i| {
        let images = &shapes[i % 2];
        let mut fields: Vec<(&str, &[u8])> = vec![
            ("prompt", b"make it glow"),
            ("model", b"gemini-3.1-flash-image"),
        ];
        fields.extend(images.iter().map(|bytes| ("image", *bytes)));
        let (content_type, body) = multipart(&fields);
        let (client, base) = (client.clone(), base.clone());
        async move {
            client
                .post(format!("{base}/api/edit_image"))
                .header("origin", &base)
                .header("content-type", content_type)
                .header("accept", "application/json")
                .body(body)
                .send()
                .await
        }
    });
    let answers = futures_util::future::join_all(requests).await;

    let mut made = 0;
    let mut statuses = Vec::new();
    for answer in answers {
        let res = answer.expect("every request is answered (the server stayed up)");
        let status = res.status().as_u16();
        statuses.push(status);
        let body = res.text().await.unwrap();
        match status {
            200 => made += 1,
            // Refusals a person can act on: busy (try again), or too much for this server.
            503 | 413 => assert!(body.contains("\"message\""), "{status}: {body}"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    stop.store(true, Ordering::SeqCst);
    let killed = watchdog.join().unwrap();
    assert!(
        !killed,
        "the server passed twice its memory bound and was killed"
    );
    let peak_kib = status_kib(pid, "VmHWM:").unwrap_or(peak_seen.load(Ordering::SeqCst));
    let health = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200, "the server is still up");
    drop(server);

    eprintln!(
        "memory: idle {} MB, peak {} MB, bound {} MB; answers {statuses:?} (big, many, big, ...)",
        idle_kib / 1024,
        peak_kib / 1024,
        bound_kib / 1024
    );
    assert!(made >= 1, "the edits were really decoded and made");
    assert!(
        peak_kib <= bound_kib,
        "peak resident {} MB is over the bound {} MB",
        peak_kib / 1024,
        bound_kib / 1024
    );
}
