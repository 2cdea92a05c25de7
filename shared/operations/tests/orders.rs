//! order-import and order-create over both sandboxes (real HTTP on loopback), the embedded store and
//! queues, and one manual clock.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod orders_fixture;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use domain::{
    AckPolicy, CommerceOrderId, CreditMemoId, CustomerMapping, OrderEvent, OrderSummary, PurchaseOrder,
    PurchaseOrderId, Sku, Timestamp,
};
use operations::Channel;
use operations::dashboard::{self, DateRange, OrderRow};
use operations::order_create::{self, CreateOrder, CreateOutcome};
use operations::order_import::{ORDERS_FAILED, ORDERS_PENDING_CREATION};
use operations::registry::Message;
use orders_fixture::{Fixture, settings};
use ports::commerce::model::{
    CreditMemo, ItemQuantity, Order, Product, Rma, Shipment, SourceItem, Stock, StockItem,
};
use ports::commerce::{
    Commerce, OrderFilter, OrderLookup, OrderPlacement, PlacedOrder, ProductQuery, RefundArguments,
    ReturnRecorded, ReturnRequest,
};
use ports::{ApiError, Deadline, PageRequest, QueueName, SearchPage};
use walmart_sandbox::{BuyerCancellation, LineQuantitySpec, ShipToSpec};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_walmart_order_becomes_one_commerce_order_acknowledged_after_creation() {
    let fx = Fixture::start().await;
    let (a, b) = (fx.skus[0].clone(), fx.skus[1].clone());
    // Line 2's Walmart price differs from Commerce's 19.99.
    let po = fx.buyer_orders(&[(&a, 2, 1999), (&b, 1, 2499)]).await;

    let report = fx.import().await;
    assert_eq!(report.count(operations::Counter::OrdersImported), 1, "{report:?}");
    assert_eq!(report.count(operations::Counter::OrdersQueued), 1);
    let recorded = fx.record(&po).await;
    assert_eq!(recorded.summary(), OrderSummary::Pending);
    assert!(fx.commerce_orders(&po).await.is_empty());
    let received = fx.sandboxes.walmart_control().received().await.unwrap();
    assert!(
        received.acknowledgements.is_empty(),
        "not acknowledged before the Commerce order exists"
    );

    let (handled, failed) = fx.drain_creations().await;
    assert_eq!((handled, failed), (1, 0));
    let order = fx.commerce_order(&po).await;
    let items = order["items"].as_array().unwrap();
    let qty = |sku: &str| {
        items
            .iter()
            .find(|i| i["sku"] == sku)
            .map(|i| i["qty_ordered"].as_f64().unwrap())
    };
    assert_eq!((qty(&a), qty(&b)), (Some(2.0), Some(1.0)));
    let address = &order["extension_attributes"]["shipping_assignments"][0]["shipping"]["address"];
    assert_eq!(address["city"], "Bentonville");
    assert_eq!(address["postcode"], "72716");
    assert_eq!(address["region_code"], "AR");
    assert_eq!(order["payment"]["method"], "purchaseorder");
    assert_eq!(
        order["extension_attributes"]["shipping_assignments"][0]["shipping"]["method"],
        "flatrate_flatrate"
    );
    assert_eq!(fx.salable(&a).await, 8.0, "stock reserved by the placement");
    assert_eq!(fx.salable(&b).await, 9.0);

    let record = fx.record(&po).await;
    let link = record.commerce_link().expect("linked");
    assert_eq!(link.order_id, CommerceOrderId(fx.commerce_order_id(&order)));
    assert_eq!(
        link.increment_id.as_str(),
        order["increment_id"].as_str().unwrap()
    );
    assert!(record.lines().iter().all(|l| l.order_item_id.is_some()));
    let line2 = record.line(domain::LineNumber(2)).unwrap();
    assert_eq!(line2.commerce_unit_price, Some(domain::Money::from_cents(1999)));
    assert_eq!(
        record.order.line(domain::LineNumber(2)).unwrap().unit_price,
        domain::Money::from_cents(2499),
        "Walmart's price beside Commerce's"
    );
    assert!(
        record.order.lines.iter().all(|l| l.tax.cents() > 0),
        "Walmart's tax kept"
    );
    let differences: Vec<_> = record
        .history
        .iter()
        .filter(|h| matches!(h.event, OrderEvent::PriceDifference { .. }))
        .map(|h| h.line)
        .collect();
    assert_eq!(differences, vec![Some(domain::LineNumber(2))]);
    assert!(record.acknowledged_at().is_some());
    assert_eq!(record.summary(), OrderSummary::Open);
    let received = fx.sandboxes.walmart_control().received().await.unwrap();
    assert_eq!(received.acknowledgements.len(), 1);
    // Urgent inventory for what was reserved.
    let urgent = fx.peek(QueueName::InventorySync).await;
    assert_eq!(urgent.len(), 1);
    let skus: serde_json::Value = serde_json::from_str(&urgent[0]).unwrap();
    assert_eq!(skus["skus"], serde_json::json!([a.clone(), b.clone()]));

    // Importing again (overlap, released list) and redelivering change nothing.
    let again = fx.import().await;
    assert_eq!(again.count(operations::Counter::OrdersImported), 0);
    fx.ch
        .queues
        .send(
            QueueName::OrderCreate,
            CreateOrder::new(&fx.ch, po.clone()).message().unwrap(),
        )
        .await
        .unwrap();
    fx.drain_creations().await;
    assert_eq!(fx.commerce_orders(&po).await.len(), 1);
    let row = OrderRow::of(&fx.record(&po).await);
    assert_eq!(row.status_label, "Open");
    assert_eq!(row.items, 3);
    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_mapping_and_acknowledgement_on_import_are_configurable() {
    let mut s = settings();
    s.orders.acknowledge = AckPolicy::OnImport;
    s.orders.customer = CustomerMapping::Customer { customer_id: 1 };
    s.orders.shipping_methods.insert(
        domain::MethodCode::new("Standard").unwrap(),
        "freeshipping_freeshipping".into(),
    );
    let fx = Fixture::start_with(
        s,
        operations::testkit::CommerceSandboxSettings::default()
            .with_purchase_order()
            .with_free_shipping(),
    )
    .await;
    let sku = fx.skus[0].clone();
    let po = fx.buyer_orders(&[(&sku, 1, 1999)]).await;
    fx.import().await;
    let received = fx.sandboxes.walmart_control().received().await.unwrap();
    assert_eq!(received.acknowledgements.len(), 1, "acknowledged at import");
    assert!(fx.record(&po).await.acknowledged_at().is_some());
    fx.drain_creations().await;
    let order = fx.commerce_order(&po).await;
    assert_eq!(order["customer_id"], 1);
    assert_eq!(
        order["extension_attributes"]["shipping_assignments"][0]["shipping"]["method"],
        "freeshipping_freeshipping"
    );
    assert_eq!(
        fx.sandboxes
            .walmart_control()
            .received()
            .await
            .unwrap()
            .acknowledgements
            .len(),
        1,
        "not acknowledged twice"
    );
    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_commerce_refuses_fail_clearly_alone_are_retried_boundedly_and_can_be_redriven() {
    let mut s = settings();
    s.orders.max_create_attempts = 2;
    let fx = Fixture::start_with(
        s,
        operations::testkit::CommerceSandboxSettings::default().with_purchase_order(),
    )
    .await;
    let control = fx.sandboxes.commerce_control();
    let (good, disabled, scarce) = (fx.skus[0].clone(), fx.skus[1].clone(), fx.skus[2].clone());
    control
        .seed_products(&[commerce_sandbox::ProductSeed {
            sku: disabled.clone(),
            status: Some(2),
            ..Default::default()
        }])
        .await
        .unwrap();
    let unknown_po = fx.buyer_orders(&[("NO-SUCH-SKU", 1, 500)]).await;
    let disabled_po = fx.buyer_orders(&[(&disabled, 1, 1999)]).await;
    let scarce_po = fx.buyer_orders(&[(&scarce, 11, 1999)]).await;
    let address_po = fx
        .buyer_orders_to(
            &[(&good, 1, 1999)],
            ShipToSpec {
                state: "ZZ".into(),
                ..ShipToSpec::default()
            },
        )
        .await;
    let good_po = fx.buyer_orders(&[(&good, 1, 1999)]).await;

    fx.import().await;
    let (handled, failed) = fx.drain_creations().await;
    assert_eq!(
        (handled, failed),
        (5, 0),
        "refusals are recorded, not retried by SQS"
    );
    assert_eq!(
        fx.commerce_orders(&good_po).await.len(),
        1,
        "one bad order blocks nothing"
    );
    for (po, words) in [
        (&unknown_po, "doesn't exist"),
        (&disabled_po, "not available"),
        (&scarce_po, "qty is not available"),
        (&address_po, "state"),
    ] {
        let record = fx.record(po).await;
        assert_eq!(record.summary(), OrderSummary::Error, "{po}");
        let detail = record.status_detail().unwrap();
        assert!(detail.contains(words), "{po}: {detail}");
        assert!(fx.commerce_orders(po).await.is_empty());
    }
    let errors = dashboard::orders(
        fx.ch.store.as_ref(),
        &fx.ch.settings.id,
        OrderSummary::Error,
        DateRange::default(),
        50,
        None,
    )
    .await
    .unwrap();
    assert_eq!(errors.rows.len(), 4);

    // Retried after a delay, then left for a re-drive at the attempt limit.
    let report = fx.import().await;
    assert_eq!(
        report.count(operations::Counter::OrdersRetried),
        0,
        "retry delay not over"
    );
    fx.advance(Duration::from_secs(5 * 60));
    let report = fx.import().await;
    assert_eq!(report.count(operations::Counter::OrdersRetried), 4);
    fx.drain_creations().await;
    fx.advance(Duration::from_secs(60 * 60));
    let report = fx.import().await;
    assert_eq!(report.count(operations::Counter::OrdersRetried), 0);
    assert_eq!(report.count(ORDERS_FAILED), 4);
    assert_eq!(
        report.count(ORDERS_PENDING_CREATION),
        0,
        "failed orders wait for a re-drive"
    );
    assert!(matches!(
        fx.record(&unknown_po).await.creation(),
        domain::CreationState::Failed { attempts: 2, .. }
    ));

    // The merchant adds the product; a re-drive creates the order.
    control
        .seed_products(&[commerce_sandbox::ProductSeed {
            sku: "NO-SUCH-SKU".into(),
            price: Some(5.0),
            stock: [("default".to_owned(), 3.0)].into(),
            ..Default::default()
        }])
        .await
        .unwrap();
    order_create::redrive(&fx.ch, &unknown_po).await.unwrap();
    fx.drain_creations().await;
    assert_eq!(fx.commerce_orders(&unknown_po).await.len(), 1);
    let record = fx.record(&unknown_po).await;
    assert_eq!(record.summary(), OrderSummary::Open);
    assert!(record.history.iter().any(|h| h.event == OrderEvent::Redriven));
    assert!(
        order_create::redrive(&fx.ch, &good_po).await.is_err(),
        "only failed orders"
    );
    fx.shutdown().await;
}

/// A Commerce port that dies (panics) right after the first order placement returns (unless
/// `crashed` starts true): the crash between "Commerce order placed" and "link saved". With a
/// `stall`, the first look-up answers only when the test says so: a holder paused between its
/// look-up and its placement.
struct CrashAfterPlacing {
    inner: Arc<dyn Commerce>,
    crashed: AtomicBool,
    stall: Option<Arc<Stall>>,
}

#[derive(Default)]
struct Stall {
    reached: tokio::sync::Notify,
    resume: tokio::sync::Notify,
    used: AtomicBool,
}

#[async_trait]
impl Commerce for CrashAfterPlacing {
    async fn create_order_for(
        &self,
        po: &PurchaseOrder,
        placement: &OrderPlacement,
        deadline: &Deadline,
    ) -> Result<PlacedOrder, ApiError> {
        let placed = self.inner.create_order_for(po, placement, deadline).await?;
        if !self.crashed.swap(true, Ordering::SeqCst) {
            panic!("simulated crash after the Commerce order was placed");
        }
        Ok(placed)
    }
    async fn store_setup(
        &self,
        needs_msi: bool,
        d: &Deadline,
    ) -> Result<ports::commerce::StoreSetup, ApiError> {
        self.inner.store_setup(needs_msi, d).await
    }
    async fn products_page(
        &self,
        q: &ProductQuery,
        p: PageRequest,
        d: &Deadline,
    ) -> Result<SearchPage<Product>, ApiError> {
        self.inner.products_page(q, p, d).await
    }
    async fn products_by_skus(&self, s: &[Sku], d: &Deadline) -> Result<Vec<Product>, ApiError> {
        self.inner.products_by_skus(s, d).await
    }
    async fn configurable_children(&self, s: &Sku, d: &Deadline) -> Result<Vec<Product>, ApiError> {
        self.inner.configurable_children(s, d).await
    }
    async fn salable_quantity(&self, s: &Sku, id: u32, d: &Deadline) -> Result<f64, ApiError> {
        self.inner.salable_quantity(s, id, d).await
    }
    async fn source_items_page(
        &self,
        s: Option<&[Sku]>,
        p: PageRequest,
        d: &Deadline,
    ) -> Result<SearchPage<SourceItem>, ApiError> {
        self.inner.source_items_page(s, p, d).await
    }
    async fn stock_for_website(&self, w: &str, d: &Deadline) -> Result<Stock, ApiError> {
        self.inner.stock_for_website(w, d).await
    }
    async fn legacy_stock_item(&self, s: &Sku, d: &Deadline) -> Result<StockItem, ApiError> {
        self.inner.legacy_stock_item(s, d).await
    }
    async fn orders_for_purchase_order(
        &self,
        po: &PurchaseOrderId,
        l: &OrderLookup,
        d: &Deadline,
    ) -> Result<Vec<Order>, ApiError> {
        let found = self.inner.orders_for_purchase_order(po, l, d).await?;
        if let Some(stall) = &self.stall
            && !stall.used.swap(true, Ordering::SeqCst)
        {
            stall.reached.notify_one();
            stall.resume.notified().await;
        }
        Ok(found)
    }
    fn write_settle_time(&self) -> Duration {
        self.inner.write_settle_time()
    }
    async fn orders_page(
        &self,
        since: Timestamp,
        f: &OrderFilter,
        p: PageRequest,
        d: &Deadline,
    ) -> Result<SearchPage<Order>, ApiError> {
        self.inner.orders_page(since, f, p, d).await
    }
    async fn get_order(&self, id: CommerceOrderId, d: &Deadline) -> Result<Order, ApiError> {
        self.inner.get_order(id, d).await
    }
    async fn add_order_comment(&self, id: CommerceOrderId, c: &str, d: &Deadline) -> Result<(), ApiError> {
        self.inner.add_order_comment(id, c, d).await
    }
    async fn invoice_order(
        &self,
        id: CommerceOrderId,
        i: &[ItemQuantity],
        d: &Deadline,
    ) -> Result<u64, ApiError> {
        self.inner.invoice_order(id, i, d).await
    }
    async fn cancel_order(&self, id: CommerceOrderId, d: &Deadline) -> Result<bool, ApiError> {
        self.inner.cancel_order(id, d).await
    }
    async fn shipments_page(
        &self,
        since: Timestamp,
        p: PageRequest,
        d: &Deadline,
    ) -> Result<SearchPage<Shipment>, ApiError> {
        self.inner.shipments_page(since, p, d).await
    }
    async fn shipments_by_ids(&self, ids: &[u64], d: &Deadline) -> Result<Vec<Shipment>, ApiError> {
        self.inner.shipments_by_ids(ids, d).await
    }
    fn checks_passed(&self, check: &str) -> u64 {
        self.inner.checks_passed(check)
    }
    async fn returns_supported(&self, d: &Deadline) -> Result<bool, ApiError> {
        self.inner.returns_supported(d).await
    }
    async fn request_return(&self, r: &ReturnRequest, d: &Deadline) -> Result<ReturnRecorded, ApiError> {
        self.inner.request_return(r, d).await
    }
    async fn returns_for_order(&self, id: CommerceOrderId, d: &Deadline) -> Result<Vec<Rma>, ApiError> {
        self.inner.returns_for_order(id, d).await
    }
    async fn credit_memos_page(
        &self,
        since: Timestamp,
        p: PageRequest,
        d: &Deadline,
    ) -> Result<SearchPage<CreditMemo>, ApiError> {
        self.inner.credit_memos_page(since, p, d).await
    }
    async fn refund_order_offline(
        &self,
        id: CommerceOrderId,
        i: &[ItemQuantity],
        a: RefundArguments,
        c: Option<&str>,
        d: &Deadline,
    ) -> Result<CreditMemoId, ApiError> {
        self.inner.refund_order_offline(id, i, a, c, d).await
    }
}

/// Delivers the same message `n` times at once, each in its own task as Lambda's SQS glue runs
/// records; returns each delivery's outcome (a panic counts as a failure).
async fn deliver_concurrently(ch: &Arc<Channel>, po: &PurchaseOrderId, n: usize) -> Vec<Result<(), String>> {
    let body = serde_json::to_string(&CreateOrder::new(ch, po.clone())).unwrap();
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let ch = ch.clone();
            let message = Message {
                message_id: format!("m{i}"),
                body: body.clone(),
                receive_count: 1,
            };
            tokio::spawn(async move {
                order_create::handle_message(
                    &ch,
                    &message.decode()?,
                    &Deadline::after(Duration::from_secs(30)),
                )
                .await
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(match task.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(join) => Err(format!("panicked: {join}")),
        });
    }
    outcomes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn five_concurrent_deliveries_with_a_crash_after_placing_create_exactly_one_order() {
    let fx = Fixture::start().await;
    let sku = fx.skus[0].clone();
    let po = fx.buyer_orders(&[(&sku, 2, 1999)]).await;
    fx.import().await;
    let _ = fx.peek(QueueName::OrderCreate).await;
    let crashing = Arc::new(Channel {
        commerce: Arc::new(CrashAfterPlacing {
            inner: fx.ch.commerce.clone(),
            crashed: AtomicBool::new(false),
            stall: None,
        }),
        ..(*fx.ch).clone()
    });

    let first = deliver_concurrently(&crashing, &po, 5).await;
    let crashed = first
        .iter()
        .filter(|o| matches!(o, Err(e) if e.contains("panicked")))
        .count();
    assert_eq!(crashed, 1, "{first:?}");
    assert_eq!(
        first.iter().filter(|o| o.is_ok()).count(),
        4,
        "the others defer themselves (a delayed copy, no receive used) while the crashed holder's claim lasts: {first:?}"
    );
    assert_eq!(fx.commerce_orders(&po).await.len(), 1, "placed once");
    assert!(
        fx.record(&po).await.commerce_link().is_none(),
        "the crash came before the link"
    );

    // SQS redelivers while the dead holder's claim still holds (its placement could still be
    // landing): nobody places another order.
    let second = deliver_concurrently(&crashing, &po, 5).await;
    assert!(second.iter().all(Result::is_ok), "{second:?}");
    assert_eq!(fx.commerce_orders(&po).await.len(), 1);

    // The claim (the holder's deadline plus Commerce's settle time) runs out; the next deliveries
    // find the order and link it.
    fx.advance(Duration::from_secs(61));
    let third = deliver_concurrently(&crashing, &po, 5).await;
    assert!(third.iter().all(Result::is_ok), "{third:?}");
    // The deferred copies come back and find the work done.
    let (handled, failed) = fx.drain_creations().await;
    assert_eq!(failed, 0);
    assert!(handled >= 8, "{handled}");
    let fourth = deliver_concurrently(&crashing, &po, 5).await;
    assert!(fourth.iter().all(Result::is_ok), "{fourth:?}");

    let orders = fx.commerce_orders(&po).await;
    assert_eq!(orders.len(), 1, "exactly one Commerce order");
    let record = fx.record(&po).await;
    assert_eq!(
        record.commerce_link().unwrap().order_id,
        CommerceOrderId(fx.commerce_order_id(&orders[0]))
    );
    assert!(
        record
            .line(domain::LineNumber(1))
            .unwrap()
            .order_item_id
            .is_some()
    );
    assert!(record.acknowledged_at().is_some());
    assert_eq!(fx.salable(&sku).await, 8.0, "reserved once");
    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stale_holder_waking_after_its_lease_neither_places_nor_touches_the_new_claim() {
    let fx = Fixture::start().await;
    let sku = fx.skus[0].clone();
    let po = fx.buyer_orders(&[(&sku, 2, 1999)]).await;
    fx.import().await;
    let _ = fx.peek(QueueName::OrderCreate).await;
    let stall = Arc::new(Stall::default());
    let stalling = Arc::new(Channel {
        commerce: Arc::new(CrashAfterPlacing {
            inner: fx.ch.commerce.clone(),
            crashed: AtomicBool::new(true),
            stall: Some(stall.clone()),
        }),
        ..(*fx.ch).clone()
    });

    // The holder claims (leased for its 30 s), finds no Commerce order, and stalls before placing.
    let stale = tokio::spawn({
        let (ch, po) = (stalling.clone(), po.clone());
        async move { order_create::create_order(&ch, &po, &Deadline::after(Duration::from_secs(30))).await }
    });
    stall.reached.notified().await;
    // Its lease passes; another invocation takes the expired claim and creates the order.
    fx.advance(Duration::from_secs(31));
    let fresh = order_create::create_order(&fx.ch, &po, &Fixture::deadline())
        .await
        .unwrap();
    assert!(
        matches!(fresh, CreateOutcome::Created { recovered: false, .. }),
        "{fresh:?}"
    );

    // The stale holder wakes: its claim is gone, so it neither places nor touches the new record.
    stall.resume.notify_one();
    let woke = stale.await.unwrap().unwrap();
    assert!(
        matches!(woke, CreateOutcome::InProgressElsewhere { .. }),
        "{woke:?}"
    );
    let orders = fx.commerce_orders(&po).await;
    assert_eq!(orders.len(), 1, "exactly one Commerce order");
    assert_eq!(
        fx.record(&po).await.commerce_link().unwrap().order_id,
        CommerceOrderId(fx.commerce_order_id(&orders[0]))
    );
    let now = fx.ch.clock.now();
    let key = ports::IdempotencyKey::new("order-create", &fx.ch.settings.id, po.as_str());
    let terms = ports::ClaimTerms {
        now,
        in_progress_until: now.plus(Duration::from_secs(30)),
        expires_at: now.plus(Duration::from_secs(3600)),
    };
    assert!(
        matches!(
            fx.ch.store.claim(&key, terms).await.unwrap(),
            ports::Claim::Completed(_)
        ),
        "the new holder's completed claim survives the stale holder"
    );
    assert_eq!(fx.salable(&sku).await, 8.0, "reserved once");
    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_commerce_order_that_slipped_through_is_cancelled_and_noted() {
    let fx = Fixture::start().await;
    let sku = fx.skus[0].clone();
    let po = fx.buyer_orders(&[(&sku, 2, 1999)]).await;
    fx.import().await;
    let _ = fx.peek(QueueName::OrderCreate).await;
    // Two placements of the same purchase order landed (say, before claims were fenced).
    let record = fx.record(&po).await;
    let placement = OrderPlacement::from_settings(&fx.ch.settings.orders, &record.order.method_code);
    for _ in 0..2 {
        fx.ch
            .commerce
            .create_order_for(&record.order_to_place(), &placement, &Fixture::deadline())
            .await
            .unwrap();
    }
    assert_eq!(fx.salable(&sku).await, 6.0, "both hold stock");

    let outcome = order_create::create_order(&fx.ch, &po, &Fixture::deadline())
        .await
        .unwrap();
    assert!(
        matches!(outcome, CreateOutcome::Created { recovered: true, .. }),
        "{outcome:?}"
    );
    let mut orders = fx.commerce_orders(&po).await;
    orders.sort_by_key(|o| fx.commerce_order_id(o));
    let (kept, duplicate) = (&orders[0], &orders[1]);
    let record = fx.record(&po).await;
    assert_eq!(
        record.commerce_link().unwrap().order_id,
        CommerceOrderId(fx.commerce_order_id(kept)),
        "the oldest is kept"
    );
    assert_eq!(duplicate["state"], "canceled", "{duplicate}");
    let kept_increment = kept["increment_id"].as_str().unwrap();
    assert!(
        duplicate["status_histories"].as_array().unwrap().iter().any(|h| {
            let comment = h["comment"].as_str().unwrap_or_default();
            comment.contains(po.as_str()) && comment.contains(kept_increment)
        }),
        "a comment names the purchase order and the kept order: {duplicate}"
    );
    assert!(record.history.iter().any(|h| matches!(
        &h.event,
        OrderEvent::DuplicateCancelled { increment_id }
            if increment_id.as_str() == duplicate["increment_id"].as_str().unwrap()
    )));
    assert_eq!(fx.salable(&sku).await, 8.0, "the duplicate holds no stock");
    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_placement_answer_still_yields_one_order() {
    let fx = Fixture::start().await;
    let sku = fx.skus[1].clone();
    let po = fx.buyer_orders(&[(&sku, 1, 1999)]).await;
    fx.import().await;
    fx.sandboxes
        .commerce_control()
        .lose_next_placement_answers(1)
        .await
        .unwrap();
    let outcome = order_create::create_order(&fx.ch, &po, &Fixture::deadline())
        .await
        .unwrap();
    assert!(
        matches!(outcome, CreateOutcome::Created { recovered: true, .. }),
        "{outcome:?}"
    );
    let _ = fx.peek(QueueName::OrderCreate).await;
    assert_eq!(fx.commerce_orders(&po).await.len(), 1);
    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_message_is_requeued_and_stuck_orders_are_counted() {
    let fx = Fixture::start().await;
    let sku = fx.skus[0].clone();
    let po = fx.buyer_orders(&[(&sku, 1, 1999)]).await;
    let report = fx.import().await;
    assert_eq!(report.count(ORDERS_PENDING_CREATION), 0);
    // The message is lost (dead-lettered, dropped).
    assert_eq!(fx.peek(QueueName::OrderCreate).await.len(), 1);
    fx.advance(Duration::from_secs(6 * 60));
    let report = fx.import().await;
    assert_eq!(report.count(ORDERS_PENDING_CREATION), 1, "{report:?}");
    assert_eq!(report.count(operations::Counter::OrdersRequeued), 1);
    fx.drain_creations().await;
    assert_eq!(fx.commerce_orders(&po).await.len(), 1);
    let report = fx.import().await;
    assert_eq!(report.count(ORDERS_PENDING_CREATION), 0);
    assert_eq!(report.count(operations::Counter::OrdersRequeued), 0);
    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn units_walmart_cancels_before_creation_are_not_placed() {
    let fx = Fixture::start().await;
    let (a, b) = (fx.skus[0].clone(), fx.skus[1].clone());
    let partly = fx.buyer_orders(&[(&a, 2, 1999), (&b, 1, 1999)]).await;
    let wholly = fx.buyer_orders(&[(&a, 1, 1999)]).await;
    let walmart = fx.sandboxes.walmart_control();
    for (po, lines) in [(&partly, vec![(1, 1), (2, 1)]), (&wholly, vec![(1, 1)])] {
        walmart
            .cancel_as_buyer(
                po.as_str(),
                &BuyerCancellation {
                    lines: lines
                        .into_iter()
                        .map(|(line, quantity)| LineQuantitySpec { line, quantity })
                        .collect(),
                    reason: "CUSTOMER_CANCEL".into(),
                },
            )
            .await
            .unwrap();
    }
    let report = fx.import().await;
    assert_eq!(
        report.count(operations::Counter::OrdersImported),
        1,
        "the fully cancelled order is no longer released"
    );
    // The fully cancelled order is never released, so never imported: it needs no Commerce order.
    let (_, failed) = fx.drain_creations().await;
    assert_eq!(failed, 0);
    let order = fx.commerce_order(&partly).await;
    let items = order["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["sku"], a.as_str());
    assert_eq!(items[0]["qty_ordered"], 1.0);
    let record = fx.record(&partly).await;
    assert_eq!(record.line(domain::LineNumber(1)).unwrap().cancelled, 1);
    assert_eq!(record.line(domain::LineNumber(2)).unwrap().cancelled, 1);
    assert!(record.cancellations_pending_in_commerce().is_empty());
    assert!(fx.commerce_orders(&wholly).await.is_empty());
    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_lists_orders_by_status_and_date() {
    let fx = Fixture::start().await;
    let sku = fx.skus[0].clone();
    let early = fx.buyer_orders(&[(&sku, 1, 1999)]).await;
    fx.advance(Duration::from_secs(3600));
    let late = fx.buyer_orders(&[(&sku, 1, 1999)]).await;
    let pending = fx.buyer_orders(&[(&sku, 1, 1999)]).await;
    fx.import().await;
    // Create all but the last.
    let bodies = fx.peek(QueueName::OrderCreate).await;
    for body in bodies {
        let request = CreateOrder::parse(&body).unwrap();
        if request.purchase_order_id != pending {
            order_create::create_order(&fx.ch, &request.purchase_order_id, &Fixture::deadline())
                .await
                .unwrap();
        }
    }
    let store = fx.ch.store.as_ref();
    let id = &fx.ch.settings.id;
    let open = dashboard::orders(store, id, OrderSummary::Open, DateRange::default(), 10, None)
        .await
        .unwrap();
    let ids: Vec<_> = open.rows.iter().map(|r| r.order.id.clone()).collect();
    assert_eq!(ids, vec![late.clone(), early.clone()], "newest first");
    let since_late = DateRange {
        from: Some(fx.record(&late).await.order.order_date),
        to: None,
    };
    let recent = dashboard::orders(store, id, OrderSummary::Open, since_late, 10, None)
        .await
        .unwrap();
    assert_eq!(recent.rows.len(), 1);
    let until_early = DateRange {
        from: None,
        to: Some(fx.record(&early).await.order.order_date),
    };
    let old = dashboard::orders(store, id, OrderSummary::Open, until_early, 10, None)
        .await
        .unwrap();
    assert_eq!(old.rows[0].order.id, early);
    let paged = dashboard::orders(store, id, OrderSummary::Open, DateRange::default(), 1, None)
        .await
        .unwrap();
    assert_eq!(paged.rows.len(), 1);
    let next = dashboard::orders(store, id, OrderSummary::Open, DateRange::default(), 1, paged.next)
        .await
        .unwrap();
    assert_eq!(next.rows[0].order.id, early);
    let counts = dashboard::order_counts(store, id, DateRange::default())
        .await
        .unwrap();
    assert_eq!(counts["open"], 2);
    assert_eq!(counts["pending"], 1);
    assert_eq!(OrderRow::of(&fx.record(&pending).await).status_label, "Open");
    fx.shutdown().await;
}

/// Delivers one order-create message through the registry's handler (set-up check, health).
async fn deliver_through_registry(fx: &Fixture, po: &PurchaseOrderId) -> Result<(), operations::OpError> {
    let (_, handler) = operations::registry::handlers(domain::Operation::OrderCreate)
        .queue
        .unwrap();
    let message = Message {
        message_id: format!("health-{po}"),
        body: CreateOrder::new(&fx.ch, po.clone()).message().unwrap().body,
        receive_count: 1,
    };
    handler(fx.ch.clone(), message, Fixture::deadline()).await
}

/// Issue 12 (health clears only on proof): a problem order-create found (the payment method
/// switched off) stays on the dashboard while order-create handles messages that never reach the
/// payment check (an order created earlier, redelivered); it clears when a placement finds the
/// method offered again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_payment_problem_clears_only_when_a_placement_finds_the_method_again() {
    use commerce_sandbox::StoreConfigChange;
    use operations::health::configuration_problem;
    let fx = Fixture::start().await;
    let sku = fx.skus[0].clone();
    let earlier = fx.buyer_orders(&[(&sku, 1, 1999)]).await;
    fx.import_and_create().await;
    let control = fx.sandboxes.commerce_control();
    let switch = |on: bool| StoreConfigChange {
        enable_payment_methods: if on {
            vec!["purchaseorder".into()]
        } else {
            Vec::new()
        },
        disable_payment_methods: if on {
            Vec::new()
        } else {
            vec!["purchaseorder".into()]
        },
        ..StoreConfigChange::default()
    };
    control.change_store_config(&switch(false)).await.unwrap();
    let later = fx.buyer_orders(&[(&sku, 1, 1999)]).await;
    fx.import().await;
    fx.peek(QueueName::OrderCreate).await;
    let problem = |fx: &Fixture| {
        let store = fx.ch.store.clone();
        let channel = fx.ch.settings.id.clone();
        async move { configuration_problem(store.as_ref(), &channel).await.unwrap() }
    };

    let err = deliver_through_registry(&fx, &later).await.unwrap_err();
    assert!(err.configuration_problem().is_some(), "{err}");
    let health = problem(&fx).await.expect("recorded");
    assert_eq!(health.found_by.as_deref(), Some("order-create"));
    assert_eq!(health.check.as_deref(), Some("payment method purchaseorder"));

    // Handled, but the payment method was never asked about: nothing is proven.
    deliver_through_registry(&fx, &earlier).await.unwrap();
    assert!(
        problem(&fx).await.is_some(),
        "an order created earlier proves nothing about the payment method"
    );

    control.change_store_config(&switch(true)).await.unwrap();
    deliver_through_registry(&fx, &later).await.unwrap();
    assert!(problem(&fx).await.is_none(), "the placement proved it fixed");
    assert_eq!(fx.commerce_orders(&later).await.len(), 1);
    fx.shutdown().await;
}

/// A Walmart order with the given tax per line and no shipping charge.
async fn buyer_orders_taxed(fx: &Fixture, lines: &[(&str, u32, i64)], tax_cents: i64) -> PurchaseOrderId {
    let created = fx
        .sandboxes
        .walmart_control()
        .create_order(&walmart_sandbox::NewOrder {
            lines: lines
                .iter()
                .map(|(sku, quantity, cents)| walmart_sandbox::NewOrderLine {
                    sku: (*sku).to_owned(),
                    quantity: *quantity,
                    unit_price: domain::Money::from_cents(*cents),
                    tax: domain::Money::from_cents(tax_cents),
                    shipping: domain::Money::ZERO,
                    product_name: None,
                })
                .collect(),
            ship_to: ShipToSpec::default(),
            method_code: "Standard".into(),
            order_date: None,
            purchase_order_id: None,
        })
        .await
        .unwrap();
    PurchaseOrderId::new(created.purchase_order_id).unwrap()
}

/// Issue 12, fact 10: Magento adds its own shipping (the flat rate, $5 per item by default) and tax
/// to a cart-flow order. Walmart's and Commerce's items, shipping and tax totals are recorded side
/// by side on the order's dashboard record, and a difference is flagged; a store whose shipping
/// and tax settings match Walmart's (here: Free Shipping switched on and used for Walmart orders,
/// no tax on either side) shows none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn walmart_and_commerce_totals_are_recorded_side_by_side_and_differences_flagged() {
    use domain::{Money, OrderTotals};
    let fx = Fixture::start().await;
    let sku = fx.skus[0].clone();
    let po = buyer_orders_taxed(&fx, &[(&sku, 2, 1999)], 320).await;
    fx.import_and_create().await;
    let record = fx.record(&po).await;
    let totals = record.totals().copied().expect("recorded at creation");
    assert_eq!(
        totals.walmart,
        OrderTotals {
            items: Money::from_cents(3998),
            shipping: Money::ZERO,
            tax: Money::from_cents(320),
        }
    );
    assert_eq!(
        totals.commerce,
        OrderTotals {
            items: Money::from_cents(3998),
            shipping: Money::from_cents(1000),
            tax: Money::ZERO,
        },
        "Magento's flat rate: $5 per item"
    );
    let row = OrderRow::of(&record);
    assert_eq!(row.totals, Some(totals));
    assert_eq!(row.totals_differ, vec!["shipping", "tax"]);
    assert_eq!(
        record
            .history
            .iter()
            .filter(|h| matches!(h.event, OrderEvent::TotalsDifference { .. }))
            .count(),
        1
    );
    // Redelivery records nothing twice.
    fx.ch
        .queues
        .send(
            QueueName::OrderCreate,
            CreateOrder::new(&fx.ch, po.clone()).message().unwrap(),
        )
        .await
        .unwrap();
    fx.drain_creations().await;
    let again = fx.record(&po).await;
    assert_eq!(
        again
            .history
            .iter()
            .filter(|h| matches!(h.event, OrderEvent::TotalsDifference { .. }))
            .count(),
        1
    );
    fx.shutdown().await;

    // Settings that agree: Walmart orders placed with free shipping, and no tax on the order.
    let mut agreeing = settings();
    agreeing.orders.default_shipping_method = "freeshipping_freeshipping".into();
    let fx = Fixture::start_with(
        agreeing,
        operations::testkit::CommerceSandboxSettings::default()
            .with_purchase_order()
            .with_free_shipping(),
    )
    .await;
    let sku = fx.skus[0].clone();
    let po = buyer_orders_taxed(&fx, &[(&sku, 2, 1999)], 0).await;
    fx.import_and_create().await;
    let row = OrderRow::of(&fx.record(&po).await);
    assert!(row.totals.is_some());
    assert!(row.totals_differ.is_empty(), "{:?}", row.totals);
    fx.shutdown().await;
}
