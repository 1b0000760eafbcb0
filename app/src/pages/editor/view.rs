//! Where the image sits on the stage: zoom and pan as plain arithmetic, so every conversion
//! between a pointer on the screen and a pixel of the image is one tested function.
//!
//! Screen coordinates are CSS pixels from the stage's top-left corner; image coordinates are
//! the source's own pixels. `zoom` is screen pixels per image pixel (1.0 is "100 %").

use mask::Rect;

/// The stage's view of the image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct View {
    /// Screen pixels per image pixel.
    pub zoom: f64,
    /// Where the image's top-left corner lands on the screen.
    pub x: f64,
    pub y: f64,
}

/// How far in and out the stage goes.
pub const MIN_ZOOM: f64 = 1.0 / 64.0;
pub const MAX_ZOOM: f64 = 32.0;

impl View {
    /// The whole image, centred, as large as the stage allows.
    pub fn fit(stage: (f64, f64), image: (u32, u32)) -> Self {
        let (iw, ih) = (f64::from(image.0.max(1)), f64::from(image.1.max(1)));
        let zoom = (stage.0 / iw).min(stage.1 / ih).clamp(MIN_ZOOM, MAX_ZOOM);
        Self::centred(stage, image, zoom)
    }

    /// The image at `zoom`, centred on the stage.
    pub fn centred(stage: (f64, f64), image: (u32, u32), zoom: f64) -> Self {
        Self {
            zoom,
            x: (stage.0 - f64::from(image.0) * zoom) / 2.0,
            y: (stage.1 - f64::from(image.1) * zoom) / 2.0,
        }
    }

    /// One image pixel to one screen pixel, keeping the image point under `at` where it is.
    pub fn actual_size(&self, at: (f64, f64)) -> Self {
        self.zoom_at(at, 1.0 / self.zoom)
    }

    /// The image point under the screen point `p`.
    pub fn to_image(self, p: (f64, f64)) -> (f64, f64) {
        ((p.0 - self.x) / self.zoom, (p.1 - self.y) / self.zoom)
    }

    /// Where the image point `p` is on the screen.
    pub fn to_screen(self, p: (f64, f64)) -> (f64, f64) {
        (self.x + p.0 * self.zoom, self.y + p.1 * self.zoom)
    }

    /// Zoomed by `factor` (within [`MIN_ZOOM`]..[`MAX_ZOOM`]) around the screen point `at`:
    /// the image point under it stays under it.
    pub fn zoom_at(&self, at: (f64, f64), factor: f64) -> Self {
        let zoom = (self.zoom * factor).clamp(MIN_ZOOM, MAX_ZOOM);
        let anchor = self.to_image(at);
        Self {
            zoom,
            x: at.0 - anchor.0 * zoom,
            y: at.1 - anchor.1 * zoom,
        }
    }

    /// Moved by `(dx, dy)` screen pixels.
    pub fn pan(&self, dx: f64, dy: f64) -> Self {
        Self {
            x: self.x + dx,
            y: self.y + dy,
            ..*self
        }
    }

    /// The part of the image on the stage, in whole image pixels (clipped to the image): what
    /// a redraw has to draw.
    pub fn visible(&self, stage: (f64, f64), image: (u32, u32)) -> Rect {
        let (a, b) = (self.to_image((0.0, 0.0)), self.to_image(stage));
        let clamp = |v: f64, max: u32| v.clamp(0.0, f64::from(max)) as u32;
        Rect {
            x0: clamp(a.0.floor(), image.0),
            y0: clamp(a.1.floor(), image.1),
            x1: clamp(b.0.ceil(), image.0),
            y1: clamp(b.1.ceil(), image.1),
        }
    }

    /// The zoom in percent, as the stage shows it.
    pub fn percent(&self) -> u32 {
        (self.zoom * 100.0).round() as u32
    }
}

/// What a wheel turn does to the zoom: a notch (100 units) zooms by about 12 %.
pub fn wheel_factor(delta_y: f64) -> f64 {
    (-delta_y / 800.0).exp2()
}

/// Two pointers that moved from `(a0, b0)` to `(a1, b1)`: the zoom factor their spread made and
/// the pan their midpoint made, applied around the old midpoint.
pub fn pinch(
    view: &View,
    (a0, b0): ((f64, f64), (f64, f64)),
    (a1, b1): ((f64, f64), (f64, f64)),
) -> View {
    let spread = |a: (f64, f64), b: (f64, f64)| ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt();
    let mid = |a: (f64, f64), b: (f64, f64)| ((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0);
    let (d0, d1) = (spread(a0, b0), spread(a1, b1));
    let factor = if d0 > 1.0 { d1 / d0 } else { 1.0 };
    let (m0, m1) = (mid(a0, b0), mid(a1, b1));
    view.zoom_at(m0, factor).pan(m1.0 - m0.0, m1.1 - m0.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: (f64, f64), b: (f64, f64)) -> bool {
        (a.0 - b.0).abs() < 1e-9 && (a.1 - b.1).abs() < 1e-9
    }

    #[test]
    fn fit_shows_the_whole_image_centred() {
        let v = View::fit((800.0, 600.0), (4000, 3000));
        assert!((v.zoom - 0.2).abs() < 1e-12);
        assert!(close(v.to_screen((0.0, 0.0)), (0.0, 0.0)));
        assert!(close(v.to_screen((4000.0, 3000.0)), (800.0, 600.0)));
        let tall = View::fit((800.0, 600.0), (1000, 3000));
        assert!(
            close(tall.to_screen((500.0, 1500.0)), (400.0, 300.0)),
            "centred"
        );
    }

    #[test]
    fn screen_and_image_points_convert_both_ways() {
        let v = View {
            zoom: 4.0,
            x: -100.0,
            y: 30.0,
        };
        for p in [(0.0, 0.0), (12.5, 7.25), (1000.0, 3.0)] {
            assert!(close(v.to_image(v.to_screen(p)), p));
        }
        // At 400 %, a screen pixel is a quarter of an image pixel.
        assert!(close(v.to_image((-96.0, 34.0)), (1.0, 1.0)));
    }

    #[test]
    fn zooming_keeps_the_point_under_the_pointer() {
        let v = View::fit((800.0, 600.0), (4000, 3000));
        let at = (123.0, 456.0);
        let under = v.to_image(at);
        for factor in [2.0, 0.5, 7.3] {
            let z = v.zoom_at(at, factor);
            assert!(close(z.to_image(at), under), "{factor}");
        }
        let full = v.actual_size(at);
        assert!((full.zoom - 1.0).abs() < 1e-12);
        assert!(close(full.to_image(at), under));
        assert_eq!(v.zoom_at(at, 1e9).zoom, MAX_ZOOM);
        assert_eq!(v.zoom_at(at, 1e-9).zoom, MIN_ZOOM);
    }

    #[test]
    fn the_visible_part_is_what_the_stage_shows_and_no_more() {
        let v = View {
            zoom: 2.0,
            x: -1000.0,
            y: -500.0,
        };
        let r = v.visible((800.0, 600.0), (4000, 3000));
        assert_eq!((r.x0, r.y0, r.x1, r.y1), (500, 250, 900, 550));
        let all = View::fit((800.0, 600.0), (4000, 3000)).visible((800.0, 600.0), (4000, 3000));
        assert_eq!((all.x0, all.y0, all.x1, all.y1), (0, 0, 4000, 3000));
    }

    #[test]
    fn a_pinch_zooms_by_its_spread_and_pans_by_its_middle() {
        let v = View {
            zoom: 1.0,
            x: 0.0,
            y: 0.0,
        };
        let p = pinch(
            &v,
            ((100.0, 100.0), (200.0, 100.0)),
            ((50.0, 100.0), (250.0, 100.0)),
        );
        assert!((p.zoom - 2.0).abs() < 1e-12);
        assert!(
            close(p.to_image((150.0, 100.0)), (150.0, 100.0)),
            "the middle stays"
        );
        let moved = pinch(&v, ((0.0, 0.0), (10.0, 0.0)), ((20.0, 30.0), (30.0, 30.0)));
        assert!(close(moved.to_screen((0.0, 0.0)), (20.0, 30.0)));
        assert!(wheel_factor(-100.0) > 1.0 && wheel_factor(100.0) < 1.0);
    }
}
