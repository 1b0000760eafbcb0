//! Gemini as it is now, through the real router against the simulator over real HTTP: the
//! model table and the model check, a retired model, thinking and grounding (and what they
//! cost), streamed progress with thought summaries, and conversations replayed with their
//! thought signatures.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use common::{TestApp, app_with_sim, body_text, post};
use gemini_sim::SimConfig;
use image::{DynamicImage, GenericImageView, GrayImage, Luma};
use protocol::{Availability, ErrorKind, ImageResult, JobEvent, ServerInfo, UserError};

const NB21: &str = "gemini-nano-banana-2.1";
const FLASH: &str = "gemini-3.1-flash-image";
const LITE: &str = "gemini-3.1-flash-lite-image";
const PRO: &str = "gemini-3-pro-image";

async fn app(sim: SimConfig) -> TestApp {
    app_with_sim(sim, &[]).await
}

async fn server_info(app: &TestApp) -> ServerInfo {
    let res = app
        .send(
            post("/api/server_info")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("accept", "application/json")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(res.status(), 200);
    serde_json::from_str(&body_text(res).await).unwrap()
}

fn availability(info: &ServerInfo, id: &str) -> Availability {
    info.models
        .iter()
        .find(|m| m.id == id)
        .unwrap()
        .availability
        .clone()
}

async fn generate(app: &TestApp, request: serde_json::Value) -> Result<ImageResult, UserError> {
    let res = app
        .generate_request(serde_json::json!({ "request": request }))
        .await;
    let ok = res.status() == 200;
    let text = body_text(res).await;
    if ok {
        Ok(serde_json::from_str(&text).unwrap())
    } else {
        Err(serde_json::from_str(&text).unwrap())
    }
}

async fn run_check(app: &TestApp) -> bool {
    let ids: Vec<String> = app
        .state
        .config
        .models
        .models
        .iter()
        .map(|m| m.id.clone())
        .collect();
    server::model_check::check(
        app.state.studio.client(),
        &ids,
        app.state.studio.availability(),
    )
    .await
}

#[tokio::test]
async fn the_model_check_marks_the_models_the_key_cannot_see_and_jobs_refuse_them() {
    let app = app(SimConfig {
        listed: Some(vec![NB21.into(), PRO.into()]),
        ..SimConfig::default()
    })
    .await;
    let before = server_info(&app).await;
    assert_eq!(availability(&before, NB21), Availability::Unchecked);

    assert!(run_check(&app).await, "the listing is read, every page");
    let info = server_info(&app).await;
    assert_eq!(availability(&info, NB21), Availability::Available);
    assert_eq!(availability(&info, PRO), Availability::Available);
    for hidden in [FLASH, LITE] {
        match availability(&info, hidden) {
            Availability::Unavailable { reason } => {
                assert!(reason.contains("does not list"), "{reason}")
            }
            other => panic!("{hidden}: {other:?}"),
        }
    }

    // A job on a model the key cannot see is refused before anything is spent.
    let calls = app.sim.calls();
    let e = generate(&app, serde_json::json!({"prompt": "a kite", "model": LITE}))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::ModelUnavailable);
    assert!(e.message.contains("Nano Banana 2 Lite"), "{}", e.message);
    assert!(
        e.message.contains("such as Nano Banana 2.1"),
        "{}",
        e.message
    );
    assert_eq!(app.sim.calls(), calls, "no call was made");
}

#[tokio::test]
async fn a_failed_check_changes_nothing_and_is_not_fatal() {
    let app = app(SimConfig::default()).await;
    assert!(run_check(&app).await);
    let mut config = gemini::ClientConfig::new(
        "http://127.0.0.1:9".parse().unwrap(),
        secrecy::SecretString::from("k"),
    );
    config.connect_timeout = std::time::Duration::from_secs(2);
    let unreachable = gemini::Client::new(config).unwrap();
    let ids = vec![NB21.to_owned()];
    assert!(!server::model_check::check(&unreachable, &ids, app.state.studio.availability()).await);
    assert_eq!(
        availability(&server_info(&app).await, NB21),
        Availability::Available,
        "what was known stays"
    );
}

#[tokio::test]
async fn a_retired_model_gets_its_own_message_and_is_marked_unavailable() {
    let app = app(SimConfig {
        retired: vec![FLASH.into()],
        ..SimConfig::default()
    })
    .await;
    let res = app.generate_with("a lighthouse", FLASH).await;
    assert_eq!(res.status(), 422);
    let e: UserError = serde_json::from_str(&body_text(res).await).unwrap();
    assert_eq!(e.kind, ErrorKind::ModelUnavailable);
    assert!(
        e.message
            .starts_with("Nano Banana 2 (gemini-3.1-flash-image) was retired or is not available to this server's key"),
        "{}",
        e.message
    );
    assert!(!e.message.contains("NOT_FOUND") && !e.message.contains("v1beta"));
    assert!(matches!(
        availability(&server_info(&app).await, FLASH),
        Availability::Unavailable { .. }
    ));
    let calls = app.sim.calls();
    assert_eq!(app.generate_with("again", FLASH).await.status(), 422);
    assert_eq!(
        app.sim.calls(),
        calls,
        "known unavailable: not called again"
    );
}

#[tokio::test]
async fn thinking_and_grounding_are_sent_and_their_tokens_and_searches_are_charged() {
    let app = app(SimConfig::default()).await;
    let plain = generate(
        &app,
        serde_json::json!({"prompt": "the Eiffel tower at night", "model": NB21}),
    )
    .await
    .unwrap();
    let deep = generate(
        &app,
        serde_json::json!({"prompt": "the Eiffel tower at night", "model": NB21,
            "thinking_level": "high", "grounding": true}),
    )
    .await
    .unwrap();
    let (plain_cost, deep_cost) = (plain.cost_usd.unwrap(), deep.cost_usd.unwrap());
    let record = app.state.studio.store().get(&deep.id).unwrap().unwrap();
    assert_eq!(record.thinking_level.as_deref(), Some("high"));
    assert!(record.grounded);
    assert_eq!(record.search_queries, 1);
    // 2.1: thinking bills as text output at $7.50/M; a search costs $14 per thousand.
    let extra_thinking = f64::from(record.thoughts_tokens) * 7.5 / 1e6
        - f64::from(
            app.state
                .studio
                .store()
                .get(&plain.id)
                .unwrap()
                .unwrap()
                .thoughts_tokens,
        ) * 7.5
            / 1e6;
    assert!(
        (deep_cost - plain_cost - extra_thinking - 0.014).abs() < 1e-9,
        "plain {plain_cost}, deep {deep_cost}, thinking {extra_thinking}"
    );
    let grounding = deep.grounding.unwrap();
    assert_eq!(grounding.queries, ["the Eiffel tower at night"]);
    assert!(
        grounding
            .sources
            .iter()
            .all(|s| s.uri.starts_with("https://"))
    );
    assert!(grounding.search_suggestions);

    // Google's suggestions are served apart, sandboxed, framed only by GemFlash's pages.
    let res = app.get(&format!("/images/{}/search", deep.id)).await;
    assert_eq!(res.status(), 200);
    let h = res.headers().clone();
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.starts_with("sandbox allow-popups"), "{csp}");
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("script-src"),
        "{csp}"
    );
    assert_eq!(h["x-frame-options"], "SAMEORIGIN");
    assert!(body_text(res).await.contains("class=\"chip\""));
    assert_eq!(
        app.get(&format!("/images/{}/search", plain.id))
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn options_a_model_does_not_take_are_refused_by_name() {
    let app = app(SimConfig::default()).await;
    let e = generate(
        &app,
        serde_json::json!({"prompt": "x", "model": NB21, "thinking_level": "low"}),
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadRequest);
    assert!(e.message.contains("minimal, medium, high"), "{}", e.message);
    let e = generate(
        &app,
        serde_json::json!({"prompt": "x", "model": LITE, "grounding": true}),
    )
    .await
    .unwrap_err();
    assert!(e.message.contains("cannot search Google"), "{}", e.message);
    let e = generate(
        &app,
        serde_json::json!({"prompt": "x", "model": NB21, "image_size": "512"}),
    )
    .await
    .unwrap_err();
    assert!(e.message.contains("512"), "2.1 has no 512: {}", e.message);
}

/// The events of a streamed job, in order.
async fn stream(
    app: &TestApp,
    path: &str,
    req: axum::http::request::Builder,
    body: Body,
) -> Vec<JobEvent> {
    let res = app.send(req.uri(path).body(body).unwrap()).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-accel-buffering"], "no");
    let text = body_text(res).await;
    assert!(text.is_ascii());
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn a_streamed_generation_shows_its_thoughts_before_its_image() {
    let app = app(SimConfig::default()).await;
    let body = serde_json::json!({"request": {"prompt": "a quiet harbour", "model": NB21}});
    let events = stream(
        &app,
        "/api/generate_stream",
        post("/").header("content-type", "application/json"),
        Body::from(body.to_string()),
    )
    .await;
    assert!(
        matches!(events[0], JobEvent::Calling { attempt: 1, of: 5 }),
        "{events:?}"
    );
    let thought = events
        .iter()
        .position(|e| matches!(e, JobEvent::Thought { .. }))
        .expect("a thought summary");
    let done = events
        .iter()
        .position(|e| matches!(e, JobEvent::Done { .. }))
        .expect("the image");
    assert!(thought < done);
    assert_eq!(done, events.len() - 1, "the result ends the stream");
    let JobEvent::Done { result } = &events[done] else {
        unreachable!()
    };
    assert!(app.state.studio.store().get(&result.id).unwrap().is_some());

    // A failure ends the stream with the kind's own sentence.
    let body =
        serde_json::json!({"request": {"prompt": "a cat [sim:image-blocked]", "model": NB21}});
    let events = stream(
        &app,
        "/api/generate_stream",
        post("/").header("content-type", "application/json"),
        Body::from(body.to_string()),
    )
    .await;
    let Some(JobEvent::Failed { error }) = events.last() else {
        panic!("{events:?}")
    };
    assert_eq!(error.kind, ErrorKind::ImageBlocked);
    assert!(!error.message.contains("Prohibited Use"));
}

fn png(image: &DynamicImage) -> Vec<u8> {
    engine::input::clean_png(image)
}

/// A mask of `w`×`h` painted in the box `x0..x1, y0..y1`.
fn mask(w: u32, h: u32, (x0, x1, y0, y1): (u32, u32, u32, u32)) -> Vec<u8> {
    png(&DynamicImage::ImageLuma8(GrayImage::from_fn(
        w,
        h,
        |x, y| {
            Luma([if (x0..x1).contains(&x) && (y0..y1).contains(&y) {
                255
            } else {
                0
            }])
        },
    )))
}

async fn edit_stored(
    app: &TestApp,
    source: &str,
    prompt: &str,
    mask_png: &[u8],
    fresh: bool,
) -> ImageResult {
    let mut fields: Vec<(&str, &[u8])> = vec![
        ("prompt", prompt.as_bytes()),
        ("model", NB21.as_bytes()),
        ("source_id", source.as_bytes()),
        ("mask", mask_png),
    ];
    if fresh {
        fields.push(("conversation", b"fresh"));
    }
    let res = app.edit(&fields).await;
    let status = res.status();
    let text = body_text(res).await;
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

fn stored_pixels(app: &TestApp, id: &str) -> DynamicImage {
    let store = app.state.studio.store();
    let record = store.get(id).unwrap().unwrap();
    let bytes = store
        .read(&record, engine::store::FileKind::Image)
        .unwrap()
        .unwrap();
    image::load_from_memory(&bytes).unwrap()
}

#[tokio::test]
async fn a_conversation_replays_its_turns_with_their_signatures_and_branches_replay_only_theirs() {
    let app = app(SimConfig::default()).await;
    // Turn 1: a generation on 2.1 (which refuses a replayed turn without its signatures).
    let first = generate(
        &app,
        serde_json::json!({"prompt": "a red boat on a lake", "model": NB21, "aspect_ratio": "1:1"}),
    )
    .await
    .unwrap();
    assert_eq!(first.context_turns, 0);
    let (w, h) = (first.width, first.height);
    let region = (w / 4, w / 2, h / 4, h / 2);
    let square = mask(w, h, region);

    // Turn 2 continues turn 1; turn 3 continues both.
    let second = edit_stored(&app, &first.id, "make the boat blue", &square, false).await;
    assert_eq!(second.context_turns, 1);
    assert!(
        second
            .model_text
            .as_deref()
            .unwrap()
            .contains("the 1 earlier turn")
    );
    let third = edit_stored(&app, &second.id, "add a white sail", &square, false).await;
    assert_eq!(third.context_turns, 2);
    assert!(
        third
            .model_text
            .as_deref()
            .unwrap()
            .contains("the 2 earlier turns")
    );
    let record = app.state.studio.store().get(&third.id).unwrap().unwrap();
    assert_eq!(record.context_turns, 2);

    // The model's image depends on what it was sent: inside the mask, turn 3's pixels are the
    // inverted source marked by the two turns of context.
    let (before, after) = (
        stored_pixels(&app, &second.id),
        stored_pixels(&app, &third.id),
    );
    let (cx, cy) = ((region.0 + region.1) / 2, (region.2 + region.3) / 2);
    let inverted = before.get_pixel(cx, cy).0;
    let expected = gemini_sim_marked([255 - inverted[0], 255 - inverted[1], 255 - inverted[2]], 2);
    let got = after.get_pixel(cx, cy).0;
    for c in 0..3 {
        assert!(
            (i16::from(got[c]) - i16::from(expected[c])).abs() <= 6,
            "channel {c}: got {got:?}, expected about {expected:?}"
        );
    }
    // ... and nothing outside the mask changed, turn after turn.
    for (x, y, p) in before.pixels() {
        let inside = (region.0..region.1).contains(&x) && (region.2..region.3).contains(&y);
        if !inside {
            assert_eq!(
                after.get_pixel(x, y),
                p,
                "({x},{y}) changed outside the mask"
            );
        }
    }

    // A branch from turn 1 sends only turn 1; a fresh start sends none.
    let branch = edit_stored(&app, &first.id, "make the boat green", &square, false).await;
    assert_eq!(branch.context_turns, 1);
    let fresh = edit_stored(&app, &second.id, "make it night", &square, true).await;
    assert_eq!(fresh.context_turns, 0);
    assert!(fresh.model_text.is_none());
}

/// The simulator's mark of `turns` of context on a pixel (see `gemini_sim`'s renderer).
fn gemini_sim_marked(rgb: [u8; 3], turns: u8) -> [u8; 3] {
    let k = turns.wrapping_mul(0x25);
    [rgb[0] ^ k, rgb[1] ^ k, rgb[2] ^ k]
}

#[tokio::test]
async fn a_model_that_keeps_no_conversation_is_sent_the_image_alone() {
    let app = app(SimConfig::default()).await;
    let first = generate(
        &app,
        serde_json::json!({"prompt": "a teapot", "model": LITE}),
    )
    .await
    .unwrap();
    let res = app
        .edit(&[
            ("prompt", b"make it gold"),
            ("model", LITE.as_bytes()),
            ("source_id", first.id.as_bytes()),
        ])
        .await;
    let text = body_text(res).await;
    let result: ImageResult = serde_json::from_str(&text).unwrap();
    assert_eq!(result.context_turns, 0, "Lite is not meant for multi-turn");
}
