//! The retention sweeper: when the configuration limits the gallery's age or size, a
//! background task deletes the oldest images past the limits, at start-up and then hourly.
//! It logs how many it deleted, never what they were.

use std::{
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use engine::store::{ImageStore, Retention};

/// How often the sweeper runs after the first sweep.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(60 * 60);

/// Starts the sweeper, unless retention is unlimited. It stops when the runtime does.
pub fn spawn(store: Arc<dyn ImageStore>, rules: Retention) -> Option<tokio::task::JoinHandle<()>> {
    if rules.is_unlimited() {
        return None;
    }
    Some(tokio::spawn(async move {
        let mut every = tokio::time::interval(SWEEP_INTERVAL);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            sweep(store.clone(), rules).await;
        }
    }))
}

/// One sweep; returns how many images it deleted.
pub async fn sweep(store: Arc<dyn ImageStore>, rules: Retention) -> usize {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    match tokio::task::spawn_blocking(move || store.enforce_retention(&rules, now_ms)).await {
        Ok(Ok(deleted)) => {
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
        Ok(Err(e)) => {
            tracing::error!(error = %e, "retention sweep failed");
            0
        }
        Err(e) => {
            tracing::error!(error = %e, "retention sweep task failed");
            0
        }
    }
}
