//! A mask as a PNG file, written here rather than by a canvas: 8-bit grayscale (0 keep, 255
//! may change), compressed as runs. A mask is long runs of one value, so the deflate stream is
//! fixed-Huffman literals and distance-1 matches (each up to 258 bytes): one pass over the
//! bytes, output tiny, no tables to build. A 4096×4096 mask encodes in a few tens of
//! milliseconds in the browser, where a canvas's PNG encoder took hundreds.

use crate::Bitmap;

/// The mask as a PNG file.
pub fn encode(bitmap: &Bitmap) -> Vec<u8> {
    let (width, height) = (bitmap.width(), bitmap.height());
    let mut out = Vec::with_capacity(1024);
    out.extend_from_slice(&[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a]);
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    // 8 bits, grayscale, deflate, no filter method variants, not interlaced.
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &zlib(bitmap));
    chunk(&mut out, b"IEND", &[]);
    out
}

/// Appends a PNG chunk: its length, type, data and CRC.
pub fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// The image data: each row a filter byte (0, none) and its pixels, as a zlib stream.
fn zlib(bitmap: &Bitmap) -> Vec<u8> {
    let width = bitmap.width() as usize;
    let mut bits = BitWriter::default();
    // zlib header: deflate, 32 KiB window, no dictionary, fastest level (0x78 0x01).
    bits.bytes.extend_from_slice(&[0x78, 0x01]);
    bits.put(1, 1); // the final block
    bits.put(1, 2); // fixed Huffman codes
    let mut runs = Runs::default();
    let mut adler = Adler32::default();
    if width > 0 {
        for row in bitmap.as_raw().chunks_exact(width) {
            runs.push(0, 1, &mut bits);
            adler.update(0, 1);
            let mut i = 0;
            while i < row.len() {
                let value = row[i];
                let end = row[i..]
                    .iter()
                    .position(|&b| b != value)
                    .map_or(row.len(), |n| i + n);
                runs.push(value, end - i, &mut bits);
                adler.update(value, end - i);
                i = end;
            }
        }
    }
    runs.finish(&mut bits);
    bits.put_code(0, 7); // end of block (symbol 256)
    let mut out = bits.finish();
    out.extend_from_slice(&adler.value().to_be_bytes());
    out
}

/// Runs of equal bytes, written as the first byte as a literal and the rest as distance-1
/// matches; a run continues across calls while the value does not change.
#[derive(Default)]
struct Runs {
    /// The run in progress: its value and how many bytes after its literal it holds.
    current: Option<(u8, usize)>,
}

impl Runs {
    fn push(&mut self, value: u8, count: usize, bits: &mut BitWriter) {
        match &mut self.current {
            Some((v, pending)) if *v == value => *pending += count,
            _ => {
                self.finish(bits);
                literal(bits, value);
                self.current = Some((value, count - 1));
            }
        }
    }

    fn finish(&mut self, bits: &mut BitWriter) {
        let Some((value, mut pending)) = self.current.take() else {
            return;
        };
        while pending >= 3 {
            // A match may not leave 1 or 2 bytes behind it that a match cannot take; leaving
            // them to literals is fine, so take as much as allowed.
            let length = pending.min(258);
            matched(bits, length);
            pending -= length;
        }
        for _ in 0..pending {
            literal(bits, value);
        }
    }
}

/// A literal byte in the fixed Huffman code.
fn literal(bits: &mut BitWriter, byte: u8) {
    let byte = u32::from(byte);
    if byte < 144 {
        bits.put_code(0x30 + byte, 8);
    } else {
        bits.put_code(0x190 + byte - 144, 9);
    }
}

/// A match of `length` (3..=258) bytes at distance 1.
fn matched(bits: &mut BitWriter, length: usize) {
    let (symbol, extra_bits, base) = length_code(length);
    if symbol <= 279 {
        bits.put_code(symbol - 256, 7);
    } else {
        bits.put_code(0xc0 + symbol - 280, 8);
    }
    if extra_bits > 0 {
        bits.put((length - base) as u32, extra_bits);
    }
    bits.put_code(0, 5); // distance code 0: distance 1
}

/// The length symbol of `length`, its extra bits and the length its symbol starts at.
fn length_code(length: usize) -> (u32, u32, usize) {
    const BASES: [usize; 29] = [
        3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115,
        131, 163, 195, 227, 258,
    ];
    const EXTRA: [u32; 29] = [
        0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
    ];
    let i = BASES.iter().rposition(|&b| b <= length).unwrap_or(0);
    (257 + i as u32, EXTRA[i], BASES[i])
}

/// Bits in deflate's order: values least significant bit first, Huffman codes most
/// significant bit first.
#[derive(Default)]
struct BitWriter {
    bytes: Vec<u8>,
    buffer: u64,
    filled: u32,
}

impl BitWriter {
    fn put(&mut self, value: u32, count: u32) {
        self.buffer |= u64::from(value) << self.filled;
        self.filled += count;
        while self.filled >= 8 {
            self.bytes.push(self.buffer as u8);
            self.buffer >>= 8;
            self.filled -= 8;
        }
    }

    fn put_code(&mut self, code: u32, length: u32) {
        self.put(code.reverse_bits() >> (32 - length), length);
    }

    fn finish(mut self) -> Vec<u8> {
        if self.filled > 0 {
            self.bytes.push(self.buffer as u8);
        }
        self.bytes
    }
}

/// zlib's checksum of the uncompressed data, run by run.
struct Adler32 {
    a: u64,
    b: u64,
}

impl Default for Adler32 {
    fn default() -> Self {
        Self { a: 1, b: 0 }
    }
}

impl Adler32 {
    const MOD: u64 = 65_521;

    /// `count` bytes of `value`: a becomes a + n·v, b becomes b + n·a + v·n(n+1)/2.
    fn update(&mut self, value: u8, count: usize) {
        let (n, v) = (count as u64 % Self::MOD, u64::from(value));
        let triangle = (count as u64 % (2 * Self::MOD)) * ((count as u64 + 1) % (2 * Self::MOD))
            / 2
            % Self::MOD;
        self.b = (self.b + n * self.a + v * triangle) % Self::MOD;
        self.a = (self.a + n * v) % Self::MOD;
    }

    fn value(&self) -> u32 {
        ((self.b << 16) | self.a) as u32
    }
}

/// The PNG chunk checksum (CRC-32, IEEE), with its table made once.
pub fn crc32(data: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut table = [0u32; 256];
        for (n, entry) in table.iter_mut().enumerate() {
            *entry = (0..8).fold(n as u32, |c, _| {
                if c & 1 == 1 {
                    (c >> 1) ^ 0xEDB8_8320
                } else {
                    c >> 1
                }
            });
        }
        table
    });
    !data.iter().fold(0xFFFF_FFFFu32, |crc, &b| {
        table[((crc ^ u32::from(b)) & 0xFF) as usize] ^ (crc >> 8)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(png: &[u8]) -> (u32, u32, Vec<u8>) {
        let decoder = ::png::Decoder::new(std::io::Cursor::new(png));
        let mut reader = decoder.read_info().unwrap();
        let mut out = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut out).unwrap();
        assert_eq!(info.color_type, ::png::ColorType::Grayscale);
        out.truncate(info.buffer_size());
        (info.width, info.height, out)
    }

    #[test]
    fn masks_round_trip_through_a_real_png_decoder() {
        let mut painted = Bitmap::new(301, 97);
        painted.stroke(&[(10.0, 10.0), (290.0, 80.0)], 7.5, true);
        painted.rect((100.0, 0.0), (101.0, 97.0), true);
        let mut speckled = Bitmap::new(64, 64);
        for i in 0..64 {
            speckled.rect(
                (i as f32, (i * 7 % 64) as f32),
                (i as f32 + 1.0, (i * 7 % 64) as f32 + 1.0),
                true,
            );
        }
        let cases = [
            Bitmap::new(1, 1),
            Bitmap::filled(1, 1, true),
            Bitmap::new(4096, 3),
            Bitmap::filled(700, 400, true),
            painted,
            speckled,
        ];
        for bitmap in cases {
            let (w, h, pixels) = decode(&encode(&bitmap));
            assert_eq!((w, h), (bitmap.width(), bitmap.height()));
            assert_eq!(pixels, bitmap.as_raw(), "{w}×{h}");
        }
    }

    #[test]
    fn a_large_mask_encodes_small() {
        let mut bitmap = Bitmap::new(4096, 4096);
        bitmap.stroke(&[(100.0, 2000.0), (4000.0, 2100.0)], 40.0, true);
        let png = encode(&bitmap);
        assert!(png.len() < 200_000, "{} bytes", png.len());
        assert_eq!(decode(&png).2, bitmap.as_raw());
    }

    #[test]
    fn the_run_checksum_is_zlibs_adler32() {
        let naive = |data: &[u8]| {
            let (mut a, mut b) = (1u32, 0u32);
            for &byte in data {
                a = (a + u32::from(byte)) % 65_521;
                b = (b + a) % 65_521;
            }
            (b << 16) | a
        };
        let runs: [(u8, usize); 5] = [(0, 1), (255, 70_000), (0, 3), (7, 200_000), (255, 1)];
        let mut adler = Adler32::default();
        let mut data = Vec::new();
        for (value, count) in runs {
            adler.update(value, count);
            data.extend(std::iter::repeat_n(value, count));
            assert_eq!(adler.value(), naive(&data));
        }
    }

    #[test]
    fn every_match_length_is_coded_right() {
        for length in 3..=258 {
            let (symbol, extra, base) = length_code(length);
            assert!((257..=285).contains(&symbol));
            assert!(
                length >= base && length - base < (1 << extra).max(1),
                "{length}"
            );
        }
        assert_eq!(length_code(258), (285, 0, 258));
        assert_eq!(length_code(257), (284, 5, 227));
    }
}
