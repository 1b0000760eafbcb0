//! Expand canvas (outpainting): the image grows to one of the model's aspect ratios, on the
//! sides the person picks; the new area is painted by Gemini and the image's own pixels stay
//! as they are (the server pads the source, makes the new area the mask and composites, so
//! this is exact, not a hope). The editor shows the new canvas as a diagram before sending.

use leptos::either::EitherOf4;
use leptos::prelude::*;

use super::{EditorState, options::Choices, sources::Status};

/// Where the image stays on the bigger canvas.
const ANCHORS: [(&str, &str); 5] = [
    ("centre", "In the middle"),
    ("left", "On the left (grow right)"),
    ("right", "On the right (grow left)"),
    ("top", "At the top (grow down)"),
    ("bottom", "At the bottom (grow up)"),
];

/// Pixels to add `[left, top, right, bottom]` for a `w`×`h` image to become `ratio`
/// (`"16:9"`), kept at `anchor`; `None` when the image is that shape already (or the ratio
/// does not parse).
pub fn sides(w: u32, h: u32, ratio: &str, anchor: &str) -> Option<[u32; 4]> {
    let (a, b) = ratio.split_once(':')?;
    let (a, b): (f64, f64) = (a.parse().ok()?, b.parse().ok()?);
    if a <= 0.0 || b <= 0.0 || w == 0 || h == 0 {
        return None;
    }
    let target = a / b;
    let (fw, fh) = (f64::from(w), f64::from(h));
    let split = |add: u32, first: &str, second: &str| match anchor {
        x if x == first => (0, add),
        x if x == second => (add, 0),
        _ => (add / 2, add - add / 2),
    };
    if target > fw / fh + 1e-9 {
        let add = ((fh * target).round() as u32).saturating_sub(w);
        let (left, right) = split(add, "left", "right");
        (add > 0).then_some([left, 0, right, 0])
    } else if target < fw / fh - 1e-9 {
        let add = ((fw / target).round() as u32).saturating_sub(h);
        let (top, bottom) = split(add, "top", "bottom");
        (add > 0).then_some([0, top, 0, bottom])
    } else {
        None
    }
}

/// Whether the server takes these sides: none may be larger than the image's own size on its
/// axis (`edit::Expand::canvas`).
pub fn fits(w: u32, h: u32, [l, t, r, b]: [u32; 4]) -> bool {
    l.max(r) <= w && t.max(b) <= h
}

/// The pixels the next edit adds, from the person's choices and the source being edited.
pub fn chosen(state: EditorState, choices: Choices) -> Option<[u32; 4]> {
    let ratio = choices.expand.get_untracked();
    if ratio.is_empty() {
        return None;
    }
    let Status::Ready { width, height } = state.active_source()?.status else {
        return None;
    };
    sides(
        width,
        height,
        &ratio,
        &choices.expand_anchor.get_untracked(),
    )
}

/// The control: a ratio to grow to, where the image stays, and the new canvas drawn.
#[component]
pub fn ExpandCanvas(choices: Choices) -> impl IntoView {
    let state = expect_context::<EditorState>();
    let ratios = move || {
        choices
            .current
            .get()
            .map(|m| m.aspect_ratios)
            .unwrap_or_default()
    };
    let size = move || match state.active_source()?.status {
        Status::Ready { width, height } => Some((width, height)),
        _ => None,
    };
    let plan = move || {
        let (w, h) = size()?;
        let ratio = choices.expand.get();
        let add = sides(w, h, &ratio, &choices.expand_anchor.get())?;
        Some((w, h, add))
    };
    view! {
        <fieldset class="expand field-wide" data-testid="expand">
            <legend>"Expand canvas"</legend>
            <div class="field-row">
                <label class="field">
                    <span>"Grow to"</span>
                    <select
                        data-testid="expand-ratio"
                        prop:value=move || choices.expand.get()
                        on:change=move |ev| choices.expand.set(event_target_value(&ev))
                    >
                        <option value="">"No, keep the size"</option>
                        {move || {
                            ratios()
                                .into_iter()
                                .map(|r| {
                                    let (value, label) = (r.clone(), r.clone());
                                    view! {
                                        <option
                                            value=r
                                            selected=move || choices.expand.get() == value
                                        >
                                            {label}
                                        </option>
                                    }
                                })
                                .collect_view()
                        }}
                    </select>
                </label>
                <label class="field">
                    <span>"The image stays"</span>
                    <select
                        data-testid="expand-anchor"
                        prop:value=move || choices.expand_anchor.get()
                        on:change=move |ev| choices.expand_anchor.set(event_target_value(&ev))
                    >
                        {ANCHORS
                            .map(|(value, label)| {
                                view! { <option value=value>{label}</option> }
                            })
                            .collect_view()}
                    </select>
                </label>
            </div>
            {move || {
                let ratio = choices.expand.get();
                match plan() {
                    Some((w, h, add)) if !fits(w, h, add) => {
                        EitherOf4::A(
                            view! {
                                <p class="notice notice-warn small" data-testid="expand-summary">
                                    {format!(
                                        "{ratio} would add more than the image's own size on a side; GemFlash grows a canvas by at most that. Choose a shape closer to the image's, or keep the image at an edge.",
                                    )}
                                </p>
                            },
                        )
                    }
                    Some((w, h, [l, t, r, b])) => {
                        let (cw, ch) = (w + l + r, h + t + b);
                        let pct = |part: u32, whole: u32| {
                            format!("{:.2}%", f64::from(part) * 100.0 / f64::from(whole))
                        };
                        let (left, top, width, height) = (
                            pct(l, cw),
                            pct(t, ch),
                            pct(w, cw),
                            pct(h, ch),
                        );
                        let aspect = format!("{cw} / {ch}");
                        let added = [("left", l), ("up", t), ("right", r), ("down", b)]
                            .into_iter()
                            .filter(|(_, n)| *n > 0)
                            .map(|(side, n)| format!("{n} px {side}"))
                            .collect::<Vec<_>>()
                            .join(", ");
                        EitherOf4::B(
                            // Set through the style object, not a `style` attribute: the page's
                            // policy allows no inline styles.
                            view! {
                                <div class="expand-plan">
                                    <div
                                        class="expand-canvas"
                                        style:aspect-ratio=aspect
                                        aria-hidden="true"
                                    >
                                        <div
                                            class="expand-image"
                                            style:left=left
                                            style:top=top
                                            style:width=width
                                            style:height=height
                                        ></div>
                                    </div>
                                    <p class="small muted" data-testid="expand-summary">
                                        {format!(
                                            "New canvas {cw}×{ch} ({ratio}): {added}. Gemini paints the new area; every pixel of the image stays as it is.",
                                        )}
                                    </p>
                                </div>
                            },
                        )
                    }
                    None if !ratio.is_empty() && size().is_some() => {
                        EitherOf4::C(
                            view! {
                                <p class="small muted" data-testid="expand-summary">
                                    {format!("The image is {ratio} already: choose another shape.")}
                                </p>
                            },
                        )
                    }
                    None => EitherOf4::D(()),
                }
            }}
        </fieldset>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_canvas_grows_to_the_ratio_on_the_chosen_sides() {
        assert_eq!(sides(600, 400, "5:2", "centre"), Some([200, 0, 200, 0]));
        assert_eq!(sides(600, 400, "5:2", "left"), Some([0, 0, 400, 0]));
        assert_eq!(sides(600, 400, "5:2", "right"), Some([400, 0, 0, 0]));
        assert_eq!(sides(600, 400, "1:1", "top"), Some([0, 0, 0, 200]));
        assert_eq!(sides(600, 400, "1:1", "bottom"), Some([0, 200, 0, 0]));
        assert_eq!(sides(601, 400, "1:1", "centre"), Some([0, 100, 0, 101]));
        assert_eq!(sides(600, 400, "3:2", "centre"), None, "already that shape");
        assert_eq!(sides(600, 400, "wide", "centre"), None);
    }

    #[test]
    fn a_side_may_grow_by_at_most_the_image_s_own_size() {
        // 1000×400 to 9:16 in the middle: 689 px above and below, more than 400.
        let add = sides(1000, 400, "9:16", "centre").unwrap();
        assert_eq!(add, [0, 689, 0, 689]);
        assert!(!fits(1000, 400, add));
        assert!(fits(600, 400, sides(600, 400, "5:2", "centre").unwrap()));
    }
}
