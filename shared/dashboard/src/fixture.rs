//! A small channel world for the dashboard's tests, the browser test and the screenshots
//! (feature `fixture`): listings in every status (errors with Walmart's reasons), orders in every
//! state (one failed in Commerce), returns, and buyers whose names, addresses and e-mails must
//! never reach a page.
#![allow(clippy::expect_used)]

use domain::fixtures::purchase_order;
use domain::{
    ChannelId, CommerceOrderId, CommerceOrderLink, CommerceProductId, CustomerOrderId, FeedId, IncrementId,
    LineNumber, Listing, Money, OrderRecord, ProductSnapshot, PurchaseOrderId, ReturnLine, ReturnOrderId,
    ReturnRecord, Sku, Timestamp, WalmartLineStatus, Wpid, walmart_issue,
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
    let channel: &ChannelId = &ch.settings.id;
    let mut records = Vec::with_capacity(listings);
    let mut error_sku = String::new();
    for i in 0..listings {
        let sku = Sku::new(format!("MUG-{i:06}")).expect("valid sku");
        let at = now.minus(std::time::Duration::from_secs(60 * (listings - i) as u64));
        let changed = at.minus(std::time::Duration::from_secs(90));
        let mut l = Listing::import(
            channel.clone(),
            sku.clone(),
            product(i, 1_000 + i as i64, changed),
            at,
        );
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
                if error_sku.is_empty() {
                    error_sku = sku.to_string();
                }
            }
        }
        records.push(l);
    }
    for chunk in records.chunks(500) {
        ch.store.save_all(chunk).await.expect("listings saved");
    }

    let mut created_po = String::new();
    let mut commerce_number = String::new();
    let mut failed_po = String::new();
    for i in 0..orders {
        let mut order = purchase_order(
            &[(1, "MUG-000002", 1 + (i % 3) as u32), (2, "MUG-000003", 1)],
            1_299,
            WalmartLineStatus::Acknowledged,
            "Standard",
        );
        let po = format!("1797{i:09}");
        order.id = PurchaseOrderId::new(&po).expect("valid po");
        order.customer_order_id = CustomerOrderId::new(format!("5402{i:09}")).expect("valid id");
        order.order_date = now.minus(std::time::Duration::from_secs(3600 * (orders - i) as u64));
        order.ship_to.name = BUYER_NAME.into();
        order.ship_to.address1 = BUYER_STREET.into();
        order.ship_to.email = Some(BUYER_EMAIL.into());
        order.ship_to.phone = Some(BUYER_PHONE.into());
        let at = order.order_date;
        let step = |n: u64| at.plus(std::time::Duration::from_secs(90 * n));
        let mut r = OrderRecord::import(channel.clone(), order, at);
        if i % 6 == 5 {
            let _ = r.creation_failed(
                "Commerce refused the order: The requested qty is not available (MUG-000002)".into(),
                1,
                step(1),
            );
            if failed_po.is_empty() {
                failed_po = po.clone();
            }
        } else if i % 6 != 4 {
            let increment = format!("{:09}", 100_000 + i);
            let link = CommerceOrderLink {
                order_id: CommerceOrderId(1_000 + i as u64),
                increment_id: IncrementId::new(&increment).expect("valid increment id"),
            };
            r.created(link.clone(), step(2)).expect("created");
            ch.store
                .insert_new(&CommerceOrderIndex {
                    channel: channel.clone(),
                    order_id: link.order_id,
                    purchase_order: r.order.id.clone(),
                    increment_id: Some(link.increment_id.clone()),
                })
                .await
                .expect("link saved");
            let _ = r.acknowledged(step(3));
            match i % 6 {
                1 => {
                    let _ = r.ship(LineNumber(1), 1, step(40));
                }
                2 => {
                    let qty = r
                        .order
                        .lines
                        .iter()
                        .map(|l| (l.number, l.quantity))
                        .collect::<Vec<_>>();
                    for (n, q) in qty {
                        let _ = r.ship(n, q, step(50));
                    }
                }
                3 => {
                    let _ = r.cancel(LineNumber(2), 1, step(20));
                }
                _ => {}
            }
            if created_po.is_empty() {
                created_po = po.clone();
                commerce_number = increment;
            }
        }
        let mut versioned = ports::Versioned::new(r);
        ch.store.save(&mut versioned).await.expect("order saved");
    }
    if !created_po.is_empty() {
        let rid = ReturnOrderId::new("77001").expect("valid return id");
        let record = ReturnRecord::receive(
            channel.clone(),
            rid,
            PurchaseOrderId::new(&created_po).expect("valid po"),
            vec![ReturnLine {
                return_line: 1,
                order_line: LineNumber(1),
                sku: Sku::new("MUG-000002").expect("valid sku"),
                quantity: 1,
                refund_amount: Money::from_cents(1_299),
            }],
            now.minus(std::time::Duration::from_secs(600)),
        );
        ch.store
            .save(&mut ports::Versioned::new(record))
            .await
            .expect("return saved");
    }
    Seeded {
        error_sku,
        created_po,
        commerce_number,
        failed_po,
        listings,
        orders,
    }
}
