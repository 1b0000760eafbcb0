//! The smaller copies a page shows in place of an image: lossy WebP, sized for the screen.
//!
//! - the thumbnail ([`FileKind::Thumbnail`]): at most [`THUMBNAIL_SIDE`] on its longer side,
//!   the gallery grid's 1× size, made when the image is stored (every image is shown in the
//!   gallery);
//! - the 2× thumbnail ([`FileKind::Thumbnail2x`]): twice that, for dense screens;
//! - the view copy ([`FileKind::View`]): at most [`VIEW_SIDE`], what an image's page shows
//!   before the original is asked for.
//!
//! The last two are made when first asked for and kept: most images are never seen on a dense
//! screen or on their own page, and encoding them costs more CPU than the rest of storing a
//! generation. Quality 75 (80 for the view copy) keeps a photo's thumbnail near 5-15 KB, the
//! 2× near 30 KB. libwebp's method 2 is within a few percent of its best size at a third of its
//! time; the thumbnail, made while a generation is answered, uses method 1, which takes about
//! half of method 2's time for files about 13 % larger (measured: docs/BENCHMARKS.md).

use image::DynamicImage;
pub use protocol::{THUMBNAIL_SIDE, VIEW_SIDE};

use crate::{
    error::InputError,
    input::{self, InputLimits},
    resize,
    store::FileKind,
};

/// How a copy is encoded.
struct Spec {
    /// Its longer side at most.
    side: u32,
    quality: f32,
    /// libwebp's effort (0 fastest, 6 smallest).
    method: i32,
}

fn spec(file: FileKind) -> Spec {
    let (side, quality, method) = match file {
        FileKind::Thumbnail2x => (THUMBNAIL_SIDE * 2, 75.0, 2),
        FileKind::View => (VIEW_SIDE, 80.0, 2),
        FileKind::Thumbnail | FileKind::Image => (THUMBNAIL_SIDE, 75.0, 1),
    };
    Spec {
        side,
        quality,
        method,
    }
}

/// The gallery thumbnail of decoded pixels.
pub fn thumbnail(pixels: &DynamicImage) -> Vec<u8> {
    scaled_webp(pixels, FileKind::Thumbnail)
}

/// A copy made from a stored image's file, decoded under `limits` (reduced while it decodes
/// when it can be), for [`FileKind::Thumbnail2x`] or [`FileKind::View`].
pub fn derive(bytes: &[u8], limits: &InputLimits, file: FileKind) -> Result<Vec<u8>, InputError> {
    let pixels = input::decode_within(bytes, limits, spec(file).side)?;
    Ok(scaled_webp(&pixels, file))
}

/// The bytes a derivation may hold at once for an image of `width`×`height` stored in
/// `file_bytes`: the file, the decoded pixels (RGBA at most), the reduced copy and its WebP.
pub fn derive_memory(width: u32, height: u32, file_bytes: u64) -> u64 {
    let pixels = u64::from(width) * u64::from(height) * 4;
    let side = u64::from(VIEW_SIDE);
    file_bytes + pixels + side * side * 4 * 2
}

fn scaled_webp(pixels: &DynamicImage, file: FileKind) -> Vec<u8> {
    let spec = spec(file);
    let (w, h) = resize::fit_within(pixels.width(), pixels.height(), spec.side);
    // libwebp takes 8-bit RGB or RGBA; anything else is converted (decoded images are 8-bit
    // already, so this copy is rare).
    let converted;
    let pixels = match pixels {
        DynamicImage::ImageRgb8(_) | DynamicImage::ImageRgba8(_) => pixels,
        other if other.color().has_alpha() => {
            converted = DynamicImage::ImageRgba8(other.to_rgba8());
            &converted
        }
        other => {
            converted = DynamicImage::ImageRgb8(other.to_rgb8());
            &converted
        }
    };
    let small;
    let pixels = if (w, h) == (pixels.width(), pixels.height()) {
        pixels
    } else {
        small = resize::scaled(pixels, w, h, resize::REDUCE).unwrap_or_else(|_| {
            // Same layout in and out: cannot fail, but `image`'s own filter would do.
            pixels.thumbnail(w, h)
        });
        &small
    };
    webp(pixels, &spec)
}

/// Lossy WebP of 8-bit RGB or RGBA pixels.
fn webp(pixels: &DynamicImage, spec: &Spec) -> Vec<u8> {
    let (w, h) = (pixels.width(), pixels.height());
    let encoder = match pixels {
        DynamicImage::ImageRgba8(p) => webp::Encoder::from_rgba(p.as_raw(), w, h),
        DynamicImage::ImageRgb8(p) => webp::Encoder::from_rgb(p.as_raw(), w, h),
        other => return webp(&DynamicImage::ImageRgb8(other.to_rgb8()), spec),
    };
    let encoded = webp::WebPConfig::new().ok().and_then(|mut config| {
        config.quality = spec.quality;
        config.method = spec.method;
        encoder.encode_advanced(&config).ok()
    });
    match encoded {
        Some(memory) => memory.to_vec(),
        // libwebp refuses only impossible dimensions (checked above) or when it cannot
        // allocate; a lossless copy from `image` is the fallback either way.
        None => {
            let mut out = std::io::Cursor::new(Vec::new());
            let _ = pixels.write_to(&mut out, image::ImageFormat::WebP);
            out.into_inner()
        }
    }
}

#[cfg(test)]
mod tests {
    use image::{RgbImage, RgbaImage};

    use super::*;

    fn photo(width: u32, height: u32) -> DynamicImage {
        DynamicImage::ImageRgb8(RgbImage::from_fn(width, height, |x, y| {
            let n = (x.wrapping_mul(2654435761) ^ y.wrapping_mul(40503)) >> 7;
            image::Rgb([(x % 256) as u8, (y % 256) as u8, (n % 256) as u8])
        }))
    }

    fn decoded(webp: &[u8]) -> DynamicImage {
        assert_eq!(&webp[..4], b"RIFF");
        image::load_from_memory_with_format(webp, image::ImageFormat::WebP).unwrap()
    }

    #[test]
    fn a_thumbnail_is_a_lossy_webp_that_keeps_the_aspect_ratio() {
        let thumb = thumbnail(&photo(1600, 900));
        let img = decoded(&thumb);
        assert_eq!((img.width(), img.height()), (384, 216));
        // Lossy (VP8), not lossless (VP8L).
        assert_eq!(&thumb[12..16], b"VP8 ");
    }

    #[test]
    fn copies_are_sized_for_their_use_and_never_enlarged() {
        let mut png = std::io::Cursor::new(Vec::new());
        photo(3000, 2000)
            .write_to(&mut png, image::ImageFormat::Png)
            .unwrap();
        let png = png.into_inner();
        let limits = InputLimits::default();
        let twice = decoded(&derive(&png, &limits, FileKind::Thumbnail2x).unwrap());
        assert_eq!((twice.width(), twice.height()), (768, 512));
        let view = decoded(&derive(&png, &limits, FileKind::View).unwrap());
        assert_eq!((view.width(), view.height()), (1600, 1067));
        let small = thumbnail(&photo(200, 100));
        assert_eq!(decoded(&small).width(), 200);
    }

    #[test]
    fn transparency_is_kept() {
        let clear = DynamicImage::ImageRgba8(RgbaImage::from_fn(500, 500, |x, _| {
            image::Rgba([200, 10, 10, if x < 250 { 0 } else { 255 }])
        }));
        let img = decoded(&thumbnail(&clear)).to_rgba8();
        assert!(img.get_pixel(10, 100)[3] < 16);
        assert!(img.get_pixel(370, 100)[3] > 240);
    }

    #[test]
    fn a_derived_copy_of_a_file_that_is_not_an_image_is_an_error() {
        let err = derive(b"not an image", &InputLimits::default(), FileKind::View);
        assert!(err.is_err());
    }
}
