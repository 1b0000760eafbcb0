//! Benchmark: server time of the edit pipeline, without the upstream call.
//!
//! Run with `./run.sh bench`. For a 1 MP and a 12 MP JPEG with a mask over a quarter of the
//! picture: decode (limits, orientation), mask, fit the model's 1K answer to the source,
//! composite, encode PNG, thumbnail, store (files synced, row inserted). Next to it, the floor:
//! decoding the same JPEG and encoding it as PNG, nothing else. Best of a few rounds.

// A benchmark reports on standard output.
#![allow(clippy::print_stdout)]

use std::{
    io::Cursor,
    time::{Duration, Instant},
};

use engine::{
    composite::composite,
    input::{self, InputLimits},
    mask::Mask,
    store::{Kind, NewImage, Store},
    studio::thumbnail,
};
use image::{DynamicImage, GrayImage, Luma, Rgb, RgbImage};

const ROUNDS: u32 = 3;

fn main() {
    let dir = std::env::temp_dir().join(format!("gemflash-bench-{}", std::process::id()));
    let store = match Store::open(&dir) {
        Ok(s) => s,
        Err(e) => {
            println!("cannot open a store in {}: {e}", dir.display());
            return;
        }
    };
    let generated = encode(
        &DynamicImage::ImageRgb8(photo(1024, 1024, 7)),
        image::ImageFormat::Png,
    );
    println!(
        "{:<8} {:>10} {:>10} {:>8}",
        "source", "pipeline", "floor", "ratio"
    );
    for (label, w, h) in [("1 MP", 1152, 864), ("12 MP", 4000, 3000)] {
        let jpeg = encode(
            &DynamicImage::ImageRgb8(photo(w, h, 1)),
            image::ImageFormat::Jpeg,
        );
        let limits = InputLimits::default();
        let mut store_time = Duration::MAX;
        let floor = best_of(|| {
            let img = input::decode(&jpeg, &limits).map(|s| s.pixels);
            std::hint::black_box(
                img.map(|p| input::clean_png(&p))
                    .map(|b| b.len())
                    .unwrap_or(0),
            );
        });
        let mut last: Option<NewImage> = None;
        let pipeline = best_of(|| {
            let Ok(source) = input::decode(&jpeg, &limits) else {
                return;
            };
            let painted = GrayImage::from_fn(w, h, |x, y| {
                Luma([
                    if x > w / 4 && x < 3 * w / 4 && y > h / 4 && y < 3 * h / 4 {
                        255
                    } else {
                        0
                    },
                ])
            });
            let Ok(mask) = Mask::from_painted(painted) else {
                return;
            };
            let Ok(answer) = input::decode(&generated, &limits) else {
                return;
            };
            let out = DynamicImage::ImageRgba8(composite(
                source.pixels.into_rgba8(),
                &answer.pixels,
                &mask.weights(8),
            ));
            let bytes = input::clean_png(&out);
            let new = NewImage {
                thumbnail_webp: thumbnail(&out),
                bytes,
                mime: "image/png",
                width: w,
                height: h,
                parent_id: None,
                kind: Kind::Edited,
                prompt: "bench".into(),
                model: "bench".into(),
                aspect_ratio: None,
                image_size: None,
                prompt_tokens: 0,
                output_tokens: 0,
                thoughts_tokens: 0,
                cost_usd: None,
            };
            let started = Instant::now();
            std::hint::black_box(store.put(new.clone()).is_ok());
            store_time = store_time.min(started.elapsed());
            last = Some(new);
        });
        let _ = last;
        println!(
            "{label:<8} {:>8.0}ms {:>10.0}ms {:>8.0}ms {:>7.2}x {:>15.2}x",
            ms(pipeline),
            ms(store_time),
            ms(floor),
            pipeline.as_secs_f64() / floor.as_secs_f64(),
            (pipeline.as_secs_f64() - store_time.as_secs_f64()) / floor.as_secs_f64()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
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
