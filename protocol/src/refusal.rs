//! The sentences a refused upload gets, written once: the server says them, and the editor
//! says the same words when it refuses a file as it arrives, before anything is sent.

/// A file of a format GemFlash does not take (`found` is its name, e.g. "GIF").
pub fn unsupported_format(found: &str) -> String {
    format!("This file is {found}, which GemFlash cannot edit. Use a PNG, JPEG or WebP image.")
}

/// A file that is no image at all.
pub const NOT_AN_IMAGE: &str =
    "This file is not an image GemFlash recognises. Use a PNG, JPEG or WebP image.";

/// An image over the per-image byte limit.
pub fn too_many_bytes(bytes: u64, limit: u64) -> String {
    format!(
        "This image is {} MB; the limit is {} MB per image. Use a smaller or more compressed file.",
        mb(bytes),
        mb(limit)
    )
}

/// An image over the per-image pixel limit.
pub fn too_many_pixels(width: u32, height: u32, limit: u64) -> String {
    format!(
        "This image is {width}×{height} pixels; the limit is {} megapixels. Scale it down first.",
        limit / 1_000_000
    )
}

/// An image that cannot be decoded.
pub fn corrupt(detail: &str) -> String {
    format!("This image could not be read ({detail}). It may be damaged; try exporting it again.")
}

/// Megabytes with one decimal.
pub fn mb(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / 1_048_576.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_name_what_was_found_and_what_to_do() {
        assert!(
            unsupported_format("GIF").contains("GIF")
                && unsupported_format("GIF").contains("PNG, JPEG or WebP")
        );
        assert_eq!(
            too_many_bytes(30 * 1_048_576, 25 * 1_048_576),
            "This image is 30.0 MB; the limit is 25.0 MB per image. Use a smaller or more compressed file."
        );
        assert!(too_many_pixels(9000, 8000, 50_000_000).contains("50 megapixels"));
    }
}
