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
    /// How hard the model thinks, where it takes a level; `None`: the model's default.
    #[serde(default)]
    pub thinking_level: Option<String>,
    /// Ground the image in Google Search, where the model can.
    #[serde(default)]
    pub grounding: bool,
}

impl GenerateRequest {
    /// A request for `prompt` on `model` with every option at its default.
    pub fn new(prompt: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            prompt: prompt.into(),
            model: model.into(),
            aspect_ratio: None,
            image_size: None,
            thinking_level: None,
            grounding: false,
        }
    }
}

/// The fields of an edit upload (multipart): the browser writes them, the server reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditField {
    /// An image file (the source first, then references); may repeat.
    Image,
    /// The mask PNG; at most once.
    Mask,
    Prompt,
    Model,
    /// A stored image to edit.
    SourceId,
    /// The thinking level, where the model takes one.
    ThinkingLevel,
    /// `on`: ground the edit in Google Search.
    Grounding,
    /// `fresh`: edit a stored image without replaying its conversation (the default
    /// continues it).
    Conversation,
    /// `whole`: send Gemini the whole image even when a frame around a small mask would give
    /// more detail (the default, `auto`, chooses).
    Detail,
    /// Expand the canvas: pixels added `left,top,right,bottom`, for the model to fill.
    Expand,
}

impl EditField {
    /// Every field, in the order the form names them.
    pub const ALL: [EditField; 10] = [
        EditField::Image,
        EditField::Mask,
        EditField::Prompt,
        EditField::Model,
        EditField::SourceId,
        EditField::ThinkingLevel,
        EditField::Grounding,
        EditField::Conversation,
        EditField::Detail,
        EditField::Expand,
    ];

    /// The field's name in the form.
    pub fn name(self) -> &'static str {
        match self {
            EditField::Image => "image",
            EditField::Mask => "mask",
            EditField::Prompt => "prompt",
            EditField::Model => "model",
            EditField::SourceId => "source_id",
            EditField::ThinkingLevel => "thinking_level",
            EditField::Grounding => "grounding",
            EditField::Conversation => "conversation",
            EditField::Detail => "detail",
            EditField::Expand => "expand",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Whether the field is a file (else text).
    pub fn is_file(self) -> bool {
        matches!(self, EditField::Image | EditField::Mask)
    }

    /// Whether the field may be sent more than once.
    pub fn repeats(self) -> bool {
        self == EditField::Image
    }
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
    /// The sources of a grounded image.
    #[serde(default)]
    pub grounding: Option<Grounding>,
    /// Earlier turns of the conversation this image continued (0: a fresh start).
    #[serde(default)]
    pub context_turns: u32,
    /// For an edit sent as a frame around its mask: how many times the detail of sending the
    /// whole image (along a side, to one decimal).
    #[serde(default)]
    pub detail: Option<f32>,
}

/// Where a grounded image's facts came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grounding {
    /// The Google searches the model ran.
    pub queries: Vec<String>,
    /// The pages it used.
    pub sources: Vec<GroundingSource>,
    /// Whether Google sent search suggestions to show beside the image (served, sandboxed, at
    /// `/images/{id}/search`).
    pub search_suggestions: bool,
}

/// One page a grounded answer used.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroundingSource {
    pub title: String,
    /// An `https` address (anything else is dropped before it is stored).
    pub uri: String,
}

/// Longest side of a stored image's thumbnail, in pixels.
pub const THUMBNAIL_SIDE: u32 = 384;

/// The longer side of the copy an image's page shows before the original is asked for.
pub const VIEW_SIDE: u32 = 1600;

/// Whether `id` has the shape of an image id (32 hex digits): checked before any lookup, so
/// no other text reaches the store.
pub fn is_image_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A size with the aspect of `width`×`height` whose longer side is at most `side` (the size
/// itself when it already fits). Thumbnails are made at this size, and pages reserve it.
pub fn fit_within(width: u32, height: u32, side: u32) -> (u32, u32) {
    let longest = width.max(height);
    if longest <= side {
        return (width, height);
    }
    let scale = |v: u32| {
        ((u64::from(v) * u64::from(side) + u64::from(longest) / 2) / u64::from(longest)).max(1)
            as u32
    };
    (scale(width), scale(height))
}

impl ImageResult {
    /// Where an image's search suggestions are served (a sandboxed page of their own).
    pub fn search_suggestions_url(id: &str) -> String {
        format!("/images/{id}/search")
    }

    /// The URLs of an image id.
    pub fn urls(id: &str) -> (String, String, String) {
        (
            format!("/images/{id}"),
            format!("/images/{id}?download"),
            format!("/images/{id}/thumb"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_keep_their_aspect_and_never_grow() {
        assert_eq!(fit_within(4000, 3000, 2048), (2048, 1536));
        assert_eq!(fit_within(3000, 4000, 384), (288, 384));
        assert_eq!(fit_within(100, 50, 384), (100, 50));
        assert_eq!(fit_within(10_000, 1, 100), (100, 1));
    }

    #[test]
    fn image_ids_are_32_hex_digits() {
        assert!(is_image_id("0123456789abcdef0123456789ABCDEF"));
        assert!(!is_image_id("0123456789abcdef0123456789abcde"));
        assert!(!is_image_id("../../../../etc/passwd-000000000"));
    }
}
