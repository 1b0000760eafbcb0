//! The gallery's server functions: `list_gallery` (a page of thumbnails, searched and
//! filtered), `get_image_detail` (an image with its lineage) and `delete_image` (a POST; with
//! JavaScript off its form posts and the server redirects back to the gallery).
//!
//! They read the engine's store through the `Studio` in the request's context, off the async
//! threads ([`engine::store::StoreHandle::run`]). A store failure converts into a generic
//! sentence and a log line; the status follows from the error's kind.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use protocol::{GalleryPage, GalleryQuery, ImageDetail};

use crate::error::AppError;

/// One page of the gallery, newest first.
#[server(prefix = "/api", endpoint = "list_gallery", input = Json)]
pub async fn list_gallery(query: GalleryQuery) -> Result<GalleryPage, AppError> {
    let store = ssr::store()?;
    let (list, notices) = ssr::to_list_query(&query);
    let page = store.run(move |s| s.list(&list)).await?;
    Ok(GalleryPage {
        items: page.items.iter().map(ssr::item).collect(),
        older: page.older.map(|p| p.token()),
        newer: page.newer.map(|p| p.token()),
        notices,
    })
}

/// An image with its ancestors and descendants; `None` when there is no such image.
#[server(prefix = "/api", endpoint = "image_detail")]
pub async fn get_image_detail(id: String) -> Result<Option<ImageDetail>, AppError> {
    if !protocol::is_image_id(&id) {
        return Ok(None);
    }
    let store = ssr::store()?;
    let found = store
        .run(move |s| {
            let Some(lineage) = s.lineage(&id)? else {
                return Ok(None);
            };
            let extras = if lineage.image.grounded {
                s.extras(&id)?
            } else {
                Default::default()
            };
            Ok::<_, engine::store::StoreError>(Some((lineage, extras)))
        })
        .await?;
    let Some((lineage, extras)) = found else {
        return Ok(None);
    };
    let grounding = extras
        .grounding
        .as_deref()
        .and_then(engine::grounding::StoredGrounding::from_json)
        .map(|g| g.to_protocol());
    Ok(Some(ssr::detail(&lineage, grounding)))
}

/// Deletes an image (its row, and its files unless another image shares them). With
/// JavaScript off the form posts here and the browser is sent back to the gallery.
#[server(prefix = "/api", endpoint = "delete_image")]
pub async fn delete_image(id: String) -> Result<(), AppError> {
    use protocol::ErrorKind;

    if !protocol::is_image_id(&id) {
        return Err(AppError::new(
            ErrorKind::NotFound,
            "There is no such image.",
        ));
    }
    let store = ssr::store()?;
    let deleted = store.run(move |s| s.delete(&id)).await?;
    match deleted {
        Some(record) => {
            tracing::info!(
                bytes = record.bytes,
                kind = record.kind.as_str(),
                "image deleted"
            );
            leptos_axum::redirect("/gallery?deleted=1");
            Ok(())
        }
        None => Err(AppError::new(
            ErrorKind::NotFound,
            "This image was already deleted.",
        )),
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use engine::store::{
        Ancestor, Cursor, ImageRecord, Lineage, ListQuery, StoreHandle, query::Position,
    };
    use protocol::{
        GALLERY_PAGE_SIZE, GalleryItem, GalleryQuery, ImageDetail, ImageKind, LineageEntry,
        parse_day,
    };

    use crate::error::AppError;

    /// Longest search text used; the rest is ignored.
    const MAX_SEARCH_CHARS: usize = 200;

    pub fn store() -> Result<StoreHandle, AppError> {
        crate::images_api::ssr::studio().map(|studio| studio.store().clone())
    }

    /// The store's query for a page's URL, and a sentence for each value that was ignored.
    pub fn to_list_query(query: &GalleryQuery) -> (ListQuery, Vec<String>) {
        let mut notices = Vec::new();
        let text = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let kind = text(&query.kind).and_then(|k| {
            let parsed = ImageKind::parse(&k);
            if parsed.is_none() {
                notices.push(format!("\"{k}\" is not a kind; showing every kind."));
            }
            parsed
        });
        let mut day = |v: &Option<String>, name: &str| {
            let value = text(v)?;
            let parsed = parse_day(&value);
            if parsed.is_none() {
                notices.push(format!(
                    "The {name} date \"{value}\" is not a date like 2026-01-31; it was ignored."
                ));
            }
            parsed
        };
        let from_ms = day(&query.from, "from");
        // "To" is inclusive: up to the end of that day.
        let until_ms = day(&query.to, "to").map(|start| start + 86_400_000);
        let cursor = text(&query.before)
            .and_then(|t| Position::parse(&t))
            .map(Cursor::Before)
            .or_else(|| {
                text(&query.after)
                    .and_then(|t| Position::parse(&t))
                    .map(Cursor::After)
            });
        let list = ListQuery {
            text: text(&query.q).map(|q| q.chars().take(MAX_SEARCH_CHARS).collect()),
            model: text(&query.model),
            kind,
            from_ms,
            until_ms,
            cursor,
            limit: GALLERY_PAGE_SIZE,
        };
        (list, notices)
    }

    pub fn item(r: &ImageRecord) -> GalleryItem {
        GalleryItem {
            id: r.id.clone(),
            created_ms: r.created_ms,
            kind: r.kind,
            prompt: r.prompt.clone(),
            model: r.model.clone(),
            aspect_ratio: r.aspect_ratio.clone(),
            image_size: r.image_size.clone(),
            width: r.width,
            height: r.height,
            bytes: r.bytes,
            total_tokens: r.prompt_tokens + r.output_tokens + r.thoughts_tokens,
            cost_usd: r.cost_usd,
            parent_id: r.parent_id.clone(),
            thinking_level: r.thinking_level.clone(),
            grounded: r.grounded,
            context_turns: r.context_turns,
        }
    }

    pub fn detail(lineage: &Lineage, grounding: Option<protocol::Grounding>) -> ImageDetail {
        ImageDetail {
            grounding,
            image: item(&lineage.image),
            ancestors: lineage
                .ancestors
                .iter()
                .map(|a| match a {
                    Ancestor::Present(r) => LineageEntry::Present(Box::new(item(r))),
                    Ancestor::Deleted { id } => LineageEntry::Deleted { id: id.clone() },
                })
                .collect(),
            descendants: lineage
                .descendants
                .iter()
                .map(|d| (item(&d.record), d.depth))
                .collect(),
        }
    }
}
