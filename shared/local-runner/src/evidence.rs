//! Everything the end of a run is judged on, read once: the channel's records from the state store,
//! what the Walmart sandbox received and holds, what the Commerce sandbox holds, and the scenario's
//! journal. Latencies and invariants are pure functions of it.

use std::collections::BTreeMap;

use commerce_client::wire::{CreditMemo, Order as CommerceOrder, Product, Rma, Shipment};
use domain::{ChannelSettings, Listing, Money, OrderRecord, OrderSummary, ReturnRecord, Timestamp};
use operations::health::{ConfigurationHealth, configuration_problem};
use ports::records::{channel_pk, listing_key, order_status_pk};
use ports::{Query, StateStore, StoreError, query_all};
use serde::de::DeserializeOwned;
use walmart_sandbox::{EndpointCounters, Received, ValueUpdate};

use crate::observe::ObservedStore;
use crate::scenario::Journal;

/// The channel's own records.
#[derive(Debug, Clone, Default)]
pub struct ChannelRecords {
    pub listings: Vec<Listing>,
    pub orders: Vec<OrderRecord>,
    pub returns: Vec<ReturnRecord>,
    /// The configuration problem that stopped the channel, if one is still recorded.
    pub configuration: Option<ConfigurationHealth>,
    /// Records that could not be read as their type (a schema drift worth reporting).
    pub unreadable: Vec<String>,
}

impl ChannelRecords {
    pub async fn load(store: &dyn StateStore, settings: &ChannelSettings) -> Result<Self, StoreError> {
        let mut out = Self::default();
        let listings = query_all(store, Query::partition(channel_pk(&settings.id, "LISTING"))).await?;
        out.listings = decode(listings, &mut out.unreadable);
        for summary in OrderSummary::ALL {
            let stored =
                query_all(store, Query::status_index(order_status_pk(&settings.id, summary))).await?;
            let mut orders: Vec<OrderRecord> = decode(stored, &mut out.unreadable);
            out.orders.append(&mut orders);
        }
        out.orders
            .sort_by(|a, b| a.order.id.as_str().cmp(b.order.id.as_str()));
        let returns = query_all(store, Query::partition(channel_pk(&settings.id, "RETURN"))).await?;
        out.returns = decode(returns, &mut out.unreadable);
        out.configuration = configuration_problem(store, &settings.id).await?;
        Ok(out)
    }

    pub fn order(&self, purchase_order_id: &str) -> Option<&OrderRecord> {
        self.orders
            .iter()
            .find(|o| o.order.id.as_str() == purchase_order_id)
    }

    pub fn listing(&self, sku: &str) -> Option<&Listing> {
        self.listings.iter().find(|l| l.sku.as_str() == sku)
    }
}

fn decode<T: DeserializeOwned>(stored: Vec<ports::Stored>, unreadable: &mut Vec<String>) -> Vec<T> {
    stored
        .into_iter()
        .filter_map(|s| match serde_json::from_value(s.item.body) {
            Ok(record) => Some(record),
            Err(e) => {
                unreadable.push(format!("{}/{}: {e}", s.item.key.pk, s.item.key.sk));
                None
            }
        })
        .collect()
}

/// A seller item as Walmart's own records show it.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WalmartItem {
    pub sku: String,
    #[serde(default)]
    pub published_status: String,
    #[serde(default)]
    pub lifecycle_status: String,
}

impl WalmartItem {
    /// Buyers can see and buy it.
    pub fn is_live(&self) -> bool {
        self.published_status == "PUBLISHED" && self.lifecycle_status == "ACTIVE"
    }
}

/// What Walmart holds and was told.
#[derive(Debug, Clone, Default)]
pub struct WalmartEvidence {
    pub received: Received,
    /// Every seller item, from the sandbox (not from the channel's listings).
    pub items: Vec<WalmartItem>,
    pub inventory: BTreeMap<String, u32>,
    pub prices: BTreeMap<String, Money>,
    pub inventory_updates: Vec<ValueUpdate<u32>>,
    pub price_updates: Vec<ValueUpdate<domain::Money>>,
    pub stats: BTreeMap<String, EndpointCounters>,
}

impl WalmartEvidence {
    pub fn live_items(&self) -> impl Iterator<Item = &WalmartItem> {
        self.items.iter().filter(|i| i.is_live())
    }
}

/// What Commerce holds.
#[derive(Debug, Clone, Default)]
pub struct CommerceEvidence {
    pub orders: Vec<CommerceOrder>,
    pub shipments: Vec<Shipment>,
    pub credit_memos: Vec<CreditMemo>,
    pub returns: Vec<Rma>,
    /// Salable quantity of each SKU live on Walmart (by Walmart's records).
    pub salable: BTreeMap<String, f64>,
    /// The product behind each SKU live on Walmart, as Commerce renders it; absent when Commerce
    /// has no such product.
    pub products: BTreeMap<String, Product>,
    /// The store's time zone (special price dates are its days).
    pub timezone: String,
    pub stats: BTreeMap<String, u64>,
}

impl CommerceEvidence {
    /// Commerce orders carrying the purchase order id.
    pub fn orders_for(&self, purchase_order_id: &str) -> Vec<&CommerceOrder> {
        self.orders
            .iter()
            .filter(|o| o.po_number() == Some(purchase_order_id))
            .collect()
    }

    pub fn order(&self, entity_id: u64) -> Option<&CommerceOrder> {
        self.orders.iter().find(|o| o.entity_id == Some(entity_id))
    }
}

/// The end state of a demo run.
#[derive(Debug, Clone)]
pub struct Evidence {
    pub settings: ChannelSettings,
    /// When it was read: the rules (special price windows) are applied as of then.
    pub at: Timestamp,
    pub journal: Journal,
    pub records: ChannelRecords,
    /// When each listing was first written (by SKU), as the observing store saw it.
    pub listing_written_at: BTreeMap<String, Timestamp>,
    pub walmart: WalmartEvidence,
    pub commerce: CommerceEvidence,
}

#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    #[error("reading the channel's records: {0}")]
    Store(#[from] StoreError),
    #[error("Walmart sandbox control: {0}")]
    Walmart(#[from] walmart_sandbox::ControlError),
    #[error("Commerce sandbox control: {0}")]
    Commerce(#[from] commerce_sandbox::ControlError),
    #[error("unexpected Commerce sandbox answer: {0}")]
    Decode(String),
}

fn decode_values<T: DeserializeOwned>(values: Vec<serde_json::Value>) -> Result<Vec<T>, EvidenceError> {
    values
        .into_iter()
        .map(|v| serde_json::from_value(v).map_err(|e| EvidenceError::Decode(e.to_string())))
        .collect()
}

impl Evidence {
    pub async fn gather(
        settings: &ChannelSettings,
        at: Timestamp,
        journal: Journal,
        store: &ObservedStore,
        walmart: &walmart_sandbox::ControlClient,
        commerce: &commerce_sandbox::ControlClient,
    ) -> Result<Self, EvidenceError> {
        let records = ChannelRecords::load(store, settings).await?;
        let listing_written_at = records
            .listings
            .iter()
            .filter_map(|l| {
                store
                    .first_written(&listing_key(&settings.id, &l.sku))
                    .map(|at| (l.sku.as_str().to_owned(), at))
            })
            .collect();
        let walmart = WalmartEvidence {
            received: walmart.received().await?,
            items: decode_values(walmart.seller_items().await?)?,
            inventory: walmart.inventory().await?,
            prices: walmart.prices().await?,
            inventory_updates: walmart.inventory_updates().await?,
            price_updates: walmart.price_updates().await?,
            stats: walmart.stats().await?,
        };
        let stock_id = match settings.stock {
            domain::StockSource::Msi { stock_id } => u64::from(stock_id),
            // Without MSI the sandbox's legacy quantity is stock 1's salable quantity.
            domain::StockSource::Legacy => 1,
        };
        let mut salable = BTreeMap::new();
        let mut products = BTreeMap::new();
        for item in walmart.live_items() {
            let product = match commerce.product(&item.sku).await {
                Ok(product) => product,
                Err(commerce_sandbox::ControlError::Status { status: 404, .. }) => continue,
                Err(e) => return Err(e.into()),
            };
            let product: Product =
                serde_json::from_value(product).map_err(|e| EvidenceError::Decode(e.to_string()))?;
            let (_, qty) = commerce.salable(&item.sku, stock_id).await?;
            salable.insert(item.sku.clone(), qty);
            products.insert(item.sku.clone(), product);
        }
        let commerce = CommerceEvidence {
            orders: decode_values(commerce.orders().await?)?,
            shipments: decode_values(commerce.shipments().await?)?,
            credit_memos: decode_values(commerce.credit_memos().await?)?,
            returns: decode_values(commerce.returns().await?)?,
            salable,
            products,
            timezone: commerce.store_config().await?["timezone"]
                .as_str()
                .unwrap_or("UTC")
                .to_owned(),
            stats: commerce.stats().await?,
        };
        Ok(Self {
            settings: settings.clone(),
            at,
            journal,
            records,
            listing_written_at,
            walmart,
            commerce,
        })
    }
}
