//! Turning uploaded bytes into pixels, safely.
//!
//! The format comes from the magic bytes (a name or a declared type can lie). Byte limits are
//! checked before anything is parsed, the pixel limits (per image and per request) as soon as
//! the headers are read and before any pixel buffer is allocated (so a decompression bomb
//! costs nothing), and the decoders run under `image::Limits`. Every image is decoded to 8 bits
//! a sample (a 16-bit PNG never exists in memory at 16 bits), and an image that goes upstream
//! only as a reduced copy can be reduced while it decodes ([`decode_within`]). What comes out
//! is pixels, oriented as the camera meant them: EXIF, GPS, XMP and comments stay behind in the
//! bytes, which go no further.

mod png;
mod verbatim;

use std::io::Cursor;

use gemini::sniff::{ImageFormat, sniff};
use image::{DynamicImage, ImageDecoder, ImageReader, metadata::Orientation};

pub use verbatim::without_metadata;

use crate::{error::InputError, resize};

/// Limits on what a request may carry. Defaults suit a phone photo and a 4K render.
#[derive(Debug, Clone, PartialEq)]
pub struct InputLimits {
    pub max_image_bytes: usize,
    pub max_request_bytes: usize,
    /// Width × height of one image.
    pub max_pixels: u64,
    /// Width × height of all the images of one request together.
    pub max_request_pixels: u64,
    /// What a decoder may allocate for one image.
    pub max_decode_bytes: u64,
}

impl Default for InputLimits {
    fn default() -> Self {
        Self {
            max_image_bytes: protocol::limits::MAX_IMAGE_BYTES,
            max_request_bytes: protocol::limits::MAX_REQUEST_BYTES,
            max_pixels: protocol::limits::MAX_IMAGE_PIXELS,
            max_request_pixels: protocol::limits::MAX_REQUEST_PIXELS,
            max_decode_bytes: 512 * 1024 * 1024,
        }
    }
}

/// An accepted input image: its pixels (orientation applied, metadata gone) and what it was.
#[derive(Debug, Clone)]
pub struct SourceImage {
    pub pixels: DynamicImage,
    pub format: ImageFormat,
}

impl SourceImage {
    pub fn width(&self) -> u32 {
        self.pixels.width()
    }

    pub fn height(&self) -> u32 {
        self.pixels.height()
    }
}

/// What an image's header says it decodes to, read without decoding a pixel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageInfo {
    pub format: ImageFormat,
    /// Size after the orientation is applied.
    pub width: u32,
    pub height: u32,
    /// Channels of the decoded 8-bit pixels (1 to 4).
    pub channels: u8,
    /// Whether [`decode_within`] can reduce it while decoding (a PNG that is not interlaced),
    /// rather than decoding it whole first.
    pub reduces_while_decoding: bool,
}

impl ImageInfo {
    /// Width × height.
    pub fn pixels(&self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }

    /// Bytes of the decoded pixels.
    pub fn decoded_bytes(&self) -> u64 {
        self.pixels() * u64::from(self.channels)
    }
}

/// Checks the total size of a request's images before any of them is decoded.
pub fn check_request_size(
    sizes: impl IntoIterator<Item = usize>,
    limits: &InputLimits,
) -> Result<(), InputError> {
    let total: usize = sizes.into_iter().sum();
    if total > limits.max_request_bytes {
        return Err(InputError::RequestTooLarge {
            bytes: total,
            limit: limits.max_request_bytes,
        });
    }
    Ok(())
}

/// Checks the pixels of a request's images together, from their headers.
pub fn check_request_pixels<'a>(
    images: impl IntoIterator<Item = &'a ImageInfo>,
    limits: &InputLimits,
) -> Result<(), InputError> {
    let total: u64 = images.into_iter().map(ImageInfo::pixels).sum();
    if total > limits.max_request_pixels {
        return Err(InputError::RequestTooManyPixels {
            pixels: total,
            limit: limits.max_request_pixels,
        });
    }
    Ok(())
}

/// One image's pixels against the per-image limit.
pub(crate) fn check_pixels(
    width: u32,
    height: u32,
    limits: &InputLimits,
) -> Result<(), InputError> {
    if width == 0 || height == 0 {
        return Err(InputError::Corrupt {
            detail: "the image has no pixels".into(),
        });
    }
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(InputError::TooManyPixels {
            width,
            height,
            limit: limits.max_pixels,
        });
    }
    Ok(())
}

/// What an upload decodes to, from its header alone: the same checks and refusals as
/// [`decode`] (format, bytes, pixels), without decoding a pixel.
pub fn inspect(bytes: &[u8], limits: &InputLimits) -> Result<ImageInfo, InputError> {
    let format = accepted_format(bytes, limits)?;
    let (width, height, channels, orientation, reduces) = match format {
        ImageFormat::Png => {
            let h = png::header(bytes, limits)?;
            (h.width, h.height, h.channels, h.orientation, !h.interlaced)
        }
        other => {
            let (decoder, (w, h), orientation) = open(bytes, codec(other), limits)?;
            let channels = decoder.color_type().channel_count().min(4);
            (w, h, channels, orientation, false)
        }
    };
    check_pixels(width, height, limits)?;
    let (width, height) = if swaps_sides(orientation) {
        (height, width)
    } else {
        (width, height)
    };
    Ok(ImageInfo {
        format,
        width,
        height,
        channels,
        reduces_while_decoding: reduces,
    })
}

/// What [`decode`] would make of the image's size, orientation applied, from its header
/// alone.
pub fn decoded_dimensions(bytes: &[u8], limits: &InputLimits) -> Result<(u32, u32), InputError> {
    inspect(bytes, limits).map(|info| (info.width, info.height))
}

fn swaps_sides(orientation: Orientation) -> bool {
    matches!(
        orientation,
        Orientation::Rotate90
            | Orientation::Rotate270
            | Orientation::Rotate90FlipH
            | Orientation::Rotate270FlipH
    )
}

/// Decodes one uploaded image within `limits`, at 8 bits a sample.
pub fn decode(bytes: &[u8], limits: &InputLimits) -> Result<SourceImage, InputError> {
    let format = accepted_format(bytes, limits)?;
    let pixels = match format {
        ImageFormat::Png => png::decode(bytes, limits)?,
        other => to_eight_bits(decode_as(bytes, codec(other), limits)?),
    };
    Ok(SourceImage { pixels, format })
}

/// Decodes one uploaded image scaled to fit within `side`×`side` (never enlarged), for a copy
/// that goes upstream. A PNG is reduced while its rows arrive, so its full size is never held;
/// other formats are decoded whole and reduced at once.
pub fn decode_within(
    bytes: &[u8],
    limits: &InputLimits,
    side: u32,
) -> Result<DynamicImage, InputError> {
    let info = inspect(bytes, limits)?;
    let target = resize::fit_within(info.width, info.height, side);
    let pixels = if info.reduces_while_decoding {
        // A whole factor that leaves the image at least `side` on its longer side; the
        // convolution below does the rest from there.
        let factor = (info.width.max(info.height) / side.max(1)).max(1);
        png::decode_reduced(bytes, limits, factor)?
    } else {
        decode(bytes, limits)?.pixels
    };
    if (pixels.width(), pixels.height()) == target {
        return Ok(pixels);
    }
    resize::scaled(&pixels, target.0, target.1, resize::REDUCE).map_err(|e| InputError::Corrupt {
        detail: format!("the image could not be scaled: {e}"),
    })
}

/// The format of an upload, by its magic bytes, if it is within the byte limit and one taken.
fn accepted_format(bytes: &[u8], limits: &InputLimits) -> Result<ImageFormat, InputError> {
    if bytes.len() > limits.max_image_bytes {
        return Err(InputError::TooManyBytes {
            bytes: bytes.len(),
            limit: limits.max_image_bytes,
        });
    }
    let format = sniff(bytes).ok_or(InputError::NotAnImage)?;
    match format {
        ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::Webp => Ok(format),
        other => Err(InputError::UnsupportedFormat {
            found: other.name(),
        }),
    }
}

/// The decoder for a format that [`accepted_format`] let through (PNG otherwise).
fn codec(format: ImageFormat) -> image::ImageFormat {
    match format {
        ImageFormat::Jpeg => image::ImageFormat::Jpeg,
        ImageFormat::Webp => image::ImageFormat::WebP,
        _ => image::ImageFormat::Png,
    }
}

/// The same pixels at 8 bits a sample (JPEG and WebP decode so already; this is a guard).
fn to_eight_bits(pixels: DynamicImage) -> DynamicImage {
    match pixels {
        DynamicImage::ImageLuma8(_)
        | DynamicImage::ImageLumaA8(_)
        | DynamicImage::ImageRgb8(_)
        | DynamicImage::ImageRgba8(_) => pixels,
        other if other.color().has_alpha() => DynamicImage::ImageRgba8(other.to_rgba8()),
        other => DynamicImage::ImageRgb8(other.to_rgb8()),
    }
}

/// Decodes `bytes` as `codec` with `image`, refusing an image over the pixel limit before it
/// allocates.
fn decode_as(
    bytes: &[u8],
    codec: image::ImageFormat,
    limits: &InputLimits,
) -> Result<DynamicImage, InputError> {
    let (decoder, _, orientation) = open(bytes, codec, limits)?;
    let mut pixels = DynamicImage::from_decoder(decoder).map_err(|e| corrupt(e, limits))?;
    pixels.apply_orientation(orientation);
    Ok(pixels)
}

/// Decodes a mask, which must be a PNG, at 8 bits a sample.
pub(crate) fn decode_png(bytes: &[u8], limits: &InputLimits) -> Result<DynamicImage, InputError> {
    png::decode(bytes, limits)
}

/// A decoder past the header, with the stored size and the orientation to apply; an image
/// with no pixels or over the pixel limit is refused here, before anything is allocated.
fn open<'a>(
    bytes: &'a [u8],
    codec: image::ImageFormat,
    limits: &InputLimits,
) -> Result<(impl ImageDecoder + 'a, (u32, u32), Orientation), InputError> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), codec);
    let mut decode_limits = image::Limits::default();
    decode_limits.max_alloc = Some(limits.max_decode_bytes);
    reader.limits(decode_limits);
    let mut decoder = reader.into_decoder().map_err(|e| corrupt(e, limits))?;
    let (width, height) = decoder.dimensions();
    check_pixels(width, height, limits)?;
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    Ok((decoder, (width, height), orientation))
}

fn corrupt(e: image::ImageError, limits: &InputLimits) -> InputError {
    match e {
        image::ImageError::Limits(_) => InputError::TooManyPixels {
            width: 0,
            height: 0,
            limit: limits.max_pixels,
        },
        other => InputError::Corrupt {
            detail: other.to_string(),
        },
    }
}

/// The pixels as a PNG with nothing but pixels in it: what is sent onward and stored.
///
/// The buffer is sized for the worst case up front (raw pixels, a filter byte a row, deflate's
/// own overhead): growing it by doubling would hold the old and the new buffer at once, up to
/// twice the image, at the moment a large result is encoded. Capacity that is never written
/// is never touched, so it costs no resident memory.
pub fn clean_png(pixels: &DynamicImage) -> Vec<u8> {
    let raw = pixels.as_bytes().len();
    let worst = raw + raw / 64 + pixels.height() as usize + 64 * 1024;
    let mut out = Cursor::new(Vec::with_capacity(worst));
    // Encoding an in-memory buffer to a Vec does not fail for PNG.
    let _ = pixels.write_to(&mut out, image::ImageFormat::Png);
    out.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage};

    fn png(width: u32, height: u32) -> Vec<u8> {
        clean_png(&DynamicImage::ImageRgb8(RgbImage::from_pixel(
            width,
            height,
            Rgb([9, 99, 199]),
        )))
    }

    fn jpeg_with_exif(width: u32, height: u32, exif: &[u8]) -> Vec<u8> {
        let mut jpeg = Cursor::new(Vec::new());
        let img = RgbImage::from_fn(width, height, |x, _| {
            if x < width / 2 {
                Rgb([255, 0, 0])
            } else {
                Rgb([0, 0, 255])
            }
        });
        img.write_to(&mut jpeg, image::ImageFormat::Jpeg).unwrap();
        let jpeg = jpeg.into_inner();
        // Insert an APP1 "Exif" segment right after SOI.
        let mut segment = b"Exif\0\0".to_vec();
        segment.extend_from_slice(exif);
        let len = u16::try_from(segment.len() + 2).unwrap();
        let mut out = jpeg[..2].to_vec();
        out.extend_from_slice(&[0xFF, 0xE1]);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&segment);
        out.extend_from_slice(&jpeg[2..]);
        out
    }

    /// A little-endian TIFF block with Orientation and a GPS IFD pointer whose latitude ref
    /// holds a marker string.
    fn exif_block(orientation: u16) -> Vec<u8> {
        let mut t = b"II*\0".to_vec();
        t.extend_from_slice(&8u32.to_le_bytes());
        // IFD0: 2 entries.
        t.extend_from_slice(&2u16.to_le_bytes());
        t.extend_from_slice(&0x0112u16.to_le_bytes()); // Orientation
        t.extend_from_slice(&3u16.to_le_bytes()); // SHORT
        t.extend_from_slice(&1u32.to_le_bytes());
        t.extend_from_slice(&u32::from(orientation).to_le_bytes());
        t.extend_from_slice(&0x8825u16.to_le_bytes()); // GPS IFD pointer
        t.extend_from_slice(&4u16.to_le_bytes()); // LONG
        t.extend_from_slice(&1u32.to_le_bytes());
        t.extend_from_slice(&38u32.to_le_bytes()); // offset of the GPS IFD
        t.extend_from_slice(&0u32.to_le_bytes()); // no next IFD
        // GPS IFD at 38: one ASCII entry holding "GPSMARKER".
        t.extend_from_slice(&1u16.to_le_bytes());
        t.extend_from_slice(&0x0001u16.to_le_bytes());
        t.extend_from_slice(&2u16.to_le_bytes()); // ASCII
        t.extend_from_slice(&10u32.to_le_bytes());
        t.extend_from_slice(&56u32.to_le_bytes());
        t.extend_from_slice(&0u32.to_le_bytes());
        t.extend_from_slice(b"GPSMARKER\0");
        t
    }

    #[test]
    fn png_jpeg_and_webp_are_accepted_by_their_bytes() {
        let limits = InputLimits::default();
        assert_eq!(
            decode(&png(4, 3), &limits).unwrap().format,
            ImageFormat::Png
        );
        let jpeg = jpeg_with_exif(8, 8, &exif_block(1));
        assert_eq!(decode(&jpeg, &limits).unwrap().format, ImageFormat::Jpeg);
        let mut webp = Cursor::new(Vec::new());
        RgbImage::new(4, 4)
            .write_to(&mut webp, image::ImageFormat::WebP)
            .unwrap();
        assert_eq!(
            decode(&webp.into_inner(), &limits).unwrap().format,
            ImageFormat::Webp
        );
    }

    #[test]
    fn other_formats_are_refused_with_their_name() {
        let limits = InputLimits::default();
        let cases: [(&[u8], &str); 4] = [
            (b"GIF89a\x01\0\x01\0\0\0\0;", "GIF"),
            (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "SVG"),
            (b"%PDF-1.4 renamed to photo.png", "PDF"),
            (b"\0\0\0\x18ftypheic\0\0\0\0mif1heic", "HEIC/HEIF"),
        ];
        for (bytes, name) in cases {
            let e = decode(bytes, &limits).unwrap_err();
            assert_eq!(e, InputError::UnsupportedFormat { found: name });
            assert!(e.to_string().contains("PNG, JPEG or WebP"));
        }
        assert_eq!(
            decode(b"just some text", &limits).unwrap_err(),
            InputError::NotAnImage
        );
    }

    #[test]
    fn a_png_header_over_broken_data_is_corrupt_not_a_panic() {
        let mut bytes = png(16, 16);
        let len = bytes.len();
        bytes.truncate(len / 2);
        assert!(matches!(
            decode(&bytes, &InputLimits::default()),
            Err(InputError::Corrupt { .. })
        ));
    }

    #[test]
    fn byte_and_request_limits_apply() {
        let limits = InputLimits {
            max_image_bytes: 100,
            max_request_bytes: 150,
            ..InputLimits::default()
        };
        assert!(matches!(
            decode(&[0u8; 101], &limits),
            Err(InputError::TooManyBytes { .. })
        ));
        assert!(check_request_size([100, 50], &limits).is_ok());
        assert!(matches!(
            check_request_size([100, 51], &limits),
            Err(InputError::RequestTooLarge { .. })
        ));
    }

    #[test]
    fn a_decompression_bomb_is_refused_from_its_header() {
        // A valid PNG header claiming 60000x60000 pixels (3.6 GP), with almost no data.
        let mut bomb = png(1, 1);
        bomb[16..20].copy_from_slice(&60_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&60_000u32.to_be_bytes());
        // Fix the IHDR CRC so the header itself is valid.
        let crc = crc32(&bomb[12..29]);
        bomb[29..33].copy_from_slice(&crc.to_be_bytes());
        let e = decode(&bomb, &InputLimits::default()).unwrap_err();
        assert_eq!(
            e,
            InputError::TooManyPixels {
                width: 60_000,
                height: 60_000,
                limit: 50_000_000
            }
        );
    }

    #[test]
    fn exif_orientation_is_applied() {
        // Orientation 6: rotate 90° clockwise to display. An 8x4 landscape becomes 4x8.
        let jpeg = jpeg_with_exif(8, 4, &exif_block(6));
        let img = decode(&jpeg, &InputLimits::default()).unwrap();
        assert_eq!((img.width(), img.height()), (4, 8));
    }

    #[test]
    fn decoded_dimensions_are_what_decode_makes_orientation_included() {
        let limits = InputLimits::default();
        for orientation in 1..=8 {
            let jpeg = jpeg_with_exif(8, 4, &exif_block(orientation));
            let img = decode(&jpeg, &limits).unwrap();
            assert_eq!(
                decoded_dimensions(&jpeg, &limits).unwrap(),
                (img.width(), img.height()),
                "orientation {orientation}"
            );
        }
        let tall = [5, 6, 7, 8]
            .map(|o| decoded_dimensions(&jpeg_with_exif(8, 4, &exif_block(o)), &limits));
        assert!(tall.iter().all(|d| *d == Ok((4, 8))), "{tall:?}");
        // The same refusals, from the header alone.
        let mut bomb = png(1, 1);
        bomb[16..20].copy_from_slice(&60_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&60_000u32.to_be_bytes());
        let crc = crc32(&bomb[12..29]);
        bomb[29..33].copy_from_slice(&crc.to_be_bytes());
        for bytes in [
            &bomb[..],
            &b"GIF89a\x01\0\x01\0\0\0\0;"[..],
            &b"just some text"[..],
        ] {
            assert_eq!(
                decoded_dimensions(bytes, &limits).unwrap_err(),
                decode(bytes, &limits).unwrap_err()
            );
        }
    }

    #[test]
    fn metadata_does_not_survive_into_what_is_sent_on() {
        let jpeg = jpeg_with_exif(8, 8, &exif_block(1));
        assert!(
            jpeg.windows(9).any(|w| w == b"GPSMARKER"),
            "the test input carries GPS data"
        );
        let img = decode(&jpeg, &InputLimits::default()).unwrap();
        let out = clean_png(&img.pixels);
        assert!(!out.windows(9).any(|w| w == b"GPSMARKER"));
        assert!(!out.windows(4).any(|w| w == b"eXIf" || w == b"Exif"));
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
}
