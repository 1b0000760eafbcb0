//! An offline simulator of the Gemini image API.
//!
//! It speaks `POST /v1beta/models/{model}:generateContent` (and the same under `/v1/`) and
//! `:streamGenerateContent`
//! (`?alt=sse`, or a JSON array without it) with the real API's field names, output sizes,
//! token counts, validation and error bodies, and answers with deterministic images derived
//! from the inputs. Every failure shape can be asked for (see [`faults::Fault`]).
//!
//! It also lists its models (`GET /v1beta/models`, paged, with `supportedGenerationMethods`,
//! and `GET /v1beta/models/{id}`), and can be told which models a key sees and which are
//! retired ([`SimConfig::listed`], [`SimConfig::retired`], or the variables in [`vars`]).
//!
//! Tests start it in-process with [`spawn`] on a loopback port; `cargo run -p gemini-sim`
//! serves it alone; GemFlash starts it beside itself when no API key is configured.

pub mod errors;
pub mod faults;
pub mod models;
/// The images the simulator draws (public so tests can draw the same ones).
pub mod render;
mod respond;
pub mod validate;

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use axum::{
    Router,
    body::Bytes,
    extract::{DefaultBodyLimit, Path, Query, State},
    http::HeaderMap,
    response::Response,
    routing::{get, post},
};
use tokio::{net::TcpListener, task::JoinHandle};

/// How long the simulator takes to answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Latency {
    None,
    Fixed(Duration),
    /// A delay drawn evenly from the range, derived from the prompt (so it is repeatable).
    Range(Duration, Duration),
}

/// Simulator settings.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub latency: Latency,
    /// The one key accepted; `None` accepts any non-empty key.
    pub accepted_key: Option<String>,
    /// How long the `slow` fault waits before answering.
    pub slow: Duration,
    /// The models `models.list` shows this key, by id; `None` lists every model served. A
    /// model left out still answers (as a model hidden from a key's list may).
    pub listed: Option<Vec<String>>,
    /// Models that are retired: they answer 404 `NOT_FOUND` and are not listed.
    pub retired: Vec<String>,
    /// Generations are photo-sized: grain in every pixel, so a 1024×1024 PNG is about 3 MB
    /// (not the few kilobytes a smooth gradient compresses to). Sixteen are made per size,
    /// once, and served in turn, so a load test measures GemFlash rather than the simulator.
    pub grain: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            latency: Latency::None,
            accepted_key: None,
            slow: Duration::from_secs(600),
            listed: None,
            retired: Vec::new(),
            grain: false,
        }
    }
}

/// The environment variables the simulator reads (the standalone binary, and GemFlash's own
/// simulator when it runs without a key).
pub mod vars {
    /// The one key accepted (any non-empty key when unset).
    pub const KEY: &str = "GEMINI_SIM_KEY";
    /// Latency in milliseconds: `800`, or a range `500-2000`.
    pub const LATENCY_MS: &str = "GEMINI_SIM_LATENCY_MS";
    /// Comma-separated ids `models.list` shows (every model when unset).
    pub const MODELS: &str = "GEMINI_SIM_MODELS";
    /// Comma-separated ids that answer 404 as retired.
    pub const RETIRED: &str = "GEMINI_SIM_RETIRED";
    /// `1`: generated images carry photographic grain (photo-sized PNGs, for load tests).
    pub const GRAIN: &str = "GEMINI_SIM_GRAIN";
    /// Where the standalone binary listens (default `127.0.0.1:4100`).
    pub const ADDR: &str = "GEMINI_SIM_ADDR";
}

/// A simulator setting that cannot be used: which variable, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{var}: {problem}")]
pub struct SimConfigError {
    pub var: &'static str,
    pub problem: String,
}

impl SimConfig {
    /// These settings with any the environment gives (see [`vars`]) laid over them. `lookup`
    /// reads one variable; an empty value counts as unset. A bad value is named in the error.
    pub fn with_env(
        mut self,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, SimConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        if let Some(key) = get(vars::KEY) {
            self.accepted_key = Some(key.trim().to_owned());
        }
        if let Some(text) = get(vars::LATENCY_MS) {
            self.latency = parse_latency(&text).ok_or_else(|| SimConfigError {
                var: vars::LATENCY_MS,
                problem: format!("{text:?} is not N or MIN-MAX milliseconds"),
            })?;
        }
        let ids = |var: &'static str, text: String| -> Result<Vec<String>, SimConfigError> {
            let ids: Vec<String> = text
                .split(',')
                .map(|id| id.trim().trim_start_matches("models/").to_owned())
                .filter(|id| !id.is_empty())
                .collect();
            match ids.iter().find(|id| models::find(id).is_none()) {
                Some(unknown) => Err(SimConfigError {
                    var,
                    problem: format!(
                        "{unknown:?} is not a model the simulator serves ({})",
                        models::MODELS
                            .iter()
                            .map(|m| m.id)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                }),
                None => Ok(ids),
            }
        };
        if let Some(text) = get(vars::MODELS) {
            self.listed = Some(ids(vars::MODELS, text)?);
        }
        if let Some(text) = get(vars::RETIRED) {
            self.retired = ids(vars::RETIRED, text)?;
        }
        if let Some(text) = get(vars::GRAIN) {
            self.grain = match text.trim() {
                "1" | "true" | "yes" => true,
                "0" | "false" | "no" => false,
                other => {
                    return Err(SimConfigError {
                        var: vars::GRAIN,
                        problem: format!("{other:?} is not 1 or 0"),
                    });
                }
            };
        }
        Ok(self)
    }

    /// Whether `id` is retired here (the real API's retired ids always are).
    pub fn is_retired(&self, id: &str) -> bool {
        models::RETIRED.contains(&id) || self.retired.iter().any(|r| r == id)
    }

    /// Whether `models.list` shows `id`.
    pub fn lists(&self, id: &str) -> bool {
        !self.is_retired(id)
            && self
                .listed
                .as_ref()
                .is_none_or(|listed| listed.iter().any(|l| l == id))
    }
}

/// `800` (fixed) or `500-2000` (a range), in milliseconds.
pub fn parse_latency(text: &str) -> Option<Latency> {
    let ms = |s: &str| s.trim().parse::<u64>().ok().map(Duration::from_millis);
    match text.split_once('-') {
        Some((lo, hi)) => Some(Latency::Range(ms(lo)?, ms(hi)?)),
        None => Some(Latency::Fixed(ms(text)?)),
    }
}

/// Photo-sized generations are kept per width, height and whether they are JPEG.
type GrainKey = (u32, u32, bool);

#[derive(Debug)]
pub(crate) struct SimState {
    pub(crate) config: SimConfig,
    /// Failures served so far per prompt, for `fail-N`.
    pub(crate) failures: Mutex<HashMap<u64, u32>>,
    /// Calls received, for tests that count retries.
    pub(crate) calls: AtomicU64,
    /// What the last valid call sent, for tests of what reaches the model.
    pub(crate) last: Mutex<Option<SeenRequest>>,
    /// With grain: photo-sized generations made once per size and served in turn, so a load
    /// test measures GemFlash rather than the simulator's renderer and encoder.
    pub(crate) grainy: Mutex<HashMap<GrainKey, Vec<Arc<respond::Grainy>>>>,
}

/// What a call sent, as the model would see it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeenRequest {
    /// Each image of the last user turn, width and height, in order.
    pub images: Vec<(u32, u32)>,
    /// The aspect ratio asked for, if any.
    pub aspect_ratio: Option<String>,
}

/// The simulator's HTTP application.
pub fn router(config: SimConfig) -> Router {
    router_with_state(new_state(config))
}

fn new_state(config: SimConfig) -> Arc<SimState> {
    Arc::new(SimState {
        config,
        failures: Mutex::new(HashMap::new()),
        calls: AtomicU64::new(0),
        last: Mutex::new(None),
        grainy: Mutex::new(HashMap::new()),
    })
}

fn router_with_state(state: Arc<SimState>) -> Router {
    Router::new()
        // The real API serves the stable `v1` and the `v1beta` surface; SDKs use either.
        .route("/v1beta/models/{call}", post(call).get(get_model))
        .route("/v1/models/{call}", post(call).get(get_model))
        .route("/v1beta/models", get(list_models))
        .route("/v1/models", get(list_models))
        .layer(DefaultBodyLimit::max(110 * 1024 * 1024))
        .with_state(state)
}

async fn call(
    State(state): State<Arc<SimState>>,
    Path(call): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    state.calls.fetch_add(1, Ordering::Relaxed);
    respond::call(&state, &call, &query, &headers, &body).await
}

async fn list_models(
    State(state): State<Arc<SimState>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    respond::list_models(&state, &query, &headers)
}

async fn get_model(
    State(state): State<Arc<SimState>>,
    Path(name): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    respond::get_model(&state, &name, &query, &headers)
}

/// A simulator running in the background on a loopback port. Stops when dropped.
#[derive(Debug)]
pub struct SimHandle {
    pub addr: SocketAddr,
    state: Arc<SimState>,
    task: JoinHandle<()>,
}

impl SimHandle {
    /// The base URL to give a Gemini client, e.g. `http://127.0.0.1:40123`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Calls received so far.
    pub fn calls(&self) -> u64 {
        self.state.calls.load(Ordering::Relaxed)
    }

    /// What the last valid call sent.
    pub fn last_request(&self) -> Option<SeenRequest> {
        self.state
            .last
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts the simulator on `127.0.0.1` at a free port.
pub async fn spawn(config: SimConfig) -> std::io::Result<SimHandle> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let state = new_state(config);
    let app = router_with_state(state.clone());
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "gemini simulator stopped");
        }
    });
    Ok(SimHandle { addr, state, task })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<SimConfig, SimConfigError> {
        SimConfig::default().with_env(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn the_environment_sets_key_latency_models_and_grain_and_bad_values_are_named() {
        let c = config(&[
            (vars::KEY, "k1"),
            (vars::LATENCY_MS, "5-9"),
            (vars::RETIRED, "models/gemini-3-pro-image"),
            (vars::GRAIN, "1"),
        ])
        .unwrap();
        assert_eq!(c.accepted_key.as_deref(), Some("k1"));
        assert!(c.is_retired("gemini-3-pro-image"));
        assert!(c.grain);
        assert!(!config(&[]).unwrap().grain);
        assert_eq!(
            config(&[(vars::GRAIN, "lots")]).unwrap_err().var,
            vars::GRAIN
        );
        assert_eq!(
            config(&[(vars::LATENCY_MS, "soon")]).unwrap_err().var,
            vars::LATENCY_MS
        );
        assert_eq!(
            config(&[(vars::MODELS, "no-such-model")]).unwrap_err().var,
            vars::MODELS
        );
    }

    #[test]
    fn grainy_generations_are_photo_sized_and_served_in_turn() {
        let state = new_state(SimConfig {
            grain: true,
            ..SimConfig::default()
        });
        let first = respond::grainy(&state, "a bay", 256, 256, false);
        state.calls.fetch_add(1, Ordering::Relaxed);
        let second = respond::grainy(&state, "a bay", 256, 256, false);
        assert_ne!(first, second, "each turn is another image");
        // A PNG differs on every call, even when the turns come round again.
        state.calls.fetch_add(15, Ordering::Relaxed);
        let again = respond::grainy(&state, "a bay", 256, 256, false);
        assert_ne!(first, again);
        let (a, b) = (
            image::load_from_memory(&first).unwrap().to_rgb8(),
            image::load_from_memory(&again).unwrap().to_rgb8(),
        );
        let differ = a.pixels().zip(b.pixels()).filter(|(p, q)| p != q).count();
        assert!((1..=3).contains(&differ), "{differ} pixels differ");
        // Grain does not compress: most of the raw 192 KiB stays.
        assert!(first.len() > 256 * 256 * 3 / 2, "{} bytes", first.len());
        let img = image::load_from_memory(&first).unwrap();
        assert_eq!((img.width(), img.height()), (256, 256));
    }
}
