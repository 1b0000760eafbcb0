//! The Content-Security-Policy of every page, with the request's nonce.
//!
//! Leptos makes a nonce per request and puts it on the scripts it writes (the hydration
//! loader, serialised resources); the policy allows scripts by that nonce only, and with
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

/// Sets the policy on the current page's response (on the server; nothing in the browser).
pub fn apply() {
    #[cfg(feature = "ssr")]
    if let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
    ) && let Ok(value) =
        http::HeaderValue::from_str(&content_security_policy(&nonce.to_string()))
    {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
