//! The gallery: what a listing page asks for and gets, and an image's detail with its lineage.

use serde::{Deserialize, Serialize};

use crate::ImageResult;

/// Images per gallery page.
pub const GALLERY_PAGE_SIZE: usize = 24;

/// How an image came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageKind {
    Generated,
    Edited,
}

impl ImageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ImageKind::Generated => "generated",
            ImageKind::Edited => "edited",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "generated" => Some(ImageKind::Generated),
            "edited" => Some(ImageKind::Edited),
            _ => None,
        }
    }
}

/// A gallery listing request, as the page's URL carries it (`/gallery?q=…&model=…`). Every
/// field is optional text; the server checks and ignores what does not parse.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GalleryQuery {
    /// Words to find in prompts.
    pub q: Option<String>,
    pub model: Option<String>,
    /// `generated` or `edited`.
    pub kind: Option<String>,
    /// First day, `YYYY-MM-DD` (UTC), inclusive.
    pub from: Option<String>,
    /// Last day, `YYYY-MM-DD` (UTC), inclusive.
    pub to: Option<String>,
    /// The page of images older than this cursor.
    pub before: Option<String>,
    /// The page of images newer than this cursor.
    pub after: Option<String>,
}

impl GalleryQuery {
    /// The filters without the paging, as URL query pairs (empty values left out).
    pub fn filter_pairs(&self) -> Vec<(&'static str, &str)> {
        [
            ("q", &self.q),
            ("model", &self.model),
            ("kind", &self.kind),
            ("from", &self.from),
            ("to", &self.to),
        ]
        .into_iter()
        .filter_map(|(k, v)| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(|v| (k, v))
        })
        .collect()
    }

    /// The gallery's URL for these filters and one paging cursor (`before` or `after`).
    pub fn href(&self, paging: Option<(&str, &str)>) -> String {
        let mut pairs = self.filter_pairs();
        pairs.extend(paging);
        href("/gallery", &pairs)
    }

    /// Whether any filter is set.
    pub fn is_filtered(&self) -> bool {
        !self.filter_pairs().is_empty()
    }
}

/// One image in a listing or a lineage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GalleryItem {
    pub id: String,
    pub created_ms: i64,
    pub kind: ImageKind,
    pub prompt: String,
    pub model: String,
    pub aspect_ratio: Option<String>,
    pub image_size: Option<String>,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
    pub total_tokens: u32,
    pub cost_usd: Option<f64>,
    pub parent_id: Option<String>,
    /// The thinking level asked for, where the model took one.
    #[serde(default)]
    pub thinking_level: Option<String>,
    /// Whether Google Search grounded it.
    #[serde(default)]
    pub grounded: bool,
    /// Earlier turns of the conversation the model was sent with it.
    #[serde(default)]
    pub context_turns: u32,
}

impl GalleryItem {
    pub fn url(&self) -> String {
        ImageResult::urls(&self.id).0
    }

    pub fn download_url(&self) -> String {
        ImageResult::urls(&self.id).1
    }

    pub fn thumbnail_url(&self) -> String {
        ImageResult::urls(&self.id).2
    }

    /// The thumbnail at twice the size, for dense screens (made on its first request).
    pub fn thumbnail_2x_url(&self) -> String {
        format!("/images/{}/thumb2x", self.id)
    }

    /// The thumbnails as a `srcset`, each with its real width: one entry when the image is
    /// no wider than the 1× thumbnail (the 2× would be the same size).
    pub fn thumbnail_srcset(&self) -> String {
        let one = crate::fit_within(self.width, self.height, crate::THUMBNAIL_SIDE).0;
        let two = crate::fit_within(self.width, self.height, crate::THUMBNAIL_SIDE * 2).0;
        if two > one {
            format!(
                "{} {one}w, {} {two}w",
                self.thumbnail_url(),
                self.thumbnail_2x_url()
            )
        } else {
            format!("{} {one}w", self.thumbnail_url())
        }
    }

    /// A copy sized for showing on a page (at most [`crate::VIEW_SIDE`] a side; made on its
    /// first request).
    pub fn view_url(&self) -> String {
        format!("/images/{}/view", self.id)
    }

    /// The size of [`Self::view_url`]'s copy.
    pub fn view_size(&self) -> (u32, u32) {
        crate::fit_within(self.width, self.height, crate::VIEW_SIDE)
    }

    pub fn detail_url(&self) -> String {
        format!("/gallery/{}", self.id)
    }
}

/// One page of the gallery.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GalleryPage {
    pub items: Vec<GalleryItem>,
    /// Cursor of the next (older) page.
    pub older: Option<String>,
    /// Cursor of the previous (newer) page.
    pub newer: Option<String>,
    /// Filter values the server could not use, each with why (e.g. a malformed date).
    pub notices: Vec<String>,
}

/// An image with where it came from and what came of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageDetail {
    pub image: GalleryItem,
    /// Parents, nearest first, up to the first source.
    pub ancestors: Vec<LineageEntry>,
    /// Edits made from it, depth-first, with their depth (1 = a direct edit).
    pub descendants: Vec<(GalleryItem, u32)>,
    /// A grounded image's sources.
    #[serde(default)]
    pub grounding: Option<crate::Grounding>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum LineageEntry {
    Present(Box<GalleryItem>),
    /// A parent that was deleted: the chain has a gap here.
    Deleted {
        id: String,
    },
}

/// `path` with `pairs` as its query string, each part percent-encoded.
pub fn href(path: &str, pairs: &[(&str, &str)]) -> String {
    let mut out = path.to_owned();
    for (i, (key, value)) in pairs.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        encode_into(&mut out, key);
        out.push('=');
        encode_into(&mut out, value);
    }
    out
}

fn encode_into(out: &mut String, text: &str) {
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(byte));
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
}

/// Milliseconds since the Unix epoch at the start of a `YYYY-MM-DD` day (UTC).
pub fn parse_day(text: &str) -> Option<i64> {
    let mut parts = text.trim().splitn(3, '-');
    let year: i64 = parts.next()?.parse().ok()?;
    let month: u32 = parts.next()?.parse().ok()?;
    let day: u32 = parts.next()?.parse().ok()?;
    if !(1970..=9999).contains(&year) || !(1..=12).contains(&month) || day < 1 {
        return None;
    }
    if day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400_000)
}

/// `$0.039`: an amount in US dollars, to a tenth of a cent (negative and not-a-number amounts
/// read as zero). By integer arithmetic: a browser island that shows a price then carries no
/// float formatting.
pub fn format_usd(amount: f64) -> String {
    // `as` saturates: NaN becomes 0, and an absurd amount the largest u64.
    let mills = (amount * 1000.0).round().max(0.0) as u64;
    format!("${}.{:03}", mills / 1000, mills % 1000)
}

/// `YYYY-MM-DD HH:MM UTC` for milliseconds since the Unix epoch.
pub fn format_utc(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let minutes = ms.rem_euclid(86_400_000) / 60_000;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        minutes / 60,
        minutes % 60
    )
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollars_show_to_a_tenth_of_a_cent() {
        for (amount, text) in [
            (0.039, "$0.039"),
            (0.0395, "$0.040"),
            (0.134, "$0.134"),
            (1.5, "$1.500"),
            (12.0004, "$12.000"),
            (0.0, "$0.000"),
            (-0.5, "$0.000"),
            (f64::NAN, "$0.000"),
        ] {
            assert_eq!(format_usd(amount), text, "{amount}");
        }
    }

    #[test]
    fn days_parse_and_format_in_utc() {
        assert_eq!(parse_day("1970-01-01"), Some(0));
        assert_eq!(parse_day("2026-11-22"), Some(1_795_305_600_000));
        assert_eq!(
            format_utc(1_795_305_600_000 + 9 * 3_600_000 + 47 * 60_000),
            "2026-11-22 09:47 UTC"
        );
        assert_eq!(
            parse_day("2024-02-29").map(format_utc).as_deref(),
            Some("2024-02-29 00:00 UTC")
        );
        for bad in [
            "2023-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-1",
            "yesterday",
            "",
            "1969-12-31",
        ] {
            assert_eq!(parse_day(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn every_day_for_centuries_round_trips() {
        let start = parse_day("1970-01-01").unwrap() / 86_400_000;
        for day in start..start + 200 * 366 {
            let text = format_utc(day * 86_400_000);
            assert_eq!(parse_day(&text[..10]), Some(day * 86_400_000), "{text}");
        }
    }

    #[test]
    fn filter_pairs_leave_out_empty_values_and_paging() {
        let q = GalleryQuery {
            q: Some(" cat ".into()),
            model: Some(String::new()),
            kind: Some("edited".into()),
            before: Some("1-ab".into()),
            ..Default::default()
        };
        assert_eq!(q.filter_pairs(), [("q", "cat"), ("kind", "edited")]);
        assert!(q.is_filtered());
        assert!(!GalleryQuery::default().is_filtered());
        assert_eq!(
            q.href(Some(("before", "12-ab"))),
            "/gallery?q=cat&kind=edited&before=12-ab"
        );
    }

    #[test]
    fn hrefs_encode_what_a_url_cannot_carry() {
        assert_eq!(
            href("/gallery", &[("q", "red & blue=crème #1")]),
            "/gallery?q=red+%26+blue%3Dcr%C3%A8me+%231"
        );
        assert_eq!(href("/gallery", &[]), "/gallery");
    }
}
