//! A mask as a PNG file: white where the image may change, black where it is kept, at the
//! source's own size. The same file is what an edit sends, what "Export mask" saves and what
//! "Import mask" reads back, so a mask made elsewhere (or saved earlier) can be brought in.

use futures::channel::oneshot;
use mask::Bitmap;
use wasm_bindgen::{Clamped, JsCast, JsValue, closure::Closure};
use web_sys::{Blob, File, ImageData};

use super::local::{canvas, load_image};

/// Rows written to the canvas at a time, so a 12 MP mask never needs a 48 MB buffer at once.
const BAND_ROWS: u32 = 256;

/// The mask as a PNG: white where painted, black elsewhere.
pub async fn to_png(bitmap: &Bitmap) -> Option<Blob> {
    let (width, height) = (bitmap.width(), bitmap.height());
    let (out, ctx) = canvas(width, height)?;
    let raw = bitmap.as_raw();
    let mut y = 0;
    while y < height {
        let rows = BAND_ROWS.min(height - y);
        let start = y as usize * width as usize;
        let end = start + rows as usize * width as usize;
        let mut rgba = Vec::with_capacity((end - start) * 4);
        for &v in &raw[start..end] {
            let c = if v == 0 { 0 } else { 255 };
            rgba.extend_from_slice(&[c, c, c, 255]);
        }
        let data = ImageData::new_with_u8_clamped_array_and_sh(Clamped(&rgba), width, rows).ok()?;
        ctx.put_image_data(&data, 0.0, f64::from(y)).ok()?;
        y += rows;
    }
    let (tx, rx) = oneshot::channel::<Option<Blob>>();
    let mut tx = Some(tx);
    let callback = Closure::once(move |blob: JsValue| {
        if let Some(tx) = tx.take() {
            let _ = tx.send(blob.dyn_into::<Blob>().ok());
        }
    });
    out.to_blob_with_type(callback.as_ref().unchecked_ref(), "image/png")
        .ok()?;
    let blob = rx.await.ok()?;
    drop(callback);
    blob
}

/// Reads a mask file for a source of `size`: painted where a pixel is light and opaque
/// (so white-on-black and white-on-transparent masks both read as painted).
pub async fn from_file(file: &File, size: (u32, u32)) -> Result<Bitmap, String> {
    let unreadable =
        || "That file is not an image this browser can read. Import a PNG mask.".to_owned();
    let url = gloo_file::ObjectUrl::from(gloo_file::File::from(file.clone()));
    let image = load_image(&url).await.map_err(|()| unreadable())?;
    let (width, height) = (image.natural_width(), image.natural_height());
    if (width, height) != size {
        return Err(format!(
            "That mask is {width}×{height} pixels; this image is {}×{}. Import a mask of the same size.",
            size.0, size.1
        ));
    }
    let (_, ctx) = canvas(width, height).ok_or_else(unreadable)?;
    ctx.draw_image_with_html_image_element(&image, 0.0, 0.0)
        .map_err(|_| unreadable())?;
    let mut data = Vec::with_capacity(width as usize * height as usize);
    let mut y = 0;
    while y < height {
        let rows = BAND_ROWS.min(height - y);
        let band = ctx
            .get_image_data(0.0, f64::from(y), f64::from(width), f64::from(rows))
            .map_err(|_| unreadable())?
            .data();
        data.extend(band.chunks_exact(4).map(|p| {
            let light = (u32::from(p[0]) + u32::from(p[1]) + u32::from(p[2])) / 3;
            u8::from(light >= 128 && p[3] >= 128)
        }));
        y += rows;
    }
    Bitmap::from_raw(width, height, data).ok_or_else(unreadable)
}
