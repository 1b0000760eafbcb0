//! What can be wrong with what a user sends, each with a sentence that says what to do (the
//! sentences the editor shares are in `protocol::refusal`).

use protocol::refusal;

/// A refused input. Messages name what was found and what is accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("{}", refusal::unsupported_format(found))]
    UnsupportedFormat { found: &'static str },

    #[error("{}", refusal::NOT_AN_IMAGE)]
    NotAnImage,

    #[error("{}", refusal::too_many_bytes(*bytes as u64, *limit as u64))]
    TooManyBytes { bytes: usize, limit: usize },

    #[error("These images add up to {} MB; the limit is {} MB per request. Send fewer or smaller images.", mb(*bytes), mb(*limit))]
    RequestTooLarge { bytes: usize, limit: usize },

    #[error("{}", refusal::too_many_pixels(*width, *height, *limit))]
    TooManyPixels { width: u32, height: u32, limit: u64 },

    #[error("These images add up to {} megapixels; the limit is {} megapixels per request. Send fewer or smaller images.", mp(*pixels), mp(*limit))]
    RequestTooManyPixels { pixels: u64, limit: u64 },

    #[error("{model} takes at most {max} input images; {count} were sent. Remove some.")]
    TooManyImages {
        count: usize,
        max: usize,
        model: String,
    },

    #[error("{}", refusal::corrupt(detail))]
    Corrupt { detail: String },

    #[error("The mask must be a PNG.")]
    MaskNotPng,

    #[error(
        "The mask is {found_w}×{found_h} but the image is {width}×{height}; they must match. Reload the image and paint again."
    )]
    MaskWrongSize {
        width: u32,
        height: u32,
        found_w: u32,
        found_h: u32,
    },

    #[error("Add an image to edit.")]
    NoImage,

    #[error("The mask is empty: paint over the part of the image that should change.")]
    MaskEmpty,
}

fn mp(pixels: u64) -> String {
    format!("{:.1}", pixels as f64 / 1_000_000.0)
}

fn mb(bytes: usize) -> String {
    refusal::mb(bytes as u64)
}
