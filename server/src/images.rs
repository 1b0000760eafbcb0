//! Serving stored images: `/images/{id}` (the image; `?download` to save it) and
//! `/images/{id}/thumb` (the WebP thumbnail).
//!
//! An image never changes once stored, so answers carry a strong ETag (its sha256) and an
//! immutable, year-long cache lifetime, and `If-None-Match` gets a 304. The Content-Type is
//! the stored one, with `nosniff`.

use std::collections::HashMap;

use axum::{
    body::Body,
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use engine::store::{FileKind, ImageRecord};

use crate::state::AppState;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// With access control on, shared caches must not keep what only signed-in people may see.
const IMMUTABLE_PRIVATE: &str = "private, max-age=31536000, immutable";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    Full,
    Thumbnail,
}

pub async fn image(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    serve(
        &state,
        &id,
        Variant::Full,
        query.contains_key("download"),
        &headers,
    )
    .await
}

pub async fn thumbnail(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    serve(&state, &id, Variant::Thumbnail, false, &headers).await
}

async fn serve(
    state: &AppState,
    id: &str,
    variant: Variant,
    download: bool,
    headers: &HeaderMap,
) -> Response {
    if !protocol::is_image_id(id) {
        return not_found();
    }
    let store = state.studio.store().clone();
    let lookup = id.to_owned();
    let record = match tokio::task::spawn_blocking(move || store.get(&lookup)).await {
        Ok(Ok(Some(record))) => record,
        Ok(Ok(None)) => return not_found(),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "image lookup failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
        Err(e) => {
            tracing::error!(error = %e, "image lookup task failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let etag = match variant {
        Variant::Full => format!("\"{}\"", record.sha256),
        Variant::Thumbnail => format!("\"{}-thumb\"", record.sha256),
    };
    let mut response = if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|tag| tag.trim() == etag || tag.trim() == "*")
        }) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        match read(state, &record, variant).await {
            Some(bytes) => Response::new(Body::from(bytes)),
            None => return not_found(),
        }
    };
    let h = response.headers_mut();
    let mime = match variant {
        Variant::Full => record.mime.as_str(),
        Variant::Thumbnail => "image/webp",
    };
    if let Ok(v) = HeaderValue::from_str(mime) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    let cache = if matches!(state.config.access, crate::access::AccessMode::None) {
        IMMUTABLE
    } else {
        IMMUTABLE_PRIVATE
    };
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    if download {
        let ext = if record.mime == "image/png" {
            "png"
        } else {
            "jpg"
        };
        if let Ok(v) = HeaderValue::from_str(&format!(
            "attachment; filename=\"gemflash-{}.{ext}\"",
            record.id
        )) {
            h.insert(header::CONTENT_DISPOSITION, v);
        }
    }
    response
}

async fn read(state: &AppState, record: &ImageRecord, variant: Variant) -> Option<Vec<u8>> {
    let store = state.studio.store().clone();
    let file = match variant {
        Variant::Full => FileKind::Image,
        Variant::Thumbnail => FileKind::Thumbnail,
    };
    let wanted = record.clone();
    match tokio::task::spawn_blocking(move || store.read(&wanted, file)).await {
        Ok(Ok(Some(bytes))) => Some(bytes),
        Ok(Ok(None)) => {
            tracing::error!(id = %record.id, "a stored image's file is missing");
            None
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, id = %record.id, "a stored image's file cannot be read");
            None
        }
        Err(e) => {
            tracing::error!(error = %e, "image read task failed");
            None
        }
    }
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CACHE_CONTROL, "no-store")],
        "No such image.",
    )
        .into_response()
}
