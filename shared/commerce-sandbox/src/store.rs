//! The store's state and its business rules: catalog, MSI (sources, stocks, reservations), carts,
//! orders with Magento's states, invoices, shipments, cancellations, credit memos and RMAs.
//!
//! Everything lives behind one mutex; every change moves the touched record's `updated_at` to the
//! clock's now.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use domain::Timestamp;
use ports::Clock;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::model::*;
use crate::settings::SandboxSettings;

/// The default website, served by stock 1.
pub const WEBSITE_CODE: &str = "base";

/// A product to create or update (control API). Omitted fields keep their value on update.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProductSeed {
    pub sku: String,
    pub name: Option<String>,
    /// `simple` (default) or `configurable`.
    pub type_id: Option<String>,
    pub price: Option<f64>,
    pub special_price: Option<f64>,
    pub special_from_date: Option<String>,
    pub special_to_date: Option<String>,
    pub weight: Option<f64>,
    pub status: Option<i64>,
    pub visibility: Option<i64>,
    pub upc: Option<String>,
    pub walmart_enabled: Option<bool>,
    pub category_ids: Option<Vec<u64>>,
    pub website_ids: Option<Vec<u64>>,
    /// SKUs of a configurable product's children (which must exist or be earlier in the same batch).
    pub children: Option<Vec<String>>,
    pub attributes: BTreeMap<String, String>,
    /// Quantity per source code.
    pub stock: BTreeMap<String, f64>,
}

/// A synthetic catalog for benchmarks (control API).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CatalogSpec {
    pub count: usize,
    pub sku_prefix: String,
    pub price: f64,
    /// Quantity at each source.
    pub quantity_per_source: f64,
    /// Every n-th product has `walmart_enabled` = 1 (0: none).
    pub walmart_enabled_every: usize,
    pub category_id: u64,
}

impl Default for CatalogSpec {
    fn default() -> Self {
        Self {
            count: 1000,
            sku_prefix: "GEN-".into(),
            price: 19.99,
            quantity_per_source: 10.0,
            walmart_enabled_every: 1,
            category_id: 3,
        }
    }
}

/// One line of a merchant's shipment (control API): by SKU or order item id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShipLine {
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(default)]
    pub order_item_id: Option<u64>,
    pub qty: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackInput {
    pub carrier_code: String,
    pub title: String,
    pub number: String,
}

/// An offline refund's inputs (`POST /V1/order/{id}/refund`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RefundInput {
    /// (order item id, qty); empty = every refundable quantity (and the remaining shipping).
    pub items: Vec<(u64, f64)>,
    pub shipping_amount: Option<f64>,
    pub adjustment_positive: f64,
    pub adjustment_negative: f64,
    /// Order item ids whose refunded units go back to the stock's first source.
    pub return_to_stock: Vec<u64>,
    pub comment: Option<String>,
}

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

    // ---------------------------------------------------------------- catalog

    pub fn product_by_sku(&self, sku: &str) -> Result<&Product, ApiError> {
        self.sku_index
            .get(sku)
            .and_then(|id| self.products.get(id))
            .ok_or_else(ApiError::product_not_found)
    }

    fn touch_product(&mut self, id: u64) {
        let now = self.now();
        if let Some(product) = self.products.get_mut(&id) {
            self.by_updated.remove(&(product.updated_at.millis(), id));
            product.updated_at = now;
            self.by_updated.insert((now.millis(), id));
        }
    }

    /// Creates or updates products; returns (created, updated).
    pub fn upsert_products(&mut self, seeds: Vec<ProductSeed>) -> Result<(usize, usize), ApiError> {
        let (mut created, mut updated) = (0, 0);
        let now = self.now();
        for seed in seeds {
            if seed.sku.trim().is_empty() {
                return Err(ApiError::required_field("sku"));
            }
            let children = match &seed.children {
                Some(skus) => Some(
                    skus.iter()
                        .map(|s| {
                            self.sku_index.get(s).copied().ok_or_else(|| {
                                ApiError::bad_request_list("Child product %1 does not exist.", &[s])
                            })
                        })
                        .collect::<Result<Vec<u64>, ApiError>>()?,
                ),
                None => None,
            };
            let id = match self.sku_index.get(&seed.sku) {
                Some(id) => {
                    updated += 1;
                    *id
                }
                None => {
                    created += 1;
                    let id = self.id();
                    let product = Product {
                        id,
                        sku: seed.sku.clone(),
                        name: seed.sku.clone(),
                        type_id: TYPE_SIMPLE.into(),
                        status: 1,
                        visibility: 4,
                        price: 0.0,
                        special_price: None,
                        special_from_date: None,
                        special_to_date: None,
                        weight: None,
                        attributes: BTreeMap::new(),
                        category_ids: Vec::new(),
                        website_ids: vec![1],
                        children: Vec::new(),
                        created_at: now,
                        updated_at: now,
                    };
                    self.sku_index.insert(seed.sku.clone(), id);
                    self.by_updated.insert((now.millis(), id));
                    self.products.insert(id, product);
                    id
                }
            };
            if let Some(product) = self.products.get_mut(&id) {
                if let Some(v) = seed.name {
                    product.name = v;
                }
                if let Some(v) = seed.type_id {
                    product.type_id = v;
                }
                if let Some(v) = seed.price {
                    product.price = v;
                }
                if seed.special_price.is_some() {
                    product.special_price = seed.special_price;
                }
                if seed.special_from_date.is_some() {
                    product.special_from_date = seed.special_from_date;
                }
                if seed.special_to_date.is_some() {
                    product.special_to_date = seed.special_to_date;
                }
                if seed.weight.is_some() {
                    product.weight = seed.weight;
                }
                if let Some(v) = seed.status {
                    product.status = v;
                }
                if let Some(v) = seed.visibility {
                    product.visibility = v;
                }
                if let Some(v) = seed.upc {
                    product.attributes.insert("upc".into(), v);
                }
                if let Some(v) = seed.walmart_enabled {
                    product
                        .attributes
                        .insert("walmart_enabled".into(), if v { "1" } else { "0" }.into());
                }
                if let Some(v) = seed.category_ids {
                    product.category_ids = v;
                }
                if let Some(v) = seed.website_ids {
                    product.website_ids = v;
                }
                if let Some(v) = children {
                    product.children = v;
                }
                product.attributes.extend(seed.attributes);
            }
            self.touch_product(id);
            for (source_code, quantity) in seed.stock {
                self.set_source_item(&seed.sku, &source_code, quantity, None)?;
            }
        }
        Ok((created, updated))
    }

    /// A synthetic catalog of simple products with stock at every source.
    pub fn generate_catalog(&mut self, spec: &CatalogSpec) -> Result<usize, ApiError> {
        let sources: Vec<String> = self.sources.iter().map(|s| s.source_code.clone()).collect();
        let seeds = (0..spec.count)
            .map(|n| {
                let enabled = spec.walmart_enabled_every > 0 && n % spec.walmart_enabled_every == 0;
                ProductSeed {
                    sku: format!("{}{:06}", spec.sku_prefix, n),
                    name: Some(format!("Generated product {n}")),
                    price: Some(spec.price),
                    weight: Some(1.0),
                    upc: Some(upc_for(n as u64)),
                    walmart_enabled: Some(enabled),
                    category_ids: Some(vec![spec.category_id]),
                    stock: sources
                        .iter()
                        .map(|s| (s.clone(), spec.quantity_per_source))
                        .collect(),
                    ..ProductSeed::default()
                }
            })
            .collect();
        self.upsert_products(seeds).map(|(created, _)| created)
    }

    /// Sets a product's price fields (control API); `None` leaves a field, `Some(None)`-like clearing
    /// is done with a negative special price.
    pub fn set_price(
        &mut self,
        sku: &str,
        price: Option<f64>,
        special: Option<f64>,
        from: Option<String>,
        to: Option<String>,
    ) -> Result<(), ApiError> {
        let id = self.product_by_sku(sku)?.id;
        if let Some(product) = self.products.get_mut(&id) {
            if let Some(p) = price {
                product.price = p;
            }
            match special {
                Some(sp) if sp < 0.0 => {
                    product.special_price = None;
                    product.special_from_date = None;
                    product.special_to_date = None;
                }
                Some(sp) => product.special_price = Some(sp),
                None => {}
            }
            if from.is_some() {
                product.special_from_date = from;
            }
            if to.is_some() {
                product.special_to_date = to;
            }
        }
        self.touch_product(id);
        Ok(())
    }

    // ---------------------------------------------------------------- inventory

    /// Sets a source item's quantity (and status: in stock when positive unless given).
    pub fn set_source_item(
        &mut self,
        sku: &str,
        source_code: &str,
        quantity: f64,
        status: Option<i64>,
    ) -> Result<(), ApiError> {
        self.product_by_sku(sku)?;
        if !self.sources.iter().any(|s| s.source_code == source_code) {
            return Err(ApiError::bad_request_list(
                "Source %1 does not exist.",
                &[source_code],
            ));
        }
        let status = status.unwrap_or(if quantity > 0.0 { 1 } else { 0 });
        self.source_items.insert(
            (sku.to_owned(), source_code.to_owned()),
            SourceItem {
                sku: sku.to_owned(),
                source_code: source_code.to_owned(),
                quantity,
                status,
            },
        );
        Ok(())
    }

    pub fn stock(&self, stock_id: u64) -> Option<&StockDef> {
        self.stocks.iter().find(|s| s.stock_id == stock_id)
    }

    pub fn stock_for_website(&self, website: &str) -> Option<&StockDef> {
        self.stocks
            .iter()
            .find(|s| s.websites.iter().any(|w| w == website))
    }

    /// Σ in-stock source quantities of the stock's enabled sources.
    pub fn source_quantity(&self, sku: &str, stock_id: u64) -> f64 {
        let Some(stock) = self.stock(stock_id) else {
            return 0.0;
        };
        stock
            .sources
            .iter()
            .filter(|code| self.sources.iter().any(|s| &s.source_code == *code && s.enabled))
            .filter_map(|code| self.source_items.get(&(sku.to_owned(), code.clone())))
            .filter(|item| item.status == 1)
            .map(|item| item.quantity)
            .sum()
    }

    /// Salable quantity = source quantity + reservations (which are negative while orders are open).
    pub fn salable_quantity(&self, sku: &str, stock_id: u64) -> f64 {
        self.source_quantity(sku, stock_id)
            + self
                .reserved
                .get(&(stock_id, sku.to_owned()))
                .copied()
                .unwrap_or(0.0)
    }

    pub fn is_salable(&self, sku: &str, stock_id: u64) -> bool {
        match self.product_by_sku(sku) {
            Ok(p) if p.status != 1 => false,
            Ok(p) if p.type_id == TYPE_CONFIGURABLE => p
                .children
                .iter()
                .filter_map(|id| self.products.get(id))
                .any(|c| c.status == 1 && self.salable_quantity(&c.sku, stock_id) > 0.0),
            Ok(p) => self.salable_quantity(&p.sku, stock_id) > 0.0,
            Err(_) => false,
        }
    }

    fn reserve(
        &mut self,
        stock_id: u64,
        sku: &str,
        quantity: f64,
        event: &str,
        order_id: u64,
        increment_id: &str,
    ) {
        let reservation_id = self.id();
        let metadata = json!({
            "event_type": event, "object_type": "order", "object_id": order_id.to_string(),
            "object_increment_id": increment_id
        })
        .to_string();
        self.reservations.push(Reservation {
            reservation_id,
            stock_id,
            sku: sku.to_owned(),
            quantity,
            metadata,
        });
        *self.reserved.entry((stock_id, sku.to_owned())).or_insert(0.0) += quantity;
    }

    /// Deducts shipped units from the stock's sources in priority order (Magento's default source
    /// selection). Fails without changing anything when the sources cannot cover it.
    fn deduct_sources(&mut self, stock_id: u64, sku: &str, qty: f64) -> Result<(), ApiError> {
        let sources = self
            .stock(stock_id)
            .map(|s| s.sources.clone())
            .unwrap_or_default();
        let available: f64 = sources
            .iter()
            .filter_map(|code| self.source_items.get(&(sku.to_owned(), code.clone())))
            .map(|i| i.quantity.max(0.0))
            .sum();
        if available + 1e-9 < qty {
            return Err(ApiError::bad_request(
                "Not all of your products are available in the requested quantity.",
            ));
        }
        let mut remaining = qty;
        for code in sources {
            if remaining <= 0.0 {
                break;
            }
            if let Some(item) = self.source_items.get_mut(&(sku.to_owned(), code)) {
                let take = item.quantity.max(0.0).min(remaining);
                item.quantity -= take;
                remaining -= take;
                if item.quantity <= 0.0 {
                    item.status = 0;
                }
            }
        }
        Ok(())
    }

    // ---------------------------------------------------------------- carts

    pub fn create_cart(
        &mut self,
        store_code: &str,
        customer_id: Option<u64>,
        guest: bool,
    ) -> Result<u64, ApiError> {
        if let Some(customer_id) = customer_id {
            if !self.customers.contains_key(&customer_id) {
                return Err(ApiError::no_such_entity("customerId", customer_id));
            }
            // A customer has one active cart: Magento hands back the existing one.
            if let Some(cart) = self
                .carts
                .values()
                .find(|c| c.active && c.customer_id == Some(customer_id))
            {
                return Ok(cart.id);
            }
        }
        let id = self.id();
        let now = self.now();
        let masked_id = guest.then(|| {
            format!(
                "{:032x}",
                (u128::from(id) << 64)
                    ^ (now.millis() as u128)
                    ^ 0x5bd1_e995_u128.wrapping_mul(u128::from(id))
            )
        });
        if let Some(masked) = &masked_id {
            self.masked_carts.insert(masked.clone(), id);
        }
        self.carts.insert(
            id,
            Cart {
                id,
                masked_id,
                customer_id,
                store_code: store_code.to_owned(),
                items: Vec::new(),
                shipping_address: None,
                billing_address: None,
                shipping: None,
                active: true,
                created_at: now,
                updated_at: now,
            },
        );
        Ok(id)
    }

    /// The active cart by numeric id, or by masked id for guest routes.
    pub fn cart_id(&self, raw: &str, guest: bool) -> Result<u64, ApiError> {
        let id = if guest {
            self.masked_carts.get(raw).copied()
        } else {
            raw.parse::<u64>().ok()
        };
        id.filter(|id| self.carts.get(id).is_some_and(|c| c.active))
            .ok_or_else(|| ApiError::no_such_entity("cartId", raw))
    }

    pub fn add_cart_item(&mut self, cart_id: u64, sku: &str, qty: f64) -> Result<u64, ApiError> {
        if qty <= 0.0 {
            return Err(ApiError::bad_request(
                "The qty value is required to update quote item.",
            ));
        }
        let now = self.now();
        let product = self.product_by_sku(sku)?.clone();
        if product.status != 1 {
            return Err(ApiError::bad_request(
                "Product that you are trying to add is not available.",
            ));
        }
        if product.type_id == TYPE_CONFIGURABLE {
            return Err(ApiError::bad_request("You need to choose options for your item."));
        }
        let existing = self
            .carts
            .get(&cart_id)
            .and_then(|c| c.items.iter().find(|i| i.sku == sku))
            .map(|i| i.qty)
            .unwrap_or(0.0);
        if self.salable_quantity(sku, 1) < existing + qty {
            return Err(ApiError::bad_request("The requested qty is not available"));
        }
        let new_item_id = self.id();
        let cart = self
            .carts
            .get_mut(&cart_id)
            .ok_or_else(|| ApiError::no_such_entity("cartId", cart_id))?;
        cart.updated_at = now;
        let zone = domain::StoreTimeZone::named(&self.settings.timezone)
            .unwrap_or_else(|_| domain::StoreTimeZone::utc());
        let price = product.final_price(now, &zone);
        if let Some(item) = cart.items.iter_mut().find(|i| i.sku == sku) {
            item.qty += qty;
            item.price = price;
            return Ok(item.item_id);
        }
        cart.items.push(CartLine {
            item_id: new_item_id,
            sku: sku.to_owned(),
            product_id: product.id,
            name: product.name.clone(),
            product_type: product.type_id.clone(),
            qty,
            price,
        });
        Ok(new_item_id)
    }

    pub fn remove_cart_item(&mut self, cart_id: u64, item_id: u64) -> Result<(), ApiError> {
        let cart = self
            .carts
            .get_mut(&cart_id)
            .ok_or_else(|| ApiError::no_such_entity("cartId", cart_id))?;
        let before = cart.items.len();
        cart.items.retain(|i| i.item_id != item_id);
        if cart.items.len() == before {
            return Err(ApiError::with_list(
                axum::http::StatusCode::NOT_FOUND,
                "The %1 Cart doesn't contain the %2 item.",
                &[&cart_id.to_string(), &item_id.to_string()],
            ));
        }
        Ok(())
    }

    pub fn shipping_method(&self, carrier: &str, method: &str) -> Option<&crate::settings::ShippingMethod> {
        self.settings
            .shipping_methods
            .iter()
            .find(|m| m.carrier_code == carrier && m.method_code == method)
    }

    pub fn set_shipping_information(&mut self, cart_id: u64, info: &Value) -> Result<(), ApiError> {
        let shipping = info
            .get("shipping_address")
            .ok_or_else(|| ApiError::required_field("shipping_address"))?;
        let billing = info
            .get("billing_address")
            .cloned()
            .unwrap_or_else(|| shipping.clone());
        let carrier = info
            .get("shipping_carrier_code")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let method = info
            .get("shipping_method_code")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        for (address, _kind) in [(shipping, "shipping"), (&billing, "billing")] {
            for field in [
                "firstname",
                "lastname",
                "street",
                "city",
                "postcode",
                "country_id",
                "telephone",
            ] {
                let present = match address.get(field) {
                    Some(Value::String(s)) => !s.trim().is_empty(),
                    Some(Value::Array(a)) => !a.is_empty(),
                    Some(Value::Null) | None => false,
                    Some(_) => true,
                };
                if !present {
                    return Err(ApiError::required_field(field));
                }
            }
        }
        let cart = self
            .carts
            .get(&cart_id)
            .ok_or_else(|| ApiError::no_such_entity("cartId", cart_id))?;
        if cart.items.is_empty() {
            return Err(ApiError::bad_request(
                "The shipping method can't be set for an empty cart. Add an item to cart and try again.",
            ));
        }
        if self.shipping_method(&carrier, &method).is_none() {
            return Err(ApiError::bad_request_named(
                "Carrier with such method not found: %carrierCode, %methodCode",
                json!({ "carrierCode": carrier, "methodCode": method }),
            ));
        }
        let now = self.now();
        if let Some(cart) = self.carts.get_mut(&cart_id) {
            cart.shipping_address = Some(shipping.clone());
            cart.billing_address = Some(billing);
            cart.shipping = Some((carrier, method));
            cart.updated_at = now;
        }
        Ok(())
    }

    /// Places the cart's order: the quote becomes an order with reservations. `guest` is true for the
    /// guest-carts route, which makes the checkout a guest checkout.
    pub fn place_order(
        &mut self,
        cart_id: u64,
        payment: Option<&Value>,
        guest: bool,
    ) -> Result<u64, ApiError> {
        let cart = self
            .carts
            .get(&cart_id)
            .cloned()
            .ok_or_else(|| ApiError::no_such_entity("cartId", cart_id))?;
        if cart.items.is_empty() {
            return Err(ApiError::bad_request(
                "The cart is empty. Add items and try again.",
            ));
        }
        let (Some((carrier, method)), Some(shipping_address), Some(billing_address)) = (
            cart.shipping.clone(),
            cart.shipping_address.clone(),
            cart.billing_address.clone(),
        ) else {
            return Err(ApiError::bad_request(
                "The shipping method is missing. Select the shipping method and try again.",
            ));
        };
        let payment =
            payment.ok_or_else(|| ApiError::bad_request("Enter a valid payment method and try again."))?;
        let payment_method = payment
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if !self
            .settings
            .payment_methods
            .iter()
            .any(|(code, _)| *code == payment_method)
        {
            return Err(ApiError::bad_request(
                "The requested Payment Method is not available.",
            ));
        }
        let po_number = payment
            .get("po_number")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .filter(|s| !s.is_empty());
        if payment_method == "purchaseorder" && po_number.is_none() {
            return Err(ApiError::bad_request(
                "Purchase order number is a required field.",
            ));
        }
        let (customer_email, customer_firstname, customer_lastname) = match cart.customer_id {
            Some(id) => {
                let c = self
                    .customers
                    .get(&id)
                    .ok_or_else(|| ApiError::no_such_entity("customerId", id))?;
                (c.email.clone(), c.firstname.clone(), c.lastname.clone())
            }
            None if guest => {
                let text = |k: &str| {
                    billing_address
                        .get(k)
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned()
                };
                let email = text("email");
                if email.trim().is_empty() || !email.contains('@') {
                    return Err(ApiError::bad_request_named(
                        "\"%fieldName\" is required. Enter and try again.",
                        json!({"fieldName": "email"}),
                    ));
                }
                (email, text("firstname"), text("lastname"))
            }
            // An anonymous admin cart is not a guest checkout: Magento would try to create a customer
            // account from the quote's (empty) customer data.
            None => {
                return Err(ApiError::bad_request(
                    "The customer email is missing. Enter and try again.",
                ));
            }
        };
        let stock_id = self.stock_for_website(WEBSITE_CODE).map_or(1, |s| s.stock_id);
        for item in &cart.items {
            if self.salable_quantity(&item.sku, stock_id) < item.qty {
                return Err(ApiError::bad_request(
                    "Not all of your products are available in the requested quantity.",
                ));
            }
        }
        let method_def = self.shipping_method(&carrier, &method).cloned().ok_or_else(|| {
            ApiError::bad_request("The shipping method is missing. Select the shipping method and try again.")
        })?;
        let order_id = self.id();
        let increment_id = self.increment("order");
        let now = self.now();
        let items: Vec<OrderLine> = cart
            .items
            .iter()
            .map(|i| OrderLine {
                item_id: 0,
                sku: i.sku.clone(),
                name: i.name.clone(),
                product_id: i.product_id,
                product_type: i.product_type.clone(),
                price: i.price,
                weight: self
                    .products
                    .get(&i.product_id)
                    .and_then(|p| p.weight)
                    .unwrap_or(0.0),
                qty_ordered: i.qty,
                qty_invoiced: 0.0,
                qty_shipped: 0.0,
                qty_canceled: 0.0,
                qty_refunded: 0.0,
            })
            .collect();
        let items: Vec<OrderLine> = items
            .into_iter()
            .map(|mut i| {
                i.item_id = self.id();
                i
            })
            .collect();
        let units: f64 = items.iter().map(|i| i.qty_ordered).sum();
        for item in &items {
            self.reserve(
                stock_id,
                &item.sku,
                -item.qty_ordered,
                "order_placed",
                order_id,
                &increment_id,
            );
        }
        let order = Order {
            id: order_id,
            increment_id,
            store_code: cart.store_code.clone(),
            state: "new".into(),
            status: Some("pending".into()),
            created_at: now,
            updated_at: now,
            customer_email,
            customer_id: cart.customer_id,
            customer_firstname,
            customer_lastname,
            quote_id: cart.id,
            stock_id,
            items,
            shipping_amount: round2(method_def.price_per_item * units),
            shipping_invoiced: false,
            shipping_refunded: 0.0,
            shipping_description: method_def.title.clone(),
            shipping_method: format!("{carrier}_{method}"),
            payment_method,
            po_number,
            billing_address,
            shipping_address,
            histories: Vec::new(),
            total_refunded: 0.0,
        };
        self.orders.insert(order_id, order);
        if let Some(cart) = self.carts.get_mut(&cart_id) {
            cart.active = false;
            cart.updated_at = now;
        }
        Ok(order_id)
    }

    // ---------------------------------------------------------------- orders

    pub fn order(&self, id: u64) -> Result<&Order, ApiError> {
        self.orders.get(&id).ok_or_else(ApiError::entity_not_found)
    }

    fn order_mut(&mut self, id: u64) -> Result<&mut Order, ApiError> {
        self.orders.get_mut(&id).ok_or_else(ApiError::entity_not_found)
    }

    pub fn add_comment(
        &mut self,
        order_id: u64,
        comment: &str,
        status: Option<String>,
        notified: i64,
        visible: i64,
    ) -> Result<(), ApiError> {
        let history_id = self.id();
        let now = self.now();
        let keeps_status = self.settings.comment_keeps_status;
        let order = self.order_mut(order_id)?;
        // Magento before the AC-1342 fix copies the history's status onto the order, so a comment
        // without `status` leaves the order with a NULL status (issue 34180).
        let status = match status {
            Some(status) => Some(status),
            None if keeps_status => order.status.clone(),
            None => None,
        };
        order.status = status.clone();
        order.histories.push(HistoryEntry {
            id: history_id,
            comment: comment.to_owned(),
            created_at: now,
            status,
            is_customer_notified: notified,
            is_visible_on_front: visible,
        });
        order.updated_at = now;
        Ok(())
    }

    /// Invoices quantities (all uninvoiced ones when `items` is empty); returns the invoice id.
    pub fn invoice(&mut self, order_id: u64, items: &[(u64, f64)]) -> Result<u64, ApiError> {
        let order = self.order(order_id)?.clone();
        if matches!(order.state.as_str(), "canceled" | "closed" | "holded")
            || order.items.iter().all(|i| i.qty_to_invoice() <= 0.0)
        {
            return Err(ApiError::bad_request(
                "The order does not allow an invoice to be created.",
            ));
        }
        let wanted: Vec<(u64, f64)> = if items.is_empty() {
            order
                .items
                .iter()
                .filter(|i| i.qty_to_invoice() > 0.0)
                .map(|i| (i.item_id, i.qty_to_invoice()))
                .collect()
        } else {
            items.to_vec()
        };
        for (item_id, qty) in &wanted {
            let line = order.item(*item_id).ok_or_else(|| {
                ApiError::bad_request_list("The \"%1\" order item doesn't exist.", &[&item_id.to_string()])
            })?;
            if *qty > line.qty_to_invoice() + 1e-9 {
                return Err(ApiError::bad_request_list(
                    "The quantity to invoice must not be greater than the uninvoiced quantity for product SKU \"%1\".",
                    &[&line.sku],
                ));
            }
        }
        let invoice_id = self.id();
        let now = self.now();
        let order = self.order_mut(order_id)?;
        let mut total = 0.0;
        for (item_id, qty) in &wanted {
            if let Some(line) = order.items.iter_mut().find(|i| i.item_id == *item_id) {
                line.qty_invoiced += qty;
                total += line.price * qty;
            }
        }
        if !order.shipping_invoiced {
            order.shipping_invoiced = true;
            total += order.shipping_amount;
        }
        order.refresh_state();
        order.updated_at = now;
        self.invoices.insert(
            invoice_id,
            Invoice {
                id: invoice_id,
                order_id,
                items: wanted,
                grand_total: round2(total),
                created_at: now,
            },
        );
        Ok(invoice_id)
    }

    /// Cancels what is neither invoiced nor shipped; `false` when Magento could not cancel.
    pub fn cancel(&mut self, order_id: u64) -> Result<bool, ApiError> {
        let order = self.order(order_id)?.clone();
        if !order.can_cancel() {
            return Ok(false);
        }
        for item in &order.items {
            let qty = item.qty_to_cancel();
            if qty > 0.0 {
                self.reserve(
                    order.stock_id,
                    &item.sku,
                    qty,
                    "order_canceled",
                    order_id,
                    &order.increment_id,
                );
            }
        }
        let now = self.now();
        let order = self.order_mut(order_id)?;
        for item in order.items.iter_mut() {
            item.qty_canceled += item.qty_to_cancel();
        }
        order.refresh_state();
        order.updated_at = now;
        Ok(true)
    }

    /// The merchant ships (control API): whole order when `lines` is empty. Deducts source quantity
    /// and compensates the reservations, as MSI does.
    pub fn ship(
        &mut self,
        order_id: u64,
        lines: &[ShipLine],
        tracks: &[TrackInput],
    ) -> Result<u64, ApiError> {
        let order = self.order(order_id)?.clone();
        if matches!(
            order.state.as_str(),
            "canceled" | "closed" | "complete" | "holded"
        ) {
            return Err(ApiError::bad_request(
                "The order does not allow a shipment to be created.",
            ));
        }
        let wanted: Vec<(u64, f64)> = if lines.is_empty() {
            order
                .items
                .iter()
                .filter(|i| i.qty_to_ship() > 0.0)
                .map(|i| (i.item_id, i.qty_to_ship()))
                .collect()
        } else {
            lines
                .iter()
                .map(|l| {
                    let item = order
                        .items
                        .iter()
                        .find(|i| Some(i.item_id) == l.order_item_id || l.sku.as_deref() == Some(i.sku.as_str()))
                        .ok_or_else(|| ApiError::bad_request("Shipment document validation error(s): The order does not contain some of the items."))?;
                    Ok((item.item_id, l.qty))
                })
                .collect::<Result<_, ApiError>>()?
        };
        if wanted.is_empty() {
            return Err(ApiError::bad_request(
                "Shipment document validation error(s): You can't create a shipment without products.",
            ));
        }
        for (item_id, qty) in &wanted {
            let item = order.item(*item_id).ok_or_else(ApiError::entity_not_found)?;
            if *qty <= 0.0 || *qty > item.qty_to_ship() + 1e-9 {
                return Err(ApiError::bad_request_list(
                    "The quantity to ship must not be greater than the unshipped quantity for product SKU \"%1\".",
                    &[&item.sku],
                ));
            }
        }
        // Check every SKU can be deducted before changing anything.
        for (item_id, qty) in &wanted {
            let sku = &order.item(*item_id).map(|i| i.sku.clone()).unwrap_or_default();
            let sources = self
                .stock(order.stock_id)
                .map(|s| s.sources.clone())
                .unwrap_or_default();
            let available: f64 = sources
                .iter()
                .filter_map(|c| self.source_items.get(&(sku.clone(), c.clone())))
                .map(|i| i.quantity.max(0.0))
                .sum();
            if available + 1e-9 < *qty {
                return Err(ApiError::bad_request(
                    "Not all of your products are available in the requested quantity.",
                ));
            }
        }
        let now = self.now();
        let shipment_id = self.id();
        let increment_id = self.increment("shipment");
        let mut doc_lines = Vec::new();
        for (item_id, qty) in &wanted {
            let Some(item) = order.item(*item_id) else {
                continue;
            };
            self.deduct_sources(order.stock_id, &item.sku, *qty)?;
            self.reserve(
                order.stock_id,
                &item.sku,
                *qty,
                "shipment_created",
                order_id,
                &order.increment_id,
            );
            let line_id = self.id();
            doc_lines.push(DocumentLine {
                entity_id: line_id,
                order_item_id: *item_id,
                sku: item.sku.clone(),
                name: item.name.clone(),
                product_id: item.product_id,
                price: item.price,
                qty: *qty,
            });
        }
        let mut track_records = Vec::new();
        for t in tracks {
            let id = self.id();
            track_records.push(Track {
                id,
                track_number: t.number.clone(),
                carrier_code: t.carrier_code.clone(),
                title: t.title.clone(),
                created_at: now,
            });
        }
        let order = self.order_mut(order_id)?;
        for (item_id, qty) in &wanted {
            if let Some(line) = order.items.iter_mut().find(|i| i.item_id == *item_id) {
                line.qty_shipped += qty;
            }
        }
        order.refresh_state();
        order.updated_at = now;
        self.shipments.insert(
            shipment_id,
            Shipment {
                id: shipment_id,
                increment_id,
                order_id,
                items: doc_lines,
                tracks: track_records,
                created_at: now,
                updated_at: now,
            },
        );
        Ok(shipment_id)
    }

    /// Adds a track to an existing shipment as `Sales/Model/Order/Shipment/TrackRepository::save`
    /// does (the `POST /V1/shipment/track` route, an ERP or 3PL posting tracking after shipping):
    /// only the track row is written, so the shipment's `updated_at` stays where it was and a
    /// search by `updated_at` does not find the shipment again.
    pub fn add_track(&mut self, shipment_id: u64, track: &TrackInput) -> Result<u64, ApiError> {
        if !self.shipments.contains_key(&shipment_id) {
            return Err(ApiError::entity_not_found());
        }
        let id = self.id();
        let created_at = self.now();
        let shipment = self
            .shipments
            .get_mut(&shipment_id)
            .ok_or_else(ApiError::entity_not_found)?;
        shipment.tracks.push(Track {
            id,
            track_number: track.number.clone(),
            carrier_code: track.carrier_code.clone(),
            title: track.title.clone(),
            created_at,
        });
        Ok(id)
    }

    /// An offline refund: a credit memo for invoiced quantities.
    pub fn refund(&mut self, order_id: u64, refund: RefundInput) -> Result<u64, ApiError> {
        let RefundInput {
            items,
            shipping_amount,
            adjustment_positive,
            adjustment_negative,
            return_to_stock,
            comment,
        } = refund;
        let (items, return_to_stock) = (items.as_slice(), return_to_stock.as_slice());
        let order = self.order(order_id)?.clone();
        if order.items.iter().all(|i| i.qty_to_refund() <= 0.0) {
            return Err(ApiError::bad_request(
                "The creditmemo can't be created for this order. The order has nothing invoiced to refund.",
            ));
        }
        let wanted: Vec<(u64, f64)> = if items.is_empty() {
            order
                .items
                .iter()
                .filter(|i| i.qty_to_refund() > 0.0)
                .map(|i| (i.item_id, i.qty_to_refund()))
                .collect()
        } else {
            items.to_vec()
        };
        for (item_id, qty) in &wanted {
            let line = order.item(*item_id).ok_or_else(|| {
                ApiError::bad_request_list("The \"%1\" order item doesn't exist.", &[&item_id.to_string()])
            })?;
            if *qty > line.qty_to_refund() + 1e-9 {
                let available = line.qty_to_refund() * line.price;
                return Err(ApiError::bad_request_list(
                    "The most money available to refund is %1.",
                    &[&format!("{available:.2}")],
                ));
            }
        }
        let shipping_left = if order.shipping_invoiced {
            order.shipping_amount - order.shipping_refunded
        } else {
            0.0
        };
        let shipping = shipping_amount.unwrap_or(if items.is_empty() { shipping_left } else { 0.0 });
        if shipping > shipping_left + 1e-9 {
            return Err(ApiError::bad_request_list(
                "Maximum shipping amount allowed to refund is: %1",
                &[&format!("{shipping_left:.2}")],
            ));
        }
        let now = self.now();
        let memo_id = self.id();
        let increment_id = self.increment("creditmemo");
        let invoice_id = self
            .invoices
            .values()
            .filter(|i| i.order_id == order_id)
            .map(|i| i.id)
            .next_back();
        let mut lines = Vec::new();
        let mut subtotal = 0.0;
        for (item_id, qty) in &wanted {
            let Some(item) = order.item(*item_id) else {
                continue;
            };
            subtotal += item.price * qty;
            let entity_id = self.id();
            lines.push(DocumentLine {
                entity_id,
                order_item_id: *item_id,
                sku: item.sku.clone(),
                name: item.name.clone(),
                product_id: item.product_id,
                price: item.price,
                qty: *qty,
            });
            if return_to_stock.contains(item_id) {
                let source = self
                    .stock(order.stock_id)
                    .and_then(|s| s.sources.first().cloned())
                    .unwrap_or_else(|| "default".into());
                let current = self
                    .source_items
                    .get(&(item.sku.clone(), source.clone()))
                    .map_or(0.0, |i| i.quantity);
                self.set_source_item(&item.sku.clone(), &source, current + qty, None)?;
            }
        }
        let memo = CreditMemo {
            id: memo_id,
            increment_id,
            order_id,
            invoice_id,
            items: lines,
            subtotal: round2(subtotal),
            shipping_amount: round2(shipping),
            adjustment_positive,
            adjustment_negative,
            comments: comment.into_iter().collect(),
            created_at: now,
            updated_at: now,
        };
        let total = memo.grand_total();
        self.credit_memos.insert(memo_id, memo);
        let order = self.order_mut(order_id)?;
        for (item_id, qty) in &wanted {
            if let Some(line) = order.items.iter_mut().find(|i| i.item_id == *item_id) {
                line.qty_refunded += qty;
            }
        }
        order.shipping_refunded += shipping;
        order.total_refunded = round2(order.total_refunded + total);
        order.refresh_state();
        order.updated_at = now;
        Ok(memo_id)
    }

    // ---------------------------------------------------------------- returns

    pub fn create_rma(&mut self, body: &Value) -> Result<u64, ApiError> {
        let order_id = body
            .get("order_id")
            .and_then(Value::as_u64)
            .ok_or_else(|| ApiError::required_field("order_id"))?;
        let order = self
            .order(order_id)
            .map_err(|_| ApiError::no_such_entity("orderId", order_id))?
            .clone();
        let items = body
            .get("items")
            .and_then(Value::as_array)
            .filter(|a| !a.is_empty())
            .ok_or_else(|| ApiError::required_field("items"))?;
        let mut rma_items = Vec::new();
        for item in items {
            let order_item_id = item
                .get("order_item_id")
                .and_then(Value::as_u64)
                .ok_or_else(|| ApiError::required_field("order_item_id"))?;
            let qty = item.get("qty_requested").and_then(Value::as_u64).unwrap_or(0);
            let line = order.item(order_item_id).ok_or_else(|| {
                ApiError::bad_request_list(
                    "The \"%1\" order item doesn't exist.",
                    &[&order_item_id.to_string()],
                )
            })?;
            let already: u64 = self
                .rmas
                .values()
                .filter(|r| r.order_id == order_id && r.status != "closed" && r.status != "rejected")
                .flat_map(|r| r.items.iter())
                .filter(|i| i.order_item_id == order_item_id)
                .map(|i| i.qty_requested)
                .sum();
            if qty == 0 || (already + qty) as f64 > line.qty_shipped + 1e-9 {
                return Err(ApiError::bad_request_list(
                    "A quantity of %1 is greater than you can return.",
                    &[&line.sku],
                ));
            }
            let text = |k: &str| {
                item.get(k)
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                    .unwrap_or_default()
            };
            let entity_id = self.id();
            rma_items.push(RmaItem {
                entity_id,
                order_item_id,
                qty_requested: qty,
                qty_authorized: 0,
                qty_approved: 0,
                qty_returned: 0,
                reason: text("reason"),
                condition: text("condition"),
                resolution: text("resolution"),
                status: "pending".into(),
            });
        }
        let now = self.now();
        let rma_id = self.id();
        let mut comments = Vec::new();
        for c in body
            .get("comments")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let text = c.get("comment").and_then(Value::as_str).unwrap_or_default();
            if !text.is_empty() {
                let entity_id = self.id();
                comments.push(RmaComment {
                    entity_id,
                    comment: text.to_owned(),
                    created_at: now,
                    status: "pending".into(),
                    admin: true,
                });
            }
        }
        let increment_id = self.increment("rma");
        self.rmas.insert(
            rma_id,
            Rma {
                id: rma_id,
                increment_id,
                order_id,
                order_increment_id: order.increment_id.clone(),
                customer_id: order.customer_id.unwrap_or(0),
                customer_custom_email: body
                    .get("customer_custom_email")
                    .and_then(Value::as_str)
                    .unwrap_or(&order.customer_email)
                    .to_owned(),
                date_requested: now,
                status: "pending".into(),
                items: rma_items,
                comments,
            },
        );
        Ok(rma_id)
    }

    /// The merchant moves a return (control API): `authorized`, `received`, `approved`, `rejected`
    /// or `closed`; item quantities follow.
    pub fn set_rma_status(&mut self, rma_id: u64, status: &str) -> Result<(), ApiError> {
        if !matches!(
            status,
            "authorized" | "received" | "approved" | "rejected" | "closed" | "processed_closed"
        ) {
            return Err(ApiError::bad_request_list("Unknown return status %1.", &[status]));
        }
        let now = self.now();
        let comment_id = self.id();
        let rma = self
            .rmas
            .get_mut(&rma_id)
            .ok_or_else(ApiError::entity_not_found)?;
        rma.status = status.to_owned();
        for item in rma.items.iter_mut() {
            match status {
                "authorized" => item.qty_authorized = item.qty_requested,
                "received" => {
                    item.qty_authorized = item.qty_requested;
                    item.qty_returned = item.qty_requested;
                }
                "approved" | "processed_closed" => {
                    item.qty_authorized = item.qty_requested;
                    item.qty_returned = item.qty_requested;
                    item.qty_approved = item.qty_requested;
                }
                _ => {}
            }
            item.status = status.to_owned();
        }
        rma.comments.push(RmaComment {
            entity_id: comment_id,
            comment: format!("Return {status}."),
            created_at: now,
            status: status.to_owned(),
            admin: true,
        });
        Ok(())
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

/// A valid UPC-A for a number (11 data digits + GS1 check digit).
pub fn upc_for(n: u64) -> String {
    let data = format!("{:011}", 10_000_000_000 + n % 90_000_000_000);
    let sum: u32 = data
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    format!("{data}{}", (10 - sum % 10) % 10)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ports::ManualClock;

    fn store() -> Commerce {
        let clock = Arc::new(ManualClock::at(
            Timestamp::parse_commerce("2026-01-01 00:00:00").unwrap(),
        ));
        let mut s = Commerce::new(SandboxSettings::default().with_purchase_order(), clock);
        s.upsert_products(vec![ProductSeed {
            sku: "MUG-1".into(),
            price: Some(10.0),
            stock: [("default".to_owned(), 2.0), ("warehouse_east".to_owned(), 3.0)]
                .into_iter()
                .collect(),
            ..ProductSeed::default()
        }])
        .unwrap();
        s
    }

    fn place(s: &mut Commerce, qty: f64) -> u64 {
        let cart = s.create_cart("default", None, true).unwrap();
        s.add_cart_item(cart, "MUG-1", qty).unwrap();
        let address = json!({"firstname": "A", "lastname": "B", "street": ["1"], "city": "C", "postcode": "1",
            "country_id": "US", "telephone": "1", "email": "a@b.c"});
        s.set_shipping_information(cart, &json!({"shipping_address": address, "shipping_carrier_code": "flatrate", "shipping_method_code": "flatrate"})).unwrap();
        s.place_order(
            cart,
            Some(&json!({"method": "purchaseorder", "po_number": "1"})),
            true,
        )
        .unwrap()
    }

    #[test]
    fn reservations_follow_placing_shipping_and_cancelling() {
        let mut s = store();
        assert_eq!(s.salable_quantity("MUG-1", 1), 5.0);
        let order = place(&mut s, 3.0);
        assert_eq!(s.salable_quantity("MUG-1", 1), 2.0, "placing reserves");
        assert_eq!(
            s.source_quantity("MUG-1", 1),
            5.0,
            "sources untouched until shipping"
        );
        s.ship(
            order,
            &[ShipLine {
                sku: Some("MUG-1".into()),
                order_item_id: None,
                qty: 2.0,
            }],
            &[],
        )
        .unwrap();
        assert_eq!(
            s.source_quantity("MUG-1", 1),
            3.0,
            "shipping deducts by source priority"
        );
        assert_eq!(
            s.source_items[&("MUG-1".to_owned(), "default".to_owned())].quantity,
            0.0
        );
        assert_eq!(
            s.salable_quantity("MUG-1", 1),
            2.0,
            "shipping compensates its reservation"
        );
        assert_eq!(s.order(order).unwrap().state, "processing");
        assert!(s.cancel(order).unwrap());
        assert_eq!(
            s.salable_quantity("MUG-1", 1),
            3.0,
            "cancelling compensates the rest"
        );
        assert_eq!(
            s.order(order).unwrap().state,
            "processing",
            "shipped but not invoiced"
        );
        s.invoice(order, &[]).unwrap();
        assert_eq!(s.order(order).unwrap().state, "complete");
        assert!(!s.cancel(order).unwrap());
        s.refund(order, RefundInput::default()).unwrap();
        assert_eq!(s.order(order).unwrap().state, "closed");
    }

    #[test]
    fn a_fully_invoiced_order_cannot_be_cancelled() {
        let mut s = store();
        let order = place(&mut s, 1.0);
        s.invoice(order, &[]).unwrap();
        assert!(!s.cancel(order).unwrap());
        let other = place(&mut s, 1.0);
        assert!(s.cancel(other).unwrap());
        assert_eq!(s.order(other).unwrap().status.as_deref(), Some("canceled"));
    }

    /// Issue 34180: a comment without `status` leaves the order with a NULL status (and out of the
    /// admin grid) unless the store has the AC-1342 fix.
    #[test]
    fn a_comment_without_status_leaves_the_order_status_null() {
        let mut s = store();
        let order = place(&mut s, 1.0);
        s.add_comment(order, "with status", Some("pending".into()), 0, 0)
            .unwrap();
        assert_eq!(s.order(order).unwrap().status.as_deref(), Some("pending"));
        s.add_comment(order, "without status", None, 0, 0).unwrap();
        assert_eq!(s.order(order).unwrap().status, None);
        let rendered = crate::render::order(s.order(order).unwrap());
        assert!(rendered.get("status").is_none(), "a NULL status is left out");

        s.settings.comment_keeps_status = true;
        let fixed = place(&mut s, 1.0);
        s.add_comment(fixed, "without status", None, 0, 0).unwrap();
        assert_eq!(s.order(fixed).unwrap().status.as_deref(), Some("pending"));
    }

    #[test]
    fn generated_upcs_have_valid_check_digits() {
        for n in [0, 1, 99_999] {
            assert!(domain::Gtin::parse(&upc_for(n)).is_ok(), "{}", upc_for(n));
        }
    }
}
