//! Graceful shutdown: a request in flight when the signal comes still gets its answer, and
//! the server stops once it has; the grace period bounds the wait.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use axum::{Router, routing::get};
use server::shutdown::serve;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
    sync::oneshot,
};

async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_millis(300)).await;
    "finished"
}

async fn raw_get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    stream.read_to_string(&mut out).await.unwrap();
    out
}

#[tokio::test]
async fn in_flight_request_finishes_after_the_shutdown_signal() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let app = Router::new().route("/slow", get(slow));
    let server = tokio::spawn(serve(
        listener,
        app,
        async {
            let _ = stop_rx.await;
        },
        Duration::from_secs(10),
    ));

    let request = tokio::spawn(raw_get(addr, "/slow"));
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop_tx.send(()).unwrap();

    let answer = request.await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("finished"), "{answer}");
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();

    // Once stopped, the port takes no new connections.
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn grace_period_bounds_the_wait_for_a_stuck_request() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let app = Router::new().route(
        "/stuck",
        get(|| async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            "never"
        }),
    );
    let server = tokio::spawn(serve(
        listener,
        app,
        async {
            let _ = stop_rx.await;
        },
        Duration::from_millis(200),
    ));
    let _request = tokio::spawn(raw_get(addr, "/stuck"));
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop_tx.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the grace period must end the wait")
        .unwrap()
        .unwrap();
}
