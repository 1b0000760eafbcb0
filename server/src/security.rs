//! Security controls every request passes through: response headers, CSRF, body size limits.
//!
//! - **Headers** (OWASP Secure Headers Project values) on every response: `nosniff`,
//!   `Referrer-Policy: no-referrer`, `X-Frame-Options: DENY`, COOP and CORP `same-origin`, a
//!   `Permissions-Policy` that turns off what GemFlash does not use, HSTS when the public origin
//!   is https, and `Cache-Control: no-store` unless the route set its own. Every request gets
//!   a fresh nonce; HTML pages carry the Content-Security-Policy that allows scripts by it
//!   ([`app::security::content_security_policy`]), and the app puts it on its scripts; any
//!   other response gets a policy that allows nothing.
//! - **CSRF**: every state-changing request (any method but GET, HEAD and OPTIONS) must come
//!   from the public origin: `Sec-Fetch-Site` is `same-origin` (or `none`, a user's own
//!   action), or, from a client that does not send it, `Origin` equals
//!   `GEMFLASH_PUBLIC_ORIGIN`. Anything else, including a request with neither header, gets
//!   403 and changes nothing. Nothing changes state on GET.
//! - **Body limits**: a request body may not exceed its route's limit, checked from
//!   `Content-Length` before anything is read and enforced while a body streams (multipart
//!   server functions read their body themselves, past axum's extractor limit).

use app::security::{CspNonce, content_security_policy};
use axum::{
    Json,
    body::Body,
    extract::{Request, State},
    http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use http_body_util::Limited;
use protocol::{ErrorKind, UserError};

/// Most bytes of a request body on most routes.
pub const DEFAULT_BODY_LIMIT: usize = 256 * 1024;
/// Most bytes of an edit upload: the engine's request limit plus multipart overhead.
pub const EDIT_BODY_LIMIT: usize = 80 * 1024 * 1024 + 256 * 1024;

/// What the security middleware needs to know.
#[derive(Debug, Clone)]
pub struct SecurityConfig {
    /// `scheme://host[:port]` browsers use, as an `Origin` header spells it.
    pub origin: String,
    pub https: bool,
}

/// The policy for anything that is not a page: nothing may load, nothing may frame it.
const LOCKED_DOWN_CSP: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const PERMISSIONS_POLICY: &str = "accelerometer=(), autoplay=(), camera=(), display-capture=(), \
     geolocation=(), gyroscope=(), hid=(), magnetometer=(), microphone=(), midi=(), payment=(), \
     publickey-credentials-get=(), serial=(), usb=(), xr-spatial-tracking=()";

/// Adds the security headers to every response. Each request gets a fresh nonce, which the
/// app puts on its scripts; an HTML page gets the policy that allows scripts by that nonce.
pub async fn headers(
    State(config): State<SecurityConfig>,
    mut req: Request,
    next: Next,
) -> Response {
    let static_asset = is_static_asset(req.uri().path());
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
    set(h, header::X_FRAME_OPTIONS, "DENY");
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
            "max-age=63072000; includeSubDomains",
        );
    }
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        set(h, header::CONTENT_SECURITY_POLICY, LOCKED_DOWN_CSP);
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        // The bundle's names do not change between builds: revalidate, never trust blindly.
        let policy = if static_asset { "no-cache" } else { "no-store" };
        set(h, header::CACHE_CONTROL, policy);
    }
    res
}

fn is_static_asset(path: &str) -> bool {
    path.starts_with("/pkg/") || path == "/favicon.svg"
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

/// Whether a request's own headers say it comes from `origin`.
fn same_origin(headers: &HeaderMap, origin: &str) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        // A browser that sends Fetch Metadata says exactly where the request comes from.
        return matches!(site.as_bytes(), b"same-origin" | b"none");
    }
    headers
        .get(header::ORIGIN)
        .is_some_and(|o| o.as_bytes().eq_ignore_ascii_case(origin.as_bytes()))
}

/// Caps a request's body at its route's limit.
pub async fn body_limit(req: Request, next: Next) -> Response {
    let limit = if req.uri().path() == "/api/edit_image" {
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
    next.run(Request::from_parts(
        parts,
        Body::new(Limited::new(body, limit)),
    ))
    .await
}

/// An error answer in the shape server functions use, so the browser shows its sentence.
pub fn refuse(kind: ErrorKind, message: &str) -> Response {
    refuse_with(UserError::new(kind, message))
}

/// [`refuse`] with a prepared error (e.g. one that says when to retry).
pub fn refuse_with(error: UserError) -> Response {
    let status = StatusCode::from_u16(error.kind.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    (status, Json(error)).into_response()
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
    fn fetch_metadata_decides_and_origin_is_the_fallback() {
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
        // Fetch metadata wins over a forged-looking origin either way.
        assert!(!same_origin(
            &headers(&[("sec-fetch-site", "cross-site"), ("origin", origin)]),
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
        assert!(
            !same_origin(&HeaderMap::new(), origin),
            "no evidence, no entry"
        );
    }
}
