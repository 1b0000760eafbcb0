//! A test-app builder: the real router over a configuration made from explicit variables (so
//! tests never depend on the developer's environment or `.env`), a fresh data directory, and a
//! Gemini simulator of its own over real HTTP.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use axum::{
    Router,
    body::Body,
    http::{Request, Response},
};
use http_body_util::BodyExt;
use leptos::config::LeptosOptions;
use server::{AppState, config::Config, router};
use tower::ServiceExt;

/// The public origin of a test app (the default: the default listen address).
pub const ORIGIN: &str = "http://127.0.0.1:3000";
/// The host name requests to a test app are addressed to, as a browser at [`ORIGIN`] sends it.
pub const HOST: &str = "127.0.0.1:3000";

/// A POST as the app's own pages send it: from its origin (anything else is refused as CSRF).
pub fn post(uri: &str) -> axum::http::request::Builder {
    Request::post(uri).header("origin", ORIGIN)
}

pub struct TestApp {
    /// The app as clients reach it: every request carries a `Host` (as every HTTP/1.1 client
    /// sends one), [`HOST`] unless the test set another.
    pub router: Router,
    /// The app itself, for the tests of requests without a `Host`.
    pub bare_router: Router,
    pub state: AppState,
    pub data_dir: tempfile::TempDir,
    pub sim: gemini_sim::SimHandle,
}

/// Builds the app with these variables on top of a fresh data directory and a simulator.
pub async fn app_with(vars: &[(&str, &str)]) -> TestApp {
    app_with_sim(gemini_sim::SimConfig::default(), vars).await
}

/// [`app_with`] against a simulator set up as `sim` says.
pub async fn app_with_sim(sim: gemini_sim::SimConfig, vars: &[(&str, &str)]) -> TestApp {
    let options = LeptosOptions::builder()
        .output_name("gemflash")
        .site_root("target/site")
        .build();
    app_with_site(sim, vars, options).await
}

/// [`app_with_sim`] serving the built site `options` describe.
pub async fn app_with_site(
    sim: gemini_sim::SimConfig,
    vars: &[(&str, &str)],
    options: LeptosOptions,
) -> TestApp {
    let sim = gemini_sim::spawn(sim).await.unwrap();
    let data_dir = tempfile::tempdir().unwrap();
    let mut map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    map.entry("GEMFLASH_DATA_DIR".into())
        .or_insert_with(|| data_dir.path().to_str().unwrap().to_owned());
    map.insert("GEMINI_BASE_URL".into(), sim.base_url());
    // Tests call far faster than a person, and from one address; the rate limit and the
    // per-client job cap have tests of their own.
    map.entry("GEMFLASH_RATE_LIMIT_PER_MINUTE".into())
        .or_insert_with(|| "0".into());
    map.entry("GEMFLASH_MAX_JOBS_PER_CLIENT".into())
        .or_insert_with(|| "64".into());
    let config = Config::from_lookup(|name| map.get(name).cloned()).unwrap();
    let state = AppState::new(config, options).unwrap();
    let bare_router = router(state.clone());
    TestApp {
        router: bare_router
            .clone()
            .layer(axum::middleware::map_request(with_host)),
        bare_router,
        state,
        data_dir,
        sim,
    }
}

/// A request as a client sends it: with a `Host`.
async fn with_host(mut req: Request<Body>) -> Request<Body> {
    if !req.headers().contains_key("host") {
        req.headers_mut()
            .insert("host", axum::http::HeaderValue::from_static(HOST));
    }
    req
}

pub async fn app() -> TestApp {
    app_with(&[]).await
}

impl TestApp {
    pub async fn send(&self, req: Request<Body>) -> Response<Body> {
        self.router.clone().oneshot(req).await.unwrap()
    }

    pub async fn get(&self, uri: &str) -> Response<Body> {
        self.send(Request::get(uri).body(Body::empty()).unwrap())
            .await
    }
}

pub async fn body_bytes(res: Response<Body>) -> Vec<u8> {
    res.into_body().collect().await.unwrap().to_bytes().to_vec()
}

pub async fn body_text(res: Response<Body>) -> String {
    String::from_utf8(body_bytes(res).await).unwrap()
}

impl TestApp {
    /// `generate_image` with this prompt, as the editor sends it.
    pub async fn generate(&self, prompt: &str) -> Response<Body> {
        self.generate_with(prompt, "gemini-3.1-flash-image").await
    }

    pub async fn generate_with(&self, prompt: &str, model: &str) -> Response<Body> {
        let body = serde_json::json!({"request": {
            "prompt": prompt, "model": model, "aspect_ratio": "1:1", "image_size": null
        }});
        self.generate_request(body).await
    }

    /// `generate_image` with this JSON body.
    pub async fn generate_request(&self, body: serde_json::Value) -> Response<Body> {
        self.send(
            post("/api/generate_image")
                .header("content-type", "application/json")
                .header("accept", "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
    }

    /// `edit_image` with these multipart fields (`image` and `mask` go as files).
    pub async fn edit(&self, fields: &[(&str, &[u8])]) -> Response<Body> {
        let (content_type, body) = multipart(fields);
        self.send(
            post("/api/edit_image")
                .header("content-type", content_type)
                .header("accept", "application/json")
                .body(Body::from(body))
                .unwrap(),
        )
        .await
    }
}

/// A multipart body with text fields and files.
pub fn multipart(fields: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "gemflash-test-boundary";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        if matches!(*name, "image" | "mask") {
            body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{name}.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
            );
        } else {
            body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            );
        }
        body.extend_from_slice(value);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

impl TestApp {
    /// Puts a small generated image straight into the store (past the server functions, which
    /// some tests have closed) and returns its id.
    pub fn store_image(&self, prompt: &str) -> String {
        let pixels = image::DynamicImage::ImageRgb8(image::RgbImage::new(4, 4));
        let new = engine::studio::finish(
            engine::store::NewImage::new(
                engine::store::ImageKind::Generated,
                prompt,
                "gemini-3.1-flash-image",
            ),
            &pixels,
        );
        self.state.studio.store().put(new).unwrap().id
    }
}
