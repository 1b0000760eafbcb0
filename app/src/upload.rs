//! Reading the edit upload: a multipart form of image files and text fields, every field capped
//! while it streams in, so an oversized or malformed upload is refused before it is held whole.
//!
//! This file needs only `multer` and `protocol`: the fuzz target `multipart` compiles this very
//! file (`fuzz/fuzz_targets/multipart.rs`) and feeds it arbitrary bodies cut into arbitrary
//! chunks. Keep it free of Leptos and of the rest of the crate.

use protocol::{EditField, ErrorKind, UserError};

/// How much an edit upload may carry.
#[derive(Debug, Clone, Copy)]
pub struct UploadLimits {
    /// Bytes of one file (`image` or `mask`).
    pub max_file_bytes: usize,
    /// Bytes of one text field (`prompt`, `model`, `source_id`).
    pub max_text_bytes: usize,
    /// Bytes of all fields together.
    pub max_total_bytes: usize,
}

impl Default for UploadLimits {
    /// The shared request limit (`protocol::limits`) plus room for the text fields.
    fn default() -> Self {
        let room = 64 * 1024;
        Self {
            max_file_bytes: protocol::limits::MAX_REQUEST_BYTES + room,
            max_text_bytes: room,
            max_total_bytes: protocol::limits::MAX_REQUEST_BYTES + room,
        }
    }
}

/// The fields of an edit upload, as sent.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct EditForm {
    /// Every `image` file, in the order sent (the source first).
    pub images: Vec<Vec<u8>>,
    /// The `mask` PNG; an empty `mask` field counts as none.
    pub mask: Option<Vec<u8>>,
    pub prompt: String,
    pub model: String,
    /// A stored image to edit; an empty `source_id` counts as none.
    pub source_id: Option<String>,
    /// The thinking level; an empty one counts as none (the model's default).
    pub thinking_level: Option<String>,
    /// `grounding=on`: ground the edit in Google Search.
    pub grounding: bool,
    /// `conversation=fresh`: edit the stored image without replaying its conversation.
    pub fresh_conversation: bool,
    /// `detail=whole`: send Gemini the whole image, never a frame around the mask.
    pub whole_image: bool,
    /// `expand=left,top,right,bottom`: pixels added around the source for the model to fill.
    pub expand: [u32; 4],
}

impl EditForm {
    /// Bytes of every file held.
    pub fn file_bytes(&self) -> usize {
        self.images.iter().map(Vec::len).sum::<usize>() + self.mask.as_ref().map_or(0, Vec::len)
    }
}

/// Reads the whole form. Unknown fields, a repeated text field or mask, text that is not UTF-8
/// and a body cut off or malformed are `BadRequest`; a field or the total past its limit is
/// `TooLarge`. Each error says what to do.
pub async fn read_edit_form(
    mut form: multer::Multipart<'_>,
    limits: &UploadLimits,
) -> Result<EditForm, UserError> {
    let mut edit = EditForm::default();
    let mut seen: Vec<EditField> = Vec::new();
    let mut total = 0usize;
    while let Some(mut field) = form.next_field().await.map_err(|_| malformed())? {
        let name = field.name().unwrap_or_default().to_owned();
        let Some(kind) = EditField::parse(&name) else {
            return Err(bad(format!(
                "The upload has an unexpected field {name:?}. Send only {}.",
                EditField::ALL.map(EditField::name).join(", ")
            )));
        };
        if !kind.repeats() && seen.contains(&kind) {
            return Err(bad(if kind == EditField::Mask {
                "The upload has more than one mask. Send one.".to_owned()
            } else {
                format!("The field {name} was sent twice. Send it once.")
            }));
        }
        seen.push(kind);
        let cap = if kind.is_file() {
            limits.max_file_bytes
        } else {
            limits.max_text_bytes
        };
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(|_| malformed())? {
            total = total.saturating_add(chunk.len());
            if total > limits.max_total_bytes {
                return Err(too_large(format!(
                    "The upload is too large: at most {} of images per edit. Send fewer or smaller images.",
                    size(limits.max_total_bytes)
                )));
            }
            if bytes.len() + chunk.len() > cap {
                return Err(too_large(if kind.is_file() {
                    format!(
                        "An image is too large: at most {} each. Send a smaller one.",
                        size(cap)
                    )
                } else {
                    format!("The {name} is too long: at most {}. Shorten it.", size(cap))
                }));
            }
            bytes.extend_from_slice(&chunk);
        }
        let text = |bytes: Vec<u8>| {
            String::from_utf8(bytes).map_err(|_| {
                bad(format!(
                    "The field {name} is not UTF-8 text. Send it as text."
                ))
            })
        };
        match kind {
            EditField::Image => edit.images.push(bytes),
            EditField::Mask => edit.mask = Some(bytes).filter(|mask| !mask.is_empty()),
            EditField::Prompt => edit.prompt = text(bytes)?,
            EditField::Model => edit.model = text(bytes)?,
            EditField::SourceId => edit.source_id = Some(text(bytes)?).filter(|id| !id.is_empty()),
            EditField::ThinkingLevel => {
                edit.thinking_level = Some(text(bytes)?).filter(|l| !l.is_empty());
            }
            EditField::Grounding => {
                edit.grounding = match text(bytes)?.as_str() {
                    "on" => true,
                    "" | "off" => false,
                    _ => return Err(bad("The field grounding must be on or off.")),
                };
            }
            EditField::Conversation => {
                edit.fresh_conversation = match text(bytes)?.as_str() {
                    "fresh" => true,
                    "" | "continue" => false,
                    _ => return Err(bad("The field conversation must be continue or fresh.")),
                };
            }
            EditField::Detail => {
                edit.whole_image = match text(bytes)?.as_str() {
                    "whole" => true,
                    "" | "auto" => false,
                    _ => return Err(bad("The field detail must be auto or whole.")),
                };
            }
            EditField::Expand => {
                let sides: Vec<Option<u32>> = text(bytes)?
                    .split(',')
                    .map(|n| n.trim().parse().ok())
                    .collect();
                edit.expand = match sides.as_slice() {
                    [Some(l), Some(t), Some(r), Some(b)] => [*l, *t, *r, *b],
                    _ => {
                        return Err(bad(
                            "The field expand must be four whole numbers of pixels: left,top,right,bottom.",
                        ));
                    }
                };
            }
        }
    }
    Ok(edit)
}

fn bad(message: impl Into<String>) -> UserError {
    UserError::new(ErrorKind::BadRequest, message)
}

fn malformed() -> UserError {
    bad("The upload was cut off or malformed. Try again.")
}

fn too_large(message: String) -> UserError {
    UserError::new(ErrorKind::TooLarge, message)
}

/// A limit in words: whole megabytes or kilobytes, rounded down (the limits carry a little
/// room for form overhead).
fn size(bytes: usize) -> String {
    match bytes {
        b if b >= 1024 * 1024 => format!("{} MB", b / (1024 * 1024)),
        b if b >= 1024 => format!("{} KB", b / 1024),
        b => format!("{b} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUNDARY: &str = "gemflash-test-boundary";

    /// A multipart body of `(name, bytes)` fields; names ending in a file get a filename.
    fn body(fields: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, bytes) in fields {
            out.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
            let filename = if matches!(*name, "image" | "mask") {
                "; filename=\"blob\"\r\nContent-Type: application/octet-stream"
            } else {
                ""
            };
            out.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"{filename}\r\n\r\n")
                    .as_bytes(),
            );
            out.extend_from_slice(bytes);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        out
    }

    /// Reads `body` delivered in chunks of `chunk` bytes.
    fn read_chunked(
        body: &[u8],
        chunk: usize,
        limits: &UploadLimits,
    ) -> Result<EditForm, UserError> {
        let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
            body.chunks(chunk).map(|c| Ok(c.to_vec())).collect();
        let form = multer::Multipart::new(futures::stream::iter(chunks), BOUNDARY);
        futures::executor::block_on(read_edit_form(form, limits))
    }

    fn read(body: &[u8]) -> Result<EditForm, UserError> {
        read_chunked(body, 4096, &UploadLimits::default())
    }

    fn small() -> UploadLimits {
        UploadLimits {
            max_file_bytes: 1000,
            max_text_bytes: 100,
            max_total_bytes: 1500,
        }
    }

    #[test]
    fn reads_the_options_and_refuses_values_it_does_not_know() {
        let form = read(&body(&[
            ("prompt", b"x"),
            ("model", b"m"),
            ("image", b"i"),
            ("thinking_level", b"high"),
            ("grounding", b"on"),
            ("conversation", b"fresh"),
        ]))
        .unwrap();
        assert_eq!(form.thinking_level.as_deref(), Some("high"));
        assert!(form.grounding && form.fresh_conversation);
        let defaults = read(&body(&[("prompt", b"x"), ("thinking_level", b"")])).unwrap();
        assert!(defaults.thinking_level.is_none() && !defaults.grounding);
        assert!(!defaults.fresh_conversation);
        for (field, value) in [("grounding", &b"yes"[..]), ("conversation", b"new")] {
            let e = read(&body(&[(field, value)])).unwrap_err();
            assert_eq!(e.kind, ErrorKind::BadRequest);
            assert!(e.message.contains(field), "{}", e.message);
        }
    }

    #[test]
    fn reads_every_field_in_order() {
        let form = read(&body(&[
            ("prompt", "a red hat".as_bytes()),
            ("model", b"gemini-2.5-flash-image"),
            ("image", b"first"),
            ("image", b"second"),
            ("mask", b"maskbytes"),
            ("source_id", b"abc123"),
        ]))
        .expect("a well-formed upload is read");
        assert_eq!(form.prompt, "a red hat");
        assert_eq!(form.model, "gemini-2.5-flash-image");
        assert_eq!(form.images, vec![b"first".to_vec(), b"second".to_vec()]);
        assert_eq!(form.mask.as_deref(), Some(&b"maskbytes"[..]));
        assert_eq!(form.source_id.as_deref(), Some("abc123"));
        assert_eq!(form.file_bytes(), 5 + 6 + 9);
    }

    #[test]
    fn empty_mask_and_source_id_count_as_none() {
        let form = read(&body(&[("image", b"x"), ("mask", b""), ("source_id", b"")]))
            .expect("empty optional fields are allowed");
        assert_eq!(form.mask, None);
        assert_eq!(form.source_id, None);
    }

    #[test]
    fn the_result_does_not_depend_on_how_the_body_is_chunked() {
        let whole = body(&[
            ("prompt", "ünïcode prompt".as_bytes()),
            ("image", &[0u8, 13, 10, 45, 45, 255, 1, 2]),
            ("mask", b"--not-a-boundary--"),
        ]);
        for chunk in [1, 2, 3, 7, 64] {
            let form = read_chunked(&whole, chunk, &UploadLimits::default())
                .unwrap_or_else(|e| panic!("chunks of {chunk}: {}", e.message));
            assert_eq!(form.prompt, "ünïcode prompt");
            assert_eq!(form.images, vec![vec![0u8, 13, 10, 45, 45, 255, 1, 2]]);
            assert_eq!(form.mask.as_deref(), Some(&b"--not-a-boundary--"[..]));
        }
    }

    fn refused(result: Result<EditForm, UserError>) -> UserError {
        match result {
            Ok(form) => panic!("accepted: {form:?}"),
            Err(error) => error,
        }
    }

    #[test]
    fn an_unknown_field_is_named_in_the_refusal() {
        let error = refused(read(&body(&[("image", b"x"), ("script", b"y")])));
        assert_eq!(error.kind, ErrorKind::BadRequest);
        assert!(error.message.contains("\"script\""), "{}", error.message);
    }

    #[test]
    fn a_repeated_text_field_or_mask_is_refused() {
        for (field, bytes) in [("prompt", &b"a"[..]), ("model", b"m"), ("source_id", b"s")] {
            let error = refused(read(&body(&[(field, bytes), (field, bytes)])));
            assert_eq!(error.kind, ErrorKind::BadRequest);
            assert!(error.message.contains("twice"), "{}", error.message);
        }
        let error = refused(read(&body(&[("mask", b"a"), ("mask", b"b")])));
        assert_eq!(error.kind, ErrorKind::BadRequest);
        assert!(
            error.message.contains("more than one mask"),
            "{}",
            error.message
        );
    }

    #[test]
    fn text_that_is_not_utf8_is_refused() {
        let error = refused(read(&body(&[("prompt", &[0xff, 0xfe, b'a'])])));
        assert_eq!(error.kind, ErrorKind::BadRequest);
        assert!(error.message.contains("prompt"), "{}", error.message);
    }

    #[test]
    fn a_cut_off_or_malformed_body_is_refused() {
        let whole = body(&[("prompt", b"hello"), ("image", &[7; 300])]);
        let cut = &whole[..whole.len() - 120];
        assert_eq!(refused(read(cut)).kind, ErrorKind::BadRequest);
        assert_eq!(
            refused(read(b"no boundary here at all")).kind,
            ErrorKind::BadRequest
        );
    }

    #[test]
    fn every_limit_is_enforced_while_the_body_streams() {
        let limits = small();
        let file = refused(read_chunked(&body(&[("image", &[1; 1001])]), 64, &limits));
        assert_eq!(file.kind, ErrorKind::TooLarge);
        assert!(
            file.message.contains("An image is too large"),
            "{}",
            file.message
        );

        let text = refused(read_chunked(
            &body(&[("prompt", &[b'a'; 101])]),
            64,
            &limits,
        ));
        assert_eq!(text.kind, ErrorKind::TooLarge);
        assert!(
            text.message.contains("prompt is too long"),
            "{}",
            text.message
        );

        let total = body(&[("image", &[1; 900]), ("image", &[2; 700])]);
        let error = refused(read_chunked(&total, 64, &limits));
        assert_eq!(error.kind, ErrorKind::TooLarge);
        assert!(
            error.message.contains("The upload is too large"),
            "{}",
            error.message
        );

        let at_limits = body(&[("image", &[1; 1000]), ("prompt", &[b'a'; 100])]);
        let form = read_chunked(&at_limits, 64, &limits).expect("exactly at the limits is fine");
        assert_eq!(form.file_bytes(), 1000);
    }
}
