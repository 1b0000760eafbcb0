//! Logging: `tracing` with an `EnvFilter`, as readable lines for a person or JSON for a
//! collector. What gets logged is metadata only (route, status, latency, request id): never
//! prompts, image bytes or keys.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::{LogConfig, LogFormat};

/// Installs the global subscriber, writing to standard output. Call once, at start-up.
pub fn init(log: &LogConfig) -> anyhow::Result<()> {
    init_with_writer(log, std::io::stdout, std::io::stdout().is_terminal())
}

/// Installs the global subscriber, writing to `writer` (tests read what is logged this way).
/// Field values are escaped by the formatters (strings are quoted in readable lines, JSON is
/// JSON), so user input cannot start a line of its own.
pub fn init_with_writer<W>(log: &LogConfig, writer: W, ansi: bool) -> anyhow::Result<()>
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(&log.filter)?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(true)
        .with_writer(writer)
        .with_ansi(ansi);
    let installed = match log.format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
    installed.map_err(|e| anyhow::anyhow!("cannot install the log subscriber: {e}"))
}
