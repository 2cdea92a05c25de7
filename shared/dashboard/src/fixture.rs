//! A small channel world for the dashboard's tests, the browser test and the screenshots
//! (feature `fixture`): listings in every status (errors with Walmart's reasons), orders in every
//! state (one failed in Commerce) with their shipments and cancellations sent to Walmart, a return
//! requested in Commerce, and buyers whose names, addresses and e-mails must never reach a page.
#![allow(clippy::expect_used)]

use domain::fixtures::purchase_order;
use domain::{
    CancelReason, CancellationRecord, Carrier, ChannelId, CommerceOrderId, CommerceOrderLink,
    CommerceProductId, CommerceShipmentId, CustomerOrderId, Delivery, FeedId, IncrementId, LineNumber,
    LineQuantity, Listing, Money, OrderRecord, Origin, ProductSnapshot, PurchaseOrderId, ReturnLine,
    ReturnOrderId, ReturnRecord, RmaId, ShipmentRecord, Sku, Timestamp, Tracking, WalmartLineStatus, Wpid,
    walmart_issue,
};
use operations::Channel;
use operations::dashboard::CommerceOrderIndex;
use ports::Records;

use crate::auth::{LoginSecret, UserEntry};
use crate::password::PasswordHash;

/// What every fixture buyer is called and lives at: no page may show any of it.
pub const BUYER_NAME: &str = "Jane Buyersdottir";
pub const BUYER_STREET: &str = "17 Privacy Lane";
pub const BUYER_EMAIL: &str = "jane.buyer@example.com";
pub const BUYER_PHONE: &str = "4795550199";

/// The fixture's user and password.
pub const USER: &str = "merchant";
pub const PASSWORD: &str = "fixture password 1";

/// The seeded facts tests look for.
#[derive(Debug, Clone)]
pub struct Seeded {
    /// A listing in Error with Walmart's reason.
    pub error_sku: String,
    /// An order created in Commerce, and its Commerce order number.
    pub created_po: String,
    pub commerce_number: String,
    /// An order Commerce refused (Error).
    pub failed_po: String,
    pub listings: usize,
    pub orders: usize,
}

/// A login secret with the fixture's user, hashed with few iterations (tests run unoptimised).
pub fn login_secret() -> LoginSecret {
    LoginSecret {
        session_key: "fixture-session-key-0123456789abcdef".into(),
        users: vec![UserEntry {
            name: USER.into(),
            password_hash: PasswordHash::new(PASSWORD, 1_000).encode(),
        }],
    }
}

fn product(i: usize, price_cents: i64, updated_at: Timestamp) -> ProductSnapshot {
    ProductSnapshot {
        product_id: CommerceProductId(i as u64 + 1),
        name: format!("Trail mug {i:03}"),
        raw_identifier: Some("036000291452".into()),
        price: Some(Money::from_cents(price_cents)),
        weight_lb: Some(1.0),
        special_price: None,
        enabled: true,
        updated_at,
    }
}

/// Seeds `listings` listings (a fifth in each status) and `orders` orders (cycling through the
/// states) on the channel's store, dated before `now`.
pub async fn seed(ch: &Channel, listings: usize, orders: usize, now: Timestamp) -> Seeded {
    let error_sku = seed_listings(ch, listings, now).await;
    let seeded_orders = seed_orders(ch, orders, now).await;
    if !seeded_orders.created_po.is_empty() {
        seed_return(ch, &seeded_orders.created_po, now).await;
    }
    Seeded {
        error_sku,
        created_po: seeded_orders.created_po,
        commerce_number: seeded_orders.commerce_number,
        failed_po: seeded_orders.failed_po,
        listings,
        orders,
    }
}

/// Listing `i` of `count`, one minute apart up to `now`, in the status `i % 5` picks: Draft,
/// Processing, Match (live or staged), Error with Walmart's reason.
fn fixture_listing(channel: &ChannelId, i: usize, count: usize, now: Timestamp) -> Listing {
    let sku = Sku::new(format!("MUG-{i:06}")).expect("valid sku");
    let at = now.minus(std::time::Duration::from_secs(60 * (count - i) as u64));
    let changed = at.minus(std::time::Duration::from_secs(90));
    let mut l = Listing::import(channel.clone(), sku, product(i, 1_000 + i as i64, changed), at);
    let feed = FeedId::new(format!("FEED{}", i / 100)).expect("valid feed id");
    match i % 5 {
        0 => {}
        1 => l.submitted(feed, at).expect("draft to processing"),
        2 | 3 => {
            l.submitted(feed, at).expect("draft to processing");
            l.matched(
                Wpid::new(format!("5{i:011}")).expect("valid wpid"),
                i % 5 == 2,
                at,
            )
            .expect("processing to match");
        }
        _ => {
            l.submitted(feed, at).expect("draft to processing");
            l.failed(
                vec![walmart_issue(
                    "ERR_EXT_DATA_0101001",
                    "Item not found for the given product identifier",
                )],
                at,
            )
            .expect("processing to error");
        }
    }
    l
}

/// Saves the listings; returns the SKU of the first in Error.
async fn seed_listings(ch: &Channel, count: usize, now: Timestamp) -> String {
    let records: Vec<Listing> = (0..count)
        .map(|i| fixture_listing(&ch.settings.id, i, count, now))
        .collect();
    for chunk in records.chunks(500) {
        ch.store.save_all(chunk).await.expect("listings saved");
    }
    records
        .iter()
        .find(|l| l.status() == domain::ListingStatus::Error)
        .map(|l| l.sku.to_string())
        .unwrap_or_default()
}

/// Walmart's purchase order `i` of `count`, one hour apart up to `now`, to the fixture buyer.
fn fixture_purchase_order(i: usize, count: usize, now: Timestamp) -> domain::PurchaseOrder {
    let mut order = purchase_order(
        &[(1, "MUG-000002", 1 + (i % 3) as u32), (2, "MUG-000003", 1)],
        1_299,
        WalmartLineStatus::Acknowledged,
        "Standard",
    );
    order.id = PurchaseOrderId::new(format!("1797{i:09}")).expect("valid po");
    order.customer_order_id = CustomerOrderId::new(format!("5402{i:09}")).expect("valid id");
    order.order_date = now.minus(std::time::Duration::from_secs(3600 * (count - i) as u64));
    order.ship_to.name = BUYER_NAME.into();
    order.ship_to.address1 = BUYER_STREET.into();
    order.ship_to.email = Some(BUYER_EMAIL.into());
    order.ship_to.phone = Some(BUYER_PHONE.into());
    order
}

/// The first order of each kind the tests look for.
#[derive(Default)]
struct SeededOrders {
    created_po: String,
    commerce_number: String,
    failed_po: String,
}

/// Saves the orders, cycling through the states by `i % 6`: 5 refused by Commerce, 4 not created
/// yet, the rest created and acknowledged, then 1 partially shipped, 2 shipped, 3 a line cancelled.
async fn seed_orders(ch: &Channel, count: usize, now: Timestamp) -> SeededOrders {
    let mut seeded = SeededOrders::default();
    for i in 0..count {
        let order = fixture_purchase_order(i, count, now);
        let po = order.id.to_string();
        let at = order.order_date;
        let step = |n: u64| at.plus(std::time::Duration::from_secs(90 * n));
        let mut r = OrderRecord::import(ch.settings.id.clone(), order, at);
        if i % 6 == 5 {
            let _ = r.creation_failed(
                "Commerce refused the order: The requested qty is not available (MUG-000002)".into(),
                1,
                step(1),
            );
            if seeded.failed_po.is_empty() {
                seeded.failed_po = po;
            }
        } else if i % 6 != 4 {
            let increment = format!("{:09}", 100_000 + i);
            create_in_commerce(ch, &mut r, CommerceOrderId(1_000 + i as u64), &increment, step(2)).await;
            let _ = r.acknowledged(step(3));
            fulfil(ch, &mut r, i % 6, step).await;
            if seeded.created_po.is_empty() {
                seeded.created_po = po;
                seeded.commerce_number = increment;
            }
        }
        let mut versioned = ports::Versioned::new(r);
        ch.store.save(&mut versioned).await.expect("order saved");
    }
    seeded
}

/// The order is created in Commerce as `increment`, findable by that number.
async fn create_in_commerce(
    ch: &Channel,
    r: &mut OrderRecord,
    order_id: CommerceOrderId,
    increment: &str,
    at: Timestamp,
) {
    let link = CommerceOrderLink {
        order_id,
        increment_id: IncrementId::new(increment).expect("valid increment id"),
    };
    r.created(link.clone(), at).expect("created");
    ch.store
        .insert_new(&CommerceOrderIndex {
            channel: ch.settings.id.clone(),
            order_id: link.order_id,
            purchase_order: r.order.id.clone(),
            increment_id: Some(link.increment_id),
        })
        .await
        .expect("link saved");
}

/// What happens to a created order after it is acknowledged, by `kind`: 1 one unit shipped, 2 all
/// shipped, 3 line 2 cancelled in Commerce, else nothing yet. Each shipment and cancellation reaches
/// Walmart two steps after it was made in Commerce (the overview's delays).
async fn fulfil(ch: &Channel, r: &mut OrderRecord, kind: usize, step: impl Fn(u64) -> Timestamp) {
    match kind {
        1 => {
            let _ = r.ship(LineNumber(1), 1, step(40));
            save_shipment(ch, r, vec![(LineNumber(1), 1)], step(38), step(40)).await;
        }
        2 => {
            let qty = r
                .order
                .lines
                .iter()
                .map(|l| (l.number, l.quantity))
                .collect::<Vec<_>>();
            for (n, q) in &qty {
                let _ = r.ship(*n, *q, step(50));
            }
            save_shipment(ch, r, qty, step(48), step(50)).await;
        }
        3 => {
            let _ = r.cancel(LineNumber(2), 1, step(20));
            let cancellation = CancellationRecord {
                channel: ch.settings.id.clone(),
                purchase_order: r.order.id.clone(),
                origin: Origin::Commerce,
                lines: vec![LineQuantity {
                    line: LineNumber(2),
                    quantity: 1,
                }],
                reason: CancelReason::SellerCancellation,
                delivery: Delivery::Sent { at: step(20) },
                recorded_at: step(20),
                requested_at: Some(step(18)),
                walmart_reason: Some("SELLER_CANCEL_OUT_OF_STOCK".into()),
            };
            ch.store
                .insert_new(&cancellation)
                .await
                .expect("cancellation saved");
        }
        _ => {}
    }
}

/// A Commerce shipment of `lines` of the order with UPS tracking, shipped at `shipped_at` and
/// sent to Walmart at `sent_at`.
async fn save_shipment(
    ch: &Channel,
    r: &OrderRecord,
    lines: Vec<(LineNumber, u32)>,
    shipped_at: Timestamp,
    sent_at: Timestamp,
) {
    let order_id = r.commerce_link().map_or(0, |l| l.order_id.0);
    let shipment = ShipmentRecord {
        channel: ch.settings.id.clone(),
        shipment_id: CommerceShipmentId(order_id),
        purchase_order: r.order.id.clone(),
        lines: lines
            .into_iter()
            .map(|(line, quantity)| LineQuantity { line, quantity })
            .collect(),
        tracking: Tracking {
            number: format!("1Z{order_id:08}"),
            carrier: Carrier::Known { name: "UPS".into() },
            method: r.order.method_code.clone(),
            shipped_at,
        },
        delivery: Delivery::Sent { at: sent_at },
        invoiced: true,
    };
    ch.store.insert_new(&shipment).await.expect("shipment saved");
}

/// A Walmart return of one unit of `po`'s first line, opened on Walmart twelve minutes before
/// `now`, received ten minutes before and requested in Commerce (RMA 31) eight minutes before.
async fn seed_return(ch: &Channel, po: &str, now: Timestamp) {
    let minutes_ago = |n: u64| now.minus(std::time::Duration::from_secs(60 * n));
    let mut record = ReturnRecord::receive(
        ch.settings.id.clone(),
        ReturnOrderId::new("77001").expect("valid return id"),
        PurchaseOrderId::new(po).expect("valid po"),
        vec![ReturnLine {
            return_line: 1,
            order_line: LineNumber(1),
            sku: Sku::new("MUG-000002").expect("valid sku"),
            quantity: 1,
            refund_amount: Money::from_cents(1_299),
        }],
        minutes_ago(10),
    );
    record.opened_at = Some(minutes_ago(12));
    record
        .requested_in_commerce(Some(RmaId(31)), minutes_ago(8))
        .expect("received to requested");
    ch.store
        .save(&mut ports::Versioned::new(record))
        .await
        .expect("return saved");
}
