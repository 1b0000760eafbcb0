//! A job's progress as it runs: the events the server streams to the browser while an image
//! is made, one JSON object per line, the last one the result or the error.

use serde::{Deserialize, Serialize};

use crate::{ImageResult, UserError};

/// One step of a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum JobEvent {
    /// Waiting for a turn among the calls allowed at once: `ahead` jobs came first.
    Queued { ahead: u32 },
    /// The call to Gemini is out (attempt `attempt` of at most `of`).
    Calling { attempt: u32, of: u32 },
    /// Gemini was busy or throttled; GemFlash tries again after `wait_secs`.
    Retrying {
        attempt: u32,
        of: u32,
        wait_secs: u32,
        reason: RetryReason,
    },
    /// A thought summary the model streamed while it worked.
    Thought { text: String },
    /// Fitting the answer into the source through the mask.
    Compositing,
    /// Writing the image to the gallery.
    Storing,
    /// Still working (sent when nothing else happened for a while, so proxies keep the
    /// connection open).
    Working,
    /// The image, stored.
    Done { result: Box<ImageResult> },
    /// What went wrong, in the server's words.
    Failed { error: UserError },
}

impl JobEvent {
    /// Whether this is the job's last event.
    pub fn is_final(&self) -> bool {
        matches!(self, JobEvent::Done { .. } | JobEvent::Failed { .. })
    }
}

/// Why a call is being tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetryReason {
    /// Gemini's quota allows no more calls for the moment.
    Throttled,
    /// The model is overloaded.
    Busy,
    /// Gemini failed on its side.
    UpstreamError,
    /// The attempt took too long.
    Timeout,
    /// The connection failed.
    Network,
}

impl RetryReason {
    /// The reason in words.
    pub fn describe(self) -> &'static str {
        match self {
            RetryReason::Throttled => "Gemini's quota is used up for the moment",
            RetryReason::Busy => "the model is overloaded",
            RetryReason::UpstreamError => "Gemini had an error",
            RetryReason::Timeout => "Gemini took too long to answer",
            RetryReason::Network => "the connection to Gemini failed",
        }
    }

    /// The reason for a retried Gemini error, by its kind name (`quota_exhausted`, ...).
    pub fn from_error_kind(kind: &str) -> Self {
        match kind {
            "quota_exhausted" => RetryReason::Throttled,
            "overloaded" => RetryReason::Busy,
            "timeout" => RetryReason::Timeout,
            "network" => RetryReason::Network,
            _ => RetryReason::UpstreamError,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_one_tagged_json_object_each() {
        let event = JobEvent::Retrying {
            attempt: 1,
            of: 5,
            wait_secs: 10,
            reason: RetryReason::Throttled,
        };
        let json = serde_json::to_string(&event).unwrap();
        assert_eq!(
            json,
            r#"{"phase":"retrying","attempt":1,"of":5,"wait_secs":10,"reason":"throttled"}"#
        );
        assert_eq!(serde_json::from_str::<JobEvent>(&json).unwrap(), event);
        assert!(!json.contains('\n'));
        assert!(
            JobEvent::Failed {
                error: UserError::internal()
            }
            .is_final()
        );
        assert!(!JobEvent::Working.is_final());
    }
}
