//! The browser entry point: hydrates the server-rendered GemFlash app in WASM.

use wasm_bindgen::prelude::wasm_bindgen;

/// Called by the hydration script that the server puts in every page. Hydration waits for the
/// chunks the page's lazy routes need (the editor's) before it walks the server's HTML.
#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_lazy(app::App);
}
