//! The conversation a stored image belongs to, shown while it is edited: its lineage as a strip
//! of turns, oldest first, each with its prompt. "Keep editing" continues it (the model is sent
//! the earlier turns, see `engine::conversation`); any earlier turn can be branched from (it
//! becomes the image being edited), and the next edit can start fresh instead.

use leptos::either::Either;
use leptos::prelude::*;
use protocol::{GalleryItem, ImageDetail, LineageEntry};

use super::{EditorState, options::Choices, sources};
use crate::gallery_api::get_image_detail;

/// The turns of `detail`, oldest first, ending with the image itself; a deleted ancestor ends
/// the strip (the conversation cannot reach past it).
fn turns(detail: &ImageDetail) -> Vec<GalleryItem> {
    let mut earlier: Vec<GalleryItem> = detail
        .ancestors
        .iter()
        .map_while(|a| match a {
            LineageEntry::Present(item) => Some((**item).clone()),
            LineageEntry::Deleted { .. } => None,
        })
        .collect();
    earlier.reverse();
    earlier.push(detail.image.clone());
    earlier
}

/// The strip, when the image being edited is a stored one.
#[component]
pub fn Conversation(choices: Choices) -> impl IntoView {
    let state = expect_context::<EditorState>();
    let stored = Memo::new(move |_| state.active_source().and_then(|s| s.stored_id));
    let detail = LocalResource::new(move || {
        let id = stored.get();
        async move {
            match id {
                Some(id) => get_image_detail(id).await.ok().flatten(),
                None => None,
            }
        }
    });
    let multi_turn = move || choices.current.get().is_some_and(|m| m.multi_turn);
    move || {
        let detail = detail.get().flatten()?;
        let turns = turns(&detail);
        let count = turns.len();
        let current = detail.image.id.clone();
        let items = turns
            .into_iter()
            .enumerate()
            .map(|(i, item)| {
                let is_current = item.id == current;
                let id = item.id.clone();
                let label = format!("Turn {} of {count}: {}", i + 1, item.prompt);
                view! {
                    <li class="turn" class:turn-current=is_current data-testid="turn">
                        <img
                            src=item.thumbnail_url()
                            alt=""
                            width="48"
                            height="48"
                            class="turn-thumb"
                        />
                        <span class="turn-prompt small" title=item.prompt.clone()>
                            {item.prompt.clone()}
                        </span>
                        {(!is_current)
                            .then(|| {
                                view! {
                                    <button
                                        type="button"
                                        class="button button-small"
                                        aria-label=format!("Branch from {label}")
                                        data-testid="branch"
                                        on:click=move |_| sources::replace_with_stored(state, &id)
                                    >
                                        "Branch from here"
                                    </button>
                                }
                            })}
                    </li>
                }
            })
            .collect_view();
        Some(view! {
            <section class="conversation" aria-label="Conversation" data-testid="conversation">
                <ol class="turns">{items}</ol>
                {move || {
                    if multi_turn() {
                        Either::Left(
                            view! {
                                <label class="field-check small">
                                    <input
                                        type="checkbox"
                                        data-testid="continue-conversation"
                                        prop:checked=move || choices.conversation.get()
                                        on:change=move |ev| {
                                            choices.conversation.set(event_target_checked(&ev))
                                        }
                                    />
                                    <span>
                                        {if count == 1 {
                                            "Continue the conversation: the model sees this turn"
                                                .to_owned()
                                        } else {
                                            format!(
                                                "Continue the conversation: the model sees these {count} turns",
                                            )
                                        }}
                                    </span>
                                </label>
                            },
                        )
                    } else {
                        Either::Right(
                            view! {
                                <p class="muted small">
                                    "This model does not keep a conversation: it sees the image alone."
                                </p>
                            },
                        )
                    }
                }}
            </section>
        })
    }
}
