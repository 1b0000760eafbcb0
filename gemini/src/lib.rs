//! A typed client for the Gemini image API.
//!
//! - [`wire`]: the request and response model, as Gemini speaks it (camelCase JSON). Responses
//!   ignore unknown fields, and enums that grow upstream keep values they do not know.
//! - [`Client`]: `generateContent` and `streamGenerateContent` (SSE) with the key in the
//!   `x-goog-api-key` header only, bounded response sizes, timeouts, and retries that honour
//!   `RetryInfo.retryDelay` within an overall deadline; each attempt, retry and streamed
//!   thought summary reported as it happens ([`CallEvent`]); and `models.list`.
//! - [`GeminiError`]: every failure as a variant a person can act on, with a stable
//!   [`GeminiError::kind`].
//! - [`Generation`]: the images (MIME type decided by magic bytes), the model's text, the parts
//!   to echo back on a follow-up edit, token usage and cost.
//!
//! No web framework here: the server and the simulator build on it.

mod client;
mod error;
mod generation;
mod retry;
pub mod scrub;
mod sse;
mod usage;
pub mod wire;

/// Image formats by magic bytes: one sniffer for uploads, answers and the browser.
pub use protocol::sniff;

pub use client::{CallEvent, CallLimits, CallOptions, Client, ClientConfig};
pub use error::{Denial, GeminiError};
pub use generation::{GeneratedImage, Generation, interpret};
pub use retry::RetryPolicy;
pub use sse::SseDecoder;
pub use usage::{Pricing, Usage};
