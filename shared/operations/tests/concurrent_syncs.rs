//! A scheduled run and an urgent message of inventory-sync (and of price-sync) at once, with the
//! older value's call reaching Walmart last: Walmart must still end at Commerce's latest value.
//! The interleaving is forced (a Walmart port that holds the first update until the test lets it
//! go), so the test cannot pass by luck.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use commerce_sandbox::{PriceChange, StockChange};
use domain::{
    ChannelId, ChannelSettings, CustomerOrderId, FeedId, Gtin, Money, Operation, PurchaseOrderId,
    ReturnOrderId, Sku, Timestamp,
};
use operations::testkit::{Sandboxes, drain, seed_catalog, seed_live_listings};
use operations::{Channel, inventory_sync, price_sync};
use ports::walmart::{
    CancelLine, CatalogItem, FeedStatusPage, FeedSummary, FeedType, ItemsPage, ItemsQuery, OrdersCursor,
    OrdersPage, OrdersQuery, RefundLine, ReturnsPage, ReturnsQuery, SellerItem, ShipLine, Walmart,
    WalmartOrder, WalmartReturn,
};
use ports::{ApiError, Clock, Deadline, ManualClock};

const START: Timestamp = Timestamp::from_millis(1_800_000_000_000);

/// Holds the first quantity or price update before it reaches Walmart, until `resume`.
#[derive(Default)]
struct Hold {
    used: AtomicBool,
    reached: tokio::sync::Notify,
    resume: tokio::sync::Notify,
}

impl Hold {
    async fn maybe_wait(&self) {
        if !self.used.swap(true, Ordering::SeqCst) {
            self.reached.notify_one();
            self.resume.notified().await;
        }
    }
}

struct HeldUpdates {
    inner: Arc<dyn Walmart>,
    hold: Arc<Hold>,
}

#[async_trait]
impl Walmart for HeldUpdates {
    async fn update_inventory(&self, sku: &Sku, quantity: u32, d: &Deadline) -> Result<(), ApiError> {
        self.hold.maybe_wait().await;
        self.inner.update_inventory(sku, quantity, d).await
    }
    async fn update_price(&self, sku: &Sku, price: Money, d: &Deadline) -> Result<(), ApiError> {
        self.hold.maybe_wait().await;
        self.inner.update_price(sku, price, d).await
    }
    async fn list_items(&self, q: &ItemsQuery, d: &Deadline) -> Result<ItemsPage, ApiError> {
        self.inner.list_items(q, d).await
    }
    async fn get_item(&self, sku: &Sku, d: &Deadline) -> Result<SellerItem, ApiError> {
        self.inner.get_item(sku, d).await
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
    async fn recent_feeds(&self, d: &Deadline) -> Result<Vec<FeedSummary>, ApiError> {
        self.inner.recent_feeds(d).await
    }
    async fn feed_status(
        &self,
        f: &FeedId,
        offset: u32,
        limit: u32,
        d: &Deadline,
    ) -> Result<FeedStatusPage, ApiError> {
        self.inner.feed_status(f, offset, limit, d).await
    }
    async fn get_inventory(&self, sku: &Sku, d: &Deadline) -> Result<u32, ApiError> {
        self.inner.get_inventory(sku, d).await
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
    async fn ship(
        &self,
        po: &PurchaseOrderId,
        l: &[ShipLine],
        d: &Deadline,
    ) -> Result<WalmartOrder, ApiError> {
        self.inner.ship(po, l, d).await
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
    async fn next_returns(&self, c: &str, d: &Deadline) -> Result<ReturnsPage, ApiError> {
        self.inner.next_returns(c, d).await
    }
    async fn get_return(&self, r: &ReturnOrderId, d: &Deadline) -> Result<Option<WalmartReturn>, ApiError> {
        self.inner.get_return(r, d).await
    }
    async fn refund_return(
        &self,
        r: &ReturnOrderId,
        c: &CustomerOrderId,
        lines: &[u32],
        d: &Deadline,
    ) -> Result<(), ApiError> {
        self.inner.refund_return(r, c, lines, d).await
    }
}

struct Fixture {
    clock: Arc<ManualClock>,
    sandboxes: Sandboxes,
    channel: Arc<Channel>,
    hold: Arc<Hold>,
    sku: String,
}

/// One live listing, in step with Walmart at 10 units and 19.99, whose channel's Walmart port
/// holds its first update.
async fn fixture(prefix: &str) -> Fixture {
    let clock = Arc::new(ManualClock::at(START));
    let sandboxes = Sandboxes::start_default(clock.clone()).await.unwrap();
    let settings = ChannelSettings::with_defaults(ChannelId::new("main").unwrap());
    let (mut channel, _queues) = sandboxes.embedded_channel(settings, clock.clone() as Arc<dyn Clock>);
    let seeded = seed_catalog(&sandboxes, prefix, 1, 0, 0).await;
    seed_live_listings(&sandboxes, &channel, &seeded.matching, 10).await;
    let hold = Arc::new(Hold::default());
    channel.walmart = Arc::new(HeldUpdates {
        inner: channel.walmart.clone(),
        hold: hold.clone(),
    });
    Fixture {
        clock,
        sandboxes,
        channel: Arc::new(channel),
        hold,
        sku: seeded.matching[0].clone(),
    }
}

fn deadline() -> Deadline {
    Deadline::after(Duration::from_secs(300))
}

async fn set_stock(f: &Fixture, quantity: f64) {
    let change = StockChange {
        sku: f.sku.clone(),
        source_code: "default".into(),
        quantity,
        status: None,
    };
    f.sandboxes.commerce_control().set_stock(&[change]).await.unwrap();
}

async fn set_price(f: &Fixture, price: f64) {
    let change = PriceChange {
        price: Some(price),
        ..PriceChange::default()
    };
    f.sandboxes
        .commerce_control()
        .set_price(&f.sku, &change)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_run_and_an_urgent_message_at_once_leave_walmart_at_commerces_latest_quantity() {
    let f = fixture("CIN-").await;
    let sku = Sku::new(f.sku.as_str()).unwrap();
    // The scheduled run reads 7 and its update is held on the way to Walmart.
    set_stock(&f, 7.0).await;
    f.clock.advance(Duration::from_secs(300));
    let scheduled = {
        let ch = f.channel.clone();
        tokio::spawn(async move { inventory_sync::run_scheduled(&ch, &deadline()).await })
    };
    f.hold.reached.notified().await;
    // Meanwhile an order takes stock: the urgent message reads 4 and sends it.
    set_stock(&f, 4.0).await;
    f.clock.advance(Duration::from_secs(1));
    inventory_sync::enqueue_urgent(&f.channel, std::slice::from_ref(&sku))
        .await
        .unwrap();
    assert_eq!(drain(&f.channel, Operation::InventorySync).await, (1, 0));
    let control = f.sandboxes.walmart_control();
    assert_eq!(control.inventory_of(&f.sku).await.unwrap(), Some(4));
    // Now the older value reaches Walmart, last.
    f.hold.resume.notify_one();
    let report = scheduled.await.unwrap().unwrap();
    assert_eq!(
        control.inventory_of(&f.sku).await.unwrap(),
        Some(4),
        "Walmart ends at Commerce's latest quantity\n{report:?}"
    );
    // Later runs keep it there.
    f.clock.advance(Duration::from_secs(300));
    inventory_sync::run_scheduled(&f.channel, &deadline())
        .await
        .unwrap();
    assert_eq!(control.inventory_of(&f.sku).await.unwrap(), Some(4));
    f.sandboxes.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_run_and_an_urgent_message_at_once_leave_walmart_at_commerces_latest_price() {
    let f = fixture("CPR-").await;
    let sku = Sku::new(f.sku.as_str()).unwrap();
    // A first run reads every product (in step: nothing sent).
    f.clock.advance(Duration::from_secs(120));
    price_sync::run_scheduled(&f.channel, &deadline()).await.unwrap();
    // The scheduled run reads 17.50 and its update is held on the way to Walmart.
    set_price(&f, 17.5).await;
    f.clock.advance(Duration::from_secs(120));
    let scheduled = {
        let ch = f.channel.clone();
        tokio::spawn(async move { price_sync::run_scheduled(&ch, &deadline()).await })
    };
    f.hold.reached.notified().await;
    // The merchant changes the price again; an urgent message reads 15.00 and sends it.
    set_price(&f, 15.0).await;
    f.clock.advance(Duration::from_secs(1));
    price_sync::enqueue(&f.channel, std::slice::from_ref(&sku))
        .await
        .unwrap();
    assert_eq!(drain(&f.channel, Operation::PriceSync).await, (1, 0));
    let control = f.sandboxes.walmart_control();
    assert_eq!(
        control.price_of(&f.sku).await.unwrap(),
        Some(Money::from_cents(1500))
    );
    // Now the older price reaches Walmart, last.
    f.hold.resume.notify_one();
    let report = scheduled.await.unwrap().unwrap();
    assert_eq!(
        control.price_of(&f.sku).await.unwrap(),
        Some(Money::from_cents(1500)),
        "Walmart ends at Commerce's latest price\n{report:?}"
    );
    f.clock.advance(Duration::from_secs(120));
    price_sync::run_scheduled(&f.channel, &deadline()).await.unwrap();
    assert_eq!(
        control.price_of(&f.sku).await.unwrap(),
        Some(Money::from_cents(1500))
    );
    f.sandboxes.shutdown().await;
}
