//! The Gemini `generateContent` wire model.
//!
//! Field names are camelCase on the wire. Response types ignore fields they do not know, so an
//! upstream addition never breaks a client; [`FinishReason`] and [`BlockReason`] keep values
//! they do not know as `Other`. Inline image data is base64 on the wire and bytes here: it is
//! decoded straight from the response buffer while parsing, never held twice as text.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// The body of `generateContent` and `streamGenerateContent`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateContentRequest {
    pub contents: Vec<Content>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_instruction: Option<Content>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub safety_settings: Vec<SafetySetting>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation_config: Option<GenerationConfig>,
    /// Tools the model may use: Google Search grounding.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<Tool>,
}

/// A tool the model may call. Only Google Search is used here.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tool {
    /// Grounding in Google Search results (`{"googleSearch": {}}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub google_search: Option<GoogleSearch>,
}

impl Tool {
    /// The Google Search tool.
    pub fn google_search() -> Self {
        Self {
            google_search: Some(GoogleSearch {}),
        }
    }
}

/// The Google Search tool's settings (none are used).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GoogleSearch {}

/// One turn of a conversation: the user's, or the model's echoed back.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Content {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<Part>,
}

impl Content {
    /// A user turn made of these parts.
    pub fn user(parts: Vec<Part>) -> Self {
        Self {
            role: Some("user".into()),
            parts,
        }
    }
}

/// One part of a turn: text, an inline image, or both absent (an empty part).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Part {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inline_data: Option<Blob>,
    /// True on the model's interim "thinking" parts, which a client skips.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thought: Option<bool>,
    /// Opaque signature that must be echoed back with the part on a follow-up turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thought_signature: Option<String>,
}

impl Part {
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: Some(text.into()),
            ..Self::default()
        }
    }

    pub fn image(mime_type: impl Into<String>, data: impl Into<Bytes>) -> Self {
        Self {
            inline_data: Some(Blob {
                mime_type: mime_type.into(),
                data: data.into(),
            }),
            ..Self::default()
        }
    }

    pub fn is_thought(&self) -> bool {
        self.thought == Some(true)
    }
}

/// Inline bytes with their declared MIME type. The declared type can be wrong: see
/// [`crate::sniff`]. The bytes are shared (`Bytes`), so the image a result hands out and the
/// model turn kept for a follow-up edit are one allocation, not two.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Blob {
    pub mime_type: String,
    #[serde(with = "base64_data")]
    pub data: Bytes,
}

impl std::fmt::Debug for Blob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Blob")
            .field("mime_type", &self.mime_type)
            .field("bytes", &self.data.len())
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SafetySetting {
    pub category: String,
    pub threshold: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerationConfig {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub response_modalities: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_config: Option<ImageConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidate_count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking_config: Option<ThinkingConfig>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aspect_ratio: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_size: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThinkingConfig {
    /// Whether thought summaries come back as parts marked `thought`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_thoughts: Option<bool>,
    /// How hard the model thinks: `minimal`, `low`, `medium` or `high`, as the model takes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking_level: Option<String>,
}

/// A `generateContent` answer, or one event of a stream.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateContentResponse {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<Candidate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_feedback: Option<PromptFeedback>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_metadata: Option<UsageMetadata>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Candidate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Content>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<FinishReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    /// Where a grounded answer's facts came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grounding_metadata: Option<GroundingMetadata>,
}

/// A grounded answer's sources: the searches the model ran, the pages it used, and the
/// search entry point Google requires a product to show beside the answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroundingMetadata {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub web_search_queries: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub image_search_queries: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grounding_chunks: Vec<GroundingChunk>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search_entry_point: Option<SearchEntryPoint>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroundingChunk {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web: Option<WebSource>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebSource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// The search suggestions Google renders: HTML and CSS, to be shown as they are (never run in
/// the product's own origin).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchEntryPoint {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rendered_content: Option<String>,
}

/// One page of `GET /v1beta/models`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListModelsResponse {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<ModelDescription>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// A model as `models.list` describes it (fields this client does not use are ignored).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelDescription {
    /// `models/<id>`.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_token_limit: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_token_limit: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub supported_generation_methods: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking: Option<bool>,
}

impl ModelDescription {
    /// The id without its `models/` prefix.
    pub fn id(&self) -> &str {
        self.name.strip_prefix("models/").unwrap_or(&self.name)
    }

    /// Whether the model answers `generateContent`.
    pub fn generates_content(&self) -> bool {
        self.supported_generation_methods
            .iter()
            .any(|m| m == "generateContent")
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PromptFeedback {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_reason: Option<BlockReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_reason_message: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageMetadata {
    #[serde(default)]
    pub prompt_token_count: u32,
    #[serde(default)]
    pub candidates_token_count: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub thoughts_token_count: u32,
    #[serde(default)]
    pub total_token_count: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prompt_tokens_details: Vec<ModalityTokenCount>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub candidates_tokens_details: Vec<ModalityTokenCount>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModalityTokenCount {
    pub modality: String,
    #[serde(default)]
    pub token_count: u32,
}

/// Declares an enum of upstream string values that keeps unknown values as `Other(String)`.
macro_rules! open_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(from = "String", into = "String")]
        pub enum $name {
            $($variant,)+
            /// A value this client does not know yet.
            Other(String),
        }

        impl $name {
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $text,)+
                    Self::Other(s) => s,
                }
            }

            /// The value as a sentence may name it: an unknown value is upstream text, so it
            /// is never repeated to a user.
            pub fn label(&self) -> &str {
                match self {
                    Self::Other(_) => "an unlisted reason",
                    known => known.as_str(),
                }
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                match s.as_str() {
                    $($text => Self::$variant,)+
                    _ => Self::Other(s),
                }
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.as_str().to_owned()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

open_enum!(
    /// Why a candidate stopped.
    FinishReason {
        Stop = "STOP",
        MaxTokens = "MAX_TOKENS",
        Safety = "SAFETY",
        Recitation = "RECITATION",
        Language = "LANGUAGE",
        OtherReason = "OTHER",
        Blocklist = "BLOCKLIST",
        ProhibitedContent = "PROHIBITED_CONTENT",
        Spii = "SPII",
        MalformedFunctionCall = "MALFORMED_FUNCTION_CALL",
        ImageSafety = "IMAGE_SAFETY",
        UnexpectedToolCall = "UNEXPECTED_TOOL_CALL",
        TooManyToolCalls = "TOO_MANY_TOOL_CALLS",
        ImageProhibitedContent = "IMAGE_PROHIBITED_CONTENT",
        NoImage = "NO_IMAGE",
        ImageRecitation = "IMAGE_RECITATION",
        ImageOther = "IMAGE_OTHER",
    }
);

open_enum!(
    /// Why a prompt was refused before any candidate was made.
    BlockReason {
        Safety = "SAFETY",
        OtherReason = "OTHER",
        Blocklist = "BLOCKLIST",
        ProhibitedContent = "PROHIBITED_CONTENT",
        ImageSafety = "IMAGE_SAFETY",
    }
);

impl FinishReason {
    /// Reasons that mean the output was withheld by a policy filter.
    pub fn is_block(&self) -> bool {
        matches!(
            self,
            Self::Safety
                | Self::Recitation
                | Self::Blocklist
                | Self::ProhibitedContent
                | Self::Spii
                | Self::ImageSafety
                | Self::ImageProhibitedContent
                | Self::ImageRecitation
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_data_accepts_standard_and_url_safe_base64_padded_or_not() {
        // "+/+/AA==" is 0xFB 0xFF 0xBF 0x00; "-_-_AA" is the same in the URL-safe alphabet.
        for text in ["+/+/AA==", "+/+/AA", "-_-_AA==", "-_-_AA"] {
            let json = format!(r#"{{"mimeType":"image/png","data":"{text}"}}"#);
            let blob: Blob = serde_json::from_str(&json).unwrap();
            assert_eq!(blob.data.as_ref(), [0xFB, 0xFF, 0xBF, 0x00], "{text}");
        }
        let bad = r#"{"mimeType":"image/png","data":"not base64!"}"#;
        assert!(serde_json::from_str::<Blob>(bad).is_err());
    }

    #[test]
    fn every_length_decodes_to_the_bytes_that_were_encoded_padded_or_not() {
        use base64::Engine as _;
        use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
        // Every remainder and both sides of the SIMD decoder's block sizes, then a photo-sized
        // answer.
        let lengths = (0..200).chain([4095, 4096, 4097, 3 * 1024 * 1024 + 1]);
        for len in lengths {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 7 + i / 251) as u8).collect();
            for text in [
                STANDARD.encode(&bytes),
                STANDARD_NO_PAD.encode(&bytes),
                URL_SAFE_NO_PAD.encode(&bytes),
            ] {
                assert_eq!(base64_data::decode(&text).unwrap(), bytes, "{len} bytes");
            }
        }
        for bad in ["A", "AAAAA", "AA=A", "AA==AA==", "AAA\n", "AA AA"] {
            assert!(base64_data::decode(bad).is_err(), "{bad:?}");
        }
    }
}

/// The error body of a non-2xx answer, and of an error event mid-stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub code: u16,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub status: String,
    /// `google.rpc` detail objects, told apart by their `@type`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<serde_json::Value>,
}

/// Base64 inline data, decoded while parsing.
mod base64_data {
    use base64::Engine as _;
    use base64::alphabet;
    use base64::engine::general_purpose::STANDARD;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    use bytes::Bytes;
    use serde::{Deserializer, Serializer, de};

    /// Protobuf JSON accepts standard and URL-safe base64, padded or not (the Python SDK
    /// sends URL-safe), so decoding does too.
    const LENIENT: GeneralPurposeConfig =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    const STANDARD_LENIENT: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);
    const URL_SAFE_LENIENT: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);

    /// Padded standard base64 first, by SIMD: it is what the API sends, and trying it costs
    /// nothing more than the decode (a scan for the URL-safe letters first was 15 % of a
    /// generation's CPU; the scalar decode was 8 %). Text it refuses is tried as standard
    /// without padding, then as URL-safe; the two alphabets differ only in `+/` against `-_`,
    /// so no text decodes differently in the two.
    pub(super) fn decode(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
        if let Ok(bytes) = base64_simd::STANDARD.decode_to_vec(text) {
            return Ok(bytes);
        }
        STANDARD_LENIENT
            .decode(text)
            .or_else(|standard| URL_SAFE_LENIENT.decode(text).map_err(|_| standard))
    }

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Bytes, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = Bytes;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("base64 data")
            }
            /// Decodes straight from the parser's view of the text: the base64 is never
            /// copied into a `String` of its own.
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Bytes, E> {
                decode(v)
                    .map(Bytes::from)
                    .map_err(|e| E::custom(format!("inline data is not base64: {e}")))
            }
        }
        d.deserialize_str(Visitor)
    }
}
