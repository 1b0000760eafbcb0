//! Masks, as both sides of GemFlash see them: the editor paints one in the browser (WASM), the
//! server blends the model's answer through one. One crate, so what the editor shows as the
//! feather is exactly what the server will do.
//!
//! - [`Bitmap`]: one byte a pixel, 0 (keep) or 255 (may change), at the source's own size, with
//!   the strokes, shapes and whole-image operations the editor's tools make. Each operation
//!   returns the rectangle it touched, so a caller redraws and remembers only that.
//! - [`History`]: undo and redo of those operations, each kept as the touched rectangle's
//!   bytes before and after, run-length encoded; bounded in steps and in bytes.
//! - [`feather`]: blend weights that rise from 0 at the painted region's edge to full strength
//!   a set width inside it (a chamfer distance transform over the painted box).
//! - [`png`]: a mask as the PNG file an edit sends and the editor exports.
//!
//! Coordinates are image pixels; pixel `(x, y)` covers `[x, x+1) × [y, y+1)` and a shape takes
//! the pixels whose centres it contains, so a one-pixel brush drawn along a row paints exactly
//! that row, at any zoom.

mod bitmap;
pub mod feather;
mod history;
pub mod png;
mod rle;

pub use bitmap::{Bitmap, Rect, bounds_of};
pub use history::{Change, History};
