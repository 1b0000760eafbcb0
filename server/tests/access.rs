//! Access control through the real router: with `none` everything is open; with `token`
//! every page, server function and image needs a session from `/login` (a wrong token gets
//! none, logout ends it), while `/healthz` stays open; with `proxy-header` the user header is
//! believed only from a trusted proxy.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::{
    Router,
    body::Body,
    extract::connect_info::MockConnectInfo,
    http::{Request, Response},
};
use common::{TestApp, app, app_with, body_text};
use tower::ServiceExt;

const TOKEN: &str = "access-token-0123456789abcdef";

fn token_app_vars() -> [(&'static str, &'static str); 2] {
    [
        ("GEMFLASH_ACCESS", "token"),
        ("GEMFLASH_ACCESS_TOKENS", TOKEN),
    ]
}

fn get_page(path: &str, cookie: Option<&str>) -> Request<Body> {
    let mut req = Request::get(path).header("accept", "text/html");
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    req.body(Body::empty()).unwrap()
}

fn server_info(cookie: Option<&str>) -> Request<Body> {
    let mut req = common::post("/api/server_info")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json");
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    req.body(Body::empty()).unwrap()
}

async fn sign_in(app: &TestApp, token: &str) -> Response<Body> {
    app.send(
        common::post("/login")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(format!("token={token}")))
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn without_access_control_everything_is_open() {
    let app = app().await;
    assert_eq!(app.send(get_page("/gallery", None)).await.status(), 200);
    assert_eq!(app.send(server_info(None)).await.status(), 200);
    // The login page has nothing to do and sends people home.
    assert_eq!(app.get("/login").await.status(), 303);
}

#[tokio::test]
async fn token_access_guards_pages_functions_and_images_but_not_health() {
    let app = app_with(&token_app_vars()).await;
    let stored = app.store_image("kept");

    // Not signed in: people are sent to sign in, programs get 401, health stays open.
    let res = app.send(get_page("/gallery", None)).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/login");
    let res = app.send(server_info(None)).await;
    assert_eq!(res.status(), 401);
    assert!(body_text(res).await.contains("\"unauthorized\""));
    assert_eq!(app.get(&format!("/images/{stored}")).await.status(), 401);
    assert_eq!(app.get("/healthz").await.status(), 200);
    let login = app.get("/login").await;
    assert_eq!(login.status(), 200);
    assert!(body_text(login).await.contains("name=\"token\""));

    // A wrong token gets no session.
    let res = sign_in(&app, "access-token-0123456789abcdeX").await;
    assert_eq!(res.status(), 401);
    assert!(res.headers().get("set-cookie").is_none());
    assert!(body_text(res).await.contains("not valid"));

    // The right one does: an HttpOnly, SameSite=Strict, expiring cookie.
    let res = sign_in(&app, TOKEN).await;
    assert_eq!(res.status(), 303);
    let set_cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    for part in ["HttpOnly", "SameSite=Strict", "Max-Age=43200", "Path=/"] {
        assert!(set_cookie.contains(part), "{part} missing: {set_cookie}");
    }
    assert!(!set_cookie.contains("Secure"), "not over plain http");
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    assert_eq!(
        app.send(get_page("/gallery", Some(&cookie))).await.status(),
        200
    );
    assert_eq!(app.send(server_info(Some(&cookie))).await.status(), 200);
    let image = Request::get(format!("/images/{stored}"))
        .header("cookie", &cookie)
        .body(Body::empty())
        .unwrap();
    let res = app.send(image).await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["cache-control"]
            .to_str()
            .unwrap()
            .starts_with("private")
    );
    let html = body_text(app.send(get_page("/", Some(&cookie))).await).await;
    assert!(
        html.contains("data-testid=\"sign-out\""),
        "pages offer to sign out"
    );

    // Logout ends the session.
    let res = app
        .send(
            common::post("/logout")
                .header("cookie", &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(res.status(), 303);
    assert!(
        res.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(app.send(server_info(Some(&cookie))).await.status(), 401);
}

#[tokio::test]
async fn over_https_the_cookie_is_secure_and_host_prefixed() {
    let mut vars = token_app_vars().to_vec();
    vars.push(("GEMFLASH_PUBLIC_ORIGIN", "https://gemflash.example.com"));
    let app = app_with(&vars).await;
    let res = app
        .send(
            Request::post("/login")
                .header("host", "gemflash.example.com")
                .header("origin", "https://gemflash.example.com")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(format!("token={TOKEN}")))
                .unwrap(),
        )
        .await;
    let set_cookie = res.headers()["set-cookie"].to_str().unwrap();
    assert!(
        set_cookie.starts_with("__Host-gemflash-session="),
        "{set_cookie}"
    );
    assert!(set_cookie.contains("; Secure"));
}

#[tokio::test]
async fn a_user_header_counts_only_from_a_trusted_proxy() {
    let app = app_with(&[
        ("GEMFLASH_ACCESS", "proxy-header"),
        ("GEMFLASH_TRUSTED_PROXIES", "10.0.0.0/8"),
    ])
    .await;
    let via = |peer: &str| -> Router {
        app.router.clone().layer(MockConnectInfo(
            peer.parse::<std::net::SocketAddr>().unwrap(),
        ))
    };
    let with_user = |user: Option<&str>| {
        let mut req = Request::get("/gallery");
        if let Some(u) = user {
            req = req.header("x-forwarded-user", u);
        }
        req.body(Body::empty()).unwrap()
    };
    let status = |router: Router, req: Request<Body>| async move {
        router.oneshot(req).await.unwrap().status()
    };
    assert_eq!(
        status(via("10.0.0.5:443"), with_user(Some("ada"))).await,
        200
    );
    assert_eq!(status(via("10.0.0.5:443"), with_user(None)).await, 401);
    assert_eq!(
        status(via("203.0.113.9:5000"), with_user(Some("ada"))).await,
        401
    );
}

#[tokio::test]
async fn sign_in_attempts_are_throttled_with_a_time_to_wait() {
    let app = app_with(&[
        ("GEMFLASH_ACCESS", "token"),
        ("GEMFLASH_ACCESS_TOKENS", TOKEN),
        ("GEMFLASH_LOGIN_PER_MINUTE", "3"),
    ])
    .await;
    let router: Router = app.router.clone().layer(MockConnectInfo(
        "198.51.100.20:5000"
            .parse::<std::net::SocketAddr>()
            .unwrap(),
    ));
    let attempt = |token: &str| {
        router.clone().oneshot(
            common::post("/login")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(format!("token={token}")))
                .unwrap(),
        )
    };
    for _ in 0..3 {
        assert_eq!(
            attempt("wrong-token-guess-000000").await.unwrap().status(),
            401
        );
    }
    let res = attempt(TOKEN).await.unwrap();
    assert_eq!(res.status(), 429, "even the right token waits its turn");
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert!(body_text(res).await.contains("Too many sign-in attempts"));
    // Another client is not held up by this one.
    let other = app.router.clone().layer(MockConnectInfo(
        "198.51.100.21:5000"
            .parse::<std::net::SocketAddr>()
            .unwrap(),
    ));
    let res = other
        .oneshot(
            common::post("/login")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(format!("token={TOKEN}")))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "signed in");
}
