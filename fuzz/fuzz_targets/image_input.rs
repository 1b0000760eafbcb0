//! Uploaded bytes through format sniffing and bounded decoding: never a panic, never an
//! allocation past the limits, whatever the bytes claim to be.
#![no_main]

use engine::input::{InputLimits, decode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Small limits, so the fuzzer explores refusals rather than spending time on big images.
    let limits = InputLimits {
        max_image_bytes: 1 << 20,
        max_request_bytes: 1 << 20,
        max_pixels: 1 << 20,
        max_request_pixels: 1 << 21,
        max_decode_bytes: 64 << 20,
    };
    if let Ok(image) = decode(data, &limits) {
        assert!(u64::from(image.width()) * u64::from(image.height()) <= limits.max_pixels);
    }
});
