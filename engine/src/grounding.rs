//! Grounded answers: what is kept of Google Search's part in an image, and how it is shown.
//!
//! Everything here comes from upstream and is treated as such: queries and titles are
//! scrubbed and cut short, only `https` sources are kept, and the search suggestions Google
//! requires a product to show (HTML and CSS of Google's) are never put into GemFlash's own
//! pages. They are served on their own, as a sandboxed document with a policy that runs no
//! script ([`suggestions_page`]), and the image's page frames that.

use gemini::wire::GroundingMetadata;
use protocol::{Grounding, GroundingSource};
use serde::{Deserialize, Serialize};

/// The most queries and sources kept, and the longest text of each.
const MAX_ITEMS: usize = 20;
const MAX_TEXT_CHARS: usize = 300;
/// The largest search-suggestion document kept.
const MAX_SUGGESTIONS_BYTES: usize = 64 * 1024;

/// What is stored of a grounded answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredGrounding {
    pub queries: Vec<String>,
    pub sources: Vec<GroundingSource>,
    /// Google's search suggestions (`searchEntryPoint.renderedContent`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggestions_html: Option<String>,
}

impl StoredGrounding {
    /// What a grounded answer's metadata keeps: scrubbed, bounded, `https` sources only.
    pub fn from_answer(meta: &GroundingMetadata, scrub: impl Fn(&str) -> String) -> Self {
        let short = |text: &str| -> String { scrub(text).chars().take(MAX_TEXT_CHARS).collect() };
        let queries = meta
            .web_search_queries
            .iter()
            .chain(&meta.image_search_queries)
            .map(|q| short(q))
            .filter(|q| !q.trim().is_empty())
            .take(MAX_ITEMS)
            .collect();
        let sources = meta
            .grounding_chunks
            .iter()
            .filter_map(|chunk| chunk.web.as_ref())
            .filter_map(|web| {
                let uri = web.uri.as_deref()?;
                let parsed = url::Url::parse(uri).ok()?;
                let host = parsed.host_str()?;
                (parsed.scheme() == "https" && uri.len() <= 2048).then(|| GroundingSource {
                    title: short(web.title.as_deref().unwrap_or(host)),
                    uri: parsed.to_string(),
                })
            })
            .take(MAX_ITEMS)
            .collect();
        let suggestions_html = meta
            .search_entry_point
            .as_ref()
            .and_then(|e| e.rendered_content.as_ref())
            .filter(|html| !html.trim().is_empty() && html.len() <= MAX_SUGGESTIONS_BYTES)
            .cloned();
        Self {
            queries,
            sources,
            suggestions_html,
        }
    }

    pub fn to_json(&self) -> Option<String> {
        serde_json::to_string(self).ok()
    }

    pub fn from_json(json: &str) -> Option<Self> {
        serde_json::from_str(json).ok()
    }

    /// The browser's view: the suggestions themselves stay on their own page.
    pub fn to_protocol(&self) -> Grounding {
        Grounding {
            queries: self.queries.clone(),
            sources: self.sources.clone(),
            search_suggestions: self.suggestions_html.is_some(),
        }
    }
}

/// The policy the suggestions document is served with: a sandbox with no scripts and no
/// same-origin access (an opaque origin, whatever the HTML holds), inline styles and images
/// only, framed by GemFlash's own pages and no others. Links open a new tab.
pub const SUGGESTIONS_CSP: &str = "sandbox allow-popups allow-popups-to-escape-sandbox; \
     default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'self'";

/// Google's search suggestions as a document of their own, links opening a new tab.
pub fn suggestions_page(html: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"referrer\" content=\"no-referrer\"><base target=\"_blank\">\
         <title>Google Search suggestions</title></head>\
         <body style=\"margin:0\">{html}</body></html>"
    )
}

#[cfg(test)]
mod tests {
    use gemini::wire::{GroundingChunk, SearchEntryPoint, WebSource};

    use super::*;

    #[test]
    fn only_https_sources_are_kept_and_upstream_text_is_scrubbed_and_bounded() {
        let web = |uri: &str, title: Option<&str>| GroundingChunk {
            web: Some(WebSource {
                uri: Some(uri.into()),
                title: title.map(str::to_owned),
            }),
        };
        let meta = GroundingMetadata {
            web_search_queries: vec!["lighthouse AIzaSECRET".into(), "x".repeat(1000)],
            image_search_queries: vec![],
            grounding_chunks: vec![
                web("https://example.org/a", Some("Example")),
                web("javascript:alert(1)", Some("bad")),
                web("http://plain.example/", None),
                web("https://no-title.example/p", None),
            ],
            search_entry_point: Some(SearchEntryPoint {
                rendered_content: Some("<div>chips</div>".into()),
            }),
        };
        let kept = StoredGrounding::from_answer(&meta, |t| t.replace("AIzaSECRET", "[redacted]"));
        assert_eq!(kept.queries[0], "lighthouse [redacted]");
        assert_eq!(kept.queries[1].chars().count(), MAX_TEXT_CHARS);
        assert_eq!(kept.sources.len(), 2);
        assert_eq!(kept.sources[1].title, "no-title.example");
        let back = StoredGrounding::from_json(&kept.to_json().unwrap()).unwrap();
        assert_eq!(back, kept);
        assert!(back.to_protocol().search_suggestions);
        assert!(suggestions_page("<div>chips</div>").contains("<base target=\"_blank\">"));
    }
}
