//! The catalog Walmart knows, the seller's items matched to it, and their inventory and prices.

use domain::{Gtin, Money, Timestamp};

use super::*;
use crate::model::*;

#[derive(Debug, Clone)]
pub struct CatalogEntry {
    pub gtin14: String,
    pub wpid: String,
    pub item_id: String,
    pub product_name: String,
    pub brand: Option<String>,
    pub product_type: Option<String>,
    pub price: Option<Money>,
}

#[derive(Debug, Clone)]
pub struct SellerItem {
    pub sku: String,
    pub wpid: String,
    pub gtin14: String,
    pub upc: Option<String>,
    pub product_name: String,
    pub product_type: Option<String>,
    pub price: Option<Money>,
    pub lifecycle_status: &'static str,
    pub published_status: &'static str,
}

/// The GTIN-14 form of an identifier, if it is a valid GTIN-8/12/13/14.
pub fn gtin14(raw: &str) -> Option<String> {
    Gtin::parse(raw).ok().map(|g| g.to_gtin14())
}

impl World {
    pub fn add_catalog_item(&mut self, spec: CatalogItemSpec) -> Result<String, String> {
        let gtin14 = gtin14(&spec.gtin).ok_or_else(|| format!("invalid GTIN {:?}", spec.gtin))?;
        let seq = self.seq();
        let wpid = spec.wpid.unwrap_or_else(|| wpid_for(seq));
        if wpid.is_empty() || !wpid.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(format!("invalid WPID {wpid:?}"));
        }
        self.catalog.insert(
            gtin14.clone(),
            CatalogEntry {
                gtin14,
                wpid: wpid.clone(),
                item_id: (100_000_000 + seq).to_string(),
                product_name: spec.product_name,
                brand: spec.brand,
                product_type: spec.product_type,
                price: spec.price,
            },
        );
        Ok(wpid)
    }

    pub fn published_status(&self) -> &'static str {
        if self.settings.store_live {
            "PUBLISHED"
        } else {
            "STAGE"
        }
    }

    pub(super) fn upsert_item(
        &mut self,
        sku: &str,
        entry: &CatalogEntry,
        price: Option<Money>,
        upc: Option<String>,
    ) {
        if let Some(old) = self.items.get(sku)
            && old.gtin14 != entry.gtin14
        {
            self.items_by_gtin.remove(&old.gtin14);
        }
        self.items_by_gtin.insert(entry.gtin14.clone(), sku.to_owned());
        let published_status = self.published_status();
        self.items.insert(
            sku.to_owned(),
            SellerItem {
                sku: sku.to_owned(),
                wpid: entry.wpid.clone(),
                gtin14: entry.gtin14.clone(),
                upc,
                product_name: entry.product_name.clone(),
                product_type: entry.product_type.clone(),
                price,
                lifecycle_status: "ACTIVE",
                published_status,
            },
        );
        if let Some(price) = price {
            self.prices.insert(sku.to_owned(), price);
        }
    }

    pub fn add_seller_item(&mut self, spec: SellerItemSpec) -> Result<(), String> {
        let gtin14 = gtin14(&spec.gtin).ok_or_else(|| format!("invalid GTIN {:?}", spec.gtin))?;
        let entry = self
            .catalog
            .get(&gtin14)
            .cloned()
            .ok_or_else(|| format!("GTIN {gtin14} is not in the catalog"))?;
        if spec.sku.is_empty() || spec.sku.chars().count() > 50 {
            return Err(format!("invalid sku {:?}", spec.sku));
        }
        let upc = (spec.gtin.len() == 12).then(|| spec.gtin.clone());
        self.upsert_item(&spec.sku, &entry, spec.price, upc);
        if let Some(quantity) = spec.quantity {
            self.inventory.insert(spec.sku, quantity);
        }
        Ok(())
    }

    /// Publishes staged items when the store goes live (and stages them when it goes dark).
    pub fn apply_store_live(&mut self) {
        let status = self.published_status();
        for item in self.items.values_mut() {
            item.published_status = status;
        }
    }

    pub fn set_inventory(&mut self, sku: &str, quantity: u32, source: UpdateSource, now: Timestamp) {
        self.inventory.insert(sku.to_owned(), quantity);
        self.inventory_updates.push(ValueUpdate {
            sku: sku.to_owned(),
            value: quantity,
            source,
            at: now,
        });
    }

    pub fn set_price(&mut self, sku: &str, price: Money, source: UpdateSource, now: Timestamp) {
        self.prices.insert(sku.to_owned(), price);
        if let Some(item) = self.items.get_mut(sku) {
            item.price = Some(price);
        }
        self.price_updates.push(ValueUpdate {
            sku: sku.to_owned(),
            value: price,
            source,
            at: now,
        });
    }
}

/// A WPID-like id (12 uppercase alphanumerics) for catalog item `seq`.
fn wpid_for(seq: u64) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    // Spread sequential ids over the space so they do not look sequential.
    let mut n = seq.wrapping_mul(0x9E37_79B9_7F4A_7C15) % 36u64.pow(12);
    let mut out = [b'0'; 12];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(n % 36) as usize];
        n /= 36;
    }
    String::from_utf8_lossy(&out).into_owned()
}
