//! One image: the picture, its prompt and facts, its lineage (the chain of parents back to the
//! first source, and the edits made from it), and what can be done with it: download, edit,
//! delete. Deleting asks first, on the page itself (`?confirm=delete`), so it works the same
//! with JavaScript off; the delete itself is a POST.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::{
    components::A,
    hooks::{use_params_map, use_query_map},
};
use protocol::{GalleryItem, ImageDetail, ImageKind, LineageEntry, ModelInfo, format_utc};

use crate::gallery_api::{DeleteImage, get_image_detail};
use crate::pages::gallery::{load_error, model_label, thumbnail_size};
use crate::pages::provenance::{GroundingSources, provenance_note};
use crate::server_info::use_server_info;

#[component]
pub fn ImageDetailPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let confirming = move || query.with(|q| q.get("confirm").as_deref() == Some("delete"));
    let detail = Resource::new(move || id.get(), get_image_detail);
    let info = use_server_info();

    view! {
        <Suspense fallback=|| {
            view! { <p class="muted">"Loading the image…"</p> }
        }>
            {move || Suspend::new(async move {
                let models = info.get().await.map(|i| i.models).unwrap_or_default();
                match detail.await {
                    Ok(Some(detail)) => view! { <Detail detail models confirming /> }.into_any(),
                    Ok(None) => missing().into_any(),
                    Err(e) => {
                        view! {
                            <Title text="Gallery" />
                            {load_error(&e)}
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn Detail(
    detail: ImageDetail,
    models: Vec<ModelInfo>,
    confirming: impl Fn() -> bool + Send + Sync + Copy + 'static,
) -> impl IntoView {
    let image = detail.image.clone();
    let model = model_label(&models, &image.model);
    let facts = facts(&image, &model);
    let provenance = provenance_note(
        models.iter().find(|m| m.id == image.model),
        image.kind == ImageKind::Edited,
    );
    let grounding = detail
        .grounding
        .clone()
        .map(|g| view! { <GroundingSources grounding=g id=image.id.clone() /> });
    let id = image.id.clone();
    let edit_href = format!("/editor?source={id}");
    let data_id = id.clone();
    let confirm_href = format!("/gallery/{id}?confirm=delete");
    let keep_href = image.detail_url();
    let (view_width, view_height) = image.view_size();

    view! {
        <Title text=format!("Image · {}", short(&image.prompt, 40)) />
        <nav class="crumbs">
            <A href="/gallery" exact=true>
                "← Gallery"
            </A>
        </nav>
        <article class="detail" data-testid="image-detail" data-id=data_id>
            <figure class="detail-figure">
                // A copy sized for the page; the original is one click away.
                <a href=image.url() data-testid="detail-original">
                    <img
                        src=image.view_url()
                        alt=image.prompt.clone()
                        width=view_width
                        height=view_height
                        data-testid="detail-image"
                    />
                </a>
                <figcaption class="muted small">
                    {if (view_width, view_height) == (image.width, image.height) {
                        "A lighter copy is shown: select it for the original file.".to_owned()
                    } else {
                        format!(
                            "Shown at {view_width}×{view_height}: select it for the original, {}×{}.",
                            image.width,
                            image.height,
                        )
                    }}
                </figcaption>
            </figure>
            <section class="card detail-info">
                <h1 class="detail-prompt" data-testid="detail-prompt">
                    {image.prompt.clone()}
                </h1>
                <dl class="facts">
                    {facts
                        .into_iter()
                        .map(|(k, v)| {
                            view! {
                                <dt>{k}</dt>
                                <dd>{v}</dd>
                            }
                        })
                        .collect_view()}
                </dl>
                {grounding}
                <p class="muted small" data-testid="provenance">
                    {provenance}
                </p>
                <div class="actions">
                    <a
                        class="button button-small"
                        href=image.download_url()
                        download=""
                        data-testid="detail-download"
                    >
                        "Download"
                    </a>
                    <a
                        href=edit_href
                        class="button button-small button-primary"
                        data-testid="detail-edit"
                    >
                        "Edit"
                    </a>
                    <a
                        href=format!("/editor?settings={id}")
                        class="button button-small"
                        data-testid="detail-reuse"
                    >
                        "Use these settings"
                    </a>
                    <a
                        href=confirm_href
                        class="button button-small button-danger"
                        data-testid="detail-delete"
                    >
                        "Delete"
                    </a>
                </div>
                // Erased: the island's view type nested in the page's is too deep to lay out.
                {confirming().then(|| view! { <ConfirmDelete id keep_href /> }.into_any())}
            </section>
            <Lineage detail models />
        </article>
    }
}

/// The delete question (`?confirm=delete`). It works as a form with JavaScript off, and its
/// safe answer has the focus; live, Escape answers it and a failure is said in place.
#[island(lazy)]
fn ConfirmDelete(id: String, keep_href: String) -> impl IntoView {
    let delete = ServerAction::<DeleteImage>::new();
    let back = keep_href.clone();
    let to_delete = id.clone();
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" {
            ev.prevent_default();
            let _ = window().location().set_href(&back);
        }
    };
    view! {
        <div
            class="notice notice-error confirm"
            role="alertdialog"
            aria-labelledby="confirm-title"
            aria-describedby="confirm-text"
            data-testid="confirm-delete"
            on:keydown=on_key
        >
            <strong id="confirm-title">"Delete this image?"</strong>
            <p id="confirm-text">
                "The image and its file are removed for good. Edits made from it stay, and their lineage shows the gap."
            </p>
            // A plain form (it posts with JavaScript off); live, it calls the function.
            <form
                method="post"
                action=DeleteImage::url()
                on:submit=move |ev| {
                    ev.prevent_default();
                    delete
                        .dispatch(DeleteImage {
                            id: to_delete.clone(),
                        });
                }
            >
                <input type="hidden" name="id" value=id />
                <div class="actions">
                    <button
                        type="submit"
                        class="button button-small button-danger"
                        data-testid="confirm-delete-submit"
                    >
                        "Delete for good"
                    </button>
                    <a
                        href=keep_href
                        class="button button-small"
                        // The safe answer has the focus as the page loads, with or without
                        // JavaScript, before the island's code has arrived.
                        autofocus=true
                        data-testid="confirm-delete-keep"
                    >
                        "Keep it"
                    </a>
                </div>
            </form>
            {move || {
                delete
                    .value()
                    .get()
                    .and_then(Result::err)
                    .map(|e| {
                        view! {
                            <p role="alert" data-testid="delete-error">
                                {e.message().to_owned()}
                            </p>
                        }
                    })
            }}
        </div>
    }
}

/// The version tree: ancestors from the first source down to this image, then its edits.
#[component]
fn Lineage(detail: ImageDetail, models: Vec<ModelInfo>) -> impl IntoView {
    let label = |id: &str| model_label(&models, id);
    let ancestors: Vec<_> = detail.ancestors.iter().rev().cloned().collect();
    let chain = ancestors
        .into_iter()
        .map(|entry| match entry {
            LineageEntry::Present(item) => {
                view! { <li>{lineage_link((*item).clone(), label(&item.model))}</li> }.into_any()
            }
            LineageEntry::Deleted { .. } => view! {
                <li class="lineage-gap" data-testid="lineage-gap">
                    <span class="lineage-thumb lineage-thumb-empty" aria-hidden="true"></span>
                    <span class="muted">"A deleted image"</span>
                </li>
            }
            .into_any(),
        })
        .collect_view();
    let descendants = if detail.descendants.is_empty() {
        view! {
            <p class="muted small" data-testid="no-descendants">
                "No edits made from this image yet."
            </p>
        }
        .into_any()
    } else {
        view! {
            <ul class="descendants" data-testid="descendants">
                {detail
                    .descendants
                    .iter()
                    .map(|(item, depth)| {
                        view! {
                            <li class=format!(
                                "depth-{}",
                                depth.saturating_sub(1).min(6),
                            )>{lineage_link(item.clone(), label(&item.model))}</li>
                        }
                    })
                    .collect_view()}
            </ul>
        }
        .into_any()
    };
    view! {
        <section class="card lineage" aria-labelledby="lineage-title" data-testid="lineage">
            <h2 id="lineage-title">"Lineage"</h2>
            <ol class="lineage-chain" data-testid="lineage-chain">
                {chain}
                <li aria-current="true" class="lineage-current">
                    <img class="lineage-thumb" src=detail.image.thumbnail_url() alt="" />
                    <span>
                        <strong>"This image"</strong>
                    </span>
                </li>
            </ol>
            <h3>"Edits made from it"</h3>
            {descendants}
        </section>
    }
}

fn lineage_link(item: GalleryItem, model: String) -> impl IntoView + use<> {
    let (w, h) = thumbnail_size(item.width, item.height);
    let prompt = short(&item.prompt, 80);
    let (href, thumb, id) = (item.detail_url(), item.thumbnail_url(), item.id.clone());
    let meta = format!(
        "{} · {model} · {}",
        kind_label(item.kind),
        format_utc(item.created_ms)
    );
    view! {
        <a href=href class="lineage-link" data-testid="lineage-link" data-id=id>
            <img class="lineage-thumb" src=thumb alt="" width=w height=h loading="lazy" />
            <span>
                <span class="lineage-prompt">{prompt}</span>
                <span class="muted small">{meta}</span>
            </span>
        </a>
    }
}

fn facts(image: &GalleryItem, model: &str) -> Vec<(&'static str, String)> {
    let mut facts = vec![
        ("Kind", kind_label(image.kind).to_owned()),
        ("Model", model.to_owned()),
        ("Size", format!("{} × {} px", image.width, image.height)),
        (
            "File",
            format!("PNG, {:.1} MB", image.bytes as f64 / 1_048_576.0),
        ),
        ("Tokens", image.total_tokens.to_string()),
        (
            "Cost",
            image
                .cost_usd
                .map_or_else(|| "unknown".to_owned(), protocol::format_usd),
        ),
        ("Created", format_utc(image.created_ms)),
    ];
    if let Some(ratio) = &image.aspect_ratio {
        facts.insert(3, ("Aspect ratio", ratio.clone()));
    }
    if let Some(level) = &image.thinking_level {
        facts.push(("Thinking", level.clone()));
    }
    if image.grounded {
        facts.push(("Grounding", "Google Search".to_owned()));
    }
    if image.context_turns > 0 {
        facts.push((
            "Conversation",
            format!(
                "continued {} earlier turn{}",
                image.context_turns,
                if image.context_turns == 1 { "" } else { "s" }
            ),
        ));
    }
    facts
}

fn kind_label(kind: ImageKind) -> &'static str {
    match kind {
        ImageKind::Generated => "Generated",
        ImageKind::Edited => "Edited",
    }
}

/// At most `max` characters of `text`, with an ellipsis when cut.
fn short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(max).collect::<String>())
    }
}

/// No such image: a designed 404.
fn missing() -> impl IntoView {
    crate::pages::not_found::respond_not_found();
    view! {
        <Title text="Image not found" />
        <section class="empty-state" data-testid="image-not-found">
            <p class="empty-code" aria-hidden="true">
                "404"
            </p>
            <h1>"This image is not in the gallery"</h1>
            <p class="muted">"It may have been deleted, or the address is mistyped."</p>
            <div class="actions">
                <a href="/gallery" class="button button-primary">
                    "Open the gallery"
                </a>
            </div>
        </section>
    }
}
