//! The server functions that make images: `generate_image` (JSON) and `edit_image`
//! (multipart: the images and the mask as files, the rest as fields), and the same jobs with
//! their progress streamed, `generate_stream` and `edit_stream`.
//!
//! All hand the work to the engine's `Studio` and answer with a [`protocol::ImageResult`]
//! (ids and URLs, never bytes), or an [`AppError`] with a kind and a sentence. Internal detail
//! goes to the log only; the status follows from the kind (see [`crate::error`]).
//!
//! The streamed ones answer `200` with `text/plain` at once and then one JSON
//! [`protocol::JobEvent`] per line as the job goes (its turn, each attempt, each retry with its
//! wait, the model's thought summaries, compositing, storing), a line every 15 s when nothing
//! else happens (so proxies keep the connection), and last the result or the error. Nothing is
//! buffered on the way (`X-Accel-Buffering: no`). When the browser goes away (Cancel), the
//! stream is dropped, and with it the job and its upstream call. A browser that cannot read a
//! stream calls the plain functions, which answer the same result or error.

use leptos::prelude::*;
use leptos::server_fn::codec::{Json, MultipartData, MultipartFormData, StreamingText, TextStream};
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

/// Text to image, its progress streamed line by line (see the module's documentation).
#[server(prefix = "/api", endpoint = "generate_stream", input = Json, output = StreamingText)]
pub async fn generate_stream(request: GenerateRequest) -> Result<TextStream<AppError>, AppError> {
    let studio = ssr::studio()?;
    Ok(ssr::streamed(
        "generate",
        request.model.clone(),
        move |progress| async move { studio.generate_observed(request, &progress).await },
    ))
}

/// An edit (the same fields as [`edit_image`]), its progress streamed line by line. The
/// upload is read whole before the stream begins: a refused upload is an HTTP error.
#[server(prefix = "/api", endpoint = "edit_stream", input = MultipartFormData, output = StreamingText)]
pub async fn edit_stream(data: MultipartData) -> Result<TextStream<AppError>, AppError> {
    let studio = ssr::studio()?;
    let edit = ssr::read_edit(data, &studio).await?;
    Ok(ssr::streamed(
        "edit",
        edit.model.clone(),
        move |progress| async move { studio.edit_observed(edit, &progress).await },
    ))
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use engine::{
        memory::MemoryPermit,
        store::FileKind,
        studio::{EditJob, JobError, Studio},
    };
    use leptos::prelude::*;
    use leptos::server_fn::codec::{MultipartData, TextStream};
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
            mask: form.mask,
            thinking_level: form.thinking_level,
            grounding: form.grounding,
            continue_conversation: !form.fresh_conversation,
            crop_to_mask: !form.whole_image,
            expand: engine::edit::Expand {
                left: form.expand[0],
                top: form.expand[1],
                right: form.expand[2],
                bottom: form.expand[3],
            },
            ..EditJob::new(form.images, form.prompt, form.model)
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

    /// How often a quiet job says it is still working.
    const HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(15);

    /// A job run inside the answer's body: its events as lines of JSON, the last one its
    /// result or error. Dropping the stream drops the job.
    pub fn streamed<F, Fut>(kind: &'static str, model: String, run: F) -> TextStream<AppError>
    where
        F: FnOnce(engine::progress::Progress) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<ImageResult, JobError>> + Send + 'static,
    {
        use futures::StreamExt;
        use protocol::JobEvent;

        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            // Reverse proxies (nginx and the like) hold a response back until it ends unless
            // told not to; the events must arrive as they happen.
            response.insert_header(
                http::HeaderName::from_static("x-accel-buffering"),
                http::HeaderValue::from_static("no"),
            );
            response.insert_header(
                http::header::CACHE_CONTROL,
                http::HeaderValue::from_static("no-store, no-transform"),
            );
        }
        let (progress, events) = engine::progress::Progress::channel();
        let job = async move {
            let record = Job::start(kind, &model);
            match record.finish(run(progress).await) {
                Ok(result) => JobEvent::Done {
                    result: Box::new(result),
                },
                Err(e) => JobEvent::Failed {
                    error: AppError::from(e).0,
                },
            }
        };
        let lines = crate::job_stream::JobStream::new(Box::pin(job), events, HEARTBEAT)
            .map(|event| Ok(crate::job_stream::line(&event)));
        TextStream::new(lines)
    }

    fn gone() -> AppError {
        AppError::new(ErrorKind::NotFound, "The image to edit no longer exists.")
    }
}
