//! Who may use the app: the access mode, sessions, and the sign-in throttle.
//!
//! Fail-safe: a server that listens where other machines can reach it must be told its access
//! mode; with none chosen it refuses to start and says how to choose.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use super::{AbuseConfig, ConfigError, Env, ServerConfig, vars};

pub const DEFAULT_SESSION_HOURS: u64 = 12;
pub const DEFAULT_SESSION_IDLE_MINUTES: u64 = 60;
pub const DEFAULT_LOGIN_PER_MINUTE: u32 = 5;
pub const DEFAULT_LOGIN_GLOBAL_PER_MINUTE: u32 = 60;

/// How people get in.
#[derive(Debug, Clone)]
pub enum AccessMode {
    /// Anyone who reaches the server (behind a proxy that authenticates).
    None,
    /// Sign in with an access token; a session cookie after.
    Token {
        tokens: Vec<SecretString>,
        /// How long a session lasts at most.
        session: Duration,
        /// How long a session lasts without a request.
        idle: Duration,
    },
    /// The user named in a header set by a trusted proxy.
    ProxyHeader { header: String },
}

/// Sign-in attempts allowed, per client and over all clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginThrottle {
    pub per_client_per_minute: u32,
    pub global_per_minute: u32,
}

#[derive(Debug, Clone)]
pub struct AccessConfig {
    pub mode: AccessMode,
    pub login: LoginThrottle,
}

impl AccessConfig {
    pub fn from_env(
        env: &Env,
        server: &ServerConfig,
        abuse: &AbuseConfig,
    ) -> Result<Self, ConfigError> {
        let mode = match env.get(vars::ACCESS).as_deref() {
            None if !server.addr.ip().is_loopback() => {
                return Err(ConfigError::new(
                    vars::ACCESS,
                    format!(
                        "GemFlash listens on {}, which other machines can reach, and no access mode is chosen. \
                         Choose one: GEMFLASH_ACCESS=token (people sign in with GEMFLASH_ACCESS_TOKENS), \
                         GEMFLASH_ACCESS=proxy-header (a trusted proxy names the user), or \
                         GEMFLASH_ACCESS=none (only behind a reverse proxy that authenticates)",
                        server.addr
                    ),
                ));
            }
            None | Some("none") => AccessMode::None,
            Some("token") => token_mode(env)?,
            Some("proxy-header") => {
                if abuse.trusted_proxies.is_empty() {
                    return Err(ConfigError::new(
                        vars::TRUSTED_PROXIES,
                        "proxy-header access believes the user header only from trusted proxies: list them",
                    ));
                }
                AccessMode::ProxyHeader {
                    header: env
                        .get(vars::AUTH_HEADER)
                        .map(|h| h.to_ascii_lowercase())
                        .unwrap_or_else(|| "x-forwarded-user".into()),
                }
            }
            Some(other) => {
                return Err(ConfigError::new(
                    vars::ACCESS,
                    format!("{other:?} is not an access mode; use none, token or proxy-header"),
                ));
            }
        };
        Ok(Self {
            mode,
            login: LoginThrottle {
                per_client_per_minute: env.number(
                    vars::LOGIN_PER_MINUTE,
                    DEFAULT_LOGIN_PER_MINUTE,
                    1..=10_000,
                    "attempts",
                )?,
                global_per_minute: env.number(
                    vars::LOGIN_GLOBAL_PER_MINUTE,
                    DEFAULT_LOGIN_GLOBAL_PER_MINUTE,
                    1..=100_000,
                    "attempts",
                )?,
            },
        })
    }
}

fn token_mode(env: &Env) -> Result<AccessMode, ConfigError> {
    let tokens: Vec<SecretString> = env
        .get(vars::ACCESS_TOKENS)
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| SecretString::from(t.to_owned()))
        .collect();
    if tokens.is_empty() || tokens.iter().any(|t| t.expose_secret().len() < 16) {
        return Err(ConfigError::new(
            vars::ACCESS_TOKENS,
            "token access needs one or more tokens of at least 16 characters, comma-separated (e.g. from `openssl rand -hex 24`)",
        ));
    }
    let hours: u64 = env.number(
        vars::SESSION_HOURS,
        DEFAULT_SESSION_HOURS,
        1..=24 * 90,
        "hours",
    )?;
    let idle: u64 = env.number(
        vars::SESSION_IDLE,
        DEFAULT_SESSION_IDLE_MINUTES,
        1..=60 * 24 * 90,
        "minutes",
    )?;
    Ok(AccessMode::Token {
        tokens,
        session: Duration::from_secs(hours * 3600),
        idle: Duration::from_secs(idle * 60),
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::config;
    use super::*;

    #[test]
    fn a_reachable_address_needs_an_access_mode_chosen() {
        let e = config(&[(vars::ADDR, "0.0.0.0:3000")]).unwrap_err();
        assert_eq!(e.var, vars::ACCESS);
        assert!(e.problem.contains("GEMFLASH_ACCESS=token"), "{e}");
        assert!(e.problem.contains("0.0.0.0:3000"), "{e}");
        for addr in ["192.168.1.20:3000", "[::]:3000"] {
            assert_eq!(config(&[(vars::ADDR, addr)]).unwrap_err().var, vars::ACCESS);
        }
        // Chosen explicitly, any mode starts.
        let c = config(&[(vars::ADDR, "0.0.0.0:3000"), (vars::ACCESS, "none")]).unwrap();
        assert!(matches!(c.access.mode, AccessMode::None));
        // Loopback needs no choice.
        assert!(config(&[(vars::ADDR, "[::1]:3000")]).is_ok());
    }

    #[test]
    fn token_access_needs_long_tokens_and_has_two_timeouts() {
        let e = config(&[(vars::ACCESS, "token"), (vars::ACCESS_TOKENS, "short")]).unwrap_err();
        assert_eq!(e.var, vars::ACCESS_TOKENS);
        let c = config(&[
            (vars::ACCESS, "token"),
            (vars::ACCESS_TOKENS, "0123456789abcdef0123"),
            (vars::SESSION_IDLE, "15"),
        ])
        .unwrap();
        let AccessMode::Token { session, idle, .. } = c.access.mode else {
            panic!("token mode");
        };
        assert_eq!(session, Duration::from_secs(12 * 3600));
        assert_eq!(idle, Duration::from_secs(15 * 60));
        assert_eq!(c.access.login.per_client_per_minute, 5);
    }

    #[test]
    fn proxy_header_access_needs_trusted_proxies() {
        let e = config(&[(vars::ACCESS, "proxy-header")]).unwrap_err();
        assert_eq!(e.var, vars::TRUSTED_PROXIES);
        let e = config(&[(vars::ACCESS, "sometimes")]).unwrap_err();
        assert_eq!(e.var, vars::ACCESS);
    }
}
