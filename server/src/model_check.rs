//! The model check: which models of the table this server's key can use.
//!
//! At start-up and then every `GEMFLASH_MODEL_CHECK_HOURS`, GemFlash lists the models the key
//! sees (`models.list`, every page) and marks each model of the table available or not; the
//! editor and the start page show it, and a job refuses an unavailable model before it spends
//! anything. The check never holds up start-up (it runs in the background, and a slow Gemini
//! only delays its answer), and its own failure is logged, never fatal: the models keep what
//! was last known of them. A model's change of state is logged once, by id.

use std::{collections::HashSet, time::Duration};

use engine::availability::{self, ModelAvailability};
use protocol::Availability;

/// Starts the check: now, then every `every`. It stops when the runtime does.
pub fn spawn(
    client: gemini::Client,
    models: Vec<String>,
    availability: ModelAvailability,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            check(&client, &models, &availability).await;
        }
    })
}

/// One check; returns whether it could list the models.
pub async fn check(
    client: &gemini::Client,
    models: &[String],
    availability: &ModelAvailability,
) -> bool {
    let listed = match client.list_models().await {
        Ok(listed) => listed,
        Err(e) => {
            // Scrubbed by the client; for the log only.
            tracing::warn!(
                kind = e.kind(),
                detail = e.detail(),
                "the model check could not list Gemini's models; each model keeps what was last known of it"
            );
            return false;
        }
    };
    let usable: HashSet<&str> = listed
        .iter()
        .filter(|m| m.generates_content())
        .map(|m| m.id())
        .collect();
    let mut available = 0;
    for id in models {
        let state = if usable.contains(id.as_str()) {
            available += 1;
            Availability::Available
        } else {
            Availability::Unavailable {
                reason: availability::NOT_LISTED.to_owned(),
            }
        };
        let unavailable = matches!(state, Availability::Unavailable { .. });
        if availability.set(id, state) {
            if unavailable {
                tracing::warn!(
                    model = id,
                    "Gemini does not list this model for this key: it is shown as unavailable"
                );
            } else {
                tracing::info!(model = id, "this model is available to this key");
            }
        }
    }
    tracing::info!(
        listed = listed.len(),
        offered = models.len(),
        available,
        "model check done"
    );
    true
}
