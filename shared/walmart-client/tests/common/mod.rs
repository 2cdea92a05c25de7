//! Shared setup: a Walmart sandbox on a loopback port and a client talking to it, both on one
//! manual clock so token expiry, feed progression and rate-limit refills are driven by the test.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use domain::{Money, Timestamp};
use ports::{Backoff, ManualClock};
use sandbox_kit::Exchange;
use walmart_client::{ClientSecret, WalmartClient, WalmartConfig};
use walmart_sandbox::{
    CatalogItemSpec, ControlClient, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, NewOrder, NewOrderLine,
    RunningSandbox, SandboxSettings, SellerItemSpec, ShipToSpec, WalmartSandbox,
};

/// 2025-11-27T10:00:00Z.
pub const START: Timestamp = Timestamp::from_millis(1_764_237_600_000);

pub struct Harness {
    pub sandbox: RunningSandbox,
    pub control: ControlClient,
    pub clock: Arc<ManualClock>,
    pub client: WalmartClient,
}

pub fn settings() -> SandboxSettings {
    SandboxSettings {
        feed_received_secs: 10,
        feed_processing_secs: 50,
        ..SandboxSettings::default()
    }
}

pub fn config(base_url: &str) -> WalmartConfig {
    let mut config = WalmartConfig::custom(
        base_url,
        DEFAULT_CLIENT_ID,
        ClientSecret::new(DEFAULT_CLIENT_SECRET),
    );
    config.request_timeout = Duration::from_secs(10);
    config.backoff = Backoff {
        base: Duration::from_millis(100),
        max_delay: Duration::from_secs(2),
        max_attempts: 4,
    };
    config
}

pub async fn start_with(settings: SandboxSettings, configure: impl FnOnce(&mut WalmartConfig)) -> Harness {
    let clock = Arc::new(ManualClock::at(START));
    let sandbox = WalmartSandbox::start(
        settings,
        clock.clone(),
        "127.0.0.1:0".parse().expect("literal address"),
    )
    .await
    .expect("sandbox starts on a free port");
    let mut config = config(&sandbox.base_url());
    configure(&mut config);
    let client = WalmartClient::new(config, clock.clone()).expect("client builds");
    Harness {
        control: sandbox.control(),
        sandbox,
        clock,
        client,
    }
}

pub async fn start() -> Harness {
    start_with(settings(), |_| {}).await
}

/// Valid GTIN-13s (EAN) built from a number, so large catalogs are easy to make.
pub fn ean(n: u64) -> String {
    let body = format!("{:012}", 400_000_000_000 + n);
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

impl Harness {
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.sandbox.recorder().snapshot()
    }

    pub fn exchanges_to(&self, method: &str, path_prefix: &str) -> Vec<Exchange> {
        self.exchanges()
            .into_iter()
            .filter(|e| e.method == method && e.path.starts_with(path_prefix))
            .collect()
    }

    /// Catalog items and seller items `sku-{n}` for `n` in `range`, each with a quantity and price.
    pub async fn seed_items(&self, range: std::ops::Range<u64>) {
        let catalog: Vec<CatalogItemSpec> = range
            .clone()
            .map(|n| CatalogItemSpec {
                gtin: ean(n),
                product_name: format!("Product {n}"),
                brand: Some("Acme".into()),
                product_type: None,
                price: Some(Money::from_cents(1000 + n as i64)),
                wpid: None,
            })
            .collect();
        self.control
            .add_catalog_items(&catalog)
            .await
            .expect("catalog seeded");
        let items: Vec<SellerItemSpec> = range
            .map(|n| SellerItemSpec {
                sku: format!("sku-{n}"),
                gtin: ean(n),
                price: Some(Money::from_cents(1500)),
                quantity: Some(5),
            })
            .collect();
        self.control.add_seller_items(&items).await.expect("items seeded");
    }

    pub async fn order(&self, lines: &[(&str, u32)]) -> String {
        let order = NewOrder {
            lines: lines
                .iter()
                .map(|(sku, quantity)| NewOrderLine {
                    sku: (*sku).to_owned(),
                    quantity: *quantity,
                    unit_price: Money::from_cents(1999),
                    tax: Money::from_cents(160 * i64::from(*quantity)),
                    shipping: Money::ZERO,
                    product_name: None,
                })
                .collect(),
            ship_to: ShipToSpec::default(),
            method_code: "Standard".into(),
            order_date: None,
            purchase_order_id: None,
        };
        self.control
            .create_order(&order)
            .await
            .expect("order placed")
            .purchase_order_id
    }
}
