//! Security controls every request passes through: the host check, response headers, CSRF,
//! body size limits and the upload deadline.
//!
//! - **Host**: a request must be addressed to one of the host names GemFlash answers for
//!   (`Host`, or an HTTP/2 request's authority): the public origin's, the loopback names when
//!   no origin is configured, and `GEMFLASH_ALLOWED_HOSTS`. Anything else gets 421 before any
//!   other control or route runs. This is what stops DNS rebinding: a page on another site
//!   that points its own name at GemFlash's address still sends its own name.
//! - **Headers** (OWASP Secure Headers Project values) on every response: `nosniff`,
//!   `Referrer-Policy: no-referrer`, `X-Frame-Options: DENY` (unless a route made the document
//!   to be framed by GemFlash's pages: `SAMEORIGIN`), `X-XSS-Protection: 0` (the old
//!   filter is itself an attack surface; the CSP does its job), COOP and CORP `same-origin`, a
//!   `Permissions-Policy` that turns off what GemFlash does not use, HSTS when the public
//!   origin is https, and `Cache-Control: no-store, max-age=0` with `Pragma: no-cache` unless
//!   the route set its own (the built WASM and stylesheet under `/pkg` are cached as their
//!   names allow: a year, `immutable`, when the name carries the content's hash; scripts are
//!   revalidated). Every request gets a fresh nonce; HTML pages carry the
//!   Content-Security-Policy that allows scripts by it
//!   ([`app::security::content_security_policy`]), and the app puts it on its scripts; any
//!   other response gets a policy that allows nothing.
//! - **CSRF**: every state-changing request (any method but GET, HEAD and OPTIONS) must come
//!   from the public origin. `Origin`, when sent, must equal `GEMFLASH_PUBLIC_ORIGIN`;
//!   `Sec-Fetch-Site`, when sent, must be `same-origin` (or `none`, a user's own action); and
//!   at least one of them must be there. Anything else gets 403 and changes nothing. Nothing
//!   changes state on GET.
//! - **Body limits**: a request body may not exceed its route's limit, checked from
//!   `Content-Length` before anything is read and enforced while a body streams (multipart
//!   server functions read their body themselves, past axum's extractor limit). An upload
//!   must also arrive whole within `GEMFLASH_UPLOAD_DEADLINE_SECS`, however steadily it trickles
//!   (the stall timeout alone would let a slow client hold its bytes for hours).

use std::{
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};

use app::security::{CspNonce, content_security_policy};
use axum::{
    Json,
    body::{Body, Bytes},
    extract::{Request, State},
    http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use http_body::{Frame, SizeHint};
use http_body_util::Limited;
use protocol::{ErrorKind, UserError, limits};

use crate::{config::ServerConfig, routes};

/// Most bytes of a request body on most routes.
pub const DEFAULT_BODY_LIMIT: usize = limits::MAX_SMALL_BODY_BYTES;
/// Most bytes of an edit upload: the engine's request limit plus multipart overhead.
pub const EDIT_BODY_LIMIT: usize = limits::MAX_UPLOAD_BYTES;

/// What the security middleware needs to know.
#[derive(Debug, Clone)]
pub struct SecurityConfig {
    /// `scheme://host[:port]` browsers use, as an `Origin` header spells it.
    pub origin: String,
    pub https: bool,
    /// `Cache-Control` of the built WASM and stylesheet under `/pkg`
    /// ([`crate::assets::pkg_cache_control`]; scripts are revalidated whatever it says, see
    /// [`crate::assets::static_cache_control`]).
    pub pkg_cache_control: &'static str,
}

/// The policy for anything that is not a page: nothing may load, nothing may frame it.
const LOCKED_DOWN_CSP: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const PERMISSIONS_POLICY: &str = "accelerometer=(), autoplay=(), camera=(), display-capture=(), \
     geolocation=(), gyroscope=(), hid=(), magnetometer=(), microphone=(), midi=(), payment=(), \
     publickey-credentials-get=(), serial=(), usb=(), xr-spatial-tracking=()";

/// Refuses a request addressed to a host GemFlash does not answer for.
pub async fn host(State(server): State<Arc<ServerConfig>>, req: Request, next: Next) -> Response {
    // HTTP/2 carries the host in the request's authority; HTTP/1.1 in `Host`.
    let asked = req
        .uri()
        .authority()
        .map(|a| a.as_str().to_owned())
        .or_else(|| {
            req.headers()
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        });
    match asked {
        Some(host) if server.allows_host(&host) => next.run(req).await,
        asked => {
            // The name is the client's text: logged escaped, cut short.
            let shown: String = asked.unwrap_or_default().chars().take(100).collect();
            tracing::warn!(
                host = shown,
                "request for a host this server does not answer for refused (list it in GEMFLASH_ALLOWED_HOSTS if it is yours)"
            );
            metrics::counter!("gemflash_refusals_total", "reason" => "host").increment(1);
            refuse(
                ErrorKind::MisdirectedRequest,
                "This server does not answer for the address you used. Open GemFlash at the address its operator gave you.",
            )
        }
    }
}

/// Adds the security headers to every response. Each request gets a fresh nonce, which the
/// app puts on its scripts; an HTML page gets the policy that allows scripts by that nonce.
pub async fn headers(
    State(config): State<SecurityConfig>,
    mut req: Request,
    next: Next,
) -> Response {
    let static_asset =
        crate::assets::static_cache_control(req.uri().path(), config.pkg_cache_control);
    let nonce = leptos::nonce::Nonce::new().to_string();
    req.extensions_mut().insert(CspNonce(nonce.clone()));
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let is_html = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    if is_html
        && !h.contains_key(header::CONTENT_SECURITY_POLICY)
        && let Ok(policy) = HeaderValue::from_str(&content_security_policy(&nonce))
    {
        h.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    let set = |h: &mut HeaderMap, name: HeaderName, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::REFERRER_POLICY, "no-referrer");
    if !h.contains_key(header::X_FRAME_OPTIONS) {
        // Only a document made to be framed by GemFlash's own pages says otherwise (a
        // grounded image's search suggestions, `SAMEORIGIN`).
        set(h, header::X_FRAME_OPTIONS, "DENY");
    }
    set(h, header::X_XSS_PROTECTION, "0");
    set(
        h,
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    set(
        h,
        HeaderName::from_static("cross-origin-resource-policy"),
        "same-origin",
    );
    set(
        h,
        HeaderName::from_static("permissions-policy"),
        PERMISSIONS_POLICY,
    );
    if config.https {
        set(
            h,
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        );
    }
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        set(h, header::CONTENT_SECURITY_POLICY, LOCKED_DOWN_CSP);
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        if let Some(cache) = static_asset {
            set(h, header::CACHE_CONTROL, cache);
        } else {
            // Old HTTP/1.0 caches know only `Pragma`; `max-age=0` for those that ignore
            // `no-store`.
            set(h, header::CACHE_CONTROL, "no-store, max-age=0");
            set(h, header::PRAGMA, "no-cache");
        }
    }
    res
}

/// Refuses state-changing requests that do not come from the public origin.
pub async fn csrf(State(config): State<SecurityConfig>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        || same_origin(req.headers(), &config.origin)
    {
        return next.run(req).await;
    }
    tracing::warn!(
        method = %req.method(),
        path = %req.uri().path(),
        "cross-site request refused"
    );
    refuse(
        ErrorKind::Forbidden,
        "This request did not come from GemFlash's own pages, so it was refused. Reload the page and try again.",
    )
}

/// Whether a request's own headers say it comes from `origin`: every header present agrees,
/// and at least one is present.
///
/// `Origin: null` is what a browser sends for a page's own form post under
/// `Referrer-Policy: no-referrer`: it vouches for nothing, so it counts as absent, and then only
/// Fetch Metadata saying `same-origin` lets the request in.
fn same_origin(headers: &HeaderMap, origin: &str) -> bool {
    let site = headers.get("sec-fetch-site");
    let sent_origin = headers
        .get(header::ORIGIN)
        .filter(|o| o.as_bytes() != b"null");
    if site.is_none() && sent_origin.is_none() {
        return false;
    }
    let site_ok = site.is_none_or(|s| matches!(s.as_bytes(), b"same-origin" | b"none"));
    let origin_ok =
        sent_origin.is_none_or(|o| o.as_bytes().eq_ignore_ascii_case(origin.as_bytes()));
    site_ok && origin_ok
}

/// Caps a request's body at its route's limit; an upload must also arrive within `deadline`.
pub async fn body_limit(State(deadline): State<Duration>, req: Request, next: Next) -> Response {
    let upload = routes::is_upload(req.uri().path());
    let limit = if upload {
        EDIT_BODY_LIMIT
    } else {
        DEFAULT_BODY_LIMIT
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return refuse(
            ErrorKind::TooLarge,
            &format!(
                "The request is larger than this server takes ({} MB at most). Send less.",
                limit / (1024 * 1024)
            ),
        );
    }
    let (parts, body) = req.into_parts();
    let body = Limited::new(body, limit);
    if !upload {
        return next.run(Request::from_parts(parts, Body::new(body))).await;
    }
    let expired = Arc::new(AtomicBool::new(false));
    let body = Deadline {
        inner: body,
        sleep: Box::pin(tokio::time::sleep(deadline)),
        expired: expired.clone(),
    };
    let res = next.run(Request::from_parts(parts, Body::new(body))).await;
    if expired.load(Ordering::SeqCst) {
        tracing::warn!(
            deadline_secs = deadline.as_secs(),
            "an upload took too long"
        );
        return refuse(
            ErrorKind::RequestTimeout,
            &format!(
                "The upload took longer than {} seconds, so it was stopped. Try again on a faster connection, or with smaller images.",
                deadline.as_secs()
            ),
        );
    }
    res
}

/// A body that fails once its deadline passes, whether or not bytes are still arriving.
struct Deadline<B> {
    inner: B,
    sleep: Pin<Box<tokio::time::Sleep>>,
    expired: Arc<AtomicBool>,
}

impl<B> http_body::Body for Deadline<B>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: Into<axum::BoxError>,
{
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.sleep.as_mut().poll(cx).is_ready() {
            self.expired.store(true, Ordering::SeqCst);
            return Poll::Ready(Some(Err("the upload deadline passed".into())));
        }
        Pin::new(&mut self.inner).poll_frame(cx).map_err(Into::into)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// An error answer in the shape server functions use, so the browser shows its sentence.
pub fn refuse(kind: ErrorKind, message: &str) -> Response {
    refuse_with(UserError::new(kind, message))
}

/// [`refuse`] with a prepared error: its kind's status, and `Retry-After` when it says when.
pub fn refuse_with(error: UserError) -> Response {
    let status = StatusCode::from_u16(error.kind.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    let retry = error.retry_after_secs;
    let mut res = (status, Json(error)).into_response();
    if let Some(secs) = retry {
        set_retry_after(&mut res, secs);
    }
    res
}

/// Sets `Retry-After` to `secs`.
pub fn set_retry_after(res: &mut Response, secs: u64) {
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn every_origin_header_sent_must_agree_and_one_must_be_sent() {
        let origin = "https://gemflash.example.com";
        assert!(same_origin(
            &headers(&[("sec-fetch-site", "same-origin")]),
            origin
        ));
        assert!(same_origin(&headers(&[("sec-fetch-site", "none")]), origin));
        assert!(!same_origin(
            &headers(&[("sec-fetch-site", "cross-site")]),
            origin
        ));
        assert!(!same_origin(
            &headers(&[("sec-fetch-site", "same-site")]),
            origin
        ));
        // Every header sent must agree: Fetch Metadata cannot vouch for a foreign Origin, nor
        // an Origin for a cross-site fetch.
        assert!(!same_origin(
            &headers(&[("sec-fetch-site", "cross-site"), ("origin", origin)]),
            origin
        ));
        assert!(!same_origin(
            &headers(&[
                ("sec-fetch-site", "same-origin"),
                ("origin", "http://rebind.attacker.example:3000")
            ]),
            origin
        ));
        assert!(same_origin(
            &headers(&[("sec-fetch-site", "same-origin"), ("origin", origin)]),
            origin
        ));
        assert!(same_origin(&headers(&[("origin", origin)]), origin));
        assert!(same_origin(
            &headers(&[("origin", "HTTPS://GEMFLASH.EXAMPLE.COM")]),
            origin
        ));
        assert!(!same_origin(
            &headers(&[("origin", "https://evil.example")]),
            origin
        ));
        assert!(!same_origin(&headers(&[("origin", "null")]), origin));
        // A page's own form post under no-referrer: Fetch Metadata vouches, `null` does not.
        assert!(same_origin(
            &headers(&[("sec-fetch-site", "same-origin"), ("origin", "null")]),
            origin
        ));
        assert!(!same_origin(
            &headers(&[("sec-fetch-site", "cross-site"), ("origin", "null")]),
            origin
        ));
        assert!(
            !same_origin(&HeaderMap::new(), origin),
            "no evidence, no entry"
        );
    }
}
