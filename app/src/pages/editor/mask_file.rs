//! A mask as a PNG file: white where the image may change, black where it is kept, at the
//! source's own size. The same file is what an edit sends, what "Export mask" saves and what
//! "Import mask" reads back, so a mask made elsewhere (or saved earlier) can be brought in.

use mask::Bitmap;
use web_sys::Blob;

use super::local::{canvas, load_image};

/// Rows read from the canvas at a time when a mask file is imported, so a 12 MP mask never
/// needs a 48 MB buffer at once.
const BAND_ROWS: u32 = 256;

/// The mask as a PNG: white where painted, black elsewhere (encoded by `mask::png`, in one
/// pass over its runs; a canvas's own PNG encoder took hundreds of milliseconds at 16 MP).
pub fn to_png(bitmap: &Bitmap) -> Option<Blob> {
    let bytes = mask::png::encode(bitmap);
    let array = js_sys::Uint8Array::from(bytes.as_slice());
    let parts = js_sys::Array::of1(&array);
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("image/png");
    Blob::new_with_u8_array_sequence_and_options(&parts, &options).ok()
}

/// Reads a mask file for a source of `size`: painted where a pixel is light and opaque
/// (so white-on-black and white-on-transparent masks both read as painted).
pub async fn from_file(file: &Blob, size: (u32, u32)) -> Result<Bitmap, String> {
    let unreadable =
        || "That file is not an image this browser can read. Import a PNG mask.".to_owned();
    let url = gloo_file::ObjectUrl::from(gloo_file::Blob::from(file.clone()));
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
