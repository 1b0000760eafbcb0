//! The server's public configuration, fetched through a server function: which models it
//! offers, which upstream answers, and whether a key is configured (never the key).
//!
//! The server puts a [`ServerInfo`] into the Leptos context of every request; the server
//! function hands it out. The page shares one [`Resource`] for it through context, so the
//! banner and the home page do not fetch it twice.

use leptos::prelude::*;
use protocol::ServerInfo;

use crate::error::AppError;

/// The server's public configuration.
#[server(prefix = "/api", endpoint = "server_info")]
pub async fn get_server_info() -> Result<ServerInfo, AppError> {
    // "Check again" posted as a plain form (JavaScript off): send the browser back to the start
    // page. Leptos would go back by the Referer, which the Referrer-Policy withholds.
    if let Some(parts) = use_context::<http::request::Parts>()
        && parts.method == http::Method::POST
        && parts
            .headers
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
    {
        leptos_axum::redirect("/");
    }
    let mut info = use_context::<ServerInfo>().ok_or_else(|| {
        tracing::error!("ServerInfo was not provided to the Leptos context");
        AppError::internal()
    })?;
    // How full the store is and which models the key can use change; the rest is fixed at
    // start-up.
    if let Some(studio) = use_context::<engine::studio::Studio>() {
        for model in &mut info.models {
            model.availability = studio.availability().get(&model.id);
        }
        match studio.store().run(|s| s.usage()).await {
            Ok(usage) => {
                info.storage = Some(protocol::StorageInfo {
                    used_bytes: usage.used_bytes,
                    quota_bytes: usage.quota_bytes,
                });
            }
            Err(e) => tracing::error!(error = %e, "the store's usage could not be read"),
        }
    }
    Ok(info)
}

/// The shared resource holding the server's configuration.
pub type ServerInfoResource = Resource<Result<ServerInfo, AppError>>;

/// Creates the page's one [`ServerInfoResource`] and provides it to every component below.
pub fn provide_server_info() {
    let resource: ServerInfoResource = Resource::new(|| (), |_| get_server_info());
    provide_context(resource);
}

/// The page's server configuration, as provided by [`provide_server_info`]: take it in a
/// component, await [`ServerInfoHandle::get`] inside its `Suspend`.
pub fn use_server_info() -> ServerInfoHandle {
    ServerInfoHandle(use_context::<ServerInfoResource>())
}

/// A handle on the page's one [`ServerInfoResource`]; `Copy`, so closures can take it.
#[derive(Debug, Clone, Copy)]
pub struct ServerInfoHandle(Option<ServerInfoResource>);

impl ServerInfoHandle {
    /// The server's configuration (an internal error if the app did not provide it).
    pub async fn get(self) -> Result<ServerInfo, AppError> {
        match self.0 {
            Some(resource) => resource.await,
            None => Err(AppError::internal()),
        }
    }
}
