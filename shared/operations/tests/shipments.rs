//! shipment-sync over both sandboxes: partial shipments with tracking, carrier mapping, invoicing,
//! once per shipment (also across a crash after Walmart accepted it), refusals.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod orders_fixture;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use commerce_sandbox::{ShipLine as CommerceShipLine, TrackInput};
use domain::{
    CustomerOrderId, FeedId, Gtin, LineNumber, Money, OrderSummary, PurchaseOrderId, ReturnOrderId,
    ShipmentRecord, Sku, SyncTask,
};
use operations::{Channel, shipment_sync};
use orders_fixture::{Fixture, line_status_quantity};
use ports::walmart::{
    CancelLine, CatalogItem, FeedStatusPage, FeedType, ItemsPage, ItemsQuery, OrdersCursor, OrdersPage,
    OrdersQuery, RefundLine, ReturnsPage, ReturnsQuery, SellerItem, ShipLine, Walmart, WalmartOrder,
};
use ports::{ApiError, Deadline, Key, Records};
use walmart_sandbox::{BuyerCancellation, LineQuantitySpec};

fn track(code: &str, title: &str, number: &str) -> TrackInput {
    TrackInput {
        carrier_code: code.into(),
        title: title.into(),
        number: number.into(),
    }
}

fn by_sku(sku: &str, qty: f64) -> CommerceShipLine {
    CommerceShipLine {
        sku: Some(sku.into()),
        order_item_id: None,
        qty,
    }
}

async fn sync(ch: &Channel) -> operations::RunReport {
    shipment_sync::run_scheduled(ch, &Fixture::deadline())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partial_shipments_reach_walmart_once_with_tracking_and_are_invoiced() {
    let fx = Fixture::start().await;
    let (a, b) = (fx.skus[0].clone(), fx.skus[1].clone());
    let po = fx.buyer_orders(&[(&a, 2, 1999), (&b, 1, 1999)]).await;
    fx.import_and_create().await;
    let order = fx.commerce_order(&po).await;
    let order_id = fx.commerce_order_id(&order);
    let increment = order["increment_id"].as_str().unwrap().to_owned();
    let commerce = fx.sandboxes.commerce_control();
    let walmart = fx.sandboxes.walmart_control();

    // First package: one of the two units of line 1, by UPS.
    commerce
        .ship(
            order_id,
            vec![by_sku(&a, 1.0)],
            track("ups", "United Parcel Service", "1Z0001"),
            false,
        )
        .await
        .unwrap();
    fx.advance(Duration::from_secs(30));
    let report = sync(&fx.ch).await;
    assert_eq!(report.count(operations::Counter::ShipmentsSent), 1, "{report:?}");
    assert_eq!(report.count(operations::Counter::UnitsShipped), 1);
    let received = walmart.received().await.unwrap();
    assert_eq!(received.shipments.len(), 1);
    let first = &received.shipments[0];
    assert_eq!((first.line, first.quantity), (1, 1));
    assert_eq!(first.tracking_number, "1Z0001");
    assert_eq!(first.carrier.as_deref(), Some("UPS"));
    assert_eq!(first.method_code, "Standard");
    assert_eq!(first.seller_order_id, increment);
    let on_walmart = walmart.order(po.as_str()).await.unwrap();
    assert_eq!(line_status_quantity(&on_walmart, 1, "Shipped"), 1);
    assert_eq!(line_status_quantity(&on_walmart, 1, "Acknowledged"), 1);
    let record = fx.record(&po).await;
    assert_eq!(record.summary(), OrderSummary::PartiallyShipped);
    assert_eq!(record.line(LineNumber(1)).unwrap().shipped, 1);
    let invoiced = |order: &serde_json::Value, sku: &str| {
        order["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["sku"] == sku)
            .unwrap()["qty_invoiced"]
            .as_f64()
            .unwrap()
    };
    let order = fx.commerce_order(&po).await;
    assert_eq!(invoiced(&order, &a), 1.0, "shipped units invoiced");
    assert_eq!(invoiced(&order, &b), 0.0, "unshipped units stay cancellable");

    // Second package: the rest, by a carrier Walmart does not know.
    commerce
        .ship(
            order_id,
            vec![by_sku(&a, 1.0), by_sku(&b, 1.0)],
            track("custom", "Pony Express", "PX-77"),
            false,
        )
        .await
        .unwrap();
    fx.advance(Duration::from_secs(30));
    let report = sync(&fx.ch).await;
    assert_eq!(report.count(operations::Counter::ShipmentsSent), 1, "{report:?}");
    assert_eq!(
        report.count(operations::Counter::AlreadySent),
        1,
        "the first package again, in the overlap"
    );
    let received = walmart.received().await.unwrap();
    assert_eq!(received.shipments.len(), 3);
    let pony: Vec<_> = received
        .shipments
        .iter()
        .filter(|s| s.tracking_number == "PX-77")
        .collect();
    assert_eq!(pony.len(), 2);
    assert!(
        pony.iter()
            .all(|s| s.other_carrier.as_deref() == Some("Pony Express")
                && s.carrier.is_none()
                && s.tracking_url.as_deref().is_some_and(|u| u.contains("PX-77")))
    );
    let record = fx.record(&po).await;
    assert_eq!(record.summary(), OrderSummary::Shipped);
    let order = fx.commerce_order(&po).await;
    assert_eq!((invoiced(&order, &a), invoiced(&order, &b)), (2.0, 1.0));

    fx.advance(Duration::from_secs(60));
    let report = sync(&fx.ch).await;
    assert_eq!(report.count(operations::Counter::ShipmentsSent), 0);
    assert_eq!(
        walmart.received().await.unwrap().shipments.len(),
        3,
        "once per shipment"
    );
    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_orders_shipments_are_ignored_and_untracked_ones_wait() {
    let fx = Fixture::start().await;
    let a = fx.skus[0].clone();
    let po = fx.buyer_orders(&[(&a, 1, 1999)]).await;
    fx.import_and_create().await;
    // A Commerce order that is not a channel order.
    let mut stranger = fx.record(&po).await.order;
    stranger.id = PurchaseOrderId::new("42").unwrap();
    // The channel's record no longer holds its buyer once the Commerce order exists: the stranger
    // gets one of its own.
    stranger.ship_to = domain::ShipTo {
        email: Some("stranger@example.com".into()),
        ..domain::fixtures::purchase_order(&[], 0, domain::WalmartLineStatus::Created, "Standard").ship_to
    };
    let placement =
        ports::commerce::OrderPlacement::from_settings(&fx.ch.settings.orders, &stranger.method_code);
    let placed = fx
        .ch
        .commerce
        .create_order_for(&stranger, &placement, &Fixture::deadline())
        .await
        .unwrap();
    let commerce = fx.sandboxes.commerce_control();
    commerce
        .ship(placed.order_id.0, vec![], track("ups", "UPS", "1Z-OTHER"), false)
        .await
        .unwrap();
    let mine = fx.commerce_order_id(&fx.commerce_order(&po).await);
    commerce
        .ship(mine, vec![], track("ups", "UPS", ""), false)
        .await
        .unwrap();
    let report = sync(&fx.ch).await;
    assert_eq!(
        report.count(operations::Counter::NotChannelOrders),
        1,
        "{report:?}"
    );
    assert_eq!(report.count(operations::Counter::AwaitingTracking), 1);
    assert!(
        fx.sandboxes
            .walmart_control()
            .received()
            .await
            .unwrap()
            .shipments
            .is_empty()
    );
    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shipment_walmart_refuses_shows_as_an_error_with_the_reason() {
    let fx = Fixture::start().await;
    let a = fx.skus[0].clone();
    let po = fx.buyer_orders(&[(&a, 1, 1999)]).await;
    fx.import_and_create().await;
    // The buyer cancels on Walmart; the merchant ships before cancellation-sync ran.
    fx.sandboxes
        .walmart_control()
        .cancel_as_buyer(
            po.as_str(),
            &BuyerCancellation {
                lines: vec![LineQuantitySpec { line: 1, quantity: 1 }],
                reason: "CUSTOMER_CANCEL".into(),
            },
        )
        .await
        .unwrap();
    let order_id = fx.commerce_order_id(&fx.commerce_order(&po).await);
    fx.sandboxes
        .commerce_control()
        .ship(order_id, vec![], track("usps", "USPS", "9400"), false)
        .await
        .unwrap();
    let report = sync(&fx.ch).await;
    assert_eq!(
        report.count(operations::Counter::ShipmentsRefused),
        1,
        "{report:?}"
    );
    let record = fx.record(&po).await;
    assert_eq!(record.summary(), OrderSummary::Error);
    assert!(
        record
            .status_detail()
            .unwrap()
            .contains("Walmart refused shipment")
    );
    assert!(matches!(record.problems()[0].task, SyncTask::Shipment { .. }));
    let shipments = fx
        .ch
        .store
        .query_records::<ShipmentRecord>(
            &ports::Query::partition(ports::records::order_pk(&fx.ch.settings.id, &po))
                .range(ports::SortRange::Prefix("SHIPMENT#".into())),
        )
        .await
        .unwrap()
        .0;
    let shipment = shipments.first().unwrap();
    assert!(matches!(
        shipment.record.delivery,
        domain::Delivery::Failed { .. }
    ));
    fx.shutdown().await;
}

/// A Walmart port that dies right after the first shipping update is accepted: the crash between
/// "Walmart has it" and "recorded as sent".
struct CrashAfterShipping {
    inner: Arc<dyn Walmart>,
    crashed: AtomicBool,
}

#[async_trait]
impl Walmart for CrashAfterShipping {
    async fn ship(
        &self,
        po: &PurchaseOrderId,
        lines: &[ShipLine],
        d: &Deadline,
    ) -> Result<WalmartOrder, ApiError> {
        let shipped = self.inner.ship(po, lines, d).await?;
        if !self.crashed.swap(true, Ordering::SeqCst) {
            panic!("simulated crash after Walmart accepted the shipment");
        }
        Ok(shipped)
    }
    async fn list_items(&self, q: &ItemsQuery, d: &Deadline) -> Result<ItemsPage, ApiError> {
        self.inner.list_items(q, d).await
    }
    async fn get_item(&self, s: &Sku, d: &Deadline) -> Result<SellerItem, ApiError> {
        self.inner.get_item(s, d).await
    }
    async fn search_catalog_by_gtin(&self, g: &Gtin, d: &Deadline) -> Result<Vec<CatalogItem>, ApiError> {
        self.inner.search_catalog_by_gtin(g, d).await
    }
    async fn submit_feed(
        &self,
        t: FeedType,
        p: &serde_json::Value,
        d: &Deadline,
    ) -> Result<FeedId, ApiError> {
        self.inner.submit_feed(t, p, d).await
    }
    async fn recent_feeds(&self, d: &Deadline) -> Result<Vec<ports::walmart::FeedSummary>, ApiError> {
        self.inner.recent_feeds(d).await
    }
    async fn feed_status(
        &self,
        f: &FeedId,
        o: u32,
        l: u32,
        d: &Deadline,
    ) -> Result<FeedStatusPage, ApiError> {
        self.inner.feed_status(f, o, l, d).await
    }
    async fn get_inventory(&self, s: &Sku, d: &Deadline) -> Result<u32, ApiError> {
        self.inner.get_inventory(s, d).await
    }
    async fn update_inventory(&self, s: &Sku, q: u32, d: &Deadline) -> Result<(), ApiError> {
        self.inner.update_inventory(s, q, d).await
    }
    async fn update_price(&self, s: &Sku, p: Money, d: &Deadline) -> Result<(), ApiError> {
        self.inner.update_price(s, p, d).await
    }
    async fn list_orders(&self, q: &OrdersQuery, d: &Deadline) -> Result<OrdersPage, ApiError> {
        self.inner.list_orders(q, d).await
    }
    async fn next_orders(&self, c: &OrdersCursor, d: &Deadline) -> Result<OrdersPage, ApiError> {
        self.inner.next_orders(c, d).await
    }
    async fn get_order(&self, po: &PurchaseOrderId, d: &Deadline) -> Result<WalmartOrder, ApiError> {
        self.inner.get_order(po, d).await
    }
    async fn acknowledge(&self, po: &PurchaseOrderId, d: &Deadline) -> Result<WalmartOrder, ApiError> {
        self.inner.acknowledge(po, d).await
    }
    async fn cancel_lines(
        &self,
        po: &PurchaseOrderId,
        l: &[CancelLine],
        d: &Deadline,
    ) -> Result<WalmartOrder, ApiError> {
        self.inner.cancel_lines(po, l, d).await
    }
    async fn refund_lines(
        &self,
        po: &PurchaseOrderId,
        l: &[RefundLine],
        d: &Deadline,
    ) -> Result<WalmartOrder, ApiError> {
        self.inner.refund_lines(po, l, d).await
    }
    async fn list_returns(&self, q: &ReturnsQuery, d: &Deadline) -> Result<ReturnsPage, ApiError> {
        self.inner.list_returns(q, d).await
    }
    async fn get_return(
        &self,
        id: &domain::ReturnOrderId,
        d: &Deadline,
    ) -> Result<Option<ports::walmart::WalmartReturn>, ApiError> {
        self.inner.get_return(id, d).await
    }
    async fn next_returns(&self, c: &str, d: &Deadline) -> Result<ReturnsPage, ApiError> {
        self.inner.next_returns(c, d).await
    }
    async fn refund_return(
        &self,
        r: &ReturnOrderId,
        c: &CustomerOrderId,
        l: &[u32],
        d: &Deadline,
    ) -> Result<(), ApiError> {
        self.inner.refund_return(r, c, l, d).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_after_walmart_accepted_a_shipment_does_not_ship_it_twice() {
    let fx = Fixture::start().await;
    let a = fx.skus[0].clone();
    let po = fx.buyer_orders(&[(&a, 3, 1999)]).await;
    fx.import_and_create().await;
    let order_id = fx.commerce_order_id(&fx.commerce_order(&po).await);
    fx.sandboxes
        .commerce_control()
        .ship(
            order_id,
            vec![by_sku(&a, 1.0)],
            track("fedex", "FedEx", "FX-1"),
            false,
        )
        .await
        .unwrap();
    let crashing = Arc::new(Channel {
        walmart: Arc::new(CrashAfterShipping {
            inner: fx.ch.walmart.clone(),
            crashed: AtomicBool::new(false),
        }),
        ..(*fx.ch).clone()
    });
    let run = {
        let ch = crashing.clone();
        tokio::spawn(async move {
            shipment_sync::run_scheduled(&ch, &Deadline::after(Duration::from_secs(30))).await
        })
    };
    assert!(run.await.is_err(), "the run crashed");
    let walmart = fx.sandboxes.walmart_control();
    assert_eq!(walmart.received().await.unwrap().shipments.len(), 1);
    let key = Key::new(
        ports::records::order_pk(&fx.ch.settings.id, &po),
        format!(
            "SHIPMENT#{}",
            fx.sandboxes.commerce_control().shipments().await.unwrap()[0]["entity_id"]
        ),
    );
    let pending = fx.ch.store.load::<ShipmentRecord>(&key).await.unwrap().unwrap();
    assert!(
        !pending.record.delivery.is_sent(),
        "recorded before the call, not after"
    );

    // While the dead run's claim lasts, the shipment is left alone; afterwards it is recognised on
    // Walmart by its tracking number and recorded, not sent again.
    let report = sync(&crashing).await;
    assert_eq!(report.count(operations::Counter::Busy), 1, "{report:?}");
    fx.advance(Duration::from_secs(31));
    let report = sync(&crashing).await;
    assert_eq!(report.count(operations::Counter::ShipmentsSent), 1, "{report:?}");
    assert_eq!(
        walmart.received().await.unwrap().shipments.len(),
        1,
        "not shipped twice"
    );
    let record = fx.record(&po).await;
    assert_eq!(record.line(LineNumber(1)).unwrap().shipped, 1);
    assert_eq!(record.summary(), OrderSummary::PartiallyShipped);
    fx.shutdown().await;
}

/// Walmart applies the shipping update but its answer is lost (a 504): shipment-sync reads the
/// order instead of shipping again, records the shipment as sent, and never sends it twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shipment_whose_answer_is_lost_is_shipped_once() {
    let fx = Fixture::start().await;
    let a = fx.skus[0].clone();
    let po = fx.buyer_orders(&[(&a, 2, 1999)]).await;
    fx.import_and_create().await;
    let order_id = fx.commerce_order_id(&fx.commerce_order(&po).await);
    fx.sandboxes
        .commerce_control()
        .ship(order_id, vec![], track("ups", "UPS", "1ZLOST"), false)
        .await
        .unwrap();
    let walmart = fx.sandboxes.walmart_control();
    walmart
        .set_faults(&walmart_sandbox::FaultPlan {
            lose_next: 1,
            ..walmart_sandbox::FaultPlan::default()
        })
        .await
        .unwrap();
    let report = sync(&fx.ch).await;
    assert_eq!(report.count(operations::Counter::ShipmentsSent), 1, "{report:?}");
    assert_eq!(
        report.count(operations::Counter::ShipmentsRefused),
        0,
        "{report:?}"
    );
    fx.advance(Duration::from_secs(60));
    let again = sync(&fx.ch).await;
    assert_eq!(again.count(operations::Counter::ShipmentsSent), 0, "{again:?}");
    let received = walmart.received().await.unwrap();
    assert_eq!(received.shipments.len(), 1, "one shipment per Commerce shipment");
    assert_eq!(received.shipments[0].quantity, 2);
    let record = fx.record(&po).await;
    assert_eq!(record.summary(), OrderSummary::Shipped);
    assert!(record.problems().is_empty(), "{:?}", record.problems());
    fx.shutdown().await;
}

/// Lines the customer asked to cancel ship anyway once the merchant ships them in Commerce: with
/// `intentToCancelOverride`, whether cancellation-sync recorded the request first or the request
/// arrived after the record last heard from Walmart (the refusal is checked against the order).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_line_the_customer_asked_to_cancel_ships_anyway_with_the_override() {
    let fx = Fixture::start().await;
    let (a, b) = (fx.skus[0].clone(), fx.skus[1].clone());
    let known = fx.buyer_orders(&[(&a, 1, 1999), (&b, 1, 1999)]).await;
    let late = fx.buyer_orders(&[(&a, 1, 1999)]).await;
    fx.import_and_create().await;
    let walmart = fx.sandboxes.walmart_control();
    walmart
        .request_cancellation(
            known.as_str(),
            &walmart_sandbox::CancellationRequest { lines: vec![1] },
        )
        .await
        .unwrap();
    fx.advance(Duration::from_secs(30));
    operations::cancellation_sync::run_scheduled(&fx.ch, &Fixture::deadline())
        .await
        .unwrap();
    assert_eq!(fx.record(&known).await.cancel_requested(), &[LineNumber(1)]);
    walmart
        .request_cancellation(late.as_str(), &walmart_sandbox::CancellationRequest::default())
        .await
        .unwrap();
    for (po, number) in [(&known, "1ZKNOWN"), (&late, "1ZLATE")] {
        let order_id = fx.commerce_order_id(&fx.commerce_order(po).await);
        fx.sandboxes
            .commerce_control()
            .ship(order_id, vec![], track("ups", "UPS", number), false)
            .await
            .unwrap();
    }
    fx.advance(Duration::from_secs(10));
    let report = sync(&fx.ch).await;
    assert_eq!(report.count(operations::Counter::ShipmentsSent), 2, "{report:?}");
    assert_eq!(
        report.count(operations::Counter::ShipmentsRefused),
        0,
        "{report:?}"
    );
    let received = walmart.received().await.unwrap();
    assert_eq!(received.shipments.len(), 3, "every line shipped once");
    for po in [&known, &late] {
        assert_eq!(fx.record(po).await.summary(), OrderSummary::Shipped);
    }
    fx.shutdown().await;
}

/// Issue 12, fact 4: Magento's `TrackRepository::save` adds a track without moving the shipment's
/// `updated_at`, so a shipment found without tracking is never found again by the cursor (the
/// usual 3PL/ERP flow: ship first, tracking later). Waiting shipments are read again by id on a
/// back-off; one that waits three days makes the order an Error, which its late track clears.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tracking_added_after_the_shipment_reaches_walmart() {
    let fx = Fixture::start().await;
    let (a, b) = (fx.skus[0].clone(), fx.skus[1].clone());
    let soon = fx.buyer_orders(&[(&a, 1, 1999)]).await;
    let late = fx.buyer_orders(&[(&b, 1, 1999)]).await;
    fx.import_and_create().await;
    let commerce = fx.sandboxes.commerce_control();
    let walmart = fx.sandboxes.walmart_control();
    let mut shipment_ids = Vec::new();
    for po in [&soon, &late] {
        let order_id = fx.commerce_order_id(&fx.commerce_order(po).await);
        let shipment = commerce.ship_untracked(order_id, vec![], false).await.unwrap();
        shipment_ids.push(shipment["entity_id"].as_u64().unwrap());
    }
    let report = sync(&fx.ch).await;
    assert_eq!(
        report.count(operations::Counter::AwaitingTracking),
        2,
        "{report:?}"
    );
    // Well past the cursor's overlap: the cursor alone would never read these shipments again.
    fx.advance(Duration::from_secs(3600));
    let report = sync(&fx.ch).await;
    assert_eq!(
        report.count(operations::Counter::AwaitingTrackingDue),
        2,
        "{report:?}"
    );
    assert!(walmart.received().await.unwrap().shipments.is_empty());

    let before = commerce.shipments().await.unwrap();
    commerce
        .add_track(shipment_ids[0], &track("ups", "UPS", "1Z-LATE"))
        .await
        .unwrap();
    let after = commerce.shipments().await.unwrap();
    assert_eq!(
        before[0]["updated_at"], after[0]["updated_at"],
        "a track added later leaves the shipment's updated_at alone, as in Magento"
    );
    fx.advance(Duration::from_secs(3600));
    let report = sync(&fx.ch).await;
    assert_eq!(
        report.count(operations::Counter::TrackingAddedLater),
        1,
        "{report:?}"
    );
    let shipped = walmart.received().await.unwrap().shipments;
    assert_eq!(shipped.len(), 1);
    assert_eq!(shipped[0].tracking_number, "1Z-LATE");
    assert_eq!(fx.record(&soon).await.summary(), OrderSummary::Shipped);

    // The other one waits on: after three days the order shows Error with the reason.
    for _ in 0..14 {
        fx.advance(Duration::from_secs(6 * 3600));
        sync(&fx.ch).await;
    }
    let record = fx.record(&late).await;
    assert_eq!(record.summary(), OrderSummary::Error);
    assert!(
        record.problems()[0]
            .reason
            .contains("no tracking number for 3 days"),
        "{:?}",
        record.problems()
    );
    commerce
        .add_track(shipment_ids[1], &track("fedex", "FedEx", "FX-LATER"))
        .await
        .unwrap();
    fx.advance(Duration::from_secs(6 * 3600));
    let report = sync(&fx.ch).await;
    assert_eq!(
        report.count(operations::Counter::TrackingAddedLater),
        1,
        "{report:?}"
    );
    assert_eq!(fx.record(&late).await.summary(), OrderSummary::Shipped);
    assert_eq!(walmart.received().await.unwrap().shipments.len(), 2);
    fx.advance(Duration::from_secs(6 * 3600));
    let report = sync(&fx.ch).await;
    assert_eq!(
        report.count(operations::Counter::AwaitingTrackingDue),
        0,
        "nothing waits any more"
    );
    fx.shutdown().await;
}

/// Issue 12, fact 9: an invoice has no idempotency key in Magento. With the invoice's answer lost
/// after Magento applied it (504), the client does not send it again and shipment-sync reads the
/// order's invoiced quantities: the shipped unit is invoiced once, the unshipped one stays open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invoice_whose_answer_is_lost_is_made_once() {
    let fx = Fixture::start().await;
    let a = fx.skus[0].clone();
    let po = fx.buyer_orders(&[(&a, 2, 1999)]).await;
    fx.import_and_create().await;
    let order_id = fx.commerce_order_id(&fx.commerce_order(&po).await);
    let commerce = fx.sandboxes.commerce_control();
    commerce
        .ship(
            order_id,
            vec![by_sku(&a, 1.0)],
            track("ups", "UPS", "1ZINV"),
            false,
        )
        .await
        .unwrap();
    commerce
        .set_faults(&walmart_sandbox::FaultPlan {
            lose_next: 1,
            ..walmart_sandbox::FaultPlan::default()
        })
        .await
        .unwrap();
    let report = sync(&fx.ch).await;
    assert_eq!(report.count(operations::Counter::ShipmentsSent), 1, "{report:?}");
    fx.advance(Duration::from_secs(60));
    sync(&fx.ch).await;
    let order = fx.commerce_order(&po).await;
    assert_eq!(
        order["items"][0]["qty_invoiced"], 1.0,
        "one shipped unit, invoiced once"
    );
    let invoices = commerce
        .exchanges()
        .await
        .unwrap()
        .iter()
        .filter(|x| x.method == "POST" && x.path.ends_with("/invoice"))
        .count();
    assert_eq!(invoices, 1, "sent once");
    let record = fx.record(&po).await;
    assert!(record.problems().is_empty(), "{:?}", record.problems());
    let shipment: ShipmentRecord = fx
        .ch
        .store
        .load::<ShipmentRecord>(&Key::new(
            ports::records::order_pk(&fx.ch.settings.id, &po),
            format!("SHIPMENT#{}", commerce.shipments().await.unwrap()[0]["entity_id"]),
        ))
        .await
        .unwrap()
        .unwrap()
        .record;
    assert!(shipment.invoiced);
    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shipped_order_saved_with_its_shipment_keeps_its_retention_date() {
    // The order and its shipment are saved in one transaction; the order's expiry (kept a while
    // after it settles) must reach the table there too, not only through `Records::save`.
    let fx = Fixture::start().await;
    let a = fx.skus[0].clone();
    let po = fx.buyer_orders(&[(&a, 1, 1999)]).await;
    fx.import_and_create().await;
    let order = fx.commerce_order(&po).await;
    fx.sandboxes
        .commerce_control()
        .ship(
            fx.commerce_order_id(&order),
            vec![by_sku(&a, 1.0)],
            track("ups", "United Parcel Service", "1Z0009"),
            false,
        )
        .await
        .unwrap();
    fx.advance(Duration::from_secs(30));
    let report = sync(&fx.ch).await;
    assert_eq!(report.count(operations::Counter::ShipmentsSent), 1, "{report:?}");
    let record = fx.record(&po).await;
    assert_eq!(record.summary(), OrderSummary::Shipped);
    let stored = fx
        .ch
        .store
        .get(&ports::records::order_key(&fx.ch.settings.id, &po))
        .await
        .unwrap()
        .unwrap();
    assert!(record.expires_at().is_some(), "a shipped order may expire");
    assert_eq!(stored.item.expires_at, record.expires_at());
    fx.shutdown().await;
}
