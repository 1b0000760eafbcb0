//! The gallery through the real router: listing, paging, search, filters, detail, lineage,
//! delete and not-found, over a real store in a temporary data directory.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::{body::Body, http::Request};
use common::{TestApp, app, body_text};
use engine::store::{ImageKind, ImageRecord, NewImage};
use image::{DynamicImage, Rgb, RgbImage};

/// Stores an image as the studio would: a real PNG and thumbnail, at a distinct time.
fn put(
    app: &TestApp,
    prompt: &str,
    kind: ImageKind,
    parent: Option<&ImageRecord>,
    seed: u8,
) -> ImageRecord {
    let pixels = DynamicImage::ImageRgb8(RgbImage::from_pixel(8, 6, Rgb([seed, 1, 2])));
    let new = NewImage {
        parent_id: parent.map(|p| p.id.clone()),
        prompt_tokens: 10,
        output_tokens: 1120,
        cost_usd: Some(0.067),
        ..NewImage::new(kind, prompt, "gemini-3.1-flash-image")
    };
    let new = engine::studio::finish(new, &pixels);
    std::thread::sleep(std::time::Duration::from_millis(2));
    app.state.studio.store().put(new).unwrap()
}

/// The ids of the tiles on a gallery page, in order.
fn tile_ids(html: &str) -> Vec<String> {
    html.split("data-testid=\"gallery-item\"")
        .skip(1)
        .filter_map(|rest| {
            let start = rest.find("data-id=\"")? + 9;
            Some(rest[start..start + 32].to_owned())
        })
        .collect()
}

/// The href of the link with `testid`, with HTML's `&amp;` undone.
fn link(html: &str, testid: &str) -> Option<String> {
    let at = html.find(&format!("data-testid=\"{testid}\""))?;
    let tag_start = html[..at].rfind('<')?;
    let tag = &html[tag_start..at + html[at..].find('>')?];
    let href = tag.split("href=\"").nth(1)?.split('"').next()?;
    Some(href.replace("&amp;", "&"))
}

#[tokio::test]
async fn an_empty_gallery_shows_its_designed_empty_state() {
    let html = body_text(app().await.get("/gallery").await).await;
    assert!(html.contains("data-testid=\"gallery-empty\""), "{html}");
    assert!(!html.contains("data-testid=\"page-older\""));
}

#[tokio::test]
async fn the_listing_is_newest_first_and_pages_by_cursor_links_both_ways() {
    let app = app().await;
    let mut made: Vec<ImageRecord> = (0..30)
        .map(|i| {
            put(
                &app,
                &format!("picture number {i}"),
                ImageKind::Generated,
                None,
                i as u8,
            )
        })
        .collect();
    made.reverse(); // newest first
    let res = app.get("/gallery").await;
    assert_eq!(res.status(), 200);
    let html = body_text(res).await;
    let first = tile_ids(&html);
    assert_eq!(first.len(), protocol::GALLERY_PAGE_SIZE);
    assert_eq!(first[0], made[0].id);
    assert!(
        html.contains("/images/") && html.contains("/thumb\""),
        "thumbnails, not full images"
    );
    assert!(link(&html, "page-newer").is_none());

    let older = link(&html, "page-older").expect("a link to older images");
    let html = body_text(app.get(&older).await).await;
    let second = tile_ids(&html);
    assert_eq!(
        second,
        made[24..].iter().map(|r| r.id.clone()).collect::<Vec<_>>()
    );
    assert!(link(&html, "page-older").is_none(), "the last page");

    let newer = link(&html, "page-newer").expect("a link back");
    let html = body_text(app.get(&newer).await).await;
    assert_eq!(tile_ids(&html), first);
}

#[tokio::test]
async fn search_and_filters_narrow_the_listing_and_keep_them_in_page_links() {
    let app = app().await;
    let fox = put(&app, "A red fox in the snow", ImageKind::Generated, None, 1);
    let _whale = put(&app, "Blue whale", ImageKind::Generated, None, 2);
    let edit = put(
        &app,
        "make the fox red-orange",
        ImageKind::Edited,
        Some(&fox),
        3,
    );

    let html = body_text(app.get("/gallery?q=fox").await).await;
    assert_eq!(tile_ids(&html), [edit.id.clone(), fox.id.clone()]);
    assert!(
        html.contains("value=\"fox\""),
        "the search box keeps the words"
    );

    let html = body_text(app.get("/gallery?q=fox&kind=edited").await).await;
    assert_eq!(tile_ids(&html), vec![edit.id.clone()]);

    let html = body_text(app.get("/gallery?model=gemini-3-pro-image").await).await;
    assert!(html.contains("data-testid=\"gallery-no-match\""));

    let html = body_text(app.get("/gallery?to=2001-01-01").await).await;
    assert!(tile_ids(&html).is_empty());
    let html = body_text(app.get("/gallery?from=2001-01-01&q=whale").await).await;
    assert_eq!(tile_ids(&html).len(), 1);

    // A malformed value is named and ignored, never an error page.
    let res = app.get("/gallery?from=yesterday&kind=sideways").await;
    assert_eq!(res.status(), 200);
    let html = body_text(res).await;
    assert!(html.contains("is not a date like"), "{html}");
    assert!(html.contains("is not a kind"));
    assert_eq!(tile_ids(&html).len(), 3);

    // FTS syntax typed into the box is just text.
    let res = app.get("/gallery?q=%22unbalanced+OR+NEAR(").await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn search_filters_survive_paging() {
    let app = app().await;
    for i in 0..26 {
        put(
            &app,
            &format!("cat {i}"),
            ImageKind::Generated,
            None,
            i as u8,
        );
        put(
            &app,
            &format!("dog {i}"),
            ImageKind::Generated,
            None,
            100 + i as u8,
        );
    }
    let html = body_text(app.get("/gallery?q=cat").await).await;
    let older = link(&html, "page-older").unwrap();
    assert!(older.contains("q=cat"), "{older}");
    let html = body_text(app.get(&older).await).await;
    assert_eq!(tile_ids(&html).len(), 2, "26 cats: 24 then 2");
    assert!(!html.contains("dog "));
}

#[tokio::test]
async fn the_detail_page_shows_facts_and_a_three_step_lineage() {
    let app = app().await;
    let root = put(&app, "a lighthouse at dusk", ImageKind::Generated, None, 1);
    let edit = put(&app, "add a boat", ImageKind::Edited, Some(&root), 2);
    let edit2 = put(&app, "make the boat red", ImageKind::Edited, Some(&edit), 3);

    let res = app.get(&format!("/gallery/{}", edit.id)).await;
    assert_eq!(res.status(), 200);
    let html = body_text(res).await;
    assert!(html.contains("add a boat"));
    assert!(html.contains("Nano Banana 2"), "the model's label");
    assert!(html.contains("$0.067"), "the cost");
    assert!(
        html.contains(&format!("/editor?source={}", edit.id)),
        "an edit link"
    );
    assert!(html.contains(&format!("/images/{}?download", edit.id)));
    let chain = &html[html.find("data-testid=\"lineage-chain\"").unwrap()..];
    assert!(
        chain.contains(&format!("/gallery/{}", root.id)),
        "the parent is linked"
    );
    let tree = &html[html.find("data-testid=\"descendants\"").unwrap()..];
    assert!(
        tree.contains(&format!("/gallery/{}", edit2.id)),
        "the child is linked"
    );

    let html = body_text(app.get(&format!("/gallery/{}", edit2.id)).await).await;
    let chain = &html[html.find("data-testid=\"lineage-chain\"").unwrap()..];
    let (a, b) = (
        chain.find(&format!("/gallery/{}", root.id)).unwrap(),
        chain.find(&format!("/gallery/{}", edit.id)).unwrap(),
    );
    assert!(a < b, "the chain runs from the first source down");
}

#[tokio::test]
async fn a_prompt_that_closes_the_title_stays_text_in_the_head() {
    let app = app().await;
    // Shorter than the 40 characters of a prompt the title shows.
    let prompt = "</title><meta http-equiv=refresh><title>";
    let image = put(&app, prompt, ImageKind::Generated, None, 4);
    let html = body_text(app.get(&format!("/gallery/{}", image.id)).await).await;
    let head = &html[..html.find("</head>").unwrap()];
    assert_eq!(head.matches("<title>").count(), 1, "{head}");
    assert!(!head.contains("<meta http-equiv"), "{head}");
    assert!(
        head.contains(
            "<title>Image · &lt;/title&gt;&lt;meta http-equiv=refresh&gt;&lt;title&gt; · GemFlash</title>"
        ),
        "{head}"
    );
}

#[tokio::test]
async fn unknown_and_malformed_ids_get_a_designed_404() {
    let app = app().await;
    for path in [
        "/gallery/0123456789abcdef0123456789abcdef",
        "/gallery/not-an-id",
    ] {
        let res = app.get(path).await;
        assert_eq!(res.status(), 404, "{path}");
        let html = body_text(res).await;
        assert!(html.contains("data-testid=\"image-not-found\""), "{path}");
    }
}

fn delete_request(id: &str, accept: &str) -> Request<Body> {
    common::post("/api/delete_image")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", accept)
        .body(Body::from(format!("id={id}")))
        .unwrap()
}

#[tokio::test]
async fn delete_is_a_post_that_removes_the_image_and_leaves_its_children_a_gap() {
    let app = app().await;
    let parent = put(&app, "parent", ImageKind::Generated, None, 1);
    let child = put(&app, "child", ImageKind::Edited, Some(&parent), 2);

    // The page asks first; a GET changes nothing.
    let html = body_text(
        app.get(&format!("/gallery/{}?confirm=delete", parent.id))
            .await,
    )
    .await;
    assert!(html.contains("data-testid=\"confirm-delete\""));
    assert!(html.contains("action=\"/api/delete_image\"") && html.contains("method=\"post\""));
    assert!(app.state.studio.store().get(&parent.id).unwrap().is_some());

    // A form post without JavaScript is redirected back to the gallery.
    let res = app.send(delete_request(&parent.id, "text/html")).await;
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["location"], "/gallery?deleted=1");
    assert!(app.state.studio.store().get(&parent.id).unwrap().is_none());
    assert_eq!(
        app.get(&format!("/images/{}", parent.id)).await.status(),
        404
    );

    let html = body_text(app.get(&format!("/gallery/{}", child.id)).await).await;
    assert!(
        html.contains("data-testid=\"lineage-gap\""),
        "the gap shows"
    );
    assert_eq!(
        app.get(&format!("/images/{}", child.id)).await.status(),
        200
    );

    // Deleting again says so.
    let res = app
        .send(delete_request(&parent.id, "application/json"))
        .await;
    assert_eq!(res.status(), 404);
    assert!(body_text(res).await.contains("already deleted"));
}
