//! The browser entry point: makes the islands of a server-rendered GemFlash page live.
//!
//! Pages are the server's HTML; only the `#[island]` components (the editor, the start page's
//! server check, the delete question) are compiled here. The page's loader script calls
//! [`hydrate`] once, then each island's own export (`leptos-island[data-component]`), the
//! editor's from a chunk of its own (see `app::page_scripts`).

// The islands' exports are in `app`, which nothing here names: without this, the crate would
// not be linked and the bundle would have no island in it.
extern crate app;

use wasm_bindgen::prelude::wasm_bindgen;

/// Sets up the reactive runtime the islands hydrate in.
#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
    // A server function that answers with a redirect (deleting an image sends the browser to
    // the gallery) is followed as a page load: there is no router in the browser. Only a path
    // on this site is followed (not `//host`, `/\host`, another scheme or origin).
    let _ = leptos::server_fn::redirect::set_redirect_hook(|to: &str| {
        if app::security::is_own_path(to) {
            let _ = leptos::prelude::window().location().set_href(to);
        }
    });
}
