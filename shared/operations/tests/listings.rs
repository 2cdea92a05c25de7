//! catalog-import and listing-match on the embedded adapters, against both sandboxes over loopback
//! HTTP, with one manual clock for everything (sandbox feed progression follows it).

use std::sync::Arc;
use std::time::Duration;

use domain::{
    ChannelId, ChannelSettings, FeedKind, FeedRecord, ISSUE_INVALID_IDENTIFIER, Listing, ListingStatus,
    Money, OfferState, Operation, ProductSelection, SentVia, Sku, Timestamp,
};
use operations::testkit::{Sandboxes, drain, seed_catalog};
use operations::{Channel, catalog_import, listing_match};
use ports::records::{channel_pk, listing_key, listing_status_pk, offer_key};
use ports::{Clock, Deadline, ManualClock, Query, QueueName, Records, query_all};

const START: Timestamp = Timestamp::from_millis(1_800_000_000_000);

struct Fixture {
    clock: Arc<ManualClock>,
    sandboxes: Sandboxes,
    channel: Arc<Channel>,
}

async fn fixture(settings: ChannelSettings) -> Fixture {
    let clock = Arc::new(ManualClock::at(START));
    let sandboxes = Sandboxes::start_default(clock.clone()).await.unwrap();
    let (channel, _queues) = sandboxes.embedded_channel(settings, clock.clone() as Arc<dyn Clock>);
    Fixture {
        clock,
        sandboxes,
        channel: Arc::new(channel),
    }
}

fn settings() -> ChannelSettings {
    ChannelSettings::with_defaults(ChannelId::new("main").unwrap())
}

fn sku(s: &str) -> Sku {
    Sku::new(s).unwrap()
}

async fn listing(ch: &Channel, s: &str) -> Listing {
    ch.store
        .load::<Listing>(&listing_key(&ch.settings.id, &sku(s)))
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no listing {s}"))
        .record
}

async fn listings_in(ch: &Channel, status: ListingStatus) -> Vec<Listing> {
    query_all(
        ch.store.as_ref(),
        Query::status_index(listing_status_pk(&ch.settings.id, status)),
    )
    .await
    .unwrap()
    .into_iter()
    .map(|s| serde_json::from_value(s.item.body).unwrap())
    .collect()
}

async fn feeds(ch: &Channel) -> Vec<FeedRecord> {
    query_all(
        ch.store.as_ref(),
        Query::partition(channel_pk(&ch.settings.id, "FEED")),
    )
    .await
    .unwrap()
    .into_iter()
    .map(|s| serde_json::from_value(s.item.body).unwrap())
    .collect()
}

fn deadline() -> Deadline {
    Deadline::after(Duration::from_secs(300))
}

/// Runs listing-match's schedule after letting the sandbox's feeds finish.
async fn match_round(f: &Fixture) -> operations::RunReport {
    f.clock.advance(Duration::from_secs(61));
    listing_match::run_scheduled(&f.channel, &deadline())
        .await
        .unwrap()
}

#[tokio::test]
async fn imported_products_are_matched_with_wpids_and_failures_read_clearly() {
    let f = fixture(settings()).await;
    let seeded = seed_catalog(&f.sandboxes, "LST-", 12, 5, 6).await;
    let ch = &f.channel;

    let report = catalog_import::run_scheduled(ch, &deadline()).await.unwrap();
    assert_eq!(
        report.count(operations::Counter::ListingsCreated),
        12,
        "{report:?}"
    );
    assert_eq!(
        report.count(operations::Counter::ListingErrors),
        seeded.bad_gtin.len() as u64
    );
    assert_eq!(
        report.count(operations::Counter::Drafts),
        (seeded.matching.len() + seeded.unknown_on_walmart.len()) as u64
    );
    let bad = listing(ch, &seeded.bad_gtin[0]).await;
    assert_eq!(bad.status(), ListingStatus::Error);
    assert_eq!(bad.issues[0].code, ISSUE_INVALID_IDENTIFIER);
    assert!(bad.issues[0].message.contains("check digit"), "{:?}", bad.issues);

    // Import nudged listing-match; a partial feed waits a minute for more drafts.
    let nudges = ch
        .queues
        .receive(QueueName::ListingMatch, 10, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(nudges.len(), 1);
    let early = listing_match::run_scheduled(ch, &deadline()).await.unwrap();
    assert_eq!(early.count(operations::Counter::MatchFeeds), 0, "{early:?}");

    let sent = match_round(&f).await;
    assert_eq!(sent.count(operations::Counter::MatchFeeds), 1, "{sent:?}");
    assert_eq!(sent.count(operations::Counter::ListingsSent), 10);
    assert_eq!(listings_in(ch, ListingStatus::Processing).await.len(), 10);

    let done = match_round(&f).await;
    assert_eq!(
        done.count(operations::Counter::Matched),
        seeded.matching.len() as u64,
        "{done:?}"
    );
    assert_eq!(
        done.count(operations::Counter::MatchErrors),
        seeded.unknown_on_walmart.len() as u64
    );
    assert_eq!(done.count(operations::Counter::FeedsSettled), 1);

    let control = f.sandboxes.walmart_control();
    for s in &seeded.matching {
        let l = listing(ch, s).await;
        assert_eq!(l.status(), ListingStatus::Match, "{s}");
        let item = control.seller_item(s).await.unwrap();
        assert_eq!(
            Some(item["wpid"].as_str().unwrap()),
            l.wpid.as_ref().map(|w| w.as_str())
        );
        assert_eq!(item["publishedStatus"], "PUBLISHED");
        let offer = ch
            .store
            .load::<OfferState>(&offer_key(&ch.settings.id, &sku(s)))
            .await
            .unwrap()
            .unwrap()
            .record;
        let price = offer.price.unwrap();
        assert_eq!(
            price.value,
            Money::from_cents(1999),
            "the match feed carried the price"
        );
        assert!(matches!(price.via, SentVia::Feed { .. }));
    }
    let unknown = listing(ch, &seeded.unknown_on_walmart[0]).await;
    assert_eq!(unknown.status(), ListingStatus::Error);
    assert_eq!(unknown.issues[0].code, "ERR_EXT_DATA_0101001");
    assert!(
        unknown.issues[0]
            .message
            .starts_with("No Walmart item has this UPC/GTIN"),
        "{:?}",
        unknown.issues
    );

    // The feed and each item's outcome are stored for the dashboard.
    let stored = feeds(ch).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].kind, FeedKind::ItemMatch);
    assert!(stored[0].is_settled());
    assert_eq!((stored[0].items_succeeded, stored[0].items_failed), (8, 2));
    let chunk: domain::FeedChunk = ch
        .store
        .load(&ports::records::feed_chunk_key(
            &ch.settings.id,
            &stored[0].feed_id,
            0,
        ))
        .await
        .unwrap()
        .unwrap()
        .record;
    assert_eq!(chunk.entries.len(), 10);
    assert!(chunk.entries.iter().all(|e| e.outcome.is_some()));

    // Nothing more to do: reruns send nothing.
    let rerun = match_round(&f).await;
    assert_eq!(
        rerun.count(operations::Counter::MatchFeeds) + rerun.count(operations::Counter::Matched),
        0,
        "{rerun:?}"
    );
    assert_eq!(control.feeds().await.unwrap().len(), 1);
    f.sandboxes.shutdown().await;
}

#[tokio::test]
async fn failed_listings_are_retried_once_the_product_changes() {
    let f = fixture(settings()).await;
    let seeded = seed_catalog(&f.sandboxes, "RTY-", 4, 0, 2).await;
    let ch = &f.channel;
    catalog_import::run_scheduled(ch, &deadline()).await.unwrap();
    match_round(&f).await;
    match_round(&f).await;
    let failed = &seeded.unknown_on_walmart[0];
    assert_eq!(listing(ch, failed).await.status(), ListingStatus::Error);

    // An unchanged product is not resent; a merchant's fix in Commerce is.
    f.clock.advance(Duration::from_secs(120));
    let quiet = catalog_import::run_scheduled(ch, &deadline()).await.unwrap();
    assert_eq!(quiet.count(operations::Counter::Drafts), 0, "{quiet:?}");
    let fixed_upc = commerce_sandbox::upc_for(77_000_001);
    f.sandboxes
        .walmart_control()
        .add_catalog_items(&[walmart_sandbox::CatalogItemSpec {
            gtin: fixed_upc.clone(),
            product_name: "The real item".into(),
            brand: None,
            product_type: None,
            price: None,
            wpid: None,
        }])
        .await
        .unwrap();
    f.sandboxes
        .commerce_control()
        .seed_products(&[commerce_sandbox::ProductSeed {
            sku: failed.clone(),
            upc: Some(fixed_upc),
            ..Default::default()
        }])
        .await
        .unwrap();
    f.clock.advance(Duration::from_secs(5));
    let changed = catalog_import::run_scheduled(ch, &deadline()).await.unwrap();
    assert_eq!(changed.count(operations::Counter::Drafts), 1, "{changed:?}");
    assert_eq!(listing(ch, failed).await.status(), ListingStatus::Draft);
    f.clock.advance(Duration::from_secs(200));
    listing_match::run_scheduled(ch, &deadline()).await.unwrap();
    let done = match_round(&f).await;
    assert_eq!(done.count(operations::Counter::Matched), 1, "{done:?}");
    assert_eq!(listing(ch, failed).await.status(), ListingStatus::Match);
    f.sandboxes.shutdown().await;
}

#[tokio::test]
async fn matches_are_staged_while_the_store_is_not_live_and_published_when_it_is() {
    let mut s = settings();
    s.walmart_store_live = false;
    let f = fixture(s).await;
    f.sandboxes
        .walmart_control()
        .update_settings(&serde_json::json!({"store_live": false}))
        .await
        .unwrap();
    let seeded = seed_catalog(&f.sandboxes, "STG-", 3, 0, 0).await;
    catalog_import::run_scheduled(&f.channel, &deadline())
        .await
        .unwrap();
    match_round(&f).await;
    match_round(&f).await;
    assert_eq!(
        listings_in(&f.channel, ListingStatus::StagedForMatch).await.len(),
        3
    );
    assert!(
        listing(&f.channel, &seeded.matching[0])
            .await
            .is_live_on_walmart()
    );

    // The store goes live: the sandbox publishes its items, the channel its listings.
    f.sandboxes
        .walmart_control()
        .update_settings(&serde_json::json!({"store_live": true}))
        .await
        .unwrap();
    let mut live = settings();
    live.walmart_store_live = true;
    let channel = Channel {
        settings: live,
        ..(*f.channel).clone()
    };
    let report = listing_match::run_scheduled(&channel, &deadline()).await.unwrap();
    assert_eq!(report.count(operations::Counter::Published), 3, "{report:?}");
    assert_eq!(listings_in(&channel, ListingStatus::Match).await.len(), 3);
    f.sandboxes.shutdown().await;
}

#[tokio::test]
async fn configurable_products_are_listed_by_their_children_and_skus_import_on_request() {
    let f = fixture(settings()).await;
    let seeded = seed_catalog(&f.sandboxes, "CHD-", 3, 0, 0).await;
    let control = f.sandboxes.commerce_control();
    // The children carry no `walmart_enabled`: the parent's selection brings them in.
    control
        .seed_products(
            &seeded
                .matching
                .iter()
                .map(|s| commerce_sandbox::ProductSeed {
                    sku: s.clone(),
                    walmart_enabled: Some(false),
                    ..Default::default()
                })
                .collect::<Vec<_>>(),
        )
        .await
        .unwrap();
    control
        .seed_products(&[commerce_sandbox::ProductSeed {
            sku: "CHD-PARENT".into(),
            type_id: Some("configurable".into()),
            walmart_enabled: Some(true),
            children: Some(seeded.matching.clone()),
            ..Default::default()
        }])
        .await
        .unwrap();
    let report = catalog_import::run_scheduled(&f.channel, &deadline())
        .await
        .unwrap();
    assert_eq!(
        report.count(operations::Counter::ConfigurableParents),
        1,
        "{report:?}"
    );
    assert_eq!(report.count(operations::Counter::ListingsCreated), 3);
    assert!(
        f.channel
            .store
            .load::<Listing>(&listing_key(&f.channel.settings.id, &sku("CHD-PARENT")))
            .await
            .unwrap()
            .is_none(),
        "the parent itself is not a listing"
    );

    // An explicit request (CLI, dashboard) imports a product the selection does not name.
    control
        .seed_products(&[commerce_sandbox::ProductSeed {
            sku: "ASKED-1".into(),
            price: Some(5.0),
            weight: Some(2.0),
            upc: Some(commerce_sandbox::upc_for(55_000_001)),
            ..Default::default()
        }])
        .await
        .unwrap();
    catalog_import::request_import(&f.channel, &[sku("ASKED-1"), sku("NOT-THERE")])
        .await
        .unwrap();
    assert_eq!(drain(&f.channel, Operation::CatalogImport).await, (1, 0));
    assert_eq!(
        listing(&f.channel, "ASKED-1").await.status(),
        ListingStatus::Draft
    );
    f.sandboxes.shutdown().await;
}

#[tokio::test]
async fn a_large_selection_fans_out_by_page_and_concurrent_nudges_send_one_feed() {
    let mut s = settings();
    s.selection = ProductSelection::Category { category_id: 3 };
    let f = fixture(s).await;
    let created = f
        .sandboxes
        .commerce_control()
        .generate_catalog(&commerce_sandbox::CatalogSpec {
            count: 1_000,
            sku_prefix: "BIG-".into(),
            walmart_enabled_every: 0,
            category_id: 3,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(created["created"], 1_000);
    let ch = &f.channel;
    let report = catalog_import::run_scheduled(ch, &deadline()).await.unwrap();
    assert_eq!(
        report.count(operations::Counter::ProductsMatching),
        1_000,
        "{report:?}"
    );
    assert_eq!(
        report.count(operations::Counter::PagesFannedOut),
        2,
        "pages 2 and 3 of 4"
    );
    assert_eq!(
        report.count(operations::Counter::ListingsCreated),
        400,
        "pages 1 and 4 in the run"
    );
    assert_eq!(drain(ch, Operation::CatalogImport).await, (2, 0));
    let drafts = listings_in(ch, ListingStatus::Draft).await;
    assert_eq!(drafts.len(), 1_000);

    // Every page nudged listing-match; the nudges arrive together and build one feed.
    f.clock.advance(Duration::from_secs(61));
    let (handled, failed) = drain(ch, Operation::ListingMatch).await;
    assert_eq!((handled, failed), (3, 0));
    assert_eq!(f.sandboxes.walmart_control().feeds().await.unwrap().len(), 1);
    assert_eq!(listings_in(ch, ListingStatus::Processing).await.len(), 1_000);
    f.sandboxes.shutdown().await;
}

#[tokio::test]
async fn malformed_messages_are_refused_and_asking_again_for_a_healthy_listing_is_harmless() {
    let f = fixture(settings()).await;
    seed_catalog(&f.sandboxes, "SYS-", 2, 0, 0).await;
    let message = operations::registry::Message {
        message_id: "m1".into(),
        body: r#"{"skus": 5}"#.into(),
        receive_count: 1,
    };
    // Malformed bodies never reach a handler: decoding them is a per-message invalid input.
    let err = message.decode::<listing_match::MatchRequest>().unwrap_err();
    assert!(matches!(err, operations::OpError::BadMessage { .. }), "{err}");
    let bad_import = operations::registry::Message {
        body: r#"{"kind": "everything"}"#.into(),
        ..message
    };
    assert!(matches!(
        bad_import.decode::<catalog_import::ImportRequest>(),
        Err(operations::OpError::BadMessage { .. })
    ));
    // Resubmitting a listing that is not in Error is reported, not an error.
    catalog_import::run_scheduled(&f.channel, &deadline())
        .await
        .unwrap();
    listing_match::request_match(&f.channel, &[sku("SYS-00000")])
        .await
        .unwrap();
    assert_eq!(drain(&f.channel, Operation::ListingMatch).await, (2, 0));
    f.sandboxes.shutdown().await;
}

#[tokio::test]
async fn partial_match_feeds_are_paced_within_walmarts_hourly_limit() {
    let f = fixture(settings()).await;
    let ch = &f.channel;
    // A new product every minute for 25 minutes: each waits at most one pace for its feed.
    let mut feeds_sent = 0;
    for n in 0..25u64 {
        f.sandboxes
            .commerce_control()
            .seed_products(&[commerce_sandbox::ProductSeed {
                sku: format!("PACE-{n:02}"),
                price: Some(9.99),
                weight: Some(1.0),
                upc: Some(commerce_sandbox::upc_for(66_000_000 + n)),
                walmart_enabled: Some(true),
                ..Default::default()
            }])
            .await
            .unwrap();
        catalog_import::run_scheduled(ch, &deadline()).await.unwrap();
        f.clock.advance(Duration::from_secs(61));
        feeds_sent += listing_match::run_scheduled(ch, &deadline())
            .await
            .unwrap()
            .count(operations::Counter::MatchFeeds);
    }
    // 25 minutes at one partial feed per 3 minutes at most.
    assert!((8..=9).contains(&feeds_sent), "{feeds_sent} feeds");
    f.clock.advance(Duration::from_secs(181));
    listing_match::run_scheduled(ch, &deadline()).await.unwrap();
    assert!(
        listings_in(ch, ListingStatus::Draft).await.is_empty(),
        "every draft was sent"
    );
    let stats = f.sandboxes.walmart_control().stats().await.unwrap();
    assert!(stats.values().all(|s| s.throttled == 0), "{stats:?}");
    f.sandboxes.shutdown().await;
}

/// Walmart takes the match feed but the answer is lost (a 504): listing-match reads Walmart's feed
/// list instead of submitting again, adopts the feed it finds, and the listings settle from it.
/// One feed in all.
#[tokio::test]
async fn a_feed_whose_answer_is_lost_is_submitted_once() {
    let f = fixture(settings()).await;
    let seeded = seed_catalog(&f.sandboxes, "LOST-", 6, 0, 0).await;
    let ch = &f.channel;
    catalog_import::run_scheduled(ch, &deadline()).await.unwrap();
    let control = f.sandboxes.walmart_control();
    control
        .set_faults(&walmart_sandbox::FaultPlan {
            lose_next: 1,
            ..walmart_sandbox::FaultPlan::default()
        })
        .await
        .unwrap();
    let sent = match_round(&f).await;
    assert_eq!(sent.count(operations::Counter::MatchFeeds), 1, "{sent:?}");
    assert_eq!(control.feeds().await.unwrap().len(), 1, "submitted once");
    assert_eq!(feeds(ch).await.len(), 1, "the feed Walmart lists is recorded");
    let done = match_round(&f).await;
    assert_eq!(done.count(operations::Counter::MatchFeeds), 0, "{done:?}");
    assert_eq!(
        done.count(operations::Counter::Matched),
        seeded.matching.len() as u64,
        "{done:?}"
    );
    assert_eq!(listings_in(ch, ListingStatus::Match).await.len(), 6);
    assert_eq!(control.feeds().await.unwrap().len(), 1);
    f.sandboxes.shutdown().await;
}

/// Issue 11 fact 2: in one match feed, an item Walmart reports with an ingestion status it added
/// since, and an item whose result Walmart sent badly, each go to Error with a readable reason;
/// every other item of the feed is matched, and the run report names both.
#[tokio::test]
async fn an_unknown_ingestion_status_or_a_bad_result_fails_only_its_listing() {
    use walmart_sandbox::OverriddenRecord;

    let f = fixture(settings()).await;
    seed_catalog(&f.sandboxes, "ODD-", 6, 0, 0).await;
    let ch = &f.channel;
    catalog_import::run_scheduled(ch, &deadline()).await.unwrap();
    let sent = match_round(&f).await;
    assert_eq!(sent.count(operations::Counter::ListingsSent), 6, "{sent:?}");
    let feed = feeds(ch).await.remove(0);
    let chunk: domain::FeedChunk = ch
        .store
        .load(&ports::records::feed_chunk_key(&ch.settings.id, &feed.feed_id, 0))
        .await
        .unwrap()
        .unwrap()
        .record;
    let at = |i: usize| chunk.entries[i].sku.clone();
    let control = f.sandboxes.walmart_control();
    let item = |index| OverriddenRecord::FeedItem {
        feed_id: feed.feed_id.as_str().to_owned(),
        index,
    };
    control
        .override_record(
            item(1),
            "/ingestionStatus",
            serde_json::json!("PARTIALLY_INGESTED"),
        )
        .await
        .unwrap();
    control
        .override_record(
            item(4),
            "",
            serde_json::json!({ "index": 4, "sku": at(4).as_str(), "ingestionStatus": ["SUCCESS"] }),
        )
        .await
        .unwrap();

    let done = match_round(&f).await;
    assert_eq!(done.count(operations::Counter::Matched), 4, "{done:?}");
    assert_eq!(done.count(operations::UNKNOWN_WALMART_VALUES), 1, "{done:?}");
    assert_eq!(done.count(operations::SKIPPED_WALMART_RECORDS), 1, "{done:?}");
    assert!(
        done.problems
            .iter()
            .any(|p| p.contains("record 4 of the page") && p.contains(at(4).as_str())),
        "{:?}",
        done.problems
    );
    let unknown = listing(ch, at(1).as_str()).await;
    assert_eq!(unknown.status(), ListingStatus::Error);
    let issue = unknown.issues.last().unwrap();
    assert_eq!(issue.code, domain::ISSUE_WALMART_UNREADABLE);
    assert!(issue.message.contains("PARTIALLY_INGESTED"), "{issue:?}");
    let unreadable = listing(ch, at(4).as_str()).await;
    assert_eq!(unreadable.status(), ListingStatus::Error);
    assert!(
        unreadable.issues[0]
            .message
            .starts_with("Walmart's result for the item could not be read"),
        "{:?}",
        unreadable.issues
    );
    for i in [0, 2, 3, 5] {
        assert_eq!(
            listing(ch, at(i).as_str()).await.status(),
            ListingStatus::Match,
            "{i}"
        );
    }
    assert!(feeds(ch).await[0].is_settled());
    f.sandboxes.shutdown().await;
}
