//! Access control, chosen by `GEMFLASH_ACCESS`:
//!
//! - `none` (the default): for a deployment behind a reverse proxy that authenticates.
//! - `token`: people sign in at `/login` with one of the access tokens from the configuration
//!   (compared in constant time) and get a session cookie: HttpOnly, `SameSite=Strict`,
//!   `Secure` and `__Host-` prefixed when the public origin is https, expiring after
//!   `GEMFLASH_SESSION_HOURS`. Sessions live in memory: a restart signs everyone out.
//!   `POST /logout` ends one.
//! - `proxy-header`: the user named in a header (default `X-Forwarded-User`) set by a
//!   trusted proxy (`GEMFLASH_TRUSTED_PROXIES`); the header from anyone else is ignored.
//!
//! With access control on, every page, server function and image needs it. `/healthz` and
//! `/readyz` stay open for orchestrators, `/metrics` has its own token, and the login page
//! with the stylesheet and icon it uses are open.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    Form,
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    middleware::Next,
    response::{Html, IntoResponse, Redirect, Response},
};
use protocol::ErrorKind;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::{abuse::IpNet, metrics::constant_time_eq, security};

/// How people get in.
#[derive(Debug, Clone)]
pub enum AccessMode {
    None,
    Token {
        tokens: Vec<SecretString>,
        session: Duration,
    },
    ProxyHeader {
        header: String,
    },
}

/// What the access middleware and the login routes share.
#[derive(Debug, Clone)]
pub struct Access {
    pub mode: AccessMode,
    pub https: bool,
    pub trusted_proxies: Arc<Vec<IpNet>>,
    sessions: Arc<Mutex<HashMap<String, Instant>>>,
}

impl Access {
    pub fn new(mode: AccessMode, https: bool, trusted_proxies: Arc<Vec<IpNet>>) -> Self {
        Self {
            mode,
            https,
            trusted_proxies,
            sessions: Arc::default(),
        }
    }

    fn cookie_name(&self) -> &'static str {
        if self.https {
            "__Host-gemflash-session"
        } else {
            "gemflash-session"
        }
    }

    fn session_of(&self, headers: &HeaderMap) -> Option<String> {
        let wanted = self.cookie_name();
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == wanted)
            .map(|(_, value)| value.to_owned())
    }

    fn session_is_valid(&self, id: &str, now: Instant) -> bool {
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        sessions.retain(|_, expires| *expires > now);
        sessions.contains_key(id)
    }

    /// Who the request is, if it may come in.
    fn admit(&self, req: &Request) -> Option<String> {
        match &self.mode {
            AccessMode::None => Some(String::new()),
            AccessMode::Token { .. } => {
                let id = self.session_of(req.headers())?;
                self.session_is_valid(&id, Instant::now())
                    .then(|| "session".to_owned())
            }
            AccessMode::ProxyHeader { header } => {
                let peer: IpAddr = crate::abuse::peer_ip(req)?;
                if !self.trusted_proxies.iter().any(|net| net.contains(peer)) {
                    return None;
                }
                req.headers()
                    .get(header.as_str())
                    .and_then(|v| v.to_str().ok())
                    .map(str::trim)
                    .filter(|user| !user.is_empty())
                    .map(|user| format!("user:{user}"))
            }
        }
    }
}

/// Paths open whatever the mode.
fn is_open(path: &str) -> bool {
    matches!(
        path,
        "/healthz" | "/readyz" | "/metrics" | "/login" | "/favicon.svg" | "/pkg/gemflash.css"
    )
}

/// Lets a request in, or sends a person to the login page and a program a 401.
pub async fn require(State(access): State<Access>, req: Request, next: Next) -> Response {
    if matches!(access.mode, AccessMode::None) || is_open(req.uri().path()) {
        return next.run(req).await;
    }
    if let Some(who) = access.admit(&req) {
        if who.starts_with("user:") {
            tracing::Span::current().record("caller", who.as_str());
        }
        return next.run(req).await;
    }
    let wants_page = req.method() == axum::http::Method::GET
        && req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"));
    if wants_page && matches!(access.mode, AccessMode::Token { .. }) {
        return Redirect::to("/login").into_response();
    }
    security::refuse(ErrorKind::Unauthorized, "Sign in to use GemFlash.")
}

#[derive(Deserialize)]
pub struct LoginForm {
    token: String,
}

/// `GET /login`: the sign-in form.
pub async fn login_page(State(access): State<Access>) -> Response {
    match access.mode {
        AccessMode::Token { .. } => login_html(StatusCode::OK, None),
        _ => Redirect::to("/").into_response(),
    }
}

/// `POST /login`: a token for a session cookie.
pub async fn login(State(access): State<Access>, Form(form): Form<LoginForm>) -> Response {
    let AccessMode::Token { tokens, session } = &access.mode else {
        return Redirect::to("/").into_response();
    };
    let offered = form.token.trim().as_bytes();
    // Every configured token is compared, so the time does not tell which one matched.
    let matched = tokens.iter().fold(false, |found, t| {
        found | constant_time_eq(offered, t.expose_secret().as_bytes())
    });
    if !matched {
        tracing::warn!("sign-in with a wrong token");
        return login_html(
            StatusCode::UNAUTHORIZED,
            Some("That token is not valid. Check it and try again."),
        );
    }
    let id = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    access
        .sessions
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(id.clone(), Instant::now() + *session);
    tracing::info!("signed in");
    let cookie = format!(
        "{}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        access.cookie_name(),
        session.as_secs(),
        if access.https { "; Secure" } else { "" }
    );
    with_cookie(Redirect::to("/").into_response(), &cookie)
}

/// `POST /logout`: ends the session.
pub async fn logout(State(access): State<Access>, headers: HeaderMap) -> Response {
    if let Some(id) = access.session_of(&headers) {
        access
            .sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
    }
    let cookie = format!(
        "{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}",
        access.cookie_name(),
        if access.https { "; Secure" } else { "" }
    );
    with_cookie(Redirect::to("/login").into_response(), &cookie)
}

fn with_cookie(mut res: Response, cookie: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

/// The sign-in page: plain HTML with the app's stylesheet, no script.
fn login_html(status: StatusCode, error: Option<&str>) -> Response {
    let error = error
        .map(|e| {
            format!(
                r#"<p class="notice notice-error" role="alert" data-testid="login-error">{e}</p>"#
            )
        })
        .unwrap_or_default();
    let html = format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark"><title>Sign in · GemFlash</title>
<link rel="stylesheet" href="/pkg/gemflash.css"><link rel="icon" type="image/svg+xml" href="/favicon.svg"></head>
<body><main class="main login"><section class="card">
<h1>Sign in to GemFlash</h1>
<p class="muted">This server asks for an access token. The operator gives them out.</p>
{error}
<form method="post" action="/login" class="prompt-form">
<label class="field"><span>Access token</span><input type="password" name="token" required autocomplete="current-password" data-testid="login-token"></label>
<div class="actions"><button type="submit" class="button button-primary" data-testid="login-submit">Sign in</button></div>
</form></section></main></body></html>"#
    );
    let mut res = (status, Html(html)).into_response();
    res.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    res
}
