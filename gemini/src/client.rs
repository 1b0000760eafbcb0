//! The HTTP client for Gemini's `generateContent` and `streamGenerateContent`.
//!
//! The key travels only in the `x-goog-api-key` header (marked sensitive), never in a URL, a
//! log line or an error. Redirects are not followed. Every answer is read with a size cap that
//! still admits a 4K image. Each attempt has its own timeout, and all attempts together an
//! overall deadline; retries follow [`RetryPolicy`]. Dropping the returned future cancels the
//! call: nothing is retried after that.

use std::{collections::HashMap, time::Duration};

use futures_util::StreamExt;
use reqwest::{
    StatusCode,
    header::{CONTENT_TYPE, HeaderMap, HeaderValue},
};
use secrecy::{ExposeSecret, SecretString};
use tokio::time::{Instant, sleep, timeout};
use url::Url;

use crate::{
    error::GeminiError,
    generation::{Generation, interpret, merge},
    retry::RetryPolicy,
    scrub::Scrubber,
    sse::SseDecoder,
    usage::{Pricing, Usage},
    wire::{ErrorEnvelope, GenerateContentRequest, GenerateContentResponse},
};

/// How to reach Gemini and how patient to be.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// E.g. `https://generativelanguage.googleapis.com`.
    pub base_url: Url,
    pub api_key: SecretString,
    pub connect_timeout: Duration,
    /// The longest one attempt may take (4K generations can take minutes).
    pub attempt_timeout: Duration,
    /// The longest a call may take, retries and waits included.
    pub deadline: Duration,
    /// The largest answer (or stream event) accepted, in bytes.
    pub max_response_bytes: usize,
    pub retry: RetryPolicy,
    /// Prices by model id, to put a cost on each generation.
    pub prices: HashMap<String, Pricing>,
}

impl ClientConfig {
    pub fn new(base_url: Url, api_key: SecretString) -> Self {
        Self {
            base_url,
            api_key,
            connect_timeout: Duration::from_secs(10),
            attempt_timeout: Duration::from_secs(180),
            deadline: Duration::from_secs(300),
            // A 4K image is about 20-40 MB of base64; leave room.
            max_response_bytes: 96 * 1024 * 1024,
            retry: RetryPolicy::default(),
            prices: HashMap::new(),
        }
    }
}

/// A Gemini API client. Cheap to clone; clones share one connection pool.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    config: std::sync::Arc<ClientConfig>,
    /// Removes the key (and anything key-shaped) from every upstream text the client keeps.
    scrubber: Scrubber,
}

/// Limits of one call, tighter than the client's own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallLimits {
    /// The largest answer (or stream event) this call accepts; `None` is the client's
    /// [`ClientConfig::max_response_bytes`]. A caller that knows how large an answer can be
    /// (from the image size it asked for) sets it, so a hostile or broken upstream cannot make
    /// it hold more.
    pub max_response_bytes: Option<usize>,
}

/// Which endpoint an attempt calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Generate,
    Stream,
}

impl Client {
    pub fn new(config: ClientConfig) -> Result<Self, GeminiError> {
        let mut key = HeaderValue::from_str(config.api_key.expose_secret())
            .map_err(|_| GeminiError::InvalidKey)?;
        key.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert("x-goog-api-key", key);
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.connect_timeout)
            .min_tls_version(reqwest::tls::Version::TLS_1_2)
            .https_only(config.base_url.scheme() == "https")
            .user_agent(concat!("gemflash/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| GeminiError::Network {
                detail: e.without_url().to_string(),
            })?;
        let scrubber = Scrubber::new([config.api_key.clone()]);
        Ok(Self {
            http,
            config: std::sync::Arc::new(config),
            scrubber,
        })
    }

    /// What `usage` costs on `model`, when its prices are known.
    pub fn cost(&self, model: &str, usage: &Usage) -> Option<f64> {
        self.config.prices.get(model).map(|p| usage.cost_usd(p))
    }

    /// The largest answer a call accepts by default.
    pub fn max_response_bytes(&self) -> usize {
        self.config.max_response_bytes
    }

    /// `generateContent`: one answer with the whole result.
    pub async fn generate_content(
        &self,
        model: &str,
        request: &GenerateContentRequest,
    ) -> Result<Generation, GeminiError> {
        self.generate_content_with(model, request, CallLimits::default())
            .await
    }

    /// [`Client::generate_content`] within `limits`.
    pub async fn generate_content_with(
        &self,
        model: &str,
        request: &GenerateContentRequest,
        limits: CallLimits,
    ) -> Result<Generation, GeminiError> {
        self.with_retries(model, request, Method::Generate, limits, &mut |_| {})
            .await
    }

    /// `streamGenerateContent?alt=sse`: `on_event` sees each event as it arrives (for
    /// progress); the result is the merged whole. An error event mid-stream is an error.
    pub async fn stream_generate_content(
        &self,
        model: &str,
        request: &GenerateContentRequest,
        mut on_event: impl FnMut(&GenerateContentResponse) + Send,
    ) -> Result<Generation, GeminiError> {
        self.with_retries(
            model,
            request,
            Method::Stream,
            CallLimits::default(),
            &mut on_event,
        )
        .await
    }

    async fn with_retries(
        &self,
        model: &str,
        request: &GenerateContentRequest,
        method: Method,
        limits: CallLimits,
        on_event: &mut (dyn FnMut(&GenerateContentResponse) + Send),
    ) -> Result<Generation, GeminiError> {
        let scrub = |text: &str| self.scrubber.scrub(text);
        self.retrying(model, request, method, limits, on_event)
            .await
            .map(|mut generation| {
                generation.text = generation.text.as_deref().map(scrub);
                generation
            })
            .map_err(|error| error.scrubbed(scrub))
    }

    async fn retrying(
        &self,
        model: &str,
        request: &GenerateContentRequest,
        method: Method,
        limits: CallLimits,
        on_event: &mut (dyn FnMut(&GenerateContentResponse) + Send),
    ) -> Result<Generation, GeminiError> {
        let url = self.endpoint(model, method)?;
        // Encoded once, into a buffer sized for it (growing by doubling would hold two copies
        // of a large request at once): every attempt sends the same shared bytes.
        let mut encoded = Vec::with_capacity(encoded_size(request));
        serde_json::to_writer(&mut encoded, request).map_err(|e| GeminiError::BadRequest {
            detail: format!("cannot encode the request: {e}"),
        })?;
        let body = bytes::Bytes::from(encoded);
        let max_response = limits
            .max_response_bytes
            .map_or(self.config.max_response_bytes, |cap| {
                cap.min(self.config.max_response_bytes)
            });
        let policy = &self.config.retry;
        let deadline = Instant::now() + self.config.deadline;
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(GeminiError::Timeout);
            }
            let budget = remaining.min(self.config.attempt_timeout);
            let started = Instant::now();
            let outcome = match timeout(
                budget,
                self.attempt(&url, &body, model, method, max_response, on_event),
            )
            .await
            {
                Ok(outcome) => outcome,
                Err(_) => Err(GeminiError::Timeout),
            };
            let error = match outcome {
                Ok(mut generation) => {
                    generation.attempts = attempt;
                    generation.cost_usd = self.cost(model, &generation.usage);
                    return Ok(generation);
                }
                Err(e) => e,
            };
            tracing::debug!(
                kind = error.kind(),
                attempt,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "gemini attempt failed"
            );
            if !error.is_retryable() || attempt >= policy.max_attempts {
                return Err(error);
            }
            let delay = policy.delay(attempt - 1, &error);
            if Instant::now() + delay >= deadline {
                // Waiting as long as asked would pass the deadline: give up now, honestly.
                return Err(error);
            }
            tracing::info!(
                kind = error.kind(),
                attempt,
                delay_ms = delay.as_millis() as u64,
                "retrying gemini call"
            );
            sleep(delay).await;
        }
    }

    fn endpoint(&self, model: &str, method: Method) -> Result<Url, GeminiError> {
        let id = model.strip_prefix("models/").unwrap_or(model);
        let valid = !id.is_empty()
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c));
        if !valid {
            return Err(GeminiError::ModelNotFound {
                model: model.to_owned(),
            });
        }
        let action = match method {
            Method::Generate => "generateContent",
            Method::Stream => "streamGenerateContent?alt=sse",
        };
        let base = self.config.base_url.as_str().trim_end_matches('/');
        Url::parse(&format!("{base}/v1beta/models/{id}:{action}")).map_err(|e| {
            GeminiError::BadRequest {
                detail: format!("bad endpoint: {e}"),
            }
        })
    }

    async fn attempt(
        &self,
        url: &Url,
        body: &bytes::Bytes,
        model: &str,
        method: Method,
        max_response: usize,
        on_event: &mut (dyn FnMut(&GenerateContentResponse) + Send),
    ) -> Result<Generation, GeminiError> {
        let response = self
            .http
            .post(url.clone())
            .header(CONTENT_TYPE, "application/json")
            .body(body.clone())
            .send()
            .await
            .map_err(network_error)?;
        let status = response.status();
        if status.is_redirection() {
            return Err(GeminiError::Malformed {
                detail: format!("unexpected redirect (HTTP {status})"),
            });
        }
        if !status.is_success() {
            let body = read_capped(response, 1024 * 1024).await?;
            return Err(GeminiError::from_http(status.as_u16(), &body, model));
        }
        match method {
            Method::Generate => {
                let body = read_capped(response, max_response).await?;
                let parsed: GenerateContentResponse =
                    serde_json::from_slice(&body).map_err(|e| GeminiError::Malformed {
                        detail: format!("invalid JSON: {e}"),
                    })?;
                interpret(parsed)
            }
            Method::Stream => {
                self.read_stream(response, status, model, max_response, on_event)
                    .await
            }
        }
    }

    async fn read_stream(
        &self,
        response: reqwest::Response,
        status: StatusCode,
        model: &str,
        max_response: usize,
        on_event: &mut (dyn FnMut(&GenerateContentResponse) + Send),
    ) -> Result<Generation, GeminiError> {
        let mut decoder = SseDecoder::new(max_response);
        let mut events = Vec::new();
        let mut chunks = response.bytes_stream();
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk.map_err(network_error)?;
            let payloads = decoder.push(&chunk).map_err(|e| GeminiError::Malformed {
                detail: e.to_string(),
            })?;
            for payload in payloads {
                let event = parse_event(&payload, status.as_u16(), model)?;
                on_event(&event);
                events.push(event);
            }
        }
        if let Some(payload) = decoder.finish() {
            let event = parse_event(&payload, status.as_u16(), model)?;
            on_event(&event);
            events.push(event);
        }
        if events.is_empty() {
            return Err(GeminiError::Malformed {
                detail: "the stream ended without an event".into(),
            });
        }
        interpret(merge(events))
    }
}

/// About how long a request's JSON is: its inline data as base64, its text, and room for the
/// rest.
fn encoded_size(request: &GenerateContentRequest) -> usize {
    let parts = request.contents.iter().flat_map(|c| c.parts.iter());
    let payload: usize = parts
        .map(|p| {
            p.inline_data
                .as_ref()
                .map_or(0, |d| d.data.len().div_ceil(3) * 4)
                + p.text.as_ref().map_or(0, |t| t.len() * 2)
                + p.thought_signature.as_ref().map_or(0, String::len)
                + 128
        })
        .sum();
    payload + 4096
}

/// One stream event: an answer chunk, or an error reported mid-stream.
fn parse_event(
    payload: &[u8],
    status: u16,
    model: &str,
) -> Result<GenerateContentResponse, GeminiError> {
    let event: GenerateContentResponse =
        serde_json::from_slice(payload).map_err(|e| GeminiError::Malformed {
            detail: format!("invalid stream event: {e}"),
        })?;
    let empty = event.candidates.is_empty()
        && event.prompt_feedback.is_none()
        && event.usage_metadata.is_none();
    if empty && let Ok(envelope) = serde_json::from_slice::<ErrorEnvelope>(payload) {
        return Err(GeminiError::from_error_body(status, &envelope.error, model));
    }
    Ok(event)
}

/// Reads a whole body, refusing one larger than `cap` bytes.
async fn read_capped(response: reqwest::Response, cap: usize) -> Result<Vec<u8>, GeminiError> {
    if response.content_length().is_some_and(|n| n > cap as u64) {
        return Err(GeminiError::Malformed {
            detail: format!("the answer is larger than {cap} bytes"),
        });
    }
    let mut body = Vec::with_capacity(response.content_length().map_or(0, |n| n as usize));
    let mut chunks = response.bytes_stream();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(network_error)?;
        if body.len() + chunk.len() > cap {
            return Err(GeminiError::Malformed {
                detail: format!("the answer is larger than {cap} bytes"),
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A transport failure, described without its URL.
fn network_error(e: reqwest::Error) -> GeminiError {
    if e.is_timeout() {
        return GeminiError::Timeout;
    }
    let detail = if e.is_connect() {
        "the connection failed".to_owned()
    } else if e.is_body() || e.is_decode() {
        "the connection broke while reading the answer".to_owned()
    } else {
        e.without_url().to_string()
    };
    GeminiError::Network { detail }
}
