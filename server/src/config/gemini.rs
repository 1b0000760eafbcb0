//! How to reach Gemini: the key, the endpoint, and how patient to be.

use std::time::Duration;

use secrecy::SecretString;
use url::Url;

use super::{ConfigError, Env, vars};

pub const DEFAULT_BASE_URL: &str = "https://generativelanguage.googleapis.com";
pub const DEFAULT_ATTEMPTS: u32 = 5;
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(300);

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
        })
    }
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
}
