//! The page for an address that matches no route. On the server it also sets the status to 404.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFoundPage() -> impl IntoView {
    respond_not_found();

    view! {
        <Title text="Page not found" />
        <section class="empty-state" data-testid="not-found">
            <p class="empty-code" aria-hidden="true">
                "404"
            </p>
            <h1>"This page does not exist"</h1>
            <p class="muted">"The address may be mistyped, or the page has moved."</p>
            <div class="actions">
                <a href="/" class="button button-primary">
                    "Go to the start page"
                </a>
                <a href="/gallery" class="button">
                    "Open the gallery"
                </a>
            </div>
        </section>
    }
}

/// Sets the current page's status to 404 (on the server; nothing in the browser).
pub(crate) fn respond_not_found() {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
}
