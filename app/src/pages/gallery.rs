//! The gallery: every generated and edited image, newest first, searchable and filterable,
//! paged by cursor with plain links. Rendered on the server only: searching and paging are page
//! loads, with JavaScript on or off, and the page loads no code.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Form, hooks::use_query_map};
use protocol::{GalleryItem, GalleryPage as Page, GalleryQuery, ModelInfo, format_utc};

use crate::error::AppError;
use crate::gallery_api::list_gallery;
use crate::server_info::use_server_info;

#[component]
pub fn GalleryPage() -> impl IntoView {
    let query_map = use_query_map();
    let query = Memo::new(move |_| {
        query_map.with(|m| GalleryQuery {
            q: m.get("q"),
            model: m.get("model"),
            kind: m.get("kind"),
            from: m.get("from"),
            to: m.get("to"),
            before: m.get("before"),
            after: m.get("after"),
        })
    });
    let page = Resource::new(move || query.get(), list_gallery);
    let info = use_server_info();
    let deleted = move || query_map.with(|m| m.get("deleted").is_some());

    view! {
        <Title text="Gallery" />
        <header class="page-head">
            <h1>"Gallery"</h1>
            <p class="muted">
                "Everything generated or edited here, with its prompt, cost and lineage."
            </p>
        </header>
        {move || {
            deleted()
                .then(|| {
                    view! {
                        <p class="notice notice-ok" role="status" data-testid="deleted-notice">
                            "The image was deleted."
                        </p>
                    }
                })
        }}
        <Suspense fallback=|| {
            view! { <p class="muted">"Loading the gallery…"</p> }
        }>
            {move || Suspend::new(async move {
                let models = info.get().await.map(|i| i.models).unwrap_or_default();
                let q = query.get_untracked();
                let listing = page.await;
                view! {
                    <SearchForm query=q.clone() models=models.clone() />
                    {match listing {
                        Ok(listing) => Listing(listing, q, models).into_any(),
                        Err(e) => load_error(&e).into_any(),
                    }}
                }
            })}
        </Suspense>
    }
}

/// Search and filters: a GET form, so its URL can be shared and it works without JavaScript.
#[component]
fn SearchForm(query: GalleryQuery, models: Vec<ModelInfo>) -> impl IntoView {
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    let model = value(&query.model);
    let kind = value(&query.kind);
    let filtered = query.is_filtered();
    view! {
        <Form
            method="GET"
            action="/gallery"
            attr:class="card gallery-search"
            attr:role="search"
            attr:data-testid="gallery-search"
        >
            <label class="field field-wide">
                <span>"Search prompts"</span>
                <input
                    type="search"
                    name="q"
                    value=value(&query.q)
                    placeholder="e.g. lighthouse watercolour"
                    data-testid="search-input"
                    maxlength="200"
                />
            </label>
            <label class="field">
                <span>"Model"</span>
                <select name="model" data-testid="filter-model">
                    <option value="" selected=model.is_empty()>
                        "Any model"
                    </option>
                    {models
                        .into_iter()
                        .map(|m| {
                            let selected = m.id == model;
                            view! {
                                <option value=m.id.clone() selected=selected>
                                    {m.label}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </label>
            <label class="field">
                <span>"Kind"</span>
                <select name="kind" data-testid="filter-kind">
                    <option value="" selected=kind.is_empty()>
                        "Any"
                    </option>
                    <option value="generated" selected=kind == "generated">
                        "Generated"
                    </option>
                    <option value="edited" selected=kind == "edited">
                        "Edited"
                    </option>
                </select>
            </label>
            <label class="field">
                <span>"From"</span>
                <input type="date" name="from" value=value(&query.from) data-testid="filter-from" />
            </label>
            <label class="field">
                <span>"To"</span>
                <input type="date" name="to" value=value(&query.to) data-testid="filter-to" />
            </label>
            <div class="actions">
                <button type="submit" class="button button-primary" data-testid="search-submit">
                    "Search"
                </button>
                {filtered
                    .then(|| {
                        view! {
                            <a href="/gallery" class="button" data-testid="search-clear">
                                "Clear"
                            </a>
                        }
                    })}
            </div>
        </Form>
    }
}

/// The grid and its pager, or the right empty state.
#[allow(non_snake_case)]
fn Listing(listing: Page, query: GalleryQuery, models: Vec<ModelInfo>) -> impl IntoView {
    let notices = listing.notices.clone();
    let body = if listing.items.is_empty() {
        if query.is_filtered() || query.before.is_some() || query.after.is_some() {
            view! {
                <section class="empty-state" data-testid="gallery-no-match">
                    <h2>"Nothing matches"</h2>
                    <p class="muted">
                        "No image fits this search. Try fewer words or wider dates."
                    </p>
                    <div class="actions">
                        <a href="/gallery" class="button">
                            "Show everything"
                        </a>
                    </div>
                </section>
            }
            .into_any()
        } else {
            view! {
                <section class="empty-state" data-testid="gallery-empty">
                    <h2>"No images yet"</h2>
                    <p class="muted">"Images you create in the editor will appear here."</p>
                    <div class="actions">
                        <a href="/editor" class="button button-primary">
                            "Open the editor"
                        </a>
                    </div>
                </section>
            }
            .into_any()
        }
    } else {
        let tiles = listing
            .items
            .iter()
            .map(|item| tile(item.clone(), model_label(&models, &item.model)))
            .collect_view();
        let newer = listing
            .newer
            .as_deref()
            .map(|c| query.href(Some(("after", c))));
        let older = listing
            .older
            .as_deref()
            .map(|c| query.href(Some(("before", c))));
        view! {
            <ul class="gallery-grid" data-testid="gallery-grid">
                {tiles}
            </ul>
            <nav class="pager" aria-label="Gallery pages">
                {newer
                    .map(|href| {
                        view! {
                            <a href=href class="button" rel="prev" data-testid="page-newer">
                                "← Newer"
                            </a>
                        }
                    })}
                {older
                    .map(|href| {
                        view! {
                            <a href=href class="button" rel="next" data-testid="page-older">
                                "Older →"
                            </a>
                        }
                    })}
            </nav>
        }
        .into_any()
    };
    view! {
        {notices
            .into_iter()
            .map(|n| {
                view! {
                    <p class="notice notice-warn" role="status">
                        {n}
                    </p>
                }
            })
            .collect_view()}
        {body}
    }
}

/// How wide a tile's image is shown (style/main.css's `.gallery-grid`): the page's width on a
/// phone, where the grid has one column, and at most about 280 pixels otherwise.
const TILE_SIZES: &str = "(max-width: 520px) calc(100vw - 3rem), 280px";

/// One thumbnail with its prompt, model and date, linking to the image's page.
fn tile(item: GalleryItem, model_label: String) -> impl IntoView + use<> {
    let (w, h) = thumbnail_size(item.width, item.height);
    let meta = format!("{model_label} · {}", format_utc(item.created_ms));
    let (href, thumb, srcset) = (
        item.detail_url(),
        item.thumbnail_url(),
        item.thumbnail_srcset(),
    );
    let id = item.id;
    let (alt, prompt) = (item.prompt.clone(), item.prompt);
    let kind = match item.kind {
        protocol::ImageKind::Generated => "Generated",
        protocol::ImageKind::Edited => "Edited",
    };
    view! {
        <li class="tile">
            <a href=href class="tile-link" data-testid="gallery-item" data-id=id>
                <img
                    src=thumb
                    srcset=srcset
                    sizes=TILE_SIZES
                    alt=alt
                    width=w
                    height=h
                    loading="lazy"
                    decoding="async"
                />
                <span class="tile-kind">{kind}</span>
                <span class="tile-prompt">{prompt}</span>
                <span class="tile-meta">{meta}</span>
            </a>
        </li>
    }
}

/// A model's label, or its id when this server does not offer it (any more).
pub(crate) fn model_label(models: &[ModelInfo], id: &str) -> String {
    models
        .iter()
        .find(|m| m.id == id)
        .map_or_else(|| id.to_owned(), |m| m.label.clone())
}

/// The thumbnail's size for an image's size, as the server makes it.
pub(crate) fn thumbnail_size(width: u32, height: u32) -> (u32, u32) {
    protocol::fit_within(width, height, protocol::THUMBNAIL_SIDE)
}

/// A failure to load, in the page's own design.
pub(crate) fn load_error(e: &AppError) -> impl IntoView + use<> {
    view! {
        <section class="empty-state" role="alert" data-testid="gallery-error">
            <h2>"The gallery could not be loaded"</h2>
            <p class="muted">{e.message().to_owned()}</p>
            <div class="actions">
                <a href="/gallery" class="button">
                    "Try again"
                </a>
            </div>
        </section>
    }
}
