//! The image jobs: generate from text, and edit through a mask. Each validates its input,
//! calls Gemini, makes the result exact (for edits: composited through the mask), stores it,
//! and answers with ids and URLs.
//!
//! Admission comes before any work that costs: a job first reads its inputs' headers (every
//! limit is checked there, nothing is decoded), then waits its turn among the calls allowed at
//! once, checks that the store has room, reserves its share of the day's budget (atomically,
//! in SQLite) and reserves the memory it may need from the process-wide budget. Only then does
//! it decode, call Gemini and composite. What Gemini bills is settled against the reservation
//! when the answer arrives, whether or not it holds an image; a job that ends early gives its
//! reservation back.
//!
//! How the mask reaches Gemini: the source image first, the mask second (white = may change,
//! black = keep), then any further reference images, and an instruction that says so. The
//! model uses it as a strong hint; the compositing step makes it a guarantee.

use std::{collections::BTreeMap, io::Cursor, sync::Arc, time::Duration};

use gemini::{
    CallLimits, Client, GeminiError,
    wire::{Content, GenerateContentRequest, GenerationConfig, ImageConfig, Part},
};
use image::DynamicImage;
use protocol::{
    ErrorKind, GenerateRequest, ImageResult, MAX_PROMPT_CHARS, THUMBNAIL_SIDE, UserError,
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::{
    blocking::{TaskFailed, blocking},
    clock,
    edit::{self, AnswerBounds},
    error::InputError,
    input::{self, InputLimits, SourceImage},
    memory::{MemoryBudget, MemoryError, MemoryPermit},
    resize,
    store::{
        ImageKind, ImageRecord, ImageStore, NewImage, Spend, SpendLimits, StoreError, StoreHandle,
    },
};

/// The instruction that tells the model how the mask works; the simulator looks for it too.
pub const MASK_INSTRUCTION: &str = "The first image is the one to edit. The second image is a mask of it: \
change only the region that is white in the mask, and keep everything in the black region exactly as it is.";

/// What a model allows and costs, as far as the jobs need to know.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModelRules {
    pub id: String,
    pub max_input_images: usize,
    pub aspect_ratios: Vec<String>,
    pub image_sizes: Vec<String>,
    /// The price of one output image by size (`1K` also stands for "no size"), in US
    /// dollars: what a call reserves of the daily budget before it is made.
    pub usd_per_image: BTreeMap<String, f64>,
    /// The price of one input image, in US dollars.
    pub usd_per_input_image: f64,
}

impl ModelRules {
    /// What a call with `inputs` images asking for `size` is expected to cost.
    fn expected_usd(&self, size: Option<&str>, inputs: usize) -> f64 {
        let output = self
            .usd_per_image
            .get(size.unwrap_or("1K"))
            .or_else(|| self.usd_per_image.values().next())
            .copied()
            .unwrap_or(0.0);
        output + self.usd_per_input_image * inputs as f64
    }
}

/// An edit request, as parsed from the browser's upload.
#[derive(Debug)]
pub struct EditJob {
    /// The source first, then optional reference images.
    pub images: Vec<Vec<u8>>,
    pub mask: Option<Vec<u8>>,
    pub prompt: String,
    pub model: String,
    /// The stored image the source came from, for lineage.
    pub parent_id: Option<String>,
    /// The memory reserved for the uploaded bytes while they were read; given back with
    /// them, once they are decoded.
    pub upload_memory: MemoryPermit,
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
    Store(StoreError),
    #[error("the store is full")]
    StorageFull,
    #[error("a worker task failed: {0}")]
    Worker(String),
    #[error("image processing failed: {0}")]
    Image(String),
    #[error("too many upstream calls at once")]
    Busy,
    #[error("no image memory: {0}")]
    Memory(#[from] MemoryError),
    #[error("the daily budget is spent")]
    OverBudget { retry_after: u64 },
}

impl From<StoreError> for JobError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Full { .. } => JobError::StorageFull,
            StoreError::Worker(detail) => JobError::Worker(detail),
            other => JobError::Store(other),
        }
    }
}

impl From<TaskFailed> for JobError {
    fn from(e: TaskFailed) -> Self {
        JobError::Worker(e.0)
    }
}

impl JobError {
    fn image(e: impl std::fmt::Display) -> Self {
        JobError::Image(e.to_string())
    }

    /// Whether this is the server's own failure (its detail belongs in the log at error
    /// level), rather than the request's or Gemini's.
    pub fn is_internal(&self) -> bool {
        matches!(
            self,
            JobError::Store(_) | JobError::Worker(_) | JobError::Image(_)
        )
    }

    /// The error as the browser may see it: internal detail and upstream text stay out.
    pub fn to_user_error(&self) -> UserError {
        match self {
            JobError::Input(e) => {
                let kind = match e {
                    InputError::TooManyBytes { .. }
                    | InputError::RequestTooLarge { .. }
                    | InputError::RequestTooManyPixels { .. } => ErrorKind::TooLarge,
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
            JobError::StorageFull => UserError::new(
                ErrorKind::StorageFull,
                "This server's image storage is full. Delete images you no longer need from the gallery, or ask the operator for more room.",
            ),
            JobError::Busy => retry_later("GemFlash is busy with other images right now.", 10),
            JobError::Memory(MemoryError::Busy) => {
                retry_later("GemFlash is working on other large images right now.", 5)
            }
            JobError::Memory(MemoryError::TooLarge { needed, budget }) => UserError::new(
                ErrorKind::TooLarge,
                format!(
                    "This edit needs about {} MB of memory to run, and this server gives all images {} MB at once. Send fewer or smaller images.",
                    needed.div_ceil(1024 * 1024),
                    budget / (1024 * 1024)
                ),
            ),
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

/// An "unavailable, try again in `secs`" answer.
fn retry_later(message: &str, secs: u64) -> UserError {
    let mut user = UserError::new(ErrorKind::Unavailable, message);
    user.retry_after_secs = Some(secs);
    user
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
    // The sentence is the error's own Display, which never holds upstream text.
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
    store: StoreHandle,
    models: Arc<Vec<ModelRules>>,
    limits: InputLimits,
    /// Feather width of mask edges, in pixels.
    feather: u32,
    /// Upstream calls allowed at once; a job waits for one at most `guard.queue_wait`.
    permits: Arc<Semaphore>,
    guard: Guard,
    memory: MemoryBudget,
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

impl Guard {
    fn spend_limits(&self) -> SpendLimits {
        SpendLimits {
            images: self.daily_images,
            usd: self.daily_usd,
        }
    }
}

/// The image-memory budget a studio has unless it is given one: 768 MB, waited for at most
/// 10 seconds.
pub const DEFAULT_IMAGE_MEMORY: u64 = 768 * 1024 * 1024;
const DEFAULT_MEMORY_WAIT: Duration = Duration::from_secs(10);

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
            store: StoreHandle::new(store),
            models: Arc::new(models),
            limits,
            feather,
            permits: Arc::new(Semaphore::new(guard.max_concurrent)),
            guard,
            memory: MemoryBudget::new(DEFAULT_IMAGE_MEMORY, DEFAULT_MEMORY_WAIT),
        }
    }

    /// The same studio with these spending limits.
    pub fn with_guard(mut self, guard: Guard) -> Self {
        self.permits = Arc::new(Semaphore::new(guard.max_concurrent.max(1)));
        self.guard = guard;
        self
    }

    /// The same studio with this image-memory budget.
    pub fn with_memory(mut self, memory: MemoryBudget) -> Self {
        self.memory = memory;
        self
    }

    pub fn store(&self) -> &StoreHandle {
        &self.store
    }

    /// The image-memory budget, for the upload reader to reserve from.
    pub fn memory(&self) -> &MemoryBudget {
        &self.memory
    }

    /// The input limits in force.
    pub fn limits(&self) -> &InputLimits {
        &self.limits
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
        let answer = answer_bounds(request.image_size.as_deref(), &self.client);
        // The answer, its decoded pixels and the stored PNG.
        let memory = answer.memory() + answer.max_pixels * 4 + 4 * 1024 * 1024;
        let want = Spend {
            images: 1,
            usd: model.expected_usd(request.image_size.as_deref(), 0),
        };
        let mut admission = self.admit(want, memory).await?;

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
        let (generation, image) = self
            .first_image(&model.id, &gemini_request, answer, &mut admission)
            .await?;
        let model_text = generation.text.clone();
        let limits = answer_limits(&self.limits, answer);
        let new = metadata(
            ImageKind::Generated,
            prompt.to_owned(),
            &model.id,
            None,
            (request.aspect_ratio, request.image_size),
            &generation.usage,
            generation.cost_usd,
        );
        let record = self
            .store
            .run(move |store| -> Result<_, JobError> {
                // Upstream output is input too: decode it under the limits an answer of this
                // size can need, and store pixels re-encoded losslessly, so nothing but pixels
                // is kept.
                let decoded = decode_answer(&image.bytes, &limits)?;
                let new = finish(new, &decoded.pixels);
                Ok(store.put(new)?)
            })
            .await?;
        drop(admission);
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
        let EditJob {
            images,
            mask,
            parent_id,
            upload_memory,
            ..
        } = job;

        // Every header, before any turn, budget or memory is taken.
        let limits = self.limits.clone();
        let (inspected, images, mask) = blocking(move || {
            let inspected = edit::inspect(&images, mask.as_deref(), &limits)?;
            Ok::<_, JobError>((inspected, images, mask))
        })
        .await?;
        let answer = answer_bounds(None, &self.client);
        let want = Spend {
            images: 1,
            usd: model.expected_usd(None, images.len() + usize::from(mask.is_some())),
        };
        let mut admission = self.admit(want, inspected.memory_needed(answer)).await?;

        let limits = self.limits.clone();
        let feather = self.feather;
        let (compositor, upstream) = blocking(move || {
            let prepared = edit::prepare(&images, mask.as_deref(), &limits, feather)?;
            // The uploaded bytes are pixels now: they and their memory go.
            drop((images, mask, upload_memory));
            prepared.into_parts().map_err(JobError::image)
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
        let (generation, image) = self
            .first_image(&model.id, &gemini_request, answer, &mut admission)
            .await?;
        drop(gemini_request);
        let model_text = generation.text.clone();

        let limits = answer_limits(&self.limits, answer);
        let new = metadata(
            ImageKind::Edited,
            prompt,
            &model.id,
            parent_id,
            (None, None),
            &generation.usage,
            generation.cost_usd,
        );
        drop(generation);
        let record = self
            .store
            .run(move |store| -> Result<_, JobError> {
                let answer = decode_answer(&image.bytes, &limits)?;
                drop(image);
                let out = compositor.apply(&answer.pixels).map_err(JobError::image)?;
                drop(answer);
                Ok(store.put(finish(new, &out))?)
            })
            .await?;
        drop(admission);
        Ok(result(&record, model_text))
    }
}

/// What a job holds while it may call Gemini: its turn, its share of the day's budget and its
/// memory. Each is given back when the admission is dropped, however the job ends.
#[derive(Debug)]
struct Admission {
    _turn: OwnedSemaphorePermit,
    spend: Option<Reservation>,
    _memory: MemoryPermit,
}

/// A share of the day's budget held by a call in flight.
#[derive(Debug)]
struct Reservation {
    id: String,
    store: StoreHandle,
    want: Spend,
    /// Whether the request went out: then Google may bill it even if the answer never
    /// arrives here.
    sent: bool,
    /// Whether it was settled (then dropping it does nothing).
    settled: bool,
}

impl Reservation {
    async fn settle(mut self, spent: Spend) -> Result<(), StoreError> {
        self.settled = true;
        let (id, store) = (self.id.clone(), self.store.clone());
        store.run(move |s| s.settle_spend(&id, spent)).await
    }
}

impl Drop for Reservation {
    /// A job that ends before its answer (an error, or a client that went away) gives the
    /// reservation back; one whose request went out is charged what it was expected to cost
    /// in dollars (Google bills it), but no image.
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        let (id, store) = (self.id.clone(), self.store.clone());
        let charge = self.sent.then_some(Spend {
            images: 0,
            usd: self.want.usd,
        });
        let work = move || {
            let outcome = match charge {
                Some(spent) => store.settle_spend(&id, spent),
                None => store.release_spend(&id),
            };
            if let Err(e) = outcome {
                tracing::error!(error = %e, "a budget reservation could not be given back");
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn_blocking(work)),
            Err(_) => work(),
        }
    }
}

impl Studio {
    /// Takes, in order: a turn among the calls allowed at once, a check that the store has
    /// room, `want` of the day's budget, and `memory` bytes of the image-memory budget.
    async fn admit(&self, want: Spend, memory: u64) -> Result<Admission, JobError> {
        let turn =
            tokio::time::timeout(self.guard.queue_wait, self.permits.clone().acquire_owned())
                .await
                .map_err(|_| {
                    metrics::counter!("gemflash_refusals_total", "reason" => "busy").increment(1);
                    JobError::Busy
                })?
                .map_err(|_| JobError::Busy)?;
        let usage = self.store.run(|s| s.usage()).await?;
        if usage.is_full() {
            metrics::counter!("gemflash_refusals_total", "reason" => "storage_full").increment(1);
            return Err(JobError::StorageFull);
        }
        let spend = self.reserve(want).await?;
        let memory = self.memory.reserve(memory).await.inspect_err(|_| {
            metrics::counter!("gemflash_refusals_total", "reason" => "memory").increment(1);
        })?;
        Ok(Admission {
            _turn: turn,
            spend,
            _memory: memory,
        })
    }

    /// Reserves `want` of today's budget, or refuses when it does not allow it.
    async fn reserve(&self, want: Spend) -> Result<Option<Reservation>, JobError> {
        let limits = self.guard.spend_limits();
        if limits.is_unlimited() {
            return Ok(None);
        }
        let day = clock::today();
        let id = self
            .store
            .run(move |s| s.reserve_spend(&day, want, &limits))
            .await?;
        match id {
            Some(id) => Ok(Some(Reservation {
                id,
                store: self.store.clone(),
                want,
                sent: false,
                settled: false,
            })),
            None => {
                metrics::counter!("gemflash_refusals_total", "reason" => "budget").increment(1);
                Err(JobError::OverBudget {
                    retry_after: clock::seconds_to_next_day(),
                })
            }
        }
    }

    /// Calls Gemini and takes the first image of its answer. Whatever Google bills is charged
    /// (settled against the reservation, or added to the day when there is no budget),
    /// metered and audited, image or not.
    async fn first_image(
        &self,
        model: &str,
        request: &GenerateContentRequest,
        answer: AnswerBounds,
        admission: &mut Admission,
    ) -> Result<(gemini::Generation, gemini::GeneratedImage), JobError> {
        if let Some(r) = admission.spend.as_mut() {
            r.sent = true;
        }
        let started = std::time::Instant::now();
        let limits = CallLimits {
            max_response_bytes: Some(answer.max_response_bytes),
        };
        let outcome = self
            .client
            .generate_content_with(model, request, limits)
            .await;
        let billed = match &outcome {
            Ok(g) => Some((g.usage, g.cost_usd)),
            Err(e) => e.billed().map(|u| (*u, self.client.cost(model, u))),
        };
        let spent = Spend {
            images: u64::from(outcome.as_ref().is_ok_and(|g| !g.images.is_empty())),
            usd: billed.and_then(|(_, cost)| cost).unwrap_or(0.0),
        };
        audit(model, request, &outcome, billed, started.elapsed());
        let charged = match admission.spend.take() {
            Some(reservation) if billed.is_some() => reservation.settle(spent).await,
            Some(reservation) => {
                // Nothing billed (an HTTP error): the reservation goes back, nothing charged.
                let mut reservation = reservation;
                reservation.sent = false;
                drop(reservation);
                Ok(())
            }
            None if billed.is_some() => {
                let day = clock::today();
                self.store.run(move |s| s.add_spend(&day, spent)).await
            }
            None => Ok(()),
        };
        if let Err(e) = charged {
            tracing::error!(error = %e, "what a call cost could not be recorded");
        }
        let generation = outcome.inspect_err(|e| {
            if let Some(detail) = e.detail() {
                // Scrubbed by the client; never shown to a user.
                tracing::warn!(kind = e.kind(), detail, "gemini refused the call");
            }
        })?;
        let image =
            generation
                .images
                .first()
                .cloned()
                .ok_or(JobError::Gemini(GeminiError::NoImage {
                    finish_reason: None,
                    text: None,
                    usage: generation.usage,
                }))?;
        Ok((generation, image))
    }
}

/// The most an answer to a request for `size` may be: a hostile or broken upstream cannot
/// make a job hold more, and an image past these pixels is refused before it decodes.
fn answer_bounds(size: Option<&str>, client: &Client) -> AnswerBounds {
    const MIB: usize = 1024 * 1024;
    let (bytes, pixels) = match size {
        Some("512") => (8 * MIB, 1 << 20),
        Some("2K") => (40 * MIB, 8 << 20),
        Some("4K") => (96 * MIB, 24 << 20),
        _ => (16 * MIB, 4 << 20),
    };
    AnswerBounds {
        max_response_bytes: bytes.min(client.max_response_bytes()),
        max_pixels: pixels,
    }
}

/// The limits an answer is decoded under: the answer's own bounds (an operator's lower limit
/// on uploads does not apply to what the model makes).
fn answer_limits(limits: &InputLimits, answer: AnswerBounds) -> InputLimits {
    InputLimits {
        max_pixels: answer.max_pixels,
        max_request_pixels: answer.max_pixels,
        max_image_bytes: answer.max_response_bytes,
        ..limits.clone()
    }
}

/// The audit event of one Gemini call: who (the request's span carries the caller and the
/// request id), what model, how much went in and came out, tokens, cost, latency, attempts and
/// the outcome's kind. Never the prompt, an image, a key or any text of upstream's.
fn audit(
    model: &str,
    request: &GenerateContentRequest,
    outcome: &Result<gemini::Generation, GeminiError>,
    billed: Option<(gemini::Usage, Option<f64>)>,
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
    }
    let (usage, cost_usd) = billed.unwrap_or_default();
    if billed.is_some() {
        for (kind, tokens) in [
            ("prompt", usage.prompt_tokens),
            ("output", usage.output_tokens),
            ("thoughts", usage.thoughts_tokens),
        ] {
            metrics::counter!("gemflash_tokens_total", "kind" => kind).increment(u64::from(tokens));
        }
        if let Some(cost) = cost_usd {
            metrics::gauge!("gemflash_spend_usd_total").increment(cost);
        }
    }
    let (output_images, output_bytes, attempts) = match outcome {
        Ok(g) => (
            g.images.len(),
            g.images.iter().map(|i| i.bytes.len()).sum::<usize>(),
            g.attempts,
        ),
        Err(_) => (0, 0, 0),
    };
    tracing::info!(
        target: "audit",
        model,
        input_images,
        input_bytes,
        output_images,
        output_bytes,
        billed = billed.is_some(),
        prompt_tokens = usage.prompt_tokens,
        output_tokens = usage.output_tokens,
        thoughts_tokens = usage.thoughts_tokens,
        cost_usd,
        latency_ms,
        attempts,
        outcome = outcome_kind,
        "gemini call"
    );
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
    kind: ImageKind,
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
