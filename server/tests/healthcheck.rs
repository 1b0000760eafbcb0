//! `gemflash healthcheck` against the real binary: 0 while the server runs, 1 when it does not.

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
