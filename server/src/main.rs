//! The GemFlash server binary: reads the configuration, prepares the data directory, builds
//! the application state and serves until SIGTERM or Ctrl-C.
//!
//! Run it through the README's start command, or directly after a `cargo leptos build`:
//! `LEPTOS_SITE_ROOT=target/site target/release/gemflash`.

use std::{path::Path, process::ExitCode};

use anyhow::Context;
use server::{AppState, config::Config, router, shutdown, telemetry};
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> ExitCode {
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

async fn run(config: Config) -> anyhow::Result<()> {
    let mut leptos_options = leptos::config::get_configuration(None)
        .context("cannot read the Leptos site settings (LEPTOS_* variables)")?
        .leptos_options;
    leptos_options.site_addr = config.addr;

    prepare_data_dir(&config.data_dir)?;

    let listener = TcpListener::bind(config.addr)
        .await
        .with_context(|| format!("cannot listen on {} (set GEMFLASH_ADDR)", config.addr))?;
    let grace = config.shutdown_grace;
    let state = AppState::new(config, leptos_options);
    tracing::info!(
        address = %state.config.addr,
        upstream = ?state.server_info.upstream,
        models = state.server_info.models.len(),
        "GemFlash is ready at {}",
        state.config.public_origin
    );
    shutdown::serve(listener, router(state), shutdown::signal(), grace)
        .await
        .context("the server failed")?;
    tracing::info!("GemFlash stopped");
    Ok(())
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
