//! Access control, chosen by `GEMFLASH_ACCESS`:
//!
//! - `none`: for a deployment behind a reverse proxy that authenticates (and the default on a
//!   loopback address; elsewhere the mode must be chosen, see `config::access`).
//! - `token`: people sign in at `/login` with one of the access tokens from the configuration
//!   (compared in constant time) and get a session cookie: HttpOnly, `SameSite=Strict`,
//!   `Secure` and `__Host-` prefixed when the public origin is https. A session ends after
//!   `GEMFLASH_SESSION_HOURS`, or sooner after `GEMFLASH_SESSION_IDLE_MINUTES` without a
//!   request. Sessions live in memory (at most [`MAX_SESSIONS`]): a restart signs everyone
//!   out. `POST /logout` ends one. Sign-in attempts are throttled per client and over all
//!   clients (429 with `Retry-After`), so tokens cannot be guessed at speed.
//! - `proxy-header`: the user named in a header (default `X-Forwarded-User`) set by a
//!   trusted proxy (`GEMFLASH_TRUSTED_PROXIES`); the header from anyone else is ignored.
//!
//! With access control on, every page, server function and image needs it. `/healthz` and
//! `/readyz` stay open for orchestrators, `/metrics` has its own token, and the login page
//! with the stylesheet and icon it uses are open.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    Form,
    extract::{FromRequest, Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    middleware::Next,
    response::{Html, IntoResponse, Redirect, Response},
};
use protocol::{ErrorKind, UserError};
use secrecy::ExposeSecret;
use serde::Deserialize;

use crate::{
    abuse::{ClientId, Identify, RateLimiter, peer_ip},
    config::{AccessMode, LoginThrottle},
    secret::constant_time_eq,
    security,
};

/// Sessions kept at once; past it the oldest are dropped.
pub const MAX_SESSIONS: usize = 10_000;

/// Who a request is, once it is let in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// No access control: anyone who reaches the server.
    Anyone,
    /// A signed-in session (token mode).
    Session,
    /// A user named by a trusted proxy.
    User(String),
}

#[derive(Debug, Clone, Copy)]
struct Session {
    expires: Instant,
    last_seen: Instant,
}

/// What the access middleware and the login routes share.
#[derive(Debug, Clone)]
pub struct Access {
    pub mode: AccessMode,
    pub https: bool,
    identify: Identify,
    sessions: Arc<Mutex<HashMap<String, Session>>>,
    login_per_client: Arc<RateLimiter>,
    login_global: Arc<RateLimiter>,
    /// The app's stylesheet (its built name), which the sign-in page uses and anyone may load.
    stylesheet: Arc<str>,
}

impl Access {
    pub fn new(mode: AccessMode, https: bool, identify: Identify, login: LoginThrottle) -> Self {
        Self {
            mode,
            https,
            identify,
            sessions: Arc::default(),
            login_per_client: Arc::new(RateLimiter::new(
                login.per_client_per_minute,
                login.per_client_per_minute,
            )),
            login_global: Arc::new(RateLimiter::new(
                login.global_per_minute,
                login.global_per_minute,
            )),
            stylesheet: Arc::from("/pkg/gemflash.css"),
        }
    }

    /// The stylesheet's built name (`/pkg/gemflash.<hash>.css` in a release build).
    pub fn with_stylesheet(mut self, href: String) -> Self {
        self.stylesheet = Arc::from(href);
        self
    }

    /// Paths open whatever the mode: health, metrics, the sign-in page and what it shows.
    fn is_open(&self, path: &str) -> bool {
        matches!(
            path,
            "/healthz" | "/readyz" | "/metrics" | "/login" | "/favicon.svg"
        ) || path == &*self.stylesheet
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

    /// Whether session `id` is alive at `now` (and marks it used).
    fn session_is_valid(&self, id: &str, now: Instant) -> bool {
        let AccessMode::Token { idle, .. } = &self.mode else {
            return false;
        };
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        sessions.retain(|_, s| s.expires > now && now.duration_since(s.last_seen) < *idle);
        match sessions.get_mut(id) {
            Some(session) => {
                session.last_seen = now;
                true
            }
            None => false,
        }
    }

    fn start_session(&self, id: String, lifetime: Duration, now: Instant) {
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        if sessions.len() >= MAX_SESSIONS {
            sessions.retain(|_, s| s.expires > now);
        }
        while sessions.len() >= MAX_SESSIONS {
            let Some(oldest) = sessions
                .iter()
                .min_by_key(|(_, s)| s.expires)
                .map(|(id, _)| id.clone())
            else {
                break;
            };
            sessions.remove(&oldest);
        }
        sessions.insert(
            id,
            Session {
                expires: now + lifetime,
                last_seen: now,
            },
        );
    }

    /// Who the request is, if it may come in.
    fn admit(&self, req: &Request) -> Option<Caller> {
        match &self.mode {
            AccessMode::None => Some(Caller::Anyone),
            AccessMode::Token { .. } => {
                let id = self.session_of(req.headers())?;
                self.session_is_valid(&id, Instant::now())
                    .then_some(Caller::Session)
            }
            AccessMode::ProxyHeader { header } => {
                let peer = peer_ip(req)?;
                if !self
                    .identify
                    .trusted_proxies
                    .iter()
                    .any(|net| net.contains(peer))
                {
                    return None;
                }
                req.headers()
                    .get(header.as_str())
                    .and_then(|v| v.to_str().ok())
                    .map(str::trim)
                    .filter(|user| !user.is_empty())
                    .map(|user| Caller::User(user.to_owned()))
            }
        }
    }

    /// Takes a sign-in attempt from the client's and the global allowance, or says how long
    /// until one is there.
    fn throttle(&self, peer: Option<std::net::IpAddr>, headers: &HeaderMap) -> Result<(), u64> {
        let now = Instant::now();
        let client = self.identify.client_ip(peer, headers).map(ClientId::of);
        self.login_per_client
            .check(client, now)
            .and_then(|()| self.login_global.check(None, now))
            .map_err(|wait| wait.as_secs().max(1))
    }
}

/// Lets a request in, or sends a person to the login page and a program a 401.
pub async fn require(State(access): State<Access>, req: Request, next: Next) -> Response {
    if matches!(access.mode, AccessMode::None) || access.is_open(req.uri().path()) {
        return next.run(req).await;
    }
    if let Some(caller) = access.admit(&req) {
        if let Caller::User(user) = &caller {
            tracing::Span::current().record("caller", format!("user:{user}").as_str());
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
        AccessMode::Token { .. } => login_html(&access.stylesheet, StatusCode::OK, None),
        _ => Redirect::to("/").into_response(),
    }
}

/// `POST /login`: a token for a session cookie.
pub async fn login(State(access): State<Access>, req: Request) -> Response {
    let AccessMode::Token {
        tokens, session, ..
    } = &access.mode
    else {
        return Redirect::to("/").into_response();
    };
    if let Err(secs) = access.throttle(peer_ip(&req), req.headers()) {
        tracing::warn!(retry_after_secs = secs, "sign-in attempts throttled");
        metrics::counter!("gemflash_refusals_total", "reason" => "login_throttle").increment(1);
        let mut error = UserError::new(
            ErrorKind::RateLimited,
            "Too many sign-in attempts. Wait a little, then try again.",
        );
        error.retry_after_secs = Some(secs);
        let mut res = login_html(
            &access.stylesheet,
            StatusCode::TOO_MANY_REQUESTS,
            Some(&error.message),
        );
        security::set_retry_after(&mut res, secs);
        return res;
    }
    let Ok(Form(form)) = Form::<LoginForm>::from_request(req, &()).await else {
        return login_html(
            &access.stylesheet,
            StatusCode::BAD_REQUEST,
            Some("The sign-in form was incomplete. Enter the token and try again."),
        );
    };
    let offered = form.token.trim().as_bytes();
    // Every configured token is compared, so the time does not tell which one matched.
    let matched = tokens.iter().fold(false, |found, t| {
        found | constant_time_eq(offered, t.expose_secret().as_bytes())
    });
    if !matched {
        tracing::warn!("sign-in with a wrong token");
        return login_html(
            &access.stylesheet,
            StatusCode::UNAUTHORIZED,
            Some("That token is not valid. Check it and try again."),
        );
    }
    let id = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    access.start_session(id.clone(), *session, Instant::now());
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
fn login_html(stylesheet: &str, status: StatusCode, error: Option<&str>) -> Response {
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
<link rel="stylesheet" href="{stylesheet}"><link rel="icon" type="image/svg+xml" href="/favicon.svg"></head>
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

#[cfg(test)]
mod tests {
    use super::*;

    fn token_access(idle: Duration) -> Access {
        Access::new(
            AccessMode::Token {
                tokens: vec![secrecy::SecretString::from("0123456789abcdef".to_owned())],
                session: Duration::from_secs(3600),
                idle,
            },
            false,
            Identify {
                trusted_proxies: Arc::new(Vec::new()),
                header: crate::config::ForwardedHeader::XForwardedFor,
            },
            LoginThrottle {
                per_client_per_minute: 2,
                global_per_minute: 3,
            },
        )
    }

    #[test]
    fn a_session_ends_after_its_idle_time_and_every_use_renews_it() {
        let access = token_access(Duration::from_secs(60));
        let t0 = Instant::now();
        access.start_session("s".into(), Duration::from_secs(3600), t0);
        assert!(access.session_is_valid("s", t0 + Duration::from_secs(50)));
        assert!(
            access.session_is_valid("s", t0 + Duration::from_secs(100)),
            "renewed at 50 s"
        );
        assert!(
            !access.session_is_valid("s", t0 + Duration::from_secs(161)),
            "idle 61 s"
        );
    }

    #[test]
    fn a_session_ends_at_its_lifetime_however_busy() {
        let access = token_access(Duration::from_secs(60));
        let t0 = Instant::now();
        access.start_session("s".into(), Duration::from_secs(100), t0);
        for s in (30..100).step_by(30) {
            assert!(access.session_is_valid("s", t0 + Duration::from_secs(s)));
        }
        assert!(!access.session_is_valid("s", t0 + Duration::from_secs(101)));
    }

    #[test]
    fn sign_in_is_throttled_per_client_and_over_all() {
        let access = token_access(Duration::from_secs(60));
        let a = Some("198.51.100.1".parse().unwrap());
        let b = Some("198.51.100.2".parse().unwrap());
        let c = Some("198.51.100.3".parse().unwrap());
        let h = HeaderMap::new();
        assert!(access.throttle(a, &h).is_ok());
        assert!(access.throttle(a, &h).is_ok());
        assert!(access.throttle(a, &h).is_err(), "two a minute per client");
        assert!(access.throttle(b, &h).is_ok());
        assert!(access.throttle(c, &h).is_err(), "three a minute over all");
    }

    #[test]
    fn sessions_are_capped() {
        let access = token_access(Duration::from_secs(60));
        let t0 = Instant::now();
        for i in 0..MAX_SESSIONS + 5 {
            access.start_session(format!("s{i}"), Duration::from_secs(3600 + i as u64), t0);
        }
        let sessions = access.sessions.lock().unwrap();
        assert_eq!(sessions.len(), MAX_SESSIONS);
        assert!(!sessions.contains_key("s0"), "the oldest went first");
    }
}
