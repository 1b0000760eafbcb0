//! Abuse and spend: who a client is, how much one client may ask for, how many calls run at
//! once, and the daily budget.

use engine::studio::Guard;

use super::{ConfigError, Env, ForwardedHeader, IpNet, vars};

pub const DEFAULT_PER_MINUTE: u32 = 10;
pub const DEFAULT_BURST: u32 = 5;
pub const DEFAULT_JOBS_PER_CLIENT: u32 = 2;
pub const DEFAULT_REQUESTS_IN_FLIGHT: u32 = 256;

/// The per-client limits on generation and edit, and how clients are told apart.
#[derive(Debug, Clone, PartialEq)]
pub struct AbuseConfig {
    /// Requests a minute per client; 0 turns the limit off.
    pub per_minute: u32,
    /// Requests a client may make at once before the rate applies.
    pub burst: u32,
    /// Generations and edits one client may have in flight at once (its upload included).
    pub jobs_per_client: u32,
    /// Requests the whole server serves at once; more are refused at once (503).
    pub requests_in_flight: u32,
    /// Proxies whose forwarding header is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// The header those proxies name the client in.
    pub forwarded_header: ForwardedHeader,
}

impl AbuseConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            per_minute: env.number(
                vars::RATE_PER_MINUTE,
                DEFAULT_PER_MINUTE,
                0..=100_000,
                "requests",
            )?,
            burst: env.number(vars::RATE_BURST, DEFAULT_BURST, 1..=100_000, "requests")?,
            jobs_per_client: env.number(
                vars::JOBS_PER_CLIENT,
                DEFAULT_JOBS_PER_CLIENT,
                1..=1024,
                "jobs",
            )?,
            requests_in_flight: env.number(
                vars::REQUESTS_IN_FLIGHT,
                DEFAULT_REQUESTS_IN_FLIGHT,
                8..=100_000,
                "requests",
            )?,
            trusted_proxies: env.list(
                vars::TRUSTED_PROXIES,
                "use addresses or networks like 10.0.0.0/8, comma-separated",
            )?,
            forwarded_header: env.choice(
                vars::FORWARDED_HEADER,
                ForwardedHeader::XForwardedFor,
                &[
                    ("x-forwarded-for", ForwardedHeader::XForwardedFor),
                    ("forwarded", ForwardedHeader::Forwarded),
                ],
            )?,
        })
    }
}

/// Calls at once, and the daily budget.
#[derive(Debug, Clone, PartialEq)]
pub struct SpendConfig {
    pub guard: Guard,
}

impl SpendConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let defaults = Guard::default();
        Ok(Self {
            guard: Guard {
                max_concurrent: env.number(
                    vars::MAX_CONCURRENT,
                    defaults.max_concurrent,
                    1..=256,
                    "calls",
                )?,
                queue_wait: env.seconds(vars::QUEUE_WAIT, defaults.queue_wait, 0..=600)?,
                daily_images: env.optional_number(vars::BUDGET_IMAGES, 1..=10_000_000, "images")?,
                daily_usd: env.positive_amount(vars::BUDGET_USD, "5.00")?,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::config;
    use super::*;

    #[test]
    fn abuse_limits_have_safe_defaults_and_parse_networks() {
        let c = config(&[]).unwrap();
        assert_eq!((c.abuse.per_minute, c.abuse.burst), (10, 5));
        assert!(c.abuse.trusted_proxies.is_empty());
        assert_eq!(c.abuse.jobs_per_client, 2);
        assert_eq!(c.abuse.forwarded_header, ForwardedHeader::XForwardedFor);
        assert_eq!(c.spend.guard.max_concurrent, 4);
        assert_eq!(
            (c.spend.guard.daily_images, c.spend.guard.daily_usd),
            (None, None)
        );
        let c = config(&[
            (vars::TRUSTED_PROXIES, "10.0.0.0/8, 192.168.1.1"),
            (vars::BUDGET_USD, "2.50"),
            (vars::BUDGET_IMAGES, "40"),
            (vars::RATE_PER_MINUTE, "0"),
            (vars::FORWARDED_HEADER, "Forwarded"),
        ])
        .unwrap();
        assert_eq!(c.abuse.trusted_proxies.len(), 2);
        assert_eq!(c.spend.guard.daily_usd, Some(2.5));
        assert_eq!(c.spend.guard.daily_images, Some(40));
        assert_eq!(c.abuse.per_minute, 0);
        assert_eq!(c.abuse.forwarded_header, ForwardedHeader::Forwarded);
        let e = config(&[(vars::TRUSTED_PROXIES, "10.0.0.0/99")]).unwrap_err();
        assert_eq!(e.var, vars::TRUSTED_PROXIES);
        let e = config(&[(vars::BUDGET_USD, "-1")]).unwrap_err();
        assert_eq!(e.var, vars::BUDGET_USD);
        let e = config(&[(vars::FORWARDED_HEADER, "x-real-ip")]).unwrap_err();
        assert_eq!(e.var, vars::FORWARDED_HEADER);
    }
}
