//! The pages show what the records hold, in the browser's language, and the merchant's actions
//! do what they say and are recorded.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Browser, world};

#[tokio::test]
async fn every_page_renders_for_a_signed_in_merchant() {
    let w = world().await;
    let mut b = Browser::new(&w);
    b.sign_in().await;
    for (path, expect) in [
        ("/", "Needs your attention"),
        ("/listings", "SKU (Unique ID)"),
        ("/listings?status=error", "ERR_EXT_DATA_0101001"),
        ("/listings?status=processing&sort=changed&dir=desc", "Processing"),
        ("/listings?sku=MUG-00001", "MUG-000010"),
        ("/orders", "Commerce Order #"),
        ("/orders?status=error", &w.seeded.failed_po),
        ("/orders?from=2020-01-01&to=2030-12-31", "Walmart Order #"),
        ("/returns", "77001"),
        ("/audit", "Activity"),
    ] {
        let page = b.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(page.body.contains(expect), "{path} lacks {expect:?}");
    }
}

#[tokio::test]
async fn a_listing_error_shows_its_reason_and_what_to_fix() {
    let w = world().await;
    let mut b = Browser::new(&w);
    b.sign_in().await;
    let page = b
        .get(&format!("/listings?status=error&sku={}", w.seeded.error_sku))
        .await;
    assert!(page.body.contains(&w.seeded.error_sku));
    assert!(
        page.body
            .contains("Item not found for the given product identifier"),
        "Walmart's reason"
    );
    assert!(page.body.contains("class=\"fix\"><p>"), "a fix");
}

#[tokio::test]
async fn an_order_is_found_by_its_commerce_number_and_shows_its_story() {
    let w = world().await;
    let mut b = Browser::new(&w);
    b.sign_in().await;
    let found = b.get(&format!("/orders?q={}", w.seeded.commerce_number)).await;
    assert_eq!(found.status, 303);
    assert_eq!(
        found.location(),
        Some(format!("/orders/{}", w.seeded.created_po).as_str())
    );
    let by_po = b.get(&format!("/orders?q={}", w.seeded.created_po)).await;
    assert_eq!(by_po.location(), found.location());
    let detail = b.get(found.location().unwrap()).await;
    assert!(detail.body.contains(&w.seeded.commerce_number));
    assert!(detail.body.contains("id=\"history\""));
    assert!(detail.body.contains("id=\"steps\""));
    let missing = b.get("/orders?q=000000000").await;
    assert!(missing.body.contains("No such order."));
}

#[tokio::test]
async fn swedish_browsers_get_swedish() {
    let w = world().await;
    let mut b = Browser::new(&w);
    b.language = Some("sv-SE,sv;q=0.9,en;q=0.5".into());
    assert!(b.get("/login").await.body.contains("Logga in"));
    b.sign_in().await;
    let page = b.get("/listings").await;
    assert!(page.body.contains("lang=\"sv\""));
    assert!(page.body.contains("Produktlistor") && page.body.contains("Matcha produkter på Walmart"));
    let overview = b.get("/").await;
    assert!(overview.body.contains("Lageruppdateringar"));
}

#[tokio::test]
async fn pausing_resuming_and_retrying_are_done_and_recorded() {
    let w = world().await;
    let mut b = Browser::new(&w);
    b.sign_in().await;
    let overview = b.get("/").await;
    let token = overview.csrf();
    let paused = b
        .post(
            "/actions/pause",
            &[("csrf", &token), ("operation", "inventory-sync"), ("back", "/")],
        )
        .await;
    assert_eq!(paused.status, 303);
    assert_eq!(paused.location(), Some("/?notice=done"));
    let ch = &w.channel;
    assert!(
        operations::merchant::is_paused(ch, domain::Operation::InventorySync)
            .await
            .unwrap()
    );
    let overview = b.get("/?notice=done").await;
    assert!(overview.body.contains("Done."));
    let row_start = overview.body.find("id=\"op-inventory-sync\"").unwrap();
    assert!(
        overview.body[row_start..]
            .split("</tr>")
            .next()
            .unwrap()
            .contains("Resume")
    );
    let token = overview.csrf();
    b.post(
        "/actions/resume",
        &[("csrf", &token), ("operation", "inventory-sync"), ("back", "/")],
    )
    .await;
    assert!(
        !operations::merchant::is_paused(ch, domain::Operation::InventorySync)
            .await
            .unwrap()
    );

    let detail = b.get(&format!("/orders/{}", w.seeded.failed_po)).await;
    assert!(detail.body.contains("Retry order"));
    let token = detail.csrf();
    let retried = b
        .post(
            "/actions/retry-order",
            &[("csrf", &token), ("po", &w.seeded.failed_po), ("back", "/orders")],
        )
        .await;
    assert_eq!(retried.location(), Some("/orders?notice=done"));
    let audit = b.get("/audit").await;
    for said in ["paused inventory-sync", "resumed inventory-sync", "retried order"] {
        assert!(audit.body.contains(said), "activity lacks {said:?}");
    }
    assert!(audit.body.contains(dashboard::fixture::USER));
    // A bad action says what was wrong, back on the page it came from.
    let token = b.get("/").await.csrf();
    let bad = b
        .post(
            "/actions/pause",
            &[
                ("csrf", &token),
                ("operation", "nothing"),
                ("back", "//evil.example"),
            ],
        )
        .await;
    assert!(
        bad.location().unwrap().starts_with("/?notice="),
        "{:?}",
        bad.location()
    );
}

#[tokio::test]
async fn what_needs_the_merchant_is_said_in_the_browsers_language() {
    let w = world().await;
    operations::merchant::pause(
        &w.channel,
        &operations::merchant::Actor::new("anna@shop.example"),
        domain::Operation::InventorySync,
    )
    .await
    .unwrap();
    let mut english = Browser::new(&w);
    english.sign_in().await;
    let page = english.get("/").await.body;
    let attention = &page[page.find("id=\"attention\"").unwrap()..page.find("</section>").unwrap()];
    assert!(
        attention.contains("Inventory updates is paused (by anna@shop.example since"),
        "{attention}"
    );
    assert!(
        attention.contains("order(s) are in Error: open them to see why, and retry."),
        "{attention}"
    );
    let mut swedish = Browser::new(&w);
    swedish.language = Some("sv-SE,sv;q=0.9,en;q=0.5".into());
    swedish.sign_in().await;
    let page = swedish.get("/").await.body;
    let attention = &page[page.find("id=\"attention\"").unwrap()..page.find("</section>").unwrap()];
    assert!(attention.contains("Behöver din uppmärksamhet"), "{attention}");
    assert!(
        attention.contains("Lageruppdateringar är pausad (av anna@shop.example sedan"),
        "{attention}"
    );
    assert!(
        attention.contains("order har status Fel: öppna dem för att se varför och försök igen."),
        "{attention}"
    );
    assert!(
        !attention.contains("paused") && !attention.contains("in Error"),
        "no English left: {attention}"
    );
}

#[tokio::test]
async fn the_overview_times_shipments_cancellations_and_returns_from_the_records() {
    let w = world().await;
    let mut b = Browser::new(&w);
    b.sign_in().await;
    let page = b.get("/").await.body;
    for (row, figure) in [
        (
            "op-shipment-sync",
            "3 min / 3 min <small>(6 × shipped in Commerce -&gt; tracking on Walmart)",
        ),
        (
            "op-cancellation-sync",
            "3 min / 3 min <small>(3 × cancelled in Commerce -&gt; cancelled on Walmart)",
        ),
        (
            "op-returns-sync",
            "4 min / 4 min <small>(1 × return opened on Walmart -&gt; return in Commerce)",
        ),
    ] {
        let start = page.find(&format!("id=\"{row}\"")).unwrap();
        let row_html = page[start..].split("</tr>").next().unwrap();
        assert!(row_html.contains(figure), "{row}: {row_html}");
    }
}
