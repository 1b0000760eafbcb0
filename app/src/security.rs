//! The Content-Security-Policy of every page, with the request's nonce.
//!
//! The server makes a nonce per request, sets the policy header with it, and passes it to
//! Leptos (through [`CspNonce`]), which puts it on the scripts it writes (the hydration loader,
//! serialised resources). The policy allows scripts by that nonce only, and with
//! `'strict-dynamic'` the modules they import. `'wasm-unsafe-eval'` lets the bundle compile its
//! WASM. Images may come from `blob:` (the editor's local previews) and `data:`. Everything else
//! comes from the app's own origin, and nothing may frame a page. The server adds the other
//! security headers to every response.

/// The policy for a page whose scripts carry `nonce`.
pub fn content_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; \
         script-src 'nonce-{nonce}' 'strict-dynamic' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; font-src 'self'; \
         object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    )
}

/// The nonce the server chose for this request, as a request extension. The server sets the
/// policy header with it; [`provide_request_nonce`] hands it to Leptos, which puts it on the
/// scripts it writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CspNonce(pub String);

/// Provides the request's [`CspNonce`] as Leptos's nonce (server only; call it in the
/// request's context, after Leptos's own contexts).
pub fn provide_request_nonce() {
    #[cfg(feature = "ssr")]
    if let Some(nonce) = leptos::prelude::use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<CspNonce>().cloned())
    {
        leptos::prelude::provide_context(leptos::nonce::Nonce::from_value(nonce.0));
    }
}

/// Whether `to` is a path on this site: it starts with one `/`, and no slash or backslash
/// follows (browsers read `//host` and `/\host` as another host). A server function's
/// redirect is followed in the browser only then (`frontend`).
pub fn is_own_path(to: &str) -> bool {
    let mut chars = to.chars();
    chars.next() == Some('/') && !matches!(chars.next(), Some('/' | '\\'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_on_this_site_are_followed() {
        for own in ["/", "/gallery?deleted=1", "/gallery/abc"] {
            assert!(is_own_path(own), "{own}");
        }
        for other in [
            "",
            "gallery",
            "//evil.example/",
            "/\\evil.example/",
            "https://evil.example/",
            "javascript:alert(1)",
        ] {
            assert!(!is_own_path(other), "{other}");
        }
    }

    #[test]
    fn the_policy_allows_scripts_only_by_nonce_and_frames_nothing() {
        let csp = content_security_policy("abc123");
        for part in [
            "default-src 'self'",
            "script-src 'nonce-abc123' 'strict-dynamic' 'wasm-unsafe-eval'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            "form-action 'self'",
            "img-src 'self' blob: data:",
        ] {
            assert!(csp.contains(part), "{part} missing from {csp}");
        }
        assert!(!csp.contains("unsafe-inline"));
    }
}
