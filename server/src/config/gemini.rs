//! How to reach Gemini: the key, the endpoint, and how patient to be.

use std::time::Duration;

use secrecy::SecretString;
use url::Url;

use super::{ConfigError, Env, vars};

pub const DEFAULT_BASE_URL: &str = "https://generativelanguage.googleapis.com";
pub const DEFAULT_ATTEMPTS: u32 = 5;
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(300);
/// How often the models the key can use are listed again.
pub const DEFAULT_MODEL_CHECK: Duration = Duration::from_secs(6 * 3600);
/// Prompt tokens a follow-up's replayed conversation may take.
pub const DEFAULT_CONVERSATION_TOKENS: u32 = 16_000;

#[derive(Debug, Clone)]
pub struct GeminiConfig {
    /// The API key; `None` runs GemFlash against its offline simulator.
    pub api_key: Option<SecretString>,
    /// Where the Gemini API lives, without a trailing slash.
    pub base_url: Url,
    /// Attempts per call, the first included (1 = never retry).
    pub attempts: u32,
    /// How long one call may take, retries and their waits included.
    pub deadline: Duration,
    /// How often the models the key can use are listed (at start-up, then this often).
    pub model_check: Duration,
    /// Prompt tokens a follow-up edit's replayed conversation may take.
    pub conversation_tokens: u32,
    /// How the built-in simulator behaves when there is no key (`GEMINI_SIM_*`).
    pub simulator: gemini_sim::SimConfig,
}

impl GeminiConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            api_key: env.get(vars::API_KEY).map(parse_api_key).transpose()?,
            base_url: parse_base_url(
                env.get(vars::BASE_URL)
                    .as_deref()
                    .unwrap_or(DEFAULT_BASE_URL),
            )?,
            attempts: env.number(
                vars::UPSTREAM_ATTEMPTS,
                DEFAULT_ATTEMPTS,
                1..=10,
                "attempts",
            )?,
            deadline: env.seconds(vars::UPSTREAM_DEADLINE, DEFAULT_DEADLINE, 5..=3600)?,
            model_check: Duration::from_secs(
                3600 * env.number(
                    vars::MODEL_CHECK_HOURS,
                    DEFAULT_MODEL_CHECK.as_secs() / 3600,
                    1..=168,
                    "hours",
                )?,
            ),
            conversation_tokens: env.number(
                vars::CONVERSATION_TOKENS,
                DEFAULT_CONVERSATION_TOKENS,
                2_000..=500_000,
                "tokens",
            )?,
            simulator: simulator(env)?,
        })
    }
}

/// The built-in simulator's settings: answers after 0.6-1.8 s (so waiting states are seen),
/// then whatever the `GEMINI_SIM_*` variables say.
fn simulator(env: &Env) -> Result<gemini_sim::SimConfig, ConfigError> {
    gemini_sim::SimConfig {
        latency: gemini_sim::Latency::Range(
            Duration::from_millis(600),
            Duration::from_millis(1800),
        ),
        ..gemini_sim::SimConfig::default()
    }
    .with_env(|name| env.get(name))
    .map_err(|e| ConfigError::new(e.var, e.problem))
}

fn parse_base_url(text: &str) -> Result<Url, ConfigError> {
    let var = vars::BASE_URL;
    let url = Url::parse(text.trim())
        .map_err(|e| ConfigError::new(var, format!("{text:?} is not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ConfigError::new(
            var,
            format!("{text:?} must start with http:// or https://"),
        ));
    }
    if url.query().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err(ConfigError::new(
            var,
            "must not carry credentials or a query; the key goes in GEMINI_API_KEY",
        ));
    }
    Ok(url)
}

/// Checks the key's shape without ever putting its value in an error.
fn parse_api_key(key: String) -> Result<SecretString, ConfigError> {
    if key.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ConfigError::new(
            vars::API_KEY,
            "contains spaces or control characters; paste the key alone, on one line",
        ));
    }
    if !key.is_ascii() {
        return Err(ConfigError::new(
            vars::API_KEY,
            "contains non-ASCII characters; a Gemini key never does",
        ));
    }
    Ok(SecretString::from(key))
}

#[cfg(test)]
mod tests {
    use super::super::tests::config;
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn empty_key_means_no_key() {
        assert!(!config(&[(vars::API_KEY, "  ")]).unwrap().has_api_key());
    }

    #[test]
    fn key_is_kept_and_never_printed() {
        let canary = "canary-gemini-key-not-real-000000000000";
        let c = config(&[(vars::API_KEY, canary)]).unwrap();
        let key = c.gemini.api_key.as_ref().unwrap();
        assert_eq!(key.expose_secret(), canary);
        assert!(!format!("{c:?}").contains(canary));
    }

    #[test]
    fn malformed_key_error_does_not_quote_the_key() {
        let canary = "canary key with spaces";
        let e = config(&[(vars::API_KEY, canary)]).unwrap_err();
        assert_eq!(e.var, vars::API_KEY);
        assert!(!e.to_string().contains("canary"), "{e}");
    }

    #[test]
    fn base_url_must_not_carry_a_key() {
        let e = config(&[(vars::BASE_URL, "https://example.com/?key=abc")]).unwrap_err();
        assert_eq!(e.var, vars::BASE_URL);
        let c = config(&[(vars::BASE_URL, "http://127.0.0.1:4000")]).unwrap();
        assert_eq!(c.gemini.base_url.port(), Some(4000));
        assert_eq!(
            config(&[]).unwrap().gemini.base_url.as_str(),
            "https://generativelanguage.googleapis.com/"
        );
    }

    #[test]
    fn upstream_attempts_and_deadline_are_bounded_numbers() {
        let c = config(&[]).unwrap();
        assert_eq!(c.gemini.attempts, 5);
        assert_eq!(c.gemini.deadline, Duration::from_secs(300));
        let c = config(&[
            (vars::UPSTREAM_ATTEMPTS, "1"),
            (vars::UPSTREAM_DEADLINE, " 60 "),
        ])
        .unwrap();
        assert_eq!(c.gemini.attempts, 1);
        assert_eq!(c.gemini.deadline, Duration::from_secs(60));
        for bad in ["0", "11", "three", "-1"] {
            let e = config(&[(vars::UPSTREAM_ATTEMPTS, bad)]).unwrap_err();
            assert_eq!(e.var, vars::UPSTREAM_ATTEMPTS);
            assert!(e.problem.contains("from 1 to 10"), "{e}");
        }
        let e = config(&[(vars::UPSTREAM_DEADLINE, "1")]).unwrap_err();
        assert_eq!(e.var, vars::UPSTREAM_DEADLINE);
    }

    #[test]
    fn the_built_in_simulator_is_set_by_its_own_variables() {
        let c = config(&[]).unwrap();
        assert!(c.gemini.simulator.listed.is_none());
        let c = config(&[
            (
                vars::SIM_MODELS,
                "gemini-nano-banana-2.1, models/gemini-3-pro-image",
            ),
            (vars::SIM_RETIRED, "gemini-3.1-flash-image"),
            (vars::SIM_LATENCY, "0"),
        ])
        .unwrap();
        let sim = &c.gemini.simulator;
        assert_eq!(
            sim.listed.as_deref().unwrap(),
            ["gemini-nano-banana-2.1", "gemini-3-pro-image"]
        );
        assert!(sim.is_retired("gemini-3.1-flash-image"));
        assert_eq!(sim.latency, gemini_sim::Latency::Fixed(Duration::ZERO));
        let e = config(&[(vars::SIM_MODELS, "gemini-9")]).unwrap_err();
        assert_eq!(e.var, vars::SIM_MODELS);
        assert!(e.problem.contains("gemini-9"), "{e}");
    }

    #[test]
    fn model_check_and_conversation_budget_are_bounded() {
        let c = config(&[]).unwrap();
        assert_eq!(c.gemini.model_check, Duration::from_secs(6 * 3600));
        assert_eq!(c.gemini.conversation_tokens, 16_000);
        let c = config(&[
            (vars::MODEL_CHECK_HOURS, "1"),
            (vars::CONVERSATION_TOKENS, "4000"),
        ])
        .unwrap();
        assert_eq!(c.gemini.model_check, Duration::from_secs(3600));
        assert_eq!(c.gemini.conversation_tokens, 4000);
        for (var, bad) in [
            (vars::MODEL_CHECK_HOURS, "0"),
            (vars::CONVERSATION_TOKENS, "10"),
        ] {
            assert_eq!(config(&[(var, bad)]).unwrap_err().var, var);
        }
    }
}
