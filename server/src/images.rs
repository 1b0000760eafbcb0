//! Serving stored images: `/images/{id}` (the image; `?download` to save it),
//! `/images/{id}/thumb` (the WebP thumbnail), and `/images/{id}/search` (a grounded image's
//! Google Search suggestions, as a sandboxed document of their own).
//!
//! An image never changes once stored, so answers carry a strong ETag (its sha256) and an
//! immutable, year-long cache lifetime (`private` when access control is on, so no shared
//! cache keeps what only signed-in people may see), and `If-None-Match` gets a 304. The
//! Content-Type is the stored one, with `nosniff`. Files are streamed from disk in small
//! chunks, never read whole into memory: a 50 MP image costs a download the same as a thumbnail.

use std::collections::HashMap;

use axum::{
    body::Body,
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use engine::{
    grounding::{SUGGESTIONS_CSP, StoredGrounding, suggestions_page},
    store::{FileKind, ImageRecord, StoreError, extension},
};
use tokio_util::io::ReaderStream;

use crate::{config::AccessMode, state::AppState};

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// With access control on, shared caches must not keep what only signed-in people may see.
const IMMUTABLE_PRIVATE: &str = "private, max-age=31536000, immutable";

pub async fn image(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    serve(
        &state,
        &id,
        FileKind::Image,
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
    serve(&state, &id, FileKind::Thumbnail, false, &headers).await
}

/// The thumbnail for dense screens, made on the first request.
pub async fn thumbnail_2x(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    serve(&state, &id, FileKind::Thumbnail2x, false, &headers).await
}

/// The copy an image's page shows, made on the first request.
pub async fn view(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    serve(&state, &id, FileKind::View, false, &headers).await
}

/// A grounded image's search suggestions: Google's HTML, which Google requires to be shown,
/// served as a document of its own under a policy that sandboxes it (no script runs, and it
/// has no access to GemFlash's origin), framed only by GemFlash's own pages.
pub async fn search_suggestions(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    if !protocol::is_image_id(&id) {
        return not_found();
    }
    let html = state
        .studio
        .store()
        .run(move |s| s.extras(&id))
        .await
        .map(|extras| {
            extras
                .grounding
                .as_deref()
                .and_then(StoredGrounding::from_json)
                .and_then(|g| g.suggestions_html)
        });
    let html = match html {
        Ok(Some(html)) => html,
        Ok(None) => return not_found(),
        Err(e) => {
            tracing::error!(error = %e, "search suggestions lookup failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let cache = if matches!(state.config.access.mode, AccessMode::None) {
        IMMUTABLE
    } else {
        IMMUTABLE_PRIVATE
    };
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, SUGGESTIONS_CSP),
            (header::X_FRAME_OPTIONS, "SAMEORIGIN"),
            (header::CACHE_CONTROL, cache),
        ],
        suggestions_page(&html),
    )
        .into_response()
}

async fn serve(
    state: &AppState,
    id: &str,
    file: FileKind,
    download: bool,
    headers: &HeaderMap,
) -> Response {
    if !protocol::is_image_id(id) {
        return not_found();
    }
    let lookup = id.to_owned();
    let record = match state.studio.store().run(move |s| s.get(&lookup)).await {
        Ok(Some(record)) => record,
        Ok(None) => return not_found(),
        Err(e) => {
            tracing::error!(error = %e, "image lookup failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let etag = match file {
        FileKind::Image => format!("\"{}\"", record.sha256),
        FileKind::Thumbnail => format!("\"{}-thumb\"", record.sha256),
        FileKind::Thumbnail2x => format!("\"{}-thumb2x\"", record.sha256),
        FileKind::View => format!("\"{}-view\"", record.sha256),
    };
    let immutable = if matches!(state.config.access.mode, AccessMode::None) {
        IMMUTABLE
    } else {
        IMMUTABLE_PRIVATE
    };
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|tag| tag.trim() == etag || tag.trim() == "*")
        })
    {
        let mut res = StatusCode::NOT_MODIFIED.into_response();
        cache_headers(res.headers_mut(), immutable, &etag);
        return res;
    }
    let Some((served, opened, len)) = open_or_make(state, &record, file).await else {
        return not_found();
    };
    let stream = ReaderStream::new(tokio::fs::File::from_std(opened));
    let mut response = Response::new(Body::from_stream(stream));
    let h = response.headers_mut();
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    let mime = match served {
        FileKind::Image => record.mime.as_str(),
        _ => "image/webp",
    };
    if let Ok(v) = HeaderValue::from_str(mime) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if served == file {
        cache_headers(h, immutable, &etag);
    } else {
        // A stand-in until the copy can be made: not kept, so the next visit asks again.
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    let disposition = format!(
        "attachment; filename=\"gemflash-{}.{}\"",
        record.id,
        extension(&record.mime)
    );
    if download && let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    response
}

fn cache_headers(h: &mut HeaderMap, cache: &'static str, etag: &str) {
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(v) = HeaderValue::from_str(etag) {
        h.insert(header::ETAG, v);
    }
}

/// The file asked for, made first if it is a copy made on first request; when it cannot be
/// made (the memory budget stayed taken, the image will not decode), the file it stands in
/// for: the 1× thumbnail for the 2×, the image for its view copy. Returns which file is served.
async fn open_or_make(
    state: &AppState,
    record: &ImageRecord,
    file: FileKind,
) -> Option<(FileKind, std::fs::File, u64)> {
    if let Some((opened, len)) = open(state, record, file).await {
        return Some((file, opened, len));
    }
    if !file.is_derived_later() {
        return None;
    }
    match state.studio.derive_file(record, file).await {
        Ok(true) => {
            if let Some((opened, len)) = open(state, record, file).await {
                return Some((file, opened, len));
            }
        }
        Ok(false) => {}
        Err(e) => {
            tracing::warn!(error = %e, id = %record.id, kind = ?file, "a copy could not be made")
        }
    }
    let stand_in = match file {
        FileKind::Thumbnail2x => FileKind::Thumbnail,
        _ => FileKind::Image,
    };
    open(state, record, stand_in)
        .await
        .map(|(opened, len)| (stand_in, opened, len))
}

/// A record's file, opened for streaming.
async fn open(
    state: &AppState,
    record: &ImageRecord,
    file: FileKind,
) -> Option<(std::fs::File, u64)> {
    let wanted = record.clone();
    match state
        .studio
        .store()
        .run(move |s| s.open_file(&wanted, file))
        .await
    {
        Ok(Some(opened)) => Some(opened),
        // A copy made on first request is absent until then: not a fault.
        Ok(None) if file.is_derived_later() => None,
        Ok(None) => {
            tracing::error!(id = %record.id, kind = ?file, "a stored image's file is missing");
            None
        }
        Err(e @ StoreError::Worker(_)) => {
            tracing::error!(error = %e, "image read task failed");
            None
        }
        Err(e) => {
            tracing::error!(error = %e, id = %record.id, "a stored image's file cannot be read");
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
