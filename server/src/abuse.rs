//! Abuse controls in front of the image jobs: who the client is, a per-client rate limit, and
//! a per-client cap on jobs in flight.
//!
//! The client is the connection's peer address. A forwarded address is believed only when the
//! peer is one of the configured trusted proxies, and only from the header those proxies set
//! (`X-Forwarded-For`, or RFC 7239 `Forwarded`): walking from the nearest hop outwards, the
//! first address that is not itself a trusted proxy is the client. An entry that cannot be
//! parsed stops the walk at the proxy that passed it on: the client is then that proxy, never
//! whatever stands further left (which the client chose). IPv6 clients are keyed by their /64,
//! the block one subscriber gets, so rotating addresses within it does not make new clients.
//!
//! Generation and edit requests spend one token from their client's bucket; an empty bucket
//! answers 429 with `Retry-After`. A client may also have only so many of them in flight at
//! once (its upload included), so one client cannot hold every upstream slot or a long line of
//! uploads. (The global cap on concurrent upstream calls, the daily budget and the memory
//! budget live in the engine's `Studio`, where the work is done.)

use std::{
    collections::HashMap,
    net::{IpAddr, Ipv6Addr, SocketAddr},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    body::Body,
    extract::{ConnectInfo, Request, State, connect_info::MockConnectInfo},
    http::HeaderMap,
    middleware::Next,
    response::Response,
};
use protocol::{ErrorKind, UserError};

use crate::{
    config::{ForwardedHeader, IpNet, unmapped},
    routes,
    security::refuse_with,
};

/// Who a client is, for limits: an IPv4 address, or an IPv6 address's /64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientId(IpAddr);

impl ClientId {
    pub fn of(ip: IpAddr) -> Self {
        match unmapped(ip) {
            IpAddr::V6(v6) => {
                let block = u128::from(v6) & (u128::MAX << 64);
                Self(IpAddr::V6(Ipv6Addr::from(block)))
            }
            v4 => Self(v4),
        }
    }
}

/// How clients are told apart.
#[derive(Debug, Clone)]
pub struct Identify {
    pub trusted_proxies: Arc<Vec<IpNet>>,
    pub header: ForwardedHeader,
}

impl Identify {
    /// Who a request comes from, given the peer and the headers.
    pub fn client_ip(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = peer.map(unmapped)?;
        let trusted = |ip: IpAddr| self.trusted_proxies.iter().any(|net| net.contains(ip));
        if !trusted(peer) {
            return Some(peer);
        }
        let values = headers
            .get_all(self.header.name())
            .iter()
            .map(|v| v.to_str().ok());
        let mut hops: Vec<Option<IpAddr>> = Vec::new();
        for value in values {
            match value {
                Some(text) => hops.extend(match self.header {
                    ForwardedHeader::XForwardedFor => parse_x_forwarded_for(text),
                    ForwardedHeader::Forwarded => parse_forwarded(text),
                }),
                None => hops.push(None),
            }
        }
        // From the nearest hop outwards, the first address that is not one of ours; an entry
        // that does not parse ends the walk at the proxy that passed it on.
        let mut client = peer;
        for hop in hops.into_iter().rev() {
            match hop {
                Some(ip) if trusted(ip) => client = ip,
                Some(ip) => return Some(ip),
                None => return Some(client),
            }
        }
        Some(client)
    }
}

/// The addresses of an `X-Forwarded-For` value, left to right; `None` where an entry is not
/// an address (with an optional port).
fn parse_x_forwarded_for(value: &str) -> Vec<Option<IpAddr>> {
    value
        .split(',')
        .map(|part| parse_node(part.trim()))
        .collect()
}

/// The `for=` addresses of a `Forwarded` value (RFC 7239), left to right; `None` where an
/// element has no `for`, or its node is `unknown`, obfuscated or malformed.
fn parse_forwarded(value: &str) -> Vec<Option<IpAddr>> {
    split_outside_quotes(value, ',')
        .into_iter()
        .map(|element| {
            split_outside_quotes(element, ';')
                .into_iter()
                .find_map(|pair| {
                    let (name, node) = pair.split_once('=')?;
                    if !name.trim().eq_ignore_ascii_case("for") {
                        return None;
                    }
                    let node = node.trim();
                    let node = match node.strip_prefix('"') {
                        Some(quoted) => quoted.strip_suffix('"')?,
                        None => node,
                    };
                    Some(parse_node(node))
                })?
        })
        .collect()
}

/// Splits on `sep` where it is not inside a quoted string.
fn split_outside_quotes(text: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == sep && !quoted => {
                parts.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// An address with an optional port: `1.2.3.4`, `1.2.3.4:80`, `2001:db8::1`, `[2001:db8::1]`,
/// `[2001:db8::1]:443`.
fn parse_node(node: &str) -> Option<IpAddr> {
    if let Some(rest) = node.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        let port_ok = after.is_empty()
            || after
                .strip_prefix(':')
                .is_some_and(|p| p.parse::<u16>().is_ok());
        return port_ok.then(|| inside.parse().ok()).flatten();
    }
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip);
    }
    let (host, port) = node.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

/// Token buckets per client: `burst` requests at once, refilled at `per_minute`.
#[derive(Debug)]
pub struct RateLimiter {
    per_minute: u32,
    burst: u32,
    buckets: Mutex<HashMap<Option<ClientId>, Bucket>>,
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
    pub fn check(&self, client: Option<ClientId>, now: Instant) -> Result<(), Duration> {
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

/// Jobs in flight per client, at most `max` each.
#[derive(Debug)]
pub struct JobCap {
    max: u32,
    running: Arc<Mutex<HashMap<Option<ClientId>, u32>>>,
}

/// One job in flight; its slot is given back when dropped.
#[derive(Debug)]
pub struct JobSlot {
    client: Option<ClientId>,
    running: Arc<Mutex<HashMap<Option<ClientId>, u32>>>,
}

impl JobCap {
    pub fn new(max: u32) -> Self {
        Self {
            max: max.max(1),
            running: Arc::default(),
        }
    }

    /// A slot for one more job of `client`, if it has fewer than the cap in flight.
    pub fn take(&self, client: Option<ClientId>) -> Option<JobSlot> {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        let count = running.entry(client).or_insert(0);
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(JobSlot {
            client,
            running: self.running.clone(),
        })
    }
}

impl Drop for JobSlot {
    fn drop(&mut self) {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = running.get_mut(&self.client) {
            *count -= 1;
            if *count == 0 {
                running.remove(&self.client);
            }
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

/// What the abuse middleware needs.
#[derive(Debug, Clone)]
pub struct AbuseControls {
    pub identify: Identify,
    pub limiter: Option<Arc<RateLimiter>>,
    pub jobs: Arc<JobCap>,
    /// The key of the hash that names a client in the logs; random per process.
    pub caller_key: std::collections::hash_map::RandomState,
}

impl AbuseControls {
    /// A client's name in the logs: a keyed hash of its identity (the same all process long,
    /// unlinkable across restarts), so the log can tell clients apart without holding their
    /// addresses.
    pub fn caller_name(&self, client: Option<ClientId>) -> String {
        use std::hash::BuildHasher;
        client.map_or_else(
            || "unknown".to_owned(),
            |id| format!("{:016x}", self.caller_key.hash_one(id)),
        )
    }
}

/// Names the caller in the request's log span; for a generation or an edit, answers 429 when
/// the client has no token left or already has its most jobs in flight.
pub async fn rate_limit(
    State(controls): State<AbuseControls>,
    req: Request,
    next: Next,
) -> Response {
    let client = controls
        .identify
        .client_ip(peer_ip(&req), req.headers())
        .map(ClientId::of);
    tracing::Span::current().record("caller", controls.caller_name(client).as_str());
    if !routes::costs_money(req.uri().path()) {
        return next.run(req).await;
    }
    if let Some(limiter) = &controls.limiter
        && let Err(wait) = limiter.check(client, Instant::now())
    {
        let secs = wait.as_secs().max(1);
        tracing::warn!(retry_after_secs = secs, "rate limit reached");
        metrics::counter!("gemflash_refusals_total", "reason" => "rate_limit").increment(1);
        return refuse_with(retry_in("Too many images requested in a short time.", secs));
    }
    let Some(slot) = controls.jobs.take(client) else {
        tracing::warn!("client job cap reached");
        metrics::counter!("gemflash_refusals_total", "reason" => "client_jobs").increment(1);
        return refuse_with(retry_in(
            "You already have images being made. Wait for one to finish, then try again.",
            5,
        ));
    };
    // The slot is held as long as the answer is: a streamed job runs in its body.
    next.run(req)
        .await
        .map(|body| Body::new(Holding { body, _held: slot }))
}

/// A body that holds something (a client's job slot) until it is sent or dropped.
struct Holding<T> {
    body: Body,
    _held: T,
}

impl<T: Unpin + Send + 'static> http_body::Body for Holding<T> {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        std::pin::Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

fn retry_in(message: &str, secs: u64) -> UserError {
    let mut error = UserError::new(ErrorKind::RateLimited, message);
    error.retry_after_secs = Some(secs);
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn identify(header: ForwardedHeader) -> Identify {
        Identify {
            trusted_proxies: Arc::new(vec!["10.0.0.0/8".parse().unwrap()]),
            header,
        }
    }

    fn headers(name: &'static str, values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(name, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn a_forwarded_address_is_believed_only_from_a_trusted_proxy() {
        let id = identify(ForwardedHeader::XForwardedFor);
        let h = headers("x-forwarded-for", &["6.6.6.6, 203.0.113.7, 10.0.0.2"]);
        // From the proxy: the nearest untrusted hop, not the first (client-chosen) entry.
        assert_eq!(
            id.client_ip(Some(ip("10.0.0.1")), &h),
            Some(ip("203.0.113.7"))
        );
        // From anyone else the header is ignored.
        assert_eq!(
            id.client_ip(Some(ip("198.51.100.1")), &h),
            Some(ip("198.51.100.1"))
        );
        assert_eq!(
            id.client_ip(Some(ip("10.0.0.1")), &HeaderMap::new()),
            Some(ip("10.0.0.1"))
        );
    }

    #[test]
    fn forwarded_entries_with_ports_and_brackets_parse() {
        let id = identify(ForwardedHeader::XForwardedFor);
        let proxy = Some(ip("10.0.0.1"));
        for (value, client) in [
            ("203.0.113.7:51234", "203.0.113.7"),
            ("[2001:db8::7]:443", "2001:db8::7"),
            ("2001:db8::8", "2001:db8::8"),
            ("  198.51.100.4 ", "198.51.100.4"),
        ] {
            let h = headers("x-forwarded-for", &[value]);
            assert_eq!(id.client_ip(proxy, &h), Some(ip(client)), "{value}");
        }
        // Several header lines are one list, in order.
        let h = headers("x-forwarded-for", &["6.6.6.6", "203.0.113.9"]);
        assert_eq!(id.client_ip(proxy, &h), Some(ip("203.0.113.9")));
    }

    #[test]
    fn an_unparsable_entry_means_the_proxy_not_whatever_the_client_wrote() {
        let id = identify(ForwardedHeader::XForwardedFor);
        for value in [
            "6.6.6.6, garbage",
            "6.6.6.6, unknown, 10.0.0.3",
            "6.6.6.6,",
            "6.6.6.6, 1.2.3.4:99999",
        ] {
            let h = headers("x-forwarded-for", &[value]);
            let client = id.client_ip(Some(ip("10.0.0.1")), &h);
            assert_ne!(client, Some(ip("6.6.6.6")), "{value}");
            assert!(
                client.is_some_and(|c| "10.0.0.0/8".parse::<IpNet>().unwrap().contains(c)),
                "{value}: {client:?}"
            );
        }
    }

    #[test]
    fn the_forwarded_header_is_read_when_configured_with_its_quoting() {
        let id = identify(ForwardedHeader::Forwarded);
        let proxy = Some(ip("10.0.0.1"));
        let cases = [
            (
                r#"for=6.6.6.6, for="[2001:db8:cafe::17]:4711";proto=https"#,
                Some("2001:db8:cafe::17"),
            ),
            (
                "for=192.0.2.60;proto=http;by=203.0.113.43",
                Some("192.0.2.60"),
            ),
            (r#"For="198.51.100.17:8080""#, Some("198.51.100.17")),
            ("for=6.6.6.6, for=unknown", None),
            ("for=6.6.6.6, for=_hidden", None),
            ("for=6.6.6.6, proto=https", None),
        ];
        for (value, client) in cases {
            let h = headers("forwarded", &[value]);
            let got = id.client_ip(proxy, &h);
            match client {
                Some(c) => assert_eq!(got, Some(ip(c)), "{value}"),
                None => assert_eq!(got, proxy, "{value}: the proxy, not the client's claim"),
            }
        }
        // The header the proxies do not set is ignored.
        let h = headers("x-forwarded-for", &["203.0.113.1"]);
        assert_eq!(id.client_ip(proxy, &h), proxy);
    }

    #[test]
    fn ipv6_clients_are_one_client_per_64() {
        assert_eq!(
            ClientId::of(ip("2001:db8:1:2:aaaa::1")),
            ClientId::of(ip("2001:db8:1:2:ffff::9"))
        );
        assert_ne!(
            ClientId::of(ip("2001:db8:1:2::1")),
            ClientId::of(ip("2001:db8:1:3::1"))
        );
        assert_eq!(
            ClientId::of(ip("::ffff:192.0.2.1")),
            ClientId::of(ip("192.0.2.1"))
        );
        assert_ne!(ClientId::of(ip("192.0.2.1")), ClientId::of(ip("192.0.2.2")));
    }

    #[test]
    fn buckets_empty_then_refill_per_client() {
        let limiter = RateLimiter::new(6, 2); // one token per 10 s, two at once
        let t0 = Instant::now();
        let (a, b) = (
            Some(ClientId::of(ip("1.1.1.1"))),
            Some(ClientId::of(ip("2.2.2.2"))),
        );
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

    #[test]
    fn the_job_cap_counts_per_client_and_gives_slots_back() {
        let cap = JobCap::new(2);
        let (a, b) = (
            Some(ClientId::of(ip("1.1.1.1"))),
            Some(ClientId::of(ip("2.2.2.2"))),
        );
        let first = cap.take(a).unwrap();
        let _second = cap.take(a).unwrap();
        assert!(cap.take(a).is_none());
        assert!(cap.take(b).is_some(), "another client is not held up");
        drop(first);
        assert!(cap.take(a).is_some());
    }
}
