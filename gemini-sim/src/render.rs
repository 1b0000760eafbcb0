//! Deterministic images: the same inputs always give the same pixels, so tests can compare.
//! Text alone gives a pattern derived from the prompt; an edit gives the first input image,
//! resized to the output size and colour-inverted, so an edited pixel is easy to tell from an
//! original one.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, Rgb, RgbImage, imageops::FilterType};
use mask::png::chunk;

/// FNV-1a: a stable hash for deriving colours from a prompt.
pub fn hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn colour(seed: u64) -> [u8; 3] {
    let b = seed.to_le_bytes();
    [b[0] / 2 + 64, b[1] / 2 + 64, b[2] / 2 + 64]
}

/// A pattern derived from the prompt: a diagonal blend of two colours with soft stripes.
pub fn from_prompt(prompt: &str, width: u32, height: u32) -> RgbImage {
    let seed = hash(prompt);
    let (a, b) = (colour(seed), colour(seed.rotate_left(29)));
    let stripe = 16 + (seed % 48) as u32;
    let span = (width + height).max(1) as f32;
    RgbImage::from_fn(width, height, |x, y| {
        let t = (x + y) as f32 / span;
        let band = if ((x + 2 * y) / stripe).is_multiple_of(2) {
            1.0
        } else {
            0.85
        };
        let mix = |i: usize| ((f32::from(a[i]) * (1.0 - t) + f32::from(b[i]) * t) * band) as u8;
        Rgb([mix(0), mix(1), mix(2)])
    })
}

/// `image` with grain in every channel (a hash of the pixel's place and `seed`), so it
/// compresses as little as a photograph does and differs with each seed.
pub fn with_grain(mut image: RgbImage, seed: u64) -> RgbImage {
    for (x, y, p) in image.enumerate_pixels_mut() {
        let mut h = (u64::from(x) << 32 | u64::from(y))
            .wrapping_add(seed.wrapping_mul(0xD6E8_FEB8_6659_FD93))
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
        h ^= h >> 29;
        for (i, c) in p.0.iter_mut().enumerate() {
            let noise = ((h >> (i * 8)) & 0x3f) as u8;
            *c = c.saturating_add(noise / 2).saturating_sub(noise / 4);
        }
    }
    image
}

/// What `context` earlier turns of a conversation do to an edited pixel: nothing without
/// them; with them, each channel is XORed with a value of the turn count, so a test can tell
/// from the pixels alone how much of the conversation the model was sent.
pub fn with_context(rgb: [u8; 3], context: usize) -> [u8; 3] {
    if context == 0 {
        return rgb;
    }
    let k = (context as u8).wrapping_mul(0x25);
    [rgb[0] ^ k, rgb[1] ^ k, rgb[2] ^ k]
}

/// The first input, resized to the output size and colour-inverted (then marked by the
/// conversation's length, see [`with_context`]).
pub fn edit(input: &DynamicImage, width: u32, height: u32, context: usize) -> RgbImage {
    let mut out = input
        .resize_exact(width, height, FilterType::Triangle)
        .to_rgb8();
    for p in out.pixels_mut() {
        p.0 = with_context([255 - p.0[0], 255 - p.0[1], 255 - p.0[2]], context);
    }
    out
}

/// An edit following the mask convention (source first, mask second): inverted where the
/// mask is white; elsewhere shifted by a few levels, the way a real model redraws the whole
/// image and drifts a little outside the region it was asked to change.
pub fn edit_with_mask(
    input: &DynamicImage,
    mask: &DynamicImage,
    width: u32,
    height: u32,
    context: usize,
) -> RgbImage {
    let mut out = input
        .resize_exact(width, height, FilterType::Triangle)
        .to_rgb8();
    let mask = mask
        .resize_exact(width, height, FilterType::Nearest)
        .to_luma8();
    for (p, m) in out.pixels_mut().zip(mask.pixels()) {
        p.0 = if m.0[0] >= 128 {
            with_context([255 - p.0[0], 255 - p.0[1], 255 - p.0[2]], context)
        } else {
            [
                p.0[0].saturating_add(3),
                p.0[1].saturating_sub(3),
                p.0[2].saturating_add(2),
            ]
        };
    }
    out
}

/// Encodes as PNG, or as JPEG where the model answers JPEG.
pub fn encode(image: &RgbImage, jpeg: bool) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    let format = if jpeg {
        ImageFormat::Jpeg
    } else {
        ImageFormat::Png
    };
    // Encoding an in-memory RGB buffer to a Vec cannot fail for these formats.
    if image.write_to(&mut out, format).is_err() {
        return Vec::new();
    }
    out.into_inner()
}

/// A valid 1×1 PNG whose header claims `width`×`height`: a decompression bomb, as a hostile
/// upstream might send one.
pub fn png_bomb(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = encode(&RgbImage::new(1, 1), false);
    bytes[16..20].copy_from_slice(&width.to_be_bytes());
    bytes[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = mask::png::crc32(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    bytes
}

/// A PNG made once whose last row is written per copy, so every copy is a different image
/// for the cost of one row: the rows before it are kept as uncompressed deflate blocks (grain
/// does not compress anyway) in a finished IDAT chunk, with their Adler-32 state; each copy
/// adds a last IDAT chunk (the last row, marked with the copy's number, as the final block,
/// and the checksum) and IEND.
#[derive(Debug)]
pub struct RowPng {
    head: bytes::Bytes,
    adler: (u32, u32),
    last_row: Vec<u8>,
}

const ADLER_MOD: u32 = 65_521;

fn adler_update((mut a, mut b): (u32, u32), data: &[u8]) -> (u32, u32) {
    for chunk in data.chunks(5_000) {
        for &byte in chunk {
            a += u32::from(byte);
            b += a;
        }
        a %= ADLER_MOD;
        b %= ADLER_MOD;
    }
    (a, b)
}

/// Appends one uncompressed deflate block.
fn push_stored(out: &mut Vec<u8>, data: &[u8], last: bool) {
    out.push(u8::from(last));
    let len = data.len() as u16;
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&(!len).to_le_bytes());
    out.extend_from_slice(data);
}

impl RowPng {
    pub fn new(image: &RgbImage) -> Self {
        let (w, h) = image.dimensions();
        let stride = w as usize * 3;
        let rows = |range: std::ops::Range<u32>| -> Vec<u8> {
            let mut raw = Vec::with_capacity(range.len() * (stride + 1));
            for y in range {
                raw.push(0); // Filter: none.
                let start = y as usize * stride;
                raw.extend_from_slice(&image.as_raw()[start..start + stride]);
            }
            raw
        };
        let before = rows(0..h.saturating_sub(1));
        let mut head = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut ihdr = Vec::with_capacity(13);
        ihdr.extend_from_slice(&w.to_be_bytes());
        ihdr.extend_from_slice(&h.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB, no interlace.
        chunk(&mut head, b"IHDR", &ihdr);
        let mut idat = vec![0x78, 0x01];
        for block in before.chunks(65_535) {
            push_stored(&mut idat, block, false);
        }
        chunk(&mut head, b"IDAT", &idat);
        Self {
            head: head.into(),
            adler: adler_update((1, 0), &before),
            last_row: rows(h.saturating_sub(1)..h),
        }
    }

    /// Copy number `n`: its last row's first pixels carry `n`.
    pub fn copy(&self, n: u64) -> Vec<u8> {
        let mut row = self.last_row.clone();
        for (i, byte) in n.to_le_bytes().iter().enumerate() {
            if let Some(b) = row.get_mut(1 + i) {
                *b = *byte;
            }
        }
        let (a, b) = adler_update(self.adler, &row);
        let mut idat = Vec::with_capacity(row.len() + 9);
        push_stored(&mut idat, &row, true);
        idat.extend_from_slice(&((b << 16) | a).to_be_bytes());
        let mut out = Vec::with_capacity(self.head.len() + idat.len() + 24);
        out.extend_from_slice(&self.head);
        chunk(&mut out, b"IDAT", &idat);
        chunk(&mut out, b"IEND", &[]);
        out
    }
}

/// What [`with_metadata`] writes into an image's comment and XMP: a client should not keep it.
pub const METADATA_SECRET: &str = "sim-metadata: taken at 51.5014 N 0.1419 W";
/// What it writes as the image's content credentials: a client should keep them.
pub const CONTENT_CREDENTIALS: &str = "sim-content-credentials";

/// An encoded PNG or JPEG with metadata added: a comment and XMP holding [`METADATA_SECRET`],
/// content credentials ([`CONTENT_CREDENTIALS`], as `caBX` or APP11) and bytes after its end.
pub fn with_metadata(image: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(image.len() + 512);
    if image.starts_with(b"\x89PNG") {
        // After the signature and IHDR (8 + 25 bytes).
        let (head, rest) = image.split_at(33.min(image.len()));
        out.extend_from_slice(head);
        for (kind, data) in [
            (b"tEXt", format!("Comment\0{METADATA_SECRET}")),
            (
                b"iTXt",
                format!("XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta>{METADATA_SECRET}</x:xmpmeta>"),
            ),
            (b"caBX", CONTENT_CREDENTIALS.to_owned()),
        ] {
            chunk(&mut out, kind, data.as_bytes());
        }
        out.extend_from_slice(rest);
    } else {
        let (head, rest) = image.split_at(2.min(image.len()));
        out.extend_from_slice(head);
        for (marker, data) in [
            (0xFE, METADATA_SECRET.to_owned()),
            (
                0xE1,
                format!("http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>{METADATA_SECRET}</x:xmpmeta>"),
            ),
            (0xEB, format!("JP\0\x01{CONTENT_CREDENTIALS}")),
        ] {
            out.extend_from_slice(&[0xFF, marker]);
            out.extend_from_slice(&((data.len() + 2) as u16).to_be_bytes());
            out.extend_from_slice(data.as_bytes());
        }
        out.extend_from_slice(rest);
    }
    out.extend_from_slice(format!("trailer: {METADATA_SECRET}").as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_prompt_same_pixels_other_prompt_other_pixels() {
        assert_eq!(from_prompt("a cat", 64, 32), from_prompt("a cat", 64, 32));
        assert_ne!(from_prompt("a cat", 64, 32), from_prompt("a dog", 64, 32));
    }

    #[test]
    fn an_edit_inverts_the_input() {
        let input = DynamicImage::ImageRgb8(RgbImage::from_pixel(8, 8, Rgb([10, 20, 30])));
        let out = edit(&input, 8, 8, 0);
        assert_eq!(out.get_pixel(3, 3).0, [245, 235, 225]);
        // Two earlier turns of a conversation mark it: 245 ^ 0x4a, and so on.
        let out = edit(&input, 8, 8, 2);
        assert_eq!(out.get_pixel(3, 3).0, [245 ^ 0x4a, 235 ^ 0x4a, 225 ^ 0x4a]);
    }
}
