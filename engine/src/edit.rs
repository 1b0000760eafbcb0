//! The edit pipeline around the upstream call, without it: [`prepare`] turns the upload into
//! pixels and a mask and makes the copies Gemini is sent; [`PreparedEdit::apply`] lays the
//! model's answer into the source through the mask. The [`crate::studio::Studio`] runs these
//! with the call in between, and the `bench_edit` benchmark runs exactly these.
//!
//! Gemini is sent copies no larger than [`UPSTREAM_SIDE`] on their longer side: the models
//! answer at the size asked for whatever they are given, so a 12 MP upload would only make the request
//! slower to encode and to send. The full-resolution source stays here, and the answer is fitted
//! back onto it.

use fast_image_resize::{ResizeAlg, ResizeError};
use image::DynamicImage;

use crate::{
    composite::composite,
    error::InputError,
    input::{self, InputLimits, SourceImage},
    mask::{Mask, Weights},
    resize::{REDUCE, fit_within, scaled},
};

/// Longest side, in pixels, of the copies sent to Gemini. Newer models see an input image
/// through a fixed token budget; 2.5 Flash Image bills 258 tokens per 768×768 tile, so a
/// 12 MP photo sent whole would cost four times the input tokens of this copy. More pixels
/// would cost encoding, upload time and money; the answer's own size is set separately.
pub const UPSTREAM_SIDE: u32 = 2048;

/// An edit with its inputs decoded and checked, waiting for the model's answer.
#[derive(Debug, Clone)]
pub struct PreparedEdit {
    /// The image to edit, full resolution, orientation applied.
    pub source: DynamicImage,
    pub mask: Mask,
    /// The mask's blend weights, feathered: ready before the answer, which they do not need.
    pub weights: Weights,
    /// Further reference images, sent along as they are.
    pub references: Vec<DynamicImage>,
}

/// The images Gemini is sent, as PNG bytes, in the order the mask instruction names them.
#[derive(Debug, Clone)]
pub struct UpstreamImages {
    pub source: Vec<u8>,
    pub mask: Vec<u8>,
    pub references: Vec<Vec<u8>>,
}

/// Decodes the upload: the source first, then references; the mask (a whole-image edit when
/// there is none) must be the source's size, and is feathered by `feather` pixels.
///
/// The mask is decoded and feathered on a second thread while this one decodes the source:
/// its expected size comes from the source's header, so neither waits for the other.
pub fn prepare(
    images: &[Vec<u8>],
    mask: Option<&[u8]>,
    limits: &InputLimits,
    feather: u32,
) -> Result<PreparedEdit, InputError> {
    let (first, rest) = images.split_first().ok_or(InputError::NoImage)?;
    let (w, h) = input::decoded_dimensions(first, limits)?;
    let (source, mask) = std::thread::scope(|scope| {
        let mask_work = scope.spawn(move || {
            let mask = match mask {
                Some(bytes) => Mask::decode(bytes, w, h, limits)?,
                None => Mask::full(w, h),
            };
            let weights = mask.weights(feather);
            Ok::<_, InputError>((mask, weights))
        });
        let source = input::decode(first, limits).map(|s: SourceImage| s.pixels);
        // A panic on the mask's thread is a bug; it surfaces here as one.
        let mask = mask_work
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (source, mask)
    });
    let source = source?;
    let (mask, weights) = mask?;
    let references = rest
        .iter()
        .map(|bytes| input::decode(bytes, limits).map(|s| s.pixels))
        .collect::<Result<_, _>>()?;
    Ok(PreparedEdit {
        source,
        mask,
        weights,
        references,
    })
}

impl PreparedEdit {
    /// The copies sent to Gemini: source and mask scaled alike to at most [`UPSTREAM_SIDE`],
    /// references likewise. Pixels only: nothing of the uploaded files' metadata. The mask's
    /// copy is made on a second thread beside the source's.
    pub fn upstream_images(&self) -> Result<UpstreamImages, ResizeError> {
        std::thread::scope(|scope| {
            let mask = scope.spawn(|| {
                let mask = DynamicImage::ImageLuma8(self.mask.painted().clone());
                // Nearest keeps the mask black and white.
                upstream_copy(&mask, ResizeAlg::Nearest)
            });
            let source = upstream_copy(&self.source, REDUCE);
            let references = self
                .references
                .iter()
                .map(|image| upstream_copy(image, REDUCE))
                .collect::<Result<_, _>>();
            let mask = mask
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            Ok(UpstreamImages {
                source: source?,
                mask: mask?,
                references: references?,
            })
        })
    }

    /// Lays the model's answer into the source through the feathered mask: outside the mask
    /// the result is the source, pixel for pixel.
    pub fn apply(self, answer: &DynamicImage) -> Result<DynamicImage, ResizeError> {
        let mut out = self.source;
        composite(&mut out, answer, &self.weights)?;
        Ok(out)
    }
}

/// `image` as a PNG no larger than [`UPSTREAM_SIDE`].
fn upstream_copy(image: &DynamicImage, algorithm: ResizeAlg) -> Result<Vec<u8>, ResizeError> {
    let (w, h) = fit_within(image.width(), image.height(), UPSTREAM_SIDE);
    Ok(if (w, h) == (image.width(), image.height()) {
        input::clean_png(image)
    } else {
        input::clean_png(&scaled(image, w, h, algorithm)?)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GrayImage, Luma, Rgb, RgbImage};

    fn png(img: DynamicImage) -> Vec<u8> {
        input::clean_png(&img)
    }

    #[test]
    fn big_sources_are_sent_scaled_with_their_mask_and_small_ones_as_they_are() {
        let limits = InputLimits::default();
        let big = png(DynamicImage::ImageRgb8(RgbImage::from_pixel(
            4000,
            1000,
            Rgb([1, 2, 3]),
        )));
        let mask = png(DynamicImage::ImageLuma8(GrayImage::from_fn(
            4000,
            1000,
            |x, _| Luma([if x < 2000 { 255 } else { 0 }]),
        )));
        let prepared = prepare(&[big], Some(&mask), &limits, 4).unwrap();
        let sent = prepared.upstream_images().unwrap();
        let source = image::load_from_memory(&sent.source).unwrap();
        let mask = image::load_from_memory(&sent.mask).unwrap().to_luma8();
        assert_eq!((source.width(), source.height()), (UPSTREAM_SIDE, 512));
        assert_eq!(mask.dimensions(), (UPSTREAM_SIDE, 512));
        assert_eq!(mask.get_pixel(10, 10).0[0], 255);
        assert_eq!(mask.get_pixel(UPSTREAM_SIDE - 10, 10).0[0], 0);

        let small = png(DynamicImage::ImageRgb8(RgbImage::from_pixel(
            64,
            48,
            Rgb([1, 2, 3]),
        )));
        let sent = prepare(&[small], None, &limits, 4)
            .unwrap()
            .upstream_images()
            .unwrap();
        let source = image::load_from_memory(&sent.source).unwrap();
        assert_eq!((source.width(), source.height()), (64, 48));
    }

    #[test]
    fn no_mask_is_a_whole_image_edit_and_no_image_is_an_error() {
        let limits = InputLimits::default();
        let src = png(DynamicImage::ImageRgb8(RgbImage::from_pixel(
            8,
            8,
            Rgb([1, 2, 3]),
        )));
        let prepared = prepare(&[src], None, &limits, 4).unwrap();
        let answer = DynamicImage::ImageRgb8(RgbImage::from_pixel(16, 16, Rgb([9, 9, 9])));
        let out = prepared.apply(&answer).unwrap().to_rgb8();
        assert!(
            out.pixels().all(|p| p.0 == [9, 9, 9]),
            "every pixel takes the edit"
        );
        assert_eq!(
            prepare(&[], None, &limits, 4).unwrap_err(),
            InputError::NoImage
        );
    }
}
