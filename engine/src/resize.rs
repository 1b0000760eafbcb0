//! Resizing, with `fast_image_resize` (SIMD convolution; several times faster than `image`'s
//! own on large pictures). Downscaling filters widen with the scale, so a big reduction is
//! averaged, not sampled.

use fast_image_resize::{
    FilterType, IntoImageView, IntoImageViewMut, ResizeAlg, ResizeError, ResizeOptions, Resizer,
};
use image::DynamicImage;

/// Good for reductions (thumbnails, the copies sent to Gemini): a bilinear kernel widened
/// to the scale, i.e. an area average with soft edges.
pub const REDUCE: ResizeAlg = ResizeAlg::Convolution(FilterType::Bilinear);

/// Good for enlargements (fitting the model's answer to the source): sharp, no ringing to
/// speak of.
pub const ENLARGE: ResizeAlg = ResizeAlg::Convolution(FilterType::CatmullRom);

/// `image` scaled to `width`×`height`, in its own pixel layout.
///
/// An image with alpha is resized premultiplied (so transparent pixels do not bleed their
/// colour), which takes a premultiplied copy of the whole source first; an image whose alpha is
/// opaque everywhere (most of them) needs none, and gets none.
pub fn scaled(
    image: &DynamicImage,
    width: u32,
    height: u32,
    algorithm: ResizeAlg,
) -> Result<DynamicImage, ResizeError> {
    let mut out = DynamicImage::new(width, height, image.color());
    let options = ResizeOptions::new()
        .resize_alg(algorithm)
        .use_alpha(!is_opaque(image));
    resize_into(image, &mut out, &options)?;
    Ok(out)
}

/// Whether every pixel is fully opaque (true for images without alpha).
pub fn is_opaque(image: &DynamicImage) -> bool {
    match image {
        DynamicImage::ImageRgba8(rgba) => rgba.as_raw().chunks_exact(4).all(|p| p[3] == 255),
        DynamicImage::ImageLumaA8(la) => la.as_raw().chunks_exact(2).all(|p| p[1] == 255),
        other => !other.color().has_alpha(),
    }
}

/// Resizes (part of) `source` into the whole of `target`.
pub fn resize_into(
    source: &impl IntoImageView,
    target: &mut impl IntoImageViewMut,
    options: &ResizeOptions,
) -> Result<(), ResizeError> {
    Resizer::new().resize(source, target, options)
}

pub use protocol::fit_within;

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage};

    #[test]
    fn transparency_is_resized_premultiplied_and_opaque_images_as_they_are() {
        use image::{Rgba, RgbaImage};
        // A red pixel that is fully transparent must not tint its opaque blue neighbours.
        let img = DynamicImage::ImageRgba8(RgbaImage::from_fn(64, 64, |x, _| {
            if x % 2 == 0 {
                Rgba([255, 0, 0, 0])
            } else {
                Rgba([0, 0, 255, 255])
            }
        }));
        assert!(!is_opaque(&img));
        let small = scaled(&img, 16, 16, REDUCE).unwrap();
        let p = small.as_rgba8().unwrap().get_pixel(8, 8).0;
        assert!(p[0] < 16 && p[2] > 200, "{p:?}");
        let opaque = DynamicImage::ImageRgba8(RgbaImage::from_pixel(8, 8, Rgba([1, 2, 3, 255])));
        assert!(is_opaque(&opaque));
        assert!(is_opaque(&DynamicImage::ImageRgb8(image::RgbImage::new(
            2, 2
        ))));
    }

    #[test]
    fn a_reduction_averages_and_keeps_the_layout() {
        // Alternating black and white columns average to grey, not to one or the other.
        let stripes = DynamicImage::ImageRgb8(RgbImage::from_fn(400, 40, |x, _| {
            if x % 2 == 0 {
                Rgb([0, 0, 0])
            } else {
                Rgb([255, 255, 255])
            }
        }));
        let small = scaled(&stripes, 100, 10, REDUCE).unwrap();
        let small = small.as_rgb8().expect("RGB stays RGB");
        let v = small.get_pixel(50, 5).0[0];
        assert!((100..=155).contains(&v), "{v}");
    }
}
