//! The editor's browser side: files, painting, mask export and requests. Compiled into the
//! WASM bundle only; on the server every function here is a no-op, since the editor does its
//! work after hydration.

#[cfg(feature = "hydrate")]
mod imp {
    use std::{cell::RefCell, collections::HashMap};

    use futures::{
        channel::oneshot,
        future::{Either, select},
    };
    use leptos::{prelude::*, task::spawn_local};
    use protocol::{EditField, ErrorKind, GenerateRequest, ImageResult, UserError};
    use wasm_bindgen::{JsCast, JsValue, closure::Closure};
    use web_sys::{CanvasRenderingContext2d, File, FormData, HtmlCanvasElement, HtmlImageElement};

    /// Longest side of the mask canvas, in canvas pixels.
    const CANVAS_MAX_SIDE: u32 = 1280;

    use crate::images_api::{edit_image, generate_image};
    use crate::pages::editor::{EditorState, Source, mask_canvas::MaskTool};

    /// Browser-only objects, kept out of the reactive graph (they are not `Send`).
    #[derive(Default)]
    struct Local {
        files: HashMap<u32, (File, gloo_file::ObjectUrl)>,
        next_key: u32,
        cancel: Option<oneshot::Sender<()>>,
        timer: Option<IntervalHandle>,
        last_point: Option<(f64, f64)>,
        /// The source's own size, for the mask export.
        source_size: (u32, u32),
    }

    thread_local! {
        static LOCAL: RefCell<Local> = RefCell::new(Local::default());
    }

    fn with<T>(f: impl FnOnce(&mut Local) -> T) -> T {
        LOCAL.with(|l| f(&mut l.borrow_mut()))
    }

    pub fn listen_for_drops_and_pastes(state: EditorState) {
        Effect::new(move |_| {
            let over = window_event_listener(leptos::ev::dragover, |ev| ev.prevent_default());
            let drop = window_event_listener(leptos::ev::drop, move |ev| {
                ev.prevent_default();
                if let Some(files) = ev.data_transfer().and_then(|d| d.files()) {
                    add_files(
                        state,
                        (0..files.length()).filter_map(|i| files.get(i)).collect(),
                    );
                }
            });
            let paste = window_event_listener(leptos::ev::paste, move |ev| {
                if let Some(files) = ev.clipboard_data().and_then(|d| d.files())
                    && files.length() > 0
                {
                    ev.prevent_default();
                    add_files(
                        state,
                        (0..files.length()).filter_map(|i| files.get(i)).collect(),
                    );
                }
            });
            on_cleanup(move || {
                over.remove();
                drop.remove();
                paste.remove();
            });
        });
    }

    pub fn add_from_input(state: EditorState, ev: &leptos::ev::Event) {
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        if let Some(files) = input.files() {
            add_files(
                state,
                (0..files.length()).filter_map(|i| files.get(i)).collect(),
            );
        }
        // Let the same file be picked again after removing it.
        input.set_value("");
    }

    /// Adds files as sources, as many as the chosen model still has room for; says how many
    /// were left out.
    fn add_files(state: EditorState, files: Vec<File>) {
        if files.is_empty() {
            return;
        }
        let room = state
            .max_images
            .get_untracked()
            .saturating_sub(state.sources.with_untracked(Vec::len));
        let left_out = files.len().saturating_sub(room);
        let new: Vec<Source> = files
            .into_iter()
            .take(room)
            .map(|file| {
                let url = gloo_file::ObjectUrl::from(gloo_file::File::from(file.clone()));
                let name = file.name();
                with(|l| {
                    l.next_key += 1;
                    let key = l.next_key;
                    let source = Source {
                        key,
                        name,
                        url: url.to_string(),
                        stored_id: None,
                    };
                    l.files.insert(key, (file, url));
                    source
                })
            })
            .collect();
        state.sources_notice.set((left_out > 0).then(|| {
            let max = state.max_images.get_untracked();
            format!(
                "This model takes at most {max} image{}, so {left_out} {} not added. Remove one to make room.",
                if max == 1 { "" } else { "s" },
                if left_out == 1 { "was" } else { "were" },
            )
        }));
        if new.is_empty() {
            return;
        }
        state.error.set(None);
        state.sources.update(|s| s.extend(new));
    }

    pub fn remove(state: EditorState, key: u32) {
        state.sources.update(|s| s.retain(|x| x.key != key));
        state.sources_notice.set(None);
        // Dropping the object URL revokes it.
        with(|l| l.files.remove(&key));
    }

    pub fn keep_editing(state: EditorState, result: &ImageResult) {
        let key = with(|l| {
            l.next_key += 1;
            l.files.clear();
            l.next_key
        });
        state.sources.set(vec![Source {
            key,
            name: format!("gemflash-{}", result.id),
            url: result.url.clone(),
            stored_id: Some(result.id.clone()),
        }]);
        state.result.set(None);
        state.painted.set(false);
    }

    fn start(state: EditorState) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        state.error.set(None);
        state.busy.set(true);
        state.elapsed.set(0);
        let timer = set_interval_with_handle(
            move || state.elapsed.update(|s| *s += 1),
            std::time::Duration::from_secs(1),
        )
        .ok();
        with(|l| {
            l.cancel = Some(tx);
            if let Some(old) = std::mem::replace(&mut l.timer, timer) {
                old.clear();
            }
        });
        rx
    }

    fn stop(state: EditorState) {
        with(|l| {
            l.cancel = None;
            if let Some(t) = l.timer.take() {
                t.clear();
            }
        });
        state.busy.set(false);
    }

    pub fn cancel(state: EditorState) {
        if let Some(tx) = with(|l| l.cancel.take()) {
            let _ = tx.send(());
        }
        stop(state);
    }

    /// Runs a call until it answers or is cancelled; cancelling drops the call, which aborts
    /// its HTTP request.
    async fn run<F>(
        state: EditorState,
        cancelled: oneshot::Receiver<()>,
        call: F,
        before: Option<String>,
    ) where
        F: std::future::Future<Output = Result<ImageResult, crate::error::AppError>>,
    {
        match select(Box::pin(call), cancelled).await {
            Either::Left((Ok(result), _)) => state.result.set(Some((result, before))),
            Either::Left((Err(e), _)) => state.error.set(Some(e.0)),
            Either::Right(_) => {}
        }
        stop(state);
    }

    pub fn generate(
        state: EditorState,
        prompt: String,
        model: String,
        ratio: Option<String>,
        size: Option<String>,
    ) {
        let cancelled = start(state);
        spawn_local(async move {
            let request = GenerateRequest {
                prompt,
                model,
                aspect_ratio: ratio,
                image_size: size,
            };
            run(state, cancelled, generate_image(request), None).await;
        });
    }

    pub fn edit(state: EditorState, prompt: String, model: String) {
        let cancelled = start(state);
        let sources = state.sources.get_untracked();
        let painted = state.painted.get_untracked();
        spawn_local(async move {
            let form = match build_form(&sources, &prompt, &model, painted).await {
                Ok(form) => form,
                Err(message) => {
                    state
                        .error
                        .set(Some(UserError::new(ErrorKind::BadRequest, message)));
                    stop(state);
                    return;
                }
            };
            let before = sources.first().map(|s| s.url.clone());
            run(state, cancelled, edit_image(form.into()), before).await;
        });
    }

    async fn build_form(
        sources: &[Source],
        prompt: &str,
        model: &str,
        painted: bool,
    ) -> Result<FormData, String> {
        let failed = |_| "The browser could not prepare the upload.".to_owned();
        let form = FormData::new().map_err(failed)?;
        form.append_with_str(EditField::Prompt.name(), prompt)
            .map_err(failed)?;
        form.append_with_str(EditField::Model.name(), model)
            .map_err(failed)?;
        for source in sources {
            if let Some(id) = &source.stored_id {
                form.append_with_str(EditField::SourceId.name(), id)
                    .map_err(failed)?;
            } else if let Some(file) = with(|l| l.files.get(&source.key).map(|(f, _)| f.clone())) {
                form.append_with_blob_and_filename(EditField::Image.name(), &file, &source.name)
                    .map_err(failed)?;
            }
        }
        if painted {
            let mask = export_mask()
                .await
                .ok_or("The mask could not be exported. Paint again.")?;
            form.append_with_blob_and_filename(EditField::Mask.name(), &mask, "mask.png")
                .map_err(failed)?;
        }
        Ok(form)
    }

    fn canvas_of(
        node: NodeRef<leptos::html::Canvas>,
    ) -> Option<(HtmlCanvasElement, CanvasRenderingContext2d)> {
        let canvas: HtmlCanvasElement = node.get_untracked()?;
        let ctx = canvas.get_context("2d").ok()??.dyn_into().ok()?;
        Some((canvas, ctx))
    }

    fn mask_canvas() -> Option<HtmlCanvasElement> {
        document()
            .query_selector("canvas.stage-mask")
            .ok()??
            .dyn_into()
            .ok()
    }

    /// Sizes the canvas to the loaded image (display resolution, capped) and clears the mask.
    pub fn fit_canvas(state: EditorState, node: NodeRef<leptos::html::Canvas>) {
        let Some((canvas, _)) = canvas_of(node) else {
            return;
        };
        let Some(img) = document()
            .query_selector("img.stage-image")
            .ok()
            .flatten()
            .and_then(|e| e.dyn_into::<HtmlImageElement>().ok())
        else {
            return;
        };
        let (w, h) = (img.natural_width(), img.natural_height());
        if w == 0 || h == 0 {
            return;
        }
        let scale = (f64::from(CANVAS_MAX_SIDE) / f64::from(w.max(h))).min(1.0);
        canvas.set_width(((f64::from(w) * scale).round() as u32).max(1));
        canvas.set_height(((f64::from(h) * scale).round() as u32).max(1));
        with(|l| l.source_size = (w, h));
        state.painted.set(false);
    }

    fn point(canvas: &HtmlCanvasElement, ev: &web_sys::PointerEvent) -> (f64, f64) {
        let rect = canvas.get_bounding_client_rect();
        let sx = f64::from(canvas.width()) / rect.width().max(1.0);
        let sy = f64::from(canvas.height()) / rect.height().max(1.0);
        (
            (f64::from(ev.client_x()) - rect.left()) * sx,
            (f64::from(ev.client_y()) - rect.top()) * sy,
        )
    }

    fn stroke(
        state: EditorState,
        canvas: &HtmlCanvasElement,
        ctx: &CanvasRenderingContext2d,
        from: (f64, f64),
        to: (f64, f64),
    ) {
        let rect_width = canvas.get_bounding_client_rect().width().max(1.0);
        let width = f64::from(state.brush.get_untracked()) * f64::from(canvas.width()) / rect_width;
        let erase = state.tool.get_untracked() == MaskTool::Eraser;
        let _ = ctx.set_global_composite_operation(if erase {
            "destination-out"
        } else {
            "source-over"
        });
        ctx.set_stroke_style_str("#7c4dff");
        ctx.set_line_width(width);
        ctx.set_line_cap("round");
        ctx.set_line_join("round");
        ctx.begin_path();
        ctx.move_to(from.0, from.1);
        ctx.line_to(to.0 + 0.01, to.1);
        ctx.stroke();
        if !erase {
            state.painted.set(true);
        }
    }

    pub fn paint_start(
        state: EditorState,
        node: NodeRef<leptos::html::Canvas>,
        ev: &web_sys::PointerEvent,
    ) {
        let Some((canvas, ctx)) = canvas_of(node) else {
            return;
        };
        ev.prevent_default();
        let _ = canvas.set_pointer_capture(ev.pointer_id());
        let p = point(&canvas, ev);
        stroke(state, &canvas, &ctx, p, p);
        with(|l| l.last_point = Some(p));
    }

    pub fn paint_move(
        state: EditorState,
        node: NodeRef<leptos::html::Canvas>,
        ev: &web_sys::PointerEvent,
    ) {
        let Some(last) = with(|l| l.last_point) else {
            return;
        };
        let Some((canvas, ctx)) = canvas_of(node) else {
            return;
        };
        let p = point(&canvas, ev);
        stroke(state, &canvas, &ctx, last, p);
        with(|l| l.last_point = Some(p));
    }

    pub fn paint_end() {
        with(|l| l.last_point = None);
    }

    pub fn clear_mask(state: EditorState, node: NodeRef<leptos::html::Canvas>) {
        if let Some((canvas, ctx)) = canvas_of(node) {
            ctx.clear_rect(
                0.0,
                0.0,
                f64::from(canvas.width()),
                f64::from(canvas.height()),
            );
        }
        state.painted.set(false);
    }

    fn scratch(width: u32, height: u32) -> Option<(HtmlCanvasElement, CanvasRenderingContext2d)> {
        let canvas: HtmlCanvasElement =
            document().create_element("canvas").ok()?.dyn_into().ok()?;
        canvas.set_width(width);
        canvas.set_height(height);
        let ctx = canvas.get_context("2d").ok()??.dyn_into().ok()?;
        Some((canvas, ctx))
    }

    pub fn invert_mask(state: EditorState, node: NodeRef<leptos::html::Canvas>) {
        let Some((canvas, ctx)) = canvas_of(node) else {
            return;
        };
        let (w, h) = (canvas.width(), canvas.height());
        let Some((copy, copy_ctx)) = scratch(w, h) else {
            return;
        };
        let _ = copy_ctx.draw_image_with_html_canvas_element(&canvas, 0.0, 0.0);
        let _ = ctx.set_global_composite_operation("source-over");
        ctx.set_fill_style_str("#7c4dff");
        ctx.fill_rect(0.0, 0.0, f64::from(w), f64::from(h));
        let _ = ctx.set_global_composite_operation("destination-out");
        let _ = ctx.draw_image_with_html_canvas_element(&copy, 0.0, 0.0);
        let _ = ctx.set_global_composite_operation("source-over");
        state.painted.set(true);
    }

    /// The mask at the source's own size: white where painted, black elsewhere, as a PNG.
    async fn export_mask() -> Option<web_sys::Blob> {
        let painted = mask_canvas()?;
        let (w, h) = with(|l| l.source_size);
        let (out, ctx) = scratch(w, h)?;
        ctx.draw_image_with_html_canvas_element_and_dw_and_dh(
            &painted,
            0.0,
            0.0,
            f64::from(w),
            f64::from(h),
        )
        .ok()?;
        ctx.set_global_composite_operation("source-in").ok()?;
        ctx.set_fill_style_str("#ffffff");
        ctx.fill_rect(0.0, 0.0, f64::from(w), f64::from(h));
        ctx.set_global_composite_operation("destination-over")
            .ok()?;
        ctx.set_fill_style_str("#000000");
        ctx.fill_rect(0.0, 0.0, f64::from(w), f64::from(h));
        let (tx, rx) = oneshot::channel::<Option<web_sys::Blob>>();
        let tx = RefCell::new(Some(tx));
        let callback = Closure::once(move |blob: JsValue| {
            if let Some(tx) = tx.borrow_mut().take() {
                let _ = tx.send(blob.dyn_into::<web_sys::Blob>().ok());
            }
        });
        out.to_blob_with_type(callback.as_ref().unchecked_ref(), "image/png")
            .ok()?;
        let blob = rx.await.ok()?;
        drop(callback);
        blob
    }
}

#[cfg(feature = "hydrate")]
pub use imp::*;

// On the server the editor is inert: it only becomes interactive once hydrated.
#[cfg(not(feature = "hydrate"))]
mod inert {
    use leptos::prelude::NodeRef;
    use protocol::ImageResult;

    use crate::pages::editor::EditorState;

    pub fn listen_for_drops_and_pastes(_: EditorState) {}
    pub fn add_from_input(_: EditorState, _: &leptos::ev::Event) {}
    pub fn remove(_: EditorState, _: u32) {}
    pub fn keep_editing(_: EditorState, _: &ImageResult) {}
    pub fn cancel(_: EditorState) {}
    pub fn generate(_: EditorState, _: String, _: String, _: Option<String>, _: Option<String>) {}
    pub fn edit(_: EditorState, _: String, _: String) {}
    pub fn fit_canvas(_: EditorState, _: NodeRef<leptos::html::Canvas>) {}
    pub fn paint_start(
        _: EditorState,
        _: NodeRef<leptos::html::Canvas>,
        _: &leptos::ev::PointerEvent,
    ) {
    }
    pub fn paint_move(
        _: EditorState,
        _: NodeRef<leptos::html::Canvas>,
        _: &leptos::ev::PointerEvent,
    ) {
    }
    pub fn paint_end() {}
    pub fn clear_mask(_: EditorState, _: NodeRef<leptos::html::Canvas>) {}
    pub fn invert_mask(_: EditorState, _: NodeRef<leptos::html::Canvas>) {}
}

#[cfg(not(feature = "hydrate"))]
pub use inert::*;
