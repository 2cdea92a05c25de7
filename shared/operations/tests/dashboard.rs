//! The dashboard's data and the merchant's actions, on the embedded store and queues with both
//! sandboxes: orders by state and found by purchase order or Commerce number, returns, listings
//! filtered, sorted, searched and counted, the overview, and every action audited; re-importing
//! orders keeps exactly one Commerce order each; a paused operation does no work; manual match mode
//! holds imported drafts until the merchant sends them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod orders_fixture;

use std::sync::Arc;
use std::time::Duration;

use domain::{
    ChannelId, ChannelSettings, Listing, ListingStatus, Money, Operation, ProductSnapshot, Sku, Timestamp,
};
use operations::dashboard::listings::{ListingFilter, ListingSort, listing_counts, listing_detail, listings};
use operations::dashboard::order_list::{OrderState, find_order, order_rows};
use operations::dashboard::overview::{Attention, overview};
use operations::dashboard::return_list::{ReturnState, return_rows};
use operations::dashboard::{DateRange, RowsPage};
use operations::merchant::{self, Action, Actor, MatchMode};
use operations::registry::{Message, handlers};
use operations::testkit::{Sandboxes, drain, seed_catalog};
use operations::{Channel, OpError, returns_sync};
use orders_fixture::{Fixture, shipped_order, walmart_return};
use ports::{Clock, Deadline, ManualClock, QueueName, Records};

fn merchant() -> Actor {
    Actor::new("anna@shop.example")
}

fn deadline() -> Deadline {
    Deadline::after(Duration::from_secs(300))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_show_by_state_and_are_found_by_purchase_order_or_commerce_number() {
    let fx = Fixture::start().await;
    let sku = fx.skus[0].clone();
    let (shipped, _) = shipped_order(&fx, &[(&sku, 1, 1999)]).await;
    fx.advance(Duration::from_secs(60));
    let open = fx.buyer_orders(&[(&fx.skus[1], 2, 1999)]).await;
    fx.import_and_create().await;

    let page = order_rows(&fx.ch, Some(OrderState::Open), DateRange::default(), 10, None)
        .await
        .unwrap();
    assert_eq!(
        page.rows.iter().map(|r| &r.walmart_order).collect::<Vec<_>>(),
        [&open]
    );
    let all = order_rows(&fx.ch, None, DateRange::default(), 10, None)
        .await
        .unwrap();
    assert_eq!(all.rows.len(), 2);
    assert_eq!(all.rows[0].walmart_order, open, "newest order first");
    assert_eq!(all.rows[1].status_label, "Shipped");

    // Pages of one row each walk both orders once.
    let first = order_rows(&fx.ch, None, DateRange::default(), 1, None)
        .await
        .unwrap();
    let second = order_rows(&fx.ch, None, DateRange::default(), 1, first.next.clone())
        .await
        .unwrap();
    assert_eq!(first.rows[0].walmart_order, open);
    assert_eq!(second.rows[0].walmart_order, shipped);
    assert!(second.next.is_none());

    // By purchase order and by Commerce order number: the same order, in full.
    let by_po = find_order(&fx.ch, shipped.as_str())
        .await
        .unwrap()
        .expect("found by PO");
    let number = by_po
        .row
        .commerce_order_number
        .clone()
        .expect("created in Commerce");
    let by_number = find_order(&fx.ch, &number)
        .await
        .unwrap()
        .expect("found by number");
    assert_eq!(by_number.row.walmart_order, shipped);
    assert_eq!(by_number.shipments.len(), 1);
    assert!(by_number.shipments[0].on_walmart_at.is_some());
    assert!(!by_number.shipments[0].tracking_number.is_empty());
    let steps: Vec<&str> = by_number.steps.iter().map(|s| s.step).collect();
    assert!(
        [
            "imported",
            "created_in_commerce",
            "acknowledged",
            "shipment_on_walmart"
        ]
        .iter()
        .all(|s| steps.contains(s)),
        "{steps:?}"
    );
    let events: Vec<&str> = by_number.history.iter().map(|h| h.event).collect();
    assert!(
        events.contains(&"shipped") && events.contains(&"acknowledged"),
        "{events:?}"
    );
    assert!(find_order(&fx.ch, "no-such-order").await.unwrap().is_none());

    // A return shows as Received on the returns page and on its order.
    let ret = walmart_return(&fx, &shipped, &[(1, 1)]).await;
    fx.advance(Duration::from_secs(60));
    returns_sync::run_scheduled(&fx.ch, &Fixture::deadline())
        .await
        .unwrap();
    let returns = return_rows(
        &fx.ch,
        Some(ReturnState::Received),
        DateRange::default(),
        10,
        None,
    )
    .await
    .unwrap();
    assert_eq!(returns.rows.len(), 1);
    assert_eq!(returns.rows[0].return_order_id, ret);
    assert!(returns.rows[0].requested_in_commerce);
    let detail = find_order(&fx.ch, &number).await.unwrap().unwrap();
    assert_eq!(detail.returns.len(), 1);
    assert_eq!(detail.row.status_label, "Return requested");
    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reimporting_a_date_range_creates_each_commerce_order_once() {
    let fx = Fixture::start().await;
    let from = fx.ch.clock.now().minus(Duration::from_secs(60));
    let created = fx.buyer_orders(&[(&fx.skus[0], 1, 1999)]).await;
    fx.import_and_create().await;
    // An order Walmart has but the channel lost (its record gone after it was created in
    // Commerce), and one it never imported.
    let lost = fx.buyer_orders(&[(&fx.skus[1], 1, 1999)]).await;
    fx.import_and_create().await;
    fx.ch
        .store
        .delete(
            &ports::records::order_key(&fx.ch.settings.id, &lost),
            ports::Expect::Any,
        )
        .await
        .unwrap();
    let missed = fx.buyer_orders(&[(&fx.skus[2], 1, 1999)]).await;
    fx.advance(Duration::from_secs(60));
    let to = fx.ch.clock.now();

    let report = merchant::reimport_orders(&fx.ch, &merchant(), from, to, &Fixture::deadline())
        .await
        .unwrap();
    assert_eq!(
        (report.listed, report.imported, report.already_known),
        (3, 2, 1),
        "{report:?}"
    );
    assert!(report.complete && report.failed.is_empty());
    let (_, failed) = fx.drain_creations().await;
    assert_eq!(failed, 0);
    // Twice, concurrently with a scheduled import: nothing new.
    let again = merchant::reimport_orders(&fx.ch, &merchant(), from, to, &Fixture::deadline())
        .await
        .unwrap();
    fx.import().await;
    assert_eq!(again.imported, 0);
    fx.drain_creations().await;
    for po in [&created, &lost, &missed] {
        assert_eq!(
            fx.commerce_orders(po).await.len(),
            1,
            "one Commerce order for {po}"
        );
        assert!(fx.record(po).await.commerce_link().is_some());
    }
    let actions = merchant::recent_actions(fx.ch.store.as_ref(), &fx.ch.settings.id, 10, None)
        .await
        .unwrap();
    assert_eq!(actions.rows.len(), 2);
    assert!(matches!(actions.rows[0].action, Action::ReimportOrders { .. }));
    assert_eq!(actions.rows[0].actor, merchant());
    assert!(
        merchant::reimport_orders(&fx.ch, &merchant(), to, from, &Fixture::deadline())
            .await
            .is_err(),
        "a backwards range is refused"
    );
    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_operation_skips_its_runs_and_holds_its_messages_until_resumed() {
    let fx = Fixture::start().await;
    let po = fx.buyer_orders(&[(&fx.skus[0], 1, 1999)]).await;
    merchant::pause(&fx.ch, &merchant(), Operation::OrderImport)
        .await
        .unwrap();
    fx.advance(Duration::from_secs(1));
    let import = handlers(Operation::OrderImport).schedule.unwrap();
    let report = import(fx.ch.clone(), deadline()).await.unwrap();
    assert_eq!(report.count(operations::run_log::PAUSED_BY_MERCHANT), 1);
    assert!(
        operations::dashboard::load_order(fx.ch.store.as_ref(), &fx.ch.settings.id, &po)
            .await
            .unwrap()
            .is_none(),
        "a paused import records nothing"
    );
    let view = overview(&fx.ch).await.unwrap();
    assert!(view.attention.iter().any(|a| matches!(
        a,
        Attention::Paused {
            operation: Operation::OrderImport,
            ..
        }
    )));
    let status = view
        .operations
        .iter()
        .find(|o| o.operation == Operation::OrderImport)
        .unwrap();
    assert!(status.paused.is_some());
    assert!(matches!(
        status.last_run.as_ref().map(|r| &r.outcome),
        Some(operations::run_log::RunOutcome::Paused)
    ));

    merchant::resume(&fx.ch, &merchant(), Operation::OrderImport)
        .await
        .unwrap();
    fx.advance(Duration::from_secs(1));
    import(fx.ch.clone(), deadline()).await.unwrap();
    assert!(fx.record(&po).await.commerce_link().is_none());

    // A paused consumer leaves its message on the queue (retryably failed), then handles it.
    merchant::pause(&fx.ch, &merchant(), Operation::OrderCreate)
        .await
        .unwrap();
    fx.advance(Duration::from_secs(1));
    let (handled, failed) = drain(&fx.ch, Operation::OrderCreate).await;
    assert_eq!((handled, failed), (0, 1));
    assert!(fx.commerce_orders(&po).await.is_empty());
    let held = fx.ch.queues.depth(QueueName::OrderCreate).await.unwrap();
    assert_eq!(held.waiting + held.in_flight, 1);
    let create = handlers(Operation::OrderCreate).queue.unwrap().1;
    let refused = create(
        fx.ch.clone(),
        Message {
            message_id: "m".into(),
            body: "{}".into(),
            receive_count: 1,
        },
        deadline(),
    )
    .await
    .unwrap_err();
    assert!(matches!(refused, OpError::Busy(_)) && refused.is_retryable());
    merchant::resume(&fx.ch, &merchant(), Operation::OrderCreate)
        .await
        .unwrap();
    fx.advance(Duration::from_secs(1));
    let (handled, failed) = drain(&fx.ch, Operation::OrderCreate).await;
    assert_eq!((handled, failed), (1, 0));
    assert_eq!(fx.commerce_orders(&po).await.len(), 1);

    let actions = merchant::recent_actions(fx.ch.store.as_ref(), &fx.ch.settings.id, 10, None)
        .await
        .unwrap();
    let kinds: Vec<String> = actions.rows.iter().map(|a| a.action.describe()).collect();
    assert_eq!(
        kinds,
        [
            "resumed order-create",
            "paused order-create",
            "resumed order-import",
            "paused order-import"
        ]
    );
    assert!(actions.rows.iter().all(|a| a.succeeded && a.actor == merchant()));
    fx.shutdown().await;
}

/// A channel on both sandboxes with `n` seeded products (every 5th with a bad UPC).
async fn catalog_channel(
    n: usize,
) -> (
    Arc<ManualClock>,
    Sandboxes,
    Arc<Channel>,
    Vec<String>,
    Vec<String>,
) {
    let clock = Arc::new(ManualClock::at(Timestamp::from_millis(1_800_000_000_000)));
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let sandboxes = Sandboxes::start_default(dyn_clock.clone()).await.unwrap();
    let seeded = seed_catalog(&sandboxes, "DSH-", n, 5, 0).await;
    let settings = ChannelSettings::with_defaults(ChannelId::new("main").unwrap());
    let (ch, _) = sandboxes.embedded_channel(settings, dyn_clock);
    (clock, sandboxes, Arc::new(ch), seeded.matching, seeded.bad_gtin)
}

async fn run(ch: &Arc<Channel>, operation: Operation) {
    let triggers = handlers(operation);
    if let Some(schedule) = triggers.schedule {
        schedule(ch.clone(), deadline()).await.unwrap();
    }
    if triggers.queue.is_some() {
        let (_, failed) = drain(ch, operation).await;
        assert_eq!(failed, 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manual_match_mode_holds_imported_drafts_until_the_merchant_sends_them() {
    let (clock, sandboxes, ch, matching, bad) = catalog_channel(10).await;
    merchant::set_match_mode(&ch, &merchant(), MatchMode::Manual)
        .await
        .unwrap();
    run(&ch, Operation::CatalogImport).await;
    clock.advance(Duration::from_secs(120));
    run(&ch, Operation::ListingMatch).await;

    let counts = listing_counts(&ch, Duration::ZERO).await.unwrap();
    assert_eq!(counts.awaiting_selection, matching.len() as u64, "{counts:?}");
    assert_eq!(counts.of(ListingStatus::Processing), 0, "nothing was sent");
    assert_eq!(counts.of(ListingStatus::Error), bad.len() as u64);
    assert_eq!(counts.adobe_draft(), matching.len() as u64);
    let view = overview(&ch).await.unwrap();
    assert_eq!(view.match_mode, MatchMode::Manual);
    assert!(view.attention.iter().any(
        |a| matches!(a, Attention::DraftsAwaitingSelection { count } if *count == matching.len() as u64)
    ));

    let chosen: Vec<Sku> = matching[..3]
        .iter()
        .map(|s| Sku::new(s.as_str()).unwrap())
        .collect();
    let mut asked = chosen.clone();
    asked.push(Sku::new(bad[0].as_str()).unwrap());
    asked.push(Sku::new("NOPE").unwrap());
    let outcome = merchant::send_to_match(&ch, &merchant(), &asked).await.unwrap();
    assert_eq!(outcome.sent, chosen);
    assert_eq!(outcome.not_waiting.len(), 1);
    assert_eq!(outcome.unknown.len(), 1);
    clock.advance(Duration::from_secs(120));
    run(&ch, Operation::ListingMatch).await;
    let counts = listing_counts(&ch, Duration::ZERO).await.unwrap();
    assert_eq!(counts.of(ListingStatus::Processing), 3, "{counts:?}");
    assert_eq!(counts.awaiting_selection, matching.len() as u64 - 3);

    // Back to automatic: new imports go straight to matching; the waiting ones still wait.
    merchant::set_match_mode(&ch, &merchant(), MatchMode::Automatic)
        .await
        .unwrap();
    let waiting = listings(
        &ch,
        ListingFilter::AwaitingSelection,
        ListingSort::SkuAscending,
        None,
        100,
        None,
    )
    .await
    .unwrap();
    assert_eq!(waiting.rows.len(), matching.len() - 3);
    assert!(
        waiting
            .rows
            .iter()
            .all(|r| r.awaiting_selection && r.status_label == "Draft")
    );
    sandboxes.shutdown().await;
}

fn product(n: usize, identifier: Option<&str>) -> ProductSnapshot {
    ProductSnapshot {
        product_id: domain::CommerceProductId(n as u64 + 1),
        name: format!("Product {n}"),
        raw_identifier: identifier.map(str::to_owned),
        price: Some(Money::from_cents(1000 + n as i64)),
        weight_lb: Some(1.0),
        special_price: None,
        enabled: true,
        updated_at: Timestamp::from_millis(1_700_000_000_000),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listings_are_filtered_sorted_searched_paged_and_counted() {
    let (clock, sandboxes, ch, _, _) = catalog_channel(0).await;
    // 120 listings: every 4th without an identifier (Error), the rest Draft, changed a second apart.
    let mut all = Vec::new();
    for n in 0..120 {
        let sku = Sku::new(format!("{}-{n:03}", if n % 2 == 0 { "MUG" } else { "CAP" })).unwrap();
        let identifier = (n % 4 != 0).then_some("012345678905");
        let at = Timestamp::from_millis(1_800_000_000_000 + n as i64 * 1_000);
        all.push(Listing::import(
            ch.settings.id.clone(),
            sku,
            product(n, identifier),
            at,
        ));
    }
    ch.store.save_all(&all).await.unwrap();
    clock.advance(Duration::from_secs(600));

    let counts = listing_counts(&ch, Duration::from_secs(60)).await.unwrap();
    assert_eq!(counts.of(ListingStatus::Error), 30);
    assert_eq!(counts.of(ListingStatus::Draft), 90);
    assert_eq!(counts.total(), 120);
    // Kept for a minute: a new listing is not counted until then.
    let extra = Listing::import(
        ch.settings.id.clone(),
        Sku::new("ZZZ-1").unwrap(),
        product(999, None),
        clock.now(),
    );
    ch.store.save_all(&[extra]).await.unwrap();
    assert_eq!(
        listing_counts(&ch, Duration::from_secs(60))
            .await
            .unwrap()
            .total(),
        120
    );
    clock.advance(Duration::from_secs(61));
    assert_eq!(
        listing_counts(&ch, Duration::from_secs(60))
            .await
            .unwrap()
            .total(),
        121
    );

    // Errors in SKU order, seven a page: every one once, in order.
    let walk = |filter, sort, prefix: Option<&'static str>, limit| {
        let ch = ch.clone();
        async move {
            let mut seen = Vec::new();
            let mut after = None;
            for _ in 0..100 {
                let RowsPage { rows, next } =
                    listings(&ch, filter, sort, prefix, limit, after).await.unwrap();
                seen.extend(rows);
                match next {
                    Some(token) => after = Some(token),
                    None => return seen,
                }
            }
            panic!("paging did not end");
        }
    };
    let errors = walk(
        ListingFilter::Status(ListingStatus::Error),
        ListingSort::SkuAscending,
        None,
        7,
    )
    .await;
    let skus: Vec<String> = errors.iter().map(|r| r.sku.to_string()).collect();
    let mut expected: Vec<String> = all
        .iter()
        .filter(|l| l.status() == ListingStatus::Error)
        .map(|l| l.sku.to_string())
        .collect();
    expected.push("ZZZ-1".into());
    expected.sort();
    assert_eq!(skus, expected);
    assert!(
        errors
            .iter()
            .all(|r| r.issues[0].code == "CM_MISSING_IDENTIFIER" && !r.issues[0].fix.is_empty())
    );

    // SKU prefix, descending, all states.
    let mugs = walk(ListingFilter::All, ListingSort::SkuDescending, Some("MUG-0"), 9).await;
    let skus: Vec<String> = mugs.iter().map(|r| r.sku.to_string()).collect();
    let mut expected: Vec<String> = (0..100).step_by(2).map(|n| format!("MUG-{n:03}")).collect();
    expected.reverse();
    assert_eq!(skus, expected);

    // Drafts whose SKU starts with CAP, in SKU order.
    let caps = walk(
        ListingFilter::Status(ListingStatus::Draft),
        ListingSort::SkuAscending,
        Some("CAP"),
        10,
    )
    .await;
    assert_eq!(
        caps.len(),
        60,
        "odd n are CAP, and only even n lack an identifier"
    );
    assert!(
        caps.iter()
            .all(|r| r.sku.as_str().starts_with("CAP") && r.status == ListingStatus::Draft)
    );

    // Newest change first, within a state.
    let newest = listings(
        &ch,
        ListingFilter::Status(ListingStatus::Draft),
        ListingSort::ChangedNewest,
        None,
        3,
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        newest.rows.iter().map(|r| r.sku.to_string()).collect::<Vec<_>>(),
        ["CAP-119", "MUG-118", "CAP-117"]
    );
    let next = listings(
        &ch,
        ListingFilter::Status(ListingStatus::Draft),
        ListingSort::ChangedNewest,
        None,
        3,
        newest.next,
    )
    .await
    .unwrap();
    assert_eq!(next.rows[0].sku.as_str(), "CAP-115", "MUG-116 is in Error");

    let detail = listing_detail(&ch, &Sku::new("MUG-002").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(detail.row.commerce_price, Some(Money::from_cents(1002)));
    assert!(detail.row.expected_walmart_price.is_some());
    assert_eq!(detail.row.walmart_price, None, "nothing sent yet");
    assert!(
        listing_detail(&ch, &Sku::new("NONE").unwrap())
            .await
            .unwrap()
            .is_none()
    );
    sandboxes.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_queue_their_work_refuse_what_does_not_apply_and_are_audited() {
    let fx = Fixture::start().await;
    operations::testkit::seed_live_listings(&fx.sandboxes, &fx.ch, &fx.skus[..1], 10).await;
    let live = Sku::new(fx.skus[0].as_str()).unwrap();
    merchant::resync_sku(&fx.ch, &merchant(), &live).await.unwrap();
    fx.advance(Duration::from_secs(1));
    assert_eq!(fx.peek(QueueName::InventorySync).await.len(), 1);
    assert_eq!(fx.peek(QueueName::PriceSync).await.len(), 1);
    let not_listed = Sku::new("NOT-LISTED").unwrap();
    assert!(
        merchant::resync_sku(&fx.ch, &merchant(), &not_listed)
            .await
            .is_err()
    );
    fx.advance(Duration::from_secs(1));
    assert!(
        merchant::retry_match(&fx.ch, &merchant(), &live).await.is_err(),
        "a matched listing is not in Error"
    );
    fx.advance(Duration::from_secs(1));

    let po = fx.buyer_orders(&[(&fx.skus[1], 1, 1999)]).await;
    fx.import_and_create().await;
    assert!(matches!(
        merchant::retry_order(&fx.ch, &merchant(), &po).await,
        Err(OpError::Invalid(_))
    ));

    // Dead letters go back to their queue.
    fx.ch
        .queues
        .send(QueueName::CatalogImport, ports::OutgoingMessage::new("not json"))
        .await
        .unwrap();
    for _ in 0..6 {
        let _ = drain(&fx.ch, Operation::CatalogImport).await;
        fx.advance(Duration::from_secs(200));
    }
    fx.ch
        .queues
        .receive(QueueName::CatalogImport, 10, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(
        fx.ch
            .queues
            .depth(QueueName::CatalogImport)
            .await
            .unwrap()
            .dead_letters,
        1
    );
    let view = overview(&fx.ch).await.unwrap();
    assert!(view.attention.iter().any(|a| matches!(
        a,
        Attention::DeadLetters {
            queue: QueueName::CatalogImport,
            count: 1
        }
    )));
    let catalog = view
        .operations
        .iter()
        .find(|o| o.operation == Operation::CatalogImport)
        .unwrap();
    assert!(catalog.failures >= 1, "the poison message's failures are counted");
    assert!(view.attention.iter().any(|a| matches!(
        a,
        Attention::Failing {
            operation: Operation::CatalogImport,
            ..
        }
    )));
    let moved = merchant::redrive_dead_letters(&fx.ch, &merchant(), QueueName::CatalogImport)
        .await
        .unwrap();
    assert_eq!(moved, 1);
    let depth = fx.ch.queues.depth(QueueName::CatalogImport).await.unwrap();
    assert_eq!((depth.dead_letters, depth.waiting), (0, 1));

    let actions = merchant::recent_actions(fx.ch.store.as_ref(), &fx.ch.settings.id, 3, None)
        .await
        .unwrap();
    assert!(matches!(
        actions.rows[0].action,
        Action::RedriveDeadLetters { .. }
    ));
    assert!(matches!(actions.rows[1].action, Action::RetryOrder { .. }));
    assert!(
        !actions.rows[1].succeeded,
        "a refused retry is recorded as failed"
    );
    assert!(actions.rows[1].result.starts_with("failed: "));
    assert!(actions.next.is_some());
    let older = merchant::recent_actions(fx.ch.store.as_ref(), &fx.ch.settings.id, 10, actions.next)
        .await
        .unwrap();
    let older: Vec<(bool, String)> = older
        .rows
        .iter()
        .map(|a| (a.succeeded, a.action.describe()))
        .collect();
    assert_eq!(
        older,
        [
            (false, "resynced stock and price of NOT-LISTED".to_owned()),
            (true, format!("resynced stock and price of {live}")),
        ]
    );
    fx.shutdown().await;
}

/// The dashboard function's role follows from `merchant::STORE_CALLS`: every query and action
/// calls only those store methods.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_calls_only_the_store_methods_it_declares() {
    let fx = Fixture::start().await;
    let from = fx.ch.clock.now().minus(Duration::from_secs(60));
    let po = fx.buyer_orders(&[(&fx.skus[0], 1, 1999)]).await;
    fx.import_and_create().await;
    let recording = Arc::new(ports::RecordingStore::new(fx.ch.store.clone()));
    let mut ch = (*fx.ch).clone();
    ch.store = recording.clone();
    let ch = Arc::new(ch);
    let actor = merchant();
    let sku = Sku::new(fx.skus[0].as_str()).unwrap();

    overview(&ch).await.unwrap();
    listing_counts(&ch, Duration::ZERO).await.unwrap();
    listing_counts(&ch, Duration::from_secs(60)).await.unwrap();
    for filter in [
        ListingFilter::All,
        ListingFilter::AwaitingSelection,
        ListingFilter::Status(ListingStatus::Error),
    ] {
        for sort in [ListingSort::SkuAscending, ListingSort::ChangedNewest] {
            listings(&ch, filter, sort, Some("ORD"), 10, None).await.unwrap();
            listings(&ch, filter, sort, None, 10, None).await.unwrap();
        }
    }
    listing_detail(&ch, &sku).await.unwrap();
    order_rows(&ch, None, DateRange::default(), 10, None)
        .await
        .unwrap();
    find_order(&ch, po.as_str()).await.unwrap();
    find_order(&ch, "000000001").await.unwrap();
    return_rows(&ch, None, DateRange::default(), 10, None)
        .await
        .unwrap();
    merchant::recent_actions(ch.store.as_ref(), &ch.settings.id, 10, None)
        .await
        .unwrap();
    merchant::set_match_mode(&ch, &actor, MatchMode::Manual)
        .await
        .unwrap();
    merchant::send_to_match(&ch, &actor, std::slice::from_ref(&sku))
        .await
        .unwrap();
    let _ = merchant::retry_match(&ch, &actor, &sku).await;
    let _ = merchant::resync_sku(&ch, &actor, &sku).await;
    let _ = merchant::retry_order(&ch, &actor, &po).await;
    let _ = merchant::retry_return(&ch, &actor, &domain::ReturnOrderId::new("R1").unwrap()).await;
    merchant::redrive_dead_letters(&ch, &actor, QueueName::OrderCreate)
        .await
        .unwrap();
    merchant::pause(&ch, &actor, Operation::ShipmentSync)
        .await
        .unwrap();
    merchant::resume(&ch, &actor, Operation::ShipmentSync)
        .await
        .unwrap();
    let to = ch.clock.now();
    merchant::reimport_orders(&ch, &actor, from, to, &Fixture::deadline())
        .await
        .unwrap();

    let made = recording.take();
    let undeclared: Vec<&str> = made
        .iter()
        .filter(|c| !merchant::STORE_CALLS.contains(c))
        .map(|c| c.as_str())
        .collect();
    assert!(undeclared.is_empty(), "undeclared store calls: {undeclared:?}");
    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_listings_page_shows_each_listings_own_offer() {
    let (_clock, sandboxes, ch, _, _) = catalog_channel(0).await;
    // 40 listings, every 4th in Error; offers (what was sent to Walmart) for every 3rd, and for SKUs
    // around them without a listing.
    let at = Timestamp::from_millis(1_800_000_000_000);
    let mut all = Vec::new();
    let mut offers = Vec::new();
    for n in 0..40 {
        let sku = Sku::new(format!("MUG-{n:03}")).unwrap();
        let identifier = (n % 4 != 0).then_some("012345678905");
        all.push(Listing::import(
            ch.settings.id.clone(),
            sku.clone(),
            product(n, identifier),
            at,
        ));
        if n.is_multiple_of(3) {
            let mut offer = domain::OfferState::new(ch.settings.id.clone(), sku);
            offer.quantity_sent(n as u32, domain::SentVia::Single, at);
            offer.price_sent(Money::from_cents(2000 + n as i64), domain::SentVia::Single, at);
            offers.push(offer);
        }
    }
    for stray in ["MUG-0005", "AAA", "ZZZ"] {
        let mut offer = domain::OfferState::new(ch.settings.id.clone(), Sku::new(stray).unwrap());
        offer.quantity_sent(999, domain::SentVia::Single, at);
        offers.push(offer);
    }
    ch.store.save_all(&all).await.unwrap();
    ch.store.save_all(&offers).await.unwrap();
    let expected = |sku: &Sku| {
        let n: usize = sku.as_str()[4..].parse().unwrap();
        n.is_multiple_of(3)
            .then(|| (n as u32, Money::from_cents(2000 + n as i64)))
    };
    for (filter, sort, prefix) in [
        (ListingFilter::All, ListingSort::SkuAscending, None),
        (ListingFilter::All, ListingSort::SkuDescending, None),
        (ListingFilter::All, ListingSort::SkuAscending, Some("MUG-01")),
        (
            ListingFilter::Status(ListingStatus::Error),
            ListingSort::SkuAscending,
            None,
        ),
        (
            ListingFilter::Status(ListingStatus::Draft),
            ListingSort::ChangedNewest,
            None,
        ),
    ] {
        let mut after = None;
        let mut seen = 0;
        loop {
            let page = listings(&ch, filter, sort, prefix, 7, after).await.unwrap();
            for row in &page.rows {
                let sent = row.advertised_quantity.zip(row.walmart_price);
                assert_eq!(sent, expected(&row.sku), "{filter:?} {sort:?} {}", row.sku);
            }
            seen += page.rows.len();
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        assert!(seen >= 10, "{filter:?} {sort:?} {prefix:?}: {seen} rows");
    }
    sandboxes.shutdown().await;
}
