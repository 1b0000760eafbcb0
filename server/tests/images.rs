//! Making and serving images through the real router: the server functions against the
//! simulator over real HTTP, the store on disk, and `/images/{id}` with its cache headers.
//! Every error kind reaches the caller with its status and a sentence.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::{body::Body, http::Request};
use common::{app, app_with, body_bytes, body_text};
use image::{DynamicImage, GrayImage, Luma, Rgb, RgbImage, Rgba, RgbaImage};
use protocol::{ErrorKind, ImageResult, UserError};

fn png(img: DynamicImage) -> Vec<u8> {
    engine::input::clean_png(&img)
}

async fn error_of(res: axum::http::Response<Body>) -> (u16, UserError) {
    let status = res.status().as_u16();
    let text = body_text(res).await;
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}")),
    )
}

#[tokio::test]
async fn a_generated_image_is_served_with_immutable_caching_and_a_strong_etag() {
    let app = app().await;
    let res = app.generate("a lighthouse").await;
    assert_eq!(res.status(), 200);
    let result: ImageResult = serde_json::from_str(&body_text(res).await).unwrap();
    assert_eq!((result.width, result.height), (1024, 1024));
    assert!(result.cost_usd.unwrap() > 0.0);

    let res = app.get(&result.url).await;
    assert_eq!(res.status(), 200);
    let h = res.headers().clone();
    assert_eq!(h["content-type"], "image/png");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["cache-control"], "public, max-age=31536000, immutable");
    let etag = h["etag"].to_str().unwrap().to_owned();
    assert!(etag.starts_with('"') && etag.len() == 66, "{etag}");
    let bytes = body_bytes(res).await;
    assert_eq!(image::load_from_memory(&bytes).unwrap().width(), 1024);

    let req = Request::get(&result.url)
        .header("if-none-match", &etag)
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(req).await.status(), 304);

    let res = app.get(&result.download_url).await;
    let disposition = res.headers()["content-disposition"].to_str().unwrap();
    assert_eq!(
        disposition,
        format!("attachment; filename=\"gemflash-{}.png\"", result.id)
    );

    let res = app.get(&result.thumbnail_url).await;
    assert_eq!(res.headers()["content-type"], "image/webp");
    let thumb = image::load_from_memory(&body_bytes(res).await).unwrap();
    assert_eq!((thumb.width(), thumb.height()), (384, 384));
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn a_generation_is_stored_as_the_model_sent_it_with_only_what_draws_the_picture() {
    let app = app().await;
    // Flash answers PNG, Pro JPEG (as the real models do).
    for (model, mime) in [
        ("gemini-3.1-flash-image", "image/png"),
        ("gemini-3-pro-image", "image/jpeg"),
    ] {
        let res = app
            .generate_with("a lighthouse [sim:metadata]", model)
            .await;
        assert_eq!(res.status(), 200, "{model}");
        let result: ImageResult = serde_json::from_str(&body_text(res).await).unwrap();
        let res = app.get(&result.url).await;
        assert_eq!(res.headers()["content-type"], mime, "{model}");
        let stored = body_bytes(res).await;
        let secret = gemini_sim::render::METADATA_SECRET.as_bytes();
        assert!(!contains(&stored, secret), "{model}: metadata kept");
        assert!(
            contains(&stored, gemini_sim::render::CONTENT_CREDENTIALS.as_bytes()),
            "{model}: content credentials lost"
        );
        // The model's own encoding, not a re-encoding: the simulator's pixels exactly, even
        // for a JPEG (a re-encoded JPEG would differ).
        let sent = gemini_sim::render::encode(
            &gemini_sim::render::from_prompt("a lighthouse [sim:metadata]", 1024, 1024),
            mime == "image/jpeg",
        );
        assert_eq!(
            image::load_from_memory(&stored).unwrap().to_rgb8(),
            image::load_from_memory(&sent).unwrap().to_rgb8(),
            "{model}"
        );
        let ext = if mime == "image/png" { "png" } else { "jpg" };
        let res = app.get(&result.download_url).await;
        assert!(
            res.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .ends_with(&format!(".{ext}\"")),
            "{model}"
        );
    }
}

#[tokio::test]
async fn the_2x_thumbnail_and_the_view_copy_are_made_on_first_request_and_kept() {
    let app = app().await;
    let res = app
        .generate_with("a wide harbour", "gemini-3-pro-image")
        .await;
    let result: ImageResult = serde_json::from_str(&body_text(res).await).unwrap();
    let id = &result.id;
    let thumbs = app.data_dir.path().join("thumbs");
    let count = |suffix: &str| {
        walk(&thumbs)
            .iter()
            .filter(|p| p.to_string_lossy().ends_with(suffix))
            .count()
    };
    assert_eq!((count(".2x.webp"), count(".view.webp")), (0, 0));

    for (path, side) in [
        (format!("/images/{id}/thumb2x"), 768),
        (format!("/images/{id}/view"), 1024),
    ] {
        let res = app.get(&path).await;
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.headers()["content-type"], "image/webp", "{path}");
        assert_eq!(
            res.headers()["cache-control"],
            "public, max-age=31536000, immutable"
        );
        let etag = res.headers()["etag"].to_str().unwrap().to_owned();
        let bytes = body_bytes(res).await;
        // Lossy WebP.
        assert_eq!(&bytes[12..16], b"VP8 ", "{path}");
        let img = image::load_from_memory(&bytes).unwrap();
        assert_eq!((img.width(), img.height()), (side, side), "{path}");
        // The second request is served from disk: the same bytes, and 304 for the tag.
        assert_eq!(body_bytes(app.get(&path).await).await, bytes, "{path}");
        let req = Request::get(&path)
            .header("if-none-match", &etag)
            .body(Body::empty())
            .unwrap();
        assert_eq!(app.send(req).await.status(), 304, "{path}");
    }
    assert_eq!((count(".2x.webp"), count(".view.webp")), (1, 1));
    let thumb = body_bytes(app.get(&result.thumbnail_url).await).await;
    assert!(
        thumb.len() < 30 * 1024,
        "a thumbnail of {} bytes",
        thumb.len()
    );
    assert_eq!(&thumb[12..16], b"VP8 ");

    // Deleting the image removes every copy.
    let res = app
        .send(
            common::post("/api/delete_image")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("accept", "application/json")
                .body(Body::from(format!("id={id}")))
                .unwrap(),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!((count(".2x.webp"), count(".view.webp")), (0, 0));
    assert_eq!(app.get(&format!("/images/{id}/view")).await.status(), 404);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[tokio::test]
async fn unknown_or_malformed_image_ids_are_404() {
    let app = app().await;
    for path in [
        "/images/0123456789abcdef0123456789abcdef",
        "/images/../../etc/passwd",
        "/images/xyz/thumb",
    ] {
        assert_eq!(app.get(path).await.status(), 404, "{path}");
    }
}

#[tokio::test]
async fn an_upload_edit_changes_only_the_masked_region() {
    let app = app().await;
    let source = RgbaImage::from_fn(200, 120, |x, y| Rgba([x as u8, y as u8, 90, 255]));
    let mask = GrayImage::from_fn(200, 120, |x, _| Luma([if x >= 100 { 255 } else { 0 }]));
    let source_png = png(DynamicImage::ImageRgba8(source.clone()));
    let mask_png = png(DynamicImage::ImageLuma8(mask));
    let res = app
        .edit(&[
            ("prompt", b"paint the right half"),
            ("model", b"gemini-3.1-flash-image"),
            ("image", &source_png),
            ("mask", &mask_png),
        ])
        .await;
    assert_eq!(res.status(), 200);
    let result: ImageResult = serde_json::from_str(&body_text(res).await).unwrap();
    let out = image::load_from_memory(&body_bytes(app.get(&result.url).await).await)
        .unwrap()
        .to_rgba8();
    for (x, y, p) in out.enumerate_pixels() {
        if x < 100 {
            assert_eq!(p, source.get_pixel(x, y), "({x},{y})");
        }
    }
    assert_ne!(out.get_pixel(150, 60), source.get_pixel(150, 60));
}

#[tokio::test]
async fn a_small_mask_on_a_large_photo_is_sent_as_a_frame_around_it_and_only_the_mask_changes() {
    let app = app().await;
    let (w, h) = (4000, 3000);
    let source = RgbImage::from_fn(w, h, |x, y| Rgb([(x / 16) as u8, (y / 12) as u8, 90]));
    let inside = |x: u32, y: u32| (1800..2100).contains(&x) && (1300..1600).contains(&y);
    let mask = GrayImage::from_fn(w, h, |x, y| Luma([if inside(x, y) { 255 } else { 0 }]));
    let source_png = png(DynamicImage::ImageRgb8(source.clone()));
    let mask_png = png(DynamicImage::ImageLuma8(mask));
    let fields = |detail: &'static [u8]| -> [(&str, &[u8]); 5] {
        [
            ("prompt", b"a small red boat"),
            ("model", b"gemini-3-pro-image"),
            ("image", &source_png),
            ("mask", &mask_png),
            ("detail", detail),
        ]
    };

    let res = app.edit(&fields(b"auto")).await;
    assert_eq!(res.status(), 200);
    let framed: ImageResult = serde_json::from_str(&body_text(res).await).unwrap();
    let sent = app.sim.last_request().expect("a call");
    // The source and its mask, cut alike: 300 px of mask and 182 px of context on each side,
    // square, asked for in the square ratio.
    assert_eq!(sent.images, vec![(664, 664), (664, 664)]);
    assert_eq!(sent.aspect_ratio.as_deref(), Some("1:1"));
    let detail = framed.detail.expect("the gain is reported");
    assert!((detail - 5.2).abs() < 0.05, "{detail}");

    let out = image::load_from_memory(&body_bytes(app.get(&framed.url).await).await)
        .unwrap()
        .to_rgb8();
    assert_eq!(
        out.dimensions(),
        (w, h),
        "the answer goes back into the full-size photo"
    );
    let mut changed = 0;
    for (x, y, p) in out.enumerate_pixels() {
        if !inside(x, y) {
            assert_eq!(
                p,
                source.get_pixel(x, y),
                "({x},{y}) changed outside the mask"
            );
        } else if p != source.get_pixel(x, y) {
            changed += 1;
        }
    }
    assert!(
        changed > 300 * 300 / 2,
        "the mask took the edit ({changed} pixels)"
    );

    // Turned off: the whole photo, reduced to the upstream size, in its own ratio.
    let res = app.edit(&fields(b"whole")).await;
    assert_eq!(res.status(), 200);
    let whole: ImageResult = serde_json::from_str(&body_text(res).await).unwrap();
    let sent = app.sim.last_request().expect("a call");
    assert_eq!(sent.images, vec![(2048, 1536), (2048, 1536)]);
    assert_eq!(sent.aspect_ratio, None);
    assert_eq!(whole.detail, None);
}

#[tokio::test]
async fn an_expanded_canvas_keeps_every_original_pixel_and_fills_the_new_area() {
    let app = app().await;
    let (w, h) = (600, 400);
    let source = RgbImage::from_fn(w, h, |x, y| Rgb([(x / 3) as u8, (y / 2) as u8, 70]));
    let source_png = png(DynamicImage::ImageRgb8(source.clone()));
    let res = app
        .edit(&[
            ("prompt", b"continue the scene to both sides"),
            ("model", b"gemini-3-pro-image"),
            ("image", &source_png),
            ("expand", b"200,0,200,0"),
        ])
        .await;
    assert_eq!(res.status(), 200);
    let result: ImageResult = serde_json::from_str(&body_text(res).await).unwrap();
    // The model is sent the whole canvas and its mask (the new area).
    let sent = app.sim.last_request().expect("a call");
    assert_eq!(sent.images, vec![(1000, 400), (1000, 400)]);
    let out = image::load_from_memory(&body_bytes(app.get(&result.url).await).await)
        .unwrap()
        .to_rgb8();
    assert_eq!(out.dimensions(), (1000, 400));
    for (x, y, p) in source.enumerate_pixels() {
        assert_eq!(
            out.get_pixel(x + 200, y),
            p,
            "({x},{y}) of the original changed"
        );
    }
    // The new area is the model's, not the stretched edge it was given to start from.
    let filled = (0..150)
        .flat_map(|x| (0..h).map(move |y| (x, y)))
        .filter(|&(x, y)| out.get_pixel(x, y) != source.get_pixel(0, y))
        .count();
    assert!(filled > 150 * 400 * 9 / 10, "{filled} new pixels filled");

    // More than the image's own size on a side is refused, with what to do.
    let res = app
        .edit(&[
            ("prompt", b"wider"),
            ("model", b"gemini-3-pro-image"),
            ("image", &source_png),
            ("expand", b"700,0,0,0"),
        ])
        .await;
    let (status, error) = error_of(res).await;
    assert_eq!(status, 400);
    assert!(error.message.contains("Expand less"), "{}", error.message);
    // And a malformed value by name.
    let res = app
        .edit(&[
            ("prompt", b"wider"),
            ("model", b"gemini-3-pro-image"),
            ("image", &source_png),
            ("expand", b"10,20"),
        ])
        .await;
    let (status, error) = error_of(res).await;
    assert_eq!(status, 400);
    assert!(
        error.message.contains("left,top,right,bottom"),
        "{}",
        error.message
    );
}

#[tokio::test]
async fn a_stored_image_can_be_edited_again_and_becomes_the_parent() {
    let app = app().await;
    let first: ImageResult =
        serde_json::from_str(&body_text(app.generate("a hill").await).await).unwrap();
    let res = app
        .edit(&[
            ("prompt", b"add a tree"),
            ("model", b"gemini-3.1-flash-image"),
            ("source_id", first.id.as_bytes()),
        ])
        .await;
    assert_eq!(res.status(), 200);
    let second: ImageResult = serde_json::from_str(&body_text(res).await).unwrap();
    assert_eq!(second.parent_id.as_deref(), Some(first.id.as_str()));

    let res = app
        .edit(&[
            ("prompt", b"x"),
            ("model", b"gemini-3.1-flash-image"),
            ("source_id", b"0123456789abcdef0123456789abcdef"),
        ])
        .await;
    assert_eq!(error_of(res).await.1.kind, ErrorKind::NotFound);
}

#[tokio::test]
async fn each_error_kind_reaches_the_caller_with_its_status() {
    // One attempt: the simulator asks for a 10 s wait on quota errors, and retrying is the
    // client's business, tested in the gemini crate. Here: what the caller gets in the end.
    let app = app_with(&[("GEMFLASH_UPSTREAM_ATTEMPTS", "1")]).await;
    let cases = [
        ("x [sim:quota]", 429, ErrorKind::QuotaExhausted),
        ("x [sim:quota-zero]", 402, ErrorKind::NoQuota),
        ("x [sim:prompt-blocked]", 422, ErrorKind::PromptBlocked),
        ("x [sim:image-blocked]", 422, ErrorKind::ImageBlocked),
        ("x [sim:text-only]", 422, ErrorKind::NoImage),
        ("x [sim:leaked]", 502, ErrorKind::Misconfigured),
        ("   ", 400, ErrorKind::BadRequest),
    ];
    for (prompt, status, kind) in cases {
        let res = app.generate(prompt).await;
        let retry_after = res
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned());
        let (got_status, error) = error_of(res).await;
        assert_eq!(
            (got_status, error.kind),
            (status, kind),
            "{prompt}: {}",
            error.message
        );
        assert!(!error.message.is_empty());
        if kind == ErrorKind::QuotaExhausted {
            assert_eq!(retry_after.as_deref(), Some("10"));
            assert_eq!(error.retry_after_secs, Some(10));
        }
    }
    // What the model wrote instead of an image is upstream text: the log has it (scrubbed),
    // the sentence is GemFlash's own.
    let (_, e) = error_of(app.generate("x [sim:text-only]").await).await;
    assert!(!e.message.contains("description"), "{}", e.message);
    assert!(e.message.contains("without an image"), "{}", e.message);
}

#[tokio::test]
async fn wrong_uploads_get_a_clear_refusal() {
    let app = app().await;
    let (status, e) = error_of(
        app.edit(&[
            ("prompt", b"x"),
            ("model", b"gemini-3.1-flash-image"),
            ("image", b"GIF89a\x01\x00\x01\x00"),
        ])
        .await,
    )
    .await;
    assert_eq!((status, e.kind), (415, ErrorKind::UnsupportedImage));
    assert!(
        e.message.contains("GIF") && e.message.contains("PNG, JPEG or WebP"),
        "{}",
        e.message
    );

    let (status, e) = error_of(
        app.edit(&[("prompt", b"x"), ("model", b"nope"), ("image", b"\x89PNG")])
            .await,
    )
    .await;
    assert_eq!((status, e.kind), (400, ErrorKind::BadRequest));

    let (status, _) = error_of(app.edit(&[("surprise", b"x")]).await).await;
    assert_eq!(status, 400);
}
