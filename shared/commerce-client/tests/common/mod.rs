//! Shared test set-up: a sandbox on a loopback port and a client signed with its credentials, both on
//! one manual clock (so retries wait no wall time and `updated_at` moves only when a test says so).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use commerce_client::{CommerceAuth, CommerceClient, CommerceConfig};
use commerce_sandbox::{CommerceSandbox, OAuthCredentials, ProductSeed, RunningSandbox, SandboxSettings};
use domain::{
    CustomerOrderId, LineNumber, MethodCode, Money, OrderLine, PurchaseOrder, PurchaseOrderId, ShipTo, Sku,
    Timestamp, WalmartLineStatus,
};
use ports::{Deadline, ManualClock};

pub struct Harness {
    pub sandbox: RunningSandbox,
    pub client: CommerceClient,
    pub clock: Arc<ManualClock>,
}

pub fn start_time() -> Timestamp {
    Timestamp::parse_commerce("2026-03-01 12:00:00").unwrap()
}

pub fn oauth() -> CommerceAuth {
    let c = OAuthCredentials::sandbox();
    CommerceAuth::OAuth1 {
        consumer_key: c.consumer_key,
        consumer_secret: c.consumer_secret,
        access_token: c.access_token,
        access_token_secret: c.access_token_secret,
    }
}

/// A store that accepts the integration's access token as Bearer (off by default, as in Magento
/// 2.4.4+): for tests that call the raw API without signing.
pub fn bearer_allowed() -> SandboxSettings {
    SandboxSettings {
        accept_bearer: true,
        ..SandboxSettings::default()
    }
}

pub async fn start(settings: SandboxSettings) -> Harness {
    start_with(settings, |_| {}).await
}

/// A sandbox set up as a merchant sets up a store for the channel ("Purchase Order" switched on).
pub async fn start_with(settings: SandboxSettings, adjust: impl FnOnce(&mut CommerceConfig)) -> Harness {
    start_as_configured(settings.with_purchase_order(), adjust).await
}

/// A sandbox exactly as `settings` say (Magento's defaults: "Purchase Order" off).
pub async fn start_as_configured(
    settings: SandboxSettings,
    adjust: impl FnOnce(&mut CommerceConfig),
) -> Harness {
    let clock = Arc::new(ManualClock::at(start_time()));
    let sandbox = CommerceSandbox::start(settings, clock.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let mut config = CommerceConfig::new(sandbox.base_url(), "default", oauth());
    config.request_timeout = Duration::from_secs(10);
    adjust(&mut config);
    let client = CommerceClient::new(config, clock.clone()).unwrap();
    Harness {
        sandbox,
        client,
        clock,
    }
}

pub fn deadline() -> Deadline {
    Deadline::after(Duration::from_secs(60))
}

pub fn product(sku: &str, price: f64, qty_default: f64, qty_east: f64) -> ProductSeed {
    ProductSeed {
        sku: sku.into(),
        name: Some(format!("Product {sku}")),
        price: Some(price),
        weight: Some(1.5),
        upc: Some(commerce_sandbox::upc_for(
            sku.len() as u64 * 7919 + sku.bytes().map(u64::from).sum::<u64>(),
        )),
        walmart_enabled: Some(true),
        category_ids: Some(vec![3]),
        stock: [
            ("default".to_owned(), qty_default),
            ("warehouse_east".to_owned(), qty_east),
        ]
        .into_iter()
        .collect(),
        ..ProductSeed::default()
    }
}

pub fn walmart_line(n: u32, sku: &str, qty: u32, cents: i64) -> OrderLine {
    OrderLine {
        number: LineNumber(n),
        sku: Sku::new(sku).unwrap(),
        product_name: sku.into(),
        quantity: qty,
        unit_price: Money::from_cents(cents),
        tax: Money::ZERO,
        shipping: Money::ZERO,
        status: WalmartLineStatus::Acknowledged,
    }
}

pub fn purchase_order(id: &str, email: &str, order_date: Timestamp, lines: Vec<OrderLine>) -> PurchaseOrder {
    PurchaseOrder {
        id: PurchaseOrderId::new(id).unwrap(),
        customer_order_id: CustomerOrderId::new(format!("C{id}")).unwrap(),
        order_date,
        method_code: MethodCode::new("Standard").unwrap(),
        ship_to: ShipTo {
            name: "Jane Doe".into(),
            address1: "1 Main St".into(),
            address2: None,
            city: "Bentonville".into(),
            state: "AR".into(),
            postal_code: "72712".into(),
            country: "USA".into(),
            phone: Some("5555550100".into()),
            email: Some(email.into()),
        },
        lines,
    }
}

pub fn skus(list: &[&str]) -> Vec<Sku> {
    list.iter().map(|s| Sku::new(*s).unwrap()).collect()
}
