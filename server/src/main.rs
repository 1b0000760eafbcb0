//! The GemFlash server binary: reads the configuration, prepares the data directory, builds
//! the application state and serves until SIGTERM or Ctrl-C.
//!
//! Run it through the README's start command, or directly after a `cargo leptos build`:
//! `LEPTOS_SITE_ROOT=target/site target/release/gemflash`. `gemflash healthcheck` asks a
//! running server's `/healthz` and exits 0 when it is healthy.

use std::{path::Path, process::ExitCode};

use anyhow::Context;
use server::{AppState, config::Config, router, shutdown, telemetry};
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> ExitCode {
    // `gemflash healthcheck`: for the container's HEALTHCHECK, which has no shell or curl.
    if std::env::args().nth(1).as_deref() == Some("healthcheck") {
        return server::healthcheck::run();
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("gemflash: cannot start, bad configuration: {e}");
            eprintln!("gemflash: every variable is described in .env.example");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = telemetry::init(&config.log) {
        eprintln!("gemflash: {e:#}");
        return ExitCode::FAILURE;
    }
    match run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "gemflash stopped");
            ExitCode::FAILURE
        }
    }
}

async fn run(mut config: Config) -> anyhow::Result<()> {
    let mut leptos_options = leptos::config::get_configuration(None)
        .context("cannot read the Leptos site settings (LEPTOS_* variables)")?
        .leptos_options;
    leptos_options.site_addr = config.server.addr;

    prepare_data_dir(&config.server.data_dir)?;
    // Kept alive until the server stops; dropping it stops the simulator.
    let _simulator = start_simulator_without_key(&mut config).await?;

    let listener = TcpListener::bind(config.server.addr)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {} (set GEMFLASH_ADDR)",
                config.server.addr
            )
        })?;
    let grace = config.server.shutdown_grace;
    let state = AppState::new(config, leptos_options)?;
    tracing::info!(
        address = %state.config.server.addr,
        upstream = ?state.server_info.upstream,
        models = state.server_info.models.len(),
        image_memory_mb = state.config.images.memory_bytes / (1024 * 1024),
        image_workers = state.config.images.workers,
        "GemFlash is ready at {}",
        state.config.server.public_origin
    );
    let _sweeper =
        server::retention::spawn(state.studio.store().clone(), state.config.ops.retention);
    let _model_check = server::model_check::spawn(
        state.studio.client().clone(),
        state
            .config
            .models
            .models
            .iter()
            .map(|m| m.id.clone())
            .collect(),
        state.studio.availability().clone(),
        state.config.gemini.model_check,
    );
    shutdown::serve(listener, router(state), shutdown::signal(), grace)
        .await
        .context("the server failed")?;
    tracing::info!("GemFlash stopped");
    Ok(())
}

/// With no API key, starts the offline Gemini simulator on a loopback port (set up by the
/// `GEMINI_SIM_*` variables) and points the Gemini base URL at it, so GemFlash works (and
/// says so on every page) with no key at all.
async fn start_simulator_without_key(
    config: &mut Config,
) -> anyhow::Result<Option<gemini_sim::SimHandle>> {
    if config.has_api_key() {
        return Ok(None);
    }
    let sim = gemini_sim::spawn(config.gemini.simulator.clone())
        .await
        .context("cannot start the Gemini simulator")?;
    config.gemini.base_url = sim.base_url().parse().context("simulator address")?;
    tracing::warn!(
        simulator = %config.gemini.base_url,
        "no GEMINI_API_KEY: answering with the offline Gemini simulator (synthetic images, no cost)"
    );
    Ok(Some(sim))
}

/// Creates the data directory if needed, readable by this user only.
fn prepare_data_dir(dir: &Path) -> anyhow::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .with_context(|| format!("cannot create the data directory {dir:?} (GEMFLASH_DATA_DIR)"))
}
