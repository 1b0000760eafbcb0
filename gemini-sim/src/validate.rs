//! Request validation as the real API does it: snake_case and camelCase both accepted, an
//! unknown field refused with its name and its snake_case path, then the values checked
//! against the model.

use gemini::wire::GenerateContentRequest;
use serde_json::{Map, Value};

use crate::{errors::ApiError, models::SimModel};

/// The fields each message type knows, by camelCase name, with the type of the nested value.
fn known_fields(kind: Kind) -> &'static [(&'static str, Kind)] {
    use Kind::*;
    match kind {
        Request => &[
            ("contents", Content),
            ("systemInstruction", Content),
            ("safetySettings", SafetySetting),
            ("generationConfig", GenerationConfig),
            ("tools", Tool),
            ("toolConfig", Any),
            ("cachedContent", Leaf),
            ("labels", Any),
        ],
        Content => &[("role", Leaf), ("parts", Part)],
        Part => &[
            ("text", Leaf),
            ("inlineData", Blob),
            ("thought", Leaf),
            ("thoughtSignature", Leaf),
            ("fileData", Any),
            ("functionCall", Any),
            ("functionResponse", Any),
            ("videoMetadata", Any),
        ],
        Blob => &[("mimeType", Leaf), ("data", Leaf)],
        SafetySetting => &[("category", Leaf), ("threshold", Leaf), ("method", Leaf)],
        GenerationConfig => &[
            ("responseModalities", Leaf),
            ("imageConfig", ImageConfig),
            ("candidateCount", Leaf),
            ("thinkingConfig", ThinkingConfig),
            ("temperature", Leaf),
            ("topP", Leaf),
            ("topK", Leaf),
            ("seed", Leaf),
            ("maxOutputTokens", Leaf),
            ("stopSequences", Leaf),
            ("presencePenalty", Leaf),
            ("frequencyPenalty", Leaf),
            ("responseMimeType", Leaf),
        ],
        ImageConfig => &[("aspectRatio", Leaf), ("imageSize", Leaf)],
        ThinkingConfig => &[
            ("includeThoughts", Leaf),
            ("thinkingBudget", Leaf),
            ("thinkingLevel", Leaf),
        ],
        Tool => &[
            ("googleSearch", Any),
            ("googleSearchRetrieval", Any),
            ("codeExecution", Any),
            ("urlContext", Any),
            ("googleMaps", Any),
            ("functionDeclarations", Any),
        ],
        Leaf | Any => &[],
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Request,
    Content,
    Part,
    Blob,
    SafetySetting,
    GenerationConfig,
    ImageConfig,
    ThinkingConfig,
    Tool,
    Leaf,
    Any,
}

fn camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn snake(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Rewrites keys to camelCase and refuses unknown ones, like the real API.
fn normalise(value: &mut Value, kind: Kind, path: &str) -> Result<(), ApiError> {
    match value {
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                normalise(item, kind, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        Value::Object(map) if !matches!(kind, Kind::Leaf | Kind::Any) => {
            let fields = known_fields(kind);
            let old = std::mem::take(map);
            let mut new = Map::with_capacity(old.len());
            for (key, mut child) in old {
                let name = camel(&key);
                let Some((_, child_kind)) = fields.iter().find(|(f, _)| *f == name) else {
                    return Err(ApiError::unknown_field(&key, path));
                };
                let child_path = if path.is_empty() {
                    snake(&name)
                } else {
                    format!("{path}.{}", snake(&name))
                };
                normalise(&mut child, *child_kind, &child_path)?;
                new.insert(name, child);
            }
            *map = new;
            Ok(())
        }
        _ => Ok(()),
    }
}

const INPUT_MIME_TYPES: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/webp",
    "image/heic",
    "image/heif",
];

/// Parses and checks a request body for `model`.
pub fn request(body: &[u8], model: &SimModel) -> Result<GenerateContentRequest, ApiError> {
    const LIMIT: usize = 100 * 1024 * 1024;
    if body.len() > LIMIT {
        return Err(ApiError::invalid_argument(format!(
            "Request payload size exceeds the limit: {LIMIT} bytes."
        )));
    }
    let mut value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::invalid_argument(format!("Invalid JSON payload received. {e}")))?;
    if !value.is_object() {
        return Err(ApiError::invalid_argument(
            "Invalid JSON payload received. Expected an object.",
        ));
    }
    normalise(&mut value, Kind::Request, "")?;
    let request: GenerateContentRequest = serde_json::from_value(value)
        .map_err(|e| ApiError::invalid_argument(format!("Invalid JSON payload received. {e}")))?;
    check(&request, model)?;
    Ok(request)
}

fn check(request: &GenerateContentRequest, model: &SimModel) -> Result<(), ApiError> {
    if request.contents.is_empty() {
        return Err(ApiError::invalid_argument(
            "* GenerateContentRequest.contents: contents is not specified\n",
        ));
    }
    if let Some(config) = &request.generation_config {
        if config.candidate_count.is_some_and(|n| n > 1) {
            return Err(ApiError::invalid_argument(
                "Multiple candidates is not enabled for this model",
            ));
        }
        if let Some(image) = &config.image_config {
            if let Some(ratio) = &image.aspect_ratio
                && !model.supports_ratio(ratio)
            {
                return Err(ApiError::invalid_argument(format!(
                    "Unsupported aspect ratio: {ratio}. Supported values are {}.",
                    model.ratios().join(", ")
                )));
            }
            if let Some(size) = &image.image_size {
                if model.sizes().is_empty() {
                    return Err(ApiError::invalid_argument(format!(
                        "image_size is not supported for model {}.",
                        model.id
                    )));
                }
                if !model.sizes().contains(&size.as_str()) {
                    return Err(ApiError::invalid_argument(format!(
                        "Unsupported image size: {size}. Supported values are {}.",
                        model.sizes().join(", ")
                    )));
                }
            }
        }
        if let Some(level) = config
            .thinking_config
            .as_ref()
            .and_then(|t| t.thinking_level.as_deref())
        {
            let (levels, _) = model.thinking_levels();
            if levels.is_empty() {
                return Err(ApiError::invalid_argument(format!(
                    "Thinking level is not supported for model {}.",
                    model.id
                )));
            }
            // An enum on the wire: the SDKs send the name (`HIGH`), REST examples the value
            // in lower case; both are taken.
            if !levels.iter().any(|l| l.eq_ignore_ascii_case(level)) {
                return Err(ApiError::invalid_argument(format!(
                    "Unsupported thinking level: {level}. Supported values are {}.",
                    levels.join(", ")
                )));
            }
        }
        for modality in &config.response_modalities {
            if !matches!(modality.as_str(), "TEXT" | "IMAGE") {
                return Err(ApiError::invalid_argument(format!(
                    "Invalid value at 'generation_config.response_modalities' ({modality})"
                )));
            }
        }
    }
    if request.tools.iter().any(|t| t.google_search.is_some()) && !model.grounds() {
        return Err(ApiError::invalid_argument(format!(
            "Search as tool is not enabled for model {}.",
            model.id
        )));
    }
    let mut images = 0;
    for (ci, content) in request.contents.iter().enumerate() {
        for (pi, part) in content.parts.iter().enumerate() {
            let Some(blob) = &part.inline_data else {
                continue;
            };
            if !INPUT_MIME_TYPES.contains(&blob.mime_type.as_str()) {
                return Err(ApiError::invalid_argument(format!(
                    "Unsupported MIME type: {}",
                    blob.mime_type
                )));
            }
            if content.role.as_deref() == Some("model") {
                if model.requires_signatures()
                    && !part.is_thought()
                    && part.thought_signature.is_none()
                {
                    return Err(ApiError::invalid_argument(format!(
                        "Image part is missing a thought_signature in content position {}, part position {}. Additional data, function call `default_api:` , position . Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.",
                        ci + 1,
                        pi + 1
                    )));
                }
            } else {
                images += 1;
            }
        }
    }
    if images > model.max_input_images {
        return Err(ApiError::invalid_argument(format!(
            "Too many input images: {images}. {} accepts at most {}.",
            model.id, model.max_input_images
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::find;

    fn flash() -> &'static SimModel {
        find("gemini-3.1-flash-image").unwrap()
    }

    #[test]
    fn snake_case_is_accepted() {
        let body = br#"{"contents":[{"parts":[{"text":"hi"}]}],"generation_config":{"response_modalities":["IMAGE"],"image_config":{"aspect_ratio":"16:9"}}}"#;
        let r = request(body, flash()).unwrap();
        let ratio = r
            .generation_config
            .unwrap()
            .image_config
            .unwrap()
            .aspect_ratio;
        assert_eq!(ratio.as_deref(), Some("16:9"));
    }

    #[test]
    fn unknown_field_is_named_with_its_snake_case_path() {
        let body = br#"{"contents":[{"parts":[{"text":"hi"}]}],"generationConfig":{"imageConfig":{"outputMimeType":"image/png"}}}"#;
        let e = request(body, flash()).unwrap_err();
        assert_eq!(e.code, 400);
        assert_eq!(
            e.message,
            "Invalid JSON payload received. Unknown name \"outputMimeType\" at 'generation_config.image_config': Cannot find field."
        );
    }

    #[test]
    fn candidate_count_over_one_is_refused() {
        let body =
            br#"{"contents":[{"parts":[{"text":"hi"}]}],"generationConfig":{"candidateCount":2}}"#;
        assert!(
            request(body, flash())
                .unwrap_err()
                .message
                .contains("Multiple candidates")
        );
    }

    #[test]
    fn image_jpg_is_not_a_mime_type() {
        let body =
            br#"{"contents":[{"parts":[{"inlineData":{"mimeType":"image/jpg","data":"AAAA"}}]}]}"#;
        assert_eq!(
            request(body, flash()).unwrap_err().message,
            "Unsupported MIME type: image/jpg"
        );
    }

    #[test]
    fn image_size_is_refused_where_the_model_takes_none() {
        let old = find("gemini-2.5-flash-image").unwrap();
        let body = br#"{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"imageConfig":{"imageSize":"2K"}}}"#;
        assert!(request(body, old).is_err());
        let body = br#"{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"imageConfig":{"imageSize":"2k"}}}"#;
        assert!(
            request(body, flash())
                .unwrap_err()
                .message
                .contains("Unsupported image size")
        );
    }

    #[test]
    fn thinking_levels_and_search_are_checked_against_the_model() {
        let nb = find("gemini-nano-banana-2.1").unwrap();
        let level = |l: &str| {
            format!(
                r#"{{"contents":[{{"parts":[{{"text":"x"}}]}}],"generationConfig":{{"thinkingConfig":{{"thinking_level":"{l}","includeThoughts":true}}}}}}"#
            )
        };
        assert!(request(level("medium").as_bytes(), nb).is_ok());
        assert!(
            request(level("HIGH").as_bytes(), nb).is_ok(),
            "the SDKs send the enum name"
        );
        assert!(
            request(level("low").as_bytes(), nb)
                .unwrap_err()
                .message
                .contains("minimal, medium, high")
        );
        let lite = find("gemini-3.1-flash-lite-image").unwrap();
        assert!(request(level("high").as_bytes(), lite).is_err());
        let search = br#"{"contents":[{"parts":[{"text":"x"}]}],"tools":[{"google_search":{}}]}"#;
        let r = request(search, nb).unwrap();
        assert!(
            r.tools[0].google_search.is_some(),
            "snake_case tool names read"
        );
        assert!(
            request(search, lite)
                .unwrap_err()
                .message
                .contains("Search as tool")
        );
        let typo = br#"{"contents":[{"parts":[{"text":"x"}]}],"tools":[{"google_serch":{}}]}"#;
        assert!(
            request(typo, nb)
                .unwrap_err()
                .message
                .contains("google_serch")
        );
    }

    #[test]
    fn model_turn_images_need_thought_signatures_on_3x() {
        let body = br#"{"contents":[{"role":"user","parts":[{"text":"a cat"}]},{"role":"model","parts":[{"inlineData":{"mimeType":"image/png","data":"AAAA"}}]},{"role":"user","parts":[{"text":"blue"}]}]}"#;
        let e = request(body, flash()).unwrap_err();
        assert!(e.message.starts_with(
            "Image part is missing a thought_signature in content position 2, part position 1."
        ));
    }
}
