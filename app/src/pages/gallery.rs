//! The gallery: every generated and edited image with its prompt, model, cost and lineage.
//! This page is the frame the gallery grows into; it shows the designed empty state.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

#[component]
pub fn GalleryPage() -> impl IntoView {
    view! {
        <Title text="Gallery" />
        <header class="page-head">
            <h1>"Gallery"</h1>
            <p class="muted">"Everything you generate or edit lands here, with its prompt and lineage."</p>
        </header>
        <section class="empty-state" data-testid="gallery-empty">
            <h2>"No images yet"</h2>
            <p class="muted">"Images you create in the editor will appear here."</p>
            <div class="actions">
                <A href="/editor" attr:class="button button-primary">"Open the editor"</A>
            </div>
        </section>
    }
}
