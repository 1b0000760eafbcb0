//! Inward feathering: blend weights that rise from 0 at the painted region's edge to full
//! strength `feather` pixels inside it, with a smoothstep (no visible kink at either end).
//! Pixels outside the painted region weigh 0, so a blend through these weights leaves every
//! unpainted pixel exactly as it was. The image's own border is not an edge: a mask painted up
//! to it takes the edit at full strength there, and one painted everywhere is full everywhere.
//!
//! Work and memory are proportional to the painted box: the weights (a byte a pixel) and,
//! while they are made, a chamfer distance of two bytes a pixel.

use crate::Rect;

/// The weights over `bounds` (the painted box) of a mask of `width`×`height` bytes (non-zero is
/// painted), row by row: `bounds.width() × bounds.height()` bytes, 0 to 255.
pub fn weights(mask: &[u8], width: u32, height: u32, bounds: Rect, feather: u32) -> Vec<u8> {
    let b = bounds.clipped(width, height);
    let stride = width as usize;
    let crop = || {
        let mut out = Vec::with_capacity(b.area() as usize);
        for y in b.y0..b.y1 {
            let start = y as usize * stride + b.x0 as usize;
            out.extend(
                mask[start..start + b.width() as usize]
                    .iter()
                    .map(|&v| if v == 0 { 0 } else { 255 }),
            );
        }
        out
    };
    let whole = b.x0 == 0 && b.y0 == 0 && b.x1 == width && b.y1 == height;
    if feather == 0 || (whole && mask.iter().all(|&v| v != 0)) {
        return crop();
    }
    // One unpainted pixel around the box (where the image has one) is all the distance
    // transform needs to see: every unpainted pixel outside it is farther away.
    let around = Rect {
        x0: b.x0.saturating_sub(1),
        y0: b.y0.saturating_sub(1),
        x1: (b.x1 + 1).min(width),
        y1: (b.y1 + 1).min(height),
    };
    let distance = inside_distance(mask, width, around, feather);
    // Distances are in thirds of a pixel (chamfer 3-4) and capped, so a table covers them all:
    // a smoothstep ramp reaching full at `feather`.
    let full = 3 * feather;
    let ramp: Vec<u8> = (0..=full + 3)
        .map(|d| {
            let t = (f64::from(d) / f64::from(full)).min(1.0);
            (t * t * (3.0 - 2.0 * t) * 255.0).round() as u8
        })
        .collect();
    let (dx, dy) = ((b.x0 - around.x0) as usize, (b.y0 - around.y0) as usize);
    let rw = around.width() as usize;
    let mut out = Vec::with_capacity(b.area() as usize);
    for y in 0..b.height() as usize {
        let row = (y + dy) * rw + dx;
        out.extend(
            distance[row..row + b.width() as usize]
                .iter()
                .map(|&d| ramp[usize::from(d).min(ramp.len() - 1)]),
        );
    }
    out
}

/// For each pixel of `window` (a rectangle of the mask), how far inside the painted region it
/// lies, in thirds of a pixel (a two-pass 3-4 chamfer transform), capped just past
/// `3 * cap`; unpainted pixels are 0. The window is read in place, not copied, and the
/// distances fit two bytes (`cap` is at most 256).
fn inside_distance(mask: &[u8], width: u32, window: Rect, cap: u32) -> Vec<u16> {
    let (wu, hu) = (window.width() as usize, window.height() as usize);
    let limit = u16::try_from(3 * (cap + 1)).unwrap_or(u16::MAX - 8);
    let stride = width as usize;
    let raw = mask;
    let mut d: Vec<u16> = Vec::with_capacity(wu * hu);
    for y in 0..hu {
        let start = (window.y0 as usize + y) * stride + window.x0 as usize;
        d.extend(
            raw[start..start + wu]
                .iter()
                .map(|&p| if p == 0 { 0 } else { limit }),
        );
    }
    let at = |x: usize, y: usize| y * wu + x;
    for y in 0..hu {
        for x in 0..wu {
            let i = at(x, y);
            if d[i] == 0 {
                continue;
            }
            let mut best = d[i];
            if x > 0 {
                best = best.min(d[at(x - 1, y)] + 3);
            }
            if y > 0 {
                best = best.min(d[at(x, y - 1)] + 3);
                if x > 0 {
                    best = best.min(d[at(x - 1, y - 1)] + 4);
                }
                if x + 1 < wu {
                    best = best.min(d[at(x + 1, y - 1)] + 4);
                }
            }
            d[i] = best;
        }
    }
    for y in (0..hu).rev() {
        for x in (0..wu).rev() {
            let i = at(x, y);
            if d[i] == 0 {
                continue;
            }
            let mut best = d[i];
            if x + 1 < wu {
                best = best.min(d[at(x + 1, y)] + 3);
            }
            if y + 1 < hu {
                best = best.min(d[at(x, y + 1)] + 3);
                if x + 1 < wu {
                    best = best.min(d[at(x + 1, y + 1)] + 4);
                }
                if x > 0 {
                    best = best.min(d[at(x - 1, y + 1)] + 4);
                }
            }
            d[i] = best;
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(size: u32, from: u32, to: u32) -> Vec<u8> {
        (0..size * size)
            .map(|i| {
                let (x, y) = (i % size, i / size);
                if (from..to).contains(&x) && (from..to).contains(&y) {
                    255
                } else {
                    0
                }
            })
            .collect()
    }

    #[test]
    fn weights_rise_inward_from_zero_at_the_edge_to_full_past_the_feather() {
        let mask = square(40, 5, 35);
        let b = Rect {
            x0: 5,
            y0: 5,
            x1: 35,
            y1: 35,
        };
        let w = weights(&mask, 40, 40, b, 6);
        let at = |x: u32, y: u32| w[((y - 5) * 30 + (x - 5)) as usize];
        assert!(at(5, 20) < 60, "at the edge: {}", at(5, 20));
        assert!(at(8, 20) > at(6, 20), "rising");
        assert_eq!(at(20, 20), 255, "full inside");
        assert_eq!(weights(&mask, 40, 40, b, 0)[0], 255, "no feather: binary");
    }

    #[test]
    fn the_image_border_is_not_an_edge() {
        let everything = vec![255u8; 100];
        let b = Rect {
            x0: 0,
            y0: 0,
            x1: 10,
            y1: 10,
        };
        assert!(weights(&everything, 10, 10, b, 4).iter().all(|&v| v == 255));
        // A mask painted up to the left border is full there.
        let left: Vec<u8> = (0..100).map(|i| if i % 10 < 5 { 255 } else { 0 }).collect();
        let w = weights(
            &left,
            10,
            10,
            Rect {
                x0: 0,
                y0: 0,
                x1: 5,
                y1: 10,
            },
            2,
        );
        assert_eq!(w[5 * 5], 255, "column 0 of row 5");
        assert!(w[5 * 5 + 4] < 255, "near the inner edge");
    }
}
