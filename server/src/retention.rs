//! The retention sweeper: when the configuration limits the gallery's age or size, a
//! background task deletes the oldest images past the limits, at start-up and then hourly.
//! It logs how many it deleted, never what they were.

use std::time::Duration;

use engine::store::{Retention, StoreHandle};

/// How often the sweeper runs after the first sweep.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(60 * 60);

/// Starts the sweeper, unless retention is unlimited. It stops when the runtime does.
pub fn spawn(store: StoreHandle, rules: Retention) -> Option<tokio::task::JoinHandle<()>> {
    if rules.is_unlimited() {
        return None;
    }
    Some(tokio::spawn(async move {
        let mut every = tokio::time::interval(SWEEP_INTERVAL);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            sweep(&store, rules).await;
        }
    }))
}

/// One sweep; returns how many images it deleted.
pub async fn sweep(store: &StoreHandle, rules: Retention) -> usize {
    let now_ms = engine::clock::now_ms();
    match store
        .run(move |s| s.enforce_retention(&rules, now_ms))
        .await
    {
        Ok(deleted) => {
            if deleted > 0 {
                tracing::info!(
                    deleted,
                    max_age_ms = rules.max_age_ms,
                    max_count = rules.max_count,
                    "retention removed the oldest images"
                );
            }
            deleted
        }
        Err(e) => {
            tracing::error!(error = %e, "retention sweep failed");
            0
        }
    }
}
