//! Upstream text is data, not a message: whatever Gemini (or a proxy in front of it) writes in
//! an error body, a `finishMessage`, a block message or a text part can quote a secret. Google
//! itself quotes the key when it suspends one ("Consumer 'api_key:AIza…' has been
//! suspended"). So every such text is scrubbed before it is kept anywhere, even for the log:
//!
//! - the configured key (and any other secret the caller names), wherever it appears;
//! - anything shaped like a Google API key (`AIza…`) or an OAuth access token (`ya29.…`);
//! - the word after `Bearer` and the value after `key=` or `token=`;
//! - long runs of letters and digits (32 or more, both kinds present), which is what keys,
//!   tokens and signatures look like;
//!
//! control characters become spaces and the result is cut to [`MAX_KEPT_CHARS`]. The user never
//! sees even the scrubbed text: the sentences the browser gets are GemFlash's own, chosen by
//! the error's kind ([`crate::GeminiError`]); the scrubbed text goes to the log only.

use secrecy::{ExposeSecret, SecretString};

/// The longest piece of upstream text kept, in characters.
pub const MAX_KEPT_CHARS: usize = 300;

/// What stands where a secret was.
pub const REDACTED: &str = "[redacted]";

/// Scrubs upstream text of the configured secrets and of anything secret-shaped.
#[derive(Clone, Default)]
pub struct Scrubber {
    secrets: Vec<SecretString>,
}

impl std::fmt::Debug for Scrubber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scrubber")
            .field("secrets", &self.secrets.len())
            .finish()
    }
}

impl Scrubber {
    /// A scrubber that also removes each of `secrets` (values shorter than 8 characters are
    /// ignored: they would remove ordinary words).
    pub fn new(secrets: impl IntoIterator<Item = SecretString>) -> Self {
        Self {
            secrets: secrets
                .into_iter()
                .filter(|s| s.expose_secret().trim().len() >= 8)
                .collect(),
        }
    }

    /// `text` without secrets, secret-shaped words or control characters, at most
    /// [`MAX_KEPT_CHARS`] long.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.secrets {
            let secret = secret.expose_secret().trim();
            if out.contains(secret) {
                out = out.replace(secret, REDACTED);
            }
        }
        cap(&redact_shapes(&out))
    }
}

/// [`Scrubber::scrub`] without configured secrets: only the shapes.
pub fn scrub(text: &str) -> String {
    Scrubber::default().scrub(text)
}

/// Characters a key or token is made of.
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | '+' | '/' | '=')
}

/// Replaces every secret-shaped word.
fn redact_shapes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    // Whether the previous word asks for the next one to be hidden ("Bearer x", "key=x").
    let mut hide_next = false;
    while !rest.is_empty() {
        let start = rest.find(is_token_char).unwrap_or(rest.len());
        let (gap, after) = rest.split_at(start);
        out.push_str(gap);
        if after.is_empty() {
            break;
        }
        let end = after.find(|c| !is_token_char(c)).unwrap_or(after.len());
        let (word, tail) = after.split_at(end);
        // `key=VALUE` and `token=VALUE` are one run of token characters: split them here.
        let (name, value) = match word.split_once('=') {
            Some((name, value))
                if ["key", "api_key", "apikey", "token", "access_token"]
                    .iter()
                    .any(|k| name.eq_ignore_ascii_case(k))
                    && !value.is_empty() =>
            {
                (Some(name), value)
            }
            _ => (None, word),
        };
        if let Some(name) = name {
            out.push_str(name);
            out.push('=');
            out.push_str(REDACTED);
        } else if hide_next || looks_secret(value) {
            out.push_str(REDACTED);
        } else {
            out.push_str(value);
        }
        hide_next = word.eq_ignore_ascii_case("bearer") && tail.starts_with(' ');
        rest = tail;
    }
    out
}

/// Whether a word looks like a key, a token or a signature.
fn looks_secret(word: &str) -> bool {
    let bare = word.trim_matches(|c: char| matches!(c, '.' | '=' | '/' | '+'));
    if bare.contains("AIza") && bare.len() >= 20 {
        return true;
    }
    if bare.starts_with("ya29.") || (bare.starts_with("sk-") && bare.len() >= 20) {
        return true;
    }
    // Long runs of letters and digits with both present. Hyphens and underscores count, so
    // a base64url token is one run; dots and slashes do not, so URLs and metric names survive.
    let runs = bare.split(['.', '/', '+', '~', '=']);
    runs.into_iter().any(|run| {
        run.len() >= 32
            && run.chars().any(|c| c.is_ascii_digit())
            && run.chars().any(|c| c.is_ascii_alphabetic())
    })
}

/// Control characters as spaces, and at most [`MAX_KEPT_CHARS`] characters.
fn cap(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_KEPT_CHARS)
        .collect();
    if text.chars().count() > MAX_KEPT_CHARS {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // Key-shaped, made of pieces so no key-shaped literal sits in the repository.
    const KEY: &str = concat!("AI", "za", "SyD3m0-K3y_f0r-T3sts-0nly-abcdefgh");

    #[test]
    fn the_configured_key_is_removed_wherever_it_is() {
        let s = Scrubber::new([SecretString::from("plain-secret-value")]);
        assert_eq!(
            s.scrub("the value is plain-secret-value, twice: plain-secret-value!"),
            "the value is [redacted], twice: [redacted]!"
        );
    }

    #[test]
    fn a_suspended_key_message_keeps_its_sense_but_not_the_key() {
        let text = format!("Consumer 'api_key:{KEY}' has been suspended.");
        let out = Scrubber::new([SecretString::from(KEY)]).scrub(&text);
        assert_eq!(out, "Consumer 'api_key:[redacted]' has been suspended.");
        // Without knowing the key, its shape gives it away.
        assert_eq!(
            scrub(&text),
            "Consumer 'api_key:[redacted]' has been suspended."
        );
    }

    #[test]
    fn tokens_and_key_parameters_are_hidden() {
        assert_eq!(
            scrub("Authorization: Bearer abc.def-123 failed"),
            "Authorization: Bearer [redacted] failed"
        );
        assert_eq!(
            scrub("GET /v1beta/models?key=short&x=1"),
            "GET /v1beta/models?key=[redacted]&x=1"
        );
        assert_eq!(
            scrub("token ya29.a0AfH6SMBx and done"),
            "token [redacted] and done"
        );
        assert_eq!(
            scrub("sig EqCzBwqwBwFQ8iH2yHk9pW3h4j1m2n3o4p5q6r7s8t9u0v end"),
            "sig [redacted] end"
        );
    }

    #[test]
    fn ordinary_upstream_text_survives() {
        for text in [
            "The model is overloaded. Please try again later.",
            "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
            "Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 0, model: gemini-3.1-flash-image",
            "Please retry in 10.970611001s.",
            "models/gemini-1.5-flash is not found for API version v1beta",
        ] {
            assert_eq!(scrub(text), text);
        }
    }

    #[test]
    fn control_characters_go_and_long_text_is_cut() {
        assert_eq!(scrub("line one\nline two\r\0"), "line one line two  ");
        let long = "word ".repeat(200);
        let out = scrub(&long);
        assert_eq!(out.chars().count(), MAX_KEPT_CHARS + 1);
        assert!(out.ends_with('…'));
    }

    #[test]
    fn short_secrets_are_not_treated_as_secrets() {
        let s = Scrubber::new([SecretString::from("abc")]);
        assert_eq!(s.scrub("abc def"), "abc def");
    }
}
