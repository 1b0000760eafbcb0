//! The requests: a generation, or an edit (the source being edited first, then the
//! references in the order shown, then the mask at the source's own size). While one runs the
//! page counts seconds for the eye and tells screen readers its phase once; Cancel drops the
//! call, which aborts its HTTP request.

use futures::{
    channel::oneshot,
    future::{Either, select},
};
use leptos::{prelude::*, task::spawn_local};
use protocol::{EditField, ErrorKind, GenerateRequest, ImageResult, UserError};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, FormData};

use super::{EditorState, Outcome, mask_file, sources::Source};
use crate::{
    error::AppError,
    images_api::{edit_image, generate_image},
};

/// Starts a request: clears the last error, starts the counter, arms Cancel.
fn start(state: EditorState, what: &str) -> oneshot::Receiver<()> {
    let (tx, rx) = oneshot::channel();
    state.error.set(None);
    state.busy.set(true);
    state.elapsed.set(0);
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

/// Runs a call until it answers or is cancelled, and shows what came back.
async fn run<F>(
    state: EditorState,
    cancelled: oneshot::Receiver<()>,
    call: F,
    before: Option<(u32, String)>,
) where
    F: std::future::Future<Output = Result<ImageResult, AppError>>,
{
    match select(Box::pin(call), cancelled).await {
        Either::Left((Ok(result), _)) => {
            state.say(format!("Done: a {}×{} image.", result.width, result.height));
            show(state, result, before).await;
        }
        Either::Left((Err(e), _)) => {
            state.say(e.message().to_owned());
            state.error.set(Some(e.0));
        }
        Either::Right(_) => {}
    }
    stop(state);
}

/// Shows a result; for an edit, decodes it for comparing on the stage first.
async fn show(state: EditorState, result: ImageResult, before: Option<(u32, String)>) {
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

pub fn generate(
    state: EditorState,
    prompt: String,
    model: String,
    ratio: Option<String>,
    size: Option<String>,
) {
    let cancelled = start(state, "Generating");
    spawn_local(async move {
        let request = GenerateRequest {
            prompt,
            model,
            aspect_ratio: ratio,
            image_size: size,
        };
        run(state, cancelled, generate_image(request), None).await;
    });
}

pub fn edit(state: EditorState, prompt: String, model: String) {
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
        let form = match form(state, &active, &sources, &prompt, &model).await {
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
        run(state, cancelled, edit_image(form.into()), before).await;
    });
}

/// The upload: prompt and model; the edited source (by id when stored, else its file); the
/// references as files in the order shown (a stored one is fetched from the gallery, since
/// only the edited source goes by id); the mask, when anything is painted.
async fn form(
    state: EditorState,
    active: &Source,
    references: &[Source],
    prompt: &str,
    model: &str,
) -> Result<FormData, String> {
    let failed =
        |_| "The browser could not prepare the upload. Reload the page and try again.".to_owned();
    let form = FormData::new().map_err(failed)?;
    form.append_with_str(EditField::Prompt.name(), prompt)
        .map_err(failed)?;
    form.append_with_str(EditField::Model.name(), model)
        .map_err(failed)?;
    match &active.stored_id {
        Some(id) => form
            .append_with_str(EditField::SourceId.name(), id)
            .map_err(failed)?,
        None => append_file(state, &form, active).await?,
    }
    for source in references {
        append_file(state, &form, source).await?;
    }
    let mask = state.local.with_value(|l| {
        l.masks
            .get(&active.key)
            .filter(|m| m.bitmap.bounds().is_some())
            .map(|m| m.bitmap.clone())
    });
    if let Some(mask) = mask {
        let png = mask_file::to_png(&mask)
            .await
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
