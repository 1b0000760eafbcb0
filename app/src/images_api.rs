//! The server functions that make images: `generate_image` (JSON) and `edit_image`
//! (multipart: the images and the mask as files, the rest as fields).
//!
//! Both hand the work to the engine's `Studio` and answer with a [`protocol::ImageResult`]
//! (ids and URLs, never bytes), or an [`AppError`] with a kind and a sentence. Internal detail
//! goes to the log only; the status follows from the kind (see [`crate::error`]).

use leptos::prelude::*;
use leptos::server_fn::codec::{Json, MultipartData, MultipartFormData};
use protocol::{GenerateRequest, ImageResult};

use crate::error::AppError;

/// Text to image.
#[server(prefix = "/api", endpoint = "generate_image", input = Json)]
pub async fn generate_image(request: GenerateRequest) -> Result<ImageResult, AppError> {
    let studio = ssr::studio()?;
    let job = ssr::Job::start("generate", &request.model);
    let outcome = studio.generate(request).await;
    Ok(job.finish(outcome)?)
}

/// An edit. Multipart fields: `prompt`, `model`, one or more `image` files (the source first),
/// an optional `mask` PNG, and an optional `source_id` naming a stored image to edit (it then
/// comes before any uploaded image, and becomes the result's parent).
#[server(prefix = "/api", endpoint = "edit_image", input = MultipartFormData)]
pub async fn edit_image(data: MultipartData) -> Result<ImageResult, AppError> {
    let studio = ssr::studio()?;
    let edit = ssr::read_edit(data, &studio).await?;
    let job = ssr::Job::start("edit", &edit.model);
    let outcome = studio.edit(edit).await;
    Ok(job.finish(outcome)?)
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use engine::{
        memory::MemoryPermit,
        store::FileKind,
        studio::{EditJob, JobError, Studio},
    };
    use leptos::prelude::*;
    use leptos::server_fn::codec::MultipartData;
    use protocol::{ErrorKind, ImageResult, limits};

    use crate::error::AppError;
    use crate::upload::{UploadLimits, read_edit_form};

    pub fn studio() -> Result<Studio, AppError> {
        use_context::<Studio>().ok_or_else(|| {
            tracing::error!("the Studio was not provided to the Leptos context");
            AppError::internal()
        })
    }

    /// One image job's log line: what it was, for which model, how long it took, and how it
    /// ended (metadata only; a failure's own line comes from its conversion to [`AppError`]).
    pub struct Job {
        kind: &'static str,
        model: String,
        started: std::time::Instant,
    }

    impl Job {
        pub fn start(kind: &'static str, model: &str) -> Self {
            Self {
                kind,
                model: model.to_owned(),
                started: std::time::Instant::now(),
            }
        }

        pub fn finish(
            self,
            outcome: Result<ImageResult, JobError>,
        ) -> Result<ImageResult, JobError> {
            let latency_ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
            let (job, model) = (self.kind, self.model.as_str());
            match &outcome {
                Ok(result) => tracing::info!(
                    job,
                    model,
                    latency_ms,
                    width = result.width,
                    height = result.height,
                    tokens = result.total_tokens,
                    cost_usd = result.cost_usd,
                    outcome = "ok",
                    "image job"
                ),
                Err(e) => tracing::info!(
                    job,
                    model,
                    latency_ms,
                    outcome = ?e.to_user_error().kind,
                    "image job"
                ),
            }
            outcome
        }
    }

    /// The request's declared body length, if it declared one.
    fn declared_length() -> Option<u64> {
        use_context::<http::request::Parts>()?
            .headers
            .get(http::header::CONTENT_LENGTH)?
            .to_str()
            .ok()?
            .parse()
            .ok()
    }

    /// Reads the multipart upload into an edit job (`crate::upload` caps every field), then
    /// puts the stored image named by `source_id`, if any, first. The bytes are paid for
    /// from the image-memory budget before they are read: the declared length (or the most an
    /// upload may be), and the stored image's size.
    pub async fn read_edit(data: MultipartData, studio: &Studio) -> Result<EditJob, AppError> {
        let body = declared_length()
            .unwrap_or(limits::MAX_UPLOAD_BYTES as u64)
            .min(limits::MAX_UPLOAD_BYTES as u64);
        let mut memory: MemoryPermit = studio.memory().reserve(body).await?;
        let Some(form) = data.into_inner() else {
            return Err(AppError::new(
                ErrorKind::BadRequest,
                "The upload could not be read. Try again.",
            ));
        };
        let form = read_edit_form(form, &UploadLimits::default())
            .await
            .map_err(AppError)?;
        let mut job = EditJob {
            images: form.images,
            mask: form.mask,
            prompt: form.prompt,
            model: form.model,
            parent_id: None,
            upload_memory: MemoryPermit::none(),
        };
        if let Some(id) = form.source_id {
            if !protocol::is_image_id(&id) {
                return Err(gone());
            }
            let lookup = id.clone();
            let Some(record) = studio.store().run(move |store| store.get(&lookup)).await? else {
                return Err(gone());
            };
            memory.merge(studio.memory().reserve(record.bytes).await?);
            let source = studio
                .store()
                .run(move |store| store.read(&record, FileKind::Image))
                .await?
                .ok_or_else(|| {
                    tracing::error!("a stored image's file is missing");
                    gone()
                })?;
            job.images.insert(0, source);
            job.parent_id = Some(id);
        }
        job.upload_memory = memory;
        Ok(job)
    }

    fn gone() -> AppError {
        AppError::new(ErrorKind::NotFound, "The image to edit no longer exists.")
    }
}
