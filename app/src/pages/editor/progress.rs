//! What a running request is doing, in words: its turn in the queue, each call to Gemini, each
//! retry with its reason and a countdown to the next try, the model's thought summaries,
//! compositing, storing. Screen readers hear each phase once (see `send`), not the countdown.

use leptos::prelude::*;
use protocol::JobEvent;

use super::EditorState;

/// A phase in words; `countdown` is the seconds left before a waiting retry.
pub fn describe(event: &JobEvent, countdown: Option<u32>) -> Option<String> {
    Some(match event {
        JobEvent::Queued { ahead: 0 } => "Waiting for a free slot…".to_owned(),
        JobEvent::Queued { ahead } => {
            format!("Waiting for a free slot: {ahead} ahead of you…")
        }
        JobEvent::Calling { attempt: 1, .. } => "Asking Gemini…".to_owned(),
        JobEvent::Calling { attempt, of } => {
            format!("Asking Gemini again (attempt {attempt} of {of})…")
        }
        JobEvent::Retrying {
            attempt,
            of,
            wait_secs,
            reason,
        } => format!(
            "Retrying ({} of {of}): {}. Next try in {} s.",
            attempt + 1,
            reason.describe(),
            countdown.unwrap_or(*wait_secs)
        ),
        JobEvent::Thought { .. } => "Gemini is thinking…".to_owned(),
        JobEvent::Compositing => "Fitting the edit into your image through the mask…".to_owned(),
        JobEvent::Storing => "Saving to the gallery…".to_owned(),
        JobEvent::Working | JobEvent::Done { .. } | JobEvent::Failed { .. } => return None,
    })
}

/// A thought summary's title and the rest. Summaries open with a bold title (`**Title**`);
/// upstream text reaches the page with its line breaks removed, so the title is found by its
/// emphasis, else it is the first line.
pub fn split_thought(text: &str) -> (String, String) {
    let text = text.trim();
    if let Some(rest) = text.strip_prefix("**")
        && let Some((title, rest)) = rest.split_once("**")
    {
        return (title.trim().to_owned(), rest.trim().to_owned());
    }
    let mut lines = text.splitn(2, '\n');
    let title = lines.next().unwrap_or_default().trim();
    let rest = lines.next().unwrap_or_default().trim();
    (title.to_owned(), rest.to_owned())
}

#[component]
pub fn Progress() -> impl IntoView {
    let state = expect_context::<EditorState>();
    let countdown = move || {
        let at = state.retry_at.get()?;
        Some(at.saturating_sub(state.elapsed.get()))
    };
    move || {
        if !state.busy.get() {
            return None;
        }
        let phase = state.phase.get();
        let text = phase.as_ref().and_then(|p| describe(p, countdown()));
        let thought = state.thought.get().map(|t| split_thought(&t));
        Some(view! {
            <div class="progress small" data-testid="progress">
                {text.map(|t| view! { <p data-testid="phase">{t}</p> })}
                {thought
                    .map(|(title, rest)| {
                        view! {
                            <p class="thought muted" data-testid="thought">
                                <strong>{title}</strong>
                                " "
                                {rest}
                            </p>
                        }
                    })}
            </div>
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::RetryReason;

    #[test]
    fn phases_read_as_sentences_with_the_countdown() {
        let retry = JobEvent::Retrying {
            attempt: 1,
            of: 5,
            wait_secs: 10,
            reason: RetryReason::Throttled,
        };
        assert_eq!(
            describe(&retry, Some(7)).unwrap(),
            "Retrying (2 of 5): Gemini's quota is used up for the moment. Next try in 7 s."
        );
        assert!(
            describe(&JobEvent::Queued { ahead: 3 }, None)
                .unwrap()
                .contains("3 ahead")
        );
        assert!(describe(&JobEvent::Working, None).is_none());
        assert_eq!(
            split_thought("**Planning the composition**\n\nSettling the layout."),
            (
                "Planning the composition".into(),
                "Settling the layout.".into()
            )
        );
        assert_eq!(
            split_thought("**Planning the composition**  Settling the layout."),
            (
                "Planning the composition".into(),
                "Settling the layout.".into()
            )
        );
        assert_eq!(
            split_thought("Plain words"),
            ("Plain words".into(), String::new())
        );
    }
}
