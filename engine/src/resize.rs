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
pub fn scaled(
    image: &DynamicImage,
    width: u32,
    height: u32,
    algorithm: ResizeAlg,
) -> Result<DynamicImage, ResizeError> {
    let mut out = DynamicImage::new(width, height, image.color());
    resize_into(image, &mut out, &ResizeOptions::new().resize_alg(algorithm))?;
    Ok(out)
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
