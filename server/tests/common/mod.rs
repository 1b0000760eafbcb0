//! A test-app builder: the real router over a configuration made from explicit variables, so
//! tests never depend on the developer's environment or `.env`.

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

pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    _data_dir: tempfile::TempDir,
}

/// Builds the app with these variables on top of a fresh, writable data directory.
pub fn app_with(vars: &[(&str, &str)]) -> TestApp {
    let data_dir = tempfile::tempdir().unwrap();
    let mut map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    map.entry("GEMFLASH_DATA_DIR".into())
        .or_insert_with(|| data_dir.path().to_str().unwrap().to_owned());
    let config = Config::from_lookup(|name| map.get(name).cloned()).unwrap();
    let options = LeptosOptions::builder()
        .output_name("gemflash")
        .site_root("target/site")
        .build();
    let state = AppState::new(config, options);
    TestApp {
        router: router(state.clone()),
        state,
        _data_dir: data_dir,
    }
}

pub fn app() -> TestApp {
    app_with(&[])
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

pub async fn body_text(res: Response<Body>) -> String {
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}
