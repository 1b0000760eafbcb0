//! The state every handler shares: the configuration, the Leptos options, and the public view
//! of the configuration that pages show. Built once at start-up; cheap to clone.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use protocol::{ServerInfo, Upstream};

use crate::config::Config;

/// Shared, immutable application state.
#[derive(Clone, Debug)]
pub struct AppState {
    pub config: Arc<Config>,
    pub leptos_options: LeptosOptions,
    /// What the browser may know of the configuration; computed once.
    pub server_info: Arc<ServerInfo>,
}

impl AppState {
    pub fn new(config: Config, leptos_options: LeptosOptions) -> Self {
        let server_info = Arc::new(server_info(&config));
        Self {
            config: Arc::new(config),
            leptos_options,
            server_info,
        }
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// The browser's view of the configuration: models, upstream, whether a key is set.
fn server_info(config: &Config) -> ServerInfo {
    ServerInfo {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        upstream: if config.has_api_key() {
            Upstream::Gemini
        } else {
            Upstream::Simulator
        },
        key_configured: config.has_api_key(),
        models: config.models.to_protocol(),
        default_model: config.models.default.clone(),
    }
}
