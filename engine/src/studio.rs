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

use std::{
    borrow::Cow,
    collections::BTreeMap,
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use bytes::Bytes;
use gemini::{
    CallLimits, CallOptions, Client, GeminiError,
    wire::{
        Content, GenerateContentRequest, GenerationConfig, ImageConfig, Part, ThinkingConfig, Tool,
    },
};
use image::DynamicImage;
use protocol::{
    Availability, ErrorKind, GenerateRequest, Grounding, ImageResult, JobEvent, MAX_PROMPT_CHARS,
    UserError,
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::{
    availability::{self, ModelAvailability},
    blocking::{TaskFailed, blocking},
    clock,
    conversation::{self, Turn},
    edit::{self, AnswerBounds, REFERENCE_SIDE},
    error::InputError,
    grounding::StoredGrounding,
    input::{self, InputLimits, SourceImage},
    memory::{MemoryBudget, MemoryError, MemoryPermit},
    progress::Progress,
    resize,
    store::{
        Ancestor, FileKind, ImageKind, ImageRecord, ImageStore, NewImage, Spend, SpendLimits,
        StoreError, StoreHandle,
    },
    thumbs,
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
    /// What a person calls the model, e.g. `Nano Banana 2.1`.
    pub label: String,
    /// The thinking levels the model takes; empty when it takes none.
    pub thinking_levels: Vec<String>,
    /// The model thinks whatever is asked.
    pub always_thinks: bool,
    /// The model takes the Google Search tool.
    pub web_search: bool,
    /// A follow-up edit replays the conversation (the model keeps context through it).
    pub multi_turn: bool,
    /// Prompt tokens one input image costs (what a replayed turn's image costs).
    pub input_tokens_per_image: u32,
    /// The price of one Google Search query a grounded call runs, in US dollars.
    pub usd_per_search: f64,
}

impl ModelRules {
    /// What a call with `inputs` images asking for `size` is expected to cost (a grounded
    /// call's search included).
    fn expected_usd(&self, size: Option<&str>, inputs: usize, grounded: bool) -> f64 {
        let output = self
            .usd_per_image
            .get(size.unwrap_or("1K"))
            .or_else(|| self.usd_per_image.values().next())
            .copied()
            .unwrap_or(0.0);
        output
            + self.usd_per_input_image * inputs as f64
            + if grounded { self.usd_per_search } else { 0.0 }
    }

    /// Whether the model thinks (so it can stream thought summaries).
    fn thinks(&self) -> bool {
        self.always_thinks || !self.thinking_levels.is_empty()
    }

    /// Refuses options the model does not take, naming them.
    fn check_options(&self, thinking_level: Option<&str>, grounding: bool) -> Result<(), JobError> {
        if let Some(level) = thinking_level
            && !self.thinking_levels.iter().any(|l| l == level)
        {
            return Err(JobError::Request(if self.thinking_levels.is_empty() {
                format!(
                    "{} does not take a thinking level. Leave it at the default.",
                    self.label
                )
            } else {
                format!(
                    "{} thinks at {}; {level:?} is not one of them.",
                    self.label,
                    self.thinking_levels.join(", ")
                )
            }));
        }
        if grounding && !self.web_search {
            return Err(JobError::Request(format!(
                "{} cannot search Google. Turn grounding off, or choose a model that can.",
                self.label
            )));
        }
        Ok(())
    }

    /// The generation settings of a call: an image (and words), the image's shape where asked
    /// for, and the thinking level; thought summaries when they are streamed to someone.
    fn generation_config(
        &self,
        image: Option<ImageConfig>,
        thinking_level: Option<&str>,
        thoughts: bool,
    ) -> GenerationConfig {
        let thinking = (thinking_level.is_some() || thoughts).then(|| ThinkingConfig {
            include_thoughts: thoughts.then_some(true),
            thinking_level: thinking_level.map(str::to_owned),
        });
        GenerationConfig {
            response_modalities: vec!["TEXT".into(), "IMAGE".into()],
            image_config: image,
            thinking_config: thinking,
            ..Default::default()
        }
    }
}

/// The tools of a call: Google Search when the image is grounded.
fn tools(grounding: bool) -> Vec<Tool> {
    if grounding {
        vec![Tool::google_search()]
    } else {
        Vec::new()
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
    /// The thinking level asked for, where the model takes one.
    pub thinking_level: Option<String>,
    /// Ground the edit in Google Search.
    pub grounding: bool,
    /// Continue the conversation of `parent_id`: replay its turns (where the model keeps
    /// context). `false` starts afresh from the image alone.
    pub continue_conversation: bool,
    /// Send a frame around a small mask instead of the whole source, where that gives more
    /// detail ([`crate::detail`]); `false` always sends the whole image.
    pub crop_to_mask: bool,
    /// Room added around the source for the model to fill (expand canvas).
    pub expand: edit::Expand,
}

impl EditJob {
    /// An edit of `images` (the source first) by `prompt` on `model`, with no mask (the whole
    /// image may change) and every option at its default; set what applies.
    pub fn new(images: Vec<Vec<u8>>, prompt: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            images,
            mask: None,
            prompt: prompt.into(),
            model: model.into(),
            parent_id: None,
            upload_memory: MemoryPermit::none(),
            thinking_level: None,
            grounding: false,
            continue_conversation: true,
            crop_to_mask: true,
            expand: edit::Expand::default(),
        }
    }
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
    #[error("the model {model} is not available")]
    ModelUnavailable {
        model: String,
        label: String,
        /// Another model to choose, by label.
        instead: Option<String>,
    },
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
            JobError::ModelUnavailable {
                model,
                label,
                instead,
            } => UserError::new(
                ErrorKind::ModelUnavailable,
                format!(
                    "{label} ({model}) was retired or is not available to this server's key. Choose another model{}.",
                    instead
                        .as_deref()
                        .map_or_else(String::new, |other| format!(", such as {other}"))
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
        GeminiError::InvalidKey | GeminiError::PermissionDenied { .. } => ErrorKind::Misconfigured,
        GeminiError::ModelNotFound { .. } => ErrorKind::ModelUnavailable,
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
    /// Jobs waiting for a turn now (what a newcomer is told is ahead of it).
    waiting: Arc<AtomicU32>,
    guard: Guard,
    memory: MemoryBudget,
    availability: ModelAvailability,
    /// Prompt tokens a follow-up's replayed conversation may take.
    conversation_tokens: u32,
    /// Copies made when first asked for ([`thumbs`]) are made one at a time: at most one
    /// core, however many pages ask at once.
    derivations: Arc<Semaphore>,
    /// A job's image work (decoding, compositing, encoding, storing) runs on one of these
    /// lanes, first come first served: as many jobs at once as configured (the cores by
    /// default), however many answers arrive together. See [`Studio::on_lane`].
    lanes: Arc<Semaphore>,
}

/// Prompt tokens a follow-up's conversation may take unless configured otherwise.
pub const DEFAULT_CONVERSATION_TOKENS: u32 = 16_000;

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

/// Image-work lanes unless configured: the cores this process may use (one if that is
/// unknown), at most 256.
pub fn default_image_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(256))
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
            waiting: Arc::default(),
            guard,
            memory: MemoryBudget::new(DEFAULT_IMAGE_MEMORY, DEFAULT_MEMORY_WAIT),
            availability: ModelAvailability::default(),
            conversation_tokens: DEFAULT_CONVERSATION_TOKENS,
            derivations: Arc::new(Semaphore::new(1)),
            lanes: Arc::new(Semaphore::new(default_image_workers())),
        }
    }

    /// The same studio with `workers` lanes for image work (at least one).
    pub fn with_image_workers(mut self, workers: usize) -> Self {
        self.lanes = Arc::new(Semaphore::new(workers.max(1)));
        self
    }

    /// Runs a job's image work with the store, off the async threads, once a lane is free.
    ///
    /// Without lanes, answers that arrive together (64 at once under load) would each get a
    /// thread, and the cores would share their time among all of them: every job would finish
    /// near the end of the whole batch, and the batch's answers would leave together. On a
    /// lane the first finish first, and the answers leave spread out. The lane is held by the
    /// work itself, so it is given back when the work ends, whatever became of the caller; a
    /// caller that goes while still queued gives up its place (nothing was spent yet: this is
    /// for the work before a call).
    async fn on_lane<T, F>(&self, work: F) -> Result<T, JobError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn ImageStore) -> Result<T, JobError> + Send + 'static,
    {
        run_on_lane(self.lanes.clone(), self.store.clone(), (), work).await
    }

    /// [`Studio::on_lane`] for the work on a call's answer, which goes on to the end even if
    /// the caller goes (a closed page, a cancelled call): Google has billed the answer, so its
    /// image is kept in the gallery. `held` (the job's admission: its memory) lives until the
    /// work ends, so what the work holds stays counted.
    async fn keep_on_lane<T, H, F>(&self, held: H, work: F) -> Result<T, JobError>
    where
        T: Send + 'static,
        H: Send + 'static,
        F: FnOnce(&dyn ImageStore) -> Result<T, JobError> + Send + 'static,
    {
        tokio::spawn(run_on_lane(
            self.lanes.clone(),
            self.store.clone(),
            held,
            work,
        ))
        .await
        .map_err(|e| JobError::from(TaskFailed(e.to_string())))?
    }

    /// The same studio with this budget for a follow-up's replayed conversation, in prompt
    /// tokens.
    pub fn with_conversation_tokens(mut self, tokens: u32) -> Self {
        self.conversation_tokens = tokens;
        self
    }

    /// The Gemini client the jobs call (the model check lists models with it).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Which models this server's key can use (the model check updates it).
    pub fn availability(&self) -> &ModelAvailability {
        &self.availability
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

    /// Makes a record's copy that is made when first asked for ([`FileKind::Thumbnail2x`],
    /// [`FileKind::View`]) unless it is there already: one at a time over the process, under
    /// the image-memory budget, from the stored file decoded under the input limits. Returns
    /// whether the copy now exists (`false`: the image's own file is missing, or the record
    /// was deleted meanwhile).
    pub async fn derive_file(
        &self,
        record: &ImageRecord,
        file: FileKind,
    ) -> Result<bool, JobError> {
        if !file.is_derived_later() {
            return Err(JobError::Request(format!("{file:?} is not made later")));
        }
        let _turn = self
            .derivations
            .acquire()
            .await
            .map_err(|_| JobError::Busy)?;
        let (wanted, size) = (record.clone(), record.bytes);
        let _memory = self
            .memory
            .reserve(thumbs::derive_memory(record.width, record.height, size))
            .await?;
        let limits = InputLimits {
            // What was stored was checked on the way in; the byte limit must not refuse an
            // answer that was allowed to be larger than an upload.
            max_image_bytes: usize::try_from(size)
                .unwrap_or(usize::MAX)
                .max(self.limits.max_image_bytes),
            ..self.limits.clone()
        };
        self.store
            .run(move |store| -> Result<bool, JobError> {
                if store.open_file(&wanted, file)?.is_some() {
                    return Ok(true);
                }
                let Some(bytes) = store.read(&wanted, FileKind::Image)? else {
                    return Ok(false);
                };
                let copy = thumbs::derive(&bytes, &limits, file)?;
                Ok(store.put_derived(&wanted, file, &copy)?)
            })
            .await
    }

    /// The image-memory budget, for the upload reader to reserve from.
    pub fn memory(&self) -> &MemoryBudget {
        &self.memory
    }

    /// The input limits in force.
    pub fn limits(&self) -> &InputLimits {
        &self.limits
    }

    /// The model with this id, if it is offered and not known to be unavailable.
    fn model(&self, id: &str) -> Result<&ModelRules, JobError> {
        let model = self.models.iter().find(|m| m.id == id).ok_or_else(|| {
            JobError::Request(format!(
                "The model {id:?} is not offered by this server. Choose one from the list."
            ))
        })?;
        if let Availability::Unavailable { .. } = self.availability.get(id) {
            return Err(self.unavailable(model));
        }
        Ok(model)
    }

    /// The refusal of an unavailable model, naming another to choose.
    fn unavailable(&self, model: &ModelRules) -> JobError {
        let instead = self
            .models
            .iter()
            .find(|m| {
                m.id != model.id
                    && !matches!(
                        self.availability.get(&m.id),
                        Availability::Unavailable { .. }
                    )
            })
            .map(|m| m.label.clone());
        JobError::ModelUnavailable {
            model: model.id.clone(),
            label: model.label.clone(),
            instead,
        }
    }

    /// Text to image.
    pub async fn generate(&self, request: GenerateRequest) -> Result<ImageResult, JobError> {
        self.generate_observed(request, &Progress::none()).await
    }

    /// Text to image, telling `progress` each step as it happens.
    pub async fn generate_observed(
        &self,
        request: GenerateRequest,
        progress: &Progress,
    ) -> Result<ImageResult, JobError> {
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
        model.check_options(request.thinking_level.as_deref(), request.grounding)?;
        let answer = answer_bounds(request.image_size.as_deref(), &self.client);
        // The answer, its decoded pixels and the stored PNG.
        let memory = answer.memory() + answer.max_pixels * 4 + 4 * 1024 * 1024;
        let want = Spend {
            images: 1,
            usd: model.expected_usd(request.image_size.as_deref(), 0, request.grounding),
        };
        let mut admission = self.admit(want, memory, progress).await?;

        let streamed = progress.is_listened() && model.thinks();
        let gemini_request = GenerateContentRequest {
            contents: vec![Content::user(vec![Part::text(prompt)])],
            generation_config: Some(model.generation_config(
                Some(ImageConfig {
                    aspect_ratio: request.aspect_ratio.clone(),
                    image_size: request.image_size.clone(),
                }),
                request.thinking_level.as_deref(),
                streamed,
            )),
            tools: tools(request.grounding),
            ..Default::default()
        };
        let answered = self
            .call(model, &gemini_request, answer, &mut admission, progress)
            .await?;
        let limits = answer_limits(&self.limits, answer);
        let new = NewImage {
            aspect_ratio: request.aspect_ratio,
            image_size: request.image_size,
            thinking_level: request.thinking_level,
            grounded: request.grounding,
            ..answered.metadata(ImageKind::Generated, prompt.to_owned(), model, None)
        };
        let grounding = answered
            .grounding
            .as_ref()
            .map(StoredGrounding::to_protocol);
        let (image, model_text) = (answered.image, answered.model_text);
        progress.send(JobEvent::Storing);
        let record = self
            .keep_on_lane(admission, move |store| {
                // Upstream output is input too: decode it whole under the limits an answer of
                // this size can need; what is stored is the model's file with nothing but the
                // picture in it.
                let decoded = decode_answer(&image.bytes, &limits)?;
                let new = finish_as_sent(new, Vec::from(image.bytes), &decoded);
                Ok(store.put(new)?)
            })
            .await?;
        Ok(result(&record, model_text, grounding))
    }

    /// An edit: the source (and references) through the mask.
    pub async fn edit(&self, job: EditJob) -> Result<ImageResult, JobError> {
        self.edit_observed(job, &Progress::none()).await
    }

    /// An edit, telling `progress` each step as it happens.
    pub async fn edit_observed(
        &self,
        job: EditJob,
        progress: &Progress,
    ) -> Result<ImageResult, JobError> {
        let prompt = check_prompt(&job.prompt)?.to_owned();
        let model = self.model(&job.model)?.clone();
        model.check_options(job.thinking_level.as_deref(), job.grounding)?;
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
            thinking_level,
            grounding,
            continue_conversation,
            crop_to_mask,
            expand,
            ..
        } = job;

        // Every header, and the conversation's records, before any turn, budget or memory is
        // taken.
        let limits = self.limits.clone();
        let (inspected, images, mask) = blocking(move || {
            let inspected = edit::inspect(&images, mask.as_deref(), &limits)?;
            Ok::<_, JobError>((inspected, images, mask))
        })
        .await?;
        let turns = match (&parent_id, continue_conversation && model.multi_turn) {
            (Some(parent), true) => self.turns(parent, &model).await?,
            _ => Vec::new(),
        };
        let answer = answer_bounds(None, &self.client);
        let inputs = images.len() + usize::from(mask.is_some()) + turns.len();
        let want = Spend {
            images: 1,
            usd: model.expected_usd(None, inputs, grounding),
        };
        // An expanded canvas: checked against the limits, its memory scaled from the source's
        // (every phase grows with the canvas's pixels at most).
        let (cw, ch) = expand
            .canvas(
                inspected.source.width,
                inspected.source.height,
                self.limits.max_pixels,
            )
            .map_err(JobError::Request)?;
        let scaled = (u128::from(inspected.memory_needed(answer))
            * u128::from(u64::from(cw) * u64::from(ch)))
        .div_ceil(u128::from(inspected.source.pixels().max(1)));
        let memory = u64::try_from(scaled).unwrap_or(u64::MAX) + history_memory(&turns);
        let mut admission = self.admit(want, memory, progress).await?;

        let limits = self.limits.clone();
        let feather = self.feather;
        let ratios = model.aspect_ratios.clone();
        let (compositor, upstream, frame, mut contents) = self
            .on_lane(move |store| {
                let prepared = edit::prepare(&images, mask.as_deref(), &limits, feather, expand)?;
                // The uploaded bytes are pixels now: they and their memory go.
                drop((images, mask, upload_memory));
                // An expanded canvas goes whole: the model paints the new area around all of it.
                let frame = (crop_to_mask && expand.is_none())
                    .then(|| prepared.frame(&ratios))
                    .flatten();
                let (compositor, upstream) = prepared
                    .into_parts(frame.as_ref().map(|f| f.rect))
                    .map_err(JobError::image)?;
                let contents = replay(store, turns, &limits)?;
                Ok((compositor, upstream, frame, contents))
            })
            .await?;
        let context_turns = contents.len() / 2;

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
        contents.push(Content::user(parts));
        let streamed = progress.is_listened() && model.thinks();
        let gemini_request = GenerateContentRequest {
            contents,
            // A frame is asked for in its own ratio; the whole source is answered in its own.
            generation_config: Some(model.generation_config(
                frame.as_ref().map(|f| ImageConfig {
                    aspect_ratio: Some(f.aspect_ratio.clone()),
                    image_size: None,
                }),
                thinking_level.as_deref(),
                streamed,
            )),
            tools: tools(grounding),
            ..Default::default()
        };
        let answered = self
            .call(&model, &gemini_request, answer, &mut admission, progress)
            .await?;
        drop(gemini_request);

        let limits = answer_limits(&self.limits, answer);
        let new = NewImage {
            thinking_level,
            grounded: grounding,
            context_turns: u32::try_from(context_turns).unwrap_or(u32::MAX),
            ..answered.metadata(ImageKind::Edited, prompt, &model, parent_id)
        };
        let grounding = answered
            .grounding
            .as_ref()
            .map(StoredGrounding::to_protocol);
        let (image, model_text) = (answered.image, answered.model_text);
        progress.send(JobEvent::Compositing);
        let stored = progress.clone();
        let record = self
            .keep_on_lane(admission, move |store| {
                let answer = decode_answer(&image.bytes, &limits)?;
                drop(image);
                let out = compositor.apply(&answer.pixels).map_err(JobError::image)?;
                drop(answer);
                let new = finish(new, &out);
                drop(out);
                stored.send(JobEvent::Storing);
                Ok(store.put(new)?)
            })
            .await?;
        Ok(ImageResult {
            detail: frame.map(|f| (f.gain * 10.0).round() as f32 / 10.0),
            ..result(&record, model_text, grounding)
        })
    }

    /// The earlier turns of `parent`'s conversation a follow-up on `model` replays, oldest
    /// first: the image being edited and its ancestors, as long as each was made by the same
    /// model (a signature belongs to its model) and kept its turn, within the token budget.
    async fn turns(&self, parent: &str, model: &ModelRules) -> Result<Vec<Turn>, JobError> {
        let (parent, id, budget) = (
            parent.to_owned(),
            model.id.clone(),
            self.conversation_tokens,
        );
        let image_tokens = model.input_tokens_per_image;
        self.store
            .run(move |store| -> Result<_, JobError> {
                let Some(lineage) = store.lineage(&parent)? else {
                    return Ok(Vec::new());
                };
                let records = std::iter::once(lineage.image).chain(
                    lineage.ancestors.into_iter().map_while(|a| match a {
                        Ancestor::Present(record) => Some(*record),
                        Ancestor::Deleted { .. } => None,
                    }),
                );
                let mut newest_first = Vec::new();
                for record in records.take(conversation::MAX_TURNS) {
                    if record.model != id {
                        break;
                    }
                    let Some(model_turn) = store.extras(&record.id)?.model_turn else {
                        break;
                    };
                    newest_first.push(Turn { record, model_turn });
                }
                Ok(conversation::fit(newest_first, budget, image_tokens))
            })
            .await
    }
}

/// The replayed turns as Gemini is sent them: for each, the user's instruction and the
/// model's turn, its image read back from the gallery at [`REFERENCE_SIDE`], one at a
/// time (the memory was reserved for it, see [`history_memory`]). It runs on the edit's
/// lane, after the edit's own decoding, so an edit queues for a lane once before its call.
fn replay(
    store: &dyn ImageStore,
    turns: Vec<Turn>,
    limits: &InputLimits,
) -> Result<Vec<Content>, JobError> {
    let mut contents = Vec::with_capacity(turns.len() * 2);
    for turn in turns {
        let Some(bytes) = store.read(&turn.record, FileKind::Image)? else {
            // A file gone since the lineage was read: the conversation ends there.
            contents.clear();
            continue;
        };
        let pixels = input::decode_within(&bytes, limits, REFERENCE_SIDE)?;
        drop(bytes);
        let png = Bytes::from(input::clean_png(&pixels));
        let Some(model) = conversation::replayed_turn(&turn.model_turn, png) else {
            contents.clear();
            continue;
        };
        contents.push(Content::user(vec![Part::text(turn.record.prompt)]));
        contents.push(model);
    }
    Ok(contents)
}

/// Waits for a lane, then runs `work` with the store on the blocking pool, holding the lane
/// and `held` until it ends.
async fn run_on_lane<T, H, F>(
    lanes: Arc<Semaphore>,
    store: StoreHandle,
    held: H,
    work: F,
) -> Result<T, JobError>
where
    T: Send + 'static,
    H: Send + 'static,
    F: FnOnce(&dyn ImageStore) -> Result<T, JobError> + Send + 'static,
{
    // The semaphore is never closed, so waiting for it cannot fail in practice.
    let lane = lanes
        .acquire_owned()
        .await
        .map_err(|_| JobError::Worker("the image lanes are closed".to_owned()))?;
    store
        .run(move |store| {
            let _held = (lane, held);
            work(store)
        })
        .await
}

/// The memory a replayed conversation holds: one stored file at a time, and each turn's image
/// reduced and re-encoded for sending.
fn history_memory(turns: &[Turn]) -> u64 {
    let largest_file = turns.iter().map(|t| t.record.bytes).max().unwrap_or(0);
    let reduced = |t: &Turn| {
        let (w, h) = resize::fit_within(t.record.width, t.record.height, REFERENCE_SIDE);
        // Decoded RGBA at most, its PNG at most as large, and the PNG's base64 in the request.
        u64::from(w) * u64::from(h) * 4 * 3
    };
    let images: u64 = turns.iter().map(reduced).sum();
    if turns.is_empty() {
        0
    } else {
        largest_file + images
    }
}

/// What a call brought back: the image (the last of the answer's images), the model's words,
/// what it used and cost, and what is kept of its turn and its grounding.
struct Answered {
    image: gemini::GeneratedImage,
    model_text: Option<String>,
    usage: gemini::Usage,
    cost_usd: Option<f64>,
    model_turn: Option<String>,
    grounding: Option<StoredGrounding>,
}

impl Answered {
    /// A record's metadata, before its pixels are known ([`finish`] adds them).
    fn metadata(
        &self,
        kind: ImageKind,
        prompt: String,
        model: &ModelRules,
        parent_id: Option<String>,
    ) -> NewImage {
        NewImage {
            parent_id,
            prompt_tokens: self.usage.prompt_tokens,
            output_tokens: self.usage.output_tokens,
            thoughts_tokens: self.usage.thoughts_tokens,
            search_queries: self.usage.search_queries,
            cost_usd: self.cost_usd,
            model_turn: self.model_turn.clone(),
            grounding: self.grounding.as_ref().and_then(StoredGrounding::to_json),
            ..NewImage::new(kind, prompt, model.id.clone())
        }
    }
}

/// What a job holds while it may call Gemini: its turn, its share of the day's budget and its
/// memory. The turn is given back when the call has its answer, the rest when the admission
/// is dropped, however the job ends.
#[derive(Debug)]
struct Admission {
    /// Given back as soon as the call has its answer (see [`Studio::call`]).
    turn: Option<OwnedSemaphorePermit>,
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
    /// room, `want` of the day's budget, and `memory` bytes of the image-memory budget. A job
    /// that has to wait for its turn is told how many are ahead of it.
    async fn admit(
        &self,
        want: Spend,
        memory: u64,
        progress: &Progress,
    ) -> Result<Admission, JobError> {
        let turn = match self.permits.clone().try_acquire_owned() {
            Ok(turn) => turn,
            Err(_) => {
                let ahead = self.waiting.fetch_add(1, Ordering::SeqCst);
                progress.send(JobEvent::Queued { ahead });
                let waited = tokio::time::timeout(
                    self.guard.queue_wait,
                    self.permits.clone().acquire_owned(),
                )
                .await;
                self.waiting.fetch_sub(1, Ordering::SeqCst);
                waited
                    .map_err(|_| {
                        metrics::counter!("gemflash_refusals_total", "reason" => "busy")
                            .increment(1);
                        JobError::Busy
                    })?
                    .map_err(|_| JobError::Busy)?
            }
        };
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
            turn: Some(turn),
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

    /// Calls Gemini and takes the image of its answer (the last one, should there be more).
    /// Whatever Google bills is charged (settled against the reservation, or added to the day
    /// when there is no budget), metered and audited, image or not. The call is streamed when
    /// someone listens to a thinking model, so its thought summaries arrive as it works.
    async fn call(
        &self,
        model: &ModelRules,
        request: &GenerateContentRequest,
        answer: AnswerBounds,
        admission: &mut Admission,
        progress: &Progress,
    ) -> Result<Answered, JobError> {
        if let Some(r) = admission.spend.as_mut() {
            r.sent = true;
        }
        let started = std::time::Instant::now();
        let options = CallOptions {
            limits: CallLimits {
                max_response_bytes: Some(answer.max_response_bytes),
            },
            stream: progress.is_listened() && model.thinks(),
        };
        let outcome = self
            .client
            .call(&model.id, request, options, &mut |event| {
                if let gemini::CallEvent::Attempt { .. } = event {
                    metrics::counter!("gemflash_upstream_attempts_total", "model" => model.id.clone())
                        .increment(1);
                }
                progress.call_event(event);
            })
            .await;
        // The call is over: the next job may make its own while this one works on the
        // answer (its memory stays reserved).
        admission.turn = None;
        let billed = match &outcome {
            Ok(g) => Some((g.usage, g.cost_usd)),
            Err(e) => e.billed().map(|u| (*u, self.client.cost(&model.id, u))),
        };
        let spent = Spend {
            images: u64::from(outcome.as_ref().is_ok_and(|g| !g.images.is_empty())),
            usd: billed.and_then(|(_, cost)| cost).unwrap_or(0.0),
        };
        audit(&model.id, request, &outcome, billed, started.elapsed());
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
        let generation = match outcome {
            Ok(generation) => generation,
            Err(GeminiError::ModelNotFound { .. }) => {
                let gone = Availability::Unavailable {
                    reason: availability::NOT_FOUND.to_owned(),
                };
                if self.availability.set(&model.id, gone) {
                    tracing::warn!(
                        model = model.id,
                        "Gemini does not know this model: it is shown as unavailable"
                    );
                }
                return Err(self.unavailable(model));
            }
            Err(e) => {
                if let Some(detail) = e.detail() {
                    // Scrubbed by the client; never shown to a user.
                    tracing::warn!(kind = e.kind(), detail, "gemini refused the call");
                }
                return Err(e.into());
            }
        };
        let image_index = generation
            .model_turn
            .parts
            .iter()
            .rposition(|p| p.inline_data.is_some());
        let (Some(image), Some(index)) = (generation.images.last().cloned(), image_index) else {
            return Err(JobError::Gemini(GeminiError::NoImage {
                finish_reason: None,
                text: None,
                usage: generation.usage,
            }));
        };
        let model_turn = model
            .multi_turn
            .then(|| conversation::stored_turn(&generation.model_turn, index))
            .flatten();
        let grounding = generation
            .grounding
            .as_ref()
            .map(|meta| StoredGrounding::from_answer(meta, gemini::scrub::scrub));
        Ok(Answered {
            image,
            model_text: generation.text,
            usage: generation.usage,
            cost_usd: generation.cost_usd,
            model_turn,
            grounding,
        })
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

/// Fills in the file (a lossless PNG), thumbnail and size of a record about to be stored.
/// The thumbnail is made on a second thread while this one encodes the PNG.
pub fn finish(mut new: NewImage, pixels: &DynamicImage) -> NewImage {
    let (png, thumbnail) = std::thread::scope(|scope| {
        let thumbnail = scope.spawn(|| thumbs::thumbnail(pixels));
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

/// Fills in a generation's record from the model's answer: its own file with every byte of
/// metadata left behind (see [`input::without_metadata`]), or, when its container does not
/// allow that, its pixels re-encoded as by [`finish`]. `decoded` is the answer decoded whole,
/// which is what shows that the file is an image of that size.
pub fn finish_as_sent(mut new: NewImage, mut bytes: Vec<u8>, decoded: &SourceImage) -> NewImage {
    new.bytes = match input::without_metadata(&bytes, decoded.format) {
        None => return finish(new, &decoded.pixels),
        Some(Cow::Owned(kept)) => kept,
        // A prefix of the answer: kept in the answer's own buffer (its `Bytes` is the only
        // handle left by now, so `Vec::from` takes that buffer over).
        Some(Cow::Borrowed(kept)) => {
            let end = kept.len();
            bytes.truncate(end);
            bytes
        }
    };
    new.mime = decoded.format.mime();
    new.thumbnail_webp = thumbs::thumbnail(&decoded.pixels);
    new.width = decoded.width();
    new.height = decoded.height();
    new
}

fn result(
    record: &ImageRecord,
    model_text: Option<String>,
    grounding: Option<Grounding>,
) -> ImageResult {
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
        grounding,
        context_turns: record.context_turns,
        detail: None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::{
        Condvar, Mutex,
        atomic::{AtomicBool, AtomicUsize},
        mpsc,
    };

    use gemini::ClientConfig;
    use secrecy::SecretString;

    use super::*;
    use crate::store::Store;

    fn studio(lanes: usize) -> (Studio, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let client = Client::new(ClientConfig::new(
            "http://127.0.0.1:9".parse().unwrap(),
            SecretString::from("k"),
        ))
        .unwrap();
        let store = Arc::new(Store::open(dir.path()).unwrap());
        let studio = Studio::new(client, store, Vec::new(), InputLimits::default(), 4)
            .with_image_workers(lanes);
        (studio, dir)
    }

    #[tokio::test]
    async fn image_work_waits_for_a_lane_first_come_first_served() {
        let (studio, _dir) = studio(1);
        let started = Arc::new(Mutex::new(Vec::new()));
        // On this single-threaded runtime the tasks first run, and so queue for the lane, in
        // the order they were spawned; with one lane each starts only once the last has ended.
        let jobs: Vec<_> = (0..6)
            .map(|i| {
                let (studio, started) = (studio.clone(), started.clone());
                tokio::spawn(async move {
                    studio
                        .on_lane(move |_| {
                            started.lock().unwrap().push(i);
                            std::thread::sleep(Duration::from_millis(5));
                            Ok(i)
                        })
                        .await
                })
            })
            .collect();
        for (i, job) in jobs.into_iter().enumerate() {
            assert_eq!(job.await.unwrap().unwrap(), i);
        }
        assert_eq!(*started.lock().unwrap(), vec![0, 1, 2, 3, 4, 5]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_image_work_runs_at_once_than_there_are_lanes() {
        let (studio, _dir) = studio(2);
        let (running, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        // Each job waits (up to 5 s) until a second one is running beside it, so two lanes
        // are seen in use together; the counter sees whether a third ever joins them.
        let met = Arc::new((Mutex::new(0_usize), Condvar::new()));
        let jobs: Vec<_> = (0..6)
            .map(|_| {
                let (studio, running, most, met) =
                    (studio.clone(), running.clone(), most.clone(), met.clone());
                tokio::spawn(async move {
                    studio
                        .on_lane(move |_| {
                            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                            most.fetch_max(now, Ordering::SeqCst);
                            let (arrived, partner) = &*met;
                            let mut arrived = arrived.lock().unwrap();
                            *arrived += 1;
                            partner.notify_all();
                            let pair = arrived.div_ceil(2) * 2;
                            let _ = partner
                                .wait_timeout_while(arrived, Duration::from_secs(5), |n| *n < pair)
                                .unwrap();
                            std::thread::sleep(Duration::from_millis(20));
                            running.fetch_sub(1, Ordering::SeqCst);
                            Ok(())
                        })
                        .await
                })
            })
            .collect();
        for job in jobs {
            job.await.unwrap().unwrap();
        }
        assert_eq!(
            most.load(Ordering::SeqCst),
            2,
            "two lanes in use, never three"
        );
    }

    /// A job whose work holds a lane until the sender is used, once that work has started.
    async fn hold_a_lane(
        studio: &Studio,
    ) -> (
        tokio::task::JoinHandle<Result<(), JobError>>,
        mpsc::Sender<()>,
    ) {
        let (started_tx, started_rx) = tokio::sync::oneshot::channel();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let studio = studio.clone();
        let job = tokio::spawn(async move {
            studio
                .on_lane(move |_| {
                    let _ = started_tx.send(());
                    release_rx.recv().unwrap();
                    Ok(())
                })
                .await
        });
        started_rx.await.unwrap();
        (job, release_tx)
    }

    #[tokio::test]
    async fn a_lane_is_held_until_its_work_ends_though_the_caller_has_gone() {
        let (studio, _dir) = studio(1);
        let (first, release_tx) = hold_a_lane(&studio).await;
        first.abort();
        let second_ran = Arc::new(AtomicBool::new(false));
        let second = tokio::spawn({
            let (studio, ran) = (studio.clone(), second_ran.clone());
            async move {
                studio
                    .on_lane(move |_| {
                        ran.store(true, Ordering::SeqCst);
                        Ok(())
                    })
                    .await
            }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            !second_ran.load(Ordering::SeqCst),
            "the first job's work still holds the lane"
        );
        release_tx.send(()).unwrap();
        second.await.unwrap().unwrap();
        assert!(second_ran.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn work_on_an_answer_is_done_and_kept_though_the_caller_went_while_it_queued() {
        let (studio, _dir) = studio(1);
        // Another job's work holds the only lane until told to end.
        let (busy, release_tx) = hold_a_lane(&studio).await;
        // What the job holds (its memory, in a real job) is given back only when its work ends.
        struct Held(Option<tokio::sync::oneshot::Sender<()>>);
        impl Drop for Held {
            fn drop(&mut self) {
                if let Some(done) = self.0.take() {
                    let _ = done.send(());
                }
            }
        }
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        let finished = Arc::new(AtomicBool::new(false));
        let caller = tokio::spawn({
            let (studio, finished) = (studio.clone(), finished.clone());
            async move {
                studio
                    .keep_on_lane(Held(Some(done_tx)), move |_| {
                        finished.store(true, Ordering::SeqCst);
                        Ok(())
                    })
                    .await
            }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        caller.abort();
        assert!(caller.await.unwrap_err().is_cancelled());
        release_tx.send(()).unwrap();
        busy.await.unwrap().unwrap();
        tokio::time::timeout(Duration::from_secs(5), done_rx)
            .await
            .expect("the work was dropped with its caller")
            .unwrap();
        assert!(
            finished.load(Ordering::SeqCst),
            "the work ran, and only then was what it holds given back"
        );
    }
}
