//! Mask-exact compositing: the generated image is fitted to the source's size with a
//! high-quality filter, then blended in through the mask's weights. Where a weight is 0 the
//! output pixel *is* the source pixel, bit for bit; results are stored losslessly so that stays
//! true on disk.

use image::{DynamicImage, GrayImage, RgbaImage, imageops::FilterType};

/// Lays `generated` into `source` through `weights` (same size as `source`).
pub fn composite(source: &RgbaImage, generated: &DynamicImage, weights: &GrayImage) -> RgbaImage {
    let (width, height) = source.dimensions();
    debug_assert_eq!(weights.dimensions(), (width, height));
    let fitted = if generated.width() == width && generated.height() == height {
        generated.to_rgba8()
    } else {
        generated
            .resize_exact(width, height, FilterType::Lanczos3)
            .to_rgba8()
    };
    let mut out = source.clone();
    for ((o, g), w) in out.pixels_mut().zip(fitted.pixels()).zip(weights.pixels()) {
        let w = u32::from(w.0[0]);
        match w {
            0 => {}
            255 => *o = *g,
            _ => {
                for c in 0..4 {
                    let s = u32::from(o.0[c]);
                    let n = u32::from(g.0[c]);
                    o.0[c] = ((s * (255 - w) + n * w + 127) / 255) as u8;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mask::Mask;
    use image::{Luma, Rgba};

    #[test]
    fn outside_the_mask_every_pixel_is_the_source_and_inside_it_changes() {
        let source =
            RgbaImage::from_fn(96, 64, |x, y| Rgba([(x * 2) as u8, (y * 3) as u8, 77, 255]));
        // A generated image of another size and aspect, as models return.
        let generated =
            DynamicImage::ImageRgba8(RgbaImage::from_pixel(1024, 1024, Rgba([250, 10, 10, 255])));
        let painted = GrayImage::from_fn(96, 64, |x, y| {
            Luma([if (30..70).contains(&x) && (20..44).contains(&y) {
                255
            } else {
                0
            }])
        });
        let mask = Mask::from_painted(painted).unwrap();
        let out = composite(&source, &generated, &mask.weights(5));
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
}
