//! Failure shapes on demand, so tests up to the browser can trigger each one.
//!
//! Put a marker in the prompt text, `[sim:NAME]`, or send the header `x-gemini-sim-fault: NAME`.
//! The names are listed in [`Fault::NAMES`] and documented in the crate's README section of
//! docs/ARCHITECTURE.md.

/// One failure shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 429 with `RetryInfo.retryDelay` of 10 s.
    Quota,
    /// 429 whose quota limit is 0: the key has no quota for the model at all.
    QuotaZero,
    /// 503 "The model is overloaded".
    Overloaded,
    /// 500 INTERNAL.
    Internal,
    /// Answers only after the configured slow delay (10 minutes by default).
    Slow,
    /// Drops the connection without an answer.
    Reset,
    /// 200 with a body that is not JSON.
    Malformed,
    /// 200 with `promptFeedback.blockReason` and no candidates.
    PromptBlocked,
    /// 200 with a candidate stopped by `IMAGE_SAFETY`.
    ImageBlocked,
    /// 200, `STOP`, text and no image.
    TextOnly,
    /// 200, `finishReason: NO_IMAGE`.
    NoImage,
    /// JPEG bytes labelled `image/png`.
    JpegAsPng,
    /// 403 "reported as leaked".
    Leaked,
    /// Streams one event, then an error event.
    StreamError,
    /// 503 for the first N requests with this prompt, then success.
    FailTimes(u32),
    /// 429 with `retryDelay` 10 s for the first N requests with this prompt, then success.
    QuotaTimes(u32),
    /// 403 for a suspended consumer, quoting the caller's key as Google does
    /// ("Consumer 'api_key:AIza…' has been suspended.").
    Suspended,
    /// The caller's key quoted back where upstream text goes: an error, a block message, the
    /// model's words. For testing that no upstream text reaches a user.
    EchoKey(EchoAt),
    /// 200 with a body of 128 MiB, larger than any answer a client should hold.
    Huge,
    /// 200 with an image part whose PNG header claims 60000×60000 pixels (a decompression bomb
    /// from upstream).
    Bomb,
    /// 200 with an image that carries metadata: a comment and XMP naming a place (which a
    /// client should not keep), content credentials (which it should) and bytes after the
    /// image's end.
    Metadata,
}

/// Where the `echo-key-*` faults quote the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EchoAt {
    /// A 400 `INVALID_ARGUMENT` message.
    BadRequest,
    /// A 500 `INTERNAL` message.
    Internal,
    /// The `finishMessage` of an `IMAGE_SAFETY` block.
    Blocked,
    /// The words of a text-only answer.
    Text,
    /// A text part beside a good image.
    ImageText,
}

impl Fault {
    pub const NAMES: &'static [&'static str] = &[
        "quota",
        "quota-zero",
        "overloaded",
        "internal",
        "slow",
        "reset",
        "malformed",
        "prompt-blocked",
        "image-blocked",
        "text-only",
        "no-image",
        "jpeg-as-png",
        "leaked",
        "stream-error",
        "fail-N",
        "quota-N",
        "suspended",
        "echo-key-400",
        "echo-key-500",
        "echo-key-blocked",
        "echo-key-text",
        "echo-key-image",
        "huge",
        "bomb",
        "metadata",
    ];

    pub fn parse(name: &str) -> Option<Self> {
        Some(match name.trim() {
            "quota" => Self::Quota,
            "quota-zero" => Self::QuotaZero,
            "overloaded" => Self::Overloaded,
            "internal" => Self::Internal,
            "slow" => Self::Slow,
            "reset" => Self::Reset,
            "malformed" => Self::Malformed,
            "prompt-blocked" => Self::PromptBlocked,
            "image-blocked" => Self::ImageBlocked,
            "text-only" => Self::TextOnly,
            "no-image" => Self::NoImage,
            "jpeg-as-png" => Self::JpegAsPng,
            "leaked" => Self::Leaked,
            "stream-error" => Self::StreamError,
            "suspended" => Self::Suspended,
            "echo-key-400" => Self::EchoKey(EchoAt::BadRequest),
            "echo-key-500" => Self::EchoKey(EchoAt::Internal),
            "echo-key-blocked" => Self::EchoKey(EchoAt::Blocked),
            "echo-key-text" => Self::EchoKey(EchoAt::Text),
            "echo-key-image" => Self::EchoKey(EchoAt::ImageText),
            "huge" => Self::Huge,
            "bomb" => Self::Bomb,
            "metadata" => Self::Metadata,
            other => match other.split_once('-') {
                Some(("fail", n)) => Self::FailTimes(n.parse().ok()?),
                Some(("quota", n)) => Self::QuotaTimes(n.parse().ok()?),
                _ => return None,
            },
        })
    }

    /// The fault asked for by the header, else by the first marker in `prompt`.
    /// An unknown name is an error, so a typo in a test does not pass silently.
    pub fn requested(prompt: &str, header: Option<&str>) -> Result<Option<Self>, String> {
        let name = match header {
            Some(h) => Some(h.to_owned()),
            None => prompt
                .split("[sim:")
                .nth(1)
                .and_then(|rest| rest.split_once(']'))
                .map(|(name, _)| name.to_owned()),
        };
        match name {
            None => Ok(None),
            Some(n) => Self::parse(&n).map(Some).ok_or_else(|| {
                format!(
                    "Unknown simulator fault {n:?}. Known: {}.",
                    Self::NAMES.join(", ")
                )
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_and_headers_are_found() {
        assert_eq!(
            Fault::requested("a cat [sim:quota] please", None),
            Ok(Some(Fault::Quota))
        );
        assert_eq!(
            Fault::requested("a cat", Some("fail-3")),
            Ok(Some(Fault::FailTimes(3)))
        );
        assert_eq!(Fault::requested("a cat", None), Ok(None));
        assert!(Fault::requested("[sim:qouta]", None).is_err());
    }

    #[test]
    fn every_listed_name_parses() {
        for name in Fault::NAMES {
            let name = name.replace('N', "2");
            assert!(Fault::parse(&name).is_some(), "{name}");
        }
    }
}
