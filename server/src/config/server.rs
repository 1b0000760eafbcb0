//! Where GemFlash listens, the origin browsers use, the host names it answers for, where it
//! keeps its data and how long a shutdown may take.

use std::{
    net::{IpAddr, SocketAddr},
    path::PathBuf,
    str::FromStr,
    time::Duration,
};

use url::Url;

use super::{ConfigError, Env, vars};

pub const DEFAULT_ADDR: &str = "127.0.0.1:3000";
pub const DEFAULT_DATA_DIR: &str = "data";
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The socket address to listen on.
    pub addr: SocketAddr,
    /// The origin browsers use to reach GemFlash, e.g. `https://gemflash.example.com`.
    pub public_origin: Url,
    /// Whether the public origin was configured (rather than made from the listen address).
    pub public_origin_set: bool,
    /// The host names requests may be addressed to (the `Host` header, or the authority of
    /// an HTTP/2 request); anything else is refused before it is served, so a page on another
    /// site cannot reach GemFlash by rebinding its own name to GemFlash's address.
    pub allowed_hosts: Vec<HostName>,
    /// Where generated images and their metadata are kept.
    pub data_dir: PathBuf,
    /// How long in-flight requests may take to finish after a shutdown signal.
    pub shutdown_grace: Duration,
}

impl ServerConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let (addr_var, addr_text) = match (env.get(vars::ADDR), env.get(vars::LEPTOS_SITE_ADDR)) {
            (Some(v), _) => (vars::ADDR, v),
            (None, Some(v)) => (vars::LEPTOS_SITE_ADDR, v),
            (None, None) => (vars::ADDR, DEFAULT_ADDR.to_owned()),
        };
        let addr: SocketAddr = addr_text.parse().map_err(|_| {
            ConfigError::new(
                addr_var,
                format!("{addr_text:?} is not a socket address; use IP:PORT, e.g. 127.0.0.1:3000"),
            )
        })?;
        let configured_origin = env.get(vars::PUBLIC_ORIGIN);
        let public_origin = match &configured_origin {
            Some(text) => parse_origin(text)?,
            None => default_origin(addr)?,
        };
        let mut allowed_hosts: Vec<HostName> = env.list(
            vars::ALLOWED_HOSTS,
            "use host names or addresses, with a port where needed, comma-separated (e.g. gemflash.example.com,10.0.0.5:3000)",
        )?;
        if let Some(host) = public_origin.host_str() {
            allowed_hosts.push(HostName::any_port(host));
        }
        if configured_origin.is_none() {
            // Made from the listen address: a browser on this machine may use any loopback
            // name for it (localhost resolves to either family).
            if addr.ip().is_loopback() || addr.ip().is_unspecified() {
                for name in ["localhost", "127.0.0.1", "[::1]"] {
                    allowed_hosts.push(HostName::any_port(name));
                }
            } else {
                allowed_hosts.push(HostName::any_port(&host_of(addr.ip())));
            }
        }
        allowed_hosts.sort_by(|a, b| a.host.cmp(&b.host).then(a.port.cmp(&b.port)));
        allowed_hosts.dedup();
        Ok(Self {
            addr,
            public_origin,
            public_origin_set: configured_origin.is_some(),
            allowed_hosts,
            data_dir: PathBuf::from(
                env.get(vars::DATA_DIR)
                    .unwrap_or_else(|| DEFAULT_DATA_DIR.into()),
            ),
            shutdown_grace: env.seconds(vars::SHUTDOWN_GRACE, DEFAULT_SHUTDOWN_GRACE, 0..=3600)?,
        })
    }

    /// Whether the public origin is https (then cookies are `Secure` and HSTS is sent).
    pub fn https(&self) -> bool {
        self.public_origin.scheme() == "https"
    }

    /// Whether a request addressed to `host` (a `Host` header's value) may be served.
    pub fn allows_host(&self, host: &str) -> bool {
        HostName::from_str(host)
            .is_ok_and(|asked| self.allowed_hosts.iter().any(|a| a.admits(&asked)))
    }
}

/// A host name (or address) with an optional port, lower case, without a trailing dot; an
/// IPv6 address in brackets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostName {
    pub host: String,
    pub port: Option<u16>,
}

impl HostName {
    fn any_port(host: &str) -> Self {
        Self {
            host: normalise(host),
            port: None,
        }
    }

    /// Whether a request for `asked` matches this entry: the same host, and the same port
    /// when the entry names one.
    pub fn admits(&self, asked: &HostName) -> bool {
        self.host == asked.host && (self.port.is_none() || self.port == asked.port)
    }
}

fn normalise(host: &str) -> String {
    host.trim().trim_end_matches('.').to_ascii_lowercase()
}

impl FromStr for HostName {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let bad = || format!("{text:?} is not a host name with an optional port");
        let (host, port) = if let Some(rest) = text.strip_prefix('[') {
            let (inside, after) = rest.split_once(']').ok_or_else(bad)?;
            inside.parse::<std::net::Ipv6Addr>().map_err(|_| bad())?;
            let port = match after.strip_prefix(':') {
                Some(p) => Some(p.parse::<u16>().map_err(|_| bad())?),
                None if after.is_empty() => None,
                None => return Err(bad()),
            };
            (format!("[{inside}]"), port)
        } else {
            let (host, port) = match text.rsplit_once(':') {
                Some((h, p)) => (h, Some(p.parse::<u16>().map_err(|_| bad())?)),
                None => (text, None),
            };
            let valid = !host.is_empty()
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'));
            if !valid {
                return Err(bad());
            }
            (host.to_owned(), port)
        };
        Ok(Self {
            host: normalise(&host),
            port,
        })
    }
}

fn host_of(ip: IpAddr) -> String {
    match ip {
        IpAddr::V6(ip) => format!("[{ip}]"),
        IpAddr::V4(ip) => ip.to_string(),
    }
}

/// The origin a browser on this machine uses when no public origin is configured.
fn default_origin(addr: SocketAddr) -> Result<Url, ConfigError> {
    let host = if addr.ip().is_unspecified() {
        "localhost".to_owned()
    } else {
        host_of(addr.ip())
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

#[cfg(test)]
mod tests {
    use super::super::tests::config;
    use super::*;

    #[test]
    fn defaults_listen_on_loopback_with_a_matching_origin() {
        let c = config(&[]).unwrap().server;
        assert_eq!(c.addr.to_string(), "127.0.0.1:3000");
        assert_eq!(c.public_origin.as_str(), "http://127.0.0.1:3000/");
        assert_eq!(c.data_dir, PathBuf::from("data"));
        assert_eq!(c.shutdown_grace, Duration::from_secs(30));
    }

    #[test]
    fn gemflash_addr_wins_over_the_leptos_address() {
        let c = config(&[
            (vars::ADDR, "0.0.0.0:8080"),
            (vars::LEPTOS_SITE_ADDR, "127.0.0.1:9"),
            (vars::ACCESS, "none"),
        ])
        .unwrap()
        .server;
        assert_eq!(c.addr.port(), 8080);
        assert_eq!(c.public_origin.as_str(), "http://localhost:8080/");
        let c = config(&[(vars::LEPTOS_SITE_ADDR, "127.0.0.1:3100")])
            .unwrap()
            .server;
        assert_eq!(c.addr.port(), 3100);
    }

    #[test]
    fn shutdown_grace_is_whole_seconds() {
        let c = config(&[(vars::SHUTDOWN_GRACE, "5")]).unwrap().server;
        assert_eq!(c.shutdown_grace, Duration::from_secs(5));
        let e = config(&[(vars::SHUTDOWN_GRACE, "5s")]).unwrap_err();
        assert_eq!(e.var, vars::SHUTDOWN_GRACE);
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
    fn public_origin_must_be_an_origin() {
        let c = config(&[(vars::PUBLIC_ORIGIN, "https://gemflash.example.com")])
            .unwrap()
            .server;
        assert!(c.https());
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
    fn hosts_are_the_public_origins_and_the_listed_ones() {
        let c = config(&[
            (vars::PUBLIC_ORIGIN, "https://GemFlash.example.com"),
            (vars::ALLOWED_HOSTS, "intranet.example:8443, [fd00::1]"),
        ])
        .unwrap()
        .server;
        assert!(c.allows_host("gemflash.example.com"));
        assert!(c.allows_host("GEMFLASH.example.com.:443"));
        assert!(c.allows_host("intranet.example:8443"));
        assert!(
            !c.allows_host("intranet.example:8444"),
            "a listed port is exact"
        );
        assert!(c.allows_host("[fd00::1]:3000"));
        assert!(
            !c.allows_host("localhost:3000"),
            "loopback only when no origin is set"
        );
        assert!(!c.allows_host("rebind.attacker.example"));
        assert!(!c.allows_host("gemflash.example.com.attacker.example"));
        assert!(!c.allows_host(""));
        assert!(!c.allows_host("a b"));

        let local = config(&[]).unwrap().server;
        for host in ["127.0.0.1:3000", "localhost:3000", "[::1]:3000"] {
            assert!(local.allows_host(host), "{host}");
        }
        assert!(!local.allows_host("rebind.attacker.example:3000"));

        let e = config(&[(vars::ALLOWED_HOSTS, "bad host")]).unwrap_err();
        assert_eq!(e.var, vars::ALLOWED_HOSTS);
    }
}
