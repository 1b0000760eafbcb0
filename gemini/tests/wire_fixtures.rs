//! The JSON examples of the Gemini wire notes (shared/gemini-api.md §3 and §5), as fixtures:
//! each parses into the right result or error. (The success example's image data is shortened
//! in the notes; its fixture carries a real 1x1 PNG.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use gemini::{
    Denial, GeminiError, interpret,
    sniff::ImageFormat,
    wire::{FinishReason, GenerateContentResponse},
};

fn response(name: &str) -> GenerateContentResponse {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn error(name: &str, status: u16) -> GeminiError {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    GeminiError::from_http(
        status,
        &std::fs::read(path).unwrap(),
        "gemini-2.5-flash-image",
    )
}

#[test]
fn success_gives_the_image_text_and_usage() {
    let g = interpret(response("success.json")).unwrap();
    assert_eq!(g.images.len(), 1);
    assert_eq!(g.images[0].format, ImageFormat::Png);
    assert_eq!(g.text.as_deref(), Some("Sure, here is a cat: "));
    assert_eq!(g.usage.prompt_tokens, 4);
    assert_eq!(g.usage.output_tokens, 1298);
    assert_eq!(g.usage.total_tokens, 1302);
    assert_eq!(g.model_version.as_deref(), Some("gemini-2.5-flash-image"));
    assert_eq!(g.response_id.as_deref(), Some("wnIqavfxEuDUjMcPxMqnCA"));
}

#[test]
fn image_safety_is_an_image_block_with_its_message() {
    match interpret(response("image_safety.json")).unwrap_err() {
        e @ GeminiError::ImageBlocked { .. } => {
            let GeminiError::ImageBlocked {
                reason,
                detail,
                usage,
            } = &e
            else {
                unreachable!()
            };
            assert_eq!(*reason, FinishReason::ImageSafety);
            // Gemini's words are kept for the log, never put in the sentence a user sees.
            let detail = detail.as_deref().unwrap();
            assert!(detail.starts_with("Unable to show the generated image."));
            assert!(!e.to_string().contains(detail));
            // A withheld image is still billed for the tokens it used.
            assert_eq!(e.billed(), Some(usage));
            assert!(usage.prompt_tokens > 0, "{usage:?}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn prompt_feedback_without_candidates_is_a_prompt_block_not_success() {
    let e = interpret(response("prompt_blocked.json")).unwrap_err();
    assert_eq!(e.kind(), "prompt_blocked");
    assert!(e.to_string().contains("PROHIBITED_CONTENT"));
}

#[test]
fn unknown_finish_reasons_and_fields_are_kept_or_ignored() {
    let json = r#"{"candidates":[{"content":{"parts":[{"text":"hm"}]},"finishReason":"IMAGE_BRAND_NEW","newField":1}],"brandNew":{"x":1}}"#;
    let r: GenerateContentResponse = serde_json::from_str(json).unwrap();
    let reason = r.candidates[0].finish_reason.clone().unwrap();
    assert_eq!(reason, FinishReason::Other("IMAGE_BRAND_NEW".into()));
    assert_eq!(interpret(r).unwrap_err().kind(), "no_image");
}

#[test]
fn thought_parts_are_skipped() {
    let png = response("success.json").candidates[0]
        .content
        .clone()
        .unwrap()
        .parts[1]
        .clone();
    let mut thought = png.clone();
    thought.thought = Some(true);
    let mut r = response("success.json");
    r.candidates[0].content.as_mut().unwrap().parts = vec![thought, png];
    let g = interpret(r).unwrap();
    assert_eq!(g.images.len(), 1);
    assert_eq!(g.model_turn.parts.len(), 1);
}

#[test]
fn error_bodies_map_to_their_variants() {
    assert_eq!(
        error("error_api_key_invalid.json", 400),
        GeminiError::InvalidKey
    );
    match error("error_unknown_field.json", 400) {
        e @ GeminiError::BadRequest { .. } => {
            assert!(e.detail().unwrap().contains("outputMimeType"));
            assert!(!e.to_string().contains("outputMimeType"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    match error("error_unregistered.json", 403) {
        GeminiError::PermissionDenied { denial, .. } => assert_eq!(denial, Denial::Other),
        other => panic!("{other:?}"),
    }
    assert_eq!(error("error_not_found.json", 404).kind(), "model_not_found");
    assert_eq!(
        error("error_internal.json", 500),
        GeminiError::Upstream { status: 500 }
    );
    assert_eq!(error("error_overloaded.json", 503).kind(), "overloaded");
}

#[test]
fn a_quota_with_limit_zero_is_zero_and_keeps_its_retry_delay() {
    match error("error_quota_zero.json", 429) {
        GeminiError::QuotaExhausted {
            retry_after,
            zero_quota,
        } => {
            assert!(zero_quota);
            assert_eq!(retry_after, Some(Duration::from_secs(10)));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_unreadable_error_body_still_classifies_by_status() {
    assert_eq!(
        GeminiError::from_http(503, b"<html>", "m").kind(),
        "overloaded"
    );
    assert_eq!(GeminiError::from_http(504, b"", "m"), GeminiError::Timeout);
    assert_eq!(
        GeminiError::from_http(418, b"", "m").kind(),
        "malformed_response"
    );
}
