//! The mask canvas: the first source with the mask painted over it, semi-transparent.
//!
//! The canvas is sized to the image's display resolution (its longer side at most 1280
//! pixels), so painting stays fast on a 12 MP photo; the mask is exported
//! at the source's own size when the edit is sent. Pointer events paint, so mouse, pen and
//! touch all work.

use leptos::prelude::*;

use super::{EditorState, browser};

/// What a stroke does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaskTool {
    Brush,
    Eraser,
}

#[component]
pub fn MaskCanvas() -> impl IntoView {
    let state = expect_context::<EditorState>();
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    let first = move || {
        state
            .sources
            .with(|s| s.first().map(|s| s.url.clone()))
            .unwrap_or_default()
    };
    let tool_button = move |tool: MaskTool, label: &'static str, test_id: &'static str| {
        view! {
            <button
                type="button"
                class="button button-small"
                class:button-on=move || state.tool.get() == tool
                aria-pressed=move || (state.tool.get() == tool).to_string()
                data-testid=test_id
                on:click=move |_| state.tool.set(tool)
            >
                {label}
            </button>
        }
    };
    view! {
        <div class="mask-tools" role="toolbar" aria-label="Mask">
            {tool_button(MaskTool::Brush, "Brush", "tool-brush")}
            {tool_button(MaskTool::Eraser, "Eraser", "tool-eraser")}
            <label class="brush-size">
                <span class="small muted">"Size"</span>
                <input
                    type="range"
                    min="4"
                    max="200"
                    prop:value=move || state.brush.get().to_string()
                    on:input=move |ev| state.brush.set(event_target_value(&ev).parse().unwrap_or(40))
                    data-testid="brush-size"
                />
            </label>
            <button type="button" class="button button-small" data-testid="mask-clear" on:click=move |_| browser::clear_mask(state, canvas)>"Clear"</button>
            <button type="button" class="button button-small" data-testid="mask-invert" on:click=move |_| browser::invert_mask(state, canvas)>"Invert"</button>
        </div>
        <div class="stage">
            <img class="stage-image" src=first alt="The image to edit" data-testid="stage-image"
                on:load=move |_| browser::fit_canvas(state, canvas) />
            <canvas
                class="stage-mask"
                node_ref=canvas
                data-testid="mask-canvas"
                on:pointerdown=move |ev| browser::paint_start(state, canvas, &ev)
                on:pointermove=move |ev| browser::paint_move(state, canvas, &ev)
                on:pointerup=move |_| browser::paint_end()
                on:pointercancel=move |_| browser::paint_end()
            ></canvas>
        </div>
        <p class="muted small" data-testid="mask-hint">
            {move || if state.painted.get() {
                "Only the painted area will change."
            } else {
                "Paint over what should change. Nothing painted: the whole image may change."
            }}
        </p>
    }
}
