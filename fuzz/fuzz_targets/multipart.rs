//! The edit upload reader (`app/src/upload.rs`, compiled here as it is) over the multipart
//! parser: any body, delivered in any chunk size, with small limits so refusals are reached.
//!
//! The first byte chooses the chunk size and the mode: raw (the rest is the body, for the
//! parser) or built (the rest is cut into fields with names from the form's vocabulary and a
//! few others, then framed as a well-formed body, for the reader's own rules).
#![no_main]

#[path = "../../app/src/upload.rs"]
mod upload;

use futures::executor::block_on;
use libfuzzer_sys::fuzz_target;
use protocol::ErrorKind;
use upload::{EditForm, UploadLimits, read_edit_form};

const BOUNDARY: &str = "gemflash-fuzz";
const NAMES: [&str; 11] = [
    "image",
    "mask",
    "prompt",
    "model",
    "source_id",
    "thinking_level",
    "grounding",
    "conversation",
    "",
    "other",
    "Image",
];

const LIMITS: UploadLimits = UploadLimits {
    max_file_bytes: 2048,
    max_text_bytes: 256,
    max_total_bytes: 3072,
};

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(control >> 1) + 1;
    let body = if control & 1 == 0 {
        rest.to_vec()
    } else {
        built(rest)
    };
    let outcome = read(&body, chunk);
    match &outcome {
        Ok(form) => {
            let text = form.prompt.len()
                + form.model.len()
                + form.source_id.as_ref().map_or(0, String::len);
            assert!(form.file_bytes() + text <= LIMITS.max_total_bytes);
            assert!(
                form.images
                    .iter()
                    .all(|image| image.len() <= LIMITS.max_file_bytes)
            );
            assert!(
                form.mask
                    .as_ref()
                    .is_none_or(|m| !m.is_empty() && m.len() <= LIMITS.max_file_bytes)
            );
            assert!(form.prompt.len() <= LIMITS.max_text_bytes);
            assert!(form.model.len() <= LIMITS.max_text_bytes);
            assert!(
                form.source_id
                    .as_ref()
                    .is_none_or(|id| !id.is_empty() && id.len() <= LIMITS.max_text_bytes)
            );
        }
        Err(error) => assert!(matches!(
            error.kind,
            ErrorKind::BadRequest | ErrorKind::TooLarge
        )),
    }
    // How the body arrives must not change what is read.
    let whole = read(&body, body.len().max(1));
    match (&outcome, &whole) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (Err(a), Err(b)) => assert_eq!((a.kind, &a.message), (b.kind, &b.message)),
        _ => panic!("chunks of {chunk} gave {outcome:?}, one chunk gave {whole:?}"),
    }
});

fn read(body: &[u8], chunk: usize) -> Result<EditForm, protocol::UserError> {
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        body.chunks(chunk).map(|c| Ok(c.to_vec())).collect();
    let form = multer::Multipart::new(futures::stream::iter(chunks), BOUNDARY);
    block_on(read_edit_form(form, &LIMITS))
}

/// Fields separated by 0xFF; the first byte of each picks its name, the rest is its content
/// (content bytes of 0xFE stand for a run of 300 bytes, to reach the limits quickly).
fn built(data: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    for field in data.split(|&b| b == 0xFF) {
        let Some((&pick, content)) = field.split_first() else {
            continue;
        };
        let name = NAMES[usize::from(pick) % NAMES.len()];
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        let file = if pick & 0x80 != 0 {
            "; filename=\"f\""
        } else {
            ""
        };
        body.extend_from_slice(
            format!("Content-Disposition: form-data; name=\"{name}\"{file}\r\n\r\n").as_bytes(),
        );
        for &b in content {
            if b == 0xFE {
                body.extend(std::iter::repeat_n(b'x', 300));
            } else {
                body.push(b);
            }
        }
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}
