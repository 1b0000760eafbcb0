//! The Gemini simulator on its own: `cargo run -p gemini-sim`.
//!
//! Point any Gemini client at it (base URL `http://127.0.0.1:4100`). Settings come from the
//! environment, the same variables GemFlash's built-in simulator reads:
//!
//! - `GEMINI_SIM_ADDR`: where to listen (default `127.0.0.1:4100`).
//! - `GEMINI_SIM_KEY`: the one API key accepted; any other gets Google's 400 `API_KEY_INVALID`
//!   (unset: any non-empty key).
//! - `GEMINI_SIM_LATENCY_MS`: `800`, or a range `500-2000`.
//! - `GEMINI_SIM_MODELS`: the model ids `models.list` shows (comma-separated; unset: all).
//! - `GEMINI_SIM_RETIRED`: model ids that answer 404 as retired (comma-separated).

use std::process::ExitCode;

use gemini_sim::{SimConfig, router, vars};

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
        .init();
    let config = match SimConfig::default().with_env(|name| std::env::var(name).ok()) {
        Ok(config) => config,
        Err(problem) => {
            eprintln!("gemini-sim: {problem}");
            return ExitCode::from(2);
        }
    };
    let addr = std::env::var(vars::ADDR).unwrap_or_else(|_| "127.0.0.1:4100".into());
    let listener = match tokio::net::TcpListener::bind(&addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("gemini-sim: cannot listen on {addr} ({}): {e}", vars::ADDR);
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(
        key_checked = config.accepted_key.is_some(),
        listed = ?config.listed,
        retired = ?config.retired,
        "Gemini simulator listening on http://{addr}"
    );
    match axum::serve(listener, router(config)).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gemini-sim: {e}");
            ExitCode::FAILURE
        }
    }
}
