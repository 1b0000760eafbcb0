//! Listing: the query a gallery page asks, the cursor between pages, and retention limits.

use super::{ImageKind, ImageRecord};

/// What a gallery page lists.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListQuery {
    /// Words to find in prompts (every word, each as a prefix; any case and accents).
    pub text: Option<String>,
    pub model: Option<String>,
    pub kind: Option<ImageKind>,
    /// Created at or after this time (ms since the Unix epoch).
    pub from_ms: Option<i64>,
    /// Created before this time.
    pub until_ms: Option<i64>,
    pub cursor: Option<Cursor>,
    /// Records per page (at least 1).
    pub limit: usize,
}

/// A position between two records in newest-first order, as a page link carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cursor {
    /// The page of records older than this one.
    Before(Position),
    /// The page of records newer than this one.
    After(Position),
}

/// A record's place in the order: creation time, then id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub created_ms: i64,
    pub id: [u8; 16],
}

impl Position {
    pub fn of(record: &ImageRecord) -> Option<Self> {
        Some(Self {
            created_ms: record.created_ms,
            id: parse_id(&record.id)?,
        })
    }

    /// The URL form: `<ms>-<id>`.
    pub fn token(&self) -> String {
        format!("{}-{}", self.created_ms, hex::encode(self.id))
    }

    /// Reads the URL form; `None` for anything else.
    pub fn parse(token: &str) -> Option<Self> {
        let (ms, id) = token.split_once('-')?;
        Some(Self {
            created_ms: ms.parse().ok().filter(|ms: &i64| *ms >= 0)?,
            id: parse_id(id)?,
        })
    }

    pub(crate) fn id_hex(&self) -> String {
        hex::encode(self.id)
    }
}

fn parse_id(id: &str) -> Option<[u8; 16]> {
    if id.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    hex::decode_to_slice(id, &mut out).ok()?;
    Some(out)
}

/// One page of a listing, with the links to its neighbours.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListPage {
    pub items: Vec<ImageRecord>,
    /// Where the next (older) page starts, if there is one.
    pub older: Option<Position>,
    /// Where the previous (newer) page ends, if there is one.
    pub newer: Option<Position>,
}

/// Limits on what is kept; `None` keeps everything.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retention {
    pub max_age_ms: Option<i64>,
    pub max_count: Option<u64>,
}

impl Retention {
    pub fn is_unlimited(&self) -> bool {
        self.max_age_ms.is_none() && self.max_count.is_none()
    }
}

/// A full-text query that matches records whose prompt has every word of `text`, each as a
/// prefix. Each word is quoted, so nothing a user types is FTS5 syntax. `None` when `text`
/// has no words.
pub(crate) fn fts_query(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(16)
        .map(|w| format!("\"{}\"*", w.replace('"', "\"\"")))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_round_trip_through_their_token_and_refuse_anything_else() {
        let p = Position {
            created_ms: 1_763_800_000_123,
            id: [0xab; 16],
        };
        assert_eq!(Position::parse(&p.token()), Some(p));
        for bad in [
            "",
            "123",
            "x-abababababababababababababababab",
            "-1-abababababababababababababababab",
            "123-abab",
            "123-zzabababababababababababababab",
        ] {
            assert_eq!(Position::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn search_text_becomes_quoted_prefix_terms() {
        assert_eq!(fts_query("red  Cat").as_deref(), Some("\"red\"* \"Cat\"*"));
        assert_eq!(
            fts_query("\"a\" OR b* NEAR(c)").as_deref(),
            Some("\"a\"* \"OR\"* \"b\"* \"NEAR\"* \"c\"*")
        );
        assert_eq!(fts_query("  -- ** "), None);
        assert_eq!(fts_query("Café").as_deref(), Some("\"Café\"*"));
    }
}
