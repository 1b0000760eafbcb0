//! The start page: what GemFlash does, and what this server is configured with.
//!
//! The configuration comes from the `get_server_info` server function: rendered on the server
//! for the first paint, and fetched again from the browser by "Check again" (a form, so it
//! also works with JavaScript off: the server answers the post by sending the page again).

use leptos::either::Either;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use protocol::{Availability, ModelInfo, ServerInfo, StorageInfo, Upstream};

use crate::error::AppError;
use crate::server_info::{GetServerInfo, use_server_info};

#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Title text="" />
        <section class="hero">
            <h1 class="hero-title">"Edit images with Gemini. Only where you paint."</h1>
            <p class="hero-lead">
                "Generate from text, or bring your own images, paint a mask and describe the change. GemFlash composites the result through your mask, so every pixel outside it stays exactly as it was."
            </p>
            <div class="actions">
                <a href="/editor" class="button button-primary">
                    "Open the editor"
                </a>
                <a href="/gallery" class="button">
                    "Browse the gallery"
                </a>
            </div>
        </section>
        <ServerStatus />
    }
}

/// The card describing the server's configuration, as the server read it for this page.
#[component]
fn ServerStatus() -> impl IntoView {
    let info = use_server_info();
    view! {
        <Suspense fallback=|| {
            view! { <p class="muted">"Loading the server's configuration…"</p> }
        }>
            {move || Suspend::new(async move {
                let first = info.get().await;
                view! { <StatusCard>{status(first)}</StatusCard> }
            })}
        </Suspense>
    }
}

/// The card, live: "Check again" asks the server through its function and shows the answer in
/// place of the first. An island; the first answer is its children, the server's HTML, so
/// the browser neither receives nor decodes it twice.
#[island]
fn StatusCard(children: Children) -> impl IntoView {
    // The latest answer, whether a call is under way and how many confirmed: what an `Action`
    // keeps, in signals, because `Action` would be the only one in the main WASM module (7 KB
    // brotli of the 150 KB that page may load). One call at a time: the button waits.
    let answer = RwSignal::new(None::<Result<ServerInfo, AppError>>);
    let asking = RwSignal::new(false);
    let confirmed = RwSignal::new(0_u32);
    let check = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if asking.get_untracked() {
            return;
        }
        asking.set(true);
        leptos::task::spawn_local(async move {
            let latest = crate::server_info::get_server_info().await;
            if latest.is_ok() {
                confirmed.update(|n| *n += 1);
            }
            answer.set(Some(latest));
            asking.set(false);
        });
    };

    view! {
        <section class="card" aria-labelledby="status-title" data-testid="server-status">
            <div class="card-head">
                <h2 id="status-title">"This server"</h2>
                // A plain form (it posts with JavaScript off); live, it calls the function.
                <form method="post" action=GetServerInfo::url() on:submit=check>
                    <button
                        type="submit"
                        class="button button-small"
                        data-testid="recheck"
                        aria-disabled=move || asking.get().then_some("true")
                    >
                        "Check again"
                    </button>
                </form>
            </div>
            // An island's children are HTML it cannot rebuild: hidden, not removed.
            <div hidden=move || answer.with(Option::is_some)>{children()}</div>
            {move || answer.get().map(status)}
            <p class="muted small" data-testid="recheck-status">
                {move || {
                    let failed = answer.with(|a| matches!(a, Some(Err(_))));
                    match (asking.get(), failed, confirmed.get()) {
                        (true, _, _) => "Checking…".to_owned(),
                        (false, true, _) | (false, false, 0) => String::new(),
                        (false, false, n) => format!("Confirmed by the server ({n}×)."),
                    }
                }}
            </p>
        </section>
    }
}

/// The server's answer, or why there is none.
// `Either`, not `AnyView`: an erased view carries every way of rendering it (asynchronous
// hydration included) into the bundle.
fn status(answer: Result<ServerInfo, AppError>) -> impl IntoView {
    match answer {
        Ok(info) => Either::Left(status_details(info)),
        Err(e) => Either::Right(view! {
            <p class="error" role="alert">
                {e.message().to_owned()}
            </p>
        }),
    }
}

fn status_details(info: ServerInfo) -> impl IntoView {
    let (upstream, upstream_note) = match info.upstream {
        Upstream::Gemini => (
            "Google Gemini",
            "Requests are billed to the configured key.",
        ),
        Upstream::Simulator => (
            "Offline simulator",
            "No key configured: synthetic images, no cost.",
        ),
    };
    let key = if info.key_configured {
        "Configured"
    } else {
        "Not configured"
    };
    let ServerInfo {
        version,
        default_model,
        models,
        storage,
        ..
    } = info;

    view! {
        <dl class="facts">
            <div>
                <dt>"Upstream"</dt>
                <dd data-testid="upstream">{upstream}</dd>
                <dd class="muted small">{upstream_note}</dd>
            </div>
            <div>
                <dt>"API key"</dt>
                <dd data-testid="key-status">{key}</dd>
                <dd class="muted small">"The key stays on the server."</dd>
            </div>
            <div>
                <dt>"Version"</dt>
                <dd>{version}</dd>
            </div>
            {storage.map(storage_fact)}
        </dl>
        <h3 class="section-title">"Models"</h3>
        {model_warnings(&models)}
        <ul class="models" data-testid="models">
            {models
                .into_iter()
                .map(|m| {
                    let is_default = m.id == default_model;
                    model_row(m, is_default)
                })
                .collect_view()}
        </ul>
    }
}

/// How full the image store is, and a warning when it is full.
fn storage_fact(storage: StorageInfo) -> impl IntoView {
    let used = megabytes(storage.used_bytes);
    let (text, note) = match storage.quota_bytes {
        Some(quota) => (
            format!("{used} of {}", megabytes(quota)),
            if storage.is_full() {
                "Full: new images cannot be kept until some are deleted."
            } else {
                "The operator's storage limit."
            },
        ),
        None => (used, "No storage limit is set."),
    };
    let full = storage.is_full();
    view! {
        <div>
            <dt>"Storage"</dt>
            <dd data-testid="storage" class:error=full>
                {text}
            </dd>
            <dd class="muted small">{note}</dd>
        </div>
    }
}

fn megabytes(bytes: u64) -> String {
    // Integer arithmetic in u64 (no float formatting, no 128-bit division in the island),
    // rounded to the nearest; the remainder times ten stays far below u64::MAX.
    const MIB: u64 = 1 << 20;
    const GIB: u64 = 1 << 30;
    if bytes >= GIB {
        let tenths = bytes / GIB * 10 + (bytes % GIB * 10 + GIB / 2) / GIB;
        format!("{}.{} GB", tenths / 10, tenths % 10)
    } else {
        format!("{} MB", (bytes + MIB / 2) / MIB)
    }
}

/// A warning for each model that is deprecated or cannot be used, so the operator learns of
/// it before a user does.
fn model_warnings(models: &[ModelInfo]) -> impl IntoView + use<> {
    let lines: Vec<String> = models
        .iter()
        .filter_map(|m| match (&m.availability, &m.deprecated) {
            (Availability::Unavailable { reason }, _) => {
                Some(format!("{} ({}) cannot be used: {reason}", m.label, m.id))
            }
            (_, Some(since)) => Some(format!(
                "{} ({}) was deprecated by Google on {since}{}. Move to a current model, and take it out of the model table (GEMFLASH_MODELS_FILE).",
                m.label,
                m.id,
                m.shutdown
                    .as_ref()
                    .map_or_else(String::new, |d| format!(" and shuts down on {d}"))
            )),
            _ => None,
        })
        .collect();
    (!lines.is_empty()).then(|| {
        view! {
            <div class="notice notice-warn small" role="status" data-testid="model-warnings">
                <ul>{lines.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}</ul>
            </div>
        }
    })
}

fn model_row(model: ModelInfo, is_default: bool) -> impl IntoView {
    let sizes = if model.image_sizes.is_empty() {
        "fixed size".to_owned()
    } else {
        model.image_sizes.join(" · ")
    };
    let state = match (&model.availability, &model.deprecated) {
        (Availability::Unavailable { .. }, _) => Some("unavailable"),
        (_, Some(_)) => Some("deprecated"),
        (Availability::Available, None) => Some("available"),
        (Availability::Unchecked, None) => None,
    };
    view! {
        <li class="model" data-model-id=model.id.clone()>
            <div class="model-name">
                <span class="model-label">{model.label.clone()}</span>
                {is_default.then(|| view! { <span class="badge">"default"</span> })}
            </div>
            <code class="model-id">{model.id.clone()}</code>
            <div class="model-meta">
                {state
                    .map(|s| {
                        view! {
                            <span class="badge badge-warn" data-testid="model-state">
                                {s}
                            </span>
                        }
                    })}
                <span>{format!("≈ {} / image", protocol::format_usd(model.usd_per_image))}</span>
                <span>{format!("up to {} input images", model.max_input_images)}</span>
                <span>{sizes}</span>
                <span>{format!("{} aspect ratios", model.aspect_ratios.len())}</span>
            </div>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::megabytes;

    #[test]
    fn store_sizes_read_in_megabytes_then_gigabytes_to_a_tenth() {
        const MIB: u64 = 1 << 20;
        for (bytes, text) in [
            (0, "0 MB"),
            (MIB / 2 - 1, "0 MB"),
            (MIB / 2, "1 MB"),
            (700 * MIB, "700 MB"),
            (1024 * MIB - 1, "1024 MB"),
            (1024 * MIB, "1.0 GB"),
            (1536 * MIB, "1.5 GB"),
            (10 * 1024 * MIB - 1, "10.0 GB"),
            (u64::MAX, "17179869184.0 GB"),
        ] {
            assert_eq!(megabytes(bytes), text, "{bytes}");
        }
    }
}
