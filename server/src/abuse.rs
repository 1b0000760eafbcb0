//! Abuse controls in front of the image jobs: who the client is, and a per-client rate limit.
//!
//! The client is the connection's peer address. A forwarded address (`X-Forwarded-For`) is
//! believed only when the peer is one of the configured trusted proxies, and then the nearest
//! address that is not itself a trusted proxy wins: a client cannot pick its own identity by
//! sending the header. Generation and edit requests spend one token from their client's
//! bucket; an empty bucket answers 429 with `Retry-After`, which the editor shows as "try again
//! in N s". (The global cap on concurrent upstream calls and the daily budget live in the
//! engine's `Studio`, where the calls are made.)

use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
    str::FromStr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    extract::{ConnectInfo, Request, State, connect_info::MockConnectInfo},
    http::{HeaderMap, HeaderValue, header},
    middleware::Next,
    response::Response,
};
use protocol::{ErrorKind, UserError};

/// A network given as an address and a prefix length, e.g. `10.0.0.0/8` (or one address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl FromStr for IpNet {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("{s:?} is not an IP address or network"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{s:?} has a bad prefix length"))?,
        };
        Ok(Self { addr, prefix })
    }
}

impl IpNet {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let bits = |ip: IpAddr| -> (u128, u8) {
            match ip {
                IpAddr::V4(v4) => (u128::from(u32::from(v4)) << 96, 32),
                IpAddr::V6(v6) => (u128::from(v6), 128),
            }
        };
        // An IPv4 client may arrive as an IPv4-mapped IPv6 address.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        let ((net, net_len), (addr, addr_len)) = (bits(self.addr), bits(ip));
        if net_len != addr_len {
            return false;
        }
        // Both are left-aligned in 128 bits, so the prefix counts from the top either way.
        let prefix = u32::from(self.prefix);
        let mask = if prefix == 0 {
            0
        } else {
            u128::MAX << (128 - prefix)
        };
        net & mask == addr & mask
    }
}

/// Who a request comes from, given the peer and the headers.
pub fn client_ip(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = peer?;
    let is_trusted = |ip: IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(peer) {
        return Some(peer);
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|part| part.trim().parse().ok())
        .collect();
    // From the nearest hop outwards, the first address that is not one of ours.
    Some(
        forwarded
            .into_iter()
            .rev()
            .find(|ip| !is_trusted(*ip))
            .unwrap_or(peer),
    )
}

/// Token buckets per client: `burst` requests at once, refilled at `per_minute`.
#[derive(Debug)]
pub struct RateLimiter {
    per_minute: u32,
    burst: u32,
    buckets: Mutex<HashMap<Option<IpAddr>, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Buckets kept before full ones are forgotten.
const MAX_TRACKED_CLIENTS: usize = 10_000;

impl RateLimiter {
    pub fn new(per_minute: u32, burst: u32) -> Self {
        Self {
            per_minute,
            burst: burst.max(1),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for `client`, or says how long until one is there.
    pub fn check(&self, client: Option<IpAddr>, now: Instant) -> Result<(), Duration> {
        let rate = f64::from(self.per_minute) / 60.0;
        let burst = f64::from(self.burst);
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_TRACKED_CLIENTS {
            buckets.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.updated).as_secs_f64() * rate < burst
            });
        }
        let bucket = buckets.entry(client).or_insert(Bucket {
            tokens: burst,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else if rate <= 0.0 {
            Err(Duration::from_secs(60))
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / rate))
        }
    }
}

/// The connection's peer address (or the one a test mocks, as the `ConnectInfo` extractor
/// accepts).
pub fn peer_ip(req: &Request) -> Option<IpAddr> {
    let extensions = req.extensions();
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .or_else(|| {
            extensions
                .get::<MockConnectInfo<SocketAddr>>()
                .map(|m| m.0.ip())
        })
}

/// What the rate-limit middleware needs.
#[derive(Debug, Clone)]
pub struct AbuseControls {
    pub limiter: Option<Arc<RateLimiter>>,
    pub trusted_proxies: Arc<Vec<IpNet>>,
    /// The key of the hash that names a client in the logs; random per process.
    pub caller_key: std::collections::hash_map::RandomState,
}

impl AbuseControls {
    /// A client's name in the logs: a keyed hash of its address (the same all process long,
    /// unlinkable across restarts), so the log can tell clients apart without holding their
    /// addresses.
    pub fn caller_name(&self, client: Option<IpAddr>) -> String {
        use std::hash::BuildHasher;
        client.map_or_else(
            || "unknown".to_owned(),
            |ip| format!("{:016x}", self.caller_key.hash_one(ip)),
        )
    }
}

/// The routes that cost money: one token each.
fn is_limited(path: &str) -> bool {
    matches!(path, "/api/generate_image" | "/api/edit_image")
}

/// Names the caller in the request's log span, and answers 429 when the client has no token
/// left for a generation or an edit.
pub async fn rate_limit(
    State(controls): State<AbuseControls>,
    req: Request,
    next: Next,
) -> Response {
    let client = client_ip(peer_ip(&req), req.headers(), &controls.trusted_proxies);
    tracing::Span::current().record("caller", controls.caller_name(client).as_str());
    let Some(limiter) = controls
        .limiter
        .as_ref()
        .filter(|_| is_limited(req.uri().path()))
    else {
        return next.run(req).await;
    };
    match limiter.check(client, Instant::now()) {
        Ok(()) => next.run(req).await,
        Err(wait) => {
            let secs = wait.as_secs().max(1);
            tracing::warn!(retry_after_secs = secs, "rate limit reached");
            metrics::counter!("gemflash_refusals_total", "reason" => "rate_limit").increment(1);
            let mut error = UserError::new(
                ErrorKind::RateLimited,
                "Too many images requested in a short time.",
            );
            error.retry_after_secs = Some(secs);
            let mut res = crate::security::refuse_with(error);
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            res
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn networks_parse_and_match() {
        let net: IpNet = "10.0.0.0/8".parse().unwrap();
        assert!(net.contains(ip("10.1.2.3")));
        assert!(!net.contains(ip("11.0.0.1")));
        assert!(net.contains(ip("::ffff:10.9.9.9")), "IPv4-mapped");
        let one: IpNet = "192.168.1.5".parse().unwrap();
        assert!(one.contains(ip("192.168.1.5")) && !one.contains(ip("192.168.1.6")));
        let v6: IpNet = "fd00::/8".parse().unwrap();
        assert!(v6.contains(ip("fd12::1")) && !v6.contains(ip("fe80::1")));
        assert!(
            "0.0.0.0/0"
                .parse::<IpNet>()
                .unwrap()
                .contains(ip("8.8.8.8"))
        );
        assert!("10.0.0.0/33".parse::<IpNet>().is_err());
        assert!("proxy".parse::<IpNet>().is_err());
    }

    #[test]
    fn a_forwarded_address_is_believed_only_from_a_trusted_proxy() {
        let trusted = vec!["10.0.0.0/8".parse().unwrap()];
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            "6.6.6.6, 203.0.113.7, 10.0.0.2".parse().unwrap(),
        );
        // From the proxy: the nearest untrusted hop, not the first (client-chosen) entry.
        assert_eq!(
            client_ip(Some(ip("10.0.0.1")), &h, &trusted),
            Some(ip("203.0.113.7"))
        );
        // From anyone else the header is ignored.
        assert_eq!(
            client_ip(Some(ip("198.51.100.1")), &h, &trusted),
            Some(ip("198.51.100.1"))
        );
        assert_eq!(
            client_ip(Some(ip("10.0.0.1")), &HeaderMap::new(), &trusted),
            Some(ip("10.0.0.1"))
        );
    }

    #[test]
    fn buckets_empty_then_refill_per_client() {
        let limiter = RateLimiter::new(6, 2); // one token per 10 s, two at once
        let t0 = Instant::now();
        let (a, b) = (Some(ip("1.1.1.1")), Some(ip("2.2.2.2")));
        assert!(limiter.check(a, t0).is_ok());
        assert!(limiter.check(a, t0).is_ok());
        let wait = limiter.check(a, t0).unwrap_err();
        assert!((9..=10).contains(&wait.as_secs()), "{wait:?}");
        assert!(limiter.check(b, t0).is_ok(), "clients are separate");
        assert!(
            limiter.check(a, t0 + Duration::from_secs(10)).is_ok(),
            "refilled"
        );
        assert!(limiter.check(a, t0 + Duration::from_secs(10)).is_err());
    }
}
