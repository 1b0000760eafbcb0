//! The routes some controls single out, named once: the server functions' paths come from
//! the functions themselves (`ServerFn::PATH`), so a renamed endpoint cannot slip past them.

use app::images_api::{EditImage, EditStream, GenerateImage, GenerateStream};
use leptos::server_fn::ServerFn;

/// Whether `path` makes images (so it costs money): rate limited, and capped per client.
pub fn costs_money(path: &str) -> bool {
    [
        GenerateImage::PATH,
        EditImage::PATH,
        GenerateStream::PATH,
        EditStream::PATH,
    ]
    .contains(&path)
}

/// Whether `path` takes an image upload: a larger body, within the upload deadline.
pub fn is_upload(path: &str) -> bool {
    path == EditImage::PATH || path == EditStream::PATH
}

/// Paths every server function is under.
pub const SERVER_FN_PREFIX: &str = "/api/";

/// Operations endpoints, which stay open to load balancers and orchestrators.
pub fn is_health(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_paths_are_the_server_functions_own() {
        assert_eq!(GenerateImage::PATH, "/api/generate_image");
        assert!(costs_money("/api/edit_image") && is_upload("/api/edit_image"));
        assert!(costs_money("/api/generate_stream") && !is_upload("/api/generate_stream"));
        assert!(costs_money("/api/edit_stream") && is_upload("/api/edit_stream"));
        assert!(!costs_money("/api/list_gallery") && !is_upload("/api/generate_image"));
        assert!(GenerateImage::PATH.starts_with(SERVER_FN_PREFIX));
    }
}
