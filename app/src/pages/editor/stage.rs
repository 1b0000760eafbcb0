//! The stage: the source being edited and its mask, drawn on one canvas under the view's zoom
//! and pan, and every way of painting on it.
//!
//! - Drawing: only what is visible is drawn (the image's visible rectangle, scaled), once per
//!   animation frame however many changes came in it; the mask is an overlay canvas at the
//!   source's size, updated only where a change touched it.
//! - Painting: a stroke (brush or eraser), a rectangle or a lasso, in image pixels through
//!   `mask::Bitmap`, so painting is exact at any zoom; pointer capture joins a stroke that
//!   leaves the canvas and comes back. Every change is one undo step.
//! - Moving: the wheel zooms around the pointer; Space-drag, a middle-button drag and two
//!   fingers pan (two fingers also pinch to zoom); one finger paints.
//! - Keyboard: the canvas takes focus; a rectangle moves with the arrow keys (Shift resizes
//!   it), Enter paints it, Alt+Enter erases it.
//! - Comparing: with a result of this source, the stage shows it against the source, split
//!   where the slider says (or all before while "Hold to compare" is pressed).

use leptos::prelude::*;
use mask::{Bitmap, Rect};
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

use super::{
    EditorState,
    local::{Gesture, canvas},
    tool::Tool,
    view::{self, View},
};

/// The size of the stage on the screen, in CSS pixels.
fn stage_size(state: EditorState) -> Option<(f64, f64)> {
    let canvas: HtmlCanvasElement = state.stage.get_untracked()?;
    let (w, h) = (canvas.client_width(), canvas.client_height());
    (w > 0 && h > 0).then(|| (f64::from(w), f64::from(h)))
}

/// The active source's size.
fn image_size(state: EditorState) -> Option<(u32, u32)> {
    state.active_source().and_then(|s| s.size())
}

/// Shows the whole image.
pub fn fit(state: EditorState) {
    if let (Some(stage), Some(image)) = (stage_size(state), image_size(state)) {
        state.view.set(View::fit(stage, image));
    }
    request_redraw(state);
}

/// One image pixel to one screen pixel, around the stage's centre.
pub fn actual_size(state: EditorState) {
    if let Some((w, h)) = stage_size(state) {
        state
            .view
            .update(|v| *v = v.actual_size((w / 2.0, h / 2.0)));
    }
}

/// Zooms by `factor` around the stage's centre.
pub fn zoom_by(state: EditorState, factor: f64) {
    if let Some((w, h)) = stage_size(state) {
        state
            .view
            .update(|v| *v = v.zoom_at((w / 2.0, h / 2.0), factor));
    }
}

/// Runs a one-shot change on the active mask as one undo step, and redraws what it touched.
pub fn change_mask(state: EditorState, what: &str, op: impl FnOnce(&mut Bitmap) -> Option<Rect>) {
    let Some(key) = state.active.get_untracked() else {
        return;
    };
    let changed = state.local.try_update_value(|l| {
        let mask = l.masks.get_mut(&key)?;
        let rect = mask.history.apply(&mut mask.bitmap, op)?;
        mask.paint_overlay(rect);
        Some(rect)
    });
    if changed.flatten().is_some() {
        mask_changed(state, what);
    }
}

/// Undoes (`back`) or redoes the last change of the active mask.
pub fn step(state: EditorState, back: bool) {
    let Some(key) = state.active.get_untracked() else {
        return;
    };
    let changed = state.local.try_update_value(|l| {
        let mask = l.masks.get_mut(&key)?;
        let rect = if back {
            mask.history.undo(&mut mask.bitmap)
        } else {
            mask.history.redo(&mut mask.bitmap)
        }?;
        mask.paint_overlay(rect);
        Some(rect)
    });
    if changed.flatten().is_some() {
        mask_changed(state, if back { "Undone." } else { "Redone." });
    }
}

/// Replaces the active mask by `bitmap` (a mask loaded from a file), as one undo step.
pub fn replace_mask(state: EditorState, bitmap: Bitmap) -> bool {
    let Some(key) = state.active.get_untracked() else {
        return false;
    };
    let ok = state
        .local
        .try_update_value(|l| {
            let mask = l.masks.get_mut(&key)?;
            if (mask.bitmap.width(), mask.bitmap.height()) != (bitmap.width(), bitmap.height()) {
                return None;
            }
            let before = std::mem::replace(&mut mask.bitmap, bitmap);
            let full = mask.bitmap.full();
            mask.history.record(&before, &mask.bitmap, full);
            mask.paint_overlay(full);
            Some(())
        })
        .flatten()
        .is_some();
    if ok {
        mask_changed(state, "Mask loaded.");
    }
    ok
}

/// After any change to a mask: redraw, and tell what happened.
fn mask_changed(state: EditorState, what: &str) {
    state.mask_version.update(|v| *v += 1);
    state.say(what);
    request_redraw(state);
}

/// Whether the active mask has anything painted.
pub fn painted(state: EditorState) -> bool {
    state.mask_version.track();
    let Some(key) = state.active.get() else {
        return false;
    };
    state.local.with_value(|l| {
        l.masks
            .get(&key)
            .is_some_and(|m| m.bitmap.bounds().is_some())
    })
}

/// Whether the active mask can be undone, and redone.
pub fn can_step(state: EditorState) -> (bool, bool) {
    state.mask_version.track();
    let Some(key) = state.active.get() else {
        return (false, false);
    };
    state.local.with_value(|l| {
        l.masks.get(&key).map_or((false, false), |m| {
            (m.history.can_undo(), m.history.can_redo())
        })
    })
}

/// Asks for a redraw at the next animation frame (many changes in a frame draw once).
pub fn request_redraw(state: EditorState) {
    let already = state
        .local
        .try_update_value(|l| std::mem::replace(&mut l.redraw_pending, true));
    if already != Some(false) {
        return;
    }
    request_animation_frame(move || {
        state.local.update_value(|l| l.redraw_pending = false);
        draw(state);
    });
}

/// Draws the stage: the visible part of the image, the mask (or the feather it makes), a shape
/// being drawn, the keyboard rectangle, the brush cursor; or the comparison with the result.
fn draw(state: EditorState) {
    let Some(canvas) = state.stage.get_untracked() else {
        return;
    };
    let Some(ctx) = context(&canvas) else {
        return;
    };
    let Some(key) = state.active.get_untracked() else {
        return;
    };
    let dpr = window().device_pixel_ratio().max(1.0);
    let (cw, ch) = (
        f64::from(canvas.client_width()),
        f64::from(canvas.client_height()),
    );
    let (pw, ph) = ((cw * dpr).round() as u32, (ch * dpr).round() as u32);
    if canvas.width() != pw || canvas.height() != ph {
        canvas.set_width(pw);
        canvas.set_height(ph);
    }
    let _ = ctx.set_transform(1.0, 0.0, 0.0, 1.0, 0.0, 0.0);
    ctx.clear_rect(0.0, 0.0, f64::from(pw), f64::from(ph));
    let v = state.view.get_untracked();
    let comparing = comparison(state);
    let tool = state.tool.get_untracked();
    let feather = state.feather_preview.get_untracked();
    let brush = f64::from(state.brush.get_untracked());
    state.local.with_value(|l| {
        let Some(image) = l.images.get(&key) else {
            return;
        };
        let (iw, ih) = (image.natural_width(), image.natural_height());
        let r = v.visible((cw, ch), (iw, ih));
        if r.is_empty() {
            return;
        }
        // Image pixels to device pixels; sharp pixels once they are larger than a screen one.
        let _ = ctx.set_transform(dpr * v.zoom, 0.0, 0.0, dpr * v.zoom, dpr * v.x, dpr * v.y);
        ctx.set_image_smoothing_enabled(v.zoom < 2.0);
        let (sx, sy, sw, sh) = (
            f64::from(r.x0),
            f64::from(r.y0),
            f64::from(r.width()),
            f64::from(r.height()),
        );
        let _ = ctx.draw_image_with_html_image_element_and_sw_and_sh_and_dx_and_dy_and_dw_and_dh(
            image, sx, sy, sw, sh, sx, sy, sw, sh,
        );
        if let Some((split, result)) = comparing.and_then(|c| {
            l.result_image
                .as_ref()
                .map(|(_, img)| (c, img))
                .filter(|(_, img)| (img.natural_width(), img.natural_height()) == (iw, ih))
        }) {
            // After, from the split to the right; before stays on the left.
            let from = (f64::from(iw) * split).clamp(sx, sx + sw);
            let width = sx + sw - from;
            if width > 0.0 {
                let _ = ctx
                    .draw_image_with_html_image_element_and_sw_and_sh_and_dx_and_dy_and_dw_and_dh(
                        result, from, sy, width, sh, from, sy, width, sh,
                    );
            }
            let _ = ctx.set_transform(dpr, 0.0, 0.0, dpr, 0.0, 0.0);
            let x = v.to_screen((f64::from(iw) * split, 0.0)).0;
            ctx.set_fill_style_str("#ffffff");
            ctx.fill_rect(x - 1.0, 0.0, 2.0, ch);
            return;
        }
        if let Some(mask) = l.masks.get(&key) {
            if feather {
                if let Some((preview, origin)) = feather_picture(&mask.bitmap, state.feather_px) {
                    ctx.set_global_alpha(0.6);
                    let _ = ctx.draw_image_with_html_canvas_element(
                        &preview,
                        f64::from(origin.0),
                        f64::from(origin.1),
                    );
                }
            } else if let Some((overlay, _)) = &mask.overlay {
                ctx.set_global_alpha(0.5);
                let _ = ctx
                    .draw_image_with_html_canvas_element_and_sw_and_sh_and_dx_and_dy_and_dw_and_dh(
                        overlay, sx, sy, sw, sh, sx, sy, sw, sh,
                    );
            }
            ctx.set_global_alpha(1.0);
        }
        // What is drawn over the picture is in screen pixels.
        let _ = ctx.set_transform(dpr, 0.0, 0.0, dpr, 0.0, 0.0);
        outline_shape(&ctx, &v, &l.gesture, l.key_rect);
        if let Some(p) = l.hover
            && matches!(tool, Tool::Brush | Tool::Eraser)
            && matches!(l.gesture, Gesture::Idle | Gesture::Stroke { .. })
        {
            // The brush at its true size on the screen.
            let radius = (brush / 2.0 * v.zoom).max(1.5);
            ctx.begin_path();
            let _ = ctx.arc(p.0, p.1, radius, 0.0, std::f64::consts::TAU);
            ctx.set_line_width(1.5);
            ctx.set_stroke_style_str("rgba(0,0,0,0.8)");
            ctx.stroke();
            ctx.begin_path();
            let _ = ctx.arc(
                p.0,
                p.1,
                (radius - 1.5).max(0.5),
                0.0,
                std::f64::consts::TAU,
            );
            ctx.set_stroke_style_str("rgba(255,255,255,0.9)");
            ctx.stroke();
        }
    });
}

/// The comparison's split (0: all before, 1: all after), when the result of an edit of the
/// active source is on the stage.
fn comparison(state: EditorState) -> Option<f64> {
    let outcome = state.result.get_untracked()?;
    let (key, _) = outcome.before?;
    (Some(key) == state.active.get_untracked()).then(|| state.compare.get_untracked())
}

fn context(canvas: &HtmlCanvasElement) -> Option<CanvasRenderingContext2d> {
    canvas.get_context("2d").ok()??.dyn_into().ok()
}

/// The outline of a rectangle or lasso being drawn, and of the keyboard rectangle.
fn outline_shape(
    ctx: &CanvasRenderingContext2d,
    v: &View,
    gesture: &Gesture,
    key_rect: Option<(f64, f64, f64, f64)>,
) {
    let dashed = |ctx: &CanvasRenderingContext2d| {
        ctx.set_line_width(1.5);
        ctx.set_stroke_style_str("#ffffff");
        ctx.stroke();
        ctx.set_stroke_style_str("#6d3ff5");
        let _ = ctx.set_line_dash(&js_sys::Array::of2(&4.0.into(), &4.0.into()));
        ctx.stroke();
        let _ = ctx.set_line_dash(&js_sys::Array::new());
    };
    let rect = |a: (f64, f64), b: (f64, f64)| {
        let (p, q) = (v.to_screen(a), v.to_screen(b));
        ctx.begin_path();
        ctx.rect(
            p.0.min(q.0),
            p.1.min(q.1),
            (q.0 - p.0).abs(),
            (q.1 - p.1).abs(),
        );
        dashed(ctx);
    };
    match gesture {
        Gesture::Rectangle { start, end, .. } => rect(*start, *end),
        Gesture::Lasso { points, .. } if points.len() > 1 => {
            ctx.begin_path();
            for (i, p) in points.iter().enumerate() {
                let s = v.to_screen(*p);
                if i == 0 {
                    ctx.move_to(s.0, s.1);
                } else {
                    ctx.line_to(s.0, s.1);
                }
            }
            ctx.close_path();
            dashed(ctx);
        }
        _ => {}
    }
    if let Some((x, y, w, h)) = key_rect {
        rect((x, y), (x + w, y + h));
    }
}

/// The feather the server will make of this mask, as a picture of its painted box: the mask
/// colour at the weight's opacity.
fn feather_picture(bitmap: &Bitmap, feather: u32) -> Option<(HtmlCanvasElement, (u32, u32))> {
    let bounds = bitmap.bounds()?;
    let weights = mask::feather::weights(
        bitmap.as_raw(),
        bitmap.width(),
        bitmap.height(),
        bounds,
        feather,
    );
    let (canvas, ctx) = canvas(bounds.width(), bounds.height())?;
    let mut rgba = Vec::with_capacity(weights.len() * 4);
    for w in weights {
        let [r, g, b] = super::local::MASK_RGB;
        rgba.extend_from_slice(&[r, g, b, w]);
    }
    let data = web_sys::ImageData::new_with_u8_clamped_array_and_sh(
        wasm_bindgen::Clamped(&rgba),
        bounds.width(),
        bounds.height(),
    )
    .ok()?;
    ctx.put_image_data(&data, 0.0, 0.0).ok()?;
    Some((canvas, (bounds.x0, bounds.y0)))
}

/// Where a pointer or wheel event is on the stage, in CSS pixels. Browsers report fractions
/// of a pixel (`web-sys` rounds `clientX` to an integer), which matter when zoomed in.
fn at(canvas: &HtmlCanvasElement, ev: &web_sys::MouseEvent) -> (f64, f64) {
    let rect = canvas.get_bounding_client_rect();
    let exact = |name: &str, rounded: i32| {
        js_sys::Reflect::get(ev, &name.into())
            .ok()
            .and_then(|v| v.as_f64())
            .unwrap_or(f64::from(rounded))
    };
    (
        exact("clientX", ev.client_x()) - rect.left(),
        exact("clientY", ev.client_y()) - rect.top(),
    )
}

fn on_pointer_down(state: EditorState, ev: web_sys::PointerEvent) {
    let Some(canvas) = state.stage.get_untracked() else {
        return;
    };
    if comparison(state).is_some() {
        return;
    }
    ev.prevent_default();
    let _ = canvas.focus();
    let p = at(&canvas, &ev);
    let id = ev.pointer_id();
    let _ = canvas.set_pointer_capture(id);
    let v = state.view.get_untracked();
    let touch = ev.pointer_type() == "touch";
    if touch {
        let second = state.local.try_update_value(|l| {
            l.touches.insert(id, p);
            (l.touches.len() == 2).then(|| {
                let mut pair = l.touches.values().copied();
                let pair = (pair.next().unwrap_or(p), pair.next().unwrap_or(p));
                // A stroke the first finger began is taken back: two fingers move the view.
                let cancelled = std::mem::replace(&mut l.gesture, Gesture::Pinch { last: pair });
                if let (
                    Gesture::Stroke {
                        before, touched, ..
                    },
                    Some(key),
                ) = (cancelled, state.active.get_untracked())
                    && let Some(mask) = l.masks.get_mut(&key)
                    && let Some(rect) = touched
                {
                    mask.bitmap.restore(rect, &before.region(rect));
                    mask.paint_overlay(rect);
                }
            })
        });
        if second.flatten().is_some() {
            request_redraw(state);
            return;
        }
    }
    let space = state.local.with_value(|l| l.space);
    let tool = state.tool.get_untracked();
    let gesture = if ev.button() == 1 || space || tool == Tool::Pan {
        Gesture::Pan {
            pointer: id,
            last: p,
        }
    } else {
        let q = v.to_image(p);
        let erase = tool == Tool::Eraser || ev.alt_key();
        match tool {
            Tool::Rectangle => Gesture::Rectangle {
                pointer: id,
                start: q,
                end: q,
                erase: ev.alt_key(),
            },
            Tool::Lasso => Gesture::Lasso {
                pointer: id,
                points: vec![q],
                erase: ev.alt_key(),
            },
            _ => {
                let Some(key) = state.active.get_untracked() else {
                    return;
                };
                let radius = brush_radius(state);
                let begun = state.local.try_update_value(|l| {
                    let mask = l.masks.get_mut(&key)?;
                    let before = mask.bitmap.clone();
                    let touched = mask
                        .bitmap
                        .stroke(&[(q.0 as f32, q.1 as f32)], radius, !erase);
                    if let Some(rect) = touched {
                        mask.paint_overlay(rect);
                    }
                    Some((before, touched))
                });
                let Some((before, touched)) = begun.flatten() else {
                    return;
                };
                Gesture::Stroke {
                    pointer: id,
                    before,
                    last: q,
                    touched,
                    erase,
                }
            }
        }
    };
    state.local.update_value(|l| l.gesture = gesture);
    request_redraw(state);
}

fn brush_radius(state: EditorState) -> f32 {
    (state.brush.get_untracked().max(1) as f32) / 2.0
}

fn on_pointer_move(state: EditorState, ev: web_sys::PointerEvent) {
    let Some(canvas) = state.stage.get_untracked() else {
        return;
    };
    let p = at(&canvas, &ev);
    let id = ev.pointer_id();
    let v = state.view.get_untracked();
    let q = v.to_image(p);
    let radius = brush_radius(state);
    let key = state.active.get_untracked();
    let mut new_view = None;
    state.local.update_value(|l| {
        l.hover = (ev.pointer_type() != "touch").then_some(p);
        if l.touches.contains_key(&id) {
            l.touches.insert(id, p);
        }
        match &mut l.gesture {
            Gesture::Stroke {
                pointer,
                last,
                touched,
                erase,
                ..
            } if *pointer == id => {
                let from = *last;
                *last = q;
                let Some(mask) = key.and_then(|k| l.masks.get_mut(&k)) else {
                    return;
                };
                // From the last point to this one: a fast stroke is joined, never dotted.
                let points = [(from.0 as f32, from.1 as f32), (q.0 as f32, q.1 as f32)];
                if let Some(rect) = mask.bitmap.stroke(&points, radius, !*erase) {
                    mask.paint_overlay(rect);
                    *touched = Some(touched.map_or(rect, |t| t.union(rect)));
                }
            }
            Gesture::Rectangle { pointer, end, .. } if *pointer == id => *end = q,
            Gesture::Lasso {
                pointer, points, ..
            } if *pointer == id => points.push(q),
            Gesture::Pan { pointer, last } if *pointer == id => {
                new_view = Some(v.pan(p.0 - last.0, p.1 - last.1));
                *last = p;
            }
            Gesture::Pinch { last } => {
                let mut pair = l.touches.values().copied();
                if let (Some(a), Some(b)) = (pair.next(), pair.next()) {
                    new_view = Some(view::pinch(&v, *last, (a, b)));
                    *last = (a, b);
                }
            }
            _ => {}
        }
    });
    if let Some(v) = new_view {
        state.view.set(v);
    }
    request_redraw(state);
}

fn on_pointer_up(state: EditorState, ev: web_sys::PointerEvent) {
    let id = ev.pointer_id();
    let key = state.active.get_untracked();
    let done = state.local.try_update_value(|l| {
        l.touches.remove(&id);
        let finished = match &l.gesture {
            Gesture::Stroke { pointer, .. }
            | Gesture::Rectangle { pointer, .. }
            | Gesture::Lasso { pointer, .. }
            | Gesture::Pan { pointer, .. } => *pointer == id,
            Gesture::Pinch { .. } => l.touches.len() < 2,
            Gesture::Idle => false,
        };
        if !finished {
            return None;
        }
        let gesture = std::mem::take(&mut l.gesture);
        let mask = key.and_then(|k| l.masks.get_mut(&k))?;
        match gesture {
            Gesture::Stroke {
                before,
                touched,
                erase,
                ..
            } => {
                let rect = touched?;
                mask.history.record(&before, &mask.bitmap, rect)?;
                Some(if erase { "Erased." } else { "Painted." })
            }
            Gesture::Rectangle {
                start, end, erase, ..
            } => {
                let rect = mask.history.apply(&mut mask.bitmap, |m| {
                    m.rect(
                        (start.0 as f32, start.1 as f32),
                        (end.0 as f32, end.1 as f32),
                        !erase,
                    )
                })?;
                mask.paint_overlay(rect);
                Some("Rectangle painted.")
            }
            Gesture::Lasso { points, erase, .. } => {
                let points: Vec<(f32, f32)> =
                    points.iter().map(|p| (p.0 as f32, p.1 as f32)).collect();
                let rect = mask
                    .history
                    .apply(&mut mask.bitmap, |m| m.polygon(&points, !erase))?;
                mask.paint_overlay(rect);
                Some("Lasso painted.")
            }
            _ => None,
        }
    });
    match done.flatten() {
        Some(what) => mask_changed(state, what),
        None => request_redraw(state),
    }
}

fn on_wheel(state: EditorState, ev: web_sys::WheelEvent) {
    let Some(canvas) = state.stage.get_untracked() else {
        return;
    };
    ev.prevent_default();
    let p = at(&canvas, &ev);
    // Lines and pages are bigger steps than pixels.
    let scale = match ev.delta_mode() {
        1 => 33.0,
        2 => 400.0,
        _ => 1.0,
    };
    state
        .view
        .update(|v| *v = v.zoom_at(p, view::wheel_factor(ev.delta_y() * scale)));
    request_redraw(state);
}

/// The keyboard rectangle: arrows move it, Shift+arrows resize it, Enter paints it, Alt+Enter
/// erases it.
fn on_key(state: EditorState, ev: web_sys::KeyboardEvent) {
    let Some((iw, ih)) = image_size(state) else {
        return;
    };
    let (iw, ih) = (f64::from(iw), f64::from(ih));
    let step = (iw.max(ih) / 100.0).max(1.0);
    let key = ev.key();
    let (dx, dy) = match key.as_str() {
        "ArrowLeft" => (-step, 0.0),
        "ArrowRight" => (step, 0.0),
        "ArrowUp" => (0.0, -step),
        "ArrowDown" => (0.0, step),
        "Enter" => {
            ev.prevent_default();
            let rect = state.local.with_value(|l| l.key_rect);
            if let Some((x, y, w, h)) = rect {
                let erase = ev.alt_key();
                change_mask(
                    state,
                    if erase {
                        "Rectangle erased."
                    } else {
                        "Rectangle painted."
                    },
                    |m| {
                        m.rect(
                            (x as f32, y as f32),
                            ((x + w) as f32, (y + h) as f32),
                            !erase,
                        )
                    },
                );
            }
            return;
        }
        _ => return,
    };
    ev.prevent_default();
    let resize = ev.shift_key();
    state.local.update_value(|l| {
        let (mut x, mut y, mut w, mut h) =
            l.key_rect
                .unwrap_or((iw / 4.0, ih / 4.0, iw / 2.0, ih / 2.0));
        if resize {
            w = (w + dx).clamp(1.0, iw);
            h = (h + dy).clamp(1.0, ih);
        } else {
            x = (x + dx).clamp(0.0, iw - w);
            y = (y + dy).clamp(0.0, ih - h);
        }
        l.key_rect = Some((x, y, w, h));
    });
    let (x, y, w, h) = state.local.with_value(|l| l.key_rect).unwrap_or_default();
    state.say(format!(
        "Rectangle at {}, {}, {} by {} pixels. Enter paints it.",
        x.round(),
        y.round(),
        w.round(),
        h.round()
    ));
    request_redraw(state);
}

#[component]
pub fn Stage() -> impl IntoView {
    let state = expect_context::<EditorState>();
    // Redraw whenever what is drawn changes; the active source's size sets the first view.
    Effect::new(move |_| {
        state.view.track();
        state.mask_version.track();
        state.compare.track();
        state.result.track();
        state.feather_preview.track();
        state.tool.track();
        request_redraw(state);
    });
    Effect::new(move |_| {
        state.active.track();
        state.sources.track();
        fit(state);
    });
    Effect::new(move |_| {
        let resize = window_event_listener(leptos::ev::resize, move |_| request_redraw(state));
        on_cleanup(move || resize.remove());
    });
    let percent = move || format!("{} %", state.view.get().percent());
    let described = move || {
        state.active_source().map_or_else(String::new, |s| {
            let (w, h) = s.size().unwrap_or_default();
            format!("{} ({w}×{h} pixels), and its mask", s.name)
        })
    };
    let comparing = move || {
        state
            .result
            .with(|r| r.as_ref().and_then(|o| o.before.as_ref().map(|b| b.0)))
            == state.active.get()
            && state.active.get().is_some()
    };
    view! {
        <div class="stage-wrap">
            <canvas
                class="stage"
                class:stage-brush=move || matches!(state.tool.get(), Tool::Brush | Tool::Eraser)
                class:stage-pan=move || state.tool.get() == Tool::Pan
                node_ref=state.stage
                tabindex="0"
                role="img"
                aria-label=move || format!("The image being edited: {}", described())
                aria-describedby="stage-help"
                data-testid="mask-canvas"
                // The view, for tests and tools that need to aim at an image pixel.
                data-view=move || {
                    let v = state.view.get();
                    format!("{} {} {}", v.zoom, v.x, v.y)
                }
                on:pointerdown=move |ev| on_pointer_down(state, ev)
                on:pointermove=move |ev| on_pointer_move(state, ev)
                on:pointerup=move |ev| on_pointer_up(state, ev)
                on:pointercancel=move |ev| on_pointer_up(state, ev)
                on:pointerleave=move |_| {
                    state.local.update_value(|l| l.hover = None);
                    request_redraw(state);
                }
                on:wheel=move |ev| on_wheel(state, ev)
                on:keydown=move |ev| on_key(state, ev)
                on:focus=move |_| {
                    if let Some((w, h)) = image_size(state) {
                        let (w, h) = (f64::from(w), f64::from(h));
                        state
                            .local
                            .update_value(|l| {
                                l.key_rect.get_or_insert((w / 4.0, h / 4.0, w / 2.0, h / 2.0));
                            });
                        request_redraw(state);
                    }
                }
                on:blur=move |_| {
                    state.local.update_value(|l| l.key_rect = None);
                    request_redraw(state);
                }
                on:contextmenu=move |ev| ev.prevent_default()
            ></canvas>
            <p id="stage-help" class="visually-hidden">
                "Paint with the pointer, or use the keyboard: the arrow keys move a rectangle, Shift and the arrow keys resize it, Enter paints it, Alt and Enter erases it. Fill all masks the whole image."
            </p>
            <div class="stage-bar">
                <span class="zoom-level small" data-testid="zoom-level" aria-live="off">
                    {percent}
                </span>
                {move || {
                    comparing()
                        .then(|| {
                            view! {
                                <label class="compare small">
                                    "Before"
                                    <input
                                        type="range"
                                        min="0"
                                        max="100"
                                        step="1"
                                        aria-label="Compare before and after"
                                        prop:value=move || {
                                            (state.compare.get() * 100.0).round().to_string()
                                        }
                                        on:input=move |ev| {
                                            state
                                                .compare
                                                .set(
                                                    event_target_value(&ev).parse::<f64>().unwrap_or(100.0)
                                                        / 100.0,
                                                )
                                        }
                                        data-testid="compare-slider"
                                    /> "After"
                                </label>
                                <button
                                    type="button"
                                    class="button button-small"
                                    data-testid="hold-to-compare"
                                    on:pointerdown=move |_| state.compare.set(0.0)
                                    on:pointerup=move |_| state.compare.set(1.0)
                                    on:pointerleave=move |_| state.compare.set(1.0)
                                    on:keydown=move |ev| {
                                        if ev.key() == " " || ev.key() == "Enter" {
                                            state.compare.set(0.0);
                                        }
                                    }
                                    on:keyup=move |_| state.compare.set(1.0)
                                >
                                    "Hold to see before"
                                </button>
                            }
                        })
                }}
            </div>
        </div>
        <p class="muted small" data-testid="mask-hint">
            {move || {
                if painted(state) {
                    "Only the painted area will change."
                } else {
                    "Paint over what should change. Nothing painted: the whole image may change."
                }
            }}
        </p>
    }
}
