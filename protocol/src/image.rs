//! Generation and edit requests, and the result the browser gets back: ids and URLs, never
//! image bytes.

use serde::{Deserialize, Serialize};

/// Longest prompt accepted, in characters.
pub const MAX_PROMPT_CHARS: usize = 4_000;

/// Text to image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerateRequest {
    pub prompt: String,
    pub model: String,
    /// E.g. `16:9`; `None` means square.
    pub aspect_ratio: Option<String>,
    /// `512`, `1K`, `2K` or `4K`, where the model takes a size.
    pub image_size: Option<String>,
}

/// A stored image, as the browser refers to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageResult {
    pub id: String,
    /// The image itself, e.g. `/images/{id}`.
    pub url: String,
    /// The same with `?download`, which asks the browser to save it.
    pub download_url: String,
    pub thumbnail_url: String,
    pub width: u32,
    pub height: u32,
    pub model: String,
    /// The image this one was edited from.
    pub parent_id: Option<String>,
    /// Tokens the call used, thinking included.
    pub total_tokens: u32,
    /// What the call cost, when the model's prices are known.
    pub cost_usd: Option<f64>,
    /// Words the model wrote beside the image.
    pub model_text: Option<String>,
}

impl ImageResult {
    /// The URLs of an image id.
    pub fn urls(id: &str) -> (String, String, String) {
        (
            format!("/images/{id}"),
            format!("/images/{id}?download"),
            format!("/images/{id}/thumb"),
        )
    }
}
