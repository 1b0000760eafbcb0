//! The frame every page shares: the header with its navigation, the banner that says which
//! upstream answers, and the footer.

use leptos::prelude::*;
use leptos_router::components::A;
use protocol::{ServerInfo, Upstream};

use crate::server_info::use_server_info;

/// The top bar: the brand and the main navigation. Links are plain `<a>` elements, so they
/// work with JavaScript off; `A` marks the current page (exactly that page: not the home link
/// everywhere, not Gallery on an image's page) with `aria-current`.
#[component]
pub fn Header() -> impl IntoView {
    view! {
        <a class="skip-link" href="#main">
            "Skip to content"
        </a>
        <header class="topbar">
            <A href="/" exact=true attr:class="brand">
                <svg class="brand-mark" viewBox="0 0 32 32" aria-hidden="true">
                    <path d="M16 2 L19.5 12.5 L30 16 L19.5 19.5 L16 30 L12.5 19.5 L2 16 L12.5 12.5 Z" />
                </svg>
                <span class="brand-name">"GemFlash"</span>
            </A>
            <nav class="nav" aria-label="Main">
                <A href="/editor" exact=true attr:class="nav-link">
                    "Editor"
                </A>
                <A href="/gallery" exact=true attr:class="nav-link">
                    "Gallery"
                </A>
            </nav>
        </header>
    }
}

/// Says, on every page, when GemFlash runs against its offline simulator rather than Gemini.
#[component]
pub fn ModeBanner() -> impl IntoView {
    let info = use_server_info();
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let info = info.get().await.ok();
                info.filter(|i| i.upstream == Upstream::Simulator).map(|_| simulator_banner())
            })}
        </Suspense>
    }
}

fn simulator_banner() -> impl IntoView {
    view! {
        <div class="banner banner-sim" role="status" data-testid="simulator-banner">
            <strong>"Simulator mode."</strong>
            " No "
            <code>"GEMINI_API_KEY"</code>
            " is configured, so GemFlash answers with its offline Gemini simulator: images are synthetic and nothing is billed. Set the key and restart to use Gemini."
        </div>
    }
}

/// The footer: version and where the answers come from.
#[component]
pub fn Footer() -> impl IntoView {
    let info = use_server_info();
    view! {
        <footer class="footer">
            <span>"GemFlash"</span>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move { info.get().await.ok().map(footer_details) })}
            </Suspense>
        </footer>
    }
}

fn footer_details(info: ServerInfo) -> impl IntoView {
    let upstream = match info.upstream {
        Upstream::Gemini => "Google Gemini",
        Upstream::Simulator => "the offline simulator",
    };
    view! {
        <span>{format!("v{}", info.version)}</span>
        <span>{format!("Images by {upstream}")}</span>
        {info
            .sign_in
            .then(|| {
                view! {
                    <form method="post" action="/logout" class="sign-out">
                        <button type="submit" class="button button-small" data-testid="sign-out">
                            "Sign out"
                        </button>
                    </form>
                }
            })}
    }
}
