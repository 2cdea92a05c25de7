//! Feed files: builders for the payloads the channel submits, each valid against Walmart's feed
//! schema, and splitting of long lists into feeds within Walmart's limits.
//!
//! - `MP_ITEM_MATCH` (schema v4): header `{sellingChannel: mpsetupbymatch, locale: en, version: 1.0}`,
//!   items `{Item: {sku, productIdentifiers: {productIdType, productId}, price, ShippingWeight}}`.
//! - `inventory` (spec 1.4): `{InventoryHeader: {version: "1.4"}, Inventory: [{sku, quantity: {unit: EACH, amount}}]}`.
//! - `MP_INVENTORY` (spec 1.5): `{inventoryHeader: {version: "1.5"}, inventory: [{sku, shipNodes: [{shipNode, quantity}]}]}`.
//! - `price` (spec 1.7): `{PriceHeader: {version: "1.7"}, Price: [{sku, pricing: [{currentPriceType: BASE, currentPrice}]}]}`.
//!
//! Limits: item and price feeds ≤ 10,000 items and ≤ 10 MB; the inventory schemas allow 100,000
//! items, and we keep inventory files under the same 10 MB.

use domain::{Gtin, GtinKind, Money, Sku};
use serde_json::{Value, json};

use crate::endpoint::FeedType;

/// Largest file, in bytes, we send for any feed type.
pub const MAX_FEED_BYTES: usize = 10 * 1024 * 1024;

/// Walmart's item limit per file.
pub fn max_items(feed_type: FeedType) -> usize {
    match feed_type {
        FeedType::ItemMatch | FeedType::Price => 10_000,
        FeedType::Inventory | FeedType::MultiNodeInventory => 100_000,
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FeedError {
    #[error("sku {sku}: {reason}")]
    InvalidEntry { sku: Sku, reason: String },
    #[error("one {feed_type} item alone is {bytes} bytes, over the {MAX_FEED_BYTES}-byte limit")]
    ItemTooLarge { feed_type: FeedType, bytes: usize },
    #[error("cannot serialise the feed: {0}")]
    Serialise(String),
}

/// A feed file ready to submit, with the SKUs it carries (in file order).
#[derive(Debug, Clone, PartialEq)]
pub struct Feed {
    pub feed_type: FeedType,
    pub skus: Vec<Sku>,
    pub payload: Value,
}

/// One listing to match to a Walmart item.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemMatchEntry {
    pub sku: Sku,
    pub gtin: Gtin,
    pub price: Money,
    pub shipping_weight_lb: f64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryEntry {
    pub sku: Sku,
    pub quantity: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipNodeInventoryEntry {
    pub sku: Sku,
    pub ship_node: String,
    pub quantity: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceEntry {
    pub sku: Sku,
    pub price: Money,
}

/// Walmart's `productIdType`/`productId` for a GTIN: UPC-A and EAN-13 as themselves, other
/// lengths as a 14-digit GTIN.
pub fn product_identifier(gtin: &Gtin) -> (&'static str, String) {
    match gtin.kind() {
        GtinKind::Upc => ("UPC", gtin.as_str().to_owned()),
        GtinKind::Ean => ("EAN", gtin.as_str().to_owned()),
        GtinKind::Gtin8 | GtinKind::Gtin => ("GTIN", gtin.to_gtin14()),
    }
}

fn amount(price: Money) -> Value {
    json!(price.to_decimal())
}

fn item_match_item(entry: &ItemMatchEntry) -> Result<Value, FeedError> {
    if entry.price.is_negative() {
        return Err(FeedError::InvalidEntry {
            sku: entry.sku.clone(),
            reason: format!("negative price {}", entry.price),
        });
    }
    if !entry.shipping_weight_lb.is_finite() || entry.shipping_weight_lb < 0.0 {
        return Err(FeedError::InvalidEntry {
            sku: entry.sku.clone(),
            reason: format!("shipping weight {} lb", entry.shipping_weight_lb),
        });
    }
    let (id_type, id) = product_identifier(&entry.gtin);
    // The schema wants a multiple of 0.001 lb.
    let weight = (entry.shipping_weight_lb * 1000.0).round() / 1000.0;
    Ok(json!({
        "Item": {
            "sku": entry.sku.as_str(),
            "productIdentifiers": { "productIdType": id_type, "productId": id },
            "price": amount(entry.price),
            "ShippingWeight": weight,
        }
    }))
}

fn price_item(entry: &PriceEntry) -> Result<Value, FeedError> {
    if entry.price.is_negative() {
        return Err(FeedError::InvalidEntry {
            sku: entry.sku.clone(),
            reason: format!("negative price {}", entry.price),
        });
    }
    Ok(json!({
        "sku": entry.sku.as_str(),
        "pricing": [{
            "currentPriceType": "BASE",
            "currentPrice": { "currency": "USD", "amount": amount(entry.price) },
        }],
    }))
}

/// Wraps items into the file shape of `feed_type`.
fn wrap(feed_type: FeedType, items: Vec<Value>) -> Value {
    match feed_type {
        FeedType::ItemMatch => json!({
            "MPItemFeedHeader": {
                "sellingChannel": "mpsetupbymatch",
                "processMode": "REPLACE",
                "locale": "en",
                "version": "1.0",
                "Mart": "WALMART_US",
            },
            "MPItem": items,
        }),
        FeedType::Inventory => json!({
            "InventoryHeader": { "version": "1.4" },
            "Inventory": items,
        }),
        FeedType::MultiNodeInventory => json!({
            "inventoryHeader": { "version": "1.5" },
            "inventory": items,
        }),
        FeedType::Price => json!({
            "PriceHeader": { "version": "1.7" },
            "Price": items,
        }),
    }
}

fn serialised_len(value: &Value) -> Result<usize, FeedError> {
    serde_json::to_vec(value)
        .map(|v| v.len())
        .map_err(|e| FeedError::Serialise(e.to_string()))
}

/// Splits `(sku, item)` pairs into files of at most `max_items(feed_type)` items and
/// [`MAX_FEED_BYTES`] bytes, in order. Linear in the number of items.
pub fn split(feed_type: FeedType, items: Vec<(Sku, Value)>) -> Result<Vec<Feed>, FeedError> {
    let empty_len = serialised_len(&wrap(feed_type, Vec::new()))?;
    let max_items = max_items(feed_type);
    let mut feeds = Vec::new();
    let mut skus = Vec::new();
    let mut batch = Vec::new();
    let mut bytes = empty_len;
    for (sku, item) in items {
        // One comma per item after the first; counting it for every item keeps us on the safe side.
        let item_len = serialised_len(&item)? + 1;
        if empty_len + item_len > MAX_FEED_BYTES {
            return Err(FeedError::ItemTooLarge {
                feed_type,
                bytes: item_len,
            });
        }
        if !batch.is_empty() && (batch.len() == max_items || bytes + item_len > MAX_FEED_BYTES) {
            feeds.push(Feed {
                feed_type,
                skus: std::mem::take(&mut skus),
                payload: wrap(feed_type, std::mem::take(&mut batch)),
            });
            bytes = empty_len;
        }
        bytes += item_len;
        skus.push(sku);
        batch.push(item);
    }
    if !batch.is_empty() {
        feeds.push(Feed {
            feed_type,
            skus,
            payload: wrap(feed_type, batch),
        });
    }
    Ok(feeds)
}

/// `MP_ITEM_MATCH` feeds for the entries.
pub fn item_match_feeds(entries: &[ItemMatchEntry]) -> Result<Vec<Feed>, FeedError> {
    let items = entries
        .iter()
        .map(|e| Ok((e.sku.clone(), item_match_item(e)?)))
        .collect::<Result<Vec<_>, FeedError>>()?;
    split(FeedType::ItemMatch, items)
}

/// `inventory` feeds (default ship node).
pub fn inventory_feeds(entries: &[InventoryEntry]) -> Result<Vec<Feed>, FeedError> {
    let items = entries
        .iter()
        .map(|e| {
            (
                e.sku.clone(),
                json!({ "sku": e.sku.as_str(), "quantity": { "unit": "EACH", "amount": e.quantity } }),
            )
        })
        .collect();
    split(FeedType::Inventory, items)
}

/// `MP_INVENTORY` feeds: entries of the same SKU are grouped into one item with several nodes.
pub fn multi_node_inventory_feeds(entries: &[ShipNodeInventoryEntry]) -> Result<Vec<Feed>, FeedError> {
    let mut order: Vec<Sku> = Vec::new();
    let mut nodes: std::collections::HashMap<Sku, Vec<Value>> = std::collections::HashMap::new();
    for e in entries {
        if e.ship_node.trim().is_empty() {
            return Err(FeedError::InvalidEntry {
                sku: e.sku.clone(),
                reason: "empty ship node".to_owned(),
            });
        }
        let node = json!({ "shipNode": e.ship_node, "quantity": { "unit": "EACH", "amount": e.quantity } });
        nodes
            .entry(e.sku.clone())
            .or_insert_with(|| {
                order.push(e.sku.clone());
                Vec::new()
            })
            .push(node);
    }
    let items = order
        .into_iter()
        .map(|sku| {
            let ship_nodes = nodes.remove(&sku).unwrap_or_default();
            let item = json!({ "sku": sku.as_str(), "shipNodes": ship_nodes });
            (sku, item)
        })
        .collect();
    split(FeedType::MultiNodeInventory, items)
}

/// `price` feeds (base price, USD).
pub fn price_feeds(entries: &[PriceEntry]) -> Result<Vec<Feed>, FeedError> {
    let items = entries
        .iter()
        .map(|e| Ok((e.sku.clone(), price_item(e)?)))
        .collect::<Result<Vec<_>, FeedError>>()?;
    split(FeedType::Price, items)
}

/// The item array of a feed payload, whatever its type (used by tests and the sandbox side).
pub fn feed_items(feed_type: FeedType, payload: &Value) -> Option<&Vec<Value>> {
    let key = match feed_type {
        FeedType::ItemMatch => "MPItem",
        FeedType::Inventory => "Inventory",
        FeedType::MultiNodeInventory => "inventory",
        FeedType::Price => "Price",
    };
    payload.get(key).and_then(Value::as_array)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sku(n: usize) -> Sku {
        Sku::new(format!("SKU-{n}")).unwrap()
    }

    #[test]
    fn item_match_payload_has_the_schema_shape() {
        let feeds = item_match_feeds(&[ItemMatchEntry {
            sku: sku(1),
            gtin: Gtin::parse("036000291452").unwrap(),
            price: Money::from_cents(1999),
            shipping_weight_lb: 1.23456,
        }])
        .unwrap();
        assert_eq!(feeds.len(), 1);
        let item = &feeds[0].payload["MPItem"][0]["Item"];
        assert_eq!(item["productIdentifiers"]["productIdType"], "UPC");
        assert_eq!(item["price"], 19.99);
        assert_eq!(item["ShippingWeight"], 1.235);
        assert_eq!(
            feeds[0].payload["MPItemFeedHeader"]["sellingChannel"],
            "mpsetupbymatch"
        );
        let gtin8 = product_identifier(&Gtin::parse("96385074").unwrap());
        assert_eq!(gtin8, ("GTIN", "00000096385074".to_owned()));
    }

    #[test]
    fn long_lists_split_by_count_and_keep_order() {
        let entries: Vec<_> = (0..25_001)
            .map(|n| PriceEntry {
                sku: sku(n),
                price: Money::from_cents(100),
            })
            .collect();
        let feeds = price_feeds(&entries).unwrap();
        assert_eq!(
            feeds.iter().map(|f| f.skus.len()).collect::<Vec<_>>(),
            vec![10_000, 10_000, 5_001]
        );
        assert_eq!(feeds[2].skus.last(), Some(&sku(25_000)));
        assert_eq!(
            feed_items(FeedType::Price, &feeds[1].payload).map(Vec::len),
            Some(10_000)
        );
    }

    #[test]
    fn long_lists_split_by_size() {
        // Long ship node names make each item ~1 KiB, so 100,000 items exceed 10 MB.
        let node = "N".repeat(1000);
        let entries: Vec<_> = (0..20_000)
            .map(|n| ShipNodeInventoryEntry {
                sku: sku(n),
                ship_node: node.clone(),
                quantity: 1,
            })
            .collect();
        let feeds = multi_node_inventory_feeds(&entries).unwrap();
        assert!(feeds.len() >= 2, "{}", feeds.len());
        for feed in &feeds {
            let bytes = serde_json::to_vec(&feed.payload).unwrap().len();
            assert!(bytes <= MAX_FEED_BYTES, "{bytes}");
        }
        assert_eq!(feeds.iter().map(|f| f.skus.len()).sum::<usize>(), 20_000);
    }

    #[test]
    fn bad_entries_are_refused_and_empty_lists_make_no_feed() {
        let err = price_feeds(&[PriceEntry {
            sku: sku(1),
            price: Money::from_cents(-1),
        }])
        .unwrap_err();
        assert!(matches!(err, FeedError::InvalidEntry { .. }));
        assert!(inventory_feeds(&[]).unwrap().is_empty());
        let grouped = multi_node_inventory_feeds(&[
            ShipNodeInventoryEntry {
                sku: sku(1),
                ship_node: "A".into(),
                quantity: 1,
            },
            ShipNodeInventoryEntry {
                sku: sku(2),
                ship_node: "A".into(),
                quantity: 2,
            },
            ShipNodeInventoryEntry {
                sku: sku(1),
                ship_node: "B".into(),
                quantity: 3,
            },
        ])
        .unwrap();
        assert_eq!(grouped[0].skus, vec![sku(1), sku(2)]);
        assert_eq!(
            grouped[0].payload["inventory"][0]["shipNodes"][1]["shipNode"],
            "B"
        );
    }
}
