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
    wire::{
        ErrorEnvelope, GenerateContentRequest, GenerateContentResponse, ListModelsResponse,
        ModelDescription,
    },
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

/// What happens during a call, for a caller that shows its progress.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CallEvent<'a> {
    /// An attempt begins (the first is 1, of at most `of`).
    Attempt { attempt: u32, of: u32 },
    /// Attempt `attempt` failed in a way worth retrying (`kind` is the error's
    /// [`GeminiError::kind`]); the next begins after `wait`.
    Retrying {
        attempt: u32,
        of: u32,
        wait: Duration,
        kind: &'static str,
    },
    /// A thought summary the model streamed while it worked (scrubbed, as all upstream text).
    Thought(&'a str),
}

/// How one call is made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallOptions {
    pub limits: CallLimits,
    /// Use `streamGenerateContent` (SSE), so thought summaries arrive as they are made.
    pub stream: bool,
}

/// What an attempt reports upward: the caller's events, or a raw stream event.
enum Observed<'a> {
    Call(CallEvent<'a>),
    Event(&'a GenerateContentResponse),
}

/// The most pages of `models.list` read (at 100 a page, far more models than Gemini has).
const MAX_MODEL_PAGES: usize = 20;

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
            &mut |observed| {
                if let Observed::Event(event) = observed {
                    on_event(event);
                }
            },
        )
        .await
    }

    /// A call as `options` say, telling `observer` about each attempt, each retry and each
    /// thought summary as they happen.
    pub async fn call(
        &self,
        model: &str,
        request: &GenerateContentRequest,
        options: CallOptions,
        observer: &mut (dyn FnMut(CallEvent<'_>) + Send),
    ) -> Result<Generation, GeminiError> {
        let method = if options.stream {
            Method::Stream
        } else {
            Method::Generate
        };
        let scrubber = self.scrubber.clone();
        self.with_retries(
            model,
            request,
            method,
            options.limits,
            &mut |observed| match observed {
                Observed::Call(event) => observer(event),
                Observed::Event(event) => {
                    let thoughts = event
                        .candidates
                        .iter()
                        .filter_map(|c| c.content.as_ref())
                        .flat_map(|c| c.parts.iter())
                        .filter(|p| p.is_thought())
                        .filter_map(|p| p.text.as_deref());
                    for thought in thoughts {
                        observer(CallEvent::Thought(&scrubber.scrub(thought)));
                    }
                }
            },
        )
        .await
    }

    /// `models.list`: every model the key can see, all pages read (at most
    /// [`MAX_MODEL_PAGES`]). Not retried: whoever asks asks again later.
    pub async fn list_models(&self) -> Result<Vec<ModelDescription>, GeminiError> {
        let scrub = |text: &str| self.scrubber.scrub(text);
        self.list_model_pages()
            .await
            .map_err(|error| error.scrubbed(scrub))
    }

    async fn list_model_pages(&self) -> Result<Vec<ModelDescription>, GeminiError> {
        let base = self.config.base_url.as_str().trim_end_matches('/');
        let mut models = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_MODEL_PAGES {
            let mut url = Url::parse(&format!("{base}/v1beta/models")).map_err(|e| {
                GeminiError::BadRequest {
                    detail: format!("bad endpoint: {e}"),
                }
            })?;
            url.query_pairs_mut().append_pair("pageSize", "100");
            if let Some(token) = &token {
                url.query_pairs_mut().append_pair("pageToken", token);
            }
            let page = timeout(self.config.attempt_timeout, self.model_page(url))
                .await
                .map_err(|_| GeminiError::Timeout)??;
            models.extend(page.models);
            token = page.next_page_token.filter(|t| !t.is_empty());
            if token.is_none() {
                return Ok(models);
            }
        }
        Err(GeminiError::Malformed {
            detail: format!("models.list had more than {MAX_MODEL_PAGES} pages"),
        })
    }

    async fn model_page(&self, url: Url) -> Result<ListModelsResponse, GeminiError> {
        const MAX_PAGE_BYTES: usize = 4 * 1024 * 1024;
        let response = self.http.get(url).send().await.map_err(network_error)?;
        let status = response.status();
        let body = read_capped(response, MAX_PAGE_BYTES).await?;
        if !status.is_success() {
            return Err(GeminiError::from_http(status.as_u16(), &body, "models"));
        }
        serde_json::from_slice(&body).map_err(|e| GeminiError::Malformed {
            detail: format!("invalid models.list page: {e}"),
        })
    }

    async fn with_retries(
        &self,
        model: &str,
        request: &GenerateContentRequest,
        method: Method,
        limits: CallLimits,
        observer: &mut (dyn FnMut(Observed<'_>) + Send),
    ) -> Result<Generation, GeminiError> {
        let scrub = |text: &str| self.scrubber.scrub(text);
        self.retrying(model, request, method, limits, observer)
            .await
            .map(|mut generation| {
                generation.text = generation.text.as_deref().map(scrub);
                if let Some(grounding) = generation.grounding.as_mut() {
                    let queries = grounding
                        .web_search_queries
                        .iter_mut()
                        .chain(grounding.image_search_queries.iter_mut());
                    for query in queries {
                        *query = scrub(query);
                    }
                    let titles = grounding
                        .grounding_chunks
                        .iter_mut()
                        .filter_map(|c| c.web.as_mut()?.title.as_mut());
                    for title in titles {
                        *title = scrub(title);
                    }
                }
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
        observer: &mut (dyn FnMut(Observed<'_>) + Send),
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
        let of = policy.max_attempts;
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(GeminiError::Timeout);
            }
            observer(Observed::Call(CallEvent::Attempt { attempt, of }));
            let budget = remaining.min(self.config.attempt_timeout);
            let started = Instant::now();
            let outcome = match timeout(
                budget,
                self.attempt(&url, &body, model, method, max_response, observer),
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
            if !error.is_retryable() || attempt >= of {
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
            observer(Observed::Call(CallEvent::Retrying {
                attempt,
                of,
                wait: delay,
                kind: error.kind(),
            }));
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
        observer: &mut (dyn FnMut(Observed<'_>) + Send),
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
                self.read_stream(response, status, model, max_response, observer)
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
        observer: &mut (dyn FnMut(Observed<'_>) + Send),
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
                observer(Observed::Event(&event));
                events.push(event);
            }
        }
        if let Some(payload) = decoder.finish() {
            let event = parse_event(&payload, status.as_u16(), model)?;
            observer(Observed::Event(&event));
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
