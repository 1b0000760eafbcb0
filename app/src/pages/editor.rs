//! The editor: where images are generated from text and edited through a painted mask.
//! This page is the frame the editor grows into: for now it tells the user what it will do.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

#[component]
pub fn EditorPage() -> impl IntoView {
    view! {
        <Title text="Editor" />
        <header class="page-head">
            <h1>"Editor"</h1>
            <p class="muted">
                "Generate an image from a prompt, or bring your own images, paint a mask and say what should change."
            </p>
        </header>
        <section class="empty-state" data-testid="editor-empty">
            <h2>"The editor is not open yet"</h2>
            <p class="muted">
                "Generation and mask editing are being built. Until then the gallery shows what has been made."
            </p>
            <div class="actions">
                <A href="/gallery" attr:class="button">"Open the gallery"</A>
            </div>
        </section>
    }
}
