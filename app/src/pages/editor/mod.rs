//! The editor: generate an image from text, or edit images through a painted mask.
//!
//! The page is server-rendered like every other (with JavaScript off it says the editor needs
//! it); the editor itself is an island, mounted in the browser, where everything interactive
//! runs. The modules, by what they own:
//!
//! - [`sources`]: the images being edited: picked, dropped or pasted files (checked as they
//!   arrive, with the server's own words and limits) and stored images; which one is edited
//!   (the rest are references); their order.
//! - [`stage`]: the canvas: the image and its mask under a zoom and pan ([`view`]), painting
//!   with the brush, eraser, rectangle and lasso at the image's own pixels, the brush cursor,
//!   touch pinch and pan, a keyboard rectangle, the before/after comparison.
//! - [`toolbar`]: the tools, undo and redo, zoom, the feather preview, mask import and export,
//!   the keyboard shortcuts and their sheet.
//! - [`send`]: the requests (the mask exported at the source's size), Cancel, the answer.
//! - [`local`]: the browser objects of one page (files, decoded images, masks with their undo
//!   history), owned by the page and dropped with it.
//!
//! The masks are `mask::Bitmap`s at each source's own size, so what is exported is exactly
//! what was painted; the history keeps each change's rectangle, run-length encoded.

mod conversation;
mod draft;
mod expand;
mod local;
mod mask_file;
mod options;
mod progress;
mod result;
mod send;
mod sources;
mod stage;
mod tool;
mod toolbar;
mod view;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use protocol::{ErrorKind, ImageResult, JobEvent, ModelInfo, UserError, limits::Limits};

use crate::server_info::use_server_info;
use conversation::Conversation;
use expand::ExpandCanvas;
use local::Local;
use options::{Choices, DetailChoice, ImageShape, ModelOptions, Variations};
use progress::Progress;
use result::ResultPanel;
use sources::{Source, SourcePicker};
use stage::Stage;
use tool::Tool;
use toolbar::{Shortcuts, Toolbar};
use view::View;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Generate,
    Edit,
}

/// The browser's remembered setting: keep the prompt after "Keep editing".
pub(crate) const KEEP_PROMPT: &str = "gemflash.keep-prompt";

/// The editor's shared state: signals for what the page shows, and the page's browser objects.
#[derive(Clone, Copy)]
pub(crate) struct EditorState {
    pub sources: RwSignal<Vec<Source>>,
    /// The source being edited (its mask is painted; the others are references).
    pub active: RwSignal<Option<u32>>,
    pub error: RwSignal<Option<UserError>>,
    pub result: RwSignal<Option<Outcome>>,
    /// Every image the last request made so far (its variations), in the order they came.
    pub variations: RwSignal<Vec<ImageResult>>,
    /// How many variations the last request asked for.
    pub variations_wanted: RwSignal<usize>,
    /// Why some variations did not come back, when others did.
    pub variations_failed: RwSignal<Option<String>>,
    /// Calls the server lets one client run at once (variations beyond wait their turn here).
    pub jobs_at_once: u32,
    pub busy: RwSignal<bool>,
    /// Seconds the current request has run, for the visible counter.
    pub elapsed: RwSignal<u32>,
    /// What the job is doing now, as it last said.
    pub phase: RwSignal<Option<JobEvent>>,
    /// The model's latest thought summary.
    pub thought: RwSignal<Option<String>>,
    /// The second (of `elapsed`) at which a waiting retry starts.
    pub retry_at: RwSignal<Option<u32>>,
    /// What the next request asks for.
    pub prompt: RwSignal<String>,
    /// Whether "Keep editing" keeps the prompt (a person's setting, remembered by the
    /// browser); by default it is cleared, so a second click does not repeat the last edit.
    pub keep_prompt: RwSignal<bool>,
    /// Whether the work on the page has changed since it was last sent (the draft is written
    /// only then, and leaving the page warns only then).
    pub dirty: RwSignal<bool>,
    /// Whether the page opened with a restored draft (the notice offers to discard it).
    pub draft_restored: RwSignal<bool>,
    /// What the next request is made with.
    pub choices: Choices,
    pub tool: RwSignal<Tool>,
    /// The brush's diameter, in image pixels.
    pub brush: RwSignal<u32>,
    pub view: RwSignal<View>,
    /// Bumped on every change to a mask: what reads it redraws.
    pub mask_version: RwSignal<u64>,
    /// Whether the stage shows how the edit fades in at the mask's edge.
    pub feather_preview: RwSignal<bool>,
    /// The feather the server applies, in pixels.
    pub feather_px: u32,
    /// How many images the chosen model takes.
    pub max_images: Signal<usize>,
    /// Why some picked, dropped or pasted files were not added.
    pub sources_notice: RwSignal<Option<String>>,
    /// What a screen reader is told: a change, once, not a ticking counter.
    pub announce: RwSignal<String>,
    pub shortcuts_open: RwSignal<bool>,
    /// Where the result is shown against the source on the stage: 0 all before, 1 all after.
    pub compare: RwSignal<f64>,
    pub limits: Limits,
    pub stage: NodeRef<leptos::html::Canvas>,
    pub local: StoredValue<Local, LocalStorage>,
}

/// A finished request: the stored result, and the source it was made from (for comparing).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Outcome {
    pub result: ImageResult,
    /// The edited source's key and preview, for an edit.
    pub before: Option<(u32, String)>,
}

impl EditorState {
    /// Says something to screen readers (a polite live region), once.
    pub fn say(&self, text: impl Into<String>) {
        self.announce.set(text.into());
    }

    /// Whether the page is still there: work that awaited (a file read, a request) checks
    /// this before it reads the page's state, which is gone once the person navigated away.
    pub fn alive(&self) -> bool {
        self.local.try_with_value(|_| ()).is_some()
    }

    /// The source being edited, if it is ready.
    pub fn active_source(&self) -> Option<Source> {
        let key = self.active.get()?;
        self.sources
            .with(|all| all.iter().find(|s| s.key == key).cloned())
    }
}

/// The editor's page. The server renders the heading and what the editor needs to start (the
/// models, limits and the image it opens with); the editor itself is an island
/// ([`EditorIsland`]) whose code is a WASM chunk of its own in the split build (`cargo leptos
/// build --split`): everything only the editor uses (the canvas, the mask's bitmap and PNG
/// encoder, uploads, IndexedDB drafts, the edit requests) is fetched when `/editor` is opened,
/// so the pages that do not edit do not download or compile it.
#[component]
pub fn EditorPage() -> impl IntoView {
    // `/editor?source={id}` opens a stored image (from the gallery) as the source, with its
    // own model; `/editor?settings={id}` starts from a stored image's prompt and settings.
    let image_query = |name: &str| {
        use_query_map()
            .with_untracked(|q| q.get(name))
            .filter(|id| protocol::is_image_id(id))
    };
    let stored = image_query("source");
    let settings = image_query("settings");
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
                <p class="muted">
                    "Painting a mask and uploading images happen in your browser. Turn JavaScript on, or browse what has been made."
                </p>
                <div class="actions">
                    <a class="button" href="/gallery">
                        "Open the gallery"
                    </a>
                </div>
            </section>
        </noscript>
        <Suspense fallback=|| ()>
            {move || {
                let stored = stored.clone();
                let settings = settings.clone();
                Suspend::new(async move {
                    info.get()
                        .await
                        .ok()
                        .map(|info| {
                            view! {
                                <EditorIsland start=EditorStart {
                                    models: info.models,
                                    default_model: info.default_model,
                                    limits: info.limits,
                                    feather_px: info.feather_px,
                                    jobs_at_once: info.jobs_per_client,
                                    stored: stored.clone(),
                                    settings: settings.clone(),
                                } />
                            }
                        })
                })
            }}
        </Suspense>
    }
}

/// The editor as an island: its props are the server's words, serialized into the page; in
/// the browser its code loads on demand (`lazy`) when the page's loader reaches it.
///
/// The island itself is an empty place, which is all that hydrates; an effect (effects only
/// run in the browser) then mounts the editor into it. The editor holds browser objects
/// (files, decoded images, canvases) that only exist in the page, in a store that must be
/// dropped on the thread that made it, so it never renders on the server (with JavaScript
/// off, the `<noscript>` note says why). Mounted rather than hydrated, its views are built
/// one way only: hydrating an empty place still compiled every view's hydration code for the
/// whole editor, a third of its chunk.
#[island(lazy)]
fn EditorIsland(start: EditorStart) -> impl IntoView {
    let place = NodeRef::<leptos::html::Div>::new();
    // The editor belongs to the island, not to the effect that mounts it: were that effect to
    // run again, it would dispose of what it made.
    let island = Owner::current();
    place.on_load(move |place| {
        let editor = move || view! { <Editor start /> };
        let mount = move || leptos::mount::mount_to(place.into(), editor);
        // The page owns the editor until it is left: a navigation is a page load.
        match island {
            Some(island) => island.with(mount).forget(),
            None => mount().forget(),
        }
    });
    view! { <div class="editor-place" node_ref=place></div> }
}

/// What the editor starts with: the server's words, which cross into the island as its one
/// prop.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct EditorStart {
    models: Vec<ModelInfo>,
    default_model: String,
    limits: Limits,
    feather_px: u32,
    jobs_at_once: u32,
    /// A stored image to open as the source (`/editor?source={id}`).
    stored: Option<String>,
    /// A stored image whose prompt and settings to start from (`/editor?settings={id}`).
    settings: Option<String>,
}

#[component]
fn Editor(start: EditorStart) -> impl IntoView {
    let EditorStart {
        models,
        default_model,
        limits,
        feather_px,
        jobs_at_once,
        stored,
        settings,
    } = start;
    let choices = Choices::new(models, default_model);
    choices
        .detail
        .set(local::setting(options::WHOLE_IMAGE).as_deref() != Some("yes"));
    let prompt = RwSignal::new(String::new());
    // Start from a stored image: its model (and, for `settings`, its prompt and options).
    if let Some((id, whole)) = settings
        .clone()
        .map(|id| (id, true))
        .or_else(|| stored.clone().map(|id| (id, false)))
    {
        leptos::task::spawn_local(async move {
            if let Ok(Some(detail)) = crate::gallery_api::get_image_detail(id).await {
                choices.reuse(&detail.image, whole);
                if whole {
                    prompt.set(detail.image.prompt.clone());
                }
            }
        });
    }
    let max_images = Signal::derive(move || {
        choices
            .current
            .get()
            .map_or(1, |m| usize::from(m.max_input_images))
    });
    let local = StoredValue::new_local(Local::default());
    let state = EditorState {
        sources: RwSignal::new(Vec::new()),
        active: RwSignal::new(None),
        error: RwSignal::new(None),
        result: RwSignal::new(None),
        variations: RwSignal::new(Vec::new()),
        variations_wanted: RwSignal::new(0),
        variations_failed: RwSignal::new(None),
        jobs_at_once,
        busy: RwSignal::new(false),
        elapsed: RwSignal::new(0),
        phase: RwSignal::new(None),
        thought: RwSignal::new(None),
        retry_at: RwSignal::new(None),
        prompt,
        keep_prompt: RwSignal::new(local::setting(KEEP_PROMPT).as_deref() == Some("yes")),
        dirty: RwSignal::new(false),
        draft_restored: RwSignal::new(false),
        choices,
        tool: RwSignal::new(Tool::Brush),
        brush: RwSignal::new(40),
        view: RwSignal::new(View {
            zoom: 1.0,
            x: 0.0,
            y: 0.0,
        }),
        mask_version: RwSignal::new(0),
        feather_preview: RwSignal::new(false),
        feather_px,
        max_images,
        sources_notice: RwSignal::new(None),
        announce: RwSignal::new(String::new()),
        shortcuts_open: RwSignal::new(false),
        compare: RwSignal::new(1.0),
        limits,
        stage: NodeRef::new(),
        local,
    };
    provide_context(state);
    let from_gallery = stored.is_some() || settings.is_some();
    if let Some(id) = stored {
        sources::add_stored(state, &id);
    }
    keep_drafts(state, from_gallery);
    sources::listen_for_drops_and_pastes(state);
    let mode = move || {
        if state.sources.with(|s| s.iter().any(Source::is_ready)) {
            Mode::Edit
        } else {
            Mode::Generate
        }
    };
    let too_many = move || {
        state
            .sources
            .with(|s| s.iter().filter(|s| s.is_ready()).count())
            > max_images.get()
    };
    let submit = move || {
        if state.busy.get_untracked() || too_many() {
            return;
        }
        let usable = choices.current.get_untracked().is_some_and(|m| m.usable());
        if !usable {
            return;
        }
        let text = prompt.get_untracked();
        let chosen = choices.model.get_untracked();
        match mode() {
            Mode::Generate => {
                let request = protocol::GenerateRequest {
                    aspect_ratio: Some(choices.ratio.get_untracked()),
                    image_size: choices.image_size(),
                    thinking_level: choices.thinking_level(),
                    grounding: choices.grounded(),
                    ..protocol::GenerateRequest::new(text, chosen)
                };
                send::generate(state, request, choices.variations.get_untracked());
            }
            Mode::Edit => send::edit(
                state,
                send::EditOptions {
                    prompt: text,
                    model: chosen,
                    thinking_level: choices.thinking_level(),
                    grounding: choices.grounded(),
                    continue_conversation: choices.conversation.get_untracked(),
                    whole_image: !choices.detail.get_untracked(),
                    expand: expand::chosen(state, choices),
                },
                choices.variations.get_untracked(),
            ),
        }
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        submit();
    };
    toolbar::listen_for_shortcuts(state, submit);

    view! {
        <div class="editor" data-testid="editor">
            <section class="card editor-panel">
                <DraftNotice />
                <SourcePicker />
                {move || {
                    (mode() == Mode::Edit)
                        .then(|| {
                            view! {
                                <Toolbar />
                                <Stage />
                            }
                        })
                }}
                <form class="prompt-form" on:submit=on_submit>
                    <label class="field">
                        <span>
                            {move || {
                                if mode() == Mode::Edit {
                                    "What should change"
                                } else {
                                    "Describe the image"
                                }
                            }}
                        </span>
                        <textarea
                            name="prompt"
                            rows="3"
                            required
                            maxlength=protocol::MAX_PROMPT_CHARS
                            placeholder=move || {
                                if mode() == Mode::Edit {
                                    "e.g. put a wizard hat on the cat"
                                } else {
                                    "e.g. a lighthouse at dusk, watercolour"
                                }
                            }
                            prop:value=move || prompt.get()
                            on:input=move |ev| prompt.set(event_target_value(&ev))
                            aria-keyshortcuts="Control+Enter"
                            data-testid="prompt"
                        ></textarea>
                    </label>
                    <div class="field-row">
                        <ModelOptions choices=choices />
                        <Variations choices=choices />
                        {move || {
                            (mode() == Mode::Generate)
                                .then(|| view! { <ImageShape choices=choices /> })
                        }}
                    </div>
                    {move || {
                        (mode() == Mode::Edit)
                            .then(|| {
                                view! {
                                    <Conversation choices=choices />
                                    <DetailChoice choices=choices />
                                    <ExpandCanvas choices=choices />
                                }
                            })
                    }}
                    <div class="actions">
                        <button
                            type="submit"
                            class="button button-primary"
                            data-testid="submit"
                            aria-keyshortcuts="Control+Enter"
                            disabled=move || {
                                state.busy.get() || too_many()
                                    || !choices.current.get().is_some_and(|m| m.usable())
                            }
                        >
                            {move || if mode() == Mode::Edit { "Edit" } else { "Generate" }}
                        </button>
                        {move || {
                            state
                                .busy
                                .get()
                                .then(|| {
                                    view! {
                                        // The counter is for the eye; screen readers hear the phase once.
                                        <span
                                            class="waiting"
                                            data-testid="waiting"
                                            aria-hidden="true"
                                        >
                                            {move || format!("Working… {} s", state.elapsed.get())}
                                        </span>
                                        <button
                                            type="button"
                                            class="button"
                                            data-testid="cancel"
                                            aria-keyshortcuts="Escape"
                                            on:click=move |_| send::cancel(state)
                                        >
                                            "Cancel"
                                        </button>
                                    }
                                })
                        }}
                    </div>
                    <Progress />
                </form>
                <ErrorNotice />
                <p class="visually-hidden" role="status" aria-live="polite" data-testid="announce">
                    {move || state.announce.get()}
                </p>
            </section>
            <ResultPanel />
            <Shortcuts />
        </div>
    }
}

/// The draft: restored when the editor opens with no image named in its address, written a
/// moment after each change, and a warning before the page is left with work not yet sent.
fn keep_drafts(state: EditorState, from_gallery: bool) {
    let choices = state.choices;
    if !from_gallery {
        leptos::task::spawn_local(async move {
            if draft::restore(state).await {
                state.draft_restored.set(true);
                state.say("Your draft is back: images, masks, prompt and settings.");
            }
        });
    }
    // Every change to the work marks it unsent and writes the draft soon after. A page opened
    // on a gallery image starts drafting only once there is work of the person's own (a
    // prompt, paint, an upload): merely opening an image must not replace a kept draft.
    let drafting = RwSignal::new(!from_gallery);
    Effect::new(move |seen: Option<()>| {
        state.prompt.track();
        state.sources.track();
        state.active.track();
        state.mask_version.track();
        choices.model.track();
        choices.ratio.track();
        choices.size.track();
        choices.thinking.track();
        choices.grounding.track();
        choices.conversation.track();
        if seen.is_some() {
            if !drafting.get_untracked() && !has_work(state) {
                return;
            }
            drafting.set(true);
            state.dirty.set(true);
            draft::save_soon(state);
        }
    });
    // Leaving is a page load (there is no router in the browser). A link on this site followed
    // while a save is pending waits for the save (at most 1.5 s), then goes; a reload, a closed tab or a
    // hidden one (which a phone may discard) starts the save as the page goes.
    Effect::new(move |_| {
        let follow = window_event_listener(leptos::ev::click, move |ev| {
            if let Some(href) = own_link(&ev)
                && draft::pending(state)
            {
                ev.prevent_default();
                leptos::task::spawn_local(async move {
                    draft::flush_before_leaving(state).await;
                    let _ = window().location().assign(&href);
                });
            }
        });
        let leaving = window_event_listener(leptos::ev::beforeunload, move |ev| {
            draft::flush(state);
            if unsent(state) {
                ev.prevent_default();
                ev.set_return_value("");
            }
        });
        let gone = window_event_listener(leptos::ev::pagehide, move |_| draft::flush(state));
        let hidden = window_event_listener(leptos::ev::visibilitychange, move |_| {
            if document().hidden() {
                draft::flush(state);
            }
        });
        on_cleanup(move || {
            follow.remove();
            leaving.remove();
            gone.remove();
            hidden.remove();
        });
    });
}

/// The path of the link a plain click follows on this site (a header link, the gallery), or
/// `None` for a click the browser handles otherwise: a modified or middle click (a new tab,
/// where this page stays), a link to another window, a download, another site.
fn own_link(ev: &leptos::ev::MouseEvent) -> Option<String> {
    use wasm_bindgen::JsCast;

    if ev.default_prevented()
        || ev.button() != 0
        || ev.ctrl_key()
        || ev.meta_key()
        || ev.shift_key()
        || ev.alt_key()
    {
        return None;
    }
    let link = ev
        .target()?
        .dyn_into::<web_sys::Element>()
        .ok()?
        .closest("a[href]")
        .ok()??;
    if link.has_attribute("download") || link.get_attribute("target").is_some() {
        return None;
    }
    let href = link.get_attribute("href")?;
    crate::security::is_own_path(&href).then_some(href)
}

/// Whether leaving would lose work: changed since last sent, and something typed, painted or
/// uploaded (a stored image alone is in the gallery already).
fn unsent(state: EditorState) -> bool {
    state.dirty.get_untracked() && has_work(state)
}

/// Whether the page holds work of the person's own: something typed, painted or uploaded.
fn has_work(state: EditorState) -> bool {
    let painted = state
        .local
        .with_value(|l| l.masks.values().any(|m| m.bitmap.bounds().is_some()));
    let uploads = state
        .sources
        .with_untracked(|s| s.iter().any(|s| s.stored_id.is_none()));
    painted || uploads || !state.prompt.get_untracked().trim().is_empty()
}

/// Offers to throw a restored draft away.
#[component]
fn DraftNotice() -> impl IntoView {
    let state = expect_context::<EditorState>();
    let discard = move |_| {
        for key in state
            .sources
            .with_untracked(|s| s.iter().map(|s| s.key).collect::<Vec<_>>())
        {
            sources::remove(state, key);
        }
        state.prompt.set(String::new());
        state.result.set(None);
        state.error.set(None);
        state.draft_restored.set(false);
        state.dirty.set(false);
        state.say("Draft discarded.");
        leptos::task::spawn_local(draft::clear());
    };
    move || {
        state.draft_restored.get().then(|| {
            view! {
                <p
                    class="notice notice-ok small draft-notice"
                    role="status"
                    data-testid="draft-restored"
                >
                    "Draft restored · "
                    <button
                        type="button"
                        class="link-button"
                        data-testid="draft-discard"
                        on:click=discard
                    >
                        "Discard"
                    </button>
                    <button
                        type="button"
                        class="link-button"
                        aria-label="Keep the draft and hide this note"
                        on:click=move |_| state.draft_restored.set(false)
                    >
                        "×"
                    </button>
                </p>
            }
        })
    }
}

/// The error of the last request, in words fitting its kind. Each sentence once: the server's
/// message, then when to try again if the message does not say it already.
#[component]
fn ErrorNotice() -> impl IntoView {
    let state = expect_context::<EditorState>();
    move || {
        state.error.get().map(|e| {
            let title = title_of(e.kind);
            let retry = e
                .retry_after_secs
                .filter(|_| !e.message.contains("Try again in"))
                .map(|s| format!(" Try again in {s} s."));
            let kind = format!("{:?}", e.kind);
            view! {
                <div class="notice notice-error" role="alert" data-testid="error" data-kind=kind>
                    <strong>{title}</strong>
                    <p>{e.message.clone()} {retry}</p>
                </div>
            }
        })
    }
}

fn title_of(kind: ErrorKind) -> &'static str {
    match kind {
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
        ErrorKind::ModelUnavailable => "That model cannot be used",
        ErrorKind::BadRequest | ErrorKind::NotFound | ErrorKind::Internal => "That did not work",
    }
}
