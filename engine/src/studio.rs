//! The image jobs: generate from text, and edit through a mask. Each validates its input,
//! calls Gemini, makes the result exact (for edits: composited through the mask), stores it,
//! and answers with ids and URLs.
//!
//! How the mask reaches Gemini: the source image first, the mask second (white = may change,
//! black = keep), then any further reference images, and an instruction that says so. The
//! model uses it as a strong hint; the compositing step makes it a guarantee.

use std::{io::Cursor, sync::Arc, time::Duration};

use gemini::{
    Client, GeminiError,
    wire::{Content, GenerateContentRequest, GenerationConfig, ImageConfig, Part},
};
use image::DynamicImage;
use protocol::{
    ErrorKind, GenerateRequest, ImageResult, MAX_PROMPT_CHARS, THUMBNAIL_SIDE, UserError,
};

use crate::{
    edit,
    error::InputError,
    input::{self, InputLimits, SourceImage},
    resize,
    store::{ImageRecord, ImageStore, Kind, NewImage, Spend, StoreError},
};

/// The instruction that tells the model how the mask works; the simulator looks for it too.
pub const MASK_INSTRUCTION: &str = "The first image is the one to edit. The second image is a mask of it: \
change only the region that is white in the mask, and keep everything in the black region exactly as it is.";

/// What a model allows, as far as the jobs need to know.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelRules {
    pub id: String,
    pub max_input_images: usize,
    pub aspect_ratios: Vec<String>,
    pub image_sizes: Vec<String>,
}

/// An edit request, as parsed from the browser's upload.
#[derive(Debug, Clone)]
pub struct EditJob {
    /// The source first, then optional reference images.
    pub images: Vec<Vec<u8>>,
    pub mask: Option<Vec<u8>>,
    pub prompt: String,
    pub model: String,
    /// The stored image the source came from, for lineage.
    pub parent_id: Option<String>,
}

/// Why a job failed.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("{0}")]
    Input(#[from] InputError),
    #[error("{0}")]
    Request(String),
    #[error("{0}")]
    Gemini(#[from] GeminiError),
    #[error("the store failed: {0}")]
    Store(#[from] StoreError),
    #[error("a worker task failed: {0}")]
    Worker(String),
    #[error("image processing failed: {0}")]
    Image(String),
    #[error("too many upstream calls at once")]
    Busy,
    #[error("the daily budget is spent")]
    OverBudget { retry_after: u64 },
}

impl JobError {
    fn image(e: impl std::fmt::Display) -> Self {
        JobError::Image(e.to_string())
    }

    /// The error as the browser may see it: internal detail stays out.
    pub fn to_user_error(&self) -> UserError {
        match self {
            JobError::Input(e) => {
                let kind = match e {
                    InputError::TooManyBytes { .. } | InputError::RequestTooLarge { .. } => {
                        ErrorKind::TooLarge
                    }
                    InputError::TooManyImages { .. }
                    | InputError::MaskWrongSize { .. }
                    | InputError::MaskEmpty
                    | InputError::NoImage => ErrorKind::BadRequest,
                    _ => ErrorKind::UnsupportedImage,
                };
                UserError::new(kind, e.to_string())
            }
            JobError::Request(message) => UserError::new(ErrorKind::BadRequest, message.clone()),
            JobError::Gemini(e) => gemini_user_error(e),
            JobError::Store(_) | JobError::Worker(_) | JobError::Image(_) => UserError::internal(),
            JobError::Busy => {
                let mut user = UserError::new(
                    ErrorKind::Unavailable,
                    "GemFlash is busy with other images right now.",
                );
                user.retry_after_secs = Some(10);
                user
            }
            JobError::OverBudget { retry_after } => {
                let mut user = UserError::new(
                    ErrorKind::BudgetExhausted,
                    "This server's daily budget for images is spent. It starts afresh at midnight UTC.",
                );
                user.retry_after_secs = Some(*retry_after);
                user
            }
        }
    }
}

fn gemini_user_error(e: &GeminiError) -> UserError {
    let kind = match e {
        GeminiError::PromptBlocked { .. } => ErrorKind::PromptBlocked,
        GeminiError::ImageBlocked { .. } => ErrorKind::ImageBlocked,
        GeminiError::NoImage { .. } => ErrorKind::NoImage,
        GeminiError::QuotaExhausted {
            zero_quota: true, ..
        } => ErrorKind::NoQuota,
        GeminiError::QuotaExhausted { .. } => ErrorKind::QuotaExhausted,
        GeminiError::Overloaded { .. }
        | GeminiError::Upstream { .. }
        | GeminiError::Network { .. } => ErrorKind::Unavailable,
        GeminiError::Timeout => ErrorKind::Timeout,
        GeminiError::BadRequest { .. } => ErrorKind::BadRequest,
        GeminiError::Malformed { .. } => ErrorKind::Unavailable,
        GeminiError::InvalidKey
        | GeminiError::PermissionDenied { .. }
        | GeminiError::ModelNotFound { .. } => ErrorKind::Misconfigured,
    };
    let mut user = UserError::new(kind, e.to_string());
    user.retry_after_secs = match e {
        GeminiError::QuotaExhausted {
            zero_quota: false,
            retry_after,
            ..
        } => Some(retry_after.map_or(60, |d| d.as_secs().max(1))),
        _ => None,
    };
    user
}

/// The jobs, with what they share.
#[derive(Debug, Clone)]
pub struct Studio {
    client: Client,
    store: Arc<dyn ImageStore>,
    models: Arc<Vec<ModelRules>>,
    limits: InputLimits,
    /// Feather width of mask edges, in pixels.
    feather: u32,
    /// Upstream calls allowed at once; a job waits for one at most `guard.queue_wait`.
    permits: Arc<tokio::sync::Semaphore>,
    guard: Guard,
}

/// Limits on spending: calls at once, and a daily budget.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Guard {
    /// Gemini calls in flight at once, over all clients.
    pub max_concurrent: usize,
    /// How long a job waits for its turn before it is refused as busy.
    pub queue_wait: Duration,
    /// Images per UTC day; `None` is unlimited.
    pub daily_images: Option<u64>,
    /// Dollars per UTC day (from the price table); `None` is unlimited.
    pub daily_usd: Option<f64>,
}

impl Default for Guard {
    fn default() -> Self {
        Self {
            max_concurrent: 4,
            queue_wait: Duration::from_secs(30),
            daily_images: None,
            daily_usd: None,
        }
    }
}

impl Studio {
    pub fn new(
        client: Client,
        store: Arc<dyn ImageStore>,
        models: Vec<ModelRules>,
        limits: InputLimits,
        feather: u32,
    ) -> Self {
        let guard = Guard::default();
        Self {
            client,
            store,
            models: Arc::new(models),
            limits,
            feather,
            permits: Arc::new(tokio::sync::Semaphore::new(guard.max_concurrent)),
            guard,
        }
    }

    /// The same studio with these spending limits.
    pub fn with_guard(mut self, guard: Guard) -> Self {
        self.permits = Arc::new(tokio::sync::Semaphore::new(guard.max_concurrent.max(1)));
        self.guard = guard;
        self
    }

    pub fn store(&self) -> &Arc<dyn ImageStore> {
        &self.store
    }

    fn model(&self, id: &str) -> Result<&ModelRules, JobError> {
        self.models.iter().find(|m| m.id == id).ok_or_else(|| {
            JobError::Request(format!(
                "The model {id:?} is not offered by this server. Choose one from the list."
            ))
        })
    }

    /// Text to image.
    pub async fn generate(&self, request: GenerateRequest) -> Result<ImageResult, JobError> {
        let prompt = check_prompt(&request.prompt)?;
        let model = self.model(&request.model)?;
        if let Some(ratio) = &request.aspect_ratio
            && !model.aspect_ratios.contains(ratio)
        {
            return Err(JobError::Request(format!(
                "{} does not offer the aspect ratio {ratio}.",
                model.id
            )));
        }
        if let Some(size) = &request.image_size
            && !model.image_sizes.contains(size)
        {
            return Err(JobError::Request(format!(
                "{} does not offer the size {size}.",
                model.id
            )));
        }
        let gemini_request = GenerateContentRequest {
            contents: vec![Content::user(vec![Part::text(prompt)])],
            generation_config: Some(GenerationConfig {
                response_modalities: vec!["TEXT".into(), "IMAGE".into()],
                image_config: Some(ImageConfig {
                    aspect_ratio: request.aspect_ratio.clone(),
                    image_size: request.image_size.clone(),
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let (generation, image) = self.first_image(&model.id, &gemini_request).await?;
        let model_text = generation.text.clone();
        let limits = self.limits.clone();
        let new = metadata(
            Kind::Generated,
            prompt.to_owned(),
            &model.id,
            None,
            (request.aspect_ratio, request.image_size),
            &generation.usage,
            generation.cost_usd,
        );
        let store = self.store.clone();
        let record = blocking(move || {
            // Upstream output is input too: decode it under the same limits, and store pixels
            // re-encoded losslessly, so nothing but pixels is kept.
            let decoded = decode_answer(&image.bytes, &limits)?;
            let new = finish(new, &decoded.pixels);
            Ok(store.put(new)?)
        })
        .await?;
        Ok(result(&record, model_text))
    }

    /// An edit: the source (and references) through the mask.
    pub async fn edit(&self, job: EditJob) -> Result<ImageResult, JobError> {
        let prompt = check_prompt(&job.prompt)?.to_owned();
        let model = self.model(&job.model)?.clone();
        if job.images.is_empty() {
            return Err(InputError::NoImage.into());
        }
        if job.images.len() > model.max_input_images {
            return Err(InputError::TooManyImages {
                count: job.images.len(),
                max: model.max_input_images,
                model: model.id.clone(),
            }
            .into());
        }
        input::check_request_size(
            job.images
                .iter()
                .map(Vec::len)
                .chain(job.mask.as_ref().map(Vec::len)),
            &self.limits,
        )?;

        let limits = self.limits.clone();
        let feather = self.feather;
        let (prepared, upstream) = blocking(move || {
            let prepared = edit::prepare(&job.images, job.mask.as_deref(), &limits, feather)?;
            let upstream = prepared.upstream_images().map_err(JobError::image)?;
            Ok((prepared, upstream))
        })
        .await?;

        let mut parts = vec![
            Part::text(format!("{MASK_INSTRUCTION}\n\nThe edit: {prompt}")),
            Part::image("image/png", upstream.source),
            Part::image("image/png", upstream.mask),
        ];
        parts.extend(
            upstream
                .references
                .into_iter()
                .map(|png| Part::image("image/png", png)),
        );
        let gemini_request = GenerateContentRequest {
            contents: vec![Content::user(parts)],
            generation_config: Some(GenerationConfig {
                response_modalities: vec!["TEXT".into(), "IMAGE".into()],
                ..Default::default()
            }),
            ..Default::default()
        };
        let (generation, image) = self.first_image(&model.id, &gemini_request).await?;
        let model_text = generation.text.clone();

        let limits = self.limits.clone();
        let store = self.store.clone();
        let new = metadata(
            Kind::Edited,
            prompt,
            &model.id,
            job.parent_id,
            (None, None),
            &generation.usage,
            generation.cost_usd,
        );
        let record = blocking(move || {
            let answer = decode_answer(&image.bytes, &limits)?;
            let out = prepared.apply(&answer.pixels).map_err(JobError::image)?;
            Ok(store.put(finish(new, &out))?)
        })
        .await?;
        Ok(result(&record, model_text))
    }
}

impl Studio {
    /// Calls Gemini and takes the first image of its answer.
    ///
    /// Before the call: the daily budget is checked, and the job waits its turn among the
    /// calls allowed at once. After a call that made an image, its cost is added to the day.
    async fn first_image(
        &self,
        model: &str,
        request: &GenerateContentRequest,
    ) -> Result<(gemini::Generation, gemini::GeneratedImage), JobError> {
        let day = today();
        self.check_budget(&day).await?;
        let _permit = tokio::time::timeout(self.guard.queue_wait, self.permits.acquire())
            .await
            .map_err(|_| {
                metrics::counter!("gemflash_refusals_total", "reason" => "busy").increment(1);
                JobError::Busy
            })?
            .map_err(|_| JobError::Busy)?;
        let started = std::time::Instant::now();
        let outcome = self.client.generate_content(model, request).await;
        audit(model, request, &outcome, started.elapsed());
        let generation = outcome?;
        if !generation.images.is_empty() {
            let spent = Spend {
                images: 1,
                usd: generation.cost_usd.unwrap_or(0.0),
            };
            let store = self.store.clone();
            blocking(move || Ok(store.add_spend(&day, spent)?)).await?;
        }
        let image =
            generation
                .images
                .first()
                .cloned()
                .ok_or(JobError::Gemini(GeminiError::NoImage {
                    finish_reason: None,
                    text: None,
                }))?;
        Ok((generation, image))
    }
}

impl Studio {
    async fn check_budget(&self, day: &str) -> Result<(), JobError> {
        if self.guard.daily_images.is_none() && self.guard.daily_usd.is_none() {
            return Ok(());
        }
        let store = self.store.clone();
        let lookup = day.to_owned();
        let spent = blocking(move || Ok(store.spend(&lookup)?)).await?;
        let over_images = self
            .guard
            .daily_images
            .is_some_and(|max| spent.images >= max);
        let over_usd = self.guard.daily_usd.is_some_and(|max| spent.usd >= max);
        if over_images || over_usd {
            metrics::counter!("gemflash_refusals_total", "reason" => "budget").increment(1);
            return Err(JobError::OverBudget {
                retry_after: seconds_to_next_day(),
            });
        }
        Ok(())
    }
}

/// The audit event of one Gemini call: who (the request's span carries the caller and the
/// request id), what model, how much went in and came out, tokens, cost, latency, attempts and
/// the outcome. Never the prompt, an image or a key.
fn audit(
    model: &str,
    request: &GenerateContentRequest,
    outcome: &Result<gemini::Generation, GeminiError>,
    latency: Duration,
) {
    let (input_images, input_bytes) = request
        .contents
        .iter()
        .flat_map(|c| c.parts.iter())
        .filter_map(|p| p.inline_data.as_ref())
        .fold((0usize, 0usize), |(n, bytes), d| {
            (n + 1, bytes + d.data.len())
        });
    let latency_ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
    let outcome_kind = match outcome {
        Ok(_) => "ok",
        Err(e) => e.kind(),
    };
    metrics::counter!("gemflash_upstream_calls_total", "model" => model.to_owned(), "outcome" => outcome_kind)
        .increment(1);
    metrics::histogram!("gemflash_upstream_latency_seconds", "model" => model.to_owned())
        .record(latency.as_secs_f64());
    if let Ok(g) = outcome {
        metrics::counter!("gemflash_upstream_retries_total")
            .increment(u64::from(g.attempts.saturating_sub(1)));
        for (kind, tokens) in [
            ("prompt", g.usage.prompt_tokens),
            ("output", g.usage.output_tokens),
            ("thoughts", g.usage.thoughts_tokens),
        ] {
            metrics::counter!("gemflash_tokens_total", "kind" => kind).increment(u64::from(tokens));
        }
        if let Some(cost) = g.cost_usd {
            metrics::gauge!("gemflash_spend_usd_total").increment(cost);
        }
    }
    match outcome {
        Ok(g) => tracing::info!(
            target: "audit",
            model,
            input_images,
            input_bytes,
            output_images = g.images.len(),
            output_bytes = g.images.iter().map(|i| i.bytes.len()).sum::<usize>(),
            prompt_tokens = g.usage.prompt_tokens,
            output_tokens = g.usage.output_tokens,
            thoughts_tokens = g.usage.thoughts_tokens,
            cost_usd = g.cost_usd,
            latency_ms,
            attempts = g.attempts,
            outcome = "ok",
            "gemini call"
        ),
        Err(e) => tracing::info!(
            target: "audit",
            model,
            input_images,
            input_bytes,
            latency_ms,
            outcome = e.kind(),
            "gemini call"
        ),
    }
}

/// Today's date in UTC, `YYYY-MM-DD`.
fn today() -> String {
    let mut day = protocol::format_utc(now_ms());
    day.truncate(10);
    day
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Seconds until midnight UTC, when the budget starts afresh.
fn seconds_to_next_day() -> u64 {
    let into_day = now_ms().rem_euclid(86_400_000);
    u64::try_from((86_400_000 - into_day) / 1000)
        .unwrap_or(1)
        .max(1)
}

/// Upstream output is input too: decoded under the same limits as an upload.
fn decode_answer(bytes: &[u8], limits: &InputLimits) -> Result<SourceImage, JobError> {
    input::decode(bytes, limits).map_err(|e| {
        JobError::Gemini(GeminiError::Malformed {
            detail: format!("the returned image is unusable: {e}"),
        })
    })
}

fn check_prompt(prompt: &str) -> Result<&str, JobError> {
    let prompt = prompt.trim();
    if prompt.is_empty() {
        return Err(JobError::Request(
            "Write what the image should show, or what should change.".into(),
        ));
    }
    if prompt.chars().count() > MAX_PROMPT_CHARS {
        return Err(JobError::Request(format!(
            "The prompt is too long: at most {MAX_PROMPT_CHARS} characters."
        )));
    }
    Ok(prompt)
}

/// A record's metadata, before its pixels are known ([`finish`] adds them).
fn metadata(
    kind: Kind,
    prompt: String,
    model: &str,
    parent_id: Option<String>,
    (aspect_ratio, image_size): (Option<String>, Option<String>),
    usage: &gemini::Usage,
    cost_usd: Option<f64>,
) -> NewImage {
    NewImage {
        parent_id,
        aspect_ratio,
        image_size,
        prompt_tokens: usage.prompt_tokens,
        output_tokens: usage.output_tokens,
        thoughts_tokens: usage.thoughts_tokens,
        cost_usd,
        ..NewImage::new(kind, prompt, model)
    }
}

/// Fills in the file (a lossless PNG), thumbnail and size of a record about to be stored.
/// The thumbnail is made on a second thread while this one encodes the PNG.
pub fn finish(mut new: NewImage, pixels: &DynamicImage) -> NewImage {
    let (png, thumbnail) = std::thread::scope(|scope| {
        let thumbnail = scope.spawn(|| thumbnail(pixels));
        let png = input::clean_png(pixels);
        let thumbnail = thumbnail
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (png, thumbnail)
    });
    new.bytes = png;
    new.mime = "image/png";
    new.thumbnail_webp = thumbnail;
    new.width = pixels.width();
    new.height = pixels.height();
    new
}

/// A lossless WebP no larger than [`THUMBNAIL_SIDE`] on its longer side.
pub fn thumbnail(pixels: &DynamicImage) -> Vec<u8> {
    let (w, h) = resize::fit_within(pixels.width(), pixels.height(), THUMBNAIL_SIDE);
    // WebP takes 8-bit RGB or RGBA; anything else is converted (edits keep 8-bit RGB(A), so
    // this copy is rare).
    let converted;
    let pixels = match pixels {
        DynamicImage::ImageRgb8(_) | DynamicImage::ImageRgba8(_) => pixels,
        other if other.color().has_alpha() => {
            converted = DynamicImage::ImageRgba8(other.to_rgba8());
            &converted
        }
        other => {
            converted = DynamicImage::ImageRgb8(other.to_rgb8());
            &converted
        }
    };
    let small = resize::scaled(pixels, w, h, resize::REDUCE).unwrap_or_else(|_| {
        // Same layout in and out: cannot fail, but `image`'s own filter would do.
        pixels.thumbnail(w, h)
    });
    let mut out = Cursor::new(Vec::new());
    // Encoding an in-memory buffer to a Vec does not fail for WebP.
    let _ = small.write_to(&mut out, image::ImageFormat::WebP);
    out.into_inner()
}

fn result(record: &ImageRecord, model_text: Option<String>) -> ImageResult {
    let (url, download_url, thumbnail_url) = ImageResult::urls(&record.id);
    ImageResult {
        id: record.id.clone(),
        url,
        download_url,
        thumbnail_url,
        width: record.width,
        height: record.height,
        model: record.model.clone(),
        parent_id: record.parent_id.clone(),
        total_tokens: record.prompt_tokens + record.output_tokens + record.thoughts_tokens,
        cost_usd: record.cost_usd,
        model_text,
    }
}

/// Runs CPU- or disk-bound work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, JobError> + Send + 'static,
) -> Result<T, JobError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| JobError::Worker(e.to_string()))?
}
