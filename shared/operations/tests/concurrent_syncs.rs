//! A scheduled run and an urgent message of inventory-sync (and of price-sync) at once, with the
//! older value's call reaching Walmart last: Walmart must still end at Commerce's latest value.
//! The interleaving is forced (a Walmart port that holds the first update until the test lets it
//! go), so the test cannot pass by luck.

mod walmart_tap;

use std::sync::Arc;
use std::time::Duration;

use commerce_sandbox::{PriceChange, StockChange};
use domain::{ChannelId, ChannelSettings, Money, Operation, Sku, Timestamp};
use operations::testkit::{Sandboxes, drain, seed_catalog, seed_live_listings};
use operations::{Channel, inventory_sync, price_sync};
use ports::records::offer_key;
use ports::{Clock, Deadline, ManualClock, Records};
use walmart_tap::{Hold, Tap};

const START: Timestamp = Timestamp::from_millis(1_800_000_000_000);

struct Fixture {
    clock: Arc<ManualClock>,
    sandboxes: Sandboxes,
    channel: Arc<Channel>,
    hold: Arc<Hold>,
    tap: Arc<Tap>,
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
    let tap = Arc::new(Tap::new(channel.walmart.clone()));
    let hold = tap.hold.clone();
    channel.walmart = tap.clone();
    Fixture {
        clock,
        sandboxes,
        channel: Arc::new(channel),
        hold,
        tap,
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

/// Walmart rejects the credentials of one update (an access token expired under the call): that
/// says nothing of the quantity, which is sent again by the next run instead of counting as sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quantity_whose_update_failed_for_credentials_is_sent_again() {
    let f = fixture("CAU-").await;
    f.hold.used.store(true, std::sync::atomic::Ordering::SeqCst);
    *f.tap.fail_next_update.lock().unwrap() = Some(ports::ApiErrorKind::Auth);
    set_stock(&f, 6.0).await;
    f.clock.advance(Duration::from_secs(300));
    let failed = inventory_sync::run_scheduled(&f.channel, &deadline())
        .await
        .unwrap();
    assert_eq!(failed.problems.len(), 1, "{failed:?}");
    let control = f.sandboxes.walmart_control();
    assert_eq!(control.inventory_of(&f.sku).await.unwrap(), Some(10));
    let offer = f
        .channel
        .store
        .load::<domain::OfferState>(&offer_key(
            &f.channel.settings.id,
            &Sku::new(f.sku.as_str()).unwrap(),
        ))
        .await
        .unwrap()
        .unwrap()
        .record;
    assert_eq!(
        offer.quantity_change(6),
        Some(6),
        "6 does not count as sent: {offer:?}"
    );
    f.clock.advance(Duration::from_secs(300));
    let again = inventory_sync::run_scheduled(&f.channel, &deadline())
        .await
        .unwrap();
    assert_eq!(
        again.count(operations::Counter::QuantitiesSentSingle),
        1,
        "{again:?}"
    );
    assert_eq!(control.inventory_of(&f.sku).await.unwrap(), Some(6));
    f.sandboxes.shutdown().await;
}
