//! The app attacked as the issue that found its gaps did, through the real router and the
//! simulator over real HTTP: a hostile upstream quoting the key, a budget raced by many
//! clients, requests for another host (DNS rebinding), forged request ids, and the bounds on
//! pixels, memory, storage, uploads and one client's share.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::{net::SocketAddr, time::Duration};

use axum::{Router, body::Body, extract::connect_info::MockConnectInfo, http::Request};
use common::{TestApp, app, app_with, body_bytes, body_text, multipart, post};
use image::{DynamicImage, Rgb, RgbImage};
use protocol::{ErrorKind, UserError};
use tower::ServiceExt;

/// A key shaped like Google's, so both the configured-key scrub and the shape scrub apply
/// (made of pieces, so no key-shaped literal sits in the repository).
const KEY: &str = concat!("AI", "za", "SyD0-CanaryKeyForHostileTests-00000");

async fn error_of(res: axum::http::Response<Body>) -> (u16, UserError) {
    let status = res.status().as_u16();
    let text = body_text(res).await;
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}")),
    )
}

fn generate_request(prompt: &str) -> Request<Body> {
    let body = serde_json::json!({ "request": {
        "prompt": prompt, "model": "gemini-3.1-flash-image", "aspect_ratio": "1:1", "image_size": null
    }});
    post("/api/generate_image")
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// The app as seen through a connection from `peer`.
fn behind(app: &TestApp, peer: &str) -> Router {
    app.router
        .clone()
        .layer(MockConnectInfo(peer.parse::<SocketAddr>().unwrap()))
}

fn png(width: u32, height: u32) -> Vec<u8> {
    engine::input::clean_png(&DynamicImage::ImageRgb8(RgbImage::from_fn(
        width,
        height,
        |x, y| Rgb([(x % 251) as u8, (y % 241) as u8, 90]),
    )))
}

// 1. Upstream text is data, not a message.

#[tokio::test]
async fn no_upstream_text_that_quotes_the_key_reaches_the_browser() {
    let app = app_with(&[("GEMINI_API_KEY", KEY), ("GEMFLASH_UPSTREAM_ATTEMPTS", "1")]).await;
    let cases = [
        ("suspended", 502, ErrorKind::Misconfigured),
        ("echo-key-400", 400, ErrorKind::BadRequest),
        ("echo-key-500", 503, ErrorKind::Unavailable),
        ("echo-key-blocked", 422, ErrorKind::ImageBlocked),
        ("echo-key-text", 422, ErrorKind::NoImage),
    ];
    for (fault, status, kind) in cases {
        let res = app.generate(&format!("a cat [sim:{fault}]")).await;
        let headers = format!("{:?}", res.headers());
        let (got, error) = error_of(res).await;
        assert_eq!((got, error.kind), (status, kind), "{fault}: {error:?}");
        for text in [&headers, &error.message] {
            assert!(!text.contains(KEY), "{fault}: the key reached the browser");
            assert!(!text.contains("AIza"), "{fault}: a key-shaped word: {text}");
            assert!(!text.contains("api_key"), "{fault}: upstream words: {text}");
        }
    }
    // The suspended key's answer says what happened, in GemFlash's words.
    let (_, error) = error_of(app.generate("x [sim:suspended]").await).await;
    assert!(error.message.contains("suspended"), "{}", error.message);

    // A good image with words that quote the key: the words come through scrubbed.
    let res = app.generate("a cat [sim:echo-key-image]").await;
    assert_eq!(res.status(), 200);
    let text = body_text(res).await;
    assert!(!text.contains(KEY) && !text.contains("AIza"), "{text}");
    assert!(text.contains("[redacted]"), "{text}");
}

// 2 (in part; the memory bound itself is tested against the binary in memory.rs).

#[tokio::test]
async fn pixels_are_limited_per_request_not_only_per_image() {
    let app = app_with(&[
        ("GEMFLASH_MAX_IMAGE_MEGAPIXELS", "1"),
        ("GEMFLASH_MAX_REQUEST_MEGAPIXELS", "2"),
    ])
    .await;
    let near = png(1000, 900); // 0.9 MP each: every one under the per-image limit
    let fields: Vec<(&str, &[u8])> = [("prompt", &b"x"[..]), ("model", b"gemini-3.1-flash-image")]
        .into_iter()
        .chain(std::iter::repeat_n(("image", near.as_slice()), 3))
        .collect();
    let (status, error) = error_of(app.edit(&fields).await).await;
    assert_eq!(
        (status, error.kind),
        (413, ErrorKind::TooLarge),
        "{error:?}"
    );
    assert!(
        error.message.contains("2.0 megapixels"),
        "{}",
        error.message
    );
    assert_eq!(app.sim.calls(), 0, "refused before any call");
    let two = &fields[..4];
    let res = app.edit(two).await;
    let status = res.status();
    assert_eq!(status, 200, "two images fit: {}", body_text(res).await);
}

#[tokio::test]
async fn an_edit_larger_than_the_memory_budget_is_refused_before_anything_decodes() {
    let app = app_with(&[("GEMFLASH_IMAGE_MEMORY_MB", "64")]).await;
    let big = png(4000, 3000);
    let (status, error) = error_of(
        app.edit(&[
            ("prompt", b"x"),
            ("model", b"gemini-3.1-flash-image"),
            ("image", &big),
        ])
        .await,
    )
    .await;
    assert_eq!(
        (status, error.kind),
        (413, ErrorKind::TooLarge),
        "{error:?}"
    );
    assert!(error.message.contains("memory"), "{}", error.message);
    assert_eq!(app.sim.calls(), 0);
}

#[tokio::test]
async fn a_hostile_upstream_answer_too_big_or_a_bomb_is_refused_and_the_server_goes_on() {
    let app = app_with(&[("GEMFLASH_UPSTREAM_ATTEMPTS", "1")]).await;
    for fault in ["huge", "bomb"] {
        let (status, error) = error_of(app.generate(&format!("x [sim:{fault}]")).await).await;
        assert_eq!(
            (status, error.kind),
            (503, ErrorKind::Unavailable),
            "{fault}: {error:?}"
        );
    }
    assert_eq!(app.generate("still fine").await.status(), 200);
}

#[tokio::test]
async fn an_upload_must_arrive_within_its_deadline_however_steadily() {
    let app = app_with(&[("GEMFLASH_UPLOAD_DEADLINE_SECS", "5")]).await;
    let (content_type, body) = multipart(&[
        ("prompt", b"x"),
        ("model", b"gemini-3.1-flash-image"),
        ("image", &vec![7u8; 64 * 1024]),
    ]);
    // 1 KB every 100 ms: never a stall, but 64 s in all.
    let chunks = body.chunks(1024).map(<[u8]>::to_vec).collect::<Vec<_>>();
    let trickle = futures_util::stream::unfold(chunks.into_iter(), |mut rest| async move {
        let chunk = rest.next()?;
        tokio::time::sleep(Duration::from_millis(100)).await;
        Some((Ok::<_, std::io::Error>(chunk), rest))
    });
    let started = std::time::Instant::now();
    let res = app
        .send(
            post("/api/edit_image")
                .header("content-type", content_type)
                .header("accept", "application/json")
                .body(Body::from_stream(trickle))
                .unwrap(),
        )
        .await;
    let (status, error) = error_of(res).await;
    assert_eq!(
        (status, error.kind),
        (408, ErrorKind::RequestTimeout),
        "{error:?}"
    );
    assert!(error.message.contains("5 seconds"), "{}", error.message);
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(15),
        "stopped at the deadline: {took:?}"
    );
}

// 3. The daily budget holds under concurrency, and every billed answer is charged.

#[tokio::test]
async fn a_budget_of_three_images_gives_exactly_three_to_many_racing_clients() {
    let app = app_with(&[("GEMFLASH_DAILY_BUDGET_IMAGES", "3")]).await;
    let requests = (0..24).map(|i| {
        let router = behind(&app, &format!("198.51.100.{}:5000", i % 8));
        async move {
            router
                .oneshot(generate_request(&format!("race {i}")))
                .await
                .unwrap()
        }
    });
    let answers = futures_util::future::join_all(requests).await;
    let mut made = 0;
    for res in answers {
        let (status, body) = (res.status(), body_bytes(res).await);
        match status.as_u16() {
            200 => made += 1,
            429 => {
                let error: UserError = serde_json::from_slice(&body).unwrap();
                assert_eq!(error.kind, ErrorKind::BudgetExhausted);
            }
            other => panic!("unexpected {other}: {}", String::from_utf8_lossy(&body)),
        }
    }
    assert_eq!(made, 3, "exactly the budget");
    assert_eq!(app.sim.calls(), 3, "no call past the budget reached Gemini");
    let spent = app
        .state
        .studio
        .store()
        .spend(&engine::clock::today())
        .unwrap();
    assert_eq!(spent.images, 3);
}

#[tokio::test]
async fn an_answer_without_an_image_is_still_charged() {
    let budgeted = app_with(&[("GEMFLASH_DAILY_BUDGET_USD", "100")]).await;
    for fault in ["text-only", "image-blocked", "prompt-blocked"] {
        let res = budgeted.generate(&format!("x [sim:{fault}]")).await;
        assert_eq!(res.status(), 422, "{fault}");
    }
    let spent = budgeted
        .state
        .studio
        .store()
        .spend(&engine::clock::today())
        .unwrap();
    assert_eq!(spent.images, 0, "no image was made");
    assert!(
        spent.usd > 0.0,
        "the tokens Google billed are charged: {spent:?}"
    );
    // And without a budget set, too: spending is recorded all the same.
    let unlimited = app().await;
    assert_eq!(unlimited.generate("x [sim:text-only]").await.status(), 422);
    let spent = unlimited
        .state
        .studio
        .store()
        .spend(&engine::clock::today())
        .unwrap();
    assert!(spent.usd > 0.0, "{spent:?}");
}

// 4. DNS rebinding: requests for another host are refused before anything runs.

#[tokio::test]
async fn requests_for_another_host_are_refused_on_every_route() {
    let app = app().await;
    let id = app.store_image("kept");
    let rebound = |req: axum::http::request::Builder| {
        req.header("host", "rebind.attacker.example:3000")
            .header("sec-fetch-site", "same-origin")
    };
    let requests = [
        rebound(Request::get("/gallery")).body(Body::empty()).unwrap(),
        rebound(Request::get(format!("/images/{id}")))
            .body(Body::empty())
            .unwrap(),
        rebound(Request::get("/healthz")).body(Body::empty()).unwrap(),
        rebound(Request::post("/api/list_gallery"))
            .header("content-type", "application/json")
            .body(Body::from(r#"{"query":{}}"#))
            .unwrap(),
        rebound(Request::post("/api/delete_image"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(format!("id={id}")))
            .unwrap(),
        rebound(Request::post("/api/generate_image"))
            .header("content-type", "application/json")
            .body(Body::from(
                r#"{"request":{"prompt":"x","model":"gemini-3.1-flash-image","aspect_ratio":null,"image_size":null}}"#,
            ))
            .unwrap(),
    ];
    for req in requests {
        let path = req.uri().path().to_owned();
        let (status, error) = error_of(app.send(req).await).await;
        assert_eq!(
            (status, error.kind),
            (421, ErrorKind::MisdirectedRequest),
            "{path}"
        );
    }
    assert!(
        app.state.studio.store().get(&id).unwrap().is_some(),
        "not deleted"
    );
    assert_eq!(app.sim.calls(), 0, "nothing spent");

    // No host at all is refused too.
    let res = app
        .bare_router
        .clone()
        .oneshot(Request::get("/gallery").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), 421);

    // The loopback names of the default origin, and listed hosts, are served.
    for host in ["localhost:3000", "127.0.0.1:3000", "[::1]:3000"] {
        let res = app
            .send(
                Request::get("/gallery")
                    .header("host", host)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(res.status(), 200, "{host}");
    }
    let listed = app_with(&[("GEMFLASH_ALLOWED_HOSTS", "gemflash.lan:3000")]).await;
    let res = listed
        .send(
            Request::get("/gallery")
                .header("host", "gemflash.lan:3000")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn an_origin_must_match_even_when_fetch_metadata_says_same_origin() {
    let app = app().await;
    let id = app.store_image("kept");
    let res = app
        .send(
            Request::post("/api/delete_image")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("accept", "application/json")
                .header("sec-fetch-site", "same-origin")
                .header("origin", "http://rebind.attacker.example:3000")
                .body(Body::from(format!("id={id}")))
                .unwrap(),
        )
        .await;
    let (status, error) = error_of(res).await;
    assert_eq!((status, error.kind), (403, ErrorKind::Forbidden));
    assert!(app.state.studio.store().get(&id).unwrap().is_some());
}

// 5. Forged request ids.

#[tokio::test]
async fn only_short_safe_request_ids_are_echoed() {
    let app = app().await;
    let send = |id: String| {
        let app = &app;
        async move {
            let res = app
                .send(
                    Request::get("/healthz")
                        .header("x-request-id", id)
                        .body(Body::empty())
                        .unwrap(),
                )
                .await;
            res.headers()["x-request-id"].to_str().unwrap().to_owned()
        }
    };
    assert_eq!(send("trace-42.a_b".into()).await, "trace-42.a_b");
    for forged in [
        "x".repeat(500),
        "id\" injected=\"1".to_owned(),
        "a b".to_owned(),
        "\u{7f}bell".to_owned(),
    ] {
        let Ok(value) = axum::http::HeaderValue::from_str(&forged) else {
            continue;
        };
        let echoed = send(value.to_str().unwrap_or_default().to_owned()).await;
        assert_ne!(echoed, forged);
        assert_eq!(echoed.len(), 36, "a fresh UUID: {echoed}");
        assert!(uuid_like(&echoed), "{echoed}");
    }
}

fn uuid_like(text: &str) -> bool {
    text.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') && text.matches('-').count() == 4
}

// Fair share and identity.

#[tokio::test]
async fn one_client_cannot_hold_every_upstream_slot() {
    let app = app_with(&[("GEMFLASH_MAX_JOBS_PER_CLIENT", "1")]).await;
    let a = behind(&app, "198.51.100.1:5000");
    let held = tokio::spawn({
        let a = a.clone();
        async move {
            a.oneshot(generate_request("hold [sim:slow]"))
                .await
                .unwrap()
        }
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while app.sim.calls() < 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "the slow call never started"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let res = a.oneshot(generate_request("another")).await.unwrap();
    assert!(res.headers().contains_key("retry-after"));
    let (status, error) = error_of(res).await;
    assert_eq!((status, error.kind), (429, ErrorKind::RateLimited));
    // Another client is served meanwhile.
    let b = behind(&app, "198.51.100.2:5000");
    assert_eq!(
        b.oneshot(generate_request("b")).await.unwrap().status(),
        200
    );
    held.abort();
}

#[tokio::test]
async fn ipv6_clients_share_a_limit_within_their_64() {
    let app = app_with(&[
        ("GEMFLASH_RATE_LIMIT_PER_MINUTE", "1"),
        ("GEMFLASH_RATE_LIMIT_BURST", "1"),
    ])
    .await;
    let call = |peer: &str| behind(&app, peer).oneshot(generate_request("v6"));
    assert_eq!(call("[2001:db8:1:2::1]:5000").await.unwrap().status(), 200);
    assert_eq!(
        call("[2001:db8:1:2:ffff::9]:5000").await.unwrap().status(),
        429,
        "the same /64"
    );
    assert_eq!(call("[2001:db8:1:3::1]:5000").await.unwrap().status(), 200);
}

#[tokio::test]
async fn forwarded_entries_with_ports_name_the_client_and_garbage_names_the_proxy() {
    let app = app_with(&[
        ("GEMFLASH_RATE_LIMIT_PER_MINUTE", "1"),
        ("GEMFLASH_RATE_LIMIT_BURST", "1"),
        ("GEMFLASH_TRUSTED_PROXIES", "10.0.0.0/8"),
    ])
    .await;
    let proxy = behind(&app, "10.0.0.1:443");
    let via = |xff: &str| {
        let mut req = generate_request("xff");
        req.headers_mut()
            .insert("x-forwarded-for", xff.parse().unwrap());
        proxy.clone().oneshot(req)
    };
    assert_eq!(via("203.0.113.5:40000").await.unwrap().status(), 200);
    assert_eq!(
        via("203.0.113.5:40001").await.unwrap().status(),
        429,
        "same client, new port"
    );
    // A client that puts garbage last cannot pick a fresh identity for each request: it is
    // counted as the proxy, and the proxy's one token goes to the first such request.
    assert_eq!(via("198.51.100.7, nonsense").await.unwrap().status(), 200);
    assert_eq!(via("198.51.100.8, nonsense").await.unwrap().status(), 429);
}

// Disk.

#[tokio::test]
async fn a_full_store_refuses_new_images_clearly_before_spending_and_says_so() {
    let app = app_with(&[
        ("GEMFLASH_STORAGE_MAX_GB", "0.00001"),
        ("GEMFLASH_METRICS_TOKEN", "metrics-token-0123456789"),
    ])
    .await;
    let (status, error) = error_of(app.generate("a cat").await).await;
    assert_eq!(
        (status, error.kind),
        (507, ErrorKind::StorageFull),
        "{error:?}"
    );
    assert!(
        error.message.contains("storage is full"),
        "{}",
        error.message
    );
    assert_eq!(
        app.sim.calls(),
        0,
        "nothing is spent on an image that cannot be kept"
    );
    let home = body_text(app.get("/").await).await;
    assert!(
        home.contains("data-testid=\"storage\""),
        "the start page shows storage"
    );
    assert!(home.contains("Full"), "and that it is full");
    let metrics = body_text(
        app.send(
            Request::get("/metrics")
                .header("authorization", "Bearer metrics-token-0123456789")
                .body(Body::empty())
                .unwrap(),
        )
        .await,
    )
    .await;
    assert!(
        metrics.contains("gemflash_storage_quota_bytes 10737"),
        "{metrics}"
    );
    assert!(metrics.contains("gemflash_storage_used_bytes"), "{metrics}");
}

// Small ones.

#[tokio::test]
async fn readyz_probes_the_disk_at_most_every_few_seconds() {
    let app = app().await;
    assert_eq!(app.get("/readyz").await.status(), 200);
    // The directory becomes unwritable: a cached answer stands for a few seconds...
    std::fs::remove_dir_all(app.data_dir.path()).unwrap();
    std::fs::write(app.data_dir.path(), b"x").unwrap();
    assert_eq!(app.get("/readyz").await.status(), 200, "no write per call");
    // ...and then the probe runs again.
    tokio::time::sleep(server::health::PROBE_TTL + Duration::from_millis(200)).await;
    assert_eq!(app.get("/readyz").await.status(), 503);
}

#[tokio::test]
async fn pages_carry_the_headers_an_outside_scanner_asks_for() {
    let app = app().await;
    let res = app.get("/").await;
    let h = res.headers();
    assert_eq!(h["x-xss-protection"], "0");
    assert_eq!(h["pragma"], "no-cache");
    assert_eq!(h["cache-control"], "no-store, max-age=0");
}
