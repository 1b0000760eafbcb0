//! The sources: the images an edit is made from. Files come from the picker, a drop anywhere
//! on the page or a paste; a stored image comes from the gallery (`?source=`) or from "Keep
//! editing". Each file is checked as it arrives, in the browser, against the server's own
//! limits and with the server's own words (its format by its bytes, its size, its pixels),
//! and a refused one says why beside its thumbnail. One source is edited (its mask is
//! painted); the others are references, sent after it in the order shown.

use leptos::{either::Either, prelude::*, task::spawn_local};
use protocol::{refusal, sniff};
use web_sys::File;

use super::{
    EditorState,
    local::{SourceMask, files_of, load_image, take_chosen_files},
    stage,
};

/// An image to edit: a local upload (its file stays in the browser until sent) or a stored
/// image (sent by id).
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    pub key: u32,
    pub name: String,
    /// Where the preview loads from: an object URL or `/images/{id}`.
    pub url: String,
    pub stored_id: Option<String>,
    pub status: Status,
}

/// Where a source is in its checks.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    Checking,
    Ready {
        width: u32,
        height: u32,
    },
    /// Not an image GemFlash takes: why, in the server's words.
    Refused(String),
}

impl Source {
    pub fn is_ready(&self) -> bool {
        matches!(self.status, Status::Ready { .. })
    }

    pub fn size(&self) -> Option<(u32, u32)> {
        match self.status {
            Status::Ready { width, height } => Some((width, height)),
            _ => None,
        }
    }
}

fn next_key(state: EditorState) -> u32 {
    state.local.update_value(|l| l.next_key += 1);
    state.local.with_value(|l| l.next_key)
}

/// Adds a stored image (by id) as a source, the one being edited when none is.
pub fn add_stored(state: EditorState, id: &str) -> u32 {
    let key = next_key(state);
    let url = protocol::ImageResult::urls(id).0;
    state.sources.update(|s| {
        s.push(Source {
            key,
            name: format!("gemflash-{id}"),
            url: url.clone(),
            stored_id: Some(id.to_owned()),
            status: Status::Checking,
        })
    });
    spawn_local(async move { settle(state, key, &url, None).await });
    key
}

/// Listens for files dropped or pasted anywhere on the page, while the editor is there.
pub fn listen_for_drops_and_pastes(state: EditorState) {
    Effect::new(move |_| {
        let over = window_event_listener(leptos::ev::dragover, |ev| ev.prevent_default());
        let drop = window_event_listener(leptos::ev::drop, move |ev| {
            let files = files_of(ev.data_transfer().and_then(|d| d.files()));
            if !files.is_empty() {
                ev.prevent_default();
                add_files(state, files);
            }
        });
        let paste = window_event_listener(leptos::ev::paste, move |ev| {
            let files = files_of(ev.clipboard_data().and_then(|d| d.files()));
            if !files.is_empty() {
                ev.prevent_default();
                add_files(state, files);
            }
        });
        on_cleanup(move || {
            over.remove();
            drop.remove();
            paste.remove();
        });
    });
}

/// Adds files as sources, as many as the chosen model still has room for (refused files take
/// no room), and says how many were left out. Each is checked as it arrives.
pub fn add_files(state: EditorState, files: Vec<File>) -> Vec<u32> {
    if files.is_empty() {
        return Vec::new();
    }
    let max = state.max_images.get_untracked();
    let room = max.saturating_sub(state.sources.with_untracked(|s| {
        s.iter()
            .filter(|s| !matches!(s.status, Status::Refused(_)))
            .count()
    }));
    let left_out = files.len().saturating_sub(room);
    let mut added = Vec::new();
    for file in files.into_iter().take(room) {
        let key = next_key(state);
        added.push(key);
        let object = gloo_file::ObjectUrl::from(gloo_file::File::from(file.clone()));
        let url = object.to_string();
        state.local.update_value(|l| {
            l.files.insert(key, (file.clone(), object));
        });
        state.sources.update(|s| {
            s.push(Source {
                key,
                name: file.name(),
                url: url.clone(),
                stored_id: None,
                status: Status::Checking,
            })
        });
        spawn_local(async move { settle(state, key, &url, Some(file)).await });
    }
    state.sources_notice.set((left_out > 0).then(|| {
        format!(
            "This model takes at most {max} image{}, so {left_out} {} not added. Remove one to make room.",
            if max == 1 { "" } else { "s" },
            if left_out == 1 { "was" } else { "were" },
        )
    }));
    state.error.set(None);
    added
}

/// Checks a source and marks it ready (with a fresh mask at its size) or refused.
async fn settle(state: EditorState, key: u32, url: &str, file: Option<File>) {
    let checked = match &file {
        Some(file) => check_file(file, state).await,
        None => Ok(()),
    };
    let status = match checked {
        Err(refused) => Status::Refused(refused),
        Ok(()) => match load_image(url).await {
            Err(()) => Status::Refused(refusal::corrupt("the browser could not decode it")),
            Ok(image) => {
                let (width, height) = (image.natural_width(), image.natural_height());
                let limit = state.limits.max_image_pixels;
                if u64::from(width) * u64::from(height) > limit {
                    Status::Refused(refusal::too_many_pixels(width, height, limit))
                } else {
                    state.local.update_value(|l| {
                        l.images.insert(key, image);
                        l.masks.insert(key, SourceMask::new(width, height));
                    });
                    restore_mask(state, key, (width, height)).await;
                    Status::Ready { width, height }
                }
            }
        },
    };
    if !state.alive() {
        return;
    }
    let ready = matches!(status, Status::Ready { .. });
    if !ready {
        // A restored draft's mask for a source that did not come back goes with it.
        state.local.update_value(|l| {
            l.pending.remove(&key);
            if l.wanted_active == Some(key) {
                l.wanted_active = None;
            }
        });
    }
    let name = state.sources.with_untracked(|s| {
        s.iter()
            .find(|s| s.key == key)
            .map(|s| s.name.clone())
            .unwrap_or_default()
    });
    state.sources.update(|s| {
        if let Some(source) = s.iter_mut().find(|s| s.key == key) {
            source.status = status.clone();
        }
    });
    match status {
        Status::Ready { width, height } => state.say(format!("{name} added, {width}×{height}.")),
        Status::Refused(why) => state.say(format!("{name} was not added: {why}")),
        Status::Checking => {}
    }
    let wanted = state.local.with_value(|l| l.wanted_active == Some(key));
    if ready && (state.active.get_untracked().is_none() || wanted) {
        if wanted {
            state.local.update_value(|l| l.wanted_active = None);
        }
        select(state, key);
    }
}

/// Puts back a mask and its history kept for `key` (a restored draft), if any.
async fn restore_mask(state: EditorState, key: u32, size: (u32, u32)) {
    let Some((png, history)) = state
        .local
        .try_update_value(|l| l.pending.remove(&key))
        .flatten()
    else {
        return;
    };
    let bitmap = match png {
        Some(png) => super::mask_file::from_file(&png, size).await.ok(),
        None => None,
    };
    let history = history.and_then(|bytes| mask::History::from_bytes(&bytes, size.0, size.1));
    state.local.update_value(|l| {
        if let Some(mask) = l.masks.get_mut(&key) {
            if let Some(bitmap) = bitmap {
                mask.bitmap = bitmap;
            }
            if let Some(history) = history {
                mask.history = history;
            }
            mask.paint_overlay(mask.bitmap.full());
        }
    });
    state.mask_version.update(|v| *v += 1);
}

/// The server's checks of a file, before anything is sent: size, then format by its bytes.
async fn check_file(file: &File, state: EditorState) -> Result<(), String> {
    let size = file.size() as u64;
    if size > state.limits.max_image_bytes {
        return Err(refusal::too_many_bytes(size, state.limits.max_image_bytes));
    }
    let head = file
        .slice_with_i32_and_i32(0, 32)
        .map_err(|_| refusal::NOT_AN_IMAGE.to_owned())?;
    let bytes = gloo_file::futures::read_as_bytes(&gloo_file::Blob::from(head))
        .await
        .map_err(|_| refusal::NOT_AN_IMAGE.to_owned())?;
    match sniff::sniff(&bytes) {
        Some(sniff::ImageFormat::Png | sniff::ImageFormat::Jpeg | sniff::ImageFormat::Webp) => {
            Ok(())
        }
        Some(other) => Err(refusal::unsupported_format(other.name())),
        None => Err(refusal::NOT_AN_IMAGE.to_owned()),
    }
}

/// Makes `key` the source being edited; the stage shows it whole.
pub fn select(state: EditorState, key: u32) {
    if state.active.get_untracked() == Some(key) {
        return;
    }
    state.active.set(Some(key));
    state.compare.set(1.0);
    stage::fit(state);
    let name = state
        .sources
        .with_untracked(|s| s.iter().find(|s| s.key == key).map(|s| s.name.clone()));
    if let Some(name) = name {
        state.say(format!("Editing {name}; the other images are references."));
    }
}

pub fn remove(state: EditorState, key: u32) {
    state.sources.update(|s| s.retain(|x| x.key != key));
    state.sources_notice.set(None);
    // Dropping the object URL revokes it.
    state.local.update_value(|l| {
        l.files.remove(&key);
        l.images.remove(&key);
        l.masks.remove(&key);
        l.pending.remove(&key);
    });
    if state.active.get_untracked() == Some(key) {
        state.active.set(None);
        let next = state
            .sources
            .with_untracked(|s| s.iter().find(|s| s.is_ready()).map(|s| s.key));
        if let Some(next) = next {
            select(state, next);
        }
    }
}

/// Moves a source `by` places (negative: earlier); the order is the order references are sent.
pub fn move_by(state: EditorState, key: u32, by: isize) {
    state.sources.update(|s| {
        let Some(from) = s.iter().position(|x| x.key == key) else {
            return;
        };
        let to = (from as isize + by).clamp(0, s.len() as isize - 1) as usize;
        let item = s.remove(from);
        s.insert(to, item);
    });
}

/// Drops every source and starts from this stored image (after "Keep editing").
pub fn replace_with_stored(state: EditorState, id: &str) {
    state.local.update_value(|l| {
        l.files.clear();
        l.images.clear();
        l.masks.clear();
    });
    state.sources.set(Vec::new());
    state.active.set(None);
    add_stored(state, id);
}

/// Picking sources: the file picker here, drag-and-drop and paste anywhere on the page. No more
/// than the chosen model takes are added; choosing a model that takes fewer asks for some to be
/// removed (and Edit waits until they are).
#[component]
pub fn SourcePicker() -> impl IntoView {
    let state = expect_context::<EditorState>();
    let count = move || {
        state.sources.with(|s| {
            s.iter()
                .filter(|s| !matches!(s.status, Status::Refused(_)))
                .count()
        })
    };
    let max = move || state.max_images.get();
    let dragged = RwSignal::new(None::<u32>);
    view! {
        <div class="sources" data-testid="sources">
            <div class="sources-head">
                <label
                    class="button button-small file-button"
                    class:disabled=move || { count() >= max() }
                >
                    "Add images"
                    <input
                        type="file"
                        accept="image/png,image/jpeg,image/webp"
                        multiple
                        data-testid="file-input"
                        disabled=move || { count() >= max() }
                        on:change=move |ev| {
                            add_files(state, take_chosen_files(&ev));
                        }
                    />
                </label>
                <span class="muted small" data-testid="sources-count">
                    {move || {
                        format!(
                            "{} of up to {} · or drop or paste images anywhere",
                            count(),
                            max(),
                        )
                    }}
                </span>
            </div>
            {move || {
                let over = count().saturating_sub(max());
                let text = if over > 0 {
                    Some(
                        format!(
                            "This model takes at most {} image{}: remove {over} to edit.",
                            max(),
                            if max() == 1 { "" } else { "s" },
                        ),
                    )
                } else {
                    state.sources_notice.get()
                };
                text.map(|t| {
                    view! {
                        <p
                            class="notice notice-warn small"
                            role="status"
                            data-testid="sources-notice"
                        >
                            {t}
                        </p>
                    }
                })
            }}
            <ul class="source-list" aria-label="Images">
                <For
                    each=move || state.sources.get()
                    key=|s| (s.key, format!("{:?}", s.status))
                    let:source
                >
                    <SourceItem source dragged />
                </For>
            </ul>
        </div>
    }
}

#[component]
fn SourceItem(source: Source, dragged: RwSignal<Option<u32>>) -> impl IntoView {
    let state = expect_context::<EditorState>();
    let key = source.key;
    let editing = move || state.active.get() == Some(key);
    let checked = source.status.clone();
    let role = move || match (&checked, editing()) {
        (Status::Refused(_), _) => "Not added",
        (Status::Checking, _) => "Checking…",
        (_, true) => "Editing",
        (_, false) => "Reference",
    };
    let status = source.status.clone();
    let name = source.name.clone();
    let ready = source.is_ready();
    view! {
        <li
            class="source-item"
            class:source-editing=editing
            class:source-refused=matches!(status, Status::Refused(_))
            draggable=ready.then_some("true")
            on:dragstart=move |_| dragged.set(Some(key))
            on:dragover=move |ev| ev.prevent_default()
            on:drop=move |ev| {
                if let Some(from) = dragged.get_untracked() {
                    ev.prevent_default();
                    ev.stop_propagation();
                    let (a, b) = state
                        .sources
                        .with_untracked(|s| {
                            (
                                s.iter().position(|x| x.key == from),
                                s.iter().position(|x| x.key == key),
                            )
                        });
                    if let (Some(a), Some(b)) = (a, b) {
                        move_by(state, from, b as isize - a as isize);
                    }
                    dragged.set(None);
                }
            }
            data-testid="source-item"
            data-key=key.to_string()
        >
            {match status.clone() {
                Status::Refused(why) => {
                    Either::Left(
                        view! {
                            <div class="source-thumb source-thumb-refused" aria-hidden="true">
                                "!"
                            </div>
                            <p class="source-why small" role="alert" data-testid="source-refused">
                                <strong>{name.clone()}</strong>
                                ": "
                                {why}
                            </p>
                        },
                    )
                }
                _ => {
                    Either::Right(
                        view! {
                            <button
                                type="button"
                                class="source-thumb"
                                aria-pressed=move || editing().to_string()
                                aria-label=format!("Edit {name}")
                                disabled=!ready
                                on:click=move |_| select(state, key)
                            >
                                <img src=source.url.clone() alt=source.name.clone() />
                            </button>
                        },
                    )
                }
            }}
            <span class="source-role small" data-testid="source-role">
                {role}
            </span>
            <span class="source-actions">
                {ready
                    .then(|| {
                        view! {
                            <button
                                type="button"
                                class="icon-button"
                                aria-label=format!("Move {} earlier", source.name)
                                on:click=move |_| move_by(state, key, -1)
                            >
                                "←"
                            </button>
                            <button
                                type="button"
                                class="icon-button"
                                aria-label=format!("Move {} later", source.name)
                                on:click=move |_| move_by(state, key, 1)
                            >
                                "→"
                            </button>
                        }
                    })}
                <button
                    type="button"
                    class="icon-button remove"
                    aria-label=format!("Remove {}", source.name)
                    on:click=move |_| remove(state, key)
                >
                    "×"
                </button>
            </span>
        </li>
    }
}
