//! The editor: generate an image from text, or edit images through a painted mask.
//!
//! Everything interactive runs in the browser (WASM): sources are previewed at once from local
//! object URLs, the mask is painted on a canvas at display size and exported at the source's
//! size, and the request goes to the `generate_image` / `edit_image` server functions. With
//! JavaScript off the page says the editor needs it and points to the gallery.

mod browser;
mod mask_canvas;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use protocol::{ErrorKind, ImageResult, ModelInfo, UserError};

use crate::server_info::use_server_info;
use mask_canvas::{MaskCanvas, MaskTool};

/// An image to edit: a local upload (its file stays in the browser until sent) or a stored
/// image (sent by id).
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    pub key: u32,
    pub name: String,
    /// Where the preview loads from: an object URL or `/images/{id}`.
    pub url: String,
    pub stored_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Generate,
    Edit,
}

/// The editor's shared state.
#[derive(Clone, Copy)]
pub(crate) struct EditorState {
    pub sources: RwSignal<Vec<Source>>,
    pub error: RwSignal<Option<UserError>>,
    pub result: RwSignal<Option<(ImageResult, Option<String>)>>,
    pub busy: RwSignal<bool>,
    pub elapsed: RwSignal<u32>,
    pub tool: RwSignal<MaskTool>,
    pub brush: RwSignal<u32>,
    pub painted: RwSignal<bool>,
    /// How many images the chosen model takes.
    pub max_images: RwSignal<usize>,
    /// Why some picked, dropped or pasted files were not added.
    pub sources_notice: RwSignal<Option<String>>,
}

#[component]
pub fn EditorPage() -> impl IntoView {
    // `/editor?source={id}` opens a stored image (from the gallery) as the source.
    let stored = use_query_map()
        .with_untracked(|q| q.get("source"))
        .filter(|id| protocol::is_image_id(id));
    let initial: Vec<Source> = stored
        .into_iter()
        .map(|id| Source {
            key: 0,
            name: format!("gemflash-{id}"),
            url: format!("/images/{id}"),
            stored_id: Some(id),
        })
        .collect();
    let state = EditorState {
        sources: RwSignal::new(initial),
        error: RwSignal::new(None),
        result: RwSignal::new(None),
        busy: RwSignal::new(false),
        elapsed: RwSignal::new(0),
        tool: RwSignal::new(MaskTool::Brush),
        brush: RwSignal::new(40),
        painted: RwSignal::new(false),
        max_images: RwSignal::new(1),
        sources_notice: RwSignal::new(None),
    };
    provide_context(state);
    browser::listen_for_drops_and_pastes(state);

    let info = use_server_info();
    view! {
        <Title text="Editor" />
        <header class="page-head">
            <h1>"Editor"</h1>
            <p class="muted">
                "Generate an image from a prompt, or bring your own images, paint a mask and say what should change."
            </p>
        </header>
        <noscript>
            <section class="empty-state" data-testid="editor-needs-js">
                <h2>"The editor needs JavaScript"</h2>
                <p class="muted">"Painting a mask and uploading images happen in your browser. Turn JavaScript on, or browse what has been made."</p>
                <div class="actions"><a class="button" href="/gallery">"Open the gallery"</a></div>
            </section>
        </noscript>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let models = info.get().await.map(|i| (i.models, i.default_model)).ok();
                models.map(|(models, default)| view! { <Editor models default_model=default /> })
            })}
        </Suspense>
    }
}

#[component]
fn Editor(models: Vec<ModelInfo>, default_model: String) -> impl IntoView {
    let state = expect_context::<EditorState>();
    let models = StoredValue::new(models);
    let model = RwSignal::new(default_model);
    let prompt = RwSignal::new(String::new());
    let ratio = RwSignal::new("1:1".to_owned());
    let size = RwSignal::new(String::new());
    let current = move || {
        let id = model.get();
        models.with_value(|all| all.iter().find(|m| m.id == id).cloned())
    };
    let mode = move || {
        if state.sources.with(Vec::is_empty) {
            Mode::Generate
        } else {
            Mode::Edit
        }
    };
    let max_images = move || current().map_or(1, |m| usize::from(m.max_input_images));
    Effect::new(move |_| state.max_images.set(max_images()));
    let too_many = move || state.sources.with(Vec::len) > state.max_images.get();

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = prompt.get_untracked();
        let chosen = model.get_untracked();
        match mode() {
            Mode::Generate => {
                let size = size.get_untracked();
                browser::generate(
                    state,
                    text,
                    chosen,
                    Some(ratio.get_untracked()),
                    (!size.is_empty()).then_some(size),
                );
            }
            Mode::Edit => browser::edit(state, text, chosen),
        }
    };

    view! {
        <div class="editor" data-testid="editor">
            <section class="card editor-panel">
                <SourcePicker />
                {move || (mode() == Mode::Edit).then(|| view! { <MaskCanvas /> })}
                <form class="prompt-form" on:submit=submit>
                    <label class="field">
                        <span>{move || if mode() == Mode::Edit { "What should change" } else { "Describe the image" }}</span>
                        <textarea
                            name="prompt"
                            rows="3"
                            required
                            maxlength=protocol::MAX_PROMPT_CHARS
                            placeholder=move || if mode() == Mode::Edit { "e.g. put a wizard hat on the cat" } else { "e.g. a lighthouse at dusk, watercolour" }
                            prop:value=move || prompt.get()
                            on:input=move |ev| prompt.set(event_target_value(&ev))
                            data-testid="prompt"
                        ></textarea>
                    </label>
                    <div class="field-row">
                        <label class="field">
                            <span>"Model"</span>
                            <select name="model" data-testid="model" on:change=move |ev| { model.set(event_target_value(&ev)); size.set(String::new()); }>
                                {models.get_value().into_iter().map(|m| {
                                    let selected = m.id == model.get_untracked();
                                    view! { <option value=m.id.clone() selected=selected>{format!("{} · ≈ ${:.3}", m.label, m.usd_per_image)}</option> }
                                }).collect_view()}
                            </select>
                        </label>
                        {move || (mode() == Mode::Generate).then(|| view! {
                            <label class="field">
                                <span>"Aspect ratio"</span>
                                <select name="aspect_ratio" data-testid="aspect-ratio" on:change=move |ev| ratio.set(event_target_value(&ev))>
                                    {current().map(|m| m.aspect_ratios).unwrap_or_default().into_iter().map(|r| {
                                        let selected = r == ratio.get_untracked();
                                        view! { <option value=r.clone() selected=selected>{r.clone()}</option> }
                                    }).collect_view()}
                                </select>
                            </label>
                        })}
                        {move || {
                            let sizes = current().map(|m| m.image_sizes).unwrap_or_default();
                            (mode() == Mode::Generate && !sizes.is_empty()).then(|| view! {
                                <label class="field">
                                    <span>"Size"</span>
                                    <select name="image_size" on:change=move |ev| size.set(event_target_value(&ev))>
                                        <option value="">"Default"</option>
                                        {sizes.into_iter().map(|s| view! { <option value=s.clone()>{s.clone()}</option> }).collect_view()}
                                    </select>
                                </label>
                            })
                        }}
                    </div>
                    <div class="actions">
                        <button type="submit" class="button button-primary" data-testid="submit" disabled=move || state.busy.get() || too_many()>
                            {move || if mode() == Mode::Edit { "Edit" } else { "Generate" }}
                        </button>
                        {move || state.busy.get().then(|| view! {
                            <span class="waiting" role="status" data-testid="waiting">{move || format!("Working… {} s", state.elapsed.get())}</span>
                            <button type="button" class="button" data-testid="cancel" on:click=move |_| browser::cancel(state)>"Cancel"</button>
                        })}
                    </div>
                </form>
                <ErrorNotice />
            </section>
            <ResultPanel />
        </div>
    }
}

/// Picking sources: the file picker here, drag-and-drop and paste anywhere on the page. No more
/// than the chosen model takes are added; choosing a model that takes fewer asks for some to be
/// removed (and Edit waits until they are).
#[component]
fn SourcePicker() -> impl IntoView {
    let state = expect_context::<EditorState>();
    let count = move || state.sources.with(Vec::len);
    let max = move || state.max_images.get();
    view! {
        <div class="sources" data-testid="sources">
            <div class="sources-head">
                <label class="button button-small file-button" class:disabled=move || { count() >= max() }>
                    "Add images"
                    <input
                        type="file"
                        accept="image/png,image/jpeg,image/webp"
                        multiple
                        data-testid="file-input"
                        disabled=move || { count() >= max() }
                        on:change=move |ev| browser::add_from_input(state, &ev)
                    />
                </label>
                <span class="muted small" data-testid="sources-count">
                    {move || format!("{} of up to {} · or drop or paste images anywhere", count(), max())}
                </span>
            </div>
            {move || {
                let over = count().saturating_sub(max());
                let text = if over > 0 {
                    Some(format!(
                        "This model takes at most {} image{}: remove {over} to edit.",
                        max(),
                        if max() == 1 { "" } else { "s" }
                    ))
                } else {
                    state.sources_notice.get()
                };
                text.map(|t| view! { <p class="notice notice-warn small" role="status" data-testid="sources-notice">{t}</p> })
            }}
            <ul class="source-list">
                <For each=move || state.sources.get() key=|s| s.key let:source>
                    <li class="source-thumb">
                        <img src=source.url.clone() alt=source.name.clone() />
                        <button type="button" class="remove" aria-label=format!("Remove {}", source.name)
                            on:click=move |_| browser::remove(state, source.key)>"×"</button>
                    </li>
                </For>
            </ul>
        </div>
    }
}

/// The error of the last request, in words fitting its kind.
#[component]
fn ErrorNotice() -> impl IntoView {
    let state = expect_context::<EditorState>();
    move || {
        state.error.get().map(|e| {
            let title = match e.kind {
                ErrorKind::PromptBlocked => "Prompt blocked",
                ErrorKind::ImageBlocked => "Image withheld",
                ErrorKind::NoImage => "No image came back",
                ErrorKind::QuotaExhausted => "Quota used up for now",
                ErrorKind::NoQuota => "This key has no image quota",
                ErrorKind::Unavailable => "Gemini is busy",
                ErrorKind::Timeout => "Gemini took too long",
                ErrorKind::TooLarge => "Too large",
                ErrorKind::UnsupportedImage => "Wrong format",
                ErrorKind::Misconfigured => "The server's Gemini setup needs attention",
                ErrorKind::Network => "Connection problem",
                ErrorKind::RateLimited => "Slow down a little",
                ErrorKind::BudgetExhausted => "Today's budget is spent",
                ErrorKind::Forbidden => "Refused",
                ErrorKind::Unauthorized => "Sign in first",
                ErrorKind::StorageFull => "The gallery is full",
                ErrorKind::RequestTimeout => "The upload took too long",
                ErrorKind::MisdirectedRequest => "Wrong address",
                ErrorKind::BadRequest | ErrorKind::NotFound | ErrorKind::Internal => {
                    "That did not work"
                }
            };
            let retry = e.retry_after_secs.map(|s| format!(" Try again in {s} s."));
            let kind = format!("{:?}", e.kind);
            view! {
                <div class="notice notice-error" role="alert" data-testid="error" data-kind=kind>
                    <strong>{title}</strong>
                    <p>{e.message.clone()}{retry}</p>
                </div>
            }
        })
    }
}

/// The result beside the source: before/after, download, keep editing, cost.
#[component]
fn ResultPanel() -> impl IntoView {
    let state = expect_context::<EditorState>();
    let show_before = RwSignal::new(false);
    move || {
        state.result.get().map(|(result, before)| {
            let cost = result.cost_usd.map_or_else(|| "cost unknown".to_owned(), |c| format!("${c:.3}"));
            let shown = {
                let (after, before) = (result.url.clone(), before.clone());
                move || if show_before.get() { before.clone().unwrap_or_else(|| after.clone()) } else { after.clone() }
            };
            let has_before = before.is_some();
            let keep = result.clone();
            view! {
                <section class="card result" data-testid="result">
                    <img class="result-image" src=shown alt="The result" data-testid="result-image" />
                    <div class="result-meta">
                        <span>{format!("{}×{}", result.width, result.height)}</span>
                        <span data-testid="cost">{cost}</span>
                        <span>{format!("{} tokens", result.total_tokens)}</span>
                    </div>
                    {result.model_text.clone().map(|t| view! { <p class="muted small">{t}</p> })}
                    <div class="actions">
                        {has_before.then(|| view! {
                            <button type="button" class="button button-small" data-testid="before-after"
                                on:click=move |_| show_before.update(|b| *b = !*b)>
                                {move || if show_before.get() { "Show after" } else { "Show before" }}
                            </button>
                        })}
                        <a class="button button-small" href=result.download_url.clone() download="" data-testid="download">"Download"</a>
                        <button type="button" class="button button-small button-primary" data-testid="keep-editing"
                            on:click=move |_| browser::keep_editing(state, &keep)>"Keep editing"</button>
                    </div>
                </section>
            }
        })
    }
}
