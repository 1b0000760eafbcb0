//! The tools above the stage, and the keyboard shortcuts that reach them from anywhere on the
//! page: tools (B, E, R, L, H), the brush size (`[` `]`, or a number), undo and redo, fill all,
//! clear (X), invert (I), the feather preview, mask import and export, zoom (Fit, 100 %, + and
//! −), and the shortcut sheet (`?`).

use leptos::{html, prelude::*, task::spawn_local};
use wasm_bindgen::JsCast;
use web_sys::{HtmlElement, KeyboardEvent};

use super::{
    EditorState,
    local::take_chosen_files,
    mask_file, send, stage,
    tool::{BRUSH_MAX, BRUSH_MIN, Tool, brush_step},
};

pub fn clear(state: EditorState) {
    stage::change_mask(state, "Mask cleared.", |m| {
        m.bounds()?;
        Some(m.fill(false))
    });
}

pub fn invert(state: EditorState) {
    stage::change_mask(state, "Mask inverted.", |m| Some(m.invert()));
}

pub fn fill_all(state: EditorState) {
    stage::change_mask(state, "Whole image masked.", |m| Some(m.fill(true)));
}

fn set_tool(state: EditorState, tool: Tool) {
    state.tool.set(tool);
    state.say(format!("{} tool.", tool.label()));
}

/// Saves the active mask as a PNG (white: may change).
fn export(state: EditorState) {
    let Some(source) = state.active_source() else {
        return;
    };
    let Some(bitmap) = state
        .local
        .with_value(|l| l.masks.get(&source.key).map(|m| m.bitmap.clone()))
    else {
        return;
    };
    spawn_local(async move {
        let Some(blob) = mask_file::to_png(&bitmap) else {
            state.say("The mask could not be saved. Try again.");
            return;
        };
        let url = gloo_file::ObjectUrl::from(gloo_file::Blob::from(blob));
        if let Some(a) = document()
            .create_element("a")
            .ok()
            .and_then(|e| e.dyn_into::<web_sys::HtmlAnchorElement>().ok())
        {
            a.set_href(&url);
            let stem = source
                .name
                .rsplit_once('.')
                .map_or(source.name.as_str(), |(s, _)| s);
            a.set_download(&format!("{stem}-mask.png"));
            a.click();
        }
        state.say("Mask saved.");
        // The download has its own copy; the URL is revoked when `url` drops, after this
        // task yields once so the click is handled first.
        next_tick().await;
        drop(url);
    });
}

/// Yields to the browser once (a resolved promise), so work queued by a click runs first.
async fn next_tick() {
    let _ = wasm_bindgen_futures::JsFuture::from(js_sys::Promise::resolve(
        &wasm_bindgen::JsValue::NULL,
    ))
    .await;
}

/// Reads a mask file into the active mask (same size only), as one undo step.
fn import(state: EditorState, ev: &leptos::ev::Event) {
    let file = take_chosen_files(ev).into_iter().next();
    let (Some(file), Some(size)) = (file, state.active_source().and_then(|s| s.size())) else {
        return;
    };
    spawn_local(async move {
        match mask_file::from_file(&file, size).await {
            Ok(bitmap) => {
                if !stage::replace_mask(state, bitmap) {
                    state.say("The mask could not be loaded: the image changed meanwhile.");
                }
            }
            Err(why) => {
                state.error.set(Some(protocol::UserError::new(
                    protocol::ErrorKind::BadRequest,
                    why.clone(),
                )));
                state.say(why);
            }
        }
    });
}

/// Whether a key press is typing in a field (shortcuts other than Ctrl+Enter and Escape
/// leave it alone).
fn typing(ev: &KeyboardEvent) -> bool {
    ev.target()
        .and_then(|t| t.dyn_into::<HtmlElement>().ok())
        .is_some_and(|e| {
            matches!(e.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                || e.is_content_editable()
        })
}

/// The page's keyboard shortcuts, while the editor is there.
pub fn listen_for_shortcuts(state: EditorState, submit: impl Fn() + Clone + 'static) {
    Effect::new(move |_| {
        let submit = submit.clone();
        let down =
            window_event_listener(leptos::ev::keydown, move |ev| on_key(state, &ev, &submit));
        let up = window_event_listener(leptos::ev::keyup, move |ev| {
            if ev.key() == " " {
                state.local.update_value(|l| l.space = false);
            }
        });
        // A held Space is forgotten when the window loses focus (its keyup goes elsewhere).
        let blur = window_event_listener(leptos::ev::blur, move |_| {
            state.local.update_value(|l| l.space = false);
        });
        on_cleanup(move || {
            down.remove();
            up.remove();
            blur.remove();
        });
    });
}

fn on_key(state: EditorState, ev: &KeyboardEvent, submit: &impl Fn()) {
    let command = ev.ctrl_key() || ev.meta_key();
    let key = ev.key();
    if command && key == "Enter" {
        ev.prevent_default();
        submit();
        return;
    }
    if key == "Escape" {
        if state.busy.get_untracked() {
            ev.prevent_default();
            send::cancel(state);
        }
        return;
    }
    if typing(ev) || ev.alt_key() {
        return;
    }
    let editing = state.active.get_untracked().is_some();
    if command {
        let handled = match key.to_ascii_lowercase().as_str() {
            "z" if editing => {
                stage::step(state, !ev.shift_key());
                true
            }
            "y" if editing => {
                stage::step(state, false);
                true
            }
            "0" if editing => {
                stage::fit(state);
                true
            }
            _ => false,
        };
        if handled {
            ev.prevent_default();
        }
        return;
    }
    if key == "?" {
        ev.prevent_default();
        state.shortcuts_open.update(|o| *o = !*o);
        return;
    }
    if !editing {
        return;
    }
    match key.as_str() {
        " " => {
            // Space held over the stage or the page: a drag pans, and the page does not
            // scroll meanwhile. On a button or link, Space is that control's.
            if on_stage_or_page(ev) {
                ev.prevent_default();
                state.local.update_value(|l| l.space = true);
            }
            return;
        }
        "[" => state.brush.update(|b| *b = brush_step(*b, false)),
        "]" => state.brush.update(|b| *b = brush_step(*b, true)),
        "+" | "=" => stage::zoom_by(state, 1.25),
        "-" | "_" => stage::zoom_by(state, 0.8),
        "0" => stage::fit(state),
        "1" => stage::actual_size(state),
        "x" | "X" => clear(state),
        "i" | "I" => invert(state),
        "f" | "F" => fill_all(state),
        other => {
            if let Some(tool) = Tool::from_key(other) {
                set_tool(state, tool);
            } else {
                return;
            }
        }
    }
    ev.prevent_default();
}

fn on_stage_or_page(ev: &KeyboardEvent) -> bool {
    ev.target()
        .and_then(|t| t.dyn_into::<HtmlElement>().ok())
        .is_none_or(|e| matches!(e.tag_name().as_str(), "CANVAS" | "BODY" | "HTML"))
}

#[component]
pub fn Toolbar() -> impl IntoView {
    let state = expect_context::<EditorState>();
    let steps = move || stage::can_step(state);
    let painted = move || stage::painted(state);
    let tool_button = move |tool: Tool| {
        view! {
            <button
                type="button"
                class="button button-small"
                class:button-on=move || state.tool.get() == tool
                aria-pressed=move || (state.tool.get() == tool).to_string()
                aria-keyshortcuts=tool.key()
                title=format!("{} ({})", tool.label(), tool.key())
                data-testid=tool.test_id()
                on:click=move |_| set_tool(state, tool)
            >
                {tool.label()}
            </button>
        }
    };
    let set_brush = move |ev: leptos::ev::Event| {
        if let Ok(v) = event_target_value(&ev).parse::<u32>() {
            state.brush.set(v.clamp(BRUSH_MIN, BRUSH_MAX));
        }
    };
    view! {
        <div class="toolbar" role="group" aria-label="Mask tools" data-testid="toolbar">
            <div class="tool-group" role="group" aria-label="Tool">
                {Tool::ALL.into_iter().map(tool_button).collect_view()}
            </div>
            <div class="tool-group brush-size">
                <label class="small muted" for="brush-size-number">
                    "Brush"
                </label>
                <input
                    id="brush-size-number"
                    type="number"
                    min=BRUSH_MIN
                    max=BRUSH_MAX
                    aria-keyshortcuts="[ ]"
                    title="Brush size in image pixels ([ and ])"
                    prop:value=move || state.brush.get().to_string()
                    on:change=set_brush
                    data-testid="brush-size-number"
                />
                <input
                    type="range"
                    min="1"
                    max="400"
                    aria-label="Brush size"
                    prop:value=move || state.brush.get().min(400).to_string()
                    on:input=set_brush
                    data-testid="brush-size"
                />
                <span class="small muted">"px"</span>
            </div>
            <div class="tool-group" role="group" aria-label="History">
                <button
                    type="button"
                    class="button button-small"
                    aria-keyshortcuts="Control+Z"
                    title="Undo (Ctrl+Z)"
                    disabled=move || !steps().0
                    data-testid="undo"
                    on:click=move |_| stage::step(state, true)
                >
                    "Undo"
                </button>
                <button
                    type="button"
                    class="button button-small"
                    aria-keyshortcuts="Control+Shift+Z Control+Y"
                    title="Redo (Shift+Ctrl+Z)"
                    disabled=move || !steps().1
                    data-testid="redo"
                    on:click=move |_| stage::step(state, false)
                >
                    "Redo"
                </button>
            </div>
            <div class="tool-group" role="group" aria-label="Whole mask">
                <button
                    type="button"
                    class="button button-small"
                    aria-keyshortcuts="F"
                    title="Mask the whole image (F)"
                    data-testid="mask-fill"
                    on:click=move |_| fill_all(state)
                >
                    "Fill all"
                </button>
                <button
                    type="button"
                    class="button button-small"
                    aria-keyshortcuts="X"
                    title="Clear the mask (X)"
                    disabled=move || !painted()
                    data-testid="mask-clear"
                    on:click=move |_| clear(state)
                >
                    "Clear"
                </button>
                <button
                    type="button"
                    class="button button-small"
                    aria-keyshortcuts="I"
                    title="Invert the mask (I)"
                    data-testid="mask-invert"
                    on:click=move |_| invert(state)
                >
                    "Invert"
                </button>
                <button
                    type="button"
                    class="button button-small"
                    class:button-on=move || state.feather_preview.get()
                    aria-pressed=move || state.feather_preview.get().to_string()
                    title=format!(
                        "Show how the edit fades in over the mask's last {} pixels",
                        state.feather_px,
                    )
                    data-testid="feather-preview"
                    on:click=move |_| state.feather_preview.update(|f| *f = !*f)
                >
                    "Feather"
                </button>
            </div>
            <div class="tool-group" role="group" aria-label="Mask file">
                <label
                    class="button button-small file-button"
                    title="Import a mask PNG of the same size"
                >
                    "Import mask"
                    <input
                        type="file"
                        accept="image/png"
                        data-testid="mask-import"
                        on:change=move |ev| import(state, &ev)
                    />
                </label>
                <button
                    type="button"
                    class="button button-small"
                    title="Save the mask as a PNG (white: may change)"
                    data-testid="mask-export"
                    on:click=move |_| export(state)
                >
                    "Export mask"
                </button>
            </div>
            <div class="tool-group" role="group" aria-label="Zoom">
                <button
                    type="button"
                    class="button button-small"
                    aria-label="Zoom out"
                    aria-keyshortcuts="-"
                    data-testid="zoom-out"
                    on:click=move |_| stage::zoom_by(state, 0.8)
                >
                    "−"
                </button>
                <button
                    type="button"
                    class="button button-small"
                    aria-label="Zoom in"
                    aria-keyshortcuts="+"
                    data-testid="zoom-in"
                    on:click=move |_| stage::zoom_by(state, 1.25)
                >
                    "+"
                </button>
                <button
                    type="button"
                    class="button button-small"
                    aria-keyshortcuts="0"
                    title="Show the whole image (0)"
                    data-testid="zoom-fit"
                    on:click=move |_| stage::fit(state)
                >
                    "Fit"
                </button>
                <button
                    type="button"
                    class="button button-small"
                    aria-keyshortcuts="1"
                    title="One image pixel per screen pixel (1)"
                    data-testid="zoom-100"
                    on:click=move |_| stage::actual_size(state)
                >
                    "100 %"
                </button>
            </div>
            <button
                type="button"
                class="button button-small"
                aria-keyshortcuts="?"
                data-testid="shortcuts-open"
                on:click=move |_| state.shortcuts_open.set(true)
            >
                "Shortcuts"
            </button>
        </div>
    }
}

/// Every shortcut, in a modal dialog (`?` opens and closes it; Escape closes it).
#[component]
pub fn Shortcuts() -> impl IntoView {
    let state = expect_context::<EditorState>();
    let dialog = NodeRef::<html::Dialog>::new();
    Effect::new(move |_| {
        let open = state.shortcuts_open.get();
        if let Some(dialog) = dialog.get() {
            if open && !dialog.open() {
                let _ = dialog.show_modal();
            } else if !open && dialog.open() {
                dialog.close();
            }
        }
    });
    let rows: [(&str, &str); 17] = [
        ("B / E", "Brush / eraser"),
        ("R / L", "Rectangle / lasso (hold Alt to erase)"),
        ("H, or hold Space, or middle-drag", "Move the view"),
        ("[ and ]", "Smaller / larger brush"),
        ("Ctrl+Z", "Undo"),
        ("Shift+Ctrl+Z or Ctrl+Y", "Redo"),
        ("X", "Clear the mask"),
        ("I", "Invert the mask"),
        ("F", "Mask the whole image"),
        ("Wheel, pinch, + and −", "Zoom"),
        ("0 / 1", "Fit / 100 %"),
        ("Two fingers", "Pan and zoom on touch"),
        (
            "Arrows, Shift+arrows",
            "Move, resize the keyboard rectangle (stage focused)",
        ),
        ("Enter / Alt+Enter", "Paint / erase the keyboard rectangle"),
        ("Ctrl+Enter", "Generate or edit"),
        ("Escape", "Cancel the request"),
        ("?", "This sheet"),
    ];
    view! {
        <dialog
            class="card shortcuts"
            node_ref=dialog
            aria-labelledby="shortcuts-title"
            data-testid="shortcuts"
            on:close=move |_| state.shortcuts_open.set(false)
        >
            <h2 id="shortcuts-title">"Keyboard shortcuts"</h2>
            <p class="muted small">"On a Mac, Cmd works where Ctrl is shown."</p>
            <table>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|(keys, what)| {
                            view! {
                                <tr>
                                    <th scope="row">
                                        <kbd>{keys}</kbd>
                                    </th>
                                    <td>{what}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
            <form method="dialog">
                <button class="button" data-testid="shortcuts-close" autofocus>
                    "Close"
                </button>
            </form>
        </dialog>
    }
}
