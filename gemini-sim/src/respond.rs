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
use futures_util::StreamExt;
use gemini::wire::{
    BlockReason, Candidate, Content, FinishReason, GenerateContentRequest, GenerateContentResponse,
    GroundingChunk, GroundingMetadata, ModalityTokenCount, Part, PromptFeedback, SearchEntryPoint,
    UsageMetadata, WebSource,
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

/// The caller's key, from the header (or `?key=`), if the simulator accepts it.
fn authenticate(
    state: &SimState,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
) -> Result<String, ApiError> {
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
    Ok(key)
}

/// A model that is listed but makes no images: the real list holds many such, and a client
/// must pick the ones that answer `generateContent`.
const EMBEDDING_MODEL: &str = "gemini-embedding-001";

/// `models.list`: the models this key sees, `pageSize` at a time (default 50, at most 1000),
/// with an opaque `nextPageToken` while more remain.
pub(crate) fn list_models(
    state: &SimState,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
) -> Response {
    let listed = || -> Result<Response, ApiError> {
        authenticate(state, query, headers)?;
        let size = match query.get("pageSize") {
            None => 50,
            Some(text) => text
                .parse::<usize>()
                .map_err(|_| {
                    ApiError::invalid_argument(format!(
                        "Invalid value at 'page_size' (TYPE_INT32), \"{text}\""
                    ))
                })?
                .clamp(1, 1000),
        };
        let start = match query.get("pageToken").filter(|t| !t.is_empty()) {
            None => 0,
            Some(token) => page_offset(token)
                .ok_or_else(|| ApiError::invalid_argument("Invalid page token."))?,
        };
        let mut all: Vec<serde_json::Value> = models::MODELS
            .iter()
            .filter(|m| state.config.lists(m.id))
            .map(describe)
            .collect();
        all.push(serde_json::json!({
            "name": format!("models/{EMBEDDING_MODEL}"),
            "version": "001",
            "displayName": "Gemini Embedding 001",
            "inputTokenLimit": 2048,
            "outputTokenLimit": 1,
            "supportedGenerationMethods": ["embedContent", "countTextTokens", "countTokens"],
        }));
        let end = (start + size).min(all.len());
        let page: Vec<serde_json::Value> = all.get(start..end).unwrap_or_default().to_vec();
        let mut body = serde_json::json!({ "models": page });
        if end < all.len() {
            body["nextPageToken"] = page_token(end).into();
        }
        Ok(Json(body).into_response())
    };
    listed().unwrap_or_else(IntoResponse::into_response)
}

/// `models.get`: one model, or 404 when it is retired or unknown.
pub(crate) fn get_model(
    state: &SimState,
    name: &str,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
) -> Response {
    let found = || -> Result<Response, ApiError> {
        authenticate(state, query, headers)?;
        let id = name.strip_prefix("models/").unwrap_or(name);
        match models::find(id) {
            Some(model) if !state.config.is_retired(id) => {
                Ok(Json(describe(model)).into_response())
            }
            _ => Err(ApiError::new(
                404,
                "NOT_FOUND",
                format!("models/{id} is not found for API version v1beta."),
            )),
        }
    };
    found().unwrap_or_else(IntoResponse::into_response)
}

fn describe(model: &SimModel) -> serde_json::Value {
    serde_json::json!({
        "name": format!("models/{}", model.id),
        "version": "001",
        "displayName": model.id,
        "description": "An image generation and editing model (offline simulator).",
        "inputTokenLimit": 131_072,
        "outputTokenLimit": 32_768,
        "supportedGenerationMethods": ["generateContent", "countTokens", "streamGenerateContent"],
        "thinking": model.thinks(),
    })
}

/// Page tokens are opaque to clients; here they carry the next offset.
fn page_token(offset: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("sim-page:{offset}"))
}

fn page_offset(token: &str) -> Option<usize> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()?;
    String::from_utf8(raw)
        .ok()?
        .strip_prefix("sim-page:")?
        .parse()
        .ok()
}

async fn answer(
    state: &SimState,
    call: &str,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Response, ApiError> {
    let key = authenticate(state, query, headers)?;

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
        Some(m) if !state.config.is_retired(model_id) => m,
        _ => return Err(ApiError::model_not_found(model_id)),
    };

    let request = validate::request(body, model)?;
    *state.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(seen(&request));
    let prompt = prompt_text(&request);
    let header_fault = headers
        .get("x-gemini-sim-fault")
        .and_then(|v| v.to_str().ok());
    let fault = Fault::requested(&prompt, header_fault).map_err(ApiError::invalid_argument)?;

    // The latency is the whole time to an answer, as a client measures it: the answer is made
    // while it runs, and sent when it is over.
    let answer_at = tokio::time::Instant::now() + latency(state, &prompt);
    if fault.is_some() {
        tokio::time::sleep_until(answer_at).await;
    }
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

    let response = generate(state, model, &request, &prompt, fault, &key);
    let response = match action {
        Action::Generate => Json(response).into_response(),
        Action::Stream { sse } => stream(response, model, sse, fault == Some(Fault::StreamError)),
    };
    tokio::time::sleep_until(answer_at).await;
    Ok(response)
}

/// What `request` sends the model: its last user turn's image sizes (from their headers) and
/// the aspect ratio asked for.
fn seen(request: &GenerateContentRequest) -> crate::SeenRequest {
    let images = last_user_turn(request)
        .into_iter()
        .flat_map(|c| c.parts.iter().filter_map(|p| p.inline_data.as_ref()))
        .filter_map(|blob| {
            image::ImageReader::new(Cursor::new(&blob.data))
                .with_guessed_format()
                .ok()?
                .into_dimensions()
                .ok()
        })
        .collect();
    crate::SeenRequest {
        images,
        aspect_ratio: request
            .generation_config
            .as_ref()
            .and_then(|g| g.image_config.as_ref())
            .and_then(|c| c.aspect_ratio.clone()),
    }
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

/// How long the call takes to answer, from its arrival.
fn latency(state: &SimState, prompt: &str) -> Duration {
    match state.config.latency {
        Latency::None => Duration::ZERO,
        Latency::Fixed(d) => d,
        Latency::Range(lo, hi) => {
            let span = hi.saturating_sub(lo).as_millis() as u64;
            lo + Duration::from_millis(if span == 0 {
                0
            } else {
                render::hash(prompt) % span
            })
        }
    }
}

/// The text of the last user turn: what this call asks for (earlier turns are context), where
/// markers are looked for, and what a text image derives from.
fn prompt_text(request: &GenerateContentRequest) -> String {
    last_user_turn(request)
        .map(|c| {
            c.parts
                .iter()
                .filter_map(|p| p.text.as_deref())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

fn last_user_turn(request: &GenerateContentRequest) -> Option<&Content> {
    request
        .contents
        .iter()
        .rev()
        .find(|c| c.role.as_deref() != Some("model"))
}

/// Whether a signature is one this simulator issued (see [`signature`]).
fn is_our_signature(signature: &str) -> bool {
    base64::engine::general_purpose::STANDARD
        .decode(signature)
        .ok()
        .and_then(|raw| String::from_utf8(raw).ok())
        .is_some_and(|text| text.starts_with("sim-signature:"))
}

/// The signature the simulator puts on the parts of an answer: opaque to clients.
fn signature(seed: &str) -> String {
    base64::engine::general_purpose::STANDARD
        .encode(format!("sim-signature:{:016x}", render::hash(seed)))
}

/// The earlier model turns the model keeps as context: each with its signatures back (a model
/// turn without them is dropped from the context, as Pro does; the 3.1 Flash family refuses
/// the request instead, in validation). Models without signatures keep every turn.
fn context_turns(model: &SimModel, request: &GenerateContentRequest) -> usize {
    request
        .contents
        .iter()
        .filter(|c| c.role.as_deref() == Some("model"))
        .filter(|c| {
            !model.thinks()
                || c.parts
                    .iter()
                    .filter(|p| p.inline_data.is_some() && !p.is_thought())
                    .all(|p| p.thought_signature.as_deref().is_some_and(is_our_signature))
        })
        .count()
}

/// The image of the last model turn in context, for a follow-up that sends no image of its own
/// ("now make it blue").
fn last_model_image(request: &GenerateContentRequest) -> Option<image::DynamicImage> {
    request
        .contents
        .iter()
        .rev()
        .filter(|c| c.role.as_deref() == Some("model"))
        .flat_map(|c| c.parts.iter().rev())
        .filter(|p| !p.is_thought())
        .find_map(|p| decode(&p.inline_data.as_ref()?.data))
}

fn decode(bytes: &[u8]) -> Option<image::DynamicImage> {
    image::ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .ok()?
        .decode()
        .ok()
}

/// How hard the model thinks on this call, and what its thinking costs in tokens.
fn thinking(
    model: &SimModel,
    request: &GenerateContentRequest,
    prompt: &str,
) -> (Option<&'static str>, u32) {
    if !model.thinks() {
        return (None, 0);
    }
    let asked = request
        .generation_config
        .as_ref()
        .and_then(|g| g.thinking_config.as_ref())
        .and_then(|t| t.thinking_level.as_deref());
    let (levels, default) = model.thinking_levels();
    let level = asked
        .and_then(|a| levels.iter().copied().find(|l| l.eq_ignore_ascii_case(a)))
        .or(default);
    let spread = (render::hash(prompt) % 200) as u32;
    let tokens = match level {
        Some("minimal") => 40 + spread / 4,
        Some("high") => 600 + spread,
        _ => 180 + spread,
    };
    (level, tokens)
}

/// The thought summaries a thinking model streams before its image, when asked for them.
fn thought_summaries(prompt: &str, level: Option<&str>) -> Vec<String> {
    let subject: String = prompt
        .rsplit("The edit: ")
        .next()
        .unwrap_or(prompt)
        .split_whitespace()
        .take(8)
        .collect::<Vec<_>>()
        .join(" ");
    let mut thoughts = vec![
        format!("**Reading the request**\n\nI'm working out what \"{subject}\" should look like."),
        "**Planning the composition**\n\nI'm settling the layout, the light and the colours before I draw.".to_owned(),
    ];
    if level == Some("high") {
        thoughts.push(
            "**Checking the details**\n\nI'm comparing a first draft against the request and refining it.".to_owned(),
        );
    }
    thoughts
}

/// What a grounded answer reports: the searches, the pages, and the search entry point.
fn grounding(prompt: &str) -> GroundingMetadata {
    let words: Vec<&str> = prompt
        .rsplit("The edit: ")
        .next()
        .unwrap_or(prompt)
        .split_whitespace()
        .filter(|w| !w.starts_with("[sim:"))
        .take(6)
        .collect();
    let query = words.join(" ");
    let slug: String = query
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let escaped = query
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    let encoded: String = query
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => (b as char).to_string(),
            b' ' => "+".to_owned(),
            other => format!("%{other:02X}"),
        })
        .collect();
    GroundingMetadata {
        web_search_queries: vec![query.clone()],
        image_search_queries: Vec::new(),
        grounding_chunks: vec![
            GroundingChunk {
                web: Some(WebSource {
                    uri: Some(format!("https://encyclopedia.example/wiki/{slug}")),
                    title: Some("encyclopedia.example".into()),
                }),
            },
            GroundingChunk {
                web: Some(WebSource {
                    uri: Some(format!("https://news.example/articles/{slug}")),
                    title: Some("news.example".into()),
                }),
            },
        ],
        search_entry_point: Some(SearchEntryPoint {
            rendered_content: Some(format!(
                "<style>\n.container {{ align-items: center; border-radius: 8px; display: flex; font-family: Google Sans, Roboto, sans-serif; font-size: 14px; padding: 4px 12px; }}\n.chip {{ border: solid 1px #dadce0; border-radius: 16px; color: #5e5e5e; display: inline-block; margin: 0 8px; padding: 5px 16px; text-decoration: none; }}\n</style>\n<div class=\"container\"><svg class=\"logo\" width=\"20\" height=\"20\" viewBox=\"0 0 48 48\"><path fill=\"#4285F4\" d=\"M24 9.5c3.5 0 6.6 1.2 9.1 3.6l6.8-6.8C35.9 2.4 30.4 0 24 0 14.6 0 6.6 5.4 2.7 13.3l7.9 6.2C12.5 13.6 17.8 9.5 24 9.5z\"></path></svg><div class=\"carousel\"><a class=\"chip\" href=\"https://www.google.com/search?q={encoded}&amp;client=app-vertex-grounding\">{escaped}</a></div></div>\n"
            )),
        }),
    }
}

fn response_id(seed: &str) -> String {
    let h = render::hash(seed).to_le_bytes();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([h.as_slice(), h.as_slice()].concat())
        [..22]
        .to_owned()
}

/// A successful (or image-level failed) answer.
fn generate(
    state: &SimState,
    model: &SimModel,
    request: &GenerateContentRequest,
    prompt: &str,
    fault: Option<Fault>,
    key: &str,
) -> GenerateContentResponse {
    // The images of this turn; a follow-up that sends none edits the model's last image.
    let mut inputs: Vec<image::DynamicImage> = last_user_turn(request)
        .into_iter()
        .flat_map(|c| c.parts.iter().filter_map(|p| p.inline_data.as_ref()))
        .filter_map(|blob| decode(&blob.data))
        .collect();
    let context = context_turns(model, request);
    if inputs.is_empty()
        && context > 0
        && let Some(previous) = last_model_image(request)
    {
        inputs.push(previous);
    }
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

    // Every turn is read, earlier ones included: the prompt bills them all.
    let all_text: usize = request
        .contents
        .iter()
        .flat_map(|c| c.parts.iter().filter_map(|p| p.text.as_deref()))
        .map(str::len)
        .sum();
    let text_tokens = u32::try_from(all_text.div_ceil(4)).unwrap_or(u32::MAX);
    let image_tokens: u32 = request
        .contents
        .iter()
        .flat_map(|c| c.parts.iter())
        .filter(|p| p.inline_data.is_some() && !p.is_thought())
        .count() as u32
        * inputs
            .first()
            .map_or(1120, |i| model.input_image_tokens(i.width(), i.height()));
    let prompt_tokens = text_tokens + image_tokens;
    let (level, thoughts) = thinking(model, request, prompt);
    let include_thoughts = model.thinks()
        && request
            .generation_config
            .as_ref()
            .and_then(|g| g.thinking_config.as_ref())
            .and_then(|t| t.include_thoughts)
            == Some(true);
    let grounded = request.tools.iter().any(|t| t.google_search.is_some());
    let signature = model.thinks().then(|| signature(prompt));
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
        grounding_metadata: grounded.then(|| grounding(prompt)),
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
            render::edit_with_mask(source, mask, width, height, context)
        }
        [source, ..] => render::edit(source, width, height, context),
        [] if state.config.grain => image::RgbImage::new(1, 1),
        [] => render::from_prompt(prompt, width, height),
    };
    let as_jpeg = model.answers_jpeg() || fault == Some(Fault::JpegAsPng);
    let encode = |pixels: &image::RgbImage| -> bytes::Bytes {
        if fault == Some(Fault::Bomb) {
            render::png_bomb(60_000, 60_000).into()
        } else if fault == Some(Fault::Metadata) {
            render::with_metadata(&render::encode(pixels, as_jpeg)).into()
        } else if state.config.grain && inputs.is_empty() {
            grainy(state, prompt, width, height, as_jpeg)
        } else {
            render::encode(pixels, as_jpeg).into()
        }
    };
    let declared = if as_jpeg && fault != Some(Fault::JpegAsPng) {
        "image/jpeg"
    } else {
        "image/png"
    };
    let mut parts = Vec::new();
    if include_thoughts {
        for text in thought_summaries(prompt, level) {
            parts.push(Part {
                thought: Some(true),
                ..Part::text(text)
            });
        }
        if level == Some("high") {
            // A draft the model shows while thinking: a thought, not the answer.
            let draft =
                image::imageops::thumbnail(&pixels, (width / 4).max(1), (height / 4).max(1));
            parts.push(Part {
                thought: Some(true),
                ..Part::image(declared, encode(&draft))
            });
        }
    }
    if context > 0 {
        parts.push(Part::text(format!(
            "Continuing from the {context} earlier turn{} of this conversation.",
            if context == 1 { "" } else { "s" }
        )));
    }
    if fault == Some(Fault::EchoKey(EchoAt::ImageText)) {
        parts.push(Part::text(format!("Here you go (made with key {key}).")));
    }
    let mut part = Part::image(declared, encode(&pixels));
    part.thought_signature = signature;
    parts.push(part);
    base(
        candidate(parts, FinishReason::Stop, None),
        usage(model.output_tokens(&size), "IMAGE"),
    )
}

/// How many photo-sized generations are kept per size.
const GRAINY: usize = 16;

/// One of the photo-sized generations kept: a PNG written afresh for each call (so no two
/// calls answer the same file, as no two real generations do), or a JPEG served as made.
#[derive(Debug)]
pub(crate) enum Grainy {
    Png(render::RowPng),
    Jpeg(bytes::Bytes),
}

/// A photo-sized generation of `width`×`height`: one of [`GRAINY`] made once and served in
/// turn.
pub(crate) fn grainy(
    state: &SimState,
    prompt: &str,
    width: u32,
    height: u32,
    jpeg: bool,
) -> bytes::Bytes {
    let call = state.calls.load(std::sync::atomic::Ordering::Relaxed);
    let turn = call as usize % GRAINY;
    let made = {
        let mut made = state.grainy.lock().unwrap_or_else(|e| e.into_inner());
        let pool = made.entry((width, height, jpeg)).or_default();
        while pool.len() <= turn {
            let seed = pool.len() as u64;
            let pixels = render::with_grain(render::from_prompt(prompt, width, height), seed);
            pool.push(std::sync::Arc::new(if jpeg {
                Grainy::Jpeg(render::encode(&pixels, true).into())
            } else {
                Grainy::Png(render::RowPng::new(&pixels))
            }));
        }
        pool[turn].clone()
    };
    match made.as_ref() {
        Grainy::Png(png) => png.copy(call).into(),
        // A shared handle: no copy of the image per call.
        Grainy::Jpeg(bytes) => bytes.clone(),
    }
}

/// Whether the prompt says the second image is a mask of the first (GemFlash's convention).
fn uses_mask_convention(prompt: &str) -> bool {
    prompt.contains("The second image is a mask")
}

/// A streamed answer: each part in an event of its own as it is made (thought summaries
/// first, then any words, then the image), and a last event with the finish reason, usage and
/// any grounding.
fn stream(
    response: GenerateContentResponse,
    model: &SimModel,
    sse: bool,
    fail_midway: bool,
) -> Response {
    let _ = model;
    let mut events: Vec<serde_json::Value> = Vec::new();
    let candidate = response.candidates.first().cloned().unwrap_or_default();
    let parts = candidate
        .content
        .as_ref()
        .map(|c| c.parts.clone())
        .unwrap_or_default();
    for part in parts {
        let mut event = GenerateContentResponse {
            candidates: vec![Candidate {
                content: Some(Content {
                    role: Some("model".into()),
                    parts: vec![part],
                }),
                index: Some(0),
                ..Default::default()
            }],
            model_version: response.model_version.clone(),
            response_id: response.response_id.clone(),
            ..Default::default()
        };
        event.prompt_feedback = None;
        events.push(serde_json::to_value(&event).unwrap_or_default());
    }
    if fail_midway {
        events.push(ApiError::internal().body());
    } else {
        let mut last = response;
        if let Some(c) = last.candidates.first_mut() {
            c.content = Some(Content {
                role: Some("model".into()),
                parts: vec![Part::text("")],
            });
        }
        events.push(serde_json::to_value(&last).unwrap_or_default());
    }
    if !sse {
        return Json(events).into_response();
    }
    // Each event is sent as it is "made": a thought summary takes a moment, as it does when a
    // real model thinks, so a client that shows them as they arrive can be seen doing so.
    let frames = events.into_iter().map(|event| {
        let thought = event
            .pointer("/candidates/0/content/parts/0/thought")
            .and_then(serde_json::Value::as_bool)
            == Some(true);
        let mut frame = Vec::new();
        frame.extend_from_slice(b"data: ");
        frame.extend_from_slice(event.to_string().as_bytes());
        frame.extend_from_slice(b"\r\n\r\n");
        (frame, thought)
    });
    let body = futures_util::stream::iter(frames).then(|(frame, thought)| async move {
        if thought {
            tokio::time::sleep(THOUGHT_PAUSE).await;
        }
        Ok::<_, std::io::Error>(Bytes::from(frame))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/event-stream")
        .body(Body::from_stream(body))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// How long each streamed thought summary takes to "think".
const THOUGHT_PAUSE: Duration = Duration::from_millis(300);
