//! From Magento's payloads ([`crate::wire`]) to the port's terms (`ports::commerce::model`), and
//! back for what the port sends. A value the port's types cannot hold (a fractional or negative
//! unit count, a missing entity id, an invalid increment id) is a [`ConvertError`] naming the
//! record and field, never a silent default; amounts Magento prints badly stay unset, as before.

use std::collections::BTreeMap;

use domain::{
    CommerceOrderId, CommerceProductId, CommerceShipmentId, CreditMemoId, IncrementId, Money, RmaId, Sku,
    Timestamp,
};
use ports::SearchPage;
use ports::commerce::model::{
    CreditMemo, CreditMemoItem, ItemQuantity, Order, OrderItem, OrderState, Product, ProductStatus,
    ProductType, Rma, RmaComment, Shipment, ShipmentItem, ShipmentTrack, SourceItem, SpecialPriceDays,
    StatusHistory, Stock, StockItem,
};

use crate::wire;

/// What a value of a Commerce record cannot be in the channel's terms.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Unrepresentable {
    #[error("{0} is not a whole number of units")]
    NotWholeCount(f64),
    #[error("it is missing")]
    Missing,
    #[error("{value:?} is not valid: {reason}")]
    Invalid { value: String, reason: String },
}

/// A Commerce record's field that does not convert, with the record it belongs to.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{record} {id}: {field}: {problem}")]
pub struct ConvertError {
    /// The schema definition, e.g. `sales-data-order-interface`.
    pub record: &'static str,
    /// The record's entity id (or SKU), when it has one.
    pub id: String,
    pub field: &'static str,
    pub problem: Unrepresentable,
}

/// Names the record a field belongs to, for errors.
#[derive(Clone, Copy)]
struct Record<'a> {
    name: &'static str,
    id: &'a dyn std::fmt::Display,
}

impl Record<'_> {
    fn error(self, field: &'static str, problem: Unrepresentable) -> ConvertError {
        ConvertError {
            record: self.name,
            id: self.id.to_string(),
            field,
            problem,
        }
    }

    /// A unit count: Magento's quantities are decimals (`"2.0000"`); unset counts none.
    fn whole_count(self, field: &'static str, value: Option<f64>) -> Result<u32, ConvertError> {
        let value = value.unwrap_or(0.0);
        if value < 0.0 || value.fract() != 0.0 || value > f64::from(u32::MAX) {
            return Err(self.error(field, Unrepresentable::NotWholeCount(value)));
        }
        // Whole, non-negative and within range: exact.
        Ok(value as u32)
    }

    fn required<T>(self, field: &'static str, value: Option<T>) -> Result<T, ConvertError> {
        value.ok_or_else(|| self.error(field, Unrepresentable::Missing))
    }

    fn increment_id(self, raw: &str) -> Result<IncrementId, ConvertError> {
        IncrementId::new(raw).map_err(|e| {
            self.error(
                "increment_id",
                Unrepresentable::Invalid {
                    value: raw.to_owned(),
                    reason: e.to_string(),
                },
            )
        })
    }
}

/// Reads a Commerce date: `YYYY-MM-DD HH:MM:SS`, or a bare `YYYY-MM-DD` (special price dates).
pub fn timestamp(raw: &str) -> Option<Timestamp> {
    let raw = raw.trim();
    Timestamp::parse_commerce(raw)
        .ok()
        .or_else(|| Timestamp::parse_commerce(&format!("{raw} 00:00:00")).ok())
}

fn opt_timestamp(raw: Option<&str>) -> Option<Timestamp> {
    raw.and_then(timestamp)
}

/// An amount; one Magento prints out of range stays unset.
fn money(amount: Option<f64>) -> Option<Money> {
    amount.and_then(|a| Money::from_decimal(a).ok())
}

/// A SKU the channel can carry, or `None`.
fn sku(raw: Option<&str>) -> Option<Sku> {
    raw.and_then(|s| Sku::new(s).ok())
}

/// Converts every item of a page; the first that does not convert fails the page.
pub fn page<W, D>(
    page: SearchPage<W>,
    convert: impl FnMut(W) -> Result<D, ConvertError>,
) -> Result<SearchPage<D>, ConvertError> {
    Ok(SearchPage {
        items: all(page.items, convert)?,
        total_count: page.total_count,
    })
}

/// Converts every record of a list.
pub fn all<W, D>(
    records: Vec<W>,
    convert: impl FnMut(W) -> Result<D, ConvertError>,
) -> Result<Vec<D>, ConvertError> {
    records.into_iter().map(convert).collect()
}

pub fn order(order: wire::Order) -> Result<Order, ConvertError> {
    let shown = order
        .entity_id
        .map_or_else(|| order.increment_id.clone(), |id| id.to_string());
    let record = Record {
        name: "sales-data-order-interface",
        id: &shown,
    };
    let entity_id = CommerceOrderId(record.required("entity_id", order.entity_id)?);
    let items = order
        .items
        .iter()
        .map(order_item)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Order {
        entity_id,
        increment_id: record.increment_id(&order.increment_id)?,
        state: OrderState::from_code(&order.state),
        totals: order.totals(),
        po_number: order.po_number().map(str::to_owned),
        status: order.status,
        updated_at: opt_timestamp(order.updated_at.as_deref()),
        items,
        status_histories: order
            .status_histories
            .into_iter()
            .map(|h| StatusHistory {
                created_at: opt_timestamp(h.created_at.as_deref()),
                comment: h.comment,
            })
            .collect(),
    })
}

pub fn order_item(item: &wire::OrderItem) -> Result<OrderItem, ConvertError> {
    let shown = item.item_id.map_or_else(|| item.sku.clone(), |id| id.to_string());
    let record = Record {
        name: "sales-data-order-item-interface",
        id: &shown,
    };
    Ok(OrderItem {
        item_id: item.item_id,
        sku: sku(Some(&item.sku)),
        parent_item_id: item.parent_item_id,
        price: money(item.price),
        qty_ordered: record.whole_count("qty_ordered", item.qty_ordered)?,
        qty_invoiced: record.whole_count("qty_invoiced", item.qty_invoiced)?,
        qty_shipped: record.whole_count("qty_shipped", item.qty_shipped)?,
        qty_canceled: record.whole_count("qty_canceled", item.qty_canceled)?,
        qty_refunded: record.whole_count("qty_refunded", item.qty_refunded)?,
    })
}

pub fn shipment(shipment: wire::Shipment) -> Result<Shipment, ConvertError> {
    let shown = shipment
        .entity_id
        .map_or_else(|| shipment.increment_id.clone(), |id| id.to_string());
    let record = Record {
        name: "sales-data-shipment-interface",
        id: &shown,
    };
    let items = shipment
        .items
        .iter()
        .map(|item| {
            Ok(ShipmentItem {
                order_item_id: item.order_item_id,
                qty: record.whole_count("items.qty", Some(item.qty))?,
                sku: sku(item.sku.as_deref()),
            })
        })
        .collect::<Result<Vec<_>, ConvertError>>()?;
    Ok(Shipment {
        entity_id: CommerceShipmentId(record.required("entity_id", shipment.entity_id)?),
        order_id: CommerceOrderId(shipment.order_id),
        created_at: opt_timestamp(shipment.created_at.as_deref()),
        updated_at: opt_timestamp(shipment.updated_at.as_deref()),
        items,
        tracks: shipment
            .tracks
            .into_iter()
            .map(|t| ShipmentTrack {
                created_at: opt_timestamp(t.created_at.as_deref()),
                track_number: t.track_number,
                title: t.title,
                carrier_code: t.carrier_code,
            })
            .collect(),
    })
}

pub fn credit_memo(memo: wire::CreditMemo) -> Result<CreditMemo, ConvertError> {
    let shown = memo
        .entity_id
        .map_or_else(|| memo.increment_id.clone(), |id| id.to_string());
    let record = Record {
        name: "sales-data-creditmemo-interface",
        id: &shown,
    };
    let items = memo
        .items
        .iter()
        .map(|item| {
            let qty = record.whole_count("items.qty", Some(item.qty))?;
            // Magento may leave an item's price unset and print its row total only.
            let unit_price = item
                .price
                .or_else(|| item.row_total.filter(|_| qty > 0).map(|t| t / f64::from(qty)));
            Ok(CreditMemoItem {
                order_item_id: item.order_item_id,
                qty,
                sku: sku(item.sku.as_deref()),
                unit_price: money(unit_price),
            })
        })
        .collect::<Result<Vec<_>, ConvertError>>()?;
    Ok(CreditMemo {
        entity_id: CreditMemoId(record.required("entity_id", memo.entity_id)?),
        order_id: CommerceOrderId(memo.order_id),
        updated_at: opt_timestamp(memo.updated_at.as_deref()),
        items,
    })
}

pub fn rma(rma: wire::Rma) -> Result<Rma, ConvertError> {
    Ok(Rma {
        entity_id: RmaId(rma.entity_id),
        order_id: CommerceOrderId(rma.order_id),
        comments: rma
            .comments
            .into_iter()
            .map(|c| RmaComment { comment: c.comment })
            .collect(),
    })
}

pub fn product(product: wire::Product) -> Product {
    let status = match product.status {
        Some(wire::STATUS_ENABLED) => ProductStatus::Enabled,
        Some(wire::STATUS_DISABLED) => ProductStatus::Disabled,
        other => ProductStatus::Other(other.unwrap_or_default()),
    };
    let product_type = match product.type_id.as_str() {
        "simple" => ProductType::Simple,
        "configurable" => ProductType::Configurable,
        other => ProductType::Other(other.to_owned()),
    };
    let special_price = product
        .special_price_days()
        .map(|(price, from, to)| SpecialPriceDays { price, from, to });
    let attributes: BTreeMap<String, String> = product
        .custom_attributes
        .iter()
        .filter_map(|a| Some((a.attribute_code.clone(), a.text().filter(|v| !v.is_empty())?)))
        .collect();
    Product {
        id: product.id.map(CommerceProductId),
        price: product.price_money(),
        updated_at: opt_timestamp(product.updated_at.as_deref()),
        website_ids: product
            .extension_attributes
            .map(|e| e.website_ids)
            .unwrap_or_default(),
        sku: product.sku,
        name: product.name,
        status,
        product_type,
        weight_lb: product.weight,
        special_price,
        attributes,
    }
}

pub fn source_item(item: wire::SourceItem) -> SourceItem {
    SourceItem {
        sku: item.sku,
        source_code: item.source_code,
        quantity: item.quantity,
        in_stock: item.status == wire::SOURCE_IN_STOCK,
    }
}

pub fn stock(stock: wire::Stock) -> Stock {
    Stock {
        stock_id: stock.stock_id,
        name: stock.name,
    }
}

pub fn stock_item(item: wire::StockItem) -> StockItem {
    StockItem {
        qty: item.qty,
        is_in_stock: item.is_in_stock,
    }
}

/// The units the port asks to invoice or refund, as Magento's item quantities.
pub fn item_quantities(items: &[ItemQuantity]) -> Vec<wire::ItemQuantity> {
    items
        .iter()
        .map(|i| wire::ItemQuantity {
            order_item_id: i.order_item_id,
            qty: f64::from(i.qty),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{StoreTimeZone, Timestamp};

    fn wire_order(items: serde_json::Value) -> wire::Order {
        serde_json::from_value(serde_json::json!({
            "entity_id": "41", "increment_id": "000000041", "state": "canceled", "status": "canceled",
            "updated_at": "2026-03-01 10:00:00",
            "payment": {"method": "purchaseorder", "po_number": "1234567890"},
            "status_histories": [{"comment": "out of stock", "created_at": "2026-03-01 09:00:00"}],
            "items": items,
        }))
        .unwrap()
    }

    #[test]
    fn an_order_converts_with_whole_counts_typed_ids_and_its_state() {
        let order = order(wire_order(serde_json::json!([
            {"item_id": "7", "sku": "MUG-1", "price": "12.5000", "qty_ordered": "3.0000",
             "qty_canceled": 1, "qty_invoiced": null}
        ])))
        .unwrap();
        assert_eq!(order.entity_id, CommerceOrderId(41));
        assert_eq!(order.increment_id.as_str(), "000000041");
        assert_eq!(order.state, OrderState::Canceled);
        assert_eq!(order.po_number(), Some("1234567890"));
        assert_eq!(
            order.updated_at,
            Timestamp::parse_commerce("2026-03-01 10:00:00").ok()
        );
        assert_eq!(order.status_histories[0].comment, "out of stock");
        let item = &order.items[0];
        assert_eq!(
            (item.item_id, item.sku.as_ref().map(Sku::as_str), item.price),
            (Some(7), Some("MUG-1"), Some(Money::from_cents(1250)))
        );
        assert_eq!(
            (
                item.qty_ordered,
                item.qty_canceled,
                item.qty_invoiced,
                item.qty_shipped
            ),
            (3, 1, 0, 0)
        );
    }

    #[test]
    fn fractional_or_negative_unit_counts_are_refused_with_the_record_and_field() {
        let error = order(wire_order(serde_json::json!([
            {"item_id": 7, "sku": "MUG-1", "qty_ordered": "1.5000"}
        ])))
        .unwrap_err();
        assert_eq!(error.record, "sales-data-order-item-interface");
        assert_eq!((error.id.as_str(), error.field), ("7", "qty_ordered"));
        assert_eq!(error.problem, Unrepresentable::NotWholeCount(1.5));
        let negative = order(wire_order(serde_json::json!([
            {"item_id": 7, "sku": "MUG-1", "qty_ordered": 1, "qty_refunded": -1}
        ])))
        .unwrap_err();
        assert_eq!(negative.problem, Unrepresentable::NotWholeCount(-1.0));
        let mut without_id = wire_order(serde_json::json!([]));
        without_id.entity_id = None;
        assert_eq!(order(without_id).unwrap_err().problem, Unrepresentable::Missing);
    }

    #[test]
    fn unknown_order_states_are_kept() {
        let mut raw = wire_order(serde_json::json!([]));
        raw.state = "fulfilled_elsewhere".into();
        assert_eq!(
            order(raw).unwrap().state,
            OrderState::Other("fulfilled_elsewhere".into())
        );
    }

    #[test]
    fn a_credit_memo_item_without_a_price_is_refunded_at_its_row_total_per_unit() {
        let memo: wire::CreditMemo = serde_json::from_value(serde_json::json!({
            "entity_id": 9, "order_id": 41,
            "items": [{"order_item_id": 7, "qty": "2.0000", "row_total": 25.0, "sku": "MUG-1"},
                      {"order_item_id": 8, "qty": 1, "price": 4.0}]
        }))
        .unwrap();
        let memo = credit_memo(memo).unwrap();
        assert_eq!(memo.entity_id, CreditMemoId(9));
        assert_eq!(memo.items[0].unit_price, Some(Money::from_cents(1250)));
        assert_eq!(memo.items[1].unit_price, Some(Money::from_cents(400)));
        assert_eq!(memo.items[0].qty, 2);
    }

    #[test]
    fn a_product_converts_with_its_status_type_attributes_and_special_price_days() {
        let product: wire::Product = serde_json::from_value(serde_json::json!({
            "id": 5, "sku": "MUG-1", "name": "Mug", "price": 12, "status": 2, "type_id": "configurable",
            "updated_at": "2026-01-02 03:04:05",
            "custom_attributes": [
                {"attribute_code": "special_price", "value": "9.99"},
                {"attribute_code": "special_from_date", "value": "2026-01-01 00:00:00"},
                {"attribute_code": "upc", "value": "036000291452"},
                {"attribute_code": "empty", "value": ""}
            ]
        }))
        .unwrap();
        let product = super::product(product);
        assert_eq!(product.status, ProductStatus::Disabled);
        assert!(product.is_configurable() && !product.is_enabled());
        assert_eq!(product.attribute("upc"), Some("036000291452"));
        assert_eq!(product.attribute("empty"), None);
        let utc = StoreTimeZone::utc();
        let snapshot = product.to_snapshot("upc", &utc);
        assert_eq!(snapshot.product_id, CommerceProductId(5));
        assert_eq!(snapshot.price, Some(Money::from_cents(1200)));
        assert_eq!(
            snapshot.special_price.map(|s| (s.price, s.from)),
            Some((
                Money::from_cents(999),
                Timestamp::parse_commerce("2026-01-01 00:00:00").ok()
            ))
        );
        assert!(!snapshot.enabled);
        assert_eq!(
            snapshot.updated_at,
            Timestamp::parse_commerce("2026-01-02 03:04:05").unwrap()
        );
    }

    #[test]
    fn source_items_in_stock_and_shipment_counts() {
        let item: wire::SourceItem = serde_json::from_value(
            serde_json::json!({"sku": "A", "source_code": "default", "quantity": "3.5", "status": "1"}),
        )
        .unwrap();
        let item = source_item(item);
        assert!(item.in_stock);
        assert_eq!(item.quantity, 3.5);
        let shipment: wire::Shipment = serde_json::from_value(serde_json::json!({
            "entity_id": 3, "order_id": 41,
            "items": [{"order_item_id": 7, "qty": "2.0000", "sku": "MUG-1"}],
            "tracks": [{"track_number": "1Z", "carrier_code": "ups", "created_at": "2026-03-01 10:00:00"}]
        }))
        .unwrap();
        let shipment = super::shipment(shipment).unwrap();
        assert_eq!(shipment.entity_id, CommerceShipmentId(3));
        assert_eq!(shipment.items[0].qty, 2);
        assert_eq!(
            shipment.tracks[0].created_at,
            Timestamp::parse_commerce("2026-03-01 10:00:00").ok()
        );
    }
}
