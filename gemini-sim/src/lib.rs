//! An offline simulator of the Gemini image API.
//!
//! It speaks `POST /v1beta/models/{model}:generateContent` (and the same under `/v1/`) and
//! `:streamGenerateContent`
//! (`?alt=sse`, or a JSON array without it) with the real API's field names, output sizes,
//! token counts, validation and error bodies, and answers with deterministic images derived
//! from the inputs. Every failure shape can be asked for (see [`faults::Fault`]).
//!
//! Tests start it in-process with [`spawn`] on a loopback port; `cargo run -p gemini-sim`
//! serves it alone; GemFlash starts it beside itself when no API key is configured.

pub mod errors;
pub mod faults;
pub mod models;
mod render;
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
    routing::post,
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
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            latency: Latency::None,
            accepted_key: None,
            slow: Duration::from_secs(600),
        }
    }
}

#[derive(Debug)]
pub(crate) struct SimState {
    pub(crate) config: SimConfig,
    /// Failures served so far per prompt, for `fail-N`.
    pub(crate) failures: Mutex<HashMap<u64, u32>>,
    /// Calls received, for tests that count retries.
    pub(crate) calls: AtomicU64,
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
    })
}

fn router_with_state(state: Arc<SimState>) -> Router {
    Router::new()
        // The real API serves the stable `v1` and the `v1beta` surface; SDKs use either.
        .route("/v1beta/models/{call}", post(call))
        .route("/v1/models/{call}", post(call))
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
