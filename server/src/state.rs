//! The state every handler shares: the configuration, the Leptos options, the public view of
//! the configuration that pages show, and the image jobs. Built once at start-up; cheap to
//! clone.

use std::{sync::Arc, time::Duration};

use axum::extract::FromRef;
use engine::{
    input::InputLimits,
    memory::MemoryBudget,
    store::{ImageStore, Store},
    studio::Studio,
};
use leptos::config::LeptosOptions;
use protocol::{ServerInfo, Upstream, limits::Limits};
use secrecy::SecretString;

use crate::config::{AccessMode, Config};

/// How long a job waits for image memory before it is told the server is busy.
const MEMORY_WAIT: Duration = Duration::from_secs(10);

/// Shared, immutable application state.
#[derive(Clone, Debug)]
pub struct AppState {
    pub config: Arc<Config>,
    pub leptos_options: LeptosOptions,
    /// What the browser may know of the configuration; computed once.
    pub server_info: Arc<ServerInfo>,
    /// The image jobs, with the Gemini client and the store.
    pub studio: Studio,
}

/// Why the state could not be built.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot open the image store in the data directory: {0}")]
    Store(#[from] engine::store::StoreError),
    #[error("cannot build the Gemini client: {0}")]
    Gemini(#[from] gemini::GeminiError),
}

impl AppState {
    /// Builds the state: opens the store in the data directory and the Gemini client.
    /// Without a key, `config.gemini.base_url` must already point at the simulator.
    pub fn new(config: Config, leptos_options: LeptosOptions) -> Result<Self, StateError> {
        let server_info = Arc::new(server_info(&config));
        // Without a key the built-in simulator answers; it checks a key only when told one
        // (GEMINI_SIM_KEY), and then this is the one it accepts.
        let key = config.gemini.api_key.clone().unwrap_or_else(|| {
            SecretString::from(
                config
                    .gemini
                    .simulator
                    .accepted_key
                    .clone()
                    .unwrap_or_else(|| "simulator-needs-no-key".to_owned()),
            )
        });
        let mut client_config = gemini::ClientConfig::new(config.gemini.base_url.clone(), key);
        client_config.prices = config.models.prices();
        client_config.retry.max_attempts = config.gemini.attempts;
        client_config.deadline = config.gemini.deadline;
        let client = gemini::Client::new(client_config)?;
        let store =
            Store::open(&config.server.data_dir)?.with_quota(config.images.storage_max_bytes);
        // What an interrupted write left behind goes before anything is served.
        let repaired = store.repair()?;
        if repaired != Default::default() {
            tracing::info!(
                temp_files = repaired.temp_files,
                orphan_files = repaired.orphan_files,
                "store repaired after an interrupted write"
            );
        }
        let store: Arc<dyn ImageStore> = Arc::new(store);
        let limits = InputLimits {
            max_pixels: config.images.max_image_pixels,
            max_request_pixels: config.images.max_request_pixels,
            ..InputLimits::default()
        };
        let studio = Studio::new(
            client,
            store,
            config.models.to_rules(),
            limits,
            config.images.feather_px,
        )
        .with_guard(config.spend.guard)
        .with_memory(MemoryBudget::new(config.images.memory_bytes, MEMORY_WAIT))
        .with_image_workers(config.images.workers)
        .with_conversation_tokens(config.gemini.conversation_tokens);
        Ok(Self {
            config: Arc::new(config),
            leptos_options,
            server_info,
            studio,
        })
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// The browser's view of the configuration: models, upstream, whether a key is set, limits.
fn server_info(config: &Config) -> ServerInfo {
    ServerInfo {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        upstream: if config.has_api_key() {
            Upstream::Gemini
        } else {
            Upstream::Simulator
        },
        key_configured: config.has_api_key(),
        // Each model's availability is filled in per request (the model check updates it).
        models: config
            .models
            .to_protocol(|_| protocol::Availability::Unchecked),
        default_model: config.models.default.clone(),
        sign_in: matches!(config.access.mode, AccessMode::Token { .. }),
        limits: Limits {
            max_image_pixels: config.images.max_image_pixels,
            max_request_pixels: config.images.max_request_pixels,
            ..Limits::default()
        },
        feather_px: config.images.feather_px,
        jobs_per_client: config.jobs_per_client(),
        storage: None,
    }
}
