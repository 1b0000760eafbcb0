//! The editor's browser objects: what one page holds outside the reactive graph, because it
//! is not `Send` (files, decoded images, canvases) or is too large to clone (masks). The page
//! owns it (`StoredValue::new_local`), so it is dropped, object URLs revoked, when the page
//! goes; nothing outlives the page.

use std::collections::HashMap;

use futures::channel::oneshot;
use leptos::prelude::IntervalHandle;
use mask::{Bitmap, History, Rect};
use wasm_bindgen::{Clamped, JsCast, closure::Closure};
use web_sys::{CanvasRenderingContext2d, File, HtmlCanvasElement, HtmlImageElement, ImageData};

/// The colour the mask is shown in on the stage (drawn at half opacity).
pub const MASK_RGB: [u8; 3] = [0x7c, 0x4d, 0xff];

#[derive(Default)]
pub struct Local {
    pub next_key: u32,
    /// A picked, dropped or pasted file, with the object URL its preview loads from (dropping
    /// it revokes the URL).
    pub files: HashMap<u32, (File, gloo_file::ObjectUrl)>,
    /// Each source decoded, for the stage to draw.
    pub images: HashMap<u32, HtmlImageElement>,
    /// Each source's mask, with its history and its picture on the stage.
    pub masks: HashMap<u32, SourceMask>,
    /// The result, decoded, for comparing on the stage.
    pub result_image: Option<(String, HtmlImageElement)>,
    /// Cancels the request in flight.
    pub cancel: Option<oneshot::Sender<()>>,
    pub timer: Option<IntervalHandle>,
    /// What the pointer is doing on the stage.
    pub gesture: Gesture,
    /// Touch pointers down on the stage, by id (two of them pinch).
    pub touches: HashMap<i32, (f64, f64)>,
    /// Where the pointer is over the stage, for the brush cursor.
    pub hover: Option<(f64, f64)>,
    /// Whether the space bar is held (a drag then pans).
    pub space: bool,
    /// Whether a redraw is already asked for this frame.
    pub redraw_pending: bool,
    /// The keyboard rectangle, in image pixels, while the stage has focus.
    pub key_rect: Option<(f64, f64, f64, f64)>,
    /// A restored draft's mask (PNG) and undo history, by source, until the source is ready.
    pub pending: HashMap<u32, (Option<web_sys::Blob>, Option<Vec<u8>>)>,
    /// The source to edit once it is ready (a restored draft's).
    pub wanted_active: Option<u32>,
    /// The draft's next save, a moment after the last change.
    pub save: Option<leptos::prelude::TimeoutHandle>,
}

/// A pointer interaction in progress.
#[derive(Default)]
pub enum Gesture {
    #[default]
    Idle,
    /// A brush or eraser stroke: the mask as it was when the stroke began (for its undo step),
    /// the last point, and what it touched so far.
    Stroke {
        pointer: i32,
        before: Bitmap,
        last: (f64, f64),
        touched: Option<Rect>,
        erase: bool,
    },
    /// A rectangle from `start` (image pixels) to `end`.
    Rectangle {
        pointer: i32,
        start: (f64, f64),
        end: (f64, f64),
        erase: bool,
    },
    /// A lasso's points so far (image pixels).
    Lasso {
        pointer: i32,
        points: Vec<(f64, f64)>,
        erase: bool,
    },
    /// Dragging the view from its last screen point.
    Pan { pointer: i32, last: (f64, f64) },
    /// Two touches: the pair as it was at the last move.
    Pinch { last: ((f64, f64), (f64, f64)) },
}

/// One source's mask: the bitmap, its undo history, and its overlay at the source's size.
pub struct SourceMask {
    pub bitmap: Bitmap,
    pub history: History,
    pub overlay: Option<(HtmlCanvasElement, CanvasRenderingContext2d)>,
}

impl SourceMask {
    pub fn new(width: u32, height: u32) -> Self {
        Self {
            bitmap: Bitmap::new(width, height),
            history: History::default(),
            overlay: canvas(width, height),
        }
    }

    /// Redraws the overlay inside `rect` from the bitmap: the mask colour where painted,
    /// transparent elsewhere. Only the rectangle is touched, so a stroke costs what it painted.
    pub fn paint_overlay(&self, rect: Rect) {
        let Some((_, ctx)) = &self.overlay else {
            return;
        };
        let rect = rect.clipped(self.bitmap.width(), self.bitmap.height());
        if rect.is_empty() {
            return;
        }
        let bytes = self.bitmap.region(rect);
        let mut rgba = Vec::with_capacity(bytes.len() * 4);
        for v in bytes {
            if v == 0 {
                rgba.extend_from_slice(&[0, 0, 0, 0]);
            } else {
                rgba.extend_from_slice(&[MASK_RGB[0], MASK_RGB[1], MASK_RGB[2], 255]);
            }
        }
        if let Ok(data) =
            ImageData::new_with_u8_clamped_array_and_sh(Clamped(&rgba), rect.width(), rect.height())
        {
            let _ = ctx.put_image_data(&data, f64::from(rect.x0), f64::from(rect.y0));
        }
    }
}

/// A canvas of `width`×`height` that is not in the page, with its 2D context.
pub fn canvas(width: u32, height: u32) -> Option<(HtmlCanvasElement, CanvasRenderingContext2d)> {
    let canvas: HtmlCanvasElement = leptos::prelude::document()
        .create_element("canvas")
        .ok()?
        .dyn_into()
        .ok()?;
    canvas.set_width(width);
    canvas.set_height(height);
    let ctx = canvas.get_context("2d").ok()??.dyn_into().ok()?;
    Some((canvas, ctx))
}

/// A browser callback with nothing to pass.
pub type Callback = Closure<dyn FnMut()>;

/// A browser callback pair for a success and a failure (`onload`/`onerror`,
/// `onsuccess`/`onerror`), and what they answer: `true` for the first of them to run, `false`
/// for the second, `false` too when both are dropped unrun. Keep the closures alive until the
/// answer comes.
pub fn outcome() -> (Callback, Callback, oneshot::Receiver<bool>) {
    let (tx, rx) = oneshot::channel::<bool>();
    let tx = std::rc::Rc::new(std::cell::RefCell::new(Some(tx)));
    let answer = |ok: bool| {
        let tx = tx.clone();
        Callback::new(move || {
            if let Some(tx) = tx.borrow_mut().take() {
                let _ = tx.send(ok);
            }
        })
    };
    (answer(true), answer(false), rx)
}

/// Loads and decodes an image from `url`.
pub async fn load_image(url: &str) -> Result<HtmlImageElement, ()> {
    let image = HtmlImageElement::new().map_err(|_| ())?;
    let (on_load, on_error, rx) = outcome();
    image.set_onload(Some(on_load.as_ref().unchecked_ref()));
    image.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    image.set_src(url);
    let ok = rx.await.unwrap_or(false);
    image.set_onload(None);
    image.set_onerror(None);
    drop((on_load, on_error));
    if ok && image.natural_width() > 0 {
        Ok(image)
    } else {
        Err(())
    }
}

/// The files of a list (a drop, a paste or a file input), in order.
pub fn files_of(list: Option<web_sys::FileList>) -> Vec<File> {
    list.map(|files| (0..files.length()).filter_map(|i| files.get(i)).collect())
        .unwrap_or_default()
}

/// The files a file input's change event chose; the input is emptied, so choosing the same
/// file again is a change too.
pub fn take_chosen_files(ev: &leptos::ev::Event) -> Vec<File> {
    let Some(input) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
    else {
        return Vec::new();
    };
    let files = files_of(input.files());
    input.set_value("");
    files
}

/// A setting the browser remembers for this site (`localStorage`), if it can.
pub fn setting(key: &str) -> Option<String> {
    leptos::prelude::window()
        .local_storage()
        .ok()??
        .get_item(key)
        .ok()?
}

/// Remembers a setting; a browser that refuses (private mode, storage full) forgets it.
pub fn remember(key: &str, value: &str) {
    if let Ok(Some(storage)) = leptos::prelude::window().local_storage() {
        let _ = storage.set_item(key, value);
    }
}
