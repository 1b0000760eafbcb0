//! The binary at start: `gemflash healthcheck` (0 while the server runs, 1 when it does not), and
//! the fail-safe refusal to start where other machines can reach it without an access mode.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    net::TcpListener,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

fn command(port: u16, data: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gemflash"));
    cmd.env_clear()
        .env("GEMFLASH_ADDR", format!("0.0.0.0:{port}"))
        // Listening on every address needs an access mode chosen (as in the container).
        .env("GEMFLASH_ACCESS", "none")
        .env("GEMFLASH_DATA_DIR", data)
        .env("GEMFLASH_LOG", "warn")
        .env("LEPTOS_OUTPUT_NAME", "gemflash")
        .env("LEPTOS_SITE_ROOT", "target/site")
        .current_dir(std::env::temp_dir())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

#[test]
fn healthcheck_exits_0_while_the_server_runs_and_1_when_it_does_not() {
    let data = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let check = || {
        command(port, data.path())
            .arg("healthcheck")
            .status()
            .unwrap()
    };

    assert_eq!(check().code(), Some(1), "nothing listens yet");

    let mut server = command(port, data.path()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while check().code() != Some(0) {
        assert!(Instant::now() < deadline, "the server never became healthy");
        std::thread::sleep(Duration::from_millis(200));
    }
    server.kill().unwrap();
    server.wait().unwrap();
    assert_eq!(check().code(), Some(1), "the server is gone");
}

#[test]
fn the_server_refuses_to_start_on_a_reachable_address_without_an_access_mode() {
    let data = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_gemflash"))
        .env_clear()
        .env("GEMFLASH_ADDR", "0.0.0.0:0")
        .env("GEMFLASH_DATA_DIR", data.path())
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "a configuration error");
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("GEMFLASH_ACCESS"), "{said}");
    assert!(
        said.contains("token") && said.contains("proxy-header"),
        "{said}"
    );
}
