//! Benchmark: server time of the edit pipeline, without the upstream call.
//!
//! Run with `./run.sh bench`. For a 1 MP and a 12 MP JPEG and a browser-made mask PNG over a
//! quarter of the picture, the exact functions the Studio runs: `edit::prepare` (decode with
//! limits and orientation; decode and feather the mask on a second thread), `upstream_images`
//! (the copies sent to Gemini), decoding the model's 1K answer, `apply` (fit, composite),
//! `studio::finish` (lossless PNG, and the WebP thumbnail on a second thread) and `Store::put`
//! (hash, files synced, row inserted). Next to it, the floor: decoding the same JPEG and
//! encoding it as PNG, nothing else, on one thread. Each stage is the best of a few rounds.

// A benchmark reports on standard output.
#![allow(clippy::print_stdout)]

use std::{
    io::Cursor,
    time::{Duration, Instant},
};

use engine::{
    edit,
    input::{self, InputLimits},
    store::{ImageKind, ImageStore, NewImage, Store},
    studio,
};
use image::{DynamicImage, Rgb, RgbImage, Rgba, RgbaImage};

const ROUNDS: usize = 5;
const STAGES: [&str; 6] = ["prepare", "upstream", "answer", "apply", "encode", "store"];

fn main() {
    let dir = std::env::temp_dir().join(format!("gemflash-bench-{}", std::process::id()));
    let store = match Store::open(&dir) {
        Ok(s) => s,
        Err(e) => {
            println!("cannot open a store in {}: {e}", dir.display());
            return;
        }
    };
    let answer_png = encode(
        &DynamicImage::ImageRgb8(photo(1024, 1024, 7)),
        image::ImageFormat::Png,
    );
    let limits = InputLimits::default();
    for (label, w, h) in [("1 MP", 1152, 864), ("12 MP", 4000, 3000)] {
        let jpeg = encode(
            &DynamicImage::ImageRgb8(photo(w, h, 1)),
            image::ImageFormat::Jpeg,
        );
        let mask_png = encode(
            &DynamicImage::ImageRgba8(browser_mask(w, h)),
            image::ImageFormat::Png,
        );
        let floor = best_of(|| {
            let pixels = input::decode(&jpeg, &limits).map(|s| s.pixels);
            std::hint::black_box(pixels.map(|p| input::clean_png(&p).len()).unwrap_or(0));
        });

        let mut best = [Duration::MAX; STAGES.len()];
        for _ in 0..ROUNDS {
            let mut times = [Duration::ZERO; STAGES.len()];
            let mut clock = Instant::now();
            let mut lap = |i: usize| {
                times[i] = clock.elapsed();
                clock = Instant::now();
            };
            let Ok(prepared) = edit::prepare(
                std::slice::from_ref(&jpeg),
                Some(&mask_png),
                &limits,
                8,
                edit::Expand::default(),
            ) else {
                println!("{label}: the bench's input was refused");
                return;
            };
            lap(0);
            std::hint::black_box(prepared.upstream_images(None).is_ok());
            lap(1);
            let Ok(answer) = input::decode(&answer_png, &limits) else {
                return;
            };
            lap(2);
            let Ok(out) = prepared.apply(&answer.pixels) else {
                return;
            };
            lap(3);
            let new = studio::finish(NewImage::new(ImageKind::Edited, "bench", "bench"), &out);
            lap(4);
            std::hint::black_box(store.put(new).is_ok());
            lap(5);
            for (b, t) in best.iter_mut().zip(times) {
                *b = (*b).min(t);
            }
        }
        let total: Duration = best.iter().sum();
        println!(
            "{label}: pipeline {:.0} ms, floor {:.0} ms, ratio {:.2}x",
            ms(total),
            ms(floor),
            total.as_secs_f64() / floor.as_secs_f64()
        );
        let stages: Vec<String> = STAGES
            .iter()
            .zip(best)
            .map(|(name, t)| format!("{name} {:.0}", ms(t)))
            .collect();
        println!("        stages (ms): {}", stages.join(", "));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A mask as the editor exports it: opaque strokes on a transparent canvas, here the centre.
fn browser_mask(w: u32, h: u32) -> RgbaImage {
    RgbaImage::from_fn(w, h, |x, y| {
        if x > w / 4 && x < 3 * w / 4 && y > h / 4 && y < 3 * h / 4 {
            Rgba([255, 255, 255, 255])
        } else {
            Rgba([0, 0, 0, 0])
        }
    })
}

/// A photo-like test image: smooth gradients with some texture, so codecs work for real.
fn photo(w: u32, h: u32, seed: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        let n = (x.wrapping_mul(73_856_093)
            ^ y.wrapping_mul(19_349_663)
            ^ seed.wrapping_mul(83_492_791))
            % 23;
        Rgb([
            ((x * 255 / w) as u8).saturating_add(n as u8),
            ((y * 255 / h) as u8).saturating_add(n as u8),
            (((x + y) * 127 / (w + h)) as u8).saturating_add(n as u8),
        ])
    })
}

fn encode(img: &DynamicImage, format: image::ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    let _ = img.write_to(&mut out, format);
    out.into_inner()
}

fn best_of(mut f: impl FnMut()) -> Duration {
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
