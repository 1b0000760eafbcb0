//! One simulated call: authenticate, find the model, validate, apply a requested fault or
//! generate, and answer in the shape the endpoint uses (JSON, SSE, or a JSON array).

use std::{collections::HashMap, io::Cursor, time::Duration};

use axum::{
    Json,
    body::{Body, Bytes},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use base64::Engine as _;
use gemini::wire::{
    BlockReason, Candidate, Content, FinishReason, GenerateContentRequest, GenerateContentResponse,
    ModalityTokenCount, Part, PromptFeedback, UsageMetadata,
};

use crate::{
    Latency, SimState,
    errors::ApiError,
    faults::{EchoAt, Fault},
    models::{self, SimModel, closest_ratio},
    render, validate,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Generate,
    Stream { sse: bool },
}

pub(crate) async fn call(
    state: &SimState,
    call: &str,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Response {
    match answer(state, call, query, headers, body).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn answer(
    state: &SimState,
    call: &str,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Response, ApiError> {
    let key = headers
        .get("x-goog-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| query.get("key").cloned())
        .filter(|k| !k.is_empty());
    let Some(key) = key else {
        return Err(ApiError::missing_key());
    };
    if state
        .config
        .accepted_key
        .as_ref()
        .is_some_and(|k| *k != key)
    {
        return Err(ApiError::invalid_key());
    }

    let (model_id, action) = call.rsplit_once(':').unwrap_or((call, ""));
    let action = match action {
        "generateContent" => Action::Generate,
        "streamGenerateContent" => Action::Stream {
            sse: query.get("alt").is_some_and(|a| a == "sse"),
        },
        _ => {
            return Err(ApiError::new(
                404,
                "NOT_FOUND",
                format!("Method not found: {action}"),
            ));
        }
    };
    let model_id = model_id.strip_prefix("models/").unwrap_or(model_id);
    let model = match models::find(model_id) {
        Some(m) if !models::RETIRED.contains(&model_id) => m,
        _ => return Err(ApiError::model_not_found(model_id)),
    };

    let request = validate::request(body, model)?;
    let prompt = prompt_text(&request);
    let header_fault = headers
        .get("x-gemini-sim-fault")
        .and_then(|v| v.to_str().ok());
    let fault = Fault::requested(&prompt, header_fault).map_err(ApiError::invalid_argument)?;

    delay(state, &prompt).await;
    match fault {
        Some(Fault::Slow) => tokio::time::sleep(state.config.slow).await,
        Some(Fault::FailTimes(n) | Fault::QuotaTimes(n)) => {
            let seen = {
                let mut failures = state.failures.lock().unwrap_or_else(|e| e.into_inner());
                let seen = failures.entry(render::hash(&prompt)).or_insert(0);
                *seen += 1;
                *seen
            };
            if seen <= n {
                return Err(match fault {
                    Some(Fault::QuotaTimes(_)) => ApiError::quota(model.id, 10, false),
                    _ => ApiError::overloaded(),
                });
            }
        }
        _ => {}
    }
    if let Some(early) = fault.and_then(|f| fault_answer(f, model, &key)) {
        return early;
    }

    let response = generate(model, &request, &prompt, fault, &key);
    Ok(match action {
        Action::Generate => Json(response).into_response(),
        Action::Stream { sse } => stream(response, model, sse, fault == Some(Fault::StreamError)),
    })
}

/// The answer of a fault that replaces generation entirely, if it does.
fn fault_answer(fault: Fault, model: &SimModel, key: &str) -> Option<Result<Response, ApiError>> {
    let blocked_usage = || UsageMetadata {
        prompt_token_count: 13,
        total_token_count: 13,
        ..Default::default()
    };
    Some(match fault {
        Fault::Quota => Err(ApiError::quota(model.id, 10, false)),
        Fault::QuotaZero => Err(ApiError::quota(model.id, 10, true)),
        Fault::Overloaded => Err(ApiError::overloaded()),
        Fault::Internal => Err(ApiError::internal()),
        Fault::Leaked => Err(ApiError::leaked_key()),
        Fault::Suspended => Err(ApiError::suspended(key)),
        Fault::EchoKey(EchoAt::BadRequest) => Err(ApiError::invalid_argument(format!(
            "API key {key} is not allowed to set imageConfig for this model."
        ))),
        Fault::EchoKey(EchoAt::Internal) => Err(ApiError::new(
            500,
            "INTERNAL",
            format!("Internal error while serving key={key} (Authorization: Bearer {key})."),
        )),
        Fault::Huge => Ok(huge()),
        Fault::Reset => Ok(reset()),
        Fault::Malformed => Ok((
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json; charset=UTF-8")],
            "{\"candidates\": [{\"content\": {\"parts\": [{\"inlineData\": ",
        )
            .into_response()),
        Fault::PromptBlocked => Ok(Json(GenerateContentResponse {
            prompt_feedback: Some(PromptFeedback {
                block_reason: Some(BlockReason::ProhibitedContent),
                block_reason_message: None,
            }),
            usage_metadata: Some(blocked_usage()),
            model_version: Some(model.id.to_owned()),
            response_id: Some(response_id(model.id)),
            ..Default::default()
        })
        .into_response()),
        _ => return None,
    })
}

/// A 200 whose body runs to 128 MiB without ever closing its JSON: a client must stop reading
/// at its own cap.
fn huge() -> Response {
    const CHUNK: usize = 1024 * 1024;
    let head = Bytes::from_static(b"{\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"");
    let filler = Bytes::from(vec![b'a'; CHUNK]);
    let chunks = std::iter::once(head).chain(std::iter::repeat_n(filler, 128));
    let body = futures_util::stream::iter(chunks.map(Ok::<_, std::io::Error>));
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json; charset=UTF-8")
        .body(Body::from_stream(body))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// An answer whose body breaks off: the client sees the connection drop.
fn reset() -> Response {
    let broken = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "reset by the simulator",
        ))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(broken))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

async fn delay(state: &SimState, prompt: &str) {
    let wait = match state.config.latency {
        Latency::None => return,
        Latency::Fixed(d) => d,
        Latency::Range(lo, hi) => {
            let span = hi.saturating_sub(lo).as_millis() as u64;
            lo + Duration::from_millis(if span == 0 {
                0
            } else {
                render::hash(prompt) % span
            })
        }
    };
    tokio::time::sleep(wait).await;
}

/// All user text, joined: where markers are looked for, and what a text image derives from.
fn prompt_text(request: &GenerateContentRequest) -> String {
    request
        .contents
        .iter()
        .filter(|c| c.role.as_deref() != Some("model"))
        .flat_map(|c| c.parts.iter().filter_map(|p| p.text.as_deref()))
        .collect::<Vec<_>>()
        .join("\n")
}

fn response_id(seed: &str) -> String {
    let h = render::hash(seed).to_le_bytes();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([h.as_slice(), h.as_slice()].concat())
        [..22]
        .to_owned()
}

/// A successful (or image-level failed) answer.
fn generate(
    model: &SimModel,
    request: &GenerateContentRequest,
    prompt: &str,
    fault: Option<Fault>,
    key: &str,
) -> GenerateContentResponse {
    let inputs: Vec<image::DynamicImage> = request
        .contents
        .iter()
        .filter(|c| c.role.as_deref() != Some("model"))
        .flat_map(|c| c.parts.iter().filter_map(|p| p.inline_data.as_ref()))
        .filter_map(|blob| {
            image::ImageReader::new(Cursor::new(&blob.data))
                .with_guessed_format()
                .ok()?
                .decode()
                .ok()
        })
        .collect();
    let image_config = request
        .generation_config
        .as_ref()
        .and_then(|g| g.image_config.clone())
        .unwrap_or_default();
    let ratio = image_config
        .aspect_ratio
        .clone()
        .unwrap_or_else(|| match inputs.first() {
            Some(img) => closest_ratio(model, img.width(), img.height()).to_owned(),
            None => "1:1".to_owned(),
        });
    let size = image_config
        .image_size
        .clone()
        .unwrap_or_else(|| "1K".to_owned());
    let (width, height) = model.output_size(&ratio, &size);

    let text_tokens = u32::try_from(prompt.len().div_ceil(4)).unwrap_or(u32::MAX);
    let image_tokens: u32 = inputs
        .iter()
        .map(|i| model.input_image_tokens(i.width(), i.height()))
        .sum();
    let prompt_tokens = text_tokens + image_tokens;
    let thoughts = if model.thinks() {
        180 + (render::hash(prompt) % 200) as u32
    } else {
        0
    };
    let signature = model.thinks().then(|| {
        base64::engine::general_purpose::STANDARD
            .encode(format!("sim-signature:{:016x}", render::hash(prompt)))
    });
    let usage = |output: u32, modality: &str| UsageMetadata {
        prompt_token_count: prompt_tokens,
        candidates_token_count: output,
        thoughts_token_count: thoughts,
        total_token_count: prompt_tokens + output + thoughts,
        prompt_tokens_details: vec![ModalityTokenCount {
            modality: "TEXT".into(),
            token_count: text_tokens,
        }]
        .into_iter()
        .chain((image_tokens > 0).then(|| ModalityTokenCount {
            modality: "IMAGE".into(),
            token_count: image_tokens,
        }))
        .collect(),
        candidates_tokens_details: if output > 0 {
            vec![ModalityTokenCount {
                modality: modality.into(),
                token_count: output,
            }]
        } else {
            Vec::new()
        },
    };
    let candidate = |parts: Vec<Part>, reason: FinishReason, message: Option<&str>| Candidate {
        content: Some(Content {
            role: Some("model".into()),
            parts,
        }),
        finish_reason: Some(reason),
        finish_message: message.map(str::to_owned),
        index: Some(0),
    };
    let base = |candidate: Candidate, usage: UsageMetadata| GenerateContentResponse {
        candidates: vec![candidate],
        prompt_feedback: None,
        usage_metadata: Some(usage),
        model_version: Some(model.id.to_owned()),
        response_id: Some(response_id(prompt)),
    };

    match fault {
        Some(Fault::ImageBlocked) => {
            return base(
                candidate(
                    Vec::new(),
                    FinishReason::ImageSafety,
                    Some(
                        "Unable to show the generated image. The image was filtered out because it violated Google's Generative AI Prohibited Use policy. You will not be charged for blocked images. Try rephrasing the prompt.",
                    ),
                ),
                usage(0, "IMAGE"),
            );
        }
        Some(Fault::EchoKey(EchoAt::Blocked)) => {
            let message = format!(
                "Unable to show the generated image for consumer api_key:{key}. Try rephrasing the prompt."
            );
            return base(
                candidate(Vec::new(), FinishReason::ImageSafety, Some(&message)),
                usage(0, "IMAGE"),
            );
        }
        Some(Fault::EchoKey(EchoAt::Text)) => {
            let text = format!("Your key is {key}; I will not draw that.");
            return base(
                candidate(vec![Part::text(text.clone())], FinishReason::Stop, None),
                usage(u32::try_from(text.len() / 4).unwrap_or(0), "TEXT"),
            );
        }
        Some(Fault::TextOnly) => {
            let text = "I can't draw that exactly, but here is a description: a quiet scene in soft light.";
            return base(
                candidate(vec![Part::text(text)], FinishReason::Stop, None),
                usage(u32::try_from(text.len() / 4).unwrap_or(0), "TEXT"),
            );
        }
        Some(Fault::NoImage) => {
            return base(
                candidate(Vec::new(), FinishReason::NoImage, None),
                usage(0, "IMAGE"),
            );
        }
        _ => {}
    }

    let pixels = match inputs.as_slice() {
        [source, mask, ..] if uses_mask_convention(prompt) => {
            render::edit_with_mask(source, mask, width, height)
        }
        [source, ..] => render::edit(source, width, height),
        [] => render::from_prompt(prompt, width, height),
    };
    let as_jpeg = model.answers_jpeg() || fault == Some(Fault::JpegAsPng);
    let bytes = if fault == Some(Fault::Bomb) {
        render::png_bomb(60_000, 60_000)
    } else {
        render::encode(&pixels, as_jpeg)
    };
    let declared = if as_jpeg && fault != Some(Fault::JpegAsPng) {
        "image/jpeg"
    } else {
        "image/png"
    };
    let mut part = Part::image(declared, bytes);
    part.thought_signature = signature;
    let mut parts = vec![part];
    if fault == Some(Fault::EchoKey(EchoAt::ImageText)) {
        parts.insert(0, Part::text(format!("Here you go (made with key {key}).")));
    }
    base(
        candidate(parts, FinishReason::Stop, None),
        usage(model.output_tokens(&size), "IMAGE"),
    )
}

/// Whether the prompt says the second image is a mask of the first (GemFlash's convention).
fn uses_mask_convention(prompt: &str) -> bool {
    prompt.contains("The second image is a mask")
}

/// A streamed answer: the image in one event, then the finish reason and usage in the last.
fn stream(
    response: GenerateContentResponse,
    model: &SimModel,
    sse: bool,
    fail_midway: bool,
) -> Response {
    let mut first = response.clone();
    let mut last = response;
    if let Some(c) = first.candidates.first_mut() {
        c.finish_reason = None;
        c.finish_message = None;
    }
    first.usage_metadata = None;
    if let Some(c) = last.candidates.first_mut() {
        c.content = Some(Content {
            role: Some("model".into()),
            parts: vec![Part::text("")],
        });
    }
    let mut events: Vec<serde_json::Value> = vec![serde_json::to_value(&first).unwrap_or_default()];
    if fail_midway {
        events.push(ApiError::internal().body());
    } else {
        events.push(serde_json::to_value(&last).unwrap_or_default());
    }
    let _ = model;
    if !sse {
        return Json(events).into_response();
    }
    let mut body = Vec::new();
    for event in events {
        body.extend_from_slice(b"data: ");
        body.extend_from_slice(event.to_string().as_bytes());
        body.extend_from_slice(b"\r\n\r\n");
    }
    ([(header::CONTENT_TYPE, "text/event-stream")], body).into_response()
}
