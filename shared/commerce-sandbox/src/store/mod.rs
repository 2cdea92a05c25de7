//! The store's state and its business rules: catalog, MSI (sources, stocks, reservations), carts,
//! orders with Magento's states, invoices, shipments, cancellations, credit memos and RMAs.
//!
//! Everything lives behind one mutex; every change moves the touched record's `updated_at` to the
//! clock's now.

mod carts;
mod catalog;
mod inventory;
mod orders;
mod refunds;
mod returns;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use domain::Timestamp;
use ports::Clock;

pub use catalog::{CatalogSpec, ProductSeed, upc_for};
pub use orders::{ShipLine, TrackInput};
pub use refunds::RefundInput;

use crate::model::*;
use crate::settings::SandboxSettings;

/// The default website, served by stock 1.
pub const WEBSITE_CODE: &str = "base";

pub struct Commerce {
    pub clock: Arc<dyn Clock>,
    pub settings: SandboxSettings,
    next_id: u64,
    next_increment: HashMap<&'static str, u64>,
    pub products: BTreeMap<u64, Product>,
    pub sku_index: HashMap<String, u64>,
    /// (updated_at, id): products in change order, for cursor searches over a large catalog.
    pub by_updated: BTreeSet<(i64, u64)>,
    pub sources: Vec<Source>,
    pub stocks: Vec<StockDef>,
    /// (sku, source code) → source item.
    pub source_items: BTreeMap<(String, String), SourceItem>,
    pub reservations: Vec<Reservation>,
    reserved: HashMap<(u64, String), f64>,
    pub customers: BTreeMap<u64, Customer>,
    pub carts: HashMap<u64, Cart>,
    pub masked_carts: HashMap<String, u64>,
    pub orders: BTreeMap<u64, Order>,
    pub invoices: BTreeMap<u64, Invoice>,
    pub shipments: BTreeMap<u64, Shipment>,
    pub credit_memos: BTreeMap<u64, CreditMemo>,
    pub rmas: BTreeMap<u64, Rma>,
    pub expired_tokens: Vec<String>,
    /// Order placements still to be committed but answered 503, as when a proxy times out after
    /// Magento placed the order (control API).
    pub lose_placement_answers: u32,
    /// Throttling by a CDN or proxy in front of the store, for the next requests.
    pub throttle: Option<crate::control::Throttle>,
    /// (consumer key, nonce) pairs already used: Magento refuses a nonce twice.
    pub used_nonces: HashSet<(String, String)>,
    /// Calls per route template, for benchmarks.
    pub stats: BTreeMap<String, u64>,
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

impl Commerce {
    pub fn new(settings: SandboxSettings, clock: Arc<dyn Clock>) -> Self {
        let mut store = Self {
            clock,
            settings,
            next_id: 0,
            next_increment: HashMap::new(),
            products: BTreeMap::new(),
            sku_index: HashMap::new(),
            by_updated: BTreeSet::new(),
            sources: vec![
                Source {
                    source_code: "default".into(),
                    name: "Default Source".into(),
                    enabled: true,
                },
                Source {
                    source_code: "warehouse_east".into(),
                    name: "East Warehouse".into(),
                    enabled: true,
                },
            ],
            stocks: vec![StockDef {
                stock_id: 1,
                name: "Default Stock".into(),
                sources: vec!["default".into(), "warehouse_east".into()],
                websites: vec![WEBSITE_CODE.into()],
            }],
            source_items: BTreeMap::new(),
            reservations: Vec::new(),
            reserved: HashMap::new(),
            customers: BTreeMap::new(),
            carts: HashMap::new(),
            masked_carts: HashMap::new(),
            orders: BTreeMap::new(),
            invoices: BTreeMap::new(),
            shipments: BTreeMap::new(),
            credit_memos: BTreeMap::new(),
            rmas: BTreeMap::new(),
            expired_tokens: Vec::new(),
            lose_placement_answers: 0,
            throttle: None,
            used_nonces: HashSet::new(),
            stats: BTreeMap::new(),
        };
        store.customers.insert(
            1,
            Customer {
                id: 1,
                email: "walmart-orders@example.com".into(),
                firstname: "Walmart".into(),
                lastname: "Marketplace".into(),
            },
        );
        store
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn increment(&mut self, kind: &'static str) -> String {
        let n = self.next_increment.entry(kind).or_insert(0);
        *n += 1;
        format!("{:09}", *n)
    }

    /// Revokes (or restores) access tokens.
    pub fn expire_tokens(&mut self, tokens: Vec<String>) {
        for t in tokens {
            if !self.expired_tokens.contains(&t) {
                self.expired_tokens.push(t);
            }
        }
    }
}
