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
    use crate::upload::{UploadLimits, read_edit_form};

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

    /// Reads the multipart upload into an edit job (`crate::upload` caps every field), then
    /// puts the stored image named by `source_id`, if any, first.
    pub async fn read_edit(data: MultipartData, studio: &Studio) -> Result<EditJob, AppError> {
        let Some(form) = data.into_inner() else {
            return Err(fail(UserError::new(
                ErrorKind::BadRequest,
                "The upload could not be read. Try again.",
            )));
        };
        let form = read_edit_form(form, &UploadLimits::default())
            .await
            .map_err(fail)?;
        let mut job = EditJob {
            images: form.images,
            mask: form.mask,
            prompt: form.prompt,
            model: form.model,
            parent_id: None,
        };
        if let Some(id) = form.source_id {
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
