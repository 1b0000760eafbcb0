//! A job's progress, told as it happens to whoever listens: the browser, through the job
//! stream. A job without a listener reports to nobody, at no cost.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use protocol::{JobEvent, RetryReason};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

/// The most characters of one thought summary passed on.
const MAX_THOUGHT_CHARS: usize = 2_000;
/// The most thought summaries one job passes on (a model streams a handful).
const MAX_THOUGHTS: usize = 32;

/// Where a job tells its progress. Cheap to clone; clones tell the same listener.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    tx: Option<UnboundedSender<JobEvent>>,
    thoughts: Arc<AtomicUsize>,
}

impl Progress {
    /// Progress nobody listens to.
    pub fn none() -> Self {
        Self::default()
    }

    /// Progress told to the returned receiver. The events are few and small (a thought
    /// summary is capped, and so is their number), so the channel needs no bound.
    pub fn channel() -> (Self, UnboundedReceiver<JobEvent>) {
        let (tx, rx) = unbounded_channel();
        (
            Self {
                tx: Some(tx),
                thoughts: Arc::default(),
            },
            rx,
        )
    }

    /// Whether anybody listens (a job streams its call only then).
    pub fn is_listened(&self) -> bool {
        self.tx.as_ref().is_some_and(|tx| !tx.is_closed())
    }

    pub fn send(&self, event: JobEvent) {
        if let Some(tx) = &self.tx {
            // A listener that went away (Cancel) is not the job's failure.
            let _ = tx.send(event);
        }
    }

    /// What the Gemini client reports, as the browser is told it.
    pub(crate) fn call_event(&self, event: gemini::CallEvent<'_>) {
        match event {
            gemini::CallEvent::Attempt { attempt, of } => {
                self.send(JobEvent::Calling { attempt, of });
            }
            gemini::CallEvent::Retrying {
                attempt,
                of,
                wait,
                kind,
            } => self.send(JobEvent::Retrying {
                attempt,
                of,
                wait_secs: u32::try_from(wait.as_millis().div_ceil(1000)).unwrap_or(u32::MAX),
                reason: RetryReason::from_error_kind(kind),
            }),
            gemini::CallEvent::Thought(text) => {
                if self.thoughts.fetch_add(1, Ordering::Relaxed) >= MAX_THOUGHTS {
                    return;
                }
                let text: String = text.trim().chars().take(MAX_THOUGHT_CHARS).collect();
                if !text.is_empty() {
                    self.send(JobEvent::Thought { text });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn client_events_become_job_events_and_thoughts_are_bounded() {
        let (progress, mut rx) = Progress::channel();
        assert!(progress.is_listened());
        progress.call_event(gemini::CallEvent::Retrying {
            attempt: 1,
            of: 5,
            wait: Duration::from_millis(10_200),
            kind: "quota_exhausted",
        });
        assert_eq!(
            rx.try_recv().unwrap(),
            JobEvent::Retrying {
                attempt: 1,
                of: 5,
                wait_secs: 11,
                reason: RetryReason::Throttled
            }
        );
        let long = "x".repeat(10_000);
        for _ in 0..100 {
            progress.call_event(gemini::CallEvent::Thought(&long));
        }
        let mut count = 0;
        while let Ok(JobEvent::Thought { text }) = rx.try_recv() {
            assert_eq!(text.len(), MAX_THOUGHT_CHARS);
            count += 1;
        }
        assert_eq!(count, MAX_THOUGHTS);
        drop(rx);
        assert!(!progress.is_listened());
        progress.send(JobEvent::Working);
        assert!(!Progress::none().is_listened());
    }
}
