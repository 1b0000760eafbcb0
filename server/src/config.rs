//! The server's configuration: one typed struct, read once at start-up from the environment
//! (and an optional `.env` file), validated as a whole.
//!
//! A bad value stops start-up with a [`ConfigError`] that names the variable and says what is
//! wrong with it. Secrets are [`SecretString`]s, whose `Debug` prints nothing of them, and no
//! error message ever quotes a secret's value.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::models::{self, ModelTable};
use engine::{store::Retention, studio::Guard};

use crate::{abuse::IpNet, access::AccessMode};

/// The environment variables GemFlash reads. `.env.example` documents each of them.
pub mod vars {
    pub const ADDR: &str = "GEMFLASH_ADDR";
    pub const LEPTOS_SITE_ADDR: &str = "LEPTOS_SITE_ADDR";
    pub const PUBLIC_ORIGIN: &str = "GEMFLASH_PUBLIC_ORIGIN";
    pub const API_KEY: &str = "GEMINI_API_KEY";
    pub const BASE_URL: &str = "GEMINI_BASE_URL";
    pub const MODELS_FILE: &str = "GEMFLASH_MODELS_FILE";
    pub const DATA_DIR: &str = "GEMFLASH_DATA_DIR";
    pub const LOG_FORMAT: &str = "GEMFLASH_LOG_FORMAT";
    pub const LOG: &str = "GEMFLASH_LOG";
    pub const RUST_LOG: &str = "RUST_LOG";
    pub const SHUTDOWN_GRACE: &str = "GEMFLASH_SHUTDOWN_GRACE_SECS";
    pub const FEATHER: &str = "GEMFLASH_MASK_FEATHER_PX";
    pub const UPSTREAM_ATTEMPTS: &str = "GEMFLASH_UPSTREAM_ATTEMPTS";
    pub const UPSTREAM_DEADLINE: &str = "GEMFLASH_UPSTREAM_DEADLINE_SECS";
    pub const RETENTION_DAYS: &str = "GEMFLASH_RETENTION_DAYS";
    pub const RETENTION_MAX_IMAGES: &str = "GEMFLASH_RETENTION_MAX_IMAGES";
    pub const RATE_PER_MINUTE: &str = "GEMFLASH_RATE_LIMIT_PER_MINUTE";
    pub const RATE_BURST: &str = "GEMFLASH_RATE_LIMIT_BURST";
    pub const TRUSTED_PROXIES: &str = "GEMFLASH_TRUSTED_PROXIES";
    pub const MAX_CONCURRENT: &str = "GEMFLASH_MAX_CONCURRENT_CALLS";
    pub const QUEUE_WAIT: &str = "GEMFLASH_QUEUE_WAIT_SECS";
    pub const BUDGET_IMAGES: &str = "GEMFLASH_DAILY_BUDGET_IMAGES";
    pub const BUDGET_USD: &str = "GEMFLASH_DAILY_BUDGET_USD";
    pub const METRICS_TOKEN: &str = "GEMFLASH_METRICS_TOKEN";
    pub const ACCESS: &str = "GEMFLASH_ACCESS";
    pub const ACCESS_TOKENS: &str = "GEMFLASH_ACCESS_TOKENS";
    pub const SESSION_HOURS: &str = "GEMFLASH_SESSION_HOURS";
    pub const AUTH_HEADER: &str = "GEMFLASH_AUTH_HEADER";
}

const DEFAULT_ADDR: &str = "127.0.0.1:3000";
const DEFAULT_BASE_URL: &str = "https://generativelanguage.googleapis.com";
const DEFAULT_DATA_DIR: &str = "data";
const DEFAULT_LOG_FILTER: &str = "info";
const DEFAULT_SHUTDOWN_GRACE_SECS: u64 = 30;
const DEFAULT_FEATHER_PX: u32 = 8;
const DEFAULT_UPSTREAM_ATTEMPTS: u32 = 5;
const DEFAULT_UPSTREAM_DEADLINE_SECS: u64 = 300;

/// A configuration value that cannot be used: which variable, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{var}: {problem}")]
pub struct ConfigError {
    pub var: &'static str,
    pub problem: String,
}

impl ConfigError {
    fn new(var: &'static str, problem: impl Into<String>) -> Self {
        Self {
            var,
            problem: problem.into(),
        }
    }
}

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

/// How to reach Gemini.
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

/// Everything the server is configured with.
#[derive(Debug, Clone)]
pub struct Config {
    /// The socket address to listen on.
    pub addr: SocketAddr,
    /// The origin browsers use to reach GemFlash, e.g. `https://gemflash.example.com`.
    pub public_origin: Url,
    pub gemini: GeminiConfig,
    pub models: ModelTable,
    /// Where generated images and their metadata are kept.
    pub data_dir: PathBuf,
    pub log: LogConfig,
    /// How long in-flight requests may take to finish after a shutdown signal.
    pub shutdown_grace: Duration,
    /// How far inside the mask's edge an edit fades in, in pixels.
    pub feather_px: u32,
    /// How long and how many images the gallery keeps; unlimited by default.
    pub retention: Retention,
    /// Generation requests per client and whose forwarded addresses to believe.
    pub abuse: AbuseConfig,
    /// Calls at once and the daily budget.
    pub guard: Guard,
    /// The bearer token `/metrics` asks for; without one, `/metrics` is off.
    pub metrics_token: Option<SecretString>,
    /// Who may use the app.
    pub access: AccessMode,
}

/// The per-client rate limit on generation and edit.
#[derive(Debug, Clone, PartialEq)]
pub struct AbuseConfig {
    /// Requests a minute per client; 0 turns the limit off.
    pub per_minute: u32,
    /// Requests a client may make at once before the rate applies.
    pub burst: u32,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
}

impl Config {
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
        // An empty value means "not set": a line like `GEMINI_API_KEY=` copied from
        // `.env.example` must not count as a key.
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());

        let (addr_var, addr_text) = match (get(vars::ADDR), get(vars::LEPTOS_SITE_ADDR)) {
            (Some(v), _) => (vars::ADDR, v),
            (None, Some(v)) => (vars::LEPTOS_SITE_ADDR, v),
            (None, None) => (vars::ADDR, DEFAULT_ADDR.to_owned()),
        };
        let addr: SocketAddr = addr_text.trim().parse().map_err(|_| {
            ConfigError::new(
                addr_var,
                format!("{addr_text:?} is not a socket address; use IP:PORT, e.g. 127.0.0.1:3000"),
            )
        })?;

        let public_origin = match get(vars::PUBLIC_ORIGIN) {
            Some(text) => parse_origin(&text)?,
            None => default_origin(addr)?,
        };

        let api_key = get(vars::API_KEY).map(parse_api_key).transpose()?;
        let base_url = parse_base_url(get(vars::BASE_URL).as_deref().unwrap_or(DEFAULT_BASE_URL))?;

        let models = match get(vars::MODELS_FILE) {
            Some(path) => {
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    ConfigError::new(vars::MODELS_FILE, format!("cannot read {path:?}: {e}"))
                })?;
                ModelTable::parse(&text)
                    .map_err(|e| ConfigError::new(vars::MODELS_FILE, format!("in {path:?}: {e}")))?
            }
            None => ModelTable::parse(models::BUILT_IN).map_err(|e| {
                ConfigError::new(
                    vars::MODELS_FILE,
                    format!("the built-in table is invalid: {e}"),
                )
            })?,
        };

        let data_dir =
            PathBuf::from(get(vars::DATA_DIR).unwrap_or_else(|| DEFAULT_DATA_DIR.into()));

        let format = match get(vars::LOG_FORMAT).as_deref().map(str::trim) {
            None | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError::new(
                    vars::LOG_FORMAT,
                    format!("{other:?} is not a log format; use \"pretty\" or \"json\""),
                ));
            }
        };
        let (filter_var, filter) = match (get(vars::LOG), get(vars::RUST_LOG)) {
            (Some(v), _) => (vars::LOG, v),
            (None, Some(v)) => (vars::RUST_LOG, v),
            (None, None) => (vars::LOG, DEFAULT_LOG_FILTER.to_owned()),
        };
        tracing_subscriber::EnvFilter::try_new(&filter).map_err(|e| {
            ConfigError::new(
                filter_var,
                format!("{filter:?} is not a valid log filter: {e}"),
            )
        })?;

        let shutdown_grace = Duration::from_secs(number(
            &get,
            vars::SHUTDOWN_GRACE,
            DEFAULT_SHUTDOWN_GRACE_SECS,
            0..=3600,
            "seconds",
        )?);
        let feather_px = number(&get, vars::FEATHER, DEFAULT_FEATHER_PX, 0..=256, "pixels")?;
        let attempts = number(
            &get,
            vars::UPSTREAM_ATTEMPTS,
            DEFAULT_UPSTREAM_ATTEMPTS,
            1..=10,
            "attempts",
        )?;
        let deadline = Duration::from_secs(number(
            &get,
            vars::UPSTREAM_DEADLINE,
            DEFAULT_UPSTREAM_DEADLINE_SECS,
            5..=3600,
            "seconds",
        )?);

        let optional = |var, range, unit| match get(var) {
            None => Ok(None),
            Some(_) => number(&get, var, 0_i64, range, unit).map(Some),
        };
        let retention = Retention {
            max_age_ms: optional(vars::RETENTION_DAYS, 1..=36_500, "days")?
                .map(|days| days * 24 * 60 * 60 * 1000),
            max_count: optional(vars::RETENTION_MAX_IMAGES, 1..=100_000_000, "images")?
                .map(i64::unsigned_abs),
        };

        let trusted_proxies = match get(vars::TRUSTED_PROXIES) {
            None => Vec::new(),
            Some(text) => text
                .split(',')
                .filter(|p| !p.trim().is_empty())
                .map(str::parse)
                .collect::<Result<_, _>>()
                .map_err(|e: String| {
                    ConfigError::new(
                        vars::TRUSTED_PROXIES,
                        format!("{e}; use addresses or networks like 10.0.0.0/8, comma-separated"),
                    )
                })?,
        };
        let abuse = AbuseConfig {
            per_minute: number(&get, vars::RATE_PER_MINUTE, 10, 0..=100_000, "requests")?,
            burst: number(&get, vars::RATE_BURST, 5, 1..=100_000, "requests")?,
            trusted_proxies,
        };
        let guard = Guard {
            max_concurrent: number(&get, vars::MAX_CONCURRENT, 4, 1..=256, "calls")?,
            queue_wait: Duration::from_secs(number(
                &get,
                vars::QUEUE_WAIT,
                30,
                0..=600,
                "seconds",
            )?),
            daily_images: optional(vars::BUDGET_IMAGES, 1..=10_000_000, "images")?
                .map(i64::unsigned_abs),
            daily_usd: match get(vars::BUDGET_USD) {
                None => None,
                Some(text) => Some(
                    text.trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|usd| usd.is_finite() && *usd > 0.0)
                        .ok_or_else(|| {
                            ConfigError::new(
                                vars::BUDGET_USD,
                                format!("{text:?} is not an amount of dollars above 0, e.g. 5.00"),
                            )
                        })?,
                ),
            },
        };

        let metrics_token = match get(vars::METRICS_TOKEN) {
            Some(token) if token.trim().len() < 16 => {
                return Err(ConfigError::new(
                    vars::METRICS_TOKEN,
                    "is too short to be a secret; use at least 16 characters, e.g. from `openssl rand -hex 24`",
                ));
            }
            other => other.map(|t| SecretString::from(t.trim().to_owned())),
        };

        let access = match get(vars::ACCESS).as_deref().map(str::trim) {
            None | Some("none") => AccessMode::None,
            Some("token") => {
                let tokens: Vec<SecretString> = get(vars::ACCESS_TOKENS)
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
                let hours: u64 = number(&get, vars::SESSION_HOURS, 12, 1..=24 * 90, "hours")?;
                AccessMode::Token {
                    tokens,
                    session: Duration::from_secs(hours * 3600),
                }
            }
            Some("proxy-header") => {
                if abuse.trusted_proxies.is_empty() {
                    return Err(ConfigError::new(
                        vars::TRUSTED_PROXIES,
                        "proxy-header access believes the user header only from trusted proxies: list them",
                    ));
                }
                AccessMode::ProxyHeader {
                    header: get(vars::AUTH_HEADER)
                        .map(|h| h.trim().to_ascii_lowercase())
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
            addr,
            public_origin,
            gemini: GeminiConfig {
                api_key,
                base_url,
                attempts,
                deadline,
            },
            models,
            data_dir,
            log: LogConfig { format, filter },
            shutdown_grace,
            feather_px,
            retention,
            abuse,
            guard,
            metrics_token,
            access,
        })
    }

    /// Whether a real Gemini key is configured (else the simulator answers).
    pub fn has_api_key(&self) -> bool {
        self.gemini.api_key.is_some()
    }
}

/// A whole number from `var` within `range`, or `default` when it is not set.
fn number<T>(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: T,
    range: std::ops::RangeInclusive<T>,
    unit: &str,
) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display,
{
    let Some(text) = get(var) else {
        return Ok(default);
    };
    text.trim()
        .parse::<T>()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            ConfigError::new(
                var,
                format!(
                    "{text:?} is not a whole number of {unit} from {} to {}",
                    range.start(),
                    range.end()
                ),
            )
        })
}

/// The origin a browser on this machine uses when no public origin is configured.
fn default_origin(addr: SocketAddr) -> Result<Url, ConfigError> {
    let host = match addr.ip() {
        ip if ip.is_unspecified() => "localhost".to_owned(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        std::net::IpAddr::V4(ip) => ip.to_string(),
    };
    parse_origin(&format!("http://{host}:{}", addr.port()))
}

fn parse_origin(text: &str) -> Result<Url, ConfigError> {
    let var = vars::PUBLIC_ORIGIN;
    let url = Url::parse(text.trim()).map_err(|e| {
        ConfigError::new(
            var,
            format!("{text:?} is not a URL ({e}); use e.g. https://gemflash.example.com"),
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ConfigError::new(
            var,
            format!("{text:?} must start with http:// or https://"),
        ));
    }
    if url.host_str().is_none() {
        return Err(ConfigError::new(var, format!("{text:?} has no host")));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(ConfigError::new(
            var,
            format!("{text:?} must be an origin only (scheme, host and port), with no path"),
        ));
    }
    Ok(url)
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
fn parse_api_key(text: String) -> Result<SecretString, ConfigError> {
    let key = text.trim();
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
    Ok(SecretString::from(key.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::collections::HashMap;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_need_no_variables() {
        let c = config(&[]).unwrap();
        assert_eq!(c.addr.to_string(), "127.0.0.1:3000");
        assert_eq!(c.public_origin.as_str(), "http://127.0.0.1:3000/");
        assert!(!c.has_api_key());
        assert_eq!(
            c.gemini.base_url.as_str(),
            "https://generativelanguage.googleapis.com/"
        );
        assert_eq!(c.data_dir, PathBuf::from("data"));
        assert_eq!(c.log.format, LogFormat::Pretty);
        assert_eq!(c.shutdown_grace, Duration::from_secs(30));
    }

    #[test]
    fn gemflash_addr_wins_over_the_leptos_address() {
        let c = config(&[
            (vars::ADDR, "0.0.0.0:8080"),
            (vars::LEPTOS_SITE_ADDR, "127.0.0.1:9"),
        ])
        .unwrap();
        assert_eq!(c.addr.port(), 8080);
        assert_eq!(c.public_origin.as_str(), "http://localhost:8080/");
        let c = config(&[(vars::LEPTOS_SITE_ADDR, "127.0.0.1:3100")]).unwrap();
        assert_eq!(c.addr.port(), 3100);
    }

    #[test]
    fn bad_address_names_the_variable() {
        let e = config(&[(vars::ADDR, "localhost")]).unwrap_err();
        assert_eq!(e.var, vars::ADDR);
        assert!(e.problem.contains("IP:PORT"), "{e}");
        let e = config(&[(vars::LEPTOS_SITE_ADDR, "nope")]).unwrap_err();
        assert_eq!(e.var, vars::LEPTOS_SITE_ADDR);
    }

    #[test]
    fn empty_key_means_no_key() {
        let c = config(&[(vars::API_KEY, "  ")]).unwrap();
        assert!(!c.has_api_key());
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
    fn public_origin_must_be_an_origin() {
        let c = config(&[(vars::PUBLIC_ORIGIN, "https://gemflash.example.com")]).unwrap();
        assert_eq!(c.public_origin.scheme(), "https");
        for bad in [
            "gemflash.example.com",
            "ftp://x.example",
            "https://x.example/app",
            "https://x.example/?a=1",
        ] {
            let e = config(&[(vars::PUBLIC_ORIGIN, bad)]).unwrap_err();
            assert_eq!(e.var, vars::PUBLIC_ORIGIN, "{bad}");
        }
    }

    #[test]
    fn base_url_must_not_carry_a_key() {
        let e = config(&[(vars::BASE_URL, "https://example.com/?key=abc")]).unwrap_err();
        assert_eq!(e.var, vars::BASE_URL);
        let c = config(&[(vars::BASE_URL, "http://127.0.0.1:4000")]).unwrap();
        assert_eq!(c.gemini.base_url.port(), Some(4000));
    }

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
    fn models_file_is_read_and_validated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("models.toml");
        std::fs::write(
            &path,
            models::BUILT_IN.replace(
                "default = \"gemini-3.1-flash-image\"",
                "default = \"gemini-3-pro-image\"",
            ),
        )
        .unwrap();
        let c = config(&[(vars::MODELS_FILE, path.to_str().unwrap())]).unwrap();
        assert_eq!(c.models.default, "gemini-3-pro-image");

        std::fs::write(&path, "default = 1").unwrap();
        let e = config(&[(vars::MODELS_FILE, path.to_str().unwrap())]).unwrap_err();
        assert_eq!(e.var, vars::MODELS_FILE);

        let e = config(&[(vars::MODELS_FILE, "/nonexistent/models.toml")]).unwrap_err();
        assert!(e.problem.contains("cannot read"), "{e}");
    }

    #[test]
    fn shutdown_grace_is_whole_seconds() {
        let c = config(&[(vars::SHUTDOWN_GRACE, "5")]).unwrap();
        assert_eq!(c.shutdown_grace, Duration::from_secs(5));
        let e = config(&[(vars::SHUTDOWN_GRACE, "5s")]).unwrap_err();
        assert_eq!(e.var, vars::SHUTDOWN_GRACE);
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
    fn retention_is_off_by_default_and_takes_days_and_a_count() {
        assert!(config(&[]).unwrap().retention.is_unlimited());
        let c = config(&[
            (vars::RETENTION_DAYS, "30"),
            (vars::RETENTION_MAX_IMAGES, "1000"),
        ])
        .unwrap();
        assert_eq!(c.retention.max_age_ms, Some(30 * 86_400_000));
        assert_eq!(c.retention.max_count, Some(1000));
        let e = config(&[(vars::RETENTION_DAYS, "0")]).unwrap_err();
        assert_eq!(e.var, vars::RETENTION_DAYS);
        assert!(e.problem.contains("days from 1"), "{e}");
        let e = config(&[(vars::RETENTION_MAX_IMAGES, "lots")]).unwrap_err();
        assert_eq!(e.var, vars::RETENTION_MAX_IMAGES);
    }

    #[test]
    fn abuse_limits_have_safe_defaults_and_parse_networks() {
        let c = config(&[]).unwrap();
        assert_eq!((c.abuse.per_minute, c.abuse.burst), (10, 5));
        assert!(c.abuse.trusted_proxies.is_empty());
        assert_eq!(c.guard.max_concurrent, 4);
        assert_eq!((c.guard.daily_images, c.guard.daily_usd), (None, None));
        let c = config(&[
            (vars::TRUSTED_PROXIES, "10.0.0.0/8, 192.168.1.1"),
            (vars::BUDGET_USD, "2.50"),
            (vars::BUDGET_IMAGES, "40"),
            (vars::RATE_PER_MINUTE, "0"),
        ])
        .unwrap();
        assert_eq!(c.abuse.trusted_proxies.len(), 2);
        assert_eq!(c.guard.daily_usd, Some(2.5));
        assert_eq!(c.guard.daily_images, Some(40));
        assert_eq!(c.abuse.per_minute, 0);
        let e = config(&[(vars::TRUSTED_PROXIES, "10.0.0.0/99")]).unwrap_err();
        assert_eq!(e.var, vars::TRUSTED_PROXIES);
        let e = config(&[(vars::BUDGET_USD, "-1")]).unwrap_err();
        assert_eq!(e.var, vars::BUDGET_USD);
    }
}
