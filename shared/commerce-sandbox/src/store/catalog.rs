//! The catalog: products created, updated and generated, and their prices.

use std::collections::BTreeMap;

use domain::Timestamp;
use serde::{Deserialize, Serialize};

use super::*;
use crate::error::ApiError;
use crate::model::*;

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

impl Commerce {
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
        for mut seed in seeds {
            if seed.sku.trim().is_empty() {
                return Err(ApiError::required_field("sku"));
            }
            let children = match &seed.children {
                Some(skus) => Some(self.child_ids(skus)?),
                None => None,
            };
            let id = match self.sku_index.get(&seed.sku) {
                Some(id) => {
                    updated += 1;
                    *id
                }
                None => {
                    created += 1;
                    self.insert_blank_product(&seed.sku, now)
                }
            };
            let sku = seed.sku.clone();
            let stock = std::mem::take(&mut seed.stock);
            if let Some(product) = self.products.get_mut(&id) {
                apply_seed(product, seed, children);
            }
            self.touch_product(id);
            for (source_code, quantity) in stock {
                self.set_source_item(&sku, &source_code, quantity, None)?;
            }
        }
        Ok((created, updated))
    }

    /// The ids of a configurable product's children, which must exist.
    fn child_ids(&self, skus: &[String]) -> Result<Vec<u64>, ApiError> {
        skus.iter()
            .map(|s| {
                self.sku_index
                    .get(s)
                    .copied()
                    .ok_or_else(|| ApiError::bad_request_list("Child product %1 does not exist.", &[s]))
            })
            .collect()
    }

    /// A new enabled simple product named after its SKU, with no price, on the default website.
    fn insert_blank_product(&mut self, sku: &str, now: Timestamp) -> u64 {
        let id = self.id();
        let product = Product {
            id,
            sku: sku.to_owned(),
            name: sku.to_owned(),
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
        self.sku_index.insert(sku.to_owned(), id);
        self.by_updated.insert((now.millis(), id));
        self.products.insert(id, product);
        id
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

/// Writes the seed's given fields onto the product; omitted fields keep their value.
fn apply_seed(product: &mut Product, seed: ProductSeed, children: Option<Vec<u64>>) {
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
