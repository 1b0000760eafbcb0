//! Detail where it matters: when the mask covers a small part of a large source, Gemini is
//! sent a frame around the mask instead of the whole image, so the model's answer (about the
//! same number of pixels either way) is spent on the area being edited.
//!
//! The rule ([`choose`]): the mask's painted box, widened on every side by half its longer
//! side plus [`MARGIN`] pixels of context, at least [`MIN_SIDE`] pixels on each side (or the
//! source's side, when smaller), then widened to the nearest aspect ratio the model answers in
//! that fits inside the source, centred on the mask and moved inside the source's edges. The
//! frame is used when it gives at least [`MIN_GAIN`] times the detail of the whole image:
//! detail is the answer's pixels per source pixel along a side, so the gain is the square
//! root of the source's area over the frame's. Otherwise (a large mask, a small source) the
//! whole image goes, as before. Either way the answer is laid back into the full-resolution
//! source through the mask, so nothing outside it changes.

use crate::mask::Rect;

/// Context kept around the mask beyond half its longer side, in source pixels.
pub const MARGIN: u32 = 32;

/// The smallest side of a frame, in source pixels: less would be enlarged by the model from
/// too little context.
pub const MIN_SIDE: u32 = 512;

/// The least gain in detail worth cropping for.
pub const MIN_GAIN: f64 = 1.5;

/// The part of the source Gemini is sent, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    /// In source pixels.
    pub rect: Rect,
    /// The aspect ratio asked of the model, one of its own (`"4:3"`).
    pub aspect_ratio: String,
    /// How many times the detail of the whole-image path, along a side.
    pub gain: f64,
}

/// `"16:9"` as (16, 9).
fn parse_ratio(text: &str) -> Option<(u32, u32)> {
    let (a, b) = text.split_once(':')?;
    let (a, b) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
    (a > 0 && b > 0).then_some((a, b))
}

/// The frame to send for a mask painted over `painted` on a `width`×`height` source, given the
/// aspect ratios the model answers in; `None` when the whole image should go.
pub fn choose(width: u32, height: u32, painted: Rect, ratios: &[String]) -> Option<Frame> {
    if painted.is_empty() || painted.x1 > width || painted.y1 > height {
        return None;
    }
    let (bw, bh) = (u64::from(painted.width()), u64::from(painted.height()));
    let margin = bw.max(bh) / 2 + u64::from(MARGIN);
    let (w0, h0) = (
        (bw + 2 * margin).max(u64::from(MIN_SIDE.min(width))),
        (bh + 2 * margin).max(u64::from(MIN_SIDE.min(height))),
    );
    let want = (w0 as f64 / h0 as f64).ln();
    let mut options: Vec<(f64, u64, u64, &String)> = ratios
        .iter()
        .filter_map(|text| {
            let (a, b) = parse_ratio(text)?;
            let (a, b) = (u64::from(a), u64::from(b));
            // Widen one side to the ratio, never narrow: the mask and its margin stay inside.
            let (w, h) = if w0 * b < h0 * a {
                ((h0 * a).div_ceil(b), h0)
            } else {
                (w0, (w0 * b).div_ceil(a))
            };
            let distance = ((a as f64 / b as f64).ln() - want).abs();
            (w <= u64::from(width) && h <= u64::from(height)).then_some((distance, w, h, text))
        })
        .collect();
    options.sort_by(|x, y| x.0.total_cmp(&y.0));
    let &(_, w, h, ratio) = options.first()?;
    let gain = ((u64::from(width) * u64::from(height)) as f64 / (w * h) as f64).sqrt();
    if gain < MIN_GAIN {
        return None;
    }
    // Centred on the mask, then inside the source.
    let place = |lo: u32, hi: u32, side: u64, limit: u32| -> u32 {
        let centre = (u64::from(lo) + u64::from(hi)) / 2;
        let start = centre.saturating_sub(side / 2);
        start.min(u64::from(limit) - side) as u32
    };
    let (x0, y0) = (
        place(painted.x0, painted.x1, w, width),
        place(painted.y0, painted.y1, h, height),
    );
    Some(Frame {
        rect: Rect {
            x0,
            y0,
            x1: x0 + w as u32,
            y1: y0 + h as u32,
        },
        aspect_ratio: ratio.clone(),
        gain,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ratios() -> Vec<String> {
        ["1:1", "2:3", "3:2", "3:4", "4:3", "9:16", "16:9", "21:9"]
            .map(String::from)
            .to_vec()
    }

    fn rect(x0: u32, y0: u32, x1: u32, y1: u32) -> Rect {
        Rect { x0, y0, x1, y1 }
    }

    #[test]
    fn a_small_mask_on_a_large_photo_gets_a_frame_around_it_with_context() {
        let painted = rect(1000, 1000, 1300, 1300);
        let frame = choose(4000, 3000, painted, &ratios()).expect("a frame");
        // 300 + 2 × (150 + 32) = 664 on each side, square.
        assert_eq!(frame.aspect_ratio, "1:1");
        assert_eq!((frame.rect.width(), frame.rect.height()), (664, 664));
        assert!(frame.rect.x0 <= 1000 - 182 && frame.rect.x1 >= 1300 + 182);
        assert!(frame.rect.y0 <= 1000 - 182 && frame.rect.y1 >= 1300 + 182);
        let gain = (12_000_000f64 / (664.0 * 664.0)).sqrt();
        assert!((frame.gain - gain).abs() < 1e-9, "{}", frame.gain);
    }

    #[test]
    fn the_frame_takes_the_nearest_ratio_and_stays_inside_the_source() {
        // A wide stroke in the top-left corner: 900 + 2 × 482 by 50 + 2 × 482 is 1.84 to 1,
        // nearest 16:9.
        let frame = choose(4000, 3000, rect(0, 10, 900, 60), &ratios()).expect("a frame");
        let r = frame.rect;
        assert_eq!((r.x0, r.y0), (0, 0), "moved inside the edges");
        assert!(r.x1 >= 900 && r.y1 >= 60);
        assert_eq!(frame.aspect_ratio, "16:9");
        let aspect = f64::from(r.width()) / f64::from(r.height());
        assert!((aspect - 16.0 / 9.0).abs() < 0.01, "{aspect}");
        assert_eq!(r.width(), 1864, "only the short side is widened");
    }

    #[test]
    fn large_masks_and_small_sources_keep_the_whole_image() {
        // Half the photo painted: no gain worth it.
        assert_eq!(choose(4000, 3000, rect(0, 0, 2000, 3000), &ratios()), None);
        // A small photo: the frame's least size is most of it.
        assert_eq!(choose(800, 600, rect(100, 100, 150, 150), &ratios()), None);
        // Nothing painted, or a box outside the source.
        assert_eq!(choose(4000, 3000, rect(5, 5, 5, 5), &ratios()), None);
        assert_eq!(choose(4000, 3000, rect(3900, 0, 4100, 10), &ratios()), None);
        // A model with no ratios it can be asked for.
        assert_eq!(choose(4000, 3000, rect(10, 10, 20, 20), &[]), None);
    }

    #[test]
    fn a_tiny_mask_still_sends_enough_context() {
        let frame = choose(6000, 4000, rect(3000, 2000, 3010, 2010), &ratios()).expect("a frame");
        assert!(frame.rect.width() >= MIN_SIDE && frame.rect.height() >= MIN_SIDE);
    }
}
