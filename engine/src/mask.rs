//! The painted mask: which pixels may change.
//!
//! The browser sends a PNG the size of the source. A pixel may change where the mask is white
//! (on a mask with no transparency) or opaque (on one with transparency). The mask is made
//! binary at half intensity, then feathered *inward*: weights ramp from 0 at the mask's edge to
//! full strength `feather` pixels inside it. So the seam is soft, and no pixel outside the
//! painted region changes at all.

use image::{GrayImage, Luma};

use crate::{error::InputError, input::InputLimits};

/// Per-pixel blend weights: 0 keeps the source exactly, 255 takes the generated pixel.
#[derive(Debug, Clone, PartialEq)]
pub struct Mask {
    painted: GrayImage,
}

impl Mask {
    /// Decodes a mask PNG for a source of `width`×`height`.
    pub fn decode(
        bytes: &[u8],
        width: u32,
        height: u32,
        limits: &InputLimits,
    ) -> Result<Self, InputError> {
        if gemini::sniff::sniff(bytes) != Some(gemini::sniff::ImageFormat::Png) {
            return Err(InputError::MaskNotPng);
        }
        let img = crate::input::decode_as(bytes, image::ImageFormat::Png, limits)?;
        if (img.width(), img.height()) != (width, height) {
            return Err(InputError::MaskWrongSize {
                width,
                height,
                found_w: img.width(),
                found_h: img.height(),
            });
        }
        let rgba = img.to_rgba8();
        let uses_alpha = rgba.pixels().any(|p| p.0[3] < 255);
        let painted = GrayImage::from_fn(width, height, |x, y| {
            let [r, g, b, a] = rgba.get_pixel(x, y).0;
            let value = if uses_alpha {
                a
            } else {
                // Rec. 601 luma, integer.
                ((u32::from(r) * 299 + u32::from(g) * 587 + u32::from(b) * 114) / 1000) as u8
            };
            Luma([if value >= 128 { 255 } else { 0 }])
        });
        Self::from_painted(painted)
    }

    /// A mask from a binary image (255 = painted). Refuses an empty one.
    pub fn from_painted(painted: GrayImage) -> Result<Self, InputError> {
        if painted.pixels().all(|p| p.0[0] == 0) {
            return Err(InputError::MaskEmpty);
        }
        Ok(Self { painted })
    }

    /// The whole image may change.
    pub fn full(width: u32, height: u32) -> Self {
        Self {
            painted: GrayImage::from_pixel(width, height, Luma([255])),
        }
    }

    pub fn dimensions(&self) -> (u32, u32) {
        self.painted.dimensions()
    }

    /// Whether `(x, y)` was painted.
    pub fn is_painted(&self, x: u32, y: u32) -> bool {
        self.painted.get_pixel(x, y).0[0] != 0
    }

    /// Blend weights, feathered inward over `feather` pixels (0 = a hard edge).
    pub fn weights(&self, feather: u32) -> GrayImage {
        if feather == 0 {
            return self.painted.clone();
        }
        let distance = inside_distance(&self.painted, feather);
        // Distances are in thirds of a pixel (chamfer 3-4) and capped, so a table covers them
        // all: a smoothstep ramp (no visible kink at either end) reaching full at `feather`.
        let full = 3 * feather;
        let ramp: Vec<u8> = (0..=full + 3)
            .map(|d| {
                let t = (f64::from(d) / f64::from(full)).min(1.0);
                (t * t * (3.0 - 2.0 * t) * 255.0).round() as u8
            })
            .collect();
        let (w, h) = self.painted.dimensions();
        let weights: Vec<u8> = distance
            .iter()
            .map(|&d| ramp[(d as usize).min(ramp.len() - 1)])
            .collect();
        GrayImage::from_raw(w, h, weights).unwrap_or_else(|| GrayImage::new(w, h))
    }
}

/// For each painted pixel, its distance to the nearest unpainted pixel (or the image border,
/// which counts as unpainted), in thirds of a pixel, capped just past `cap` pixels.
/// A two-pass 3-4 chamfer transform: linear in the pixel count.
fn inside_distance(painted: &GrayImage, cap: u32) -> Vec<u32> {
    let (w, h) = painted.dimensions();
    let (wu, hu) = (w as usize, h as usize);
    let limit = 3 * (cap + 1);
    let mut d: Vec<u32> = painted
        .pixels()
        .map(|p| if p.0[0] == 0 { 0 } else { limit })
        .collect();
    let at = |x: usize, y: usize| y * wu + x;
    // Outside the image is unpainted: distance from the border starts at one step.
    for y in 0..hu {
        for x in 0..wu {
            let i = at(x, y);
            if d[i] == 0 {
                continue;
            }
            let mut best = d[i];
            if x == 0 || y == 0 || x == wu - 1 || y == hu - 1 {
                best = best.min(3);
            }
            if x > 0 {
                best = best.min(d[at(x - 1, y)] + 3);
            }
            if y > 0 {
                best = best.min(d[at(x, y - 1)] + 3);
                if x > 0 {
                    best = best.min(d[at(x - 1, y - 1)] + 4);
                }
                if x + 1 < wu {
                    best = best.min(d[at(x + 1, y - 1)] + 4);
                }
            }
            d[i] = best;
        }
    }
    for y in (0..hu).rev() {
        for x in (0..wu).rev() {
            let i = at(x, y);
            if d[i] == 0 {
                continue;
            }
            let mut best = d[i];
            if x + 1 < wu {
                best = best.min(d[at(x + 1, y)] + 3);
            }
            if y + 1 < hu {
                best = best.min(d[at(x, y + 1)] + 3);
                if x + 1 < wu {
                    best = best.min(d[at(x + 1, y + 1)] + 4);
                }
                if x > 0 {
                    best = best.min(d[at(x - 1, y + 1)] + 4);
                }
            }
            d[i] = best;
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{DynamicImage, Rgba, RgbaImage};

    fn png(img: RgbaImage) -> Vec<u8> {
        crate::input::clean_png(&DynamicImage::ImageRgba8(img))
    }

    fn square_mask(size: u32, from: u32, to: u32) -> GrayImage {
        GrayImage::from_fn(size, size, |x, y| {
            Luma([if (from..to).contains(&x) && (from..to).contains(&y) {
                255
            } else {
                0
            }])
        })
    }

    #[test]
    fn white_on_black_and_opaque_on_transparent_both_work() {
        let limits = InputLimits::default();
        let white = RgbaImage::from_fn(4, 4, |x, _| {
            if x < 2 {
                Rgba([255, 255, 255, 255])
            } else {
                Rgba([0, 0, 0, 255])
            }
        });
        let m = Mask::decode(&png(white), 4, 4, &limits).unwrap();
        assert!(m.is_painted(0, 0) && !m.is_painted(3, 0));
        let red = RgbaImage::from_fn(4, 4, |x, _| {
            if x < 2 {
                Rgba([255, 0, 0, 255])
            } else {
                Rgba([0, 0, 0, 0])
            }
        });
        let m = Mask::decode(&png(red), 4, 4, &limits).unwrap();
        assert!(m.is_painted(1, 1) && !m.is_painted(2, 1));
    }

    #[test]
    fn wrong_size_empty_and_non_png_masks_are_refused() {
        let limits = InputLimits::default();
        let img = RgbaImage::from_pixel(4, 4, Rgba([255, 255, 255, 255]));
        assert_eq!(
            Mask::decode(&png(img.clone()), 5, 4, &limits),
            Err(InputError::MaskWrongSize {
                width: 5,
                height: 4,
                found_w: 4,
                found_h: 4
            })
        );
        let black = RgbaImage::from_pixel(4, 4, Rgba([0, 0, 0, 255]));
        assert_eq!(
            Mask::decode(&png(black), 4, 4, &limits),
            Err(InputError::MaskEmpty)
        );
        assert_eq!(
            Mask::decode(b"\xFF\xD8\xFF\xE0", 4, 4, &limits),
            Err(InputError::MaskNotPng)
        );
    }

    #[test]
    fn feathering_stays_inside_the_painted_region() {
        let mask = Mask::from_painted(square_mask(64, 16, 48)).unwrap();
        let weights = mask.weights(6);
        for (x, y, w) in weights.enumerate_pixels().map(|(x, y, p)| (x, y, p.0[0])) {
            if !mask.is_painted(x, y) {
                assert_eq!(w, 0, "({x},{y}) is outside the mask but weighted");
            }
        }
        assert_eq!(
            weights.get_pixel(32, 32).0[0],
            255,
            "the centre is at full strength"
        );
        let edge = weights.get_pixel(16, 32).0[0];
        assert!(edge > 0 && edge < 80, "the edge is soft: {edge}");
    }

    #[test]
    fn an_all_white_mask_at_the_border_is_still_a_whole_image_edit_inside() {
        let weights = Mask::full(32, 32).weights(4);
        assert_eq!(weights.get_pixel(16, 16).0[0], 255);
        assert!(weights.get_pixel(0, 0).0[0] < 255, "borders feather too");
        assert_eq!(Mask::full(8, 8).weights(0).get_pixel(0, 0).0[0], 255);
    }
}
