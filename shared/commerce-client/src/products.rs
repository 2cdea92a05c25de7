//! Catalog reads: products by `updated_at` cursor, SKU list, category or attribute, configurable
//! children, and the conversions the channel needs from a product.

use domain::{CommerceProductId, Money, ProductSelection, ProductSnapshot, Sku, SpecialPrice, Timestamp};
use ports::Deadline;

use crate::client::{Call, CommerceClient, Paged, seg};
use crate::error::CommerceError;
use crate::search::{Condition, Direction, Filter, SearchCriteria};
use crate::wire::Product;

/// Magento's `status` of an enabled product.
pub const STATUS_ENABLED: i64 = 1;

/// SKUs per `in` filter: keeps URLs well under common 8 KB limits.
const SKUS_PER_QUERY: usize = 100;

impl CommerceClient {
    /// Products changed at or after `since` (inclusive, so nothing changed within the same second is
    /// missed; callers de-duplicate), oldest change first, then by id: a stable order to page by.
    pub fn products_updated_since(&self, since: Timestamp) -> Paged<Product> {
        let criteria = SearchCriteria::new()
            .filter("updated_at", Condition::Gteq, since.to_commerce())
            .sort_by("updated_at", Direction::Asc)
            .sort_by("entity_id", Direction::Asc);
        self.paged("GET /V1/products", "products", criteria)
    }

    /// The products with these SKUs (unknown SKUs are simply absent), in batches of 100 per search.
    pub async fn products_by_skus(
        &self,
        skus: &[Sku],
        deadline: &Deadline,
    ) -> Result<Vec<Product>, CommerceError> {
        let mut found = Vec::with_capacity(skus.len());
        for chunk in skus.chunks(SKUS_PER_QUERY) {
            let criteria = SearchCriteria::new()
                .any_of(vec![Filter::in_list("sku", chunk.iter().map(Sku::as_str))])
                .sort_by("entity_id", Direction::Asc);
            found.extend(
                self.paged::<Product>("GET /V1/products", "products", criteria)
                    .collect_all(deadline)
                    .await?,
            );
        }
        Ok(found)
    }

    /// Products assigned to a category.
    pub fn products_in_category(&self, category_id: u64) -> Paged<Product> {
        let criteria = SearchCriteria::new()
            .filter("category_id", Condition::Eq, category_id.to_string())
            .sort_by("entity_id", Direction::Asc);
        self.paged("GET /V1/products", "products", criteria)
    }

    /// Products whose attribute `code` equals `value` (e.g. `walmart_enabled` = `1`).
    pub fn products_with_attribute(&self, code: &str, value: &str) -> Paged<Product> {
        let criteria = SearchCriteria::new()
            .filter(code, Condition::Eq, value)
            .sort_by("entity_id", Direction::Asc);
        self.paged("GET /V1/products", "products", criteria)
    }

    /// The products a channel's selection names, optionally only those changed since a cursor.
    pub fn products_selected(
        &self,
        selection: &ProductSelection,
        changed_since: Option<Timestamp>,
    ) -> Paged<Product> {
        let mut criteria = match selection {
            ProductSelection::Skus { skus } => {
                SearchCriteria::new().any_of(vec![Filter::in_list("sku", skus.iter().map(Sku::as_str))])
            }
            ProductSelection::Category { category_id } => {
                SearchCriteria::new().filter("category_id", Condition::Eq, category_id.to_string())
            }
            ProductSelection::Attribute { code, value } => {
                SearchCriteria::new().filter(code, Condition::Eq, value)
            }
        };
        if let Some(since) = changed_since {
            criteria = criteria
                .filter("updated_at", Condition::Gteq, since.to_commerce())
                .sort_by("updated_at", Direction::Asc);
        }
        self.paged(
            "GET /V1/products",
            "products",
            criteria.sort_by("entity_id", Direction::Asc),
        )
    }

    /// One product by SKU.
    pub async fn product(&self, sku: &Sku, deadline: &Deadline) -> Result<Product, CommerceError> {
        self.execute(
            &Call::get(
                "GET /V1/products/{sku}",
                format!("products/{}", seg(sku.as_str())),
            ),
            deadline,
        )
        .await
    }

    /// The simple children of a configurable product.
    pub async fn configurable_children(
        &self,
        sku: &Sku,
        deadline: &Deadline,
    ) -> Result<Vec<Product>, CommerceError> {
        let call = Call::get(
            "GET /V1/configurable-products/{sku}/children",
            format!("configurable-products/{}/children", seg(sku.as_str())),
        );
        self.execute(&call, deadline).await
    }
}

/// Reads a Commerce date: `YYYY-MM-DD HH:MM:SS`, or a bare `YYYY-MM-DD` (special price dates).
pub fn parse_commerce_date(raw: &str) -> Option<Timestamp> {
    let raw = raw.trim();
    Timestamp::parse_commerce(raw)
        .ok()
        .or_else(|| Timestamp::parse_commerce(&format!("{raw} 00:00:00")).ok())
}

impl Product {
    /// A custom attribute's value as text.
    pub fn attribute(&self, code: &str) -> Option<String> {
        self.custom_attributes
            .iter()
            .find(|a| a.attribute_code == code)
            .and_then(|a| a.text())
            .filter(|v| !v.is_empty())
    }

    pub fn is_enabled(&self) -> bool {
        self.status == Some(STATUS_ENABLED)
    }

    pub fn is_configurable(&self) -> bool {
        self.type_id == "configurable"
    }

    pub fn price_money(&self) -> Option<Money> {
        self.price.and_then(|p| Money::from_decimal(p).ok())
    }

    /// `special_price` with its `special_from_date` / `special_to_date` window. The end date is a
    /// whole day in Magento, so it is taken as the end of that day.
    pub fn special_price(&self) -> Option<SpecialPrice> {
        let price = self
            .attribute("special_price")?
            .parse::<f64>()
            .ok()
            .and_then(|p| Money::from_decimal(p).ok())?;
        let from = self
            .attribute("special_from_date")
            .as_deref()
            .and_then(parse_commerce_date);
        let to = self
            .attribute("special_to_date")
            .as_deref()
            .and_then(parse_commerce_date)
            .map(|t| t.plus(std::time::Duration::from_secs(24 * 3600 - 1)));
        Some(SpecialPrice { price, from, to })
    }

    pub fn updated_at_ts(&self) -> Option<Timestamp> {
        self.updated_at.as_deref().and_then(parse_commerce_date)
    }

    /// Entity ids of a configurable product's children (from the extension attributes).
    pub fn child_ids(&self) -> &[u64] {
        self.extension_attributes
            .as_ref()
            .map_or(&[], |e| e.configurable_product_links.as_slice())
    }

    pub fn category_ids(&self) -> Vec<String> {
        let from_links: Vec<String> = self
            .extension_attributes
            .as_ref()
            .map(|e| e.category_links.iter().map(|l| l.category_id.clone()).collect())
            .unwrap_or_default();
        if !from_links.is_empty() {
            return from_links;
        }
        self.attribute("category_ids")
            .map(|v| v.split(',').map(str::to_owned).collect())
            .unwrap_or_default()
    }

    /// What the channel keeps of the product at import. `gtin_attribute` is the channel's configured
    /// UPC/GTIN attribute code.
    pub fn to_snapshot(&self, gtin_attribute: &str) -> ProductSnapshot {
        ProductSnapshot {
            product_id: CommerceProductId(self.id.unwrap_or_default()),
            name: self.name.clone(),
            raw_identifier: self.attribute(gtin_attribute),
            price: self.price_money(),
            weight_lb: self.weight,
            enabled: self.is_enabled(),
            updated_at: self.updated_at_ts().unwrap_or(Timestamp::EPOCH),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::CustomAttribute;

    fn attr(code: &str, value: &str) -> CustomAttribute {
        CustomAttribute {
            attribute_code: code.into(),
            value: serde_json::json!(value),
        }
    }

    #[test]
    fn special_price_window_and_snapshot() {
        let product = Product {
            id: Some(5),
            sku: "MUG-1".into(),
            name: "Mug".into(),
            price: Some(12.0),
            status: Some(1),
            updated_at: Some("2026-01-02 03:04:05".into()),
            custom_attributes: vec![
                attr("special_price", "9.99"),
                attr("special_from_date", "2026-01-01 00:00:00"),
                attr("special_to_date", "2026-01-31"),
                attr("upc", "036000291452"),
            ],
            ..Product::default()
        };
        let sp = product.special_price().unwrap();
        assert_eq!(sp.price, Money::from_cents(999));
        assert_eq!(sp.from, Timestamp::parse_commerce("2026-01-01 00:00:00").ok());
        assert_eq!(sp.to, Timestamp::parse_commerce("2026-01-31 23:59:59").ok());
        let snap = product.to_snapshot("upc");
        assert_eq!(snap.raw_identifier.as_deref(), Some("036000291452"));
        assert_eq!(snap.price, Some(Money::from_cents(1200)));
        assert!(snap.enabled);
        assert_eq!(
            snap.updated_at,
            Timestamp::parse_commerce("2026-01-02 03:04:05").unwrap()
        );
    }
}
