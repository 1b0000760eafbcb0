//! A mask PNG for a source of a given size: decoded, checked, feathered. The first four bytes
//! choose the source size; the rest is the mask file.
#![no_main]

use engine::{input::InputLimits, mask::Mask};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let width = u32::from(u16::from_le_bytes([data[0], data[1]]) % 512) + 1;
    let height = u32::from(u16::from_le_bytes([data[2], data[3]]) % 512) + 1;
    let limits = InputLimits {
        max_image_bytes: 1 << 20,
        max_request_bytes: 1 << 20,
        max_pixels: 1 << 20,
        max_request_pixels: 1 << 21,
        max_decode_bytes: 64 << 20,
    };
    if let Ok(mask) = Mask::decode(&data[4..], width, height, &limits) {
        let weights = mask.weights(u32::from(data[0] % 16));
        let b = weights.bounds;
        assert!(b.x1 <= width && b.y1 <= height && b.x0 < b.x1 && b.y0 < b.y1);
        assert_eq!(weights.map.dimensions(), (b.width(), b.height()));
    }
});
