//! What can be wrong with what a user sends, each with a sentence that says what to do.

/// A refused input. Messages name what was found and what is accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("This file is {found}, which GemFlash cannot edit. Use a PNG, JPEG or WebP image.")]
    UnsupportedFormat { found: &'static str },

    #[error("This file is not an image GemFlash recognises. Use a PNG, JPEG or WebP image.")]
    NotAnImage,

    #[error("This image is {} MB; the limit is {} MB per image. Use a smaller or more compressed file.", mb(*bytes), mb(*limit))]
    TooManyBytes { bytes: usize, limit: usize },

    #[error("These images add up to {} MB; the limit is {} MB per request. Send fewer or smaller images.", mb(*bytes), mb(*limit))]
    RequestTooLarge { bytes: usize, limit: usize },

    #[error("This image is {width}×{height} pixels; the limit is {} megapixels. Scale it down first.", *limit / 1_000_000)]
    TooManyPixels { width: u32, height: u32, limit: u64 },

    #[error("These images add up to {} megapixels; the limit is {} megapixels per request. Send fewer or smaller images.", mp(*pixels), mp(*limit))]
    RequestTooManyPixels { pixels: u64, limit: u64 },

    #[error("{model} takes at most {max} input images; {count} were sent. Remove some.")]
    TooManyImages {
        count: usize,
        max: usize,
        model: String,
    },

    #[error("This image could not be read ({detail}). It may be damaged; try exporting it again.")]
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
    format!("{:.1}", bytes as f64 / 1_048_576.0)
}
