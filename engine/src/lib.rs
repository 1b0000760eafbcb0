//! The GemFlash image job, with no web framework in it.
//!
//! - [`input`]: an uploaded image becomes pixels only if its bytes are PNG, JPEG or WebP, it
//!   fits the limits, and it decodes within a memory budget; EXIF orientation is applied and
//!   every byte of metadata is left behind (the pixels are all that go on).
//! - [`mask`]: the painted mask, checked against its source, feathered inward.
//! - [`composite`]: the model's answer is fitted to the source and laid in through the mask,
//!   so every pixel outside the mask is exactly the source's.
//! - [`detail`]: when a small mask on a large source is sent as a frame around it instead.
//! - [`edit`]: the edit pipeline around the upstream call (prepare, then apply the answer).
//! - [`store`]: images on disk and their metadata in SQLite, written so a crash loses nothing.
//! - [`memory`]: the process-wide image-memory budget every job reserves from.
//! - [`studio`]: the jobs (generate, edit) from a request to a stored result: admission (a
//!   turn, the store's room, the day's budget, memory) before any work that costs.
//! - [`progress`]: what a job tells the browser while it runs.
//! - [`conversation`]: what is kept of each model turn, and the history a follow-up replays.
//! - [`grounding`]: what is kept of a grounded answer's sources, and how they are shown.
//! - [`availability`]: which models this server's key can use.
//! - [`blocking`] and [`clock`]: the one way to run blocking work, and the one clock.

pub mod availability;
pub mod blocking;
pub mod clock;
pub mod composite;
pub mod conversation;
pub mod detail;
pub mod edit;
pub mod error;
pub mod grounding;
pub mod input;
pub mod mask;
pub mod memory;
pub mod progress;
pub mod resize;
pub mod store;
pub mod studio;
pub mod thumbs;

pub use error::InputError;
