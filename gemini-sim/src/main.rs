//! The Gemini simulator on its own: `cargo run -p gemini-sim`.
//!
//! Listens on `GEMINI_SIM_ADDR` (default 127.0.0.1:4100). Point a Gemini client at it with a
//! base URL of `http://127.0.0.1:4100` and any key. `GEMINI_SIM_LATENCY_MS` sets a latency,
//! e.g. `800` or `500-2000`.

use std::{process::ExitCode, time::Duration};

use gemini_sim::{Latency, SimConfig, router};

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
        .init();
    let addr = std::env::var("GEMINI_SIM_ADDR").unwrap_or_else(|_| "127.0.0.1:4100".into());
    let latency = match std::env::var("GEMINI_SIM_LATENCY_MS") {
        Err(_) => Latency::None,
        Ok(text) => match parse_latency(&text) {
            Some(l) => l,
            None => {
                eprintln!(
                    "gemini-sim: GEMINI_SIM_LATENCY_MS: {text:?} is not N or MIN-MAX milliseconds"
                );
                return ExitCode::from(2);
            }
        },
    };
    let listener = match tokio::net::TcpListener::bind(&addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("gemini-sim: cannot listen on {addr} (GEMINI_SIM_ADDR): {e}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!("Gemini simulator listening on http://{addr}");
    let app = router(SimConfig {
        latency,
        ..SimConfig::default()
    });
    match axum::serve(listener, app).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gemini-sim: {e}");
            ExitCode::FAILURE
        }
    }
}

fn parse_latency(text: &str) -> Option<Latency> {
    let ms = |s: &str| s.trim().parse::<u64>().ok().map(Duration::from_millis);
    match text.split_once('-') {
        Some((lo, hi)) => Some(Latency::Range(ms(lo)?, ms(hi)?)),
        None => Some(Latency::Fixed(ms(text)?)),
    }
}
