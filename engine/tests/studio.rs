//! The jobs end to end against the simulator over real HTTP, storing into a real store on
//! disk: generation, and an edit in which nothing outside the mask changed even though the
//! model's answer drifted everywhere.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use engine::{
    input::InputLimits,
    store::{FileKind, Store},
    studio::{EditJob, ModelRules, Studio},
};
use gemini::{Client, ClientConfig, RetryPolicy};
use gemini_sim::{SimConfig, SimHandle, spawn};
use image::{DynamicImage, Luma, Rgba, RgbaImage};
use protocol::{ErrorKind, GenerateRequest};
use secrecy::SecretString;

const FLASH: &str = "gemini-3.1-flash-image";

struct Fixture {
    studio: Studio,
    _sim: SimHandle,
    _dir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let sim = spawn(SimConfig::default()).await.unwrap();
    let mut config = ClientConfig::new(sim.base_url().parse().unwrap(), SecretString::from("k"));
    config.retry = RetryPolicy::none();
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    let rules = ModelRules {
        id: FLASH.into(),
        max_input_images: 3,
        aspect_ratios: vec!["1:1".into(), "16:9".into()],
        image_sizes: vec!["1K".into()],
        ..ModelRules::default()
    };
    let studio = Studio::new(
        Client::new(config).unwrap(),
        store,
        vec![rules],
        InputLimits::default(),
        4,
    );
    Fixture {
        studio,
        _sim: sim,
        _dir: dir,
    }
}

fn png(img: &DynamicImage) -> Vec<u8> {
    engine::input::clean_png(img)
}

#[tokio::test]
async fn generation_is_stored_and_described_by_urls() {
    let f = fixture().await;
    let result = f
        .studio
        .generate(GenerateRequest {
            aspect_ratio: Some("16:9".into()),
            image_size: Some("1K".into()),
            ..GenerateRequest::new("a red kite", FLASH)
        })
        .await
        .unwrap();
    assert_eq!((result.width, result.height), (1376, 768));
    assert_eq!(result.url, format!("/images/{}", result.id));
    let record = f.studio.store().get(&result.id).unwrap().unwrap();
    let on_disk = f
        .studio
        .store()
        .read(&record, FileKind::Image)
        .unwrap()
        .unwrap();
    assert_eq!(image::load_from_memory(&on_disk).unwrap().width(), 1376);
    assert!(
        !f.studio
            .store()
            .read(&record, FileKind::Thumbnail)
            .unwrap()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn an_edit_changes_nothing_outside_the_mask() {
    let f = fixture().await;
    let source = RgbaImage::from_fn(320, 200, |x, y| {
        Rgba([(x % 256) as u8, (y % 256) as u8, 128, 255])
    });
    let mask = image::GrayImage::from_fn(320, 200, |x, y| {
        Luma([if (100..220).contains(&x) && (60..140).contains(&y) {
            255
        } else {
            0
        }])
    });
    let result = f
        .studio
        .edit(EditJob {
            mask: Some(png(&DynamicImage::ImageLuma8(mask.clone()))),
            ..EditJob::new(
                vec![png(&DynamicImage::ImageRgba8(source.clone()))],
                "make the middle glow",
                FLASH,
            )
        })
        .await
        .unwrap();
    assert_eq!(
        (result.width, result.height),
        (320, 200),
        "the result keeps the source's size"
    );
    let record = f.studio.store().get(&result.id).unwrap().unwrap();
    let stored = image::load_from_memory(
        &f.studio
            .store()
            .read(&record, FileKind::Image)
            .unwrap()
            .unwrap(),
    )
    .unwrap()
    .to_rgba8();
    let mut changed_inside = 0;
    for (x, y, p) in stored.enumerate_pixels() {
        if mask.get_pixel(x, y).0[0] == 0 {
            assert_eq!(
                p,
                source.get_pixel(x, y),
                "({x},{y}) outside the mask changed"
            );
        } else if p != source.get_pixel(x, y) {
            changed_inside += 1;
        }
    }
    assert!(
        changed_inside > 120 * 80 / 2,
        "the masked region was edited ({changed_inside} pixels)"
    );
}

#[tokio::test]
async fn bad_input_gets_a_kind_and_a_sentence() {
    let f = fixture().await;
    let job = |images: Vec<Vec<u8>>, mask: Option<Vec<u8>>, prompt: &str| EditJob {
        mask,
        ..EditJob::new(images, prompt, FLASH)
    };
    let small = png(&DynamicImage::ImageRgba8(RgbaImage::new(8, 8)));

    let e = f
        .studio
        .edit(job(vec![b"GIF89a....".to_vec()], None, "x"))
        .await
        .unwrap_err();
    assert_eq!(e.to_user_error().kind, ErrorKind::UnsupportedImage);
    assert!(e.to_user_error().message.contains("GIF"));

    let e = f
        .studio
        .edit(job(vec![small.clone(); 4], None, "x"))
        .await
        .unwrap_err();
    assert!(e.to_user_error().message.contains("at most 3"), "{e}");

    let wrong_mask = png(&DynamicImage::ImageLuma8(image::GrayImage::from_pixel(
        9,
        8,
        Luma([255]),
    )));
    let e = f
        .studio
        .edit(job(vec![small.clone()], Some(wrong_mask), "x"))
        .await
        .unwrap_err();
    assert!(e.to_user_error().message.contains("must match"));

    let e = f
        .studio
        .edit(job(vec![small.clone()], None, "   "))
        .await
        .unwrap_err();
    assert_eq!(e.to_user_error().kind, ErrorKind::BadRequest);

    let e = f
        .studio
        .edit(job(vec![small], None, "x [sim:quota]"))
        .await
        .unwrap_err();
    let user = e.to_user_error();
    assert_eq!(user.kind, ErrorKind::QuotaExhausted);
    assert_eq!(user.retry_after_secs, Some(10));
}
