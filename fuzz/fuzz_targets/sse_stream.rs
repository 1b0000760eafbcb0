//! A server-sent-event stream cut into arbitrary chunks: the decoder never panics and never
//! returns an event past its size cap.
#![no_main]

use gemini::SseDecoder;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&cut, rest)) = data.split_first() else {
        return;
    };
    let mut decoder = SseDecoder::new(4096);
    for chunk in rest.chunks(usize::from(cut).max(1)) {
        match decoder.push(chunk) {
            Ok(events) => {
                for event in events {
                    assert!(event.len() <= 4096);
                }
            }
            Err(_) => return,
        }
    }
});
