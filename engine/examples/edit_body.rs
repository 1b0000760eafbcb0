//! Writes the body of one `edit_image` request for `bench-load`'s edit scenario: a 12 MP
//! photo-like JPEG (4000×3000, grain in every pixel) and a mask over a 1000×750 region, as
//! multipart/form-data with the boundary `gemflash-bench`.
//!
//! `cargo run --release -p engine --example edit_body -- <out file>`

// A tool reports on standard output.
#![allow(clippy::print_stdout)]

use std::io::Cursor;

use image::{DynamicImage, GrayImage, Luma};

fn main() {
    let Some(out) = std::env::args().nth(1) else {
        println!("usage: edit_body <out file>");
        std::process::exit(2);
    };
    let (w, h) = (4000, 3000);
    let photo = gemini_sim::render::with_grain(
        gemini_sim::render::from_prompt("a harbour at dawn", w, h),
        1,
    );
    let mask = GrayImage::from_fn(w, h, |x, y| {
        let inside = (1500..2500).contains(&x) && (1100..1850).contains(&y);
        Luma([if inside { 255 } else { 0 }])
    });
    let mut jpeg = Cursor::new(Vec::new());
    let mut png = Cursor::new(Vec::new());
    let encoded = DynamicImage::ImageRgb8(photo)
        .write_to(&mut jpeg, image::ImageFormat::Jpeg)
        .and_then(|()| DynamicImage::ImageLuma8(mask).write_to(&mut png, image::ImageFormat::Png));
    if let Err(e) = encoded {
        println!("cannot encode: {e}");
        std::process::exit(1);
    }
    let mut body = Vec::new();
    let fields: [(&str, &[u8]); 4] = [
        ("prompt", b"a small red boat on the water"),
        ("model", b"gemini-3.1-flash-image"),
        ("image", jpeg.get_ref()),
        ("mask", png.get_ref()),
    ];
    for (name, value) in fields {
        body.extend_from_slice(b"--gemflash-bench\r\n");
        let head = if matches!(name, "image" | "mask") {
            format!(
                "Content-Disposition: form-data; name=\"{name}\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
        } else {
            format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n")
        };
        body.extend_from_slice(head.as_bytes());
        body.extend_from_slice(value);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"--gemflash-bench--\r\n");
    if let Err(e) = std::fs::write(&out, &body) {
        println!("cannot write {out}: {e}");
        std::process::exit(1);
    }
    println!(
        "edit body: {} KB (JPEG {} KB, mask {} KB)",
        body.len() / 1024,
        jpeg.get_ref().len() / 1024,
        png.get_ref().len() / 1024
    );
}
