//! A model's image kept as the model sent it, with nothing but the picture in it.
//!
//! A generation is stored as the bytes that came back rather than re-encoded: re-encoding a
//! 1024×1024 answer as PNG was most of the CPU a generation cost, and the model's own encoding
//! is what the user asked for. The answer has already been decoded whole under the answer's
//! limits (so it is a valid image of the recorded size); this walks its container and copies
//! only what draws the picture:
//!
//! - PNG: the critical chunks and those that say how to show the colours (`tRNS`, `gAMA`,
//!   `cHRM`, `sRGB`, `iCCP`, `sBIT`, `cICP`, `mDCV`, `cLLI`), and `caBX`, the content
//!   credentials (C2PA) that say the image was made by AI. Text, time, anything unknown and
//!   anything after `IEND` is left behind.
//! - JPEG: the segments a decoder needs, JFIF (`APP0`), the ICC profile (`APP2`), the Adobe
//!   colour transform (`APP14`) and content credentials (`APP11`, JUMBF). XMP, comments and
//!   other application segments are left behind, and nothing after `EOI` is kept.
//!
//! Anything else returns `None` and the caller re-encodes the pixels: WebP, an animated PNG,
//! an image with EXIF (its orientation was applied to the decoded pixels, so the stored file
//! must carry the turned pixels instead), or a container this walk does not follow to its end.

use std::borrow::Cow;

use gemini::sniff::ImageFormat;

/// The image's bytes with only what draws the picture, or `None` when it must be re-encoded.
/// A PNG that has nothing to leave behind but what follows `IEND` comes back borrowed, as a
/// prefix of `bytes` (no copy of a file of megabytes).
pub fn without_metadata(bytes: &[u8], format: ImageFormat) -> Option<Cow<'_, [u8]>> {
    match format {
        ImageFormat::Png => png(bytes),
        ImageFormat::Jpeg => jpeg(bytes).map(Cow::Owned),
        _ => None,
    }
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// PNG chunks kept: the critical ones, colour, and content credentials.
const PNG_KEPT: &[&[u8; 4]] = &[
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT",
    b"cICP", b"mDCV", b"cLLI", b"caBX",
];

/// PNG chunks that send the image back to be re-encoded: orientation, animation.
const PNG_REFUSED: &[&[u8; 4]] = &[b"eXIf", b"acTL", b"fcTL", b"fdAT"];

fn png(bytes: &[u8]) -> Option<Cow<'_, [u8]>> {
    let mut rest = bytes.strip_prefix(PNG_SIGNATURE)?;
    // Copied only from the first chunk left behind: until then, what is kept is a prefix.
    let mut out: Option<Vec<u8>> = None;
    loop {
        let length = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?) as usize;
        let kind: &[u8; 4] = rest.get(4..8)?.try_into().ok()?;
        // Length, type, data and CRC.
        let whole = length.checked_add(12)?;
        let chunk = rest.get(..whole)?;
        if PNG_REFUSED.contains(&kind) {
            return None;
        }
        let kept_so_far = bytes.len() - rest.len();
        match (&mut out, PNG_KEPT.contains(&kind)) {
            (Some(out), true) => out.extend_from_slice(chunk),
            (None, false) => out = Some(bytes[..kept_so_far].to_vec()),
            (Some(_), false) | (None, true) => {}
        }
        rest = &rest[whole..];
        if kind == b"IEND" {
            let end = bytes.len() - rest.len();
            return Some(out.map_or(Cow::Borrowed(&bytes[..end]), Cow::Owned));
        }
    }
}

/// Standalone JPEG markers: no length follows.
fn standalone(marker: u8) -> bool {
    matches!(marker, 0x01 | 0xD0..=0xD7)
}

fn jpeg(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut rest = bytes.strip_prefix(&[0xFF, 0xD8])?;
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&[0xFF, 0xD8]);
    loop {
        // A marker: 0xFF, any fill bytes, then its code.
        if *rest.first()? != 0xFF {
            return None;
        }
        let fill = rest.iter().take_while(|&&b| b == 0xFF).count();
        let marker = *rest.get(fill)?;
        rest = &rest[fill + 1..];
        if marker == 0xD9 {
            out.extend_from_slice(&[0xFF, 0xD9]);
            return Some(out);
        }
        if standalone(marker) {
            out.extend_from_slice(&[0xFF, marker]);
            continue;
        }
        let length = usize::from(u16::from_be_bytes(rest.get(..2)?.try_into().ok()?));
        let body = rest.get(2..length.max(2))?;
        if length < 2 {
            return None;
        }
        let keep = match marker {
            0xE0 => body.starts_with(b"JFIF\0") || body.starts_with(b"JFXX\0"),
            0xE1 if body.starts_with(b"Exif\0") => return None,
            0xE2 => body.starts_with(b"ICC_PROFILE\0"),
            0xEB => body.starts_with(b"JP"),
            0xEE => body.starts_with(b"Adobe"),
            0xE1..=0xEF | 0xFE => false,
            _ => true,
        };
        if keep {
            out.extend_from_slice(&[0xFF, marker]);
            out.extend_from_slice(&rest[..length]);
        }
        rest = &rest[length..];
        if marker == 0xDA {
            // The scan's entropy-coded data runs to the next marker that is neither a stuffed
            // zero nor a restart.
            let mut end = 0;
            loop {
                let at = end + rest.get(end..)?.iter().position(|&b| b == 0xFF)?;
                let next = *rest.get(at + 1)?;
                if next == 0x00 || (0xD0..=0xD7).contains(&next) {
                    end = at + 2;
                } else if next == 0xFF {
                    end = at + 1;
                } else {
                    end = at;
                    break;
                }
            }
            out.extend_from_slice(&rest[..end]);
            rest = &rest[end..];
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use image::{DynamicImage, RgbImage};

    use super::*;

    fn photo() -> DynamicImage {
        DynamicImage::ImageRgb8(RgbImage::from_fn(96, 64, |x, y| {
            image::Rgb([(x * 2) as u8, (y * 3) as u8, ((x * y) % 251) as u8])
        }))
    }

    fn encoded(format: image::ImageFormat) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        photo().write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut c = (data.len() as u32).to_be_bytes().to_vec();
        c.extend_from_slice(kind);
        c.extend_from_slice(data);
        c.extend_from_slice(&[0, 0, 0, 0]); // The walk does not read CRCs.
        c
    }

    /// A PNG with `extra` chunks inserted after IHDR.
    fn png_with(extra: &[Vec<u8>], trailer: &[u8]) -> Vec<u8> {
        let plain = encoded(image::ImageFormat::Png);
        let after_ihdr = 8 + 25;
        let mut out = plain[..after_ihdr].to_vec();
        for c in extra {
            out.extend_from_slice(c);
        }
        out.extend_from_slice(&plain[after_ihdr..]);
        out.extend_from_slice(trailer);
        out
    }

    fn jpeg_segment(marker: u8, body: &[u8]) -> Vec<u8> {
        let mut s = vec![0xFF, marker];
        s.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
        s.extend_from_slice(body);
        s
    }

    /// A JPEG with `extra` segments inserted after SOI.
    fn jpeg_with(extra: &[Vec<u8>], trailer: &[u8]) -> Vec<u8> {
        let plain = encoded(image::ImageFormat::Jpeg);
        let mut out = plain[..2].to_vec();
        for s in extra {
            out.extend_from_slice(s);
        }
        out.extend_from_slice(&plain[2..]);
        out.extend_from_slice(trailer);
        out
    }

    fn pixels(bytes: &[u8]) -> Vec<u8> {
        image::load_from_memory(bytes).unwrap().to_rgb8().into_raw()
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn a_png_keeps_its_pixels_colour_and_credentials_and_loses_text_and_trailers() {
        let secret = b"Comment\0prompt: a private place; GPS 51.5,-0.12";
        let bytes = png_with(
            &[
                png_chunk(b"tEXt", secret),
                png_chunk(b"caBX", b"c2pa manifest"),
                png_chunk(b"gAMA", &45455u32.to_be_bytes()),
                png_chunk(b"zzZz", b"unknown"),
            ],
            b"<script>polyglot</script>",
        );
        let kept = without_metadata(&bytes, ImageFormat::Png).unwrap();
        assert_eq!(pixels(&kept), pixels(&bytes));
        assert!(!contains(&kept, b"private place"));
        assert!(!contains(&kept, b"polyglot"));
        assert!(!contains(&kept, b"zzZz"));
        assert!(contains(&kept, b"caBXc2pa manifest"));
        assert!(contains(&kept, b"gAMA"));
        assert!(kept.ends_with(b"IEND\xae\x42\x60\x82"));
    }

    #[test]
    fn a_png_with_nothing_to_leave_behind_is_not_copied_and_loses_only_its_trailer() {
        let clean = png_with(&[png_chunk(b"gAMA", &45455u32.to_be_bytes())], b"");
        assert!(matches!(
            without_metadata(&clean, ImageFormat::Png),
            Some(Cow::Borrowed(kept)) if kept == clean.as_slice()
        ));
        let trailed = png_with(&[], b"<script>polyglot</script>");
        let kept = without_metadata(&trailed, ImageFormat::Png).unwrap();
        assert!(matches!(kept, Cow::Borrowed(_)));
        assert!(kept.ends_with(b"IEND\xae\x42\x60\x82"));
        assert_eq!(pixels(&kept), pixels(&trailed));
    }

    #[test]
    fn a_jpeg_keeps_its_pixels_profile_and_credentials_and_loses_comments_and_xmp() {
        let bytes = jpeg_with(
            &[
                jpeg_segment(0xFE, b"taken at home"),
                jpeg_segment(
                    0xE1,
                    b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>secret</x:xmpmeta>",
                ),
                jpeg_segment(0xE2, b"ICC_PROFILE\0\x01\x01profile"),
                jpeg_segment(0xEB, b"JP\0\x01c2pa jumbf"),
                jpeg_segment(0xE5, b"vendor data"),
            ],
            b"trailing archive",
        );
        let kept = without_metadata(&bytes, ImageFormat::Jpeg).unwrap();
        assert_eq!(pixels(&kept), pixels(&bytes));
        for gone in [
            &b"taken at home"[..],
            b"xmpmeta",
            b"vendor data",
            b"trailing archive",
        ] {
            assert!(!contains(&kept, gone), "{}", String::from_utf8_lossy(gone));
        }
        assert!(contains(&kept, b"ICC_PROFILE\0"));
        assert!(contains(&kept, b"c2pa jumbf"));
        assert!(kept.ends_with(&[0xFF, 0xD9]));
    }

    #[test]
    fn orientation_animation_and_webp_are_sent_back_to_be_re_encoded() {
        let exif_jpeg = jpeg_with(&[jpeg_segment(0xE1, b"Exif\0\0MM\0*")], b"");
        assert_eq!(without_metadata(&exif_jpeg, ImageFormat::Jpeg), None);
        for kind in [b"eXIf", b"acTL"] {
            let bytes = png_with(&[png_chunk(kind, b"\0\0\0\x01\0\0\0\0")], b"");
            assert_eq!(without_metadata(&bytes, ImageFormat::Png), None);
        }
        let webp = encoded(image::ImageFormat::WebP);
        assert_eq!(without_metadata(&webp, ImageFormat::Webp), None);
    }

    #[test]
    fn a_cut_or_broken_container_is_refused_at_every_length_without_panicking() {
        for bytes in [
            encoded(image::ImageFormat::Png),
            encoded(image::ImageFormat::Jpeg),
        ] {
            let format = gemini::sniff::sniff(&bytes).unwrap();
            assert!(without_metadata(&bytes, format).is_some());
            for cut in 0..bytes.len() {
                assert_eq!(
                    without_metadata(&bytes[..cut], format),
                    None,
                    "cut at {cut}"
                );
            }
        }
        // A chunk length that points far past the end, and a zero-length JPEG segment.
        let mut huge = encoded(image::ImageFormat::Png);
        huge[8..12].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(without_metadata(&huge, ImageFormat::Png), None);
        let zero = jpeg_with(&[vec![0xFF, 0xFE, 0, 0]], b"");
        assert_eq!(without_metadata(&zero, ImageFormat::Jpeg), None);
    }
}
