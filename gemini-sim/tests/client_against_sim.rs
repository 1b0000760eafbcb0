//! The `gemini` client against the simulator over real HTTP: every shape the simulator can
//! produce maps to the right result or error variant, and retries do what they promise.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use gemini::{
    Client, ClientConfig, Denial, GeminiError, Pricing, RetryPolicy,
    sniff::ImageFormat,
    wire::{Content, GenerateContentRequest, GenerationConfig, ImageConfig, Part},
};
use gemini_sim::{SimConfig, SimHandle, spawn};
use secrecy::SecretString;

const FLASH: &str = "gemini-3.1-flash-image";

async fn sim() -> SimHandle {
    spawn(SimConfig::default()).await.unwrap()
}

fn client_for(sim: &SimHandle, retry: RetryPolicy) -> Client {
    let mut config = ClientConfig::new(
        sim.base_url().parse().unwrap(),
        SecretString::from("test-key"),
    );
    config.retry = retry;
    config.prices.insert(
        FLASH.into(),
        Pricing {
            usd_per_million_output_tokens: 60.0,
            ..Pricing::default()
        },
    );
    Client::new(config).unwrap()
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        initial_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        ..RetryPolicy::default()
    }
}

fn prompt(text: &str) -> GenerateContentRequest {
    GenerateContentRequest {
        contents: vec![Content::user(vec![Part::text(text)])],
        ..Default::default()
    }
}

fn dimensions(bytes: &[u8]) -> (u32, u32) {
    let img = image::load_from_memory(bytes).unwrap();
    (img.width(), img.height())
}

#[tokio::test]
async fn text_to_image_returns_a_png_of_the_documented_size_with_usage_and_cost() {
    let sim = sim().await;
    let client = client_for(&sim, RetryPolicy::none());
    let mut request = prompt("a lighthouse at dusk");
    request.generation_config = Some(GenerationConfig {
        response_modalities: vec!["IMAGE".into()],
        image_config: Some(ImageConfig {
            aspect_ratio: Some("16:9".into()),
            image_size: Some("1K".into()),
        }),
        ..Default::default()
    });
    let g = client.generate_content(FLASH, &request).await.unwrap();
    assert_eq!(g.images.len(), 1);
    assert_eq!(g.images[0].format, ImageFormat::Png);
    assert_eq!(dimensions(&g.images[0].bytes), (1376, 768));
    assert_eq!(g.usage.output_tokens, 1120);
    assert!(
        g.usage.thoughts_tokens > 0,
        "3.x models report thinking tokens"
    );
    assert_eq!(
        g.usage.total_tokens,
        g.usage.prompt_tokens + g.usage.output_tokens + g.usage.thoughts_tokens
    );
    assert_eq!(
        g.thought_signatures().len(),
        1,
        "3.x parts carry a thought signature"
    );
    let expected = f64::from(1120 + g.usage.thoughts_tokens) * 60.0 / 1e6;
    assert!((g.cost_usd.unwrap() - expected).abs() < 1e-12);
    assert_eq!(g.attempts, 1);
}

#[tokio::test]
async fn the_same_prompt_gives_the_same_image() {
    let sim = sim().await;
    let client = client_for(&sim, RetryPolicy::none());
    let a = client
        .generate_content(FLASH, &prompt("same"))
        .await
        .unwrap();
    let b = client
        .generate_content(FLASH, &prompt("same"))
        .await
        .unwrap();
    assert_eq!(a.images[0].bytes, b.images[0].bytes);
}

#[tokio::test]
async fn an_edit_transforms_the_input_image_and_keeps_its_aspect() {
    let sim = sim().await;
    let client = client_for(&sim, RetryPolicy::none());
    let source = image::RgbImage::from_pixel(400, 300, image::Rgb([200, 40, 40]));
    let mut png = std::io::Cursor::new(Vec::new());
    source.write_to(&mut png, image::ImageFormat::Png).unwrap();
    let request = GenerateContentRequest {
        contents: vec![Content::user(vec![
            Part::text("make it blue"),
            Part::image("image/png", png.into_inner()),
        ])],
        ..Default::default()
    };
    let g = client.generate_content(FLASH, &request).await.unwrap();
    let out = image::load_from_memory(&g.images[0].bytes)
        .unwrap()
        .to_rgb8();
    assert_eq!(
        (out.width(), out.height()),
        (1200, 896),
        "4:3 is the closest ratio to 400x300"
    );
    assert_eq!(
        out.get_pixel(600, 448).0,
        [55, 215, 215],
        "the edit visibly changes the pixels"
    );
}

#[tokio::test]
async fn follow_up_edit_echoing_the_model_turn_is_accepted() {
    let sim = sim().await;
    let client = client_for(&sim, RetryPolicy::none());
    let first = client
        .generate_content(FLASH, &prompt("a cat"))
        .await
        .unwrap();
    let follow_up = GenerateContentRequest {
        contents: vec![
            Content::user(vec![Part::text("a cat")]),
            first.model_turn.clone(),
            Content::user(vec![Part::text("now make it blue")]),
        ],
        ..Default::default()
    };
    client.generate_content(FLASH, &follow_up).await.unwrap();

    let mut unsigned = first.model_turn.clone();
    unsigned.parts[0].thought_signature = None;
    let bad = GenerateContentRequest {
        contents: vec![
            Content::user(vec![Part::text("a cat")]),
            unsigned,
            Content::user(vec![Part::text("blue")]),
        ],
        ..Default::default()
    };
    let e = client.generate_content(FLASH, &bad).await.unwrap_err();
    assert_eq!(e.kind(), "bad_request");
    // Gemini's words are kept for the log; the sentence for a person is GemFlash's own.
    assert!(e.detail().unwrap().contains("thought_signature"), "{e:?}");
    assert!(!e.to_string().contains("thought_signature"), "{e}");
}

async fn fault(marker: &str) -> GeminiError {
    let sim = sim().await;
    let client = client_for(&sim, RetryPolicy::none());
    client
        .generate_content(FLASH, &prompt(&format!("a cat [sim:{marker}]")))
        .await
        .unwrap_err()
}

#[tokio::test]
async fn each_failure_shape_maps_to_its_error_kind() {
    let cases = [
        ("quota", "quota_exhausted"),
        ("quota-zero", "quota_exhausted"),
        ("overloaded", "overloaded"),
        ("internal", "upstream_error"),
        ("reset", "network"),
        ("malformed", "malformed_response"),
        ("prompt-blocked", "prompt_blocked"),
        ("image-blocked", "image_blocked"),
        ("text-only", "no_image"),
        ("no-image", "no_image"),
        ("leaked", "permission_denied"),
    ];
    for (marker, kind) in cases {
        let e = fault(marker).await;
        assert_eq!(e.kind(), kind, "{marker}: {e}");
    }
}

#[tokio::test]
async fn quota_errors_say_when_to_retry_and_whether_the_quota_is_zero() {
    match fault("quota").await {
        GeminiError::QuotaExhausted {
            retry_after,
            zero_quota,
        } => {
            assert_eq!(retry_after, Some(Duration::from_secs(10)));
            assert!(!zero_quota);
        }
        other => panic!("{other:?}"),
    }
    match fault("quota-zero").await {
        GeminiError::QuotaExhausted { zero_quota, .. } => assert!(zero_quota),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn blocks_and_text_answers_carry_their_reasons() {
    match fault("image-blocked").await {
        GeminiError::ImageBlocked { reason, detail, .. } => {
            assert_eq!(reason.as_str(), "IMAGE_SAFETY");
            assert!(detail.unwrap().contains("You will not be charged"));
        }
        other => panic!("{other:?}"),
    }
    match fault("prompt-blocked").await {
        GeminiError::PromptBlocked { reason, .. } => {
            assert_eq!(reason.as_str(), "PROHIBITED_CONTENT")
        }
        other => panic!("{other:?}"),
    }
    match fault("text-only").await {
        GeminiError::NoImage { text, .. } => assert!(text.unwrap().contains("description")),
        other => panic!("{other:?}"),
    }
    match fault("leaked").await {
        GeminiError::PermissionDenied { denial, .. } => assert_eq!(denial, Denial::Leaked),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn jpeg_bytes_labelled_png_are_reported_as_jpeg() {
    let sim = sim().await;
    let client = client_for(&sim, RetryPolicy::none());
    let g = client
        .generate_content(FLASH, &prompt("x [sim:jpeg-as-png]"))
        .await
        .unwrap();
    assert_eq!(g.images[0].declared_mime, "image/png");
    assert_eq!(g.images[0].format, ImageFormat::Jpeg);
}

#[tokio::test]
async fn invalid_key_unknown_model_and_retired_model() {
    let sim = spawn(SimConfig {
        accepted_key: Some("right".into()),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let client = client_for(&sim, fast_retries());
    let e = client
        .generate_content(FLASH, &prompt("x"))
        .await
        .unwrap_err();
    assert_eq!(e, GeminiError::InvalidKey);
    assert_eq!(sim.calls(), 1, "a bad key is never retried");

    let sim = self::sim().await;
    let client = client_for(&sim, fast_retries());
    for model in ["gemini-9-ultra-image", "gemini-2.5-flash-image-preview"] {
        let e = client
            .generate_content(model, &prompt("x"))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), "model_not_found", "{model}");
    }
    assert_eq!(sim.calls(), 2, "a missing model is never retried");
}

#[tokio::test]
async fn bad_requests_keep_geminis_message_for_the_log_and_are_not_retried() {
    let sim = sim().await;
    let client = client_for(&sim, fast_retries());
    let mut request = prompt("x");
    request.generation_config = Some(GenerationConfig {
        candidate_count: Some(2),
        ..Default::default()
    });
    let e = client.generate_content(FLASH, &request).await.unwrap_err();
    assert_eq!(
        e,
        GeminiError::BadRequest {
            detail: "Multiple candidates is not enabled for this model".into()
        }
    );
    assert_eq!(sim.calls(), 1);
}

#[tokio::test]
async fn transient_failures_are_retried_until_success() {
    let sim = sim().await;
    let client = client_for(&sim, fast_retries());
    let g = client
        .generate_content(FLASH, &prompt("x [sim:fail-2]"))
        .await
        .unwrap();
    assert_eq!(g.attempts, 3);
    assert_eq!(sim.calls(), 3);
}

#[tokio::test]
async fn a_zero_quota_is_never_retried() {
    let sim = sim().await;
    let client = client_for(&sim, fast_retries());
    let e = client
        .generate_content(FLASH, &prompt("x [sim:quota-zero]"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "quota_exhausted");
    assert_eq!(sim.calls(), 1);
}

#[tokio::test]
async fn a_retry_delay_past_the_deadline_ends_the_call_at_once() {
    let sim = sim().await;
    let mut config = ClientConfig::new(sim.base_url().parse().unwrap(), SecretString::from("k"));
    config.retry = fast_retries();
    config.deadline = Duration::from_secs(3);
    let client = Client::new(config).unwrap();
    let started = Instant::now();
    let e = client
        .generate_content(FLASH, &prompt("x [sim:quota]"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "quota_exhausted");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "it must not sleep 10 s it does not have"
    );
    assert_eq!(sim.calls(), 1);
}

#[tokio::test]
async fn a_slow_upstream_ends_in_a_timeout_within_the_deadline() {
    let sim = spawn(SimConfig {
        slow: Duration::from_secs(30),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let mut config = ClientConfig::new(sim.base_url().parse().unwrap(), SecretString::from("k"));
    config.retry = fast_retries();
    config.attempt_timeout = Duration::from_millis(300);
    config.deadline = Duration::from_millis(800);
    let client = Client::new(config).unwrap();
    let started = Instant::now();
    let e = client
        .generate_content(FLASH, &prompt("x [sim:slow]"))
        .await
        .unwrap_err();
    assert_eq!(e, GeminiError::Timeout);
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn dropping_the_call_cancels_it_with_no_retry_after() {
    let sim = spawn(SimConfig {
        slow: Duration::from_secs(30),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let client = client_for(&sim, fast_retries());
    let request = prompt("x [sim:slow]");
    let call = client.generate_content(FLASH, &request);
    assert!(
        tokio::time::timeout(Duration::from_millis(200), call)
            .await
            .is_err()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sim.calls(), 1);
}

#[tokio::test]
async fn streaming_returns_the_same_image_and_reports_a_mid_stream_error() {
    let sim = sim().await;
    let client = client_for(&sim, RetryPolicy::none());
    let mut events = 0;
    let streamed = client
        .stream_generate_content(FLASH, &prompt("a boat"), |_| events += 1)
        .await
        .unwrap();
    assert_eq!(events, 2);
    let whole = client
        .generate_content(FLASH, &prompt("a boat"))
        .await
        .unwrap();
    assert_eq!(streamed.images[0].bytes, whole.images[0].bytes);
    assert_eq!(streamed.usage, whole.usage);

    let e = client
        .stream_generate_content(FLASH, &prompt("a boat [sim:stream-error]"), |_| {})
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "upstream_error");
}

#[tokio::test]
async fn a_4k_image_streams_through_in_one_event() {
    let sim = sim().await;
    let client = client_for(&sim, RetryPolicy::none());
    let mut request = prompt("a huge panorama");
    request.generation_config = Some(GenerationConfig {
        image_config: Some(ImageConfig {
            aspect_ratio: Some("1:1".into()),
            image_size: Some("4K".into()),
        }),
        ..Default::default()
    });
    let g = client
        .stream_generate_content(FLASH, &request, |_| {})
        .await
        .unwrap();
    assert_eq!(dimensions(&g.images[0].bytes), (4096, 4096));
}
