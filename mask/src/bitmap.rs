//! The mask bitmap and its painting operations.

/// A rectangle of pixels: `x0..x1` × `y0..y1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rect {
    pub x0: u32,
    pub y0: u32,
    pub x1: u32,
    pub y1: u32,
}

impl Rect {
    pub fn width(&self) -> u32 {
        self.x1.saturating_sub(self.x0)
    }

    pub fn height(&self) -> u32 {
        self.y1.saturating_sub(self.y0)
    }

    pub fn is_empty(&self) -> bool {
        self.width() == 0 || self.height() == 0
    }

    /// Pixels in the rectangle.
    pub fn area(&self) -> u64 {
        u64::from(self.width()) * u64::from(self.height())
    }

    /// The smallest rectangle holding both.
    pub fn union(self, other: Rect) -> Rect {
        if self.is_empty() {
            return other;
        }
        if other.is_empty() {
            return self;
        }
        Rect {
            x0: self.x0.min(other.x0),
            y0: self.y0.min(other.y0),
            x1: self.x1.max(other.x1),
            y1: self.y1.max(other.y1),
        }
    }

    /// The part inside `width`×`height`.
    pub fn clipped(self, width: u32, height: u32) -> Rect {
        Rect {
            x0: self.x0.min(width),
            y0: self.y0.min(height),
            x1: self.x1.min(width),
            y1: self.y1.min(height),
        }
    }
}

/// A mask: one byte a pixel, 0 where the source is kept, 255 where it may change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bitmap {
    width: u32,
    height: u32,
    data: Vec<u8>,
}

impl Bitmap {
    /// An empty (nothing painted) mask.
    pub fn new(width: u32, height: u32) -> Self {
        Self::filled(width, height, false)
    }

    /// A mask painted everywhere (`on`) or nowhere.
    pub fn filled(width: u32, height: u32, on: bool) -> Self {
        Self {
            width,
            height,
            data: vec![value(on); width as usize * height as usize],
        }
    }

    /// A mask from bytes (non-zero is painted); `None` when the length is not the size's.
    pub fn from_raw(width: u32, height: u32, mut data: Vec<u8>) -> Option<Self> {
        if data.len() != width as usize * height as usize {
            return None;
        }
        for v in &mut data {
            *v = value(*v != 0);
        }
        Some(Self {
            width,
            height,
            data,
        })
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    /// The bytes, row by row.
    pub fn as_raw(&self) -> &[u8] {
        &self.data
    }

    pub fn into_raw(self) -> Vec<u8> {
        self.data
    }

    /// The whole mask as a rectangle.
    pub fn full(&self) -> Rect {
        Rect {
            x0: 0,
            y0: 0,
            x1: self.width,
            y1: self.height,
        }
    }

    /// Whether `(x, y)` is painted (may change).
    pub fn get(&self, x: u32, y: u32) -> bool {
        x < self.width && y < self.height && self.data[self.index(x, y)] != 0
    }

    fn index(&self, x: u32, y: u32) -> usize {
        y as usize * self.width as usize + x as usize
    }

    /// Whether nothing is painted.
    pub fn is_empty(&self) -> bool {
        self.data.iter().all(|&v| v == 0)
    }

    /// The box around every painted pixel, or `None` when there are none.
    pub fn bounds(&self) -> Option<Rect> {
        bounds_of(&self.data, self.width)
    }

    /// Paints (`on`) or erases a round brush of `radius` pixels along the polyline `points`
    /// (one point paints a dot). Returns the rectangle touched.
    pub fn stroke(&mut self, points: &[(f32, f32)], radius: f32, on: bool) -> Option<Rect> {
        let mut touched: Option<Rect> = None;
        let mut paint = |a: (f32, f32), b: (f32, f32)| {
            if let Some(r) = self.segment(a, b, radius, on) {
                touched = Some(touched.map_or(r, |t| t.union(r)));
            }
        };
        match points {
            [] => {}
            [p] => paint(*p, *p),
            _ => {
                for pair in points.windows(2) {
                    paint(pair[0], pair[1]);
                }
            }
        }
        touched
    }

    /// Paints the capsule of `radius` around the segment `a`–`b`: every pixel whose centre lies
    /// within `radius` of it. Each row is one interval (a capsule is convex), found from the
    /// discs at both ends and the band between them.
    pub fn segment(&mut self, a: (f32, f32), b: (f32, f32), radius: f32, on: bool) -> Option<Rect> {
        let r = radius.max(0.0);
        if !(a.0.is_finite() && a.1.is_finite() && b.0.is_finite() && b.1.is_finite()) {
            return None;
        }
        let (x_min, x_max) = (a.0.min(b.0) - r, a.0.max(b.0) + r);
        let (y_min, y_max) = (a.1.min(b.1) - r, a.1.max(b.1) + r);
        let rows = self.pixel_span(y_min, y_max, self.height)?;
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let len = (dx * dx + dy * dy).sqrt();
        let mut touched: Option<Rect> = None;
        for y in rows.0..rows.1 {
            let cy = y as f32 + 0.5;
            let mut lo = f32::INFINITY;
            let mut hi = f32::NEG_INFINITY;
            for (px, py) in [a, b] {
                let h = r * r - (cy - py) * (cy - py);
                if h >= 0.0 {
                    let w = h.sqrt();
                    lo = lo.min(px - w);
                    hi = hi.max(px + w);
                }
            }
            if len > 0.0 {
                // The band: 0 <= t <= len along the segment, |perpendicular| <= r.
                let (ux, uy) = (dx / len, dy / len);
                if let Some((s, e)) = band_row(a, (ux, uy), len, r, cy) {
                    lo = lo.min(s);
                    hi = hi.max(e);
                }
            }
            if lo > hi || hi < x_min || lo > x_max {
                continue;
            }
            // Pixels whose centre x + 0.5 lies in [lo, hi].
            let Some((x0, x1)) = self.pixel_span(lo, hi, self.width) else {
                continue;
            };
            self.fill_span(y, (x0, x1), on, &mut touched);
        }
        touched
    }

    /// Paints or erases pixels `x0..x1` of row `y`, and grows `touched` by them.
    fn fill_span(&mut self, y: u32, (x0, x1): (u32, u32), on: bool, touched: &mut Option<Rect>) {
        let start = self.index(x0, y);
        self.data[start..start + (x1 - x0) as usize].fill(value(on));
        let row = Rect {
            x0,
            y0: y,
            x1,
            y1: y + 1,
        };
        *touched = Some(touched.map_or(row, |t| t.union(row)));
    }

    /// The whole pixels whose centres lie in `[lo, hi]`, clipped to `0..limit`.
    fn pixel_span(&self, lo: f32, hi: f32, limit: u32) -> Option<(u32, u32)> {
        let first = (lo - 0.5).ceil().max(0.0);
        let last = (hi - 0.5).floor().min(limit as f32 - 1.0);
        (first <= last).then(|| (first as u32, last as u32 + 1))
    }

    /// Paints or erases the pixels whose centres lie inside the rectangle between two corners.
    pub fn rect(&mut self, a: (f32, f32), b: (f32, f32), on: bool) -> Option<Rect> {
        let (cols, rows) = (
            self.pixel_span(a.0.min(b.0), a.0.max(b.0), self.width)?,
            self.pixel_span(a.1.min(b.1), a.1.max(b.1), self.height)?,
        );
        for y in rows.0..rows.1 {
            let start = self.index(cols.0, y);
            self.data[start..start + (cols.1 - cols.0) as usize].fill(value(on));
        }
        Some(Rect {
            x0: cols.0,
            y0: rows.0,
            x1: cols.1,
            y1: rows.1,
        })
    }

    /// Paints or erases the pixels whose centres lie inside the polygon (even-odd rule), as a
    /// lasso closes it.
    pub fn polygon(&mut self, points: &[(f32, f32)], on: bool) -> Option<Rect> {
        if points.len() < 3 || points.iter().any(|p| !p.0.is_finite() || !p.1.is_finite()) {
            return None;
        }
        let y_min = points.iter().map(|p| p.1).fold(f32::INFINITY, f32::min);
        let y_max = points.iter().map(|p| p.1).fold(f32::NEG_INFINITY, f32::max);
        let rows = self.pixel_span(y_min, y_max, self.height)?;
        let mut touched: Option<Rect> = None;
        let mut crossings: Vec<f32> = Vec::new();
        for y in rows.0..rows.1 {
            let cy = y as f32 + 0.5;
            crossings.clear();
            for (i, p) in points.iter().enumerate() {
                let q = points[(i + 1) % points.len()];
                if (p.1 <= cy) != (q.1 <= cy) {
                    crossings.push(p.0 + (cy - p.1) / (q.1 - p.1) * (q.0 - p.0));
                }
            }
            crossings.sort_by(f32::total_cmp);
            for pair in crossings.chunks_exact(2) {
                // Centres strictly inside: x + 0.5 in [left, right).
                let first = (pair[0] - 0.5).ceil().max(0.0);
                let last = ((pair[1] - 0.5).ceil() - 1.0).min(self.width as f32 - 1.0);
                if first > last {
                    continue;
                }
                self.fill_span(y, (first as u32, last as u32 + 1), on, &mut touched);
            }
        }
        touched
    }

    /// Paints (`on`) or clears the whole mask.
    pub fn fill(&mut self, on: bool) -> Rect {
        self.data.fill(value(on));
        self.full()
    }

    /// Painted becomes unpainted and the other way round.
    pub fn invert(&mut self) -> Rect {
        for v in &mut self.data {
            *v = !*v;
        }
        self.full()
    }

    /// A copy of the bytes inside `r` (clipped), row by row.
    pub fn region(&self, r: Rect) -> Vec<u8> {
        let r = r.clipped(self.width, self.height);
        let mut out = Vec::with_capacity(r.area() as usize);
        for y in r.y0..r.y1 {
            let start = self.index(r.x0, y);
            out.extend_from_slice(&self.data[start..start + r.width() as usize]);
        }
        out
    }

    /// Puts back bytes that [`Bitmap::region`] copied from `r`.
    pub fn restore(&mut self, r: Rect, bytes: &[u8]) {
        let r = r.clipped(self.width, self.height);
        let w = r.width() as usize;
        if w == 0 || bytes.len() < w * r.height() as usize {
            return;
        }
        for (row, y) in (r.y0..r.y1).enumerate() {
            let start = self.index(r.x0, y);
            self.data[start..start + w].copy_from_slice(&bytes[row * w..(row + 1) * w]);
        }
    }
}

fn value(on: bool) -> u8 {
    if on { 255 } else { 0 }
}

/// The x-interval of the row `cy` inside the band along a segment from `a` in direction `u`
/// (a unit vector) of length `len`, within `r` of its line.
fn band_row(a: (f32, f32), u: (f32, f32), len: f32, r: f32, cy: f32) -> Option<(f32, f32)> {
    // A point (x, cy): t = (x - ax) ux + (cy - ay) uy in [0, len];
    // s = -(x - ax) uy + (cy - ay) ux in [-r, r]. Both are linear in x.
    let ry = cy - a.1;
    let mut lo = f32::NEG_INFINITY;
    let mut hi = f32::INFINITY;
    let mut constrain = |coef: f32, offset: f32, min: f32, max: f32| -> bool {
        // min <= coef * (x - ax) + offset <= max
        if coef.abs() < 1e-9 {
            return (min..=max).contains(&offset);
        }
        let (p, q) = ((min - offset) / coef, (max - offset) / coef);
        lo = lo.max(p.min(q) + a.0);
        hi = hi.min(p.max(q) + a.0);
        true
    };
    let inside = constrain(u.0, ry * u.1, 0.0, len) && constrain(-u.1, ry * u.0, -r, r);
    (inside && lo <= hi).then_some((lo, hi))
}

/// The box around the non-zero bytes of a `width`-wide image, or `None` when there are none.
pub fn bounds_of(data: &[u8], width: u32) -> Option<Rect> {
    let w = width as usize;
    let mut bounds: Option<Rect> = None;
    for (y, row) in data.chunks_exact(w.max(1)).enumerate() {
        let Some(first) = row.iter().position(|&v| v != 0) else {
            continue;
        };
        let last = row.iter().rposition(|&v| v != 0).unwrap_or(first);
        let (y, first, last) = (y as u32, first as u32, last as u32 + 1);
        bounds = Some(match bounds {
            None => Rect {
                x0: first,
                y0: y,
                x1: last,
                y1: y + 1,
            },
            Some(r) => Rect {
                x0: r.x0.min(first),
                y0: r.y0,
                x1: r.x1.max(last),
                y1: y + 1,
            },
        });
    }
    bounds
}

#[cfg(test)]
mod tests {
    use super::*;

    fn painted(m: &Bitmap) -> Vec<(u32, u32)> {
        (0..m.height())
            .flat_map(|y| (0..m.width()).map(move |x| (x, y)))
            .filter(|&(x, y)| m.get(x, y))
            .collect()
    }

    #[test]
    fn a_one_pixel_brush_along_a_row_paints_exactly_that_row() {
        let mut m = Bitmap::new(20, 10);
        // Anywhere inside row 4, at any fraction: the row and nothing else.
        let touched = m.stroke(&[(2.0, 4.3), (12.7, 4.3)], 0.5, true).unwrap();
        assert_eq!(painted(&m), (2..13).map(|x| (x, 4)).collect::<Vec<_>>());
        assert_eq!(
            touched,
            Rect {
                x0: 2,
                y0: 4,
                x1: 13,
                y1: 5
            }
        );
        // A vertical one, one pixel wide.
        let mut m = Bitmap::new(10, 10);
        m.stroke(&[(3.9, 1.0), (3.9, 8.0)], 0.5, true);
        assert!(painted(&m).iter().all(|&(x, _)| x == 3));
        assert_eq!(painted(&m).len(), 7);
    }

    #[test]
    fn a_dot_is_a_disc_of_the_brush_radius() {
        let mut m = Bitmap::new(21, 21);
        m.stroke(&[(10.5, 10.5)], 5.0, true);
        for (x, y) in painted(&m) {
            let (dx, dy) = (x as f32 + 0.5 - 10.5, y as f32 + 0.5 - 10.5);
            assert!(dx * dx + dy * dy <= 25.0 + 1e-3, "({x},{y})");
        }
        // Every centre within the radius is painted: 81 pixels for r = 5 on a pixel centre.
        assert_eq!(painted(&m).len(), 81);
        assert!(m.get(15, 10) && !m.get(16, 10));
    }

    #[test]
    fn a_diagonal_stroke_is_a_capsule_with_no_gaps() {
        let mut m = Bitmap::new(100, 100);
        m.stroke(&[(10.0, 10.0), (90.0, 80.0)], 3.0, true);
        // Every pixel near the line is painted, every pixel far from it is not.
        let (a, b) = ((10.0f32, 10.0f32), (90.0f32, 80.0f32));
        for y in 0..100 {
            for x in 0..100 {
                let p = (x as f32 + 0.5, y as f32 + 0.5);
                let d = distance_to_segment(p, a, b);
                if d < 2.9 {
                    assert!(m.get(x, y), "({x},{y}) at {d}");
                } else if d > 3.1 {
                    assert!(!m.get(x, y), "({x},{y}) at {d}");
                }
            }
        }
    }

    fn distance_to_segment(p: (f32, f32), a: (f32, f32), b: (f32, f32)) -> f32 {
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let t = (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / (dx * dx + dy * dy)).clamp(0.0, 1.0);
        let (qx, qy) = (a.0 + t * dx - p.0, a.1 + t * dy - p.1);
        (qx * qx + qy * qy).sqrt()
    }

    #[test]
    fn the_eraser_takes_back_what_the_brush_painted() {
        let mut m = Bitmap::new(30, 30);
        m.stroke(&[(5.0, 15.0), (25.0, 15.0)], 4.0, true);
        m.stroke(&[(5.0, 15.0), (25.0, 15.0)], 4.0, false);
        assert!(m.is_empty());
    }

    #[test]
    fn shapes_off_the_edge_are_clipped_and_nothing_outside_is_touched() {
        let mut m = Bitmap::new(10, 10);
        assert_eq!(
            m.rect((-5.0, -5.0), (3.0, 2.0), true),
            Some(Rect {
                x0: 0,
                y0: 0,
                x1: 3,
                y1: 2
            })
        );
        assert_eq!(painted(&m).len(), 6);
        assert_eq!(m.stroke(&[(-50.0, -50.0)], 3.0, true), None);
        assert_eq!(m.rect((20.0, 20.0), (30.0, 30.0), true), None);
        let mut n = Bitmap::new(10, 10);
        assert!(
            n.stroke(&[(f32::NAN, 1.0), (2.0, 2.0)], 3.0, true)
                .is_none()
        );
    }

    #[test]
    fn a_lasso_fills_its_inside() {
        let mut m = Bitmap::new(20, 20);
        // A square from (2,2) to (10,10): centres 2.5..9.5 inside.
        m.polygon(&[(2.0, 2.0), (10.0, 2.0), (10.0, 10.0), (2.0, 10.0)], true);
        assert_eq!(painted(&m).len(), 64);
        assert!(m.get(2, 2) && m.get(9, 9) && !m.get(10, 9) && !m.get(1, 5));
        // A triangle has fewer.
        let mut t = Bitmap::new(20, 20);
        t.polygon(&[(0.0, 0.0), (16.0, 0.0), (0.0, 16.0)], true);
        assert!(t.get(1, 1) && !t.get(12, 12));
    }

    #[test]
    fn fill_invert_and_bounds() {
        let mut m = Bitmap::new(8, 6);
        assert_eq!(m.bounds(), None);
        m.rect((2.0, 1.0), (5.0, 3.0), true);
        assert_eq!(
            m.bounds(),
            Some(Rect {
                x0: 2,
                y0: 1,
                x1: 5,
                y1: 3
            })
        );
        m.invert();
        assert!(!m.get(3, 2) && m.get(0, 0));
        m.fill(false);
        assert!(m.is_empty());
        m.fill(true);
        assert_eq!(m.bounds(), Some(m.full()));
    }

    #[test]
    fn a_region_restores_what_it_copied() {
        let mut m = Bitmap::new(16, 16);
        m.stroke(&[(3.0, 3.0), (12.0, 12.0)], 2.0, true);
        let before = m.clone();
        let r = Rect {
            x0: 2,
            y0: 2,
            x1: 14,
            y1: 9,
        };
        let saved = m.region(r);
        m.fill(true);
        m.restore(r, &saved);
        assert_eq!(m.region(r), before.region(r));
    }
}
