//! A Gemini answer as a compromised or broken upstream might send it: parsed with the wire
//! model (base64 decoded in the parser) and interpreted. Never a panic.
#![no_main]

use gemini::wire::GenerateContentResponse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(response) = serde_json::from_slice::<GenerateContentResponse>(data) {
        let _ = gemini::interpret(response);
    }
});
