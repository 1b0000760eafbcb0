//! The GemFlash user interface and its server functions.
//!
//! One crate for both sides: with the `ssr` feature it renders pages on the server and runs the
//! server functions; with `hydrate` only its islands (`#[island]`: the editor, the start page's
//! server check, the delete question) are compiled to WASM and made live in the browser.
//! Server-only code sits behind `#[cfg(feature = "ssr")]`, so nothing of it reaches the
//! browser bundle.

// The editor's view is one deeply nested type (every element and attribute is a type
// parameter); the WASM release build needs more than the default 128 levels to lay it out.
#![recursion_limit = "256"]

pub mod error;
pub mod gallery_api;
pub mod images_api;
pub mod job_stream;
mod layout;
#[cfg(feature = "ssr")]
pub mod page_scripts;
mod pages;
pub mod security;
pub mod server_info;
#[cfg(feature = "ssr")]
pub mod upload;

use leptos::prelude::*;
use leptos_meta::{Link, Meta, Title, provide_meta_context};
use leptos_router::{
    SsrMode,
    components::{Route, Router, Routes},
    path,
};

use crate::layout::{Footer, Header, ModeBanner};
use crate::pages::{EditorPage, GalleryPage, HomePage, ImageDetailPage, NotFoundPage};

/// The HTML document around the app: rendered on the server only.
#[cfg(feature = "ssr")]
pub fn shell(options: LeptosOptions) -> impl IntoView {
    use leptos_meta::MetaTags;

    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <AutoReload options=options.clone() />
                // The built stylesheet, by its hashed name in a release build.
                <page_scripts::PageStylesheet options=options.clone() />
                // What makes the page live, and when it loads (see `page_scripts`).
                <page_scripts::PageScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The app: the shell every page shares (header, mode banner, footer) and the routes.
///
/// Every route renders in `SsrMode::Async`: the server waits for the page's data and sends
/// complete HTML, so each page is whole and usable with JavaScript off. The app runs on the
/// server only: links are ordinary navigations, and in the browser only the islands inside
/// the pages (`#[island]`) come alive.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    server_info::provide_server_info();

    view! {
        <Link rel="icon" type_="image/svg+xml" href="/favicon.svg" />
        <Meta
            name="description"
            content="GemFlash: generate and edit images with Gemini. Paint a mask and nothing outside it changes."
        />
        <Title formatter=page_title />
        <Router>
            <div class="app">
                <Header />
                <ModeBanner />
                <main class="main" id="main">
                    <Routes fallback=NotFoundPage>
                        <Route path=path!("") view=HomePage ssr=SsrMode::Async />
                        <Route path=path!("/editor") view=EditorPage ssr=SsrMode::Async />
                        <Route path=path!("/gallery") view=GalleryPage ssr=SsrMode::Async />
                        <Route path=path!("/gallery/:id") view=ImageDetailPage ssr=SsrMode::Async />
                    </Routes>
                </main>
                <Footer />
            </div>
        </Router>
    }
}

/// The document's title for a page's own (`""` on the start page). Escaped here because
/// `leptos_meta` writes the title into the server's HTML as it is: an image's prompt, which is
/// its page's title, could otherwise close `<title>` and put its own elements in the head.
/// The app runs on the server only (see [`App`]), so the title is never set from the browser,
/// where the escape would show.
fn page_title(page: String) -> String {
    let title = if page.is_empty() {
        "GemFlash".to_owned()
    } else {
        format!("{page} · GemFlash")
    };
    // The escape the renderer uses for every other text node.
    html_escape::encode_text(&title).into_owned()
}

#[cfg(test)]
mod tests {
    use super::page_title;

    #[test]
    fn a_page_title_is_escaped_and_named_after_the_app() {
        assert_eq!(page_title(String::new()), "GemFlash");
        assert_eq!(page_title("Gallery".into()), "Gallery · GemFlash");
        assert_eq!(
            page_title("Image · x</title><b>&".into()),
            "Image · x&lt;/title&gt;&lt;b&gt;&amp; · GemFlash"
        );
    }
}
