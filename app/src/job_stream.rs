//! The job stream's framing: one [`JobEvent`] as one line of JSON. The server writes lines
//! ([`line`], and [`JobStream`], which runs a job and yields its events); the browser reads
//! them back however the network cut the bytes ([`Lines`]).

use protocol::JobEvent;

/// An event as one line of ASCII: JSON has no raw newline in it, so a newline ends it, and
/// every other character is written as a `\u` escape, so however the network cuts the bytes,
/// each piece is whole text (the browser decodes each piece as it comes).
pub fn line(event: &JobEvent) -> String {
    let json = serde_json::to_string(event).unwrap_or_else(|_| {
        // A JobEvent always serialises; should it not, the browser hears of a failure.
        r#"{"phase":"failed","error":{"kind":"internal","message":"Something went wrong on the server."}}"#.to_owned()
    });
    let mut text = String::with_capacity(json.len() + 1);
    for c in json.chars() {
        if c.is_ascii() {
            text.push(c);
        } else {
            // Only strings hold non-ASCII in JSON, and there an escape means the same.
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                text.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    text.push('\n');
    text
}

/// The longest line the browser takes (a result is well under a kilobyte; a thought summary
/// at most a few).
const MAX_LINE: usize = 64 * 1024;

/// Reads events from text that arrives in pieces.
#[derive(Debug, Default)]
pub struct Lines {
    pending: String,
}

/// What a piece of the stream held.
#[derive(Debug, PartialEq)]
pub enum Read {
    Event(JobEvent),
    /// A line that is not an event (or too long): the stream is not one this app sent.
    Garbled,
}

impl Lines {
    /// The whole lines `chunk` completes, each read as an event.
    pub fn push(&mut self, chunk: &str) -> Vec<Read> {
        self.pending.push_str(chunk);
        let mut out = Vec::new();
        while let Some(end) = self.pending.find('\n') {
            let text: String = self.pending.drain(..=end).collect();
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            out.push(
                serde_json::from_str(text)
                    .map(Read::Event)
                    .unwrap_or(Read::Garbled),
            );
        }
        if self.pending.len() > MAX_LINE {
            self.pending.clear();
            out.push(Read::Garbled);
        }
        out
    }
}

#[cfg(feature = "ssr")]
pub use server::JobStream;

#[cfg(feature = "ssr")]
mod server {
    use std::{
        pin::Pin,
        task::{Context, Poll},
        time::Duration,
    };

    use futures::{Stream, future::BoxFuture};
    use protocol::JobEvent;
    use tokio::{
        sync::mpsc::UnboundedReceiver,
        time::{Interval, MissedTickBehavior, interval_at},
    };

    /// A running job as a stream of its events: what it reports as it goes, then its final
    /// event, then the end. A `Working` event fills each `heartbeat` in which nothing else
    /// happened. The job runs as the stream is polled; dropping the stream drops the job.
    pub struct JobStream {
        job: Option<BoxFuture<'static, JobEvent>>,
        events: UnboundedReceiver<JobEvent>,
        last: Option<JobEvent>,
        heartbeat: Interval,
    }

    impl JobStream {
        pub fn new(
            job: BoxFuture<'static, JobEvent>,
            events: UnboundedReceiver<JobEvent>,
            heartbeat: Duration,
        ) -> Self {
            let mut ticks = interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
            ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
            Self {
                job: Some(job),
                events,
                last: None,
                heartbeat: ticks,
            }
        }
    }

    impl Stream for JobStream {
        type Item = JobEvent;

        fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<JobEvent>> {
            let this = &mut *self;
            loop {
                if let Poll::Ready(Some(event)) = this.events.poll_recv(cx) {
                    this.heartbeat.reset();
                    return Poll::Ready(Some(event));
                }
                let Some(job) = this.job.as_mut() else {
                    // The job is done and its sender gone: what it sent last is drained, then
                    // its own final event, then the end.
                    return match this.events.poll_recv(cx) {
                        Poll::Ready(Some(event)) => Poll::Ready(Some(event)),
                        _ => Poll::Ready(this.last.take()),
                    };
                };
                if let Poll::Ready(done) = job.as_mut().poll(cx) {
                    this.job = None;
                    this.last = Some(done);
                    continue;
                }
                if this.heartbeat.poll_tick(cx).is_ready() {
                    return Poll::Ready(Some(JobEvent::Working));
                }
                return Poll::Pending;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::UserError;

    #[test]
    fn events_survive_any_cut_of_the_bytes() {
        let events = [
            JobEvent::Queued { ahead: 2 },
            JobEvent::Thought {
                text: "line one\nline two \u{1F600}".into(),
            },
            JobEvent::Failed {
                error: UserError::internal(),
            },
        ];
        let text: String = events.iter().map(line).collect();
        assert_eq!(text.matches('\n').count(), 3, "one line each");
        assert!(text.is_ascii(), "every piece of the bytes is whole text");
        for cut in 1..text.len() {
            let mut lines = Lines::default();
            let mut read = lines.push(&text[..cut]);
            read.extend(lines.push(&text[cut..]));
            let expected: Vec<Read> = events.iter().cloned().map(Read::Event).collect();
            assert_eq!(read, expected, "cut at {cut}");
        }
        let mut lines = Lines::default();
        assert_eq!(lines.push("not json\n"), vec![Read::Garbled]);
        assert_eq!(lines.push(&"x".repeat(MAX_LINE + 1)), vec![Read::Garbled]);
    }

    #[cfg(feature = "ssr")]
    #[tokio::test(start_paused = true)]
    async fn the_stream_yields_progress_then_the_final_event_with_heartbeats_between() {
        use futures::StreamExt;
        use std::time::Duration;

        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let job = Box::pin(async move {
            tx.send(JobEvent::Calling { attempt: 1, of: 5 }).ok();
            tokio::time::sleep(Duration::from_secs(40)).await;
            tx.send(JobEvent::Storing).ok();
            JobEvent::Working
        });
        let stream = JobStream::new(job, rx, Duration::from_secs(15));
        let got: Vec<JobEvent> = stream.collect().await;
        assert_eq!(
            got,
            vec![
                JobEvent::Calling { attempt: 1, of: 5 },
                JobEvent::Working,
                JobEvent::Working,
                JobEvent::Storing,
                JobEvent::Working,
            ]
        );
    }
}
