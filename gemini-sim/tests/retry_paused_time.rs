//! Retry timing with paused tokio time: no real sleeping. The simulator runs in the test's own
//! current-thread runtime, so the clock only auto-advances when every task waits on a timer,
//! which is exactly when the client sleeps between attempts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use gemini::{
    Client, ClientConfig, GeminiError, RetryPolicy,
    wire::{Content, GenerateContentRequest, Part},
};
use gemini_sim::{SimConfig, SimHandle, spawn};
use secrecy::SecretString;
use tokio::time::Instant;

const FLASH: &str = "gemini-3.1-flash-image";

async fn setup(deadline: Duration) -> (SimHandle, Client) {
    let sim = spawn(SimConfig::default()).await.unwrap();
    let mut config = ClientConfig::new(sim.base_url().parse().unwrap(), SecretString::from("k"));
    config.retry = RetryPolicy {
        jitter: 0.0,
        ..RetryPolicy::default()
    };
    config.deadline = deadline;
    config.attempt_timeout = deadline;
    (sim, Client::new(config).unwrap())
}

fn prompt(text: &str) -> GenerateContentRequest {
    GenerateContentRequest {
        contents: vec![Content::user(vec![Part::text(text)])],
        ..Default::default()
    }
}

#[tokio::test(start_paused = true)]
async fn backoff_doubles_between_attempts() {
    let (sim, client) = setup(Duration::from_secs(300)).await;
    let started = Instant::now();
    let g = client
        .generate_content(FLASH, &prompt("x [sim:fail-3]"))
        .await
        .unwrap();
    assert_eq!(g.attempts, 4);
    assert_eq!(sim.calls(), 4);
    // 1 s + 2 s + 4 s of backoff, in virtual time.
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(7) && waited < Duration::from_secs(8),
        "{waited:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_retry_delay_from_gemini_is_honoured() {
    let (sim, client) = setup(Duration::from_secs(300)).await;
    let started = Instant::now();
    let g = client
        .generate_content(FLASH, &prompt("x [sim:quota-2]"))
        .await
        .unwrap();
    assert_eq!(g.attempts, 3);
    assert_eq!(sim.calls(), 3);
    // Two waits of the 10 s Gemini asked for, although the backoff alone was 1 s and 2 s.
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(20) && waited < Duration::from_secs(21),
        "{waited:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_deadline_stops_retries_that_would_pass_it() {
    let (sim, client) = setup(Duration::from_secs(15)).await;
    let started = Instant::now();
    let e = client
        .generate_content(FLASH, &prompt("x [sim:quota-5]"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "quota_exhausted");
    // One 10 s wait fits in 15 s; a second would not, so the call ends after two attempts.
    assert_eq!(sim.calls(), 2);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(10) && waited < Duration::from_secs(11),
        "{waited:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn what_cannot_succeed_is_not_retried_and_costs_no_time() {
    let (sim, client) = setup(Duration::from_secs(300)).await;
    let started = Instant::now();
    for marker in ["quota-zero", "prompt-blocked", "leaked"] {
        let e = client
            .generate_content(FLASH, &prompt(&format!("x [sim:{marker}]")))
            .await
            .unwrap_err();
        assert!(!e.is_retryable(), "{marker}: {e:?}");
    }
    assert_eq!(sim.calls(), 3);
    assert!(started.elapsed() < Duration::from_millis(1));
    let e = client
        .generate_content("gemini-0-nope", &prompt("x"))
        .await
        .unwrap_err();
    assert!(matches!(e, GeminiError::ModelNotFound { .. }));
    assert_eq!(sim.calls(), 4);
}
