//! Benchmark: parsing a `generateContent` answer that carries a 4K image.
//!
//! Run with `./run.sh bench` (or `cargo run --release -p gemini --example bench_parse`).
//! Builds an answer holding ~15 MB of image bytes (~20 MB of base64), then measures:
//! - throughput of parse + interpret, next to the base64 crate decoding the same text alone;
//! - peak memory while parsing, as growth of the peak resident set over the input already in
//!   memory (Linux `VmHWM`, reset through `/proc/self/clear_refs`), as a multiple of the payload.
//!
//! Results go to docs/BENCHMARKS.md by hand, with the machine they were measured on.

// A benchmark reports on standard output.
#![allow(clippy::print_stdout)]

use std::time::{Duration, Instant};

use base64::Engine as _;
use gemini::{interpret, wire::GenerateContentResponse};

const IMAGE_BYTES: usize = 15 * 1024 * 1024;
const ROUNDS: u32 = 10;

fn main() {
    let payload = answer_json();
    let mb = payload.len() as f64 / 1e6;
    println!(
        "payload: {mb:.1} MB of JSON ({:.1} MB of image)",
        IMAGE_BYTES as f64 / 1e6
    );

    // Memory first, while freed buffers of earlier rounds cannot hide the growth.
    match peak_growth(|| {
        let response: GenerateContentResponse =
            serde_json::from_slice(&payload).unwrap_or_default();
        let generation = interpret(response).ok();
        std::hint::black_box(&generation);
    }) {
        Some(growth) => println!(
            "peak memory while parsing: +{:.1} MB over the input; input + growth = {:.2}x the payload",
            growth as f64 / 1e6,
            (payload.len() + growth) as f64 / payload.len() as f64
        ),
        None => println!("peak memory: not measurable here (needs Linux /proc)"),
    }

    let b64 = extract_base64(&payload);
    let decode_alone = best_of(|| {
        let out = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap_or_default();
        assert_eq!(out.len(), IMAGE_BYTES);
    });
    let parse = best_of(|| {
        let response: GenerateContentResponse = match serde_json::from_slice(&payload) {
            Ok(r) => r,
            Err(e) => panic!("parse failed: {e}"),
        };
        let generation = interpret(response).unwrap_or_else(|e| panic!("interpret failed: {e}"));
        assert_eq!(generation.images[0].bytes.len(), IMAGE_BYTES);
    });
    let rate = |d: Duration| mb / d.as_secs_f64();
    println!(
        "base64 decode alone: {:>7.1} ms  {:>7.0} MB/s",
        ms(decode_alone),
        rate(decode_alone)
    );
    println!(
        "parse + interpret:   {:>7.1} ms  {:>7.0} MB/s",
        ms(parse),
        rate(parse)
    );
    println!(
        "parse / decode-alone time: {:.2}x",
        parse.as_secs_f64() / decode_alone.as_secs_f64()
    );
}

/// A 3.x-style answer: thought signature, usage with thoughts, one large PNG-headed image.
fn answer_json() -> Vec<u8> {
    let mut image = vec![0u8; IMAGE_BYTES];
    image[..8].copy_from_slice(b"\x89PNG\r\n\x1a\n");
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    for byte in &mut image[8..] {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        *byte = (seed >> 24) as u8;
    }
    let data = base64::engine::general_purpose::STANDARD.encode(&image);
    format!(
        r#"{{"candidates":[{{"content":{{"role":"model","parts":[{{"inlineData":{{"mimeType":"image/png","data":"{data}"}},"thoughtSignature":"EqCzAbCd"}}]}},"finishReason":"STOP","index":0}}],"usageMetadata":{{"promptTokenCount":12,"candidatesTokenCount":2520,"thoughtsTokenCount":300,"totalTokenCount":2832}},"modelVersion":"gemini-3.1-flash-image","responseId":"abc"}}"#
    )
    .into_bytes()
}

fn extract_base64(json: &[u8]) -> &[u8] {
    let text = std::str::from_utf8(json).unwrap_or_default();
    let start = text.find("\"data\":\"").map_or(0, |i| i + 8);
    let end = text[start..].find('"').map_or(text.len(), |i| start + i);
    &json[start..end]
}

fn best_of(mut f: impl FnMut()) -> Duration {
    f();
    (0..ROUNDS)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Growth of the peak resident set while `f` runs, in bytes.
fn peak_growth(f: impl FnOnce()) -> Option<usize> {
    let read = |field: &str| -> Option<usize> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let line = status.lines().find(|l| l.starts_with(field))?;
        let kb: usize = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb * 1024)
    };
    std::fs::write("/proc/self/clear_refs", "5").ok()?;
    let before = read("VmRSS:")?;
    f();
    let peak = read("VmHWM:")?;
    Some(peak.saturating_sub(before))
}
