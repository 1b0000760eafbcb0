//! The GemFlash server: the composition root.
//!
//! [`router`] builds the whole HTTP application (pages, server functions, static files,
//! health endpoints and the middleware around them) from an [`AppState`]; `main.rs` only reads
//! the configuration, builds the state and serves. Tests call [`router`] directly.
//!
//! Modules point one way: `config` is a leaf (it imports nothing else of the server); the
//! controls (`security`, `abuse`, `access`, `errors`) take their settings from it; the routes
//! (`images`, `health`, `metrics`) and `state` sit above; `lib.rs` puts them together.

pub mod abuse;
pub mod access;
pub mod assets;
pub mod config;
pub mod errors;
pub mod health;
pub mod healthcheck;
mod images;
pub mod metrics;
pub mod middleware;
pub mod model_check;
pub mod retention;
pub mod routes;
pub mod secret;
pub mod security;
pub mod shutdown;
pub mod state;
pub mod telemetry;

use std::sync::{Arc, OnceLock};

use app::{App, shell};
use axum::{Router, routing::get};
use leptos::prelude::provide_context;
use leptos_axum::{
    AxumRouteListing, LeptosRoutes, file_and_error_handler_with_context, generate_route_list,
};

pub use crate::state::AppState;

/// Builds the application: every route and the middleware around them.
pub fn router(state: AppState) -> Router {
    metrics::handle();
    let config = &state.config;
    let identify = abuse::Identify {
        trusted_proxies: Arc::new(config.abuse.trusted_proxies.clone()),
        header: config.abuse.forwarded_header,
    };
    let head =
        app::page_scripts::PageHead::new(app::page_scripts::BuiltFiles::of(&state.leptos_options));
    let files = &head.files;
    let access_control = !matches!(config.access.mode, config::AccessMode::None);
    let access = access::Access::new(
        config.access.mode.clone(),
        config.server.https(),
        identify.clone(),
        config.access.login,
    )
    .with_stylesheet(files.stylesheet.clone());
    let routes = route_list();
    let info = state.server_info.clone();
    let studio = state.studio.clone();
    let page_head = head.clone();
    let context = move || {
        app::security::provide_request_nonce();
        provide_context((*info).clone());
        provide_context(studio.clone());
        provide_context(page_head.clone());
    };
    let options = state.leptos_options.clone();

    let app = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(metrics::render))
        .route("/images/{id}", get(images::image))
        .route("/images/{id}/thumb", get(images::thumbnail))
        .route("/images/{id}/thumb2x", get(images::thumbnail_2x))
        .route("/images/{id}/view", get(images::view))
        .route("/images/{id}/search", get(images::search_suggestions))
        // The built files, served with conditional requests honoured (`If-Modified-Since` gets
        // a 304), which the revalidated scripts rely on; the fallback below would send them
        // whole every time.
        .route_service(
            &leptos_axum::site_pkg_dir_service_route_path(&options),
            leptos_axum::site_pkg_dir_service(&options),
        )
        .leptos_routes_with_context(&state, routes, context.clone(), move || {
            shell(options.clone())
        })
        .fallback(file_and_error_handler_with_context::<AppState, _>(
            context, shell,
        ))
        .with_state(state.clone())
        .merge(
            Router::new()
                .route("/readyz", get(health::readyz))
                .with_state(health::Readiness::new(config.server.data_dir.clone())),
        )
        .merge(login_routes(access.clone()))
        .layer(axum::middleware::from_fn(errors::server_fn_status))
        .layer(axum::middleware::from_fn(metrics::count_requests))
        .layer(axum::middleware::from_fn_with_state(
            abuse_controls(&state, identify),
            abuse::rate_limit,
        ))
        // Outside the rate limit: a request that may not come in spends nothing.
        .layer(axum::middleware::from_fn_with_state(
            access,
            access::require,
        ))
        .layer(compression());
    let stack = middleware::Stack {
        server: Arc::new(config.server.clone()),
        security: security::SecurityConfig {
            origin: config.server.public_origin.origin().ascii_serialization(),
            https: config.server.https(),
            pkg_cache_control: assets::pkg_cache_control(files, access_control),
        },
        // A whole request may take as long as its upload and the upstream call, and a minute
        // more.
        request_timeout: config.images.upload_deadline
            + config.gemini.deadline
            + std::time::Duration::from_secs(60),
        upload_deadline: config.images.upload_deadline,
        requests_in_flight: config.abuse.requests_in_flight as usize,
    };
    middleware::apply(app, stack)
}

fn login_routes(access: access::Access) -> Router {
    Router::new()
        .route("/login", get(access::login_page).post(access::login))
        .route("/logout", axum::routing::post(access::logout))
        .with_state(access)
}

/// Pages, JSON and scripts compressed by what the browser accepts (brotli at quality 4, or
/// gzip), outside the error-status mapping (which reads server-function bodies). Not compressed:
/// images (PNG and WebP are compressed already), files served precompressed (`/pkg`, which
/// carry their own `Content-Encoding`), bodies of 1 KiB or less, and answers marked
/// `Cache-Control: no-transform`, as streamed jobs are: an encoder holds bytes back until it
/// has enough, which would hold a job's progress back too. No secret is in a compressed body
/// (sessions are cookies, CSRF is by origin, a page's nonce is fresh each time), so
/// compression leaks nothing across requests.
fn compression()
-> tower_http::compression::CompressionLayer<impl tower_http::compression::Predicate> {
    use axum::http::{Extensions, HeaderMap, StatusCode, Version, header::CACHE_CONTROL};
    use tower_http::compression::{
        CompressionLayer, Predicate,
        predicate::{DefaultPredicate, SizeAbove},
    };
    let transformable = |_: StatusCode, _: Version, headers: &HeaderMap, _: &Extensions| {
        !headers
            .get_all(CACHE_CONTROL)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.to_ascii_lowercase().contains("no-transform"))
    };
    CompressionLayer::new().br(true).gzip(true).compress_when(
        DefaultPredicate::new()
            .and(SizeAbove::new(1024))
            .and(transformable),
    )
}

fn abuse_controls(state: &AppState, identify: abuse::Identify) -> abuse::AbuseControls {
    let limits = &state.config.abuse;
    let jobs = state.config.jobs_per_client();
    abuse::AbuseControls {
        identify,
        limiter: (limits.per_minute > 0)
            .then(|| Arc::new(abuse::RateLimiter::new(limits.per_minute, limits.burst))),
        jobs: Arc::new(abuse::JobCap::new(jobs)),
        caller_key: std::collections::hash_map::RandomState::new(),
    }
}

/// The app's routes, generated once per process.
///
/// Generating the list renders the app once with resource loading suppressed through a
/// process-wide flag in `leptos_server`: a resource first polled on another thread meanwhile
/// waits forever (leptos issue #4773), so a page rendering while a second router is built
/// would never finish. The list depends on nothing but [`App`], so it is made before the first
/// router exists and cloned after that; no page can be rendering while it is made.
fn route_list() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}
