//! The limits browser and server share, stated once. The server enforces each of them (the
//! browser checks them too, to refuse early with the same words); its configuration can lower
//! the pixel limits, and [`crate::ServerInfo`] tells the browser the values in force.

/// Bytes of one uploaded image.
pub const MAX_IMAGE_BYTES: usize = 25 * 1024 * 1024;

/// Bytes of all the images of one edit together.
pub const MAX_REQUEST_BYTES: usize = 80 * 1024 * 1024;

/// Width × height of one image, by default.
pub const MAX_IMAGE_PIXELS: u64 = 50_000_000;

/// Width × height of all the images of one edit together, by default.
pub const MAX_REQUEST_PIXELS: u64 = 100_000_000;

/// Room an edit upload's multipart framing and text fields may take beyond its images.
pub const UPLOAD_OVERHEAD_BYTES: usize = 256 * 1024;

/// Bytes of a whole edit upload, as the server reads it.
pub const MAX_UPLOAD_BYTES: usize = MAX_REQUEST_BYTES + UPLOAD_OVERHEAD_BYTES;

/// Bytes of any other request body.
pub const MAX_SMALL_BODY_BYTES: usize = 256 * 1024;

/// The limits in force on a server, as the browser is told them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Limits {
    pub max_image_bytes: u64,
    pub max_request_bytes: u64,
    pub max_image_pixels: u64,
    pub max_request_pixels: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_image_bytes: MAX_IMAGE_BYTES as u64,
            max_request_bytes: MAX_REQUEST_BYTES as u64,
            max_image_pixels: MAX_IMAGE_PIXELS,
            max_request_pixels: MAX_REQUEST_PIXELS,
        }
    }
}
