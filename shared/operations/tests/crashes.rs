//! Crash at every step: for each operation, its invocation is stopped right after each of its port
//! calls in turn (`operations::testkit::crash`), then run again as SQS or the schedule would, and
//! the sandboxes' own records must show every side effect exactly once (and nothing lost).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod orders_fixture;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use commerce_sandbox::{PriceChange, StockChange, TrackInput};
use domain::{
    ChannelId, ChannelSettings, Listing, ListingStatus, Operation, PurchaseOrderId, ReturnOrderId, Sku,
    Timestamp,
};
use operations::testkit::crash::{
    CrashScenario, crash_at_every_step, deliver_one, fault_at_every_page, redeliver, run_again, tick,
};
use operations::testkit::{Sandboxes, seed_catalog, seed_live_listings};
use operations::{Channel, catalog_import, inventory_sync, price_sync};
use orders_fixture::{Fixture, refund, shipped_order, walmart_return};
use ports::records::listing_key;
use ports::{Api, ApiError, ApiErrorKind, Clock, ManualClock, QueueName, Records};
use serde_json::{Value, json};

/// Rounds of redelivery and schedule ticks after a crash: enough for a redelivered message whose
/// claim is still leased to come back once more.
const ROUNDS: usize = 3;

// ------------------------------------------------------------------ orders

/// An order world: the orders fixture with one purchase order of two lines (2 + 1 units).
struct OrderWorld {
    fx: Fixture,
    po: PurchaseOrderId,
    order_id: Option<u64>,
    return_id: Option<ReturnOrderId>,
}

impl OrderWorld {
    async fn ordered() -> Self {
        let fx = Fixture::start().await;
        let po = fx
            .buyer_orders(&[(&fx.skus[0], 2, 1999), (&fx.skus[1], 1, 1999)])
            .await;
        Self {
            fx,
            po,
            order_id: None,
            return_id: None,
        }
    }

    async fn created() -> Self {
        let mut world = Self::ordered().await;
        world.fx.import_and_create().await;
        world.order_id = Some(
            world
                .fx
                .commerce_order_id(&world.fx.commerce_order(&world.po).await),
        );
        world
    }

    async fn shipped() -> Self {
        let fx = Fixture::start().await;
        let (a, b) = (fx.skus[0].clone(), fx.skus[1].clone());
        let (po, order_id) = shipped_order(&fx, &[(&a, 2, 1999), (&b, 1, 1999)]).await;
        Self {
            fx,
            po,
            order_id: Some(order_id),
            return_id: None,
        }
    }

    async fn run_again(&self, operations: &[Operation]) {
        run_again(&self.fx.ch, &self.fx.clock, operations, ROUNDS).await;
    }

    /// One Commerce order and one acknowledgement for the purchase order, and no dead letter.
    async fn assert_one_order_acknowledged(&self, label: &str) {
        let orders = self.fx.commerce_orders(&self.po).await;
        assert_eq!(orders.len(), 1, "{label}: Commerce orders for {}", self.po);
        let received = self.fx.sandboxes.walmart_control().received().await.unwrap();
        let acks = received
            .acknowledgements
            .iter()
            .filter(|a| a.purchase_order_id == self.po.as_str())
            .count();
        assert_eq!(acks, 1, "{label}: acknowledgements");
        let dead = self
            .fx
            .ch
            .queues
            .dead_letters(QueueName::OrderCreate, 10)
            .await
            .unwrap();
        assert!(dead.is_empty(), "{label}: dead letters {dead:?}");
    }
}

struct OrderImport;

#[async_trait(?Send)]
impl CrashScenario for OrderImport {
    type World = OrderWorld;
    async fn prepare(&self) -> OrderWorld {
        OrderWorld::ordered().await
    }
    fn channel(world: &OrderWorld) -> &Channel {
        &world.fx.ch
    }
    async fn invoke(&self, _: &OrderWorld, channel: Arc<Channel>) {
        let _ = tick(channel, Operation::OrderImport).await;
    }
    async fn recover(&self, world: &OrderWorld) {
        world
            .run_again(&[Operation::OrderImport, Operation::OrderCreate])
            .await;
    }
    async fn check(&self, world: &OrderWorld, label: &str) -> Value {
        world.assert_one_order_acknowledged(label).await;
        json!({"commerce_orders": 1, "acknowledgements": 1})
    }
    async fn finish(&self, world: OrderWorld) {
        world.fx.shutdown().await;
    }
}

struct OrderCreate;

#[async_trait(?Send)]
impl CrashScenario for OrderCreate {
    type World = OrderWorld;
    async fn prepare(&self) -> OrderWorld {
        let world = OrderWorld::ordered().await;
        world.fx.import().await;
        world
    }
    fn channel(world: &OrderWorld) -> &Channel {
        &world.fx.ch
    }
    async fn invoke(&self, world: &OrderWorld, channel: Arc<Channel>) {
        let _ = deliver_one(&world.fx.ch, channel, Operation::OrderCreate).await;
    }
    async fn recover(&self, world: &OrderWorld) {
        world
            .run_again(&[Operation::OrderCreate, Operation::OrderImport])
            .await;
    }
    async fn check(&self, world: &OrderWorld, label: &str) -> Value {
        world.assert_one_order_acknowledged(label).await;
        json!({"commerce_orders": 1, "acknowledgements": 1})
    }
    async fn finish(&self, world: OrderWorld) {
        world.fx.shutdown().await;
    }
}

/// The merchant ships the whole order in Commerce; shipment-sync tells Walmart.
struct ShipmentSync;

#[async_trait(?Send)]
impl CrashScenario for ShipmentSync {
    type World = OrderWorld;
    async fn prepare(&self) -> OrderWorld {
        let world = OrderWorld::created().await;
        let order_id = world.order_id.unwrap();
        world
            .fx
            .sandboxes
            .commerce_control()
            .ship(
                order_id,
                vec![],
                TrackInput {
                    carrier_code: "ups".into(),
                    title: "UPS".into(),
                    number: format!("1Z{order_id}"),
                },
                false,
            )
            .await
            .unwrap();
        world.fx.advance(Duration::from_secs(10));
        world
    }
    fn channel(world: &OrderWorld) -> &Channel {
        &world.fx.ch
    }
    async fn invoke(&self, _: &OrderWorld, channel: Arc<Channel>) {
        let _ = tick(channel, Operation::ShipmentSync).await;
    }
    async fn recover(&self, world: &OrderWorld) {
        world.run_again(&[Operation::ShipmentSync]).await;
    }
    async fn check(&self, world: &OrderWorld, label: &str) -> Value {
        let received = world.fx.sandboxes.walmart_control().received().await.unwrap();
        let mut shipped: BTreeMap<u32, u32> = BTreeMap::new();
        for s in received
            .shipments
            .iter()
            .filter(|s| s.purchase_order_id == world.po.as_str())
        {
            *shipped.entry(s.line).or_default() += s.quantity;
        }
        assert_eq!(
            shipped,
            BTreeMap::from([(1, 2), (2, 1)]),
            "{label}: units shipped on Walmart per line"
        );
        json!({"shipment_updates": received.shipments.len(), "shipped": shipped})
    }
    async fn finish(&self, world: OrderWorld) {
        world.fx.shutdown().await;
    }
}

/// The merchant cancels the order in Commerce; cancellation-sync cancels it on Walmart.
struct SellerCancellation;

#[async_trait(?Send)]
impl CrashScenario for SellerCancellation {
    type World = OrderWorld;
    async fn prepare(&self) -> OrderWorld {
        let world = OrderWorld::created().await;
        assert!(
            world
                .fx
                .sandboxes
                .commerce_control()
                .cancel(world.order_id.unwrap())
                .await
                .unwrap()
        );
        world.fx.advance(Duration::from_secs(10));
        world
    }
    fn channel(world: &OrderWorld) -> &Channel {
        &world.fx.ch
    }
    async fn invoke(&self, _: &OrderWorld, channel: Arc<Channel>) {
        let _ = tick(channel, Operation::CancellationSync).await;
    }
    async fn recover(&self, world: &OrderWorld) {
        world.run_again(&[Operation::CancellationSync]).await;
    }
    async fn check(&self, world: &OrderWorld, label: &str) -> Value {
        let received = world.fx.sandboxes.walmart_control().received().await.unwrap();
        let mut cancelled: BTreeMap<u32, u32> = BTreeMap::new();
        for c in received
            .cancellations
            .iter()
            .filter(|c| c.purchase_order_id == world.po.as_str())
        {
            *cancelled.entry(c.line).or_default() += c.quantity;
        }
        assert_eq!(
            cancelled,
            BTreeMap::from([(1, 2), (2, 1)]),
            "{label}: units cancelled on Walmart per line"
        );
        json!({"cancellation_updates": received.cancellations.len(), "cancelled": cancelled})
    }
    async fn finish(&self, world: OrderWorld) {
        world.fx.shutdown().await;
    }
}

/// A buyer returns one unit of line 1 on Walmart: returns-sync records it in Commerce (an RMA).
struct ReturnRequested;

#[async_trait(?Send)]
impl CrashScenario for ReturnRequested {
    type World = OrderWorld;
    async fn prepare(&self) -> OrderWorld {
        let mut world = OrderWorld::shipped().await;
        world.return_id = Some(walmart_return(&world.fx, &world.po, &[(1, 1)]).await);
        world.fx.advance(Duration::from_secs(30));
        world
    }
    fn channel(world: &OrderWorld) -> &Channel {
        &world.fx.ch
    }
    async fn invoke(&self, _: &OrderWorld, channel: Arc<Channel>) {
        let _ = tick(channel, Operation::ReturnsSync).await;
    }
    async fn recover(&self, world: &OrderWorld) {
        world.run_again(&[Operation::ReturnsSync]).await;
    }
    async fn check(&self, world: &OrderWorld, label: &str) -> Value {
        let rmas = world.fx.sandboxes.commerce_control().returns().await.unwrap();
        assert_eq!(rmas.len(), 1, "{label}: RMAs in Commerce {rmas:?}");
        json!({"rmas": rmas.len()})
    }
    async fn finish(&self, world: OrderWorld) {
        world.fx.shutdown().await;
    }
}

/// The merchant refunds the returned unit in Commerce (a credit memo); returns-sync refunds the
/// return on Walmart.
struct ReturnRefunded;

#[async_trait(?Send)]
impl CrashScenario for ReturnRefunded {
    type World = OrderWorld;
    async fn prepare(&self) -> OrderWorld {
        let world = ReturnRequested.prepare().await;
        tick(world.fx.ch.clone(), Operation::ReturnsSync).await.unwrap();
        let sku = world.fx.skus[0].clone();
        refund(&world.fx, world.order_id.unwrap(), &[(&sku, 1.0)]).await;
        world.fx.advance(Duration::from_secs(30));
        world
    }
    fn channel(world: &OrderWorld) -> &Channel {
        &world.fx.ch
    }
    async fn invoke(&self, _: &OrderWorld, channel: Arc<Channel>) {
        let _ = tick(channel, Operation::ReturnsSync).await;
    }
    async fn recover(&self, world: &OrderWorld) {
        world.run_again(&[Operation::ReturnsSync]).await;
    }
    async fn check(&self, world: &OrderWorld, label: &str) -> Value {
        let received = world.fx.sandboxes.walmart_control().received().await.unwrap();
        let return_id = world.return_id.as_ref().unwrap().as_str();
        let return_refunds = received
            .return_refunds
            .iter()
            .filter(|r| r.return_order_id == return_id)
            .count();
        let line_refunds = received
            .refunds
            .iter()
            .filter(|r| r.purchase_order_id == world.po.as_str())
            .count();
        assert_eq!(
            return_refunds + line_refunds,
            1,
            "{label}: refunds on Walmart {received:?}"
        );
        json!({"return_refunds": return_refunds, "line_refunds": line_refunds})
    }
    async fn finish(&self, world: OrderWorld) {
        world.fx.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_import_crashed_after_any_call_gives_one_commerce_order_and_one_acknowledgement() {
    let calls = crash_at_every_step(&OrderImport).await;
    eprintln!("order-import: crashed after each of {} port calls", calls.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_create_crashed_after_any_call_gives_one_commerce_order_and_one_acknowledgement() {
    let calls = crash_at_every_step(&OrderCreate).await;
    eprintln!("order-create: crashed after each of {} port calls", calls.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shipment_sync_crashed_after_any_call_ships_each_unit_once_on_walmart() {
    let calls = crash_at_every_step(&ShipmentSync).await;
    eprintln!("shipment-sync: crashed after each of {} port calls", calls.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancellation_sync_crashed_after_any_call_cancels_each_unit_once_on_walmart() {
    let calls = crash_at_every_step(&SellerCancellation).await;
    assert!(
        calls.contains(&"walmart.cancel_lines"),
        "crashed right after Walmart accepted the cancellation: {calls:?}"
    );
    eprintln!(
        "cancellation-sync: crashed after each of {} port calls",
        calls.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn returns_sync_crashed_after_any_call_records_one_rma_and_pays_one_refund() {
    let requested = crash_at_every_step(&ReturnRequested).await;
    assert!(requested.contains(&"commerce.request_return"), "{requested:?}");
    let refunded = crash_at_every_step(&ReturnRefunded).await;
    assert!(
        refunded.contains(&"walmart.refund_return"),
        "crashed right after Walmart accepted the refund: {refunded:?}"
    );
    eprintln!(
        "returns-sync: crashed after each of {} (return) and {} (refund) port calls",
        requested.len(),
        refunded.len()
    );
}

// ------------------------------------------------------------------ catalog, inventory, prices

const START: Timestamp = Timestamp::from_millis(1_800_000_000_000);

/// A catalog world: both sandboxes (feeds done within a minute), three matching products.
struct CatalogWorld {
    clock: Arc<ManualClock>,
    sandboxes: Sandboxes,
    channel: Arc<Channel>,
    skus: Vec<String>,
}

impl CatalogWorld {
    async fn seeded(live: bool) -> Self {
        Self::with_products(3, live).await
    }

    async fn with_products(count: usize, live: bool) -> Self {
        let clock = Arc::new(ManualClock::at(START));
        let sandboxes = Sandboxes::start_default(clock.clone()).await.unwrap();
        let settings = ChannelSettings::with_defaults(ChannelId::new("main").unwrap());
        let (channel, _queues) = sandboxes.embedded_channel(settings, clock.clone() as Arc<dyn Clock>);
        let seeded = seed_catalog(&sandboxes, "CRASH-", count, 0, 0).await;
        if live {
            seed_live_listings(&sandboxes, &channel, &seeded.matching, 10).await;
        }
        Self {
            clock,
            sandboxes,
            channel: Arc::new(channel),
            skus: seeded.matching,
        }
    }

    async fn run_again(&self, operations: &[Operation]) {
        run_again(&self.channel, &self.clock, operations, ROUNDS).await;
    }

    /// Every product sent in exactly one match feed, and every one live on Walmart.
    async fn assert_each_matched_once(&self, label: &str) -> Value {
        let control = self.sandboxes.walmart_control();
        let sent: usize = control
            .feeds()
            .await
            .unwrap()
            .iter()
            .filter(|f| f.feed_type.contains("MATCH"))
            .map(|f| f.items_received)
            .sum();
        assert_eq!(sent, self.skus.len(), "{label}: products sent in match feeds");
        let items = control.seller_items().await.unwrap();
        assert_eq!(items.len(), self.skus.len(), "{label}: seller items on Walmart");
        // The channel knows it too: no listing left waiting for results that passed it by.
        let mut waiting = Vec::new();
        for sku in &self.skus {
            let key = listing_key(&self.channel.settings.id, &Sku::new(sku.as_str()).unwrap());
            let listing = self.channel.store.load::<Listing>(&key).await.unwrap();
            let status = listing.map(|l| l.record.status());
            if !matches!(status, Some(ListingStatus::Match | ListingStatus::StagedForMatch)) {
                waiting.push(format!("{sku}: {status:?}"));
            }
        }
        assert!(
            waiting.is_empty(),
            "{label}: listings not matched in the channel: {waiting:?}"
        );
        json!({"sent": sent, "seller_items": items.len()})
    }
}

struct CatalogImport;

#[async_trait(?Send)]
impl CrashScenario for CatalogImport {
    type World = CatalogWorld;
    async fn prepare(&self) -> CatalogWorld {
        CatalogWorld::seeded(false).await
    }
    fn channel(world: &CatalogWorld) -> &Channel {
        &world.channel
    }
    async fn invoke(&self, _: &CatalogWorld, channel: Arc<Channel>) {
        let _ = tick(channel, Operation::CatalogImport).await;
    }
    async fn recover(&self, world: &CatalogWorld) {
        world
            .run_again(&[Operation::CatalogImport, Operation::ListingMatch])
            .await;
    }
    async fn check(&self, world: &CatalogWorld, label: &str) -> Value {
        world.assert_each_matched_once(label).await
    }
    async fn finish(&self, world: CatalogWorld) {
        world.sandboxes.shutdown().await;
    }
}

struct ListingMatch;

#[async_trait(?Send)]
impl CrashScenario for ListingMatch {
    type World = CatalogWorld;
    async fn prepare(&self) -> CatalogWorld {
        let world = CatalogWorld::seeded(false).await;
        tick(world.channel.clone(), Operation::CatalogImport)
            .await
            .unwrap();
        // A partial feed waits a minute for more drafts.
        world.clock.advance(Duration::from_secs(61));
        world
    }
    fn channel(world: &CatalogWorld) -> &Channel {
        &world.channel
    }
    async fn invoke(&self, world: &CatalogWorld, channel: Arc<Channel>) {
        let _ = deliver_one(&world.channel, channel, Operation::ListingMatch).await;
    }
    async fn recover(&self, world: &CatalogWorld) {
        world.run_again(&[Operation::ListingMatch]).await;
    }
    async fn check(&self, world: &CatalogWorld, label: &str) -> Value {
        world.assert_each_matched_once(label).await
    }
    async fn finish(&self, world: CatalogWorld) {
        world.sandboxes.shutdown().await;
    }
}

/// As [`ListingMatch`], but Walmart processes the feed before anything runs again: the next
/// scheduled run reads the feed's results before it adopts the feed the crashed invocation sent,
/// so listings that invocation never marked must still get their results.
struct ListingMatchFeedProcessedFirst;

#[async_trait(?Send)]
impl CrashScenario for ListingMatchFeedProcessedFirst {
    type World = CatalogWorld;
    async fn prepare(&self) -> CatalogWorld {
        ListingMatch.prepare().await
    }
    fn channel(world: &CatalogWorld) -> &Channel {
        &world.channel
    }
    async fn invoke(&self, world: &CatalogWorld, channel: Arc<Channel>) {
        ListingMatch.invoke(world, channel).await;
    }
    async fn recover(&self, world: &CatalogWorld) {
        world.clock.advance(Duration::from_secs(3_600));
        world.run_again(&[Operation::ListingMatch]).await;
    }
    async fn check(&self, world: &CatalogWorld, label: &str) -> Value {
        world.assert_each_matched_once(label).await
    }
    async fn finish(&self, world: CatalogWorld) {
        world.sandboxes.shutdown().await;
    }
}

/// Stock changes in Commerce for two of three live listings; inventory-sync's scheduled run.
struct InventorySync;

#[async_trait(?Send)]
impl CrashScenario for InventorySync {
    type World = CatalogWorld;
    async fn prepare(&self) -> CatalogWorld {
        let world = CatalogWorld::seeded(true).await;
        let changes: Vec<StockChange> = [(0, 3.0), (1, 0.0)]
            .into_iter()
            .map(|(n, quantity)| StockChange {
                sku: world.skus[n].clone(),
                source_code: "default".into(),
                quantity,
                status: None,
            })
            .collect();
        world
            .sandboxes
            .commerce_control()
            .set_stock(&changes)
            .await
            .unwrap();
        world.clock.advance(Duration::from_secs(300));
        world
    }
    fn channel(world: &CatalogWorld) -> &Channel {
        &world.channel
    }
    async fn invoke(&self, _: &CatalogWorld, channel: Arc<Channel>) {
        let _ = tick(channel, Operation::InventorySync).await;
    }
    async fn recover(&self, world: &CatalogWorld) {
        world.run_again(&[Operation::InventorySync]).await;
    }
    async fn check(&self, world: &CatalogWorld, label: &str) -> Value {
        let inventory = world.sandboxes.walmart_control().inventory().await.unwrap();
        let (changed, zeroed) = (&world.skus[0], &world.skus[1]);
        assert_ne!(
            inventory.get(changed.as_str()),
            Some(&10),
            "{label}: {inventory:?}"
        );
        assert_eq!(inventory.get(zeroed.as_str()), Some(&0), "{label}: {inventory:?}");
        json!(inventory)
    }
    async fn finish(&self, world: CatalogWorld) {
        world.sandboxes.shutdown().await;
    }
}

/// A price change in Commerce for one of three live listings; price-sync's scheduled run.
struct PriceSync;

#[async_trait(?Send)]
impl CrashScenario for PriceSync {
    type World = CatalogWorld;
    async fn prepare(&self) -> CatalogWorld {
        let world = CatalogWorld::seeded(true).await;
        world
            .sandboxes
            .commerce_control()
            .set_price(
                &world.skus[0],
                &PriceChange {
                    price: Some(24.99),
                    special_price: None,
                    special_from_date: None,
                    special_to_date: None,
                },
            )
            .await
            .unwrap();
        world.clock.advance(Duration::from_secs(300));
        world
    }
    fn channel(world: &CatalogWorld) -> &Channel {
        &world.channel
    }
    async fn invoke(&self, _: &CatalogWorld, channel: Arc<Channel>) {
        let _ = tick(channel, Operation::PriceSync).await;
    }
    async fn recover(&self, world: &CatalogWorld) {
        world.run_again(&[Operation::PriceSync]).await;
    }
    async fn check(&self, world: &CatalogWorld, label: &str) -> Value {
        let prices = world.sandboxes.walmart_control().prices().await.unwrap();
        assert_eq!(
            prices.get(world.skus[0].as_str()).map(|p| p.cents()),
            Some(2499),
            "{label}: {prices:?}"
        );
        json!(
            prices
                .iter()
                .map(|(sku, p)| (sku.clone(), p.cents()))
                .collect::<BTreeMap<_, _>>()
        )
    }
    async fn finish(&self, world: CatalogWorld) {
        world.sandboxes.shutdown().await;
    }
}

/// inventory-sync's urgent path: the stock change arrives as an SQS message (as order-create and
/// cancellation-sync send them), the crashed invocation's message comes back, and no schedule runs.
struct UrgentInventory;

#[async_trait(?Send)]
impl CrashScenario for UrgentInventory {
    type World = CatalogWorld;
    async fn prepare(&self) -> CatalogWorld {
        let world = InventorySync.prepare().await;
        let skus: Vec<Sku> = world.skus.iter().map(|s| Sku::new(s.as_str()).unwrap()).collect();
        inventory_sync::enqueue_urgent(&world.channel, &skus[..2])
            .await
            .unwrap();
        world
    }
    fn channel(world: &CatalogWorld) -> &Channel {
        &world.channel
    }
    async fn invoke(&self, world: &CatalogWorld, channel: Arc<Channel>) {
        let _ = deliver_one(&world.channel, channel, Operation::InventorySync).await;
    }
    async fn recover(&self, world: &CatalogWorld) {
        redeliver(&world.channel, &world.clock, Operation::InventorySync, ROUNDS).await;
    }
    async fn check(&self, world: &CatalogWorld, label: &str) -> Value {
        InventorySync.check(world, label).await
    }
    async fn finish(&self, world: CatalogWorld) {
        world.sandboxes.shutdown().await;
    }
}

/// price-sync's queue path: the changed SKU arrives as an SQS message; no schedule runs.
struct UrgentPrice;

#[async_trait(?Send)]
impl CrashScenario for UrgentPrice {
    type World = CatalogWorld;
    async fn prepare(&self) -> CatalogWorld {
        let world = PriceSync.prepare().await;
        let sku = Sku::new(world.skus[0].as_str()).unwrap();
        price_sync::enqueue(&world.channel, &[sku]).await.unwrap();
        world
    }
    fn channel(world: &CatalogWorld) -> &Channel {
        &world.channel
    }
    async fn invoke(&self, world: &CatalogWorld, channel: Arc<Channel>) {
        let _ = deliver_one(&world.channel, channel, Operation::PriceSync).await;
    }
    async fn recover(&self, world: &CatalogWorld) {
        redeliver(&world.channel, &world.clock, Operation::PriceSync, ROUNDS).await;
    }
    async fn check(&self, world: &CatalogWorld, label: &str) -> Value {
        PriceSync.check(world, label).await
    }
    async fn finish(&self, world: CatalogWorld) {
        world.sandboxes.shutdown().await;
    }
}

/// catalog-import's queue path: an import request for named SKUs (the CLI's and dashboard's).
struct ImportRequested;

#[async_trait(?Send)]
impl CrashScenario for ImportRequested {
    type World = CatalogWorld;
    async fn prepare(&self) -> CatalogWorld {
        let world = CatalogWorld::seeded(false).await;
        let skus: Vec<Sku> = world.skus.iter().map(|s| Sku::new(s.as_str()).unwrap()).collect();
        catalog_import::request_import(&world.channel, &skus)
            .await
            .unwrap();
        world
    }
    fn channel(world: &CatalogWorld) -> &Channel {
        &world.channel
    }
    async fn invoke(&self, world: &CatalogWorld, channel: Arc<Channel>) {
        let _ = deliver_one(&world.channel, channel, Operation::CatalogImport).await;
    }
    async fn recover(&self, world: &CatalogWorld) {
        redeliver(&world.channel, &world.clock, Operation::CatalogImport, ROUNDS).await;
        world.run_again(&[Operation::ListingMatch]).await;
    }
    async fn check(&self, world: &CatalogWorld, label: &str) -> Value {
        world.assert_each_matched_once(label).await
    }
    async fn finish(&self, world: CatalogWorld) {
        world.sandboxes.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_request_crashed_after_any_call_sends_each_product_to_walmart_once() {
    let calls = crash_at_every_step(&ImportRequested).await;
    eprintln!(
        "catalog-import (queue): crashed after each of {} port calls",
        calls.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn urgent_inventory_and_price_messages_crashed_after_any_call_lose_nothing() {
    let inventory = crash_at_every_step(&UrgentInventory).await;
    let price = crash_at_every_step(&UrgentPrice).await;
    eprintln!(
        "urgent messages: crashed after each of {} (inventory) and {} (price) port calls",
        inventory.len(),
        price.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_import_crashed_after_any_call_sends_each_product_to_walmart_once() {
    let calls = crash_at_every_step(&CatalogImport).await;
    eprintln!("catalog-import: crashed after each of {} port calls", calls.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_match_crashed_after_any_call_sends_each_product_to_walmart_once() {
    let calls = crash_at_every_step(&ListingMatch).await;
    eprintln!("listing-match: crashed after each of {} port calls", calls.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_match_crashed_after_any_call_then_its_feed_processed_leaves_no_listing_waiting() {
    let calls = crash_at_every_step(&ListingMatchFeedProcessedFirst).await;
    eprintln!(
        "listing-match, feed processed first: crashed after each of {} port calls",
        calls.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inventory_sync_crashed_after_any_call_loses_no_quantity() {
    let calls = crash_at_every_step(&InventorySync).await;
    eprintln!("inventory-sync: crashed after each of {} port calls", calls.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn price_sync_crashed_after_any_call_loses_no_price() {
    let calls = crash_at_every_step(&PriceSync).await;
    eprintln!("price-sync: crashed after each of {} port calls", calls.len());
}

// ------------------------------------------------------------------ faults in the middle of a run

/// What a 5xx burst or a 429 past the caller's patience looks like once the client gave up.
fn burst(api: Api, kind: ApiErrorKind) -> ApiError {
    ApiError::new(api, kind, "injected in the middle of the run")
}

/// More than one page of Commerce products (300 a page): 301 selected for Walmart.
const TWO_PAGES_OF_PRODUCTS: usize = 301;

/// catalog-import's scheduled run over two pages of products.
struct CatalogImportPages;

#[async_trait(?Send)]
impl CrashScenario for CatalogImportPages {
    type World = CatalogWorld;
    async fn prepare(&self) -> CatalogWorld {
        CatalogWorld::with_products(TWO_PAGES_OF_PRODUCTS, false).await
    }
    fn channel(world: &CatalogWorld) -> &Channel {
        &world.channel
    }
    async fn invoke(&self, _: &CatalogWorld, channel: Arc<Channel>) {
        let _ = tick(channel, Operation::CatalogImport).await;
    }
    async fn recover(&self, world: &CatalogWorld) {
        world.run_again(&[Operation::CatalogImport]).await;
    }
    async fn check(&self, world: &CatalogWorld, label: &str) -> Value {
        let mut imported = 0;
        for sku in &world.skus {
            let key = listing_key(&world.channel.settings.id, &Sku::new(sku.as_str()).unwrap());
            if world.channel.store.load::<Listing>(&key).await.unwrap().is_some() {
                imported += 1;
            }
        }
        assert_eq!(imported, world.skus.len(), "{label}: products imported");
        json!({"imported": imported})
    }
    async fn finish(&self, world: CatalogWorld) {
        world.sandboxes.shutdown().await;
    }
}

/// price-sync's scheduled run over two pages of changed products, every price changed.
struct PriceSyncPages;

#[async_trait(?Send)]
impl CrashScenario for PriceSyncPages {
    type World = CatalogWorld;
    async fn prepare(&self) -> CatalogWorld {
        let world = CatalogWorld::with_products(TWO_PAGES_OF_PRODUCTS, true).await;
        let control = world.sandboxes.commerce_control();
        for sku in &world.skus {
            let change = PriceChange {
                price: Some(24.99),
                special_price: None,
                special_from_date: None,
                special_to_date: None,
            };
            control.set_price(sku, &change).await.unwrap();
        }
        world.clock.advance(Duration::from_secs(300));
        world
    }
    fn channel(world: &CatalogWorld) -> &Channel {
        &world.channel
    }
    async fn invoke(&self, _: &CatalogWorld, channel: Arc<Channel>) {
        let _ = tick(channel, Operation::PriceSync).await;
    }
    async fn recover(&self, world: &CatalogWorld) {
        world.run_again(&[Operation::PriceSync]).await;
    }
    async fn check(&self, world: &CatalogWorld, label: &str) -> Value {
        let prices = world.sandboxes.walmart_control().prices().await.unwrap();
        let stale: Vec<_> = world
            .skus
            .iter()
            .filter(|sku| prices.get(sku.as_str()).map(|p| p.cents()) != Some(2499))
            .collect();
        assert!(stale.is_empty(), "{label}: prices not on Walmart: {stale:?}");
        let mut updates: BTreeMap<String, usize> = BTreeMap::new();
        for update in world.sandboxes.walmart_control().price_updates().await.unwrap() {
            *updates.entry(update.sku).or_default() += 1;
        }
        let twice: Vec<_> = updates.iter().filter(|(_, n)| **n > 1).collect();
        assert!(twice.is_empty(), "{label}: prices sent more than once: {twice:?}");
        json!({"prices_on_walmart": world.skus.len(), "updates": updates.len()})
    }
    async fn finish(&self, world: CatalogWorld) {
        world.sandboxes.shutdown().await;
    }
}

/// order-import's scheduled run over two pages of Walmart orders (100 a page): 101 orders, each
/// created once in Commerce and acknowledged once.
struct OrderImportPages;

const TWO_PAGES_OF_ORDERS: usize = 101;

struct ManyOrders {
    fx: Fixture,
    pos: Vec<PurchaseOrderId>,
}

#[async_trait(?Send)]
impl CrashScenario for OrderImportPages {
    type World = ManyOrders;
    async fn prepare(&self) -> ManyOrders {
        ManyOrders::placed(TWO_PAGES_OF_ORDERS).await
    }
    fn channel(world: &ManyOrders) -> &Channel {
        &world.fx.ch
    }
    async fn invoke(&self, _: &ManyOrders, channel: Arc<Channel>) {
        let _ = tick(channel, Operation::OrderImport).await;
    }
    async fn recover(&self, world: &ManyOrders) {
        run_again(
            &world.fx.ch,
            &world.fx.clock,
            &[Operation::OrderImport, Operation::OrderCreate],
            ROUNDS,
        )
        .await;
    }
    async fn check(&self, world: &ManyOrders, label: &str) -> Value {
        world.assert_each_created_once(label).await
    }
    async fn finish(&self, world: ManyOrders) {
        world.fx.shutdown().await;
    }
}

impl ManyOrders {
    /// `count` Walmart orders of one unit of the first SKU (stocked for all of them).
    async fn placed(count: usize) -> Self {
        let fx = Fixture::start().await;
        let stock = StockChange {
            sku: fx.skus[0].clone(),
            source_code: "default".into(),
            quantity: 1_000.0,
            status: None,
        };
        fx.sandboxes.commerce_control().set_stock(&[stock]).await.unwrap();
        let mut pos = Vec::new();
        for _ in 0..count {
            pos.push(fx.buyer_orders(&[(&fx.skus[0], 1, 1999)]).await);
        }
        ManyOrders { fx, pos }
    }

    /// Every order created once in Commerce and acknowledged once.
    async fn assert_each_created_once(&self, label: &str) -> Value {
        let world = self;
        let mut per_po: BTreeMap<String, usize> = BTreeMap::new();
        for order in world.fx.sandboxes.commerce_control().orders().await.unwrap() {
            if let Some(po) = order["payment"]["po_number"].as_str() {
                *per_po.entry(po.to_owned()).or_default() += 1;
            }
        }
        let received = world.fx.sandboxes.walmart_control().received().await.unwrap();
        let mut acks: BTreeMap<String, usize> = BTreeMap::new();
        for ack in &received.acknowledgements {
            *acks.entry(ack.purchase_order_id.clone()).or_default() += 1;
        }
        for po in &world.pos {
            assert_eq!(
                per_po.get(po.as_str()),
                Some(&1),
                "{label}: Commerce orders for {po}"
            );
            assert_eq!(
                acks.get(po.as_str()),
                Some(&1),
                "{label}: acknowledgements of {po}"
            );
        }
        json!({"commerce_orders": per_po.len(), "acknowledged": acks.len()})
    }

    /// Created in Commerce, shipped there in full (tracking `1Z{order id}`).
    async fn ship_all(&self) {
        self.fx.import_and_create().await;
        let control = self.fx.sandboxes.commerce_control();
        for order in control.orders().await.unwrap() {
            let order_id = self.fx.commerce_order_id(&order);
            let track = TrackInput {
                carrier_code: "ups".into(),
                title: "UPS".into(),
                number: format!("1Z{order_id}"),
            };
            control.ship(order_id, vec![], track, false).await.unwrap();
        }
        self.fx.advance(Duration::from_secs(10));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_import_a_5xx_or_429_on_any_page_skips_no_product() {
    for kind in [ApiErrorKind::Server, ApiErrorKind::Throttled] {
        let pages = fault_at_every_page(
            &CatalogImportPages,
            &["commerce.products_page"],
            burst(Api::Commerce, kind),
        )
        .await;
        eprintln!("catalog-import: {kind:?} on each of {pages} page reads");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn price_sync_a_5xx_or_429_on_any_page_skips_no_price() {
    for kind in [ApiErrorKind::Server, ApiErrorKind::Throttled] {
        let pages = fault_at_every_page(
            &PriceSyncPages,
            &["commerce.products_page"],
            burst(Api::Commerce, kind),
        )
        .await;
        eprintln!("price-sync: {kind:?} on each of {pages} page reads");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_import_a_429_on_any_page_skips_no_order() {
    // One kind here: these worlds are large, and a 5xx and a 429 reach the operation alike (a
    // retryable ApiError once the client gave up); the smaller tests above run both.
    let pages = fault_at_every_page(
        &OrderImportPages,
        &["walmart.list_orders", "walmart.next_orders"],
        burst(Api::Walmart, ApiErrorKind::Throttled),
    )
    .await;
    eprintln!("{pages} page reads");
}

/// inventory-sync's scheduled run over two pages of source items, every quantity changed.
struct InventorySyncPages;

#[async_trait(?Send)]
impl CrashScenario for InventorySyncPages {
    type World = CatalogWorld;
    async fn prepare(&self) -> CatalogWorld {
        let world = CatalogWorld::with_products(TWO_PAGES_OF_PRODUCTS, true).await;
        let changes: Vec<StockChange> = world
            .skus
            .iter()
            .map(|sku| StockChange {
                sku: sku.clone(),
                source_code: "default".into(),
                quantity: 7.0,
                status: None,
            })
            .collect();
        world
            .sandboxes
            .commerce_control()
            .set_stock(&changes)
            .await
            .unwrap();
        world.clock.advance(Duration::from_secs(300));
        world
    }
    fn channel(world: &CatalogWorld) -> &Channel {
        &world.channel
    }
    async fn invoke(&self, _: &CatalogWorld, channel: Arc<Channel>) {
        let _ = tick(channel, Operation::InventorySync).await;
    }
    async fn recover(&self, world: &CatalogWorld) {
        world.run_again(&[Operation::InventorySync]).await;
    }
    async fn check(&self, world: &CatalogWorld, label: &str) -> Value {
        let inventory = world.sandboxes.walmart_control().inventory().await.unwrap();
        let stale: Vec<_> = world
            .skus
            .iter()
            .filter(|sku| inventory.get(sku.as_str()).is_none_or(|q| *q == 10))
            .collect();
        assert!(stale.is_empty(), "{label}: quantities not on Walmart: {stale:?}");
        json!(inventory)
    }
    async fn finish(&self, world: CatalogWorld) {
        world.sandboxes.shutdown().await;
    }
}

/// shipment-sync's scheduled run over two pages of Commerce shipments (100 a page): 101 orders,
/// each shipped in Commerce, each shipped once on Walmart.
struct ShipmentSyncPages;

#[async_trait(?Send)]
impl CrashScenario for ShipmentSyncPages {
    type World = ManyOrders;
    async fn prepare(&self) -> ManyOrders {
        let world = ManyOrders::placed(TWO_PAGES_OF_ORDERS).await;
        world.ship_all().await;
        world
    }
    fn channel(world: &ManyOrders) -> &Channel {
        &world.fx.ch
    }
    async fn invoke(&self, _: &ManyOrders, channel: Arc<Channel>) {
        let _ = tick(channel, Operation::ShipmentSync).await;
    }
    async fn recover(&self, world: &ManyOrders) {
        run_again(&world.fx.ch, &world.fx.clock, &[Operation::ShipmentSync], ROUNDS).await;
    }
    async fn check(&self, world: &ManyOrders, label: &str) -> Value {
        let received = world.fx.sandboxes.walmart_control().received().await.unwrap();
        let mut shipped: BTreeMap<String, u32> = BTreeMap::new();
        for s in &received.shipments {
            *shipped.entry(s.purchase_order_id.clone()).or_default() += s.quantity;
        }
        for po in &world.pos {
            assert_eq!(
                shipped.get(po.as_str()),
                Some(&1),
                "{label}: units of {po} shipped on Walmart"
            );
        }
        json!({"orders_shipped": shipped.len(), "shipment_updates": received.shipments.len()})
    }
    async fn finish(&self, world: ManyOrders) {
        world.fx.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inventory_sync_a_5xx_or_429_on_any_page_skips_no_quantity() {
    for kind in [ApiErrorKind::Server, ApiErrorKind::Throttled] {
        let pages = fault_at_every_page(
            &InventorySyncPages,
            &["commerce.source_items_page"],
            burst(Api::Commerce, kind),
        )
        .await;
        eprintln!("inventory-sync: {kind:?} on each of {pages} page reads");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shipment_sync_a_5xx_on_any_page_skips_no_shipment() {
    // One kind here: these worlds are large, and a 5xx and a 429 reach the operation alike (a
    // retryable ApiError once the client gave up); the smaller tests above run both.
    let pages = fault_at_every_page(
        &ShipmentSyncPages,
        &["commerce.shipments_page"],
        burst(Api::Commerce, ApiErrorKind::Server),
    )
    .await;
    eprintln!("{pages} page reads");
}

/// cancellation-sync's scheduled run over two pages of Commerce orders (100 a page): 101 orders,
/// each cancelled by the merchant in Commerce, each cancelled once on Walmart.
struct CancellationSyncPages;

#[async_trait(?Send)]
impl CrashScenario for CancellationSyncPages {
    type World = ManyOrders;
    async fn prepare(&self) -> ManyOrders {
        let world = ManyOrders::placed(TWO_PAGES_OF_ORDERS).await;
        world.fx.import_and_create().await;
        let control = world.fx.sandboxes.commerce_control();
        for order in control.orders().await.unwrap() {
            assert!(control.cancel(world.fx.commerce_order_id(&order)).await.unwrap());
        }
        world.fx.advance(Duration::from_secs(10));
        world
    }
    fn channel(world: &ManyOrders) -> &Channel {
        &world.fx.ch
    }
    async fn invoke(&self, _: &ManyOrders, channel: Arc<Channel>) {
        let _ = tick(channel, Operation::CancellationSync).await;
    }
    async fn recover(&self, world: &ManyOrders) {
        run_again(
            &world.fx.ch,
            &world.fx.clock,
            &[Operation::CancellationSync],
            ROUNDS,
        )
        .await;
    }
    async fn check(&self, world: &ManyOrders, label: &str) -> Value {
        let received = world.fx.sandboxes.walmart_control().received().await.unwrap();
        let mut cancelled: BTreeMap<String, u32> = BTreeMap::new();
        for c in &received.cancellations {
            *cancelled.entry(c.purchase_order_id.clone()).or_default() += c.quantity;
        }
        for po in &world.pos {
            assert_eq!(
                cancelled.get(po.as_str()),
                Some(&1),
                "{label}: units of {po} cancelled on Walmart"
            );
        }
        json!({"orders_cancelled": cancelled.len(), "cancellation_updates": received.cancellations.len()})
    }
    async fn finish(&self, world: ManyOrders) {
        world.fx.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancellation_sync_a_5xx_on_any_page_skips_no_cancellation() {
    // One kind here: these worlds are large, and a 5xx and a 429 reach the operation alike (a
    // retryable ApiError once the client gave up); the smaller tests above run both.
    let pages = fault_at_every_page(
        &CancellationSyncPages,
        &[
            "commerce.orders_page",
            "walmart.list_orders",
            "walmart.next_orders",
        ],
        burst(Api::Commerce, ApiErrorKind::Server),
    )
    .await;
    eprintln!("{pages} page reads");
}

/// More than one page of Walmart returns (50 a page).
const TWO_PAGES_OF_RETURNS: usize = 51;

/// returns-sync's scheduled run over two pages of Walmart returns: 51 shipped orders, each
/// returned on Walmart, each recorded once in Commerce (an RMA).
struct ReturnsSyncPages;

#[async_trait(?Send)]
impl CrashScenario for ReturnsSyncPages {
    type World = ManyOrders;
    async fn prepare(&self) -> ManyOrders {
        let world = ManyOrders::placed(TWO_PAGES_OF_RETURNS).await;
        world.ship_all().await;
        tick(world.fx.ch.clone(), Operation::ShipmentSync).await.unwrap();
        for po in &world.pos {
            walmart_return(&world.fx, po, &[(1, 1)]).await;
        }
        world.fx.advance(Duration::from_secs(30));
        world
    }
    fn channel(world: &ManyOrders) -> &Channel {
        &world.fx.ch
    }
    async fn invoke(&self, _: &ManyOrders, channel: Arc<Channel>) {
        let _ = tick(channel, Operation::ReturnsSync).await;
    }
    async fn recover(&self, world: &ManyOrders) {
        run_again(&world.fx.ch, &world.fx.clock, &[Operation::ReturnsSync], ROUNDS).await;
    }
    async fn check(&self, world: &ManyOrders, label: &str) -> Value {
        let mut per_order: BTreeMap<u64, usize> = BTreeMap::new();
        for rma in world.fx.sandboxes.commerce_control().returns().await.unwrap() {
            *per_order.entry(rma["order_id"].as_u64().unwrap()).or_default() += 1;
        }
        assert_eq!(per_order.len(), world.pos.len(), "{label}: orders with an RMA");
        assert!(
            per_order.values().all(|n| *n == 1),
            "{label}: one RMA per return: {per_order:?}"
        );
        json!({"rmas": per_order.len()})
    }
    async fn finish(&self, world: ManyOrders) {
        world.fx.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn returns_sync_a_429_on_any_page_skips_no_return() {
    // One kind here, as for the other large worlds.
    let pages = fault_at_every_page(
        &ReturnsSyncPages,
        &["walmart.list_returns", "walmart.next_returns"],
        burst(Api::Walmart, ApiErrorKind::Throttled),
    )
    .await;
    eprintln!("returns-sync: Throttled on each of {pages} page reads");
}

/// listing-match's scheduled run reading a processed match feed's results (its cursor: the results
/// applied so far): a 5xx or 429 on any read of the feed's status, then the next ticks, and every
/// listing matched.
struct ListingMatchResults;

#[async_trait(?Send)]
impl CrashScenario for ListingMatchResults {
    type World = CatalogWorld;
    async fn prepare(&self) -> CatalogWorld {
        let world = ListingMatch.prepare().await;
        tick(world.channel.clone(), Operation::ListingMatch)
            .await
            .unwrap();
        // The sandbox finishes feeds within a minute.
        world.clock.advance(Duration::from_secs(61));
        world
    }
    fn channel(world: &CatalogWorld) -> &Channel {
        &world.channel
    }
    async fn invoke(&self, _: &CatalogWorld, channel: Arc<Channel>) {
        let _ = tick(channel, Operation::ListingMatch).await;
    }
    async fn recover(&self, world: &CatalogWorld) {
        world.run_again(&[Operation::ListingMatch]).await;
    }
    async fn check(&self, world: &CatalogWorld, label: &str) -> Value {
        let sent = world.assert_each_matched_once(label).await;
        for sku in &world.skus {
            let key = listing_key(&world.channel.settings.id, &Sku::new(sku.as_str()).unwrap());
            let listing = world.channel.store.load::<Listing>(&key).await.unwrap().unwrap();
            assert_eq!(listing.record.status(), ListingStatus::Match, "{label}: {sku}");
        }
        sent
    }
    async fn finish(&self, world: CatalogWorld) {
        world.sandboxes.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_match_a_5xx_or_429_on_any_feed_status_read_skips_no_result() {
    for kind in [ApiErrorKind::Server, ApiErrorKind::Throttled] {
        let reads = fault_at_every_page(
            &ListingMatchResults,
            &["walmart.feed_status"],
            burst(Api::Walmart, kind),
        )
        .await;
        eprintln!("listing-match: {kind:?} on each of {reads} feed status reads");
    }
}
