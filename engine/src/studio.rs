//! The image jobs: generate from text, and edit through a mask. Each validates its input,
//! calls Gemini, makes the result exact (for edits: composited through the mask), stores it,
//! and answers with ids and URLs.
//!
//! How the mask reaches Gemini: the source image first, the mask second (white = may change,
//! black = keep), then any further reference images, and an instruction that says so. The
//! model uses it as a strong hint; the compositing step makes it a guarantee.

use std::{io::Cursor, sync::Arc};

use gemini::{
    Client, GeminiError,
    wire::{Content, GenerateContentRequest, GenerationConfig, ImageConfig, Part},
};
use image::DynamicImage;
use protocol::{ErrorKind, GenerateRequest, ImageResult, MAX_PROMPT_CHARS, UserError};

use crate::{
    edit,
    error::InputError,
    input::{self, InputLimits, SourceImage},
    resize,
    store::{ImageRecord, ImageStore, Kind, NewImage, StoreError},
};

/// The instruction that tells the model how the mask works; the simulator looks for it too.
pub const MASK_INSTRUCTION: &str = "The first image is the one to edit. The second image is a mask of it: \
change only the region that is white in the mask, and keep everything in the black region exactly as it is.";

/// Longest side of a thumbnail, in pixels.
const THUMBNAIL_SIDE: u32 = 384;

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
}

impl Studio {
    pub fn new(
        client: Client,
        store: Arc<dyn ImageStore>,
        models: Vec<ModelRules>,
        limits: InputLimits,
        feather: u32,
    ) -> Self {
        Self {
            client,
            store,
            models: Arc::new(models),
            limits,
            feather,
        }
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
        let (prepared, upstream) = blocking(move || {
            let prepared = edit::prepare(&job.images, job.mask.as_deref(), &limits)?;
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
        let feather = self.feather;
        let record = blocking(move || {
            let answer = decode_answer(&image.bytes, &limits)?;
            let out = prepared
                .apply(&answer.pixels, feather)
                .map_err(JobError::image)?;
            Ok(store.put(finish(new, &out))?)
        })
        .await?;
        Ok(result(&record, model_text))
    }
}

impl Studio {
    /// Calls Gemini and takes the first image of its answer.
    async fn first_image(
        &self,
        model: &str,
        request: &GenerateContentRequest,
    ) -> Result<(gemini::Generation, gemini::GeneratedImage), JobError> {
        let generation = self.client.generate_content(model, request).await?;
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
        bytes: Vec::new(),
        mime: "image/png",
        thumbnail_webp: Vec::new(),
        width: 0,
        height: 0,
        parent_id,
        kind,
        prompt,
        model: model.to_owned(),
        aspect_ratio,
        image_size,
        prompt_tokens: usage.prompt_tokens,
        output_tokens: usage.output_tokens,
        thoughts_tokens: usage.thoughts_tokens,
        cost_usd,
    }
}

/// Fills in the file (a lossless PNG), thumbnail and size of a record about to be stored.
pub fn finish(mut new: NewImage, pixels: &DynamicImage) -> NewImage {
    new.bytes = input::clean_png(pixels);
    new.mime = "image/png";
    new.thumbnail_webp = thumbnail(pixels);
    new.width = pixels.width();
    new.height = pixels.height();
    new
}

/// A lossless WebP no larger than [`THUMBNAIL_SIDE`] on its longer side.
pub fn thumbnail(pixels: &DynamicImage) -> Vec<u8> {
    let (w, h) = resize::fit_within(pixels.width(), pixels.height(), THUMBNAIL_SIDE);
    // WebP takes 8-bit RGB or RGBA.
    let pixels = if pixels.color().has_alpha() {
        DynamicImage::ImageRgba8(pixels.to_rgba8())
    } else {
        DynamicImage::ImageRgb8(pixels.to_rgb8())
    };
    let small = resize::scaled(&pixels, w, h, resize::REDUCE).unwrap_or_else(|_| {
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
