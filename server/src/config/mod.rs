//! The server's configuration: typed sections, read once at start-up from the environment
//! (and an optional `.env` file), validated as a whole.
//!
//! One file per section, each with its own `from_env`; [`Env`] reads a variable and names it
//! in every error. A bad value stops start-up with a [`ConfigError`] that names the variable
//! and says what is wrong with it. Secrets are [`secrecy::SecretString`]s, whose `Debug`
//! prints nothing of them, and no error message ever quotes a secret's value. This module is a
//! leaf: it imports nothing else of the server, which takes its types from here.

mod access;
mod env;
mod gemini;
mod images;
mod models;
mod net;
mod ops;
mod server;
mod spend;
pub mod vars;

pub use access::{AccessConfig, AccessMode, LoginThrottle};
pub use env::Env;
pub use gemini::GeminiConfig;
pub use images::ImageConfig;
pub use models::{BUILT_IN as BUILT_IN_MODELS, ModelSpec, ModelTable};
pub use net::{ForwardedHeader, IpNet, unmapped};
pub use ops::{LogConfig, LogFormat, OpsConfig};
pub use server::{HostName, ServerConfig};
pub use spend::{AbuseConfig, SpendConfig};

/// A configuration value that cannot be used: which variable, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{var}: {problem}")]
pub struct ConfigError {
    pub var: &'static str,
    pub problem: String,
}

impl ConfigError {
    pub(crate) fn new(var: &'static str, problem: impl Into<String>) -> Self {
        Self {
            var,
            problem: problem.into(),
        }
    }
}

/// Everything the server is configured with.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where it listens, the origin browsers use, the hosts it answers for, the data
    /// directory, shutdown.
    pub server: ServerConfig,
    pub gemini: GeminiConfig,
    pub models: ModelTable,
    /// Image limits, the image-memory budget, the storage quota, the feather.
    pub images: ImageConfig,
    /// Who a client is, and how much one client may ask for.
    pub abuse: AbuseConfig,
    /// Calls at once and the daily budget.
    pub spend: SpendConfig,
    /// Who may use the app.
    pub access: AccessConfig,
    pub log: LogConfig,
    /// Metrics and retention.
    pub ops: OpsConfig,
}

impl Config {
    /// Jobs one client may have in flight at once: as configured, but one client may not
    /// hold every upstream slot, so with more than one slot at most all but one.
    pub fn jobs_per_client(&self) -> u32 {
        let slots = u32::try_from(self.spend.guard.max_concurrent).unwrap_or(u32::MAX);
        if slots > 1 {
            self.abuse.jobs_per_client.min(slots - 1)
        } else {
            self.abuse.jobs_per_client
        }
    }

    /// Reads the configuration from the process environment, after loading `.env` if there is
    /// one. Variables already set in the environment win over the file.
    pub fn from_env() -> Result<Self, ConfigError> {
        match dotenvy::dotenv() {
            Ok(_) => {}
            Err(e) if e.not_found() => {}
            Err(e) => return Err(ConfigError::new(".env", format!("cannot be read: {e}"))),
        }
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup`, which returns a variable's value if it is set.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env::new(&lookup);
        let server = ServerConfig::from_env(&env)?;
        let abuse = AbuseConfig::from_env(&env)?;
        let access = AccessConfig::from_env(&env, &server, &abuse)?;
        Ok(Self {
            gemini: GeminiConfig::from_env(&env)?,
            models: ModelTable::from_env(&env)?,
            images: ImageConfig::from_env(&env)?,
            spend: SpendConfig::from_env(&env)?,
            log: LogConfig::from_env(&env)?,
            ops: OpsConfig::from_env(&env)?,
            server,
            abuse,
            access,
        })
    }

    /// Whether a real Gemini key is configured (else the simulator answers).
    pub fn has_api_key(&self) -> bool {
        self.gemini.api_key.is_some()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::HashMap;

    /// The configuration these variables make.
    pub fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_need_no_variables() {
        let c = config(&[]).unwrap();
        assert_eq!(c.server.addr.to_string(), "127.0.0.1:3000");
        assert!(!c.has_api_key());
        assert_eq!(c.log.format, LogFormat::Pretty);
        assert!(matches!(c.access.mode, AccessMode::None));
    }
}
