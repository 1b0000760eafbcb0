//! Operations: logs, metrics and retention.

use engine::store::Retention;
use secrecy::SecretString;

use super::{ConfigError, Env, vars};

pub const DEFAULT_LOG_FILTER: &str = "info";

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Coloured, multi-field lines for a person at a terminal.
    Pretty,
    /// One JSON object a line, for a log collector.
    Json,
}

/// Logging settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    pub format: LogFormat,
    /// An `EnvFilter` directive, e.g. `info,server=debug`.
    pub filter: String,
}

impl LogConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let format = env.choice(
            vars::LOG_FORMAT,
            LogFormat::Pretty,
            &[("pretty", LogFormat::Pretty), ("json", LogFormat::Json)],
        )?;
        let (var, filter) = match (env.get(vars::LOG), env.get(vars::RUST_LOG)) {
            (Some(v), _) => (vars::LOG, v),
            (None, Some(v)) => (vars::RUST_LOG, v),
            (None, None) => (vars::LOG, DEFAULT_LOG_FILTER.to_owned()),
        };
        tracing_subscriber::EnvFilter::try_new(&filter).map_err(|e| {
            ConfigError::new(var, format!("{filter:?} is not a valid log filter: {e}"))
        })?;
        Ok(Self { format, filter })
    }
}

/// Metrics and retention.
#[derive(Debug, Clone)]
pub struct OpsConfig {
    /// The bearer token `/metrics` asks for; without one, `/metrics` is off.
    pub metrics_token: Option<SecretString>,
    /// How long and how many images the gallery keeps; unlimited by default.
    pub retention: Retention,
}

impl OpsConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let metrics_token = match env.get(vars::METRICS_TOKEN) {
            Some(token) if token.len() < 16 => {
                return Err(ConfigError::new(
                    vars::METRICS_TOKEN,
                    "is too short to be a secret; use at least 16 characters, e.g. from `openssl rand -hex 24`",
                ));
            }
            other => other.map(SecretString::from),
        };
        let days: Option<i64> = env.optional_number(vars::RETENTION_DAYS, 1..=36_500, "days")?;
        let count: Option<u64> =
            env.optional_number(vars::RETENTION_MAX_IMAGES, 1..=100_000_000, "images")?;
        Ok(Self {
            metrics_token,
            retention: Retention {
                max_age_ms: days.map(|days| days * 24 * 60 * 60 * 1000),
                max_count: count,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::config;
    use super::*;

    #[test]
    fn log_format_and_filter_are_validated() {
        let c = config(&[(vars::LOG_FORMAT, "json")]).unwrap();
        assert_eq!(c.log.format, LogFormat::Json);
        let e = config(&[(vars::LOG_FORMAT, "xml")]).unwrap_err();
        assert_eq!(e.var, vars::LOG_FORMAT);
        let e = config(&[(vars::LOG, "info,[")]).unwrap_err();
        assert_eq!(e.var, vars::LOG);
        let c = config(&[(vars::RUST_LOG, "debug")]).unwrap();
        assert_eq!(c.log.filter, "debug");
    }

    #[test]
    fn retention_is_off_by_default_and_takes_days_and_a_count() {
        assert!(config(&[]).unwrap().ops.retention.is_unlimited());
        let c = config(&[
            (vars::RETENTION_DAYS, "30"),
            (vars::RETENTION_MAX_IMAGES, "1000"),
        ])
        .unwrap();
        assert_eq!(c.ops.retention.max_age_ms, Some(30 * 86_400_000));
        assert_eq!(c.ops.retention.max_count, Some(1000));
        let e = config(&[(vars::RETENTION_DAYS, "0")]).unwrap_err();
        assert_eq!(e.var, vars::RETENTION_DAYS);
        assert!(e.problem.contains("days from 1"), "{e}");
        let e = config(&[(vars::RETENTION_MAX_IMAGES, "lots")]).unwrap_err();
        assert_eq!(e.var, vars::RETENTION_MAX_IMAGES);
    }

    #[test]
    fn a_short_metrics_token_is_refused() {
        let e = config(&[(vars::METRICS_TOKEN, "short")]).unwrap_err();
        assert_eq!(e.var, vars::METRICS_TOKEN);
    }
}
