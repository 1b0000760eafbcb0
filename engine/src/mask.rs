//! The painted mask: which pixels may change.
//!
//! The browser sends a PNG the size of the source. A pixel may change where the mask is white
//! (on a mask with no transparency) or opaque (on one with transparency). The mask is made
//! binary at half intensity, then feathered *inward*: weights ramp from 0 at the mask's edge to
//! full strength `feather` pixels inside it. So the seam is soft, and no pixel outside the
//! painted region changes at all. The image's own border is not an edge: a mask painted up to
//! it takes the edit at full strength there, and an all-white mask is a whole-image edit.
//!
//! Work is proportional to the painted region's bounding box, not to the image: a small mask on
//! a 12 MP photo costs little.

use image::{DynamicImage, GrayImage, Luma};

use crate::{error::InputError, input::InputLimits};

/// A binary mask the size of its source, with the box around what is painted.
#[derive(Debug, Clone, PartialEq)]
pub struct Mask {
    painted: GrayImage,
    bounds: Rect,
}

/// A rectangle in pixels: `x0..x1` × `y0..y1` (the `mask` crate's, shared with the editor).
pub use mask::Rect;

/// Blend weights over the painted box: 0 keeps the source exactly, 255 takes the generated
/// pixel. Everything outside the box weighs 0.
#[derive(Debug, Clone, PartialEq)]
pub struct Weights {
    pub bounds: Rect,
    /// `bounds.width() × bounds.height()` weights, row by row.
    pub map: GrayImage,
}

impl Weights {
    /// The weight of the source pixel at `(x, y)`.
    pub fn at(&self, x: u32, y: u32) -> u8 {
        let b = self.bounds;
        if (b.x0..b.x1).contains(&x) && (b.y0..b.y1).contains(&y) {
            self.map.get_pixel(x - b.x0, y - b.y0).0[0]
        } else {
            0
        }
    }
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
        let img = crate::input::decode_png(bytes, limits)?;
        if (img.width(), img.height()) != (width, height) {
            return Err(InputError::MaskWrongSize {
                width,
                height,
                found_w: img.width(),
                found_h: img.height(),
            });
        }
        Self::from_painted(binarize(img))
    }

    /// A mask from painted pixels (non-zero = may change). Refuses an empty one.
    pub fn from_painted(painted: GrayImage) -> Result<Self, InputError> {
        let bounds = painted_bounds(&painted).ok_or(InputError::MaskEmpty)?;
        let painted = GrayImage::from_raw(
            painted.width(),
            painted.height(),
            painted
                .into_raw()
                .into_iter()
                .map(|v| if v == 0 { 0 } else { 255 })
                .collect(),
        )
        .ok_or(InputError::MaskEmpty)?;
        Ok(Self { painted, bounds })
    }

    /// The whole image may change.
    pub fn full(width: u32, height: u32) -> Self {
        Self {
            painted: GrayImage::from_pixel(width, height, Luma([255])),
            bounds: Rect {
                x0: 0,
                y0: 0,
                x1: width,
                y1: height,
            },
        }
    }

    pub fn dimensions(&self) -> (u32, u32) {
        self.painted.dimensions()
    }

    /// The box around every painted pixel.
    pub fn bounds(&self) -> Rect {
        self.bounds
    }

    /// The mask as white (may change) on black (keep).
    pub fn painted(&self) -> &GrayImage {
        &self.painted
    }

    /// Whether the user painted `(x, y)`, i.e. it may change.
    pub fn is_painted(&self, x: u32, y: u32) -> bool {
        self.painted.get_pixel(x, y).0[0] != 0
    }

    /// Blend weights with an inward feather `feather` pixels wide: zero wherever the mask is
    /// not painted. The feather is `mask::feather`'s, the same the editor previews.
    pub fn weights(&self, feather: u32) -> Weights {
        let (w, h) = self.dimensions();
        let map = mask::feather::weights(self.painted.as_raw(), w, h, self.bounds, feather);
        let map = GrayImage::from_raw(self.bounds.width(), self.bounds.height(), map)
            .unwrap_or_else(|| GrayImage::new(self.bounds.width(), self.bounds.height()));
        Weights {
            bounds: self.bounds,
            map,
        }
    }
}

/// A decoded mask image as painted (255) or not (0): by alpha when the image has any
/// transparency, by brightness otherwise; the threshold is half intensity.
fn binarize(img: DynamicImage) -> GrayImage {
    let (w, h) = (img.width(), img.height());
    let threshold = |v: u8| if v >= 128 { 255 } else { 0 };
    let luma = |r: u8, g: u8, b: u8| {
        ((u32::from(r) * 299 + u32::from(g) * 587 + u32::from(b) * 114) / 1000) as u8
    };
    // By alpha when any pixel is not opaque, else by brightness; no converted copy is made.
    let by = |raw: &[u8], channels: usize, value: &dyn Fn(&[u8]) -> u8| -> Vec<u8> {
        let uses_alpha =
            channels.is_multiple_of(2) && raw.chunks_exact(channels).any(|p| p[channels - 1] < 255);
        raw.chunks_exact(channels)
            .map(|p| {
                threshold(if uses_alpha {
                    p[channels - 1]
                } else {
                    value(p)
                })
            })
            .collect()
    };
    let values: Vec<u8> = match img {
        DynamicImage::ImageLuma8(gray) => gray.into_raw().into_iter().map(threshold).collect(),
        DynamicImage::ImageLumaA8(gray) => by(gray.as_raw(), 2, &|p| p[0]),
        DynamicImage::ImageRgb8(rgb) => by(rgb.as_raw(), 3, &|p| luma(p[0], p[1], p[2])),
        DynamicImage::ImageRgba8(rgba) => by(rgba.as_raw(), 4, &|p| luma(p[0], p[1], p[2])),
        other => {
            let rgba = other.into_rgba8();
            by(rgba.as_raw(), 4, &|p| luma(p[0], p[1], p[2]))
        }
    };
    GrayImage::from_raw(w, h, values).unwrap_or_else(|| GrayImage::new(w, h))
}

/// The box around the non-zero pixels, or `None` when there are none.
fn painted_bounds(painted: &GrayImage) -> Option<Rect> {
    mask::bounds_of(painted.as_raw(), painted.width())
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgba, RgbaImage};

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
        for (x, y) in (0..64).flat_map(|y| (0..64).map(move |x| (x, y))) {
            let w = weights.at(x, y);
            if !mask.is_painted(x, y) {
                assert_eq!(w, 0, "({x},{y}) is outside the mask but weighted");
            }
        }
        assert_eq!(weights.at(32, 32), 255, "the centre is at full strength");
        let edge = weights.at(16, 32);
        assert!(edge > 0 && edge < 80, "the edge is soft: {edge}");
    }

    #[test]
    fn an_all_white_mask_is_a_whole_image_edit_up_to_the_border() {
        let weights = Mask::full(32, 32).weights(4);
        for (x, y) in [(16, 16), (0, 0), (31, 0), (0, 31), (31, 31), (0, 16)] {
            assert_eq!(weights.at(x, y), 255, "({x},{y}) is not at full strength");
        }
        assert_eq!(Mask::full(8, 8).weights(0).at(0, 0), 255);
    }

    #[test]
    fn a_mask_painted_to_the_border_feathers_only_where_it_meets_unpainted_pixels() {
        // The left half is painted: its left edge is the image's border, its right edge meets
        // the unpainted half.
        let painted = GrayImage::from_fn(40, 10, |x, _| Luma([if x < 20 { 255 } else { 0 }]));
        let weights = Mask::from_painted(painted).unwrap().weights(5);
        assert_eq!(weights.at(0, 5), 255, "the border is not an edge");
        assert!(weights.at(19, 5) < 80, "the inner edge is soft");
        assert_eq!(weights.at(20, 5), 0, "outside the mask nothing changes");
    }

    #[test]
    fn weights_cover_only_the_painted_box_and_match_a_whole_image_transform() {
        // A small stroke on a big image: the map is the stroke's box, not the image.
        let painted = square_mask(400, 100, 140);
        let mask = Mask::from_painted(painted.clone()).unwrap();
        let weights = mask.weights(6);
        assert_eq!(
            weights.bounds,
            Rect {
                x0: 100,
                y0: 100,
                x1: 140,
                y1: 140
            }
        );
        assert_eq!(weights.map.dimensions(), (40, 40));
        // The same weights as for the stroke alone on an image just one pixel larger.
        let tight = Mask::from_painted(square_mask(42, 1, 41))
            .unwrap()
            .weights(6);
        assert_eq!(tight.map, weights.map);
        assert!(
            weights.at(120, 101) > 0 && weights.at(120, 101) < 255,
            "edge is soft"
        );
        assert_eq!(weights.at(120, 120), 255);
        assert_eq!(weights.at(99, 120), 0);
    }

    #[test]
    fn masks_of_any_colour_type_decode_the_same() {
        let limits = InputLimits::default();
        let gray = GrayImage::from_fn(6, 6, |x, _| Luma([if x < 3 { 255 } else { 0 }]));
        let as_gray = crate::input::clean_png(&DynamicImage::ImageLuma8(gray.clone()));
        let as_rgb = crate::input::clean_png(&DynamicImage::ImageRgb8(
            DynamicImage::ImageLuma8(gray.clone()).to_rgb8(),
        ));
        let from_gray = Mask::decode(&as_gray, 6, 6, &limits).unwrap();
        let from_rgb = Mask::decode(&as_rgb, 6, 6, &limits).unwrap();
        assert_eq!(from_gray, from_rgb);
        assert_eq!(from_gray.painted(), &gray);
        assert_eq!(
            from_gray.bounds(),
            Rect {
                x0: 0,
                y0: 0,
                x1: 3,
                y1: 6
            }
        );
    }
}
