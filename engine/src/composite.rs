//! Mask-exact compositing: the generated image is fitted to the source's size with a
//! high-quality filter (Catmull-Rom), then blended in through the mask's weights. Where a
//! weight is 0 the output pixel *is* the source pixel, bit for bit; results are stored
//! losslessly so that stays true on disk.
//!
//! Only the mask's bounding box is resized and blended, in place: the part of the answer over
//! the box (at sub-pixel precision) is scaled to the box's size in source pixels, so a small
//! edit on a 12 MP photo costs what the edited region costs. The source keeps its pixel layout
//! (RGB stays RGB, so a photo is not widened to RGBA on the way).

use fast_image_resize::{IntoImageView, IntoImageViewMut, ResizeError, ResizeOptions};
use image::{DynamicImage, ImageBuffer, Pixel, Rgb, Rgba};

use crate::{
    mask::{Rect, Weights},
    resize::{ENLARGE, resize_into},
};

/// Lays `generated` into `source`, in place, through `weights` (which are for `source`).
/// `generated` covers `frame` of the source (the whole source when `None`): an answer to a
/// crop around the mask is fitted back onto the crop's place.
///
/// An RGB or RGBA source is blended as it is; any other layout becomes RGB (or RGBA if it has
/// alpha) with 8 bits per channel first, which is how results are stored.
pub fn composite(
    source: &mut DynamicImage,
    generated: &DynamicImage,
    weights: &Weights,
    frame: Option<Rect>,
) -> Result<(), ResizeError> {
    let frame = frame.unwrap_or(Rect {
        x0: 0,
        y0: 0,
        x1: source.width(),
        y1: source.height(),
    });
    match source {
        DynamicImage::ImageRgb8(pixels) => blend::<Rgb<u8>>(pixels, generated, weights, frame),
        DynamicImage::ImageRgba8(pixels) => blend::<Rgba<u8>>(pixels, generated, weights, frame),
        other => {
            *other = if other.color().has_alpha() {
                DynamicImage::ImageRgba8(other.to_rgba8())
            } else {
                DynamicImage::ImageRgb8(other.to_rgb8())
            };
            composite(other, generated, weights, Some(frame))
        }
    }
}

/// The 8-bit layouts blended directly, and how to bring the generated image into each.
trait Channels: Pixel<Subpixel = u8> + 'static {
    fn from_dynamic(img: &DynamicImage) -> ImageBuffer<Self, Vec<u8>>;
}

impl Channels for Rgb<u8> {
    fn from_dynamic(img: &DynamicImage) -> ImageBuffer<Self, Vec<u8>> {
        img.to_rgb8()
    }
}

impl Channels for Rgba<u8> {
    fn from_dynamic(img: &DynamicImage) -> ImageBuffer<Self, Vec<u8>> {
        img.to_rgba8()
    }
}

fn blend<P: Channels>(
    source: &mut ImageBuffer<P, Vec<u8>>,
    generated: &DynamicImage,
    weights: &Weights,
    frame: Rect,
) -> Result<(), ResizeError>
where
    ImageBuffer<P, Vec<u8>>: IntoImageView + IntoImageViewMut,
{
    let (width, height) = source.dimensions();
    let Rect { x0, y0, x1, y1 } = weights.bounds;
    if x1 > width || y1 > height || x0 >= x1 || y0 >= y1 {
        return Ok(());
    }
    // The mask lies inside the frame, and the frame inside the source.
    if frame.x1 > width || frame.y1 > height || frame.is_empty() {
        return Ok(());
    }
    if x0 < frame.x0 || y0 < frame.y0 || x1 > frame.x1 || y1 > frame.y1 {
        return Ok(());
    }

    // The answer may have another size and aspect: the box, in its coordinates.
    let sx = f64::from(generated.width()) / f64::from(frame.width());
    let sy = f64::from(generated.height()) / f64::from(frame.height());
    let (bw, bh) = (x1 - x0, y1 - y0);
    let answer = P::from_dynamic(generated);
    let mut fitted = ImageBuffer::<P, Vec<u8>>::new(bw, bh);
    let options = ResizeOptions::new().resize_alg(ENLARGE).crop(
        f64::from(x0 - frame.x0) * sx,
        f64::from(y0 - frame.y0) * sy,
        f64::from(bw) * sx,
        f64::from(bh) * sy,
    );
    resize_into(&answer, &mut fitted, &options)?;

    let c = usize::from(P::CHANNEL_COUNT);
    let (w, bw) = (width as usize, bw as usize);
    let src: &mut [u8] = source;
    let rows = weights
        .map
        .as_raw()
        .chunks_exact(bw)
        .zip(fitted.as_raw().chunks_exact(bw * c));
    for (y, (weights_row, fit_row)) in (y0 as usize..).zip(rows) {
        let src_row = &mut src[(y * w + x0 as usize) * c..][..bw * c];
        for ((&weight, o), g) in weights_row
            .iter()
            .zip(src_row.chunks_exact_mut(c))
            .zip(fit_row.chunks_exact(c))
        {
            match weight {
                0 => {}
                255 => o.copy_from_slice(g),
                _ => {
                    let wt = u32::from(weight);
                    for (o, &g) in o.iter_mut().zip(g) {
                        *o = ((u32::from(*o) * (255 - wt) + u32::from(g) * wt + 127) / 255) as u8;
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mask::Mask;
    use image::{GrayImage, Luma, RgbImage, RgbaImage};

    fn rect_mask(w: u32, h: u32, xs: std::ops::Range<u32>, ys: std::ops::Range<u32>) -> Mask {
        Mask::from_painted(GrayImage::from_fn(w, h, |x, y| {
            Luma([if xs.contains(&x) && ys.contains(&y) {
                255
            } else {
                0
            }])
        }))
        .unwrap()
    }

    #[test]
    fn outside_the_mask_every_pixel_is_the_source_and_inside_it_changes() {
        let source =
            RgbaImage::from_fn(96, 64, |x, y| Rgba([(x * 2) as u8, (y * 3) as u8, 77, 255]));
        // A generated image of another size and aspect, as models return.
        let generated =
            DynamicImage::ImageRgba8(RgbaImage::from_pixel(1024, 1024, Rgba([250, 10, 10, 255])));
        let mask = rect_mask(96, 64, 30..70, 20..44);
        let mut out = DynamicImage::ImageRgba8(source.clone());
        composite(&mut out, &generated, &mask.weights(5), None).unwrap();
        let out = out.to_rgba8();
        for (x, y, p) in out.enumerate_pixels() {
            if !mask.is_painted(x, y) {
                assert_eq!(
                    p,
                    source.get_pixel(x, y),
                    "({x},{y}) changed outside the mask"
                );
            }
        }
        assert_eq!(
            out.get_pixel(50, 32).0,
            [250, 10, 10, 255],
            "the mask's centre takes the edit"
        );
    }

    #[test]
    fn an_rgb_source_stays_rgb_and_exact_outside_the_mask() {
        let source = RgbImage::from_fn(50, 40, |x, y| Rgb([x as u8, y as u8, 200]));
        let generated =
            DynamicImage::ImageRgba8(RgbaImage::from_pixel(64, 64, Rgba([0, 255, 0, 255])));
        let mask = rect_mask(50, 40, 10..30, 5..25);
        let mut out = DynamicImage::ImageRgb8(source.clone());
        composite(&mut out, &generated, &mask.weights(3), None).unwrap();
        let DynamicImage::ImageRgb8(out) = out else {
            panic!("the source's layout changed")
        };
        for (x, y, p) in out.enumerate_pixels() {
            if !mask.is_painted(x, y) {
                assert_eq!(
                    p,
                    source.get_pixel(x, y),
                    "({x},{y}) changed outside the mask"
                );
            }
        }
        assert_eq!(out.get_pixel(20, 15).0, [0, 255, 0]);
    }

    #[test]
    fn a_grayscale_source_becomes_rgb_with_its_pixels_kept_outside_the_mask() {
        let source = GrayImage::from_fn(20, 20, |x, _| Luma([x as u8 * 10]));
        let generated = DynamicImage::ImageRgb8(RgbImage::from_pixel(20, 20, Rgb([255, 0, 0])));
        let mask = rect_mask(20, 20, 5..15, 5..15);
        let mut out = DynamicImage::ImageLuma8(source.clone());
        composite(&mut out, &generated, &mask.weights(0), None).unwrap();
        let out = out.as_rgb8().expect("grayscale becomes RGB").clone();
        assert_eq!(out.get_pixel(2, 2).0, [20, 20, 20]);
        assert_eq!(out.get_pixel(10, 10).0, [255, 0, 0]);
    }

    #[test]
    fn the_box_resize_lands_where_a_full_resize_would() {
        let generated = DynamicImage::ImageRgba8(RgbaImage::from_fn(512, 512, |x, _| {
            if x < 256 {
                Rgba([0, 0, 0, 255])
            } else {
                Rgba([255, 255, 255, 255])
            }
        }));
        let mut out =
            DynamicImage::ImageRgba8(RgbaImage::from_pixel(300, 200, Rgba([9, 9, 9, 255])));
        let weights = rect_mask(300, 200, 100..200, 0..200).weights(0);
        composite(&mut out, &generated, &weights, None).unwrap();
        let out = out.to_rgba8();
        assert!(
            out.get_pixel(140, 100).0[0] < 20,
            "left of the edge is dark"
        );
        assert!(
            out.get_pixel(160, 100).0[0] > 235,
            "right of the edge is light"
        );
    }

    #[test]
    fn an_answer_for_a_frame_lands_on_the_frame_and_nothing_outside_the_mask_changes() {
        // The answer covers the frame (100..200, 100..200): dark on its left half, light on
        // its right, so its middle column maps to x = 150 of the source.
        let generated = DynamicImage::ImageRgb8(RgbImage::from_fn(64, 64, |x, _| {
            Rgb(if x < 32 { [0, 0, 0] } else { [255, 255, 255] })
        }));
        let source =
            RgbImage::from_fn(400, 300, |x, y| Rgb([(x % 200) as u8, (y % 200) as u8, 60]));
        let mask = rect_mask(400, 300, 120..180, 110..190);
        let frame = Rect {
            x0: 100,
            y0: 100,
            x1: 200,
            y1: 200,
        };
        let mut out = DynamicImage::ImageRgb8(source.clone());
        composite(&mut out, &generated, &mask.weights(0), Some(frame)).unwrap();
        let out = out.to_rgb8();
        for (x, y, p) in out.enumerate_pixels() {
            if !mask.is_painted(x, y) {
                assert_eq!(
                    p,
                    source.get_pixel(x, y),
                    "({x},{y}) changed outside the mask"
                );
            }
        }
        assert!(
            out.get_pixel(140, 150).0[0] < 20,
            "left of the frame's middle is dark"
        );
        assert!(out.get_pixel(160, 150).0[0] > 235, "right of it is light");
    }
}
