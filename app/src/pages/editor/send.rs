//! The requests: a generation, or an edit (the source being edited first, then the
//! references in the order shown, then the mask at the source's own size).
//!
//! Each goes to the streamed server function first, which answers with the job's progress as
//! it happens (see `crate::images_api`): the page shows each phase, tells screen readers each
//! one once, and counts seconds for the eye. A browser that cannot get the stream through
//! (the call fails before any answer, as behind a proxy that refuses it) makes the plain
//! request instead, which answers the same result or error. Cancel drops the call: before
//! the answer it aborts the request, after it cancels the stream; either way the server drops
//! the job and its upstream call.

use futures::StreamExt;
use futures::{
    channel::oneshot,
    future::{Either, select},
};
use leptos::{prelude::*, task::spawn_local};
use protocol::{EditField, ErrorKind, GenerateRequest, ImageResult, JobEvent, UserError};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, FormData};

use super::{EditorState, Outcome, mask_file, options::MAX_VARIATIONS, progress, sources::Source};
use crate::{
    error::AppError,
    images_api::{edit_image, edit_stream, generate_image, generate_stream},
    job_stream::{Lines, Read},
};

/// Starts a request: clears the last error, starts the counter, arms Cancel.
fn start(state: EditorState, what: &str) -> oneshot::Receiver<()> {
    let (tx, rx) = oneshot::channel();
    state.error.set(None);
    state.busy.set(true);
    state.elapsed.set(0);
    state.phase.set(None);
    state.thought.set(None);
    state.retry_at.set(None);
    state.say(format!("{what}: sent, waiting for Gemini."));
    let timer = set_interval_with_handle(
        move || state.elapsed.update(|s| *s += 1),
        std::time::Duration::from_secs(1),
    )
    .ok();
    state.local.update_value(|l| {
        l.cancel = Some(tx);
        if let Some(old) = std::mem::replace(&mut l.timer, timer) {
            old.clear();
        }
    });
    rx
}

fn stop(state: EditorState) {
    state.local.update_value(|l| {
        l.cancel = None;
        if let Some(timer) = l.timer.take() {
            timer.clear();
        }
    });
    state.busy.set(false);
}

/// Cancels the request in flight, if any.
pub fn cancel(state: EditorState) {
    let cancel = state.local.try_update_value(|l| l.cancel.take()).flatten();
    if let Some(tx) = cancel {
        let _ = tx.send(());
        state.say("Cancelled.");
    }
    stop(state);
}

/// One call of a request (a variation), boxed so several can run side by side.
type Call = futures::future::LocalBoxFuture<'static, Result<ImageResult, AppError>>;

/// Runs the calls of a request, at most the server's per-client job cap at a time, until all
/// have answered or Cancel is pressed: the first image is shown as it arrives, every one
/// joins the variations as it arrives, and an error is shown only when none came back.
async fn run(
    state: EditorState,
    mut cancelled: oneshot::Receiver<()>,
    calls: Vec<Call>,
    before: Option<(u32, String)>,
) {
    let wanted = calls.len();
    state.variations.set(Vec::new());
    state.variations_wanted.set(wanted);
    state.variations_failed.set(None);
    let mut pending =
        futures::stream::iter(calls).buffer_unordered(state.jobs_at_once.max(1) as usize);
    let mut made = 0;
    let mut failed: Option<AppError> = None;
    loop {
        match select(pending.next(), &mut cancelled).await {
            Either::Left((Some(Ok(result)), _)) => {
                made += 1;
                state.variations.update(|v| v.push(result.clone()));
                if made == 1 {
                    // The canvas grew: the next edit starts from the new size.
                    state.choices.expand.set(String::new());
                    state.say(format!("Done: a {}×{} image.", result.width, result.height));
                    show(state, result, before.clone()).await;
                    if !state.alive() {
                        return;
                    }
                    super::draft::sent(state);
                } else {
                    state.say(format!("Variation {made} of {wanted} is ready."));
                }
            }
            Either::Left((Some(Err(e)), _)) => {
                if failed.is_none() {
                    failed = Some(e);
                }
            }
            Either::Left((None, _)) => break,
            Either::Right(_) => return stop(state),
        }
    }
    match failed {
        Some(e) if made == 0 => {
            state.say(e.message().to_owned());
            state.error.set(Some(e.0));
        }
        Some(e) => {
            let note = format!(
                "{made} of {wanted} variations came back. The others failed: {}",
                e.message()
            );
            state.say(note.clone());
            state.variations_failed.set(Some(note));
        }
        None => {}
    }
    stop(state);
}

/// Shows a result; for an edit, decodes it for comparing on the stage first.
pub async fn show(state: EditorState, result: ImageResult, before: Option<(u32, String)>) {
    if before.is_some()
        && let Ok(image) = super::local::load_image(&result.url).await
    {
        state
            .local
            .update_value(|l| l.result_image = Some((result.id.clone(), image)));
    }
    state.compare.set(1.0);
    state.result.set(Some(Outcome { result, before }));
}

/// Shows a job's event: its phase (said once to screen readers), its thought summaries, the
/// countdown to a retry.
fn follow(state: EditorState, event: &JobEvent) {
    if !state.alive() {
        return;
    }
    match event {
        JobEvent::Working | JobEvent::Done { .. } | JobEvent::Failed { .. } => return,
        JobEvent::Thought { text } => {
            let (title, _) = progress::split_thought(text);
            state.thought.set(Some(text.clone()));
            state.say(format!("Gemini is thinking: {title}"));
        }
        JobEvent::Retrying { wait_secs, .. } => {
            state
                .retry_at
                .set(Some(state.elapsed.get_untracked() + wait_secs));
        }
        _ => state.retry_at.set(None),
    }
    if let Some(text) = progress::describe(event, None)
        && !matches!(event, JobEvent::Thought { .. })
    {
        state.say(text);
    }
    state.phase.set(Some(event.clone()));
}

/// Reads a job's stream to its end: its events shown as they come, its last one the answer.
async fn streamed(
    state: EditorState,
    stream: leptos::server_fn::codec::TextStream<AppError>,
    shown: bool,
) -> Result<ImageResult, AppError> {
    let broke = || {
        AppError::new(
            ErrorKind::Network,
            "The connection broke before the image was ready. Look in the gallery (it may have been made), or try again.",
        )
    };
    let mut lines = Lines::default();
    let mut chunks = stream.into_inner();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(|_| broke())?;
        for read in lines.push(&chunk) {
            match read {
                Read::Event(JobEvent::Done { result }) => return Ok(*result),
                Read::Event(JobEvent::Failed { error }) => return Err(AppError(error)),
                Read::Event(event) if shown => follow(state, &event),
                Read::Event(_) => {}
                Read::Garbled => return Err(broke()),
            }
        }
    }
    Err(broke())
}

/// Whether a call failed before the server answered at all (so nothing ran, and the plain
/// request may be made instead).
fn unreachable(error: &AppError) -> bool {
    error.kind() == ErrorKind::Network
}

/// A generation, `variations` times (1 to 4), the calls side by side.
pub fn generate(state: EditorState, request: GenerateRequest, variations: usize) {
    let cancelled = start(state, "Generating");
    let calls = (0..variations.clamp(1, MAX_VARIATIONS))
        .map(|i| {
            let request = request.clone();
            // Only the first call's progress is shown: the others would talk over it.
            Box::pin(async move {
                match generate_stream(request.clone()).await {
                    Ok(stream) => streamed(state, stream, i == 0).await,
                    Err(e) if unreachable(&e) => generate_image(request).await,
                    Err(e) => Err(e),
                }
            }) as Call
        })
        .collect();
    spawn_local(run(state, cancelled, calls, None));
}

/// What an edit is made with, besides its images and mask.
pub struct EditOptions {
    pub prompt: String,
    pub model: String,
    pub thinking_level: Option<String>,
    pub grounding: bool,
    pub continue_conversation: bool,
    /// Always send the whole image, never a frame around a small mask.
    pub whole_image: bool,
    /// Pixels to add around the source for the model to fill: left, top, right, bottom.
    pub expand: Option<[u32; 4]>,
}

/// An edit of the source being edited, `variations` times (1 to 4), the calls side by side.
pub fn edit(state: EditorState, options: EditOptions, variations: usize) {
    let Some(active) = state.active_source() else {
        return;
    };
    let cancelled = start(state, "Editing");
    let sources: Vec<Source> = state
        .sources
        .get_untracked()
        .into_iter()
        .filter(|s| s.is_ready() && s.key != active.key)
        .collect();
    spawn_local(async move {
        let form = match form(state, &active, &sources, &options).await {
            Ok(form) => form,
            Err(message) => {
                state.say(message.clone());
                state
                    .error
                    .set(Some(UserError::new(ErrorKind::BadRequest, message)));
                stop(state);
                return;
            }
        };
        let before = Some((active.key, active.url.clone()));
        let calls = (0..variations.clamp(1, MAX_VARIATIONS))
            .map(|i| {
                // The same form may be sent many times: a FormData is a handle, sent as it
                // is each time.
                let form = form.clone();
                Box::pin(async move {
                    match edit_stream(form.clone().into()).await {
                        Ok(stream) => streamed(state, stream, i == 0).await,
                        Err(e) if unreachable(&e) => edit_image(form.into()).await,
                        Err(e) => Err(e),
                    }
                }) as Call
            })
            .collect();
        run(state, cancelled, calls, before).await;
    });
}

/// The upload: prompt, model and options; the edited source (by id when stored, else its
/// file); the references as files in the order shown (a stored one is fetched from the
/// gallery, since only the edited source goes by id); the mask, when anything is painted.
async fn form(
    state: EditorState,
    active: &Source,
    references: &[Source],
    options: &EditOptions,
) -> Result<FormData, String> {
    let failed =
        |_| "The browser could not prepare the upload. Reload the page and try again.".to_owned();
    let form = FormData::new().map_err(failed)?;
    let text = |field: EditField, value: &str| form.append_with_str(field.name(), value);
    text(EditField::Prompt, &options.prompt).map_err(failed)?;
    text(EditField::Model, &options.model).map_err(failed)?;
    if let Some(level) = &options.thinking_level {
        text(EditField::ThinkingLevel, level).map_err(failed)?;
    }
    if options.grounding {
        text(EditField::Grounding, "on").map_err(failed)?;
    }
    if options.whole_image {
        text(EditField::Detail, "whole").map_err(failed)?;
    }
    if let Some([l, t, r, b]) = options.expand {
        text(EditField::Expand, &format!("{l},{t},{r},{b}")).map_err(failed)?;
    }
    match &active.stored_id {
        Some(id) => {
            text(EditField::SourceId, id).map_err(failed)?;
            if !options.continue_conversation {
                text(EditField::Conversation, "fresh").map_err(failed)?;
            }
        }
        None => append_file(state, &form, active).await?,
    }
    for source in references {
        append_file(state, &form, source).await?;
    }
    if !state.alive() {
        return Err("The page was left before the upload was ready.".to_owned());
    }
    let mask = state.local.with_value(|l| {
        l.masks
            .get(&active.key)
            .filter(|m| m.bitmap.bounds().is_some())
            .map(|m| m.bitmap.clone())
    });
    if let Some(mask) = mask {
        let png = mask_file::to_png(&mask)
            .ok_or("The mask could not be prepared. Try again, or reload the page.")?;
        form.append_with_blob_and_filename(EditField::Mask.name(), &png, "mask.png")
            .map_err(failed)?;
    }
    Ok(form)
}

async fn append_file(state: EditorState, form: &FormData, source: &Source) -> Result<(), String> {
    let failed =
        |_| "The browser could not prepare the upload. Reload the page and try again.".to_owned();
    let file = state
        .local
        .with_value(|l| l.files.get(&source.key).map(|(f, _)| Blob::from(f.clone())));
    let blob = match (file, &source.stored_id) {
        (Some(blob), _) => blob,
        (None, Some(_)) => fetch_blob(&source.url).await.ok_or_else(|| {
            format!(
                "{} could not be fetched from the gallery. Remove it or try again.",
                source.name
            )
        })?,
        (None, None) => {
            return Err(format!(
                "{} is no longer available. Add it again.",
                source.name
            ));
        }
    };
    form.append_with_blob_and_filename(EditField::Image.name(), &blob, &source.name)
        .map_err(failed)
}

/// A stored image's bytes, from the gallery.
async fn fetch_blob(url: &str) -> Option<Blob> {
    let response: web_sys::Response = JsFuture::from(window().fetch_with_str(url))
        .await
        .ok()?
        .dyn_into()
        .ok()?;
    if !response.ok() {
        return None;
    }
    JsFuture::from(response.blob().ok()?)
        .await
        .ok()?
        .dyn_into()
        .ok()
}
