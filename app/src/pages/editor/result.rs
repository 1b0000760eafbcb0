//! The answer: the stored result with its size, cost and tokens, the model's words, a download,
//! a before/after toggle for an edit, and "Keep editing", which makes the result the source.

use leptos::prelude::*;

use super::{EditorState, sources};
use crate::pages::provenance::GroundingSources;

#[component]
pub fn ResultPanel() -> impl IntoView {
    let state = expect_context::<EditorState>();
    let show_before = RwSignal::new(false);
    move || {
        state.result.get().map(|outcome| {
            let result = outcome.result;
            let source = outcome.before.clone();
            let before = outcome.before.map(|(_, url)| url);
            let cost = result
                .cost_usd
                .map_or_else(|| "cost unknown".to_owned(), protocol::format_usd);
            let shown = {
                let (after, before) = (result.url.clone(), before.clone());
                move || match (show_before.get(), &before) {
                    (true, Some(before)) => before.clone(),
                    _ => after.clone(),
                }
            };
            let has_before = before.is_some();
            let id = result.id.clone();
            view! {
                <section class="card result" data-testid="result" aria-labelledby="result-title">
                    <h2 id="result-title" class="visually-hidden">
                        "Result"
                    </h2>
                    <img
                        class="result-image"
                        src=shown
                        width=result.width
                        height=result.height
                        alt=move || {
                            if show_before.get() {
                                "The image before the edit"
                            } else {
                                "The result"
                            }
                        }
                        data-testid="result-image"
                    />
                    <div class="result-meta">
                        <span>{format!("{}×{}", result.width, result.height)}</span>
                        <span data-testid="cost">{cost}</span>
                        <span>{format!("{} tokens", result.total_tokens)}</span>
                    </div>
                    {result
                        .model_text
                        .clone()
                        .map(|t| {
                            view! {
                                <p class="muted small" data-testid="model-text">
                                    {t}
                                </p>
                            }
                        })}
                    {result
                        .detail
                        .map(|gain| {
                            view! {
                                <p class="muted small" data-testid="detail-gain">
                                    {format!(
                                        "Edited at {gain:.1}× the detail: Gemini was sent a frame around the mask, not the whole image.",
                                    )}
                                </p>
                            }
                        })}
                    <VariationStrip current=result.id.clone() source=source />
                    {(result.context_turns > 0)
                        .then(|| {
                            view! {
                                <p class="muted small" data-testid="context-turns">
                                    {format!(
                                        "Gemini was sent the {} earlier turn{} of this conversation.",
                                        result.context_turns,
                                        if result.context_turns == 1 { "" } else { "s" },
                                    )}
                                </p>
                            }
                        })}
                    {result
                        .grounding
                        .clone()
                        .map(|g| view! { <GroundingSources grounding=g id=result.id.clone() /> })}
                    <div class="actions">
                        {has_before
                            .then(|| {
                                view! {
                                    <button
                                        type="button"
                                        class="button button-small"
                                        aria-pressed=move || show_before.get().to_string()
                                        data-testid="before-after"
                                        on:click=move |_| show_before.update(|b| *b = !*b)
                                    >
                                        {move || {
                                            if show_before.get() { "Show after" } else { "Show before" }
                                        }}
                                    </button>
                                }
                            })}
                        <a
                            class="button button-small"
                            href=result.download_url.clone()
                            download=""
                            data-testid="download"
                        >
                            "Download"
                        </a> <a class="button button-small" href=format!("/gallery/{}", result.id)>
                            "Details"
                        </a>
                        <button
                            type="button"
                            class="button button-small button-primary"
                            data-testid="keep-editing"
                            on:click=move |_| {
                                show_before.set(false);
                                state.result.set(None);
                                if !state.keep_prompt.get_untracked() {
                                    state.prompt.set(String::new());
                                }
                                sources::replace_with_stored(state, &id);
                            }
                        >
                            "Keep editing"
                        </button>
                    </div>
                    <label class="field-check small">
                        <input
                            type="checkbox"
                            data-testid="keep-prompt"
                            prop:checked=move || state.keep_prompt.get()
                            on:change=move |ev| {
                                let keep = event_target_checked(&ev);
                                state.keep_prompt.set(keep);
                                super::local::remember(
                                    super::KEEP_PROMPT,
                                    if keep { "yes" } else { "no" },
                                );
                            }
                        />
                        <span>"Keep the prompt when I keep editing"</span>
                    </label>
                    <label class="field-check small">
                        <input
                            type="checkbox"
                            data-testid="keep-settings"
                            prop:checked=super::local::setting(super::draft::KEEP_SETTINGS)
                                .as_deref() == Some("yes")
                            on:change=move |ev| {
                                super::local::remember(
                                    super::draft::KEEP_SETTINGS,
                                    if event_target_checked(&ev) { "yes" } else { "no" },
                                );
                            }
                        />
                        <span>"Remember my model and settings for next time"</span>
                    </label>
                </section>
            }
        })
    }
}

/// The images one request made, side by side as they arrive (and a place for each still on
/// its way); choosing one makes it the result, so editing goes on from it.
#[component]
fn VariationStrip(current: String, source: Option<(u32, String)>) -> impl IntoView {
    let state = expect_context::<EditorState>();
    move || {
        let wanted = state.variations_wanted.get();
        (wanted > 1).then(|| {
            let made = state.variations.get();
            // Places for those still on their way; none once the request has ended (a
            // variation that failed or was cancelled is not coming).
            let waiting = if state.busy.get() {
                wanted.saturating_sub(made.len())
            } else {
                0
            };
            let made_count = made.len();
            let items = made
                .into_iter()
                .enumerate()
                .map(|(i, v)| {
                    let chosen = v.id == current;
                    let thumb = v.thumbnail_url.clone();
                    let label = format!("Variation {}, {}×{}", i + 1, v.width, v.height);
                    let source = source.clone();
                    view! {
                        <li>
                            <button
                                type="button"
                                class="variation"
                                aria-pressed=chosen.to_string()
                                aria-label=label
                                data-testid="variation"
                                on:click=move |_| {
                                    leptos::task::spawn_local(
                                        super::send::show(state, v.clone(), source.clone()),
                                    );
                                }
                            >
                                <img src=thumb alt="" />
                            </button>
                        </li>
                    }
                })
                .collect_view();
            let placeholders = (0..waiting)
                .map(|_| {
                    view! {
                        <li class="variation variation-waiting" data-testid="variation-waiting">
                            "Coming…"
                        </li>
                    }
                })
                .collect_view();
            view! {
                <div class="variations" data-testid="variations-strip">
                    <p class="small muted">
                        {format!(
                            "Variations: {} of {wanted} · choose one to keep editing",
                            made_count,
                        )}
                    </p>
                    <ul class="variation-list">{items} {placeholders}</ul>
                    {move || {
                        state
                            .variations_failed
                            .get()
                            .map(|note| {
                                view! { <p class="notice notice-warn small">{note}</p> }
                            })
                    }}
                </div>
            }
        })
    }
}
