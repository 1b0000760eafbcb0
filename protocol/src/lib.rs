//! The typed contract between the GemFlash browser app and its server.
//!
//! Everything that crosses the wire between the WASM front end and the server functions is
//! defined here, with serde only, so that it builds for `wasm32-unknown-unknown` and native
//! alike. Nothing in this crate knows about HTTP, Leptos or Gemini.

mod error;
mod gallery;
mod image;
mod job;
pub mod limits;
pub mod refusal;
mod server_info;
pub mod sniff;

pub use error::{ErrorKind, UserError};
pub use gallery::{
    GALLERY_PAGE_SIZE, GalleryItem, GalleryPage, GalleryQuery, ImageDetail, ImageKind,
    LineageEntry, format_usd, format_utc, parse_day,
};
pub use image::{
    EditField, GenerateRequest, Grounding, GroundingSource, ImageResult, MAX_PROMPT_CHARS,
    THUMBNAIL_SIDE, VIEW_SIDE, fit_within, is_image_id,
};
pub use job::{JobEvent, RetryReason};
pub use server_info::{Availability, ModelInfo, ServerInfo, StorageInfo, Upstream};
