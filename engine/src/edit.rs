//! The edit pipeline around the upstream call, without it: [`prepare`] turns the upload into
//! pixels and a mask and makes the copies Gemini is sent; [`PreparedEdit::apply`] lays the
//! model's answer into the source through the mask. The [`crate::studio::Studio`] runs these
//! with the call in between, and the `bench_edit` benchmark runs exactly these.
//!
//! Gemini is sent copies no larger than [`UPSTREAM_SIDE`] on their longer side: the models
//! answer at the size asked for whatever they are given, so a 12 MP upload would only make the request
//! slower to encode and to send. The full-resolution source stays here, and the answer is fitted
//! back onto it.

use fast_image_resize::{ResizeAlg, ResizeError, ResizeOptions};
use image::DynamicImage;

use crate::{
    composite::composite,
    detail::Frame,
    error::InputError,
    input::{self, ImageInfo, InputLimits},
    mask::{Mask, Rect, Weights},
    resize::{REDUCE, fit_within, resize_into, scaled},
};

/// Longest side, in pixels, of the copies sent to Gemini. Newer models see an input image
/// through a fixed token budget; 2.5 Flash Image bills 258 tokens per 768×768 tile, so a
/// 12 MP photo sent whole would cost four times the input tokens of this copy. More pixels
/// would cost encoding, upload time and money; the answer's own size is set separately.
pub const UPSTREAM_SIDE: u32 = 2048;

/// Longest side of a reference image's copy. A reference guides the edit (a style, an object
/// to bring in); the model takes each input through a fixed token budget, so a larger copy
/// adds bytes and memory, not detail. Fourteen references at this size are a fifth of what
/// they would be at [`UPSTREAM_SIDE`].
pub const REFERENCE_SIDE: u32 = 1024;

/// Room added around the source (expand canvas, outpainting), in source pixels. The new area
/// is what the model fills; the source's own pixels stay bit for bit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Expand {
    pub left: u32,
    pub top: u32,
    pub right: u32,
    pub bottom: u32,
}

impl Expand {
    /// Whether nothing is added.
    pub fn is_none(&self) -> bool {
        *self == Self::default()
    }

    /// The canvas for a `width`×`height` source, checked: no side may grow by more than the
    /// source's own size on that axis, and the canvas must fit the per-image pixel limit.
    pub fn canvas(&self, width: u32, height: u32, max_pixels: u64) -> Result<(u32, u32), String> {
        if self.left.max(self.right) > width || self.top.max(self.bottom) > height {
            return Err(format!(
                "The canvas can grow by at most the image's own size on each side ({width} px left or right, {height} px up or down). Expand less."
            ));
        }
        let (w, h) = (
            width + self.left + self.right,
            height + self.top + self.bottom,
        );
        if u64::from(w) * u64::from(h) > max_pixels {
            return Err(format!(
                "The expanded canvas ({w}×{h}) is larger than the {} megapixels an image may have. Expand less, or use a smaller image.",
                max_pixels / 1_000_000
            ));
        }
        Ok((w, h))
    }
}

/// An edit with its inputs decoded and checked, waiting for the model's answer.
#[derive(Debug, Clone)]
pub struct PreparedEdit {
    /// The image to edit, full resolution, orientation applied, 8 bits a sample.
    pub source: DynamicImage,
    pub mask: Mask,
    /// The mask's blend weights, feathered: ready before the answer, which they do not need.
    pub weights: Weights,
    /// Further reference images, already reduced to what goes upstream (at most
    /// [`REFERENCE_SIDE`]): their full size was never kept.
    pub references: Vec<DynamicImage>,
}

/// The images Gemini is sent, as PNG bytes, in the order the mask instruction names them.
#[derive(Debug, Clone)]
pub struct UpstreamImages {
    pub source: Vec<u8>,
    pub mask: Vec<u8>,
    pub references: Vec<Vec<u8>>,
}

impl UpstreamImages {
    /// Bytes of every copy.
    pub fn bytes(&self) -> usize {
        self.source.len() + self.mask.len() + self.references.iter().map(Vec::len).sum::<usize>()
    }
}

/// What compositing needs once the copies are made: the source, the weights, and the part of
/// the source the answer covers (all of it, unless a frame around the mask was sent).
#[derive(Debug, Clone)]
pub struct Compositor {
    source: DynamicImage,
    weights: Weights,
    frame: Option<Rect>,
}

/// An edit's images as their headers describe them, checked against every limit (format,
/// bytes, pixels per image and per request, the mask's size) before anything is decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct Inspected {
    pub source: ImageInfo,
    /// The mask's header, when there is a mask.
    pub mask: Option<ImageInfo>,
    pub references: Vec<ImageInfo>,
}

/// Reads every header of an edit and checks it: nothing is decoded, nothing is allocated for
/// pixels, and a request that could not be decoded within the limits is refused here.
pub fn inspect(
    images: &[Vec<u8>],
    mask: Option<&[u8]>,
    limits: &InputLimits,
) -> Result<Inspected, InputError> {
    let (first, rest) = images.split_first().ok_or(InputError::NoImage)?;
    let source = input::inspect(first, limits)?;
    let references = rest
        .iter()
        .map(|bytes| input::inspect(bytes, limits))
        .collect::<Result<Vec<_>, _>>()?;
    input::check_request_pixels(std::iter::once(&source).chain(&references), limits)?;
    let mask = match mask {
        None => None,
        Some(bytes) => {
            if gemini::sniff::sniff(bytes) != Some(gemini::sniff::ImageFormat::Png) {
                return Err(InputError::MaskNotPng);
            }
            let info = input::inspect(bytes, limits)?;
            if (info.width, info.height) != (source.width, source.height) {
                return Err(InputError::MaskWrongSize {
                    width: source.width,
                    height: source.height,
                    found_w: info.width,
                    found_h: info.height,
                });
            }
            Some(info)
        }
    };
    Ok(Inspected {
        source,
        mask,
        references,
    })
}

/// The most an answer may be: the bytes of Gemini's reply and the pixels of its image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnswerBounds {
    pub max_response_bytes: usize,
    pub max_pixels: u64,
}

impl AnswerBounds {
    /// Bytes an answer costs from its arrival to its decoded pixels: the body, the image
    /// bytes decoded from it, and the pixels (RGBA at most).
    pub fn memory(&self) -> u64 {
        self.max_response_bytes as u64 * 7 / 4 + self.max_pixels * 4
    }
}

/// Slack for the buffers no estimate names (row buffers, encoder state, small copies).
const SLACK: u64 = 4 * 1024 * 1024;

impl Inspected {
    /// The most memory the edit holds at once, from the headers: what the job reserves from
    /// the image-memory budget before it decodes anything. The phases are modelled one by one
    /// (decoding, the upstream copies, the call, compositing, storing); what lives through all
    /// of them (the source and the weights) is added to the largest.
    pub fn memory_needed(&self, answer: AnswerBounds) -> u64 {
        let src = &self.source;
        let p = src.pixels();
        let c = u64::from(src.channels);
        let copy_px = |info: &ImageInfo, side: u32| {
            let (w, h) = fit_within(info.width, info.height, side);
            u64::from(w) * u64::from(h)
        };
        let upstream_px = |info: &ImageInfo| copy_px(info, UPSTREAM_SIDE);
        // A decoder that is not ours may hold as much again as its output while it works
        // (progressive JPEG keeps every coefficient).
        let transient = |info: &ImageInfo| {
            if info.reduces_while_decoding {
                0
            } else {
                info.decoded_bytes() * 2
            }
        };
        let references: u64 = self
            .references
            .iter()
            .map(|r| copy_px(r, REFERENCE_SIDE) * u64::from(r.channels))
            .sum();
        // One reference decodes at a time: a PNG reduced while its rows arrive (by the whole
        // factor `decode_within` uses) holds only that; anything else is held whole first.
        let reference_decode = self
            .references
            .iter()
            .map(|r| {
                let factor = u64::from((r.width.max(r.height) / REFERENCE_SIDE).max(1));
                if r.reduces_while_decoding && factor > 1 {
                    r.decoded_bytes() / (factor * factor) + u64::from(r.width) * 8
                } else {
                    r.decoded_bytes() + transient(r)
                }
            })
            .max()
            .unwrap_or(0);
        // PNG copies (at most their raw size, a little more), then their base64 in the body.
        let copies = (upstream_px(src) * (c + 1)) * 101 / 100 + references * 101 / 100;
        let request = copies + copies * 4 / 3;
        let persistent = p * c + p;
        // The mask, on its own thread while the source decodes: its file decoded and made
        // binary, then the weights of its box (at most the image) with two bytes of distance
        // a pixel while they are made.
        let mask = match self.mask {
            Some(m) => (m.decoded_bytes() + p).max(4 * p),
            None => 2 * p,
        };
        let source_transient = if self.source.reduces_while_decoding {
            0
        } else {
            p * c * 2
        };
        let decoding = source_transient + mask + references + reference_decode;
        // A scaled copy passes through a buffer of the copy's width and the source's height,
        // and an image with transparency is premultiplied into a whole copy first.
        let longest = u64::from(src.width.max(src.height));
        let alpha = if src.channels.is_multiple_of(2) {
            p * c
        } else {
            0
        };
        let scaling = u64::from(UPSTREAM_SIDE) * longest * c + alpha;
        let copying = p + references + upstream_px(src) * (c + 1) + scaling + request;
        let calling = request + answer.memory();
        let compositing = answer.memory() + p * c;
        // The stored PNG, and the thumbnail made beside it (with its scaling buffer, and a
        // premultiplied copy when the result has transparency).
        let storing = p * c * 102 / 100 + u64::from(protocol::THUMBNAIL_SIDE) * longest * c + alpha;
        persistent
            + decoding
                .max(copying)
                .max(calling)
                .max(compositing)
                .max(storing)
            + SLACK
    }
}

/// Decodes the upload: the source first, then references (reduced as they decode); the mask
/// (a whole-image edit when there is none) must be the source's size, and is feathered by
/// `feather` pixels. Call [`inspect`] first: this relies on its checks.
///
/// The mask is decoded and feathered on a second thread while this one decodes the source:
/// its expected size comes from the source's header, so neither waits for the other.
pub fn prepare(
    images: &[Vec<u8>],
    mask: Option<&[u8]>,
    limits: &InputLimits,
    feather: u32,
    expand: Expand,
) -> Result<PreparedEdit, InputError> {
    let (first, rest) = images.split_first().ok_or(InputError::NoImage)?;
    let (w, h) = input::decoded_dimensions(first, limits)?;
    let (source, mask) = std::thread::scope(|scope| {
        let mask_work = scope.spawn(move || {
            let mask = match (mask, expand.is_none()) {
                (Some(bytes), true) => Mask::decode(bytes, w, h, limits)?,
                (None, true) => Mask::full(w, h),
                // Expanding: the new area, and whatever was painted inside the source.
                (painted, false) => {
                    let inside = painted
                        .map(|bytes| Mask::decode(bytes, w, h, limits))
                        .transpose()?;
                    Mask::from_painted(expanded_mask(inside.as_ref(), w, h, expand))?
                }
            };
            let weights = mask.weights(feather);
            Ok::<_, InputError>((mask, weights))
        });
        let source = input::decode(first, limits).map(|s| {
            if expand.is_none() {
                s.pixels
            } else {
                pad(&s.pixels, expand)
            }
        });
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
        .map(|bytes| input::decode_within(bytes, limits, REFERENCE_SIDE))
        .collect::<Result<_, _>>()?;
    Ok(PreparedEdit {
        source,
        mask,
        weights,
        references,
    })
}

/// The mask of an expanded canvas: the new area painted, and inside the source what `inside`
/// painted (nothing, without it).
fn expanded_mask(inside: Option<&Mask>, w: u32, h: u32, e: Expand) -> image::GrayImage {
    let (cw, ch) = (w + e.left + e.right, h + e.top + e.bottom);
    image::GrayImage::from_fn(cw, ch, |x, y| {
        let within = (e.left..e.left + w).contains(&x) && (e.top..e.top + h).contains(&y);
        let painted = !within || inside.is_some_and(|m| m.is_painted(x - e.left, y - e.top));
        image::Luma([if painted { 255 } else { 0 }])
    })
}

/// The source on an expanded canvas, the new area filled by stretching the source's edge
/// pixels outward (a start the model paints over; none of it survives outside the mask's
/// feather, and the source's own pixels are copied unchanged).
fn pad(source: &DynamicImage, e: Expand) -> DynamicImage {
    fn fill<P: image::Pixel>(
        src: &image::ImageBuffer<P, Vec<P::Subpixel>>,
        e: Expand,
    ) -> image::ImageBuffer<P, Vec<P::Subpixel>> {
        let (w, h) = src.dimensions();
        let (cw, ch) = (w + e.left + e.right, h + e.top + e.bottom);
        image::ImageBuffer::from_fn(cw, ch, |x, y| {
            let sx = x.saturating_sub(e.left).min(w - 1);
            let sy = y.saturating_sub(e.top).min(h - 1);
            *src.get_pixel(sx, sy)
        })
    }
    if source.color().has_alpha() {
        DynamicImage::ImageRgba8(fill(&source.to_rgba8(), e))
    } else {
        DynamicImage::ImageRgb8(fill(&source.to_rgb8(), e))
    }
}

impl PreparedEdit {
    /// The frame around the mask worth sending instead of the whole source, for a model that
    /// answers in `ratios` (see [`crate::detail`]); `None` for a whole-image edit.
    pub fn frame(&self, ratios: &[String]) -> Option<Frame> {
        let (w, h) = self.mask.dimensions();
        let painted = self.mask.bounds();
        if painted
            == (Rect {
                x0: 0,
                y0: 0,
                x1: w,
                y1: h,
            })
        {
            return None;
        }
        crate::detail::choose(w, h, painted, ratios)
    }

    /// The copies sent to Gemini: the source (or `frame` of it) and the mask cut and scaled
    /// alike to at most [`UPSTREAM_SIDE`], references as they are (already reduced to
    /// [`REFERENCE_SIDE`]). Pixels only: nothing of the uploaded files' metadata. The mask's
    /// copy is made on a second thread beside the source's.
    pub fn upstream_images(&self, frame: Option<Rect>) -> Result<UpstreamImages, ResizeError> {
        std::thread::scope(|scope| {
            let mask = scope.spawn(|| {
                // Read where it is (no copy of a full-size mask); nearest keeps it black and
                // white.
                let painted = self.mask.painted();
                let framed;
                let painted = match frame {
                    Some(r) => {
                        framed =
                            image::imageops::crop_imm(painted, r.x0, r.y0, r.width(), r.height())
                                .to_image();
                        &framed
                    }
                    None => painted,
                };
                let (w, h) = fit_within(painted.width(), painted.height(), UPSTREAM_SIDE);
                if (w, h) == painted.dimensions() {
                    return Ok::<_, ResizeError>(input::clean_png(&DynamicImage::ImageLuma8(
                        painted.clone(),
                    )));
                }
                let mut small = image::GrayImage::new(w, h);
                resize_into(
                    painted,
                    &mut small,
                    &ResizeOptions::new().resize_alg(ResizeAlg::Nearest),
                )?;
                Ok(input::clean_png(&DynamicImage::ImageLuma8(small)))
            });
            let source = match frame {
                Some(r) => upstream_copy(
                    &self.source.crop_imm(r.x0, r.y0, r.width(), r.height()),
                    REDUCE,
                ),
                None => upstream_copy(&self.source, REDUCE),
            };
            let references = self.references.iter().map(input::clean_png).collect();
            let mask = mask
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            Ok(UpstreamImages {
                source: source?,
                mask: mask?,
                references,
            })
        })
    }

    /// The copies for Gemini (of `frame`, when one is given), and what compositing needs: the
    /// painted mask and the references are dropped here, so they are not held through the
    /// call.
    pub fn into_parts(
        self,
        frame: Option<Rect>,
    ) -> Result<(Compositor, UpstreamImages), ResizeError> {
        let upstream = self.upstream_images(frame)?;
        Ok((
            Compositor {
                source: self.source,
                weights: self.weights,
                frame,
            },
            upstream,
        ))
    }

    /// Lays the model's answer (to the whole source) into the source through the feathered
    /// mask: outside the mask the result is the source, pixel for pixel.
    pub fn apply(self, answer: &DynamicImage) -> Result<DynamicImage, ResizeError> {
        Compositor {
            source: self.source,
            weights: self.weights,
            frame: None,
        }
        .apply(answer)
    }
}

impl Compositor {
    /// Lays the model's answer into the source through the feathered mask: outside the mask
    /// the result is the source, pixel for pixel.
    pub fn apply(self, answer: &DynamicImage) -> Result<DynamicImage, ResizeError> {
        let mut out = self.source;
        composite(&mut out, answer, &self.weights, self.frame)?;
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
        let prepared = prepare(&[big], Some(&mask), &limits, 4, Expand::default()).unwrap();
        let sent = prepared.upstream_images(None).unwrap();
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
        let sent = prepare(&[small], None, &limits, 4, Expand::default())
            .unwrap()
            .upstream_images(None)
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
        let prepared = prepare(&[src], None, &limits, 4, Expand::default()).unwrap();
        let answer = DynamicImage::ImageRgb8(RgbImage::from_pixel(16, 16, Rgb([9, 9, 9])));
        let out = prepared.apply(&answer).unwrap().to_rgb8();
        assert!(
            out.pixels().all(|p| p.0 == [9, 9, 9]),
            "every pixel takes the edit"
        );
        assert_eq!(
            prepare(&[], None, &limits, 4, Expand::default()).unwrap_err(),
            InputError::NoImage
        );
    }

    #[test]
    fn an_expanded_canvas_is_bounded_by_the_source_and_the_pixel_limit() {
        let wide = Expand {
            left: 200,
            right: 200,
            ..Expand::default()
        };
        assert_eq!(wide.canvas(600, 400, 1_000_000), Ok((1000, 400)));
        // More than the image's own size on a side.
        let far = Expand {
            top: 401,
            ..Expand::default()
        };
        assert!(
            far.canvas(600, 400, 1_000_000)
                .unwrap_err()
                .contains("Expand less")
        );
        // Within the sides, past the pixel limit.
        let message = wide.canvas(600, 400, 300_000).unwrap_err();
        assert!(message.contains("1000×400"), "{message}");
        assert!(Expand::default().is_none() && !wide.is_none());
    }
}
