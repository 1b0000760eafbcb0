//! Mask-exact compositing: the generated image is fitted to the source's size with a
//! high-quality filter (Catmull-Rom), then blended in through the mask's weights. Where a
//! weight is 0 the output pixel *is* the source pixel, bit for bit; results are stored
//! losslessly so that stays true on disk.
//!
//! Only the mask's bounding box is resized and blended: outside it nothing can change, so a
//! small edit on a 12 MP photo costs what the edited region costs.

use image::{DynamicImage, GenericImageView, GrayImage, RgbaImage, imageops::FilterType};

/// Lays `generated` into `source` (in place) through `weights` (same size as `source`).
pub fn composite(
    mut source: RgbaImage,
    generated: &DynamicImage,
    weights: &GrayImage,
) -> RgbaImage {
    let (width, height) = source.dimensions();
    debug_assert_eq!(weights.dimensions(), (width, height));
    let Some((bx0, by0, bx1, by1)) = bounding_box(weights) else {
        return source;
    };

    // The part of the generated image that lands on the box, with a margin for the filter.
    let (gw, gh) = generated.dimensions();
    let (sx, sy) = (
        f64::from(gw) / f64::from(width),
        f64::from(gh) / f64::from(height),
    );
    let margin = 4.0;
    let gx0 = (f64::from(bx0) * sx - margin).floor().max(0.0) as u32;
    let gy0 = (f64::from(by0) * sy - margin).floor().max(0.0) as u32;
    let gx1 = ((f64::from(bx1) * sx + margin).ceil() as u32).min(gw);
    let gy1 = ((f64::from(by1) * sy + margin).ceil() as u32).min(gh);
    // Where that part starts in source pixels, and its size there.
    let ox = (f64::from(gx0) / sx).round() as u32;
    let oy = (f64::from(gy0) / sy).round() as u32;
    let tw = ((f64::from(gx1) / sx).round() as u32)
        .saturating_sub(ox)
        .max(1);
    let th = ((f64::from(gy1) / sy).round() as u32)
        .saturating_sub(oy)
        .max(1);
    let part = generated.view(gx0, gy0, gx1 - gx0, gy1 - gy0).to_image();
    let fitted = if (part.width(), part.height()) == (tw, th) {
        part
    } else {
        image::imageops::resize(&part, tw, th, FilterType::CatmullRom)
    };

    for y in by0..by1 {
        for x in bx0..bx1 {
            let w = u32::from(weights.get_pixel(x, y).0[0]);
            if w == 0 {
                continue;
            }
            let fx = x.saturating_sub(ox).min(tw - 1);
            let fy = y.saturating_sub(oy).min(th - 1);
            let g = fitted.get_pixel(fx, fy);
            let o = source.get_pixel_mut(x, y);
            if w == 255 {
                *o = *g;
            } else {
                for c in 0..4 {
                    let s = u32::from(o.0[c]);
                    let n = u32::from(g.0[c]);
                    o.0[c] = ((s * (255 - w) + n * w + 127) / 255) as u8;
                }
            }
        }
    }
    source
}

/// The smallest box holding every non-zero weight, as `(x0, y0, x1, y1)` with exclusive ends.
fn bounding_box(weights: &GrayImage) -> Option<(u32, u32, u32, u32)> {
    let (w, _) = weights.dimensions();
    let mut bounds: Option<(u32, u32, u32, u32)> = None;
    for (y, row) in weights.as_raw().chunks_exact(w as usize).enumerate() {
        let Some(first) = row.iter().position(|&v| v != 0) else {
            continue;
        };
        let last = row.iter().rposition(|&v| v != 0).unwrap_or(first);
        let y = y as u32;
        let (first, last) = (first as u32, last as u32 + 1);
        bounds = Some(match bounds {
            None => (first, y, last, y + 1),
            Some((x0, y0, x1, _)) => (x0.min(first), y0, x1.max(last), y + 1),
        });
    }
    bounds
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
        let out = composite(source.clone(), &generated, &mask.weights(5));
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
    fn the_box_resize_lands_where_a_full_resize_would() {
        // A generated image with a vertical edge at its middle: after fitting only the box,
        // the edge must still be at the middle of the source.
        let generated = DynamicImage::ImageRgba8(RgbaImage::from_fn(512, 512, |x, _| {
            if x < 256 {
                Rgba([0, 0, 0, 255])
            } else {
                Rgba([255, 255, 255, 255])
            }
        }));
        let source = RgbaImage::from_pixel(300, 200, Rgba([9, 9, 9, 255]));
        let painted = GrayImage::from_fn(300, 200, |x, _| {
            Luma([if (100..200).contains(&x) { 255 } else { 0 }])
        });
        let weights = Mask::from_painted(painted).unwrap().weights(0);
        let out = composite(source, &generated, &weights);
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
    fn an_empty_weight_map_returns_the_source_untouched() {
        let source = RgbaImage::from_pixel(8, 8, Rgba([1, 2, 3, 4]));
        let weights = GrayImage::new(8, 8);
        let generated = DynamicImage::ImageRgba8(RgbaImage::new(16, 16));
        assert_eq!(composite(source.clone(), &generated, &weights), source);
    }
}
