//! PNG decoding with the `png` crate directly, for two things `image`'s own PNG path does not
//! do: samples are normalised to 8 bits while decoding (a 16-bit image never exists in memory
//! at 8 bytes a pixel), and an image can be reduced while its rows arrive (a reference that
//! goes upstream at 2048 px is never held at full size).
//!
//! Everything here runs after the header was checked against the pixel limit.

use std::io::Cursor;

use image::{DynamicImage, ImageBuffer, metadata::Orientation};
use png::{BitDepth, ColorType, Transformations};

use super::{InputError, InputLimits};

/// What the header says, with 8-bit output in mind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Header {
    pub width: u32,
    pub height: u32,
    /// Channels of the 8-bit output (1 to 4).
    pub channels: u8,
    pub interlaced: bool,
    pub orientation: Orientation,
}

fn reader<'a>(
    bytes: &'a [u8],
    limits: &InputLimits,
) -> Result<png::Reader<Cursor<&'a [u8]>>, InputError> {
    let png_limits = png::Limits {
        bytes: usize::try_from(limits.max_decode_bytes).unwrap_or(usize::MAX),
    };
    let mut decoder = png::Decoder::new_with_limits(Cursor::new(bytes), png_limits);
    decoder.set_transformations(Transformations::normalize_to_color8());
    decoder.read_info().map_err(corrupt)
}

fn corrupt(e: png::DecodingError) -> InputError {
    match e {
        png::DecodingError::LimitsExceeded => InputError::Corrupt {
            detail: "the image's metadata is larger than GemFlash reads".into(),
        },
        other => InputError::Corrupt {
            detail: other.to_string(),
        },
    }
}

fn header_of(reader: &png::Reader<Cursor<&[u8]>>) -> Result<Header, InputError> {
    let info = reader.info();
    let (width, height) = info.size();
    let (color, depth) = reader.output_color_type();
    if depth != BitDepth::Eight {
        return Err(InputError::Corrupt {
            detail: format!("unexpected sample depth {depth:?} after normalising"),
        });
    }
    let channels = match color {
        ColorType::Grayscale => 1,
        ColorType::GrayscaleAlpha => 2,
        ColorType::Rgb => 3,
        ColorType::Rgba => 4,
        ColorType::Indexed => {
            return Err(InputError::Corrupt {
                detail: "a palette image was not expanded".into(),
            });
        }
    };
    let orientation = info
        .exif_metadata
        .as_deref()
        .and_then(Orientation::from_exif_chunk)
        .unwrap_or(Orientation::NoTransforms);
    Ok(Header {
        width,
        height,
        channels,
        interlaced: info.interlaced,
        orientation,
    })
}

/// The header of a PNG, read without decoding a pixel.
pub(super) fn header(bytes: &[u8], limits: &InputLimits) -> Result<Header, InputError> {
    header_of(&reader(bytes, limits)?)
}

/// The whole image at 8 bits a sample, orientation applied.
pub(super) fn decode(bytes: &[u8], limits: &InputLimits) -> Result<DynamicImage, InputError> {
    decode_reduced(bytes, limits, 1)
}

/// The image reduced by a whole `factor` (each output pixel the mean of a `factor`×`factor`
/// block), decoded row by row so only the reduced image and one row are held; 8 bits a sample,
/// orientation applied. Interlaced images cannot be read row by row: they are decoded whole
/// (at 8 bits) and reduced after.
pub(super) fn decode_reduced(
    bytes: &[u8],
    limits: &InputLimits,
    factor: u32,
) -> Result<DynamicImage, InputError> {
    let mut reader = reader(bytes, limits)?;
    let header = header_of(&reader)?;
    super::check_pixels(header.width, header.height, limits)?;
    let channels = usize::from(header.channels);
    let mut pixels = if factor <= 1 || header.interlaced {
        let size = reader
            .output_buffer_size()
            .ok_or(InputError::TooManyPixels {
                width: header.width,
                height: header.height,
                limit: limits.max_pixels,
            })?;
        let mut buf = vec![0u8; size];
        reader.next_frame(&mut buf).map_err(corrupt)?;
        let image = to_image(header.width, header.height, header.channels, buf)?;
        if factor <= 1 {
            image
        } else {
            box_reduce_image(&image, factor)
        }
    } else {
        let mut reducer = BoxReducer::new(header.width, header.height, channels, factor);
        while let Some(row) = reader.next_row().map_err(corrupt)? {
            reducer.push(row.data());
        }
        let (w, h, data) = reducer.finish();
        to_image(w, h, header.channels, data)?
    };
    pixels.apply_orientation(header.orientation);
    Ok(pixels)
}

fn to_image(
    width: u32,
    height: u32,
    channels: u8,
    data: Vec<u8>,
) -> Result<DynamicImage, InputError> {
    let short = || InputError::Corrupt {
        detail: "the image data ended early".into(),
    };
    Ok(match channels {
        1 => {
            DynamicImage::ImageLuma8(ImageBuffer::from_raw(width, height, data).ok_or_else(short)?)
        }
        2 => {
            DynamicImage::ImageLumaA8(ImageBuffer::from_raw(width, height, data).ok_or_else(short)?)
        }
        3 => DynamicImage::ImageRgb8(ImageBuffer::from_raw(width, height, data).ok_or_else(short)?),
        _ => {
            DynamicImage::ImageRgba8(ImageBuffer::from_raw(width, height, data).ok_or_else(short)?)
        }
    })
}

/// Reduces an image already in memory by `factor`, like [`BoxReducer`].
fn box_reduce_image(image: &DynamicImage, factor: u32) -> DynamicImage {
    let channels = usize::from(image.color().channel_count());
    let (width, height) = (image.width(), image.height());
    let bytes = image.as_bytes();
    let stride = width as usize * channels;
    let mut reducer = BoxReducer::new(width, height, channels, factor);
    for row in bytes.chunks_exact(stride) {
        reducer.push(row);
    }
    let (w, h, data) = reducer.finish();
    // Same channel count in and out: `to_image` cannot fail here.
    to_image(w, h, channels as u8, data).unwrap_or_else(|_| image.clone())
}

/// Averages `factor`×`factor` blocks of rows as they arrive.
struct BoxReducer {
    width: usize,
    channels: usize,
    factor: usize,
    out_width: usize,
    height: usize,
    /// Sums of the current band of rows, per output sample.
    sums: Vec<u32>,
    rows_in_band: usize,
    rows_seen: usize,
    out: Vec<u8>,
}

impl BoxReducer {
    fn new(width: u32, height: u32, channels: usize, factor: u32) -> Self {
        let factor = factor.max(1) as usize;
        let width = width as usize;
        let out_width = width.div_ceil(factor);
        let out_height = (height as usize).div_ceil(factor);
        Self {
            width,
            channels,
            factor,
            out_width,
            height: height as usize,
            sums: vec![0; out_width * channels],
            rows_in_band: 0,
            rows_seen: 0,
            out: Vec::with_capacity(out_width * out_height * channels),
        }
    }

    fn push(&mut self, row: &[u8]) {
        let c = self.channels;
        for (x, pixel) in row.chunks_exact(c).take(self.width).enumerate() {
            let at = (x / self.factor) * c;
            for (sum, &v) in self.sums[at..at + c].iter_mut().zip(pixel) {
                *sum += u32::from(v);
            }
        }
        self.rows_in_band += 1;
        self.rows_seen += 1;
        if self.rows_in_band == self.factor || self.rows_seen == self.height {
            self.flush_band();
        }
    }

    fn flush_band(&mut self) {
        let c = self.channels;
        for ox in 0..self.out_width {
            let cols = (self.width - ox * self.factor).min(self.factor);
            let count = (cols * self.rows_in_band) as u32;
            for sum in &mut self.sums[ox * c..(ox + 1) * c] {
                self.out.push(((*sum + count / 2) / count.max(1)) as u8);
                *sum = 0;
            }
        }
        self.rows_in_band = 0;
    }

    fn finish(mut self) -> (u32, u32, Vec<u8>) {
        if self.rows_in_band > 0 {
            self.flush_band();
        }
        let rows = self.out.len() / (self.out_width * self.channels).max(1);
        (self.out_width as u32, rows as u32, self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 16-bit RGBA PNG with a gradient, encoded by the `png` crate.
    fn png16(width: u32, height: u32) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut out, width, height);
            encoder.set_color(ColorType::Rgba);
            encoder.set_depth(BitDepth::Sixteen);
            let mut writer = encoder.write_header().unwrap();
            let mut data = Vec::new();
            for y in 0..height {
                for x in 0..width {
                    let v = ((x * 65535) / width.max(1)) as u16;
                    let w = ((y * 65535) / height.max(1)) as u16;
                    for s in [v, w, 0x1234, 0xFFFF] {
                        data.extend_from_slice(&s.to_be_bytes());
                    }
                }
            }
            writer.write_image_data(&data).unwrap();
        }
        out
    }

    #[test]
    fn sixteen_bit_images_decode_to_eight_bits() {
        let img = decode(&png16(64, 32), &InputLimits::default()).unwrap();
        let rgba = img.as_rgba8().expect("8-bit RGBA");
        assert_eq!(rgba.dimensions(), (64, 32));
        // The high byte of each sample survives.
        assert_eq!(rgba.get_pixel(32, 16).0, [127, 127, 0x12, 255]);
    }

    #[test]
    fn a_reduced_decode_averages_blocks_and_rounds_up_the_edges() {
        let full = decode(&png16(100, 50), &InputLimits::default()).unwrap();
        let small = decode_reduced(&png16(100, 50), &InputLimits::default(), 8).unwrap();
        assert_eq!((small.width(), small.height()), (13, 7));
        // A block's mean is near the full image's pixel in the block's middle.
        let a = small.as_rgba8().unwrap().get_pixel(5, 3).0;
        let b = full.as_rgba8().unwrap().get_pixel(5 * 8 + 4, 3 * 8 + 4).0;
        for (x, y) in a.iter().zip(b) {
            assert!(x.abs_diff(y) <= 3, "{a:?} vs {b:?}");
        }
        // Reducing in memory gives the same as reducing while decoding.
        let in_memory = box_reduce_image(&full, 8);
        assert_eq!(in_memory.as_bytes(), small.as_bytes());
    }

    #[test]
    fn the_header_names_channels_of_the_eight_bit_output() {
        let h = header(&png16(10, 20), &InputLimits::default()).unwrap();
        assert_eq!(
            (h.width, h.height, h.channels, h.interlaced),
            (10, 20, 4, false)
        );
    }
}
