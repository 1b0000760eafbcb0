//! The server functions that make images: `generate_image` (JSON) and `edit_image`
//! (multipart: the images and the mask as files, the rest as fields).
//!
//! Both hand the work to the engine's `Studio` and answer with a [`protocol::ImageResult`]
//! (ids and URLs, never bytes), or an [`AppError`] with a kind, a sentence and the matching
//! HTTP status. Internal detail goes to the log only.

use leptos::prelude::*;
use leptos::server_fn::codec::{Json, MultipartData, MultipartFormData};
use protocol::{GenerateRequest, ImageResult};

use crate::error::AppError;

/// Text to image.
#[server(prefix = "/api", endpoint = "generate_image", input = Json)]
pub async fn generate_image(request: GenerateRequest) -> Result<ImageResult, AppError> {
    let studio = ssr::studio()?;
    let started = std::time::Instant::now();
    let model = request.model.clone();
    let outcome = studio.generate(request).await;
    ssr::finish(outcome, "generate", &model, started)
}

/// An edit. Multipart fields: `prompt`, `model`, one or more `image` files (the source first),
/// an optional `mask` PNG, and an optional `source_id` naming a stored image to edit (it then
/// comes before any uploaded image, and becomes the result's parent).
#[server(prefix = "/api", endpoint = "edit_image", input = MultipartFormData)]
pub async fn edit_image(data: MultipartData) -> Result<ImageResult, AppError> {
    let studio = ssr::studio()?;
    let started = std::time::Instant::now();
    let job = ssr::read_edit(data, &studio).await?;
    let model = job.model.clone();
    let outcome = studio.edit(job).await;
    ssr::finish(outcome, "edit", &model, started)
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use engine::studio::{EditJob, JobError, Studio};
    use leptos::prelude::*;
    use leptos::server_fn::codec::MultipartData;
    use protocol::{ErrorKind, ImageResult, UserError};

    use crate::error::AppError;

    /// Most bytes an edit upload may carry: the engine's request limit plus form overhead.
    const MAX_UPLOAD_BYTES: usize = 80 * 1024 * 1024 + 64 * 1024;
    /// Most bytes a text field may carry.
    const MAX_FIELD_BYTES: usize = 64 * 1024;

    pub fn studio() -> Result<Studio, AppError> {
        use_context::<Studio>().ok_or_else(|| {
            tracing::error!("the Studio was not provided to the Leptos context");
            AppError::internal()
        })
    }

    /// Sets the HTTP status for an error and logs the outcome as metadata only.
    pub fn finish(
        outcome: Result<ImageResult, JobError>,
        job: &'static str,
        model: &str,
        started: std::time::Instant,
    ) -> Result<ImageResult, AppError> {
        let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match outcome {
            Ok(result) => {
                tracing::info!(
                    job,
                    model,
                    latency_ms,
                    width = result.width,
                    height = result.height,
                    tokens = result.total_tokens,
                    cost_usd = result.cost_usd,
                    outcome = "ok",
                    "image job"
                );
                Ok(result)
            }
            Err(error) => {
                let user = error.to_user_error();
                match &error {
                    JobError::Store(_) | JobError::Worker(_) => {
                        tracing::error!(job, model, latency_ms, error = %error, "image job failed");
                    }
                    JobError::Gemini(e) => {
                        tracing::warn!(
                            job,
                            model,
                            latency_ms,
                            outcome = e.kind(),
                            "image job refused upstream"
                        );
                    }
                    _ => {
                        tracing::info!(job, model, latency_ms, outcome = ?user.kind, "image job refused")
                    }
                }
                Err(fail(user))
            }
        }
    }

    /// An error answer: the status set on the response, the error for the body.
    pub fn fail(user: UserError) -> AppError {
        AppError(user).respond()
    }

    fn bad(message: impl Into<String>) -> AppError {
        fail(UserError::new(ErrorKind::BadRequest, message))
    }

    /// Reads the multipart upload into an edit job, with a cap on every field and the total.
    pub async fn read_edit(data: MultipartData, studio: &Studio) -> Result<EditJob, AppError> {
        let Some(mut form) = data.into_inner() else {
            return Err(bad("The upload could not be read."));
        };
        let mut job = EditJob {
            images: Vec::new(),
            mask: None,
            prompt: String::new(),
            model: String::new(),
            parent_id: None,
        };
        let mut source_id: Option<String> = None;
        let mut total = 0usize;
        loop {
            let field = match form.next_field().await {
                Ok(Some(field)) => field,
                Ok(None) => break,
                Err(_) => return Err(bad("The upload was cut off or malformed. Try again.")),
            };
            let name = field.name().unwrap_or_default().to_owned();
            let cap = if matches!(name.as_str(), "image" | "mask") {
                MAX_UPLOAD_BYTES
            } else {
                MAX_FIELD_BYTES
            };
            let mut bytes = Vec::new();
            let mut field = field;
            loop {
                match field.chunk().await {
                    Ok(Some(chunk)) => {
                        total += chunk.len();
                        if bytes.len() + chunk.len() > cap || total > MAX_UPLOAD_BYTES {
                            return Err(fail(UserError::new(
                                ErrorKind::TooLarge,
                                "The upload is too large: at most 80 MB of images per edit. Send fewer or smaller images.",
                            )));
                        }
                        bytes.extend_from_slice(&chunk);
                    }
                    Ok(None) => break,
                    Err(_) => return Err(bad("The upload was cut off or malformed. Try again.")),
                }
            }
            let text = || {
                String::from_utf8(bytes.clone())
                    .map_err(|_| bad(format!("The field {name} is not text.")))
            };
            match name.as_str() {
                "image" => job.images.push(bytes),
                "mask" if !bytes.is_empty() => job.mask = Some(bytes),
                "mask" => {}
                "prompt" => job.prompt = text()?,
                "model" => job.model = text()?,
                "source_id" => source_id = Some(text()?).filter(|s| !s.is_empty()),
                other => return Err(bad(format!("Unexpected field {other:?} in the upload."))),
            }
        }
        if let Some(id) = source_id {
            let store = studio.store().clone();
            let lookup = id.clone();
            let source = tokio::task::spawn_blocking(move || {
                let record = store.get(&lookup).ok().flatten()?;
                store
                    .read(&record, engine::store::FileKind::Image)
                    .ok()
                    .flatten()
            })
            .await
            .ok()
            .flatten();
            let Some(source) = source else {
                return Err(fail(UserError::new(
                    ErrorKind::NotFound,
                    "The image to edit no longer exists.",
                )));
            };
            job.images.insert(0, source);
            job.parent_id = Some(id);
        }
        Ok(job)
    }
}
