//! Turning a `generateContent` answer into what the caller needs: the images, the model's
//! text, the turn to echo back on a follow-up edit, usage and cost; or the error that a
//! 200 answer can still mean (a blocked prompt, a withheld image, text and no image).

use crate::{
    error::GeminiError,
    scrub::scrub,
    sniff::{ImageFormat, sniff},
    usage::Usage,
    wire::{Content, FinishReason, GenerateContentResponse, GroundingMetadata, Part},
};

/// One generated image. `format` comes from the bytes; `declared_mime` is what Gemini said.
#[derive(Clone, PartialEq)]
pub struct GeneratedImage {
    pub format: ImageFormat,
    pub declared_mime: String,
    pub bytes: bytes::Bytes,
}

impl std::fmt::Debug for GeneratedImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeneratedImage")
            .field("format", &self.format)
            .field("declared_mime", &self.declared_mime)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

/// A successful generation.
#[derive(Debug, Clone, PartialEq)]
pub struct Generation {
    pub images: Vec<GeneratedImage>,
    /// The model's words beside the image, if any.
    pub text: Option<String>,
    /// The model's turn without its thought parts, signatures kept: send it back as the
    /// previous turn of a follow-up edit (3.x models require the signatures).
    pub model_turn: Content,
    pub usage: Usage,
    /// Where a grounded answer's facts came from (Google Search).
    pub grounding: Option<GroundingMetadata>,
    pub model_version: Option<String>,
    pub response_id: Option<String>,
    /// Attempts made, retries included.
    pub attempts: u32,
    /// The cost, when the model's prices are known.
    pub cost_usd: Option<f64>,
}

impl Generation {
    /// The thought signatures of the model's turn, in order.
    pub fn thought_signatures(&self) -> Vec<&str> {
        self.model_turn
            .parts
            .iter()
            .filter_map(|p| p.thought_signature.as_deref())
            .collect()
    }
}

/// Interprets a whole answer (or the merge of a stream's events): the images, or the error a
/// 200 answer can still mean.
pub fn interpret(response: GenerateContentResponse) -> Result<Generation, GeminiError> {
    let searches = response
        .candidates
        .first()
        .and_then(|c| c.grounding_metadata.as_ref())
        .map_or(0, |g| {
            g.web_search_queries.len() + g.image_search_queries.len()
        });
    let usage = response
        .usage_metadata
        .as_ref()
        .map_or_else(Usage::default, |u| Usage {
            prompt_tokens: u.prompt_token_count,
            output_tokens: u.candidates_token_count,
            text_output_tokens: u
                .candidates_tokens_details
                .iter()
                .filter(|d| d.modality == "TEXT")
                .map(|d| d.token_count)
                .sum(),
            thoughts_tokens: u.thoughts_token_count,
            total_tokens: u.total_token_count,
            search_queries: 0,
        });
    let usage = Usage {
        search_queries: u32::try_from(searches).unwrap_or(u32::MAX),
        ..usage
    };
    if let Some(feedback) = response.prompt_feedback.as_ref()
        && let Some(reason) = feedback.block_reason.clone()
    {
        return Err(GeminiError::PromptBlocked {
            reason,
            detail: feedback.block_reason_message.as_deref().map(scrub),
            usage,
        });
    }
    let Some(mut candidate) = response.candidates.into_iter().next() else {
        return Err(GeminiError::Malformed {
            detail: "the answer has no candidates".into(),
        });
    };
    if let Some(reason) = candidate
        .finish_reason
        .clone()
        .filter(FinishReason::is_block)
    {
        return Err(GeminiError::ImageBlocked {
            reason,
            detail: candidate.finish_message.as_deref().map(scrub),
            usage,
        });
    }

    let grounding = candidate.grounding_metadata.take();
    let parts: Vec<Part> = candidate
        .content
        .map(|c| c.parts)
        .unwrap_or_default()
        .into_iter()
        .filter(|p| !p.is_thought())
        .collect();
    let mut images = Vec::new();
    let mut text = String::new();
    for part in &parts {
        if let Some(t) = &part.text {
            text.push_str(t);
        }
        if let Some(blob) = &part.inline_data {
            let Some(format) = sniff(&blob.data) else {
                return Err(GeminiError::Malformed {
                    detail: format!(
                        "an image part labelled {:?} holds no known image format",
                        blob.mime_type
                    ),
                });
            };
            images.push(GeneratedImage {
                format,
                declared_mime: blob.mime_type.clone(),
                bytes: blob.data.clone(),
            });
        }
    }
    let text = (!text.trim().is_empty()).then_some(text);
    if images.is_empty() {
        return Err(GeminiError::NoImage {
            finish_reason: candidate.finish_reason,
            text: text.as_deref().map(scrub),
            usage,
        });
    }
    Ok(Generation {
        images,
        text,
        model_turn: Content {
            role: Some("model".into()),
            parts,
        },
        usage,
        grounding,
        model_version: response.model_version,
        response_id: response.response_id,
        attempts: 1,
        cost_usd: None,
    })
}

/// Merges a stream's events into one answer: parts in order, the last finish reason, usage
/// and ids, and any prompt feedback.
pub(crate) fn merge(events: Vec<GenerateContentResponse>) -> GenerateContentResponse {
    let mut merged = GenerateContentResponse::default();
    for event in events {
        if event.prompt_feedback.is_some() {
            merged.prompt_feedback = event.prompt_feedback;
        }
        if event.usage_metadata.is_some() {
            merged.usage_metadata = event.usage_metadata;
        }
        merged.model_version = event.model_version.or(merged.model_version);
        merged.response_id = event.response_id.or(merged.response_id);
        if let Some(candidate) = event.candidates.into_iter().next() {
            if merged.candidates.is_empty() {
                merged.candidates.push(candidate);
                continue;
            }
            let target = &mut merged.candidates[0];
            if let Some(content) = candidate.content {
                target
                    .content
                    .get_or_insert_with(Content::default)
                    .parts
                    .extend(content.parts);
            }
            if candidate.finish_reason.is_some() {
                target.finish_reason = candidate.finish_reason;
                target.finish_message = candidate.finish_message;
            }
            if candidate.grounding_metadata.is_some() {
                target.grounding_metadata = candidate.grounding_metadata;
            }
        }
    }
    merged
}
