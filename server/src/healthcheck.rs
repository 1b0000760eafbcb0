//! `gemflash healthcheck`: asks the running server's `/healthz` and exits 0 if it answers 200,
//! 1 otherwise. For the container's `HEALTHCHECK`, which then needs no shell, curl or wget in
//! the image. It reads the same configuration as the server, so it knows where to ask, and
//! names the public origin's host (the server refuses requests for any other).

use std::{
    io::{Read, Write},
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream},
    process::ExitCode,
    time::Duration,
};

const TIMEOUT: Duration = Duration::from_secs(3);

/// Runs the check; the exit code says whether the server is healthy.
pub fn run() -> ExitCode {
    let (addr, host) = match crate::config::Config::from_env() {
        Ok(config) => {
            let origin = &config.server.public_origin;
            let host = match (origin.host_str(), origin.port()) {
                (Some(host), Some(port)) => format!("{host}:{port}"),
                (Some(host), None) => host.to_owned(),
                (None, _) => "localhost".to_owned(),
            };
            (config.server.addr, host)
        }
        Err(e) => {
            eprintln!("gemflash healthcheck: bad configuration: {e}");
            return ExitCode::FAILURE;
        }
    };
    match check(addr, &host) {
        Ok(()) => ExitCode::SUCCESS,
        Err(problem) => {
            eprintln!("gemflash healthcheck: {problem}");
            ExitCode::FAILURE
        }
    }
}

/// Whether the server listening on `addr` answers `/healthz` for `host` with 200.
pub fn check(addr: SocketAddr, host: &str) -> Result<(), String> {
    // A server listening on every address is reached on the loopback one.
    let target = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), addr.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv6Addr::LOCALHOST.into(), addr.port())
        }
        _ => addr,
    };
    let mut stream = TcpStream::connect_timeout(&target, TIMEOUT)
        .map_err(|e| format!("cannot connect to {target}: {e}"))?;
    stream
        .set_read_timeout(Some(TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(TIMEOUT)))
        .map_err(|e| format!("cannot set timeouts: {e}"))?;
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("cannot send the request: {e}"))?;
    let mut head = [0u8; 64];
    let n = stream
        .read(&mut head)
        .map_err(|e| format!("no answer: {e}"))?;
    let status_line = String::from_utf8_lossy(&head[..n]);
    if status_line.starts_with("HTTP/1.1 200") {
        Ok(())
    } else {
        Err(format!(
            "unhealthy answer: {}",
            status_line.lines().next().unwrap_or("")
        ))
    }
}
