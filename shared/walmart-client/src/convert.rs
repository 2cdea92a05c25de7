//! From Walmart's wire shapes to the channel's domain types. A field the domain needs but Walmart
//! sent badly is a [`WalmartError::Malformed`] naming the field, never a panic or a silent default.

use domain::{
    CustomerOrderId, FeedId, FeedStatus, LineNumber, ListingIssue, MethodCode, Money, OrderLine,
    PurchaseOrder, PurchaseOrderId, ReturnLine, ReturnOrderId, ShipTo, Sku, Timestamp, WalmartLineStatus,
    Wpid,
};

use crate::endpoint::Endpoint;
use crate::error::WalmartError;
use crate::wire;
use ports::walmart::KNOWN_CARRIERS;
pub use ports::walmart::{
    CatalogItem, FeedItemResult, FeedStatusPage, IngestionStatus, LineState, LineStatusQuantity, SellerItem,
    SkippedRecord, WalmartOrder, WalmartReturn,
};

/// Where a body came from: the endpoint, and the correlation id that every report about its
/// records carries (a skipped record, a value Walmart added since), so Walmart's support can find
/// the call.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Source<'a> {
    pub endpoint: Endpoint,
    pub correlation_id: &'a str,
}

/// Converts a page's records one at a time: a record that did not decode, or does not convert, is
/// logged with the call's correlation id, skipped and returned as a [`SkippedRecord`]; the rest of
/// the page is kept.
pub(crate) fn page<W, D>(
    source: Source<'_>,
    records: wire::Records<W>,
    id_of: impl Fn(&W) -> Option<String>,
    mut convert: impl FnMut(W) -> Result<D, WalmartError>,
) -> (Vec<D>, Vec<SkippedRecord>) {
    let mut converted = Vec::with_capacity(records.len());
    let mut skipped = Vec::new();
    for (index, record) in records.0.into_iter().enumerate() {
        let outcome = match record {
            Ok(record) => {
                let id = id_of(&record);
                convert(record).map_err(|e| (id, e.to_string()))
            }
            Err(unreadable) => Err((unreadable.id, unreadable.error)),
        };
        match outcome {
            Ok(record) => converted.push(record),
            Err((id, reason)) => {
                tracing::warn!(
                    endpoint = source.endpoint.name(),
                    correlation_id = source.correlation_id,
                    index,
                    id = id.as_deref().unwrap_or(""),
                    reason = %reason,
                    "a record of Walmart's page could not be read; skipped"
                );
                skipped.push(SkippedRecord {
                    index: u32::try_from(index).unwrap_or(u32::MAX),
                    id,
                    reason,
                    correlation_id: source.correlation_id.to_owned(),
                });
            }
        }
    }
    (converted, skipped)
}

/// Logs a value of a Walmart enum the client does not know, with the call's correlation id.
fn unknown_value(source: Source<'_>, record: &str, what: &str, value: &str) {
    tracing::warn!(
        endpoint = source.endpoint.name(),
        correlation_id = source.correlation_id,
        record,
        value,
        "Walmart sent a {what} the channel does not know"
    );
}

fn malformed(endpoint: Endpoint, context: impl Into<String>) -> WalmartError {
    WalmartError::Malformed {
        endpoint,
        context: context.into(),
    }
}

fn money(endpoint: Endpoint, amount: f64, what: &str) -> Result<Money, WalmartError> {
    Money::from_decimal(amount).map_err(|e| malformed(endpoint, format!("{what}: {e}")))
}

fn whole_quantity(endpoint: Endpoint, raw: &str, what: &str) -> Result<u32, WalmartError> {
    let trimmed = raw.trim();
    trimmed
        .parse::<u32>()
        .ok()
        .or_else(|| {
            // Walmart occasionally renders quantities as "2.0".
            trimmed
                .parse::<f64>()
                .ok()
                .filter(|q| q.fract() == 0.0 && *q >= 0.0 && *q <= f64::from(u32::MAX))
                .map(|q| q as u32)
        })
        .ok_or_else(|| malformed(endpoint, format!("{what}: {raw:?} is not a whole quantity")))
}

// ---------------------------------------------------------------- orders

/// A line's single status: cancelled if every unit is, else the least advanced state of the
/// units still live, so "partly shipped" reads as not yet shipped.
fn summarise(states: &[(LineState, u32)]) -> WalmartLineStatus {
    let live = states
        .iter()
        .filter(|(_, q)| *q > 0)
        .filter_map(|(s, _)| s.rank().map(|r| (r, s)))
        .min_by_key(|(r, _)| *r);
    match live.and_then(|(_, state)| state.to_domain()) {
        Some(status) => status,
        None if states.iter().any(|(s, q)| *s == LineState::Cancelled && *q > 0) => {
            WalmartLineStatus::Cancelled
        }
        None if states.iter().any(|(s, _)| *s == LineState::Refund) => WalmartLineStatus::Shipped,
        None => WalmartLineStatus::Created,
    }
}

fn order_date(endpoint: Endpoint, raw: &wire::OrderDate) -> Result<Timestamp, WalmartError> {
    match raw {
        wire::OrderDate::Millis(ms) => Ok(Timestamp::from_millis(*ms)),
        wire::OrderDate::Text(text) => {
            Timestamp::parse_rfc3339(text).map_err(|e| malformed(endpoint, format!("orderDate: {e}")))
        }
    }
}

pub(crate) fn order(source: Source<'_>, wire: wire::Order) -> Result<WalmartOrder, WalmartError> {
    let endpoint = source.endpoint;
    let id = PurchaseOrderId::new(wire.purchase_order_id.as_str())
        .map_err(|e| malformed(endpoint, format!("purchaseOrderId: {e}")))?;
    let customer_order_id = CustomerOrderId::new(wire.customer_order_id.as_str())
        .map_err(|e| malformed(endpoint, format!("customerOrderId of {id}: {e}")))?;
    let method_code = MethodCode::new(wire.shipping_info.method_code.as_str())
        .map_err(|e| malformed(endpoint, format!("methodCode of {id}: {e}")))?;
    let address = wire.shipping_info.postal_address;
    let ship_to = ShipTo {
        name: address.name,
        address1: address.address1,
        address2: address.address2.filter(|a| !a.is_empty()),
        city: address.city,
        state: address.state,
        postal_code: address.postal_code,
        country: address.country,
        phone: wire.shipping_info.phone.filter(|p| !p.is_empty()),
        email: wire.customer_email_id.filter(|e| !e.is_empty()),
    };
    let mut lines = Vec::with_capacity(wire.order_lines.order_line.len());
    let mut statuses = Vec::new();
    let mut intent_to_cancel = Vec::new();
    let mut unknown_values = Vec::new();
    for line in wire.order_lines.order_line {
        let number: LineNumber = line
            .line_number
            .parse()
            .map_err(|e| malformed(endpoint, format!("lineNumber of {id}: {e}")))?;
        let sku = Sku::new(line.item.sku.as_str())
            .map_err(|e| malformed(endpoint, format!("sku of {id} line {number}: {e}")))?;
        let quantity = whole_quantity(
            endpoint,
            &line.order_line_quantity.amount,
            &format!("orderLineQuantity of {id} line {number}"),
        )?;
        let (unit_price, shipping, tax) =
            line_charges(source, &id, number, &line.charges.charge, &mut unknown_values)?;
        let states = line_statuses(
            source,
            &id,
            number,
            &line.order_line_statuses.order_line_status,
            &mut statuses,
            &mut unknown_values,
        )?;
        if line.intent_to_cancel.as_deref().is_some_and(intends_to_cancel) {
            intent_to_cancel.push(number);
        }
        lines.push(OrderLine {
            number,
            sku,
            product_name: line.item.product_name,
            quantity,
            unit_price,
            tax,
            shipping,
            status: summarise(&states),
        });
    }
    Ok(WalmartOrder {
        order: PurchaseOrder {
            order_date: order_date(endpoint, &wire.order_date)?,
            id,
            customer_order_id,
            method_code,
            ship_to,
            lines,
        },
        statuses,
        intent_to_cancel,
        unknown_values,
    })
}

/// A line's product price, shipping and tax, summed over its charges; a charge type the channel
/// does not know counts as shipping and is reported.
fn line_charges(
    source: Source<'_>,
    id: &PurchaseOrderId,
    number: LineNumber,
    charges: &[wire::Charge],
    unknown_values: &mut Vec<String>,
) -> Result<(Money, Money, Money), WalmartError> {
    let endpoint = source.endpoint;
    let (mut unit_price, mut shipping, mut tax) = (Money::ZERO, Money::ZERO, Money::ZERO);
    for charge in charges {
        let amount = charge
            .charge_amount
            .amount
            .ok_or_else(|| malformed(endpoint, format!("chargeAmount.amount of {id} line {number}")))?;
        let amount = money(endpoint, amount, "chargeAmount")?;
        match charge.charge_type.to_ascii_uppercase().as_str() {
            "PRODUCT" => unit_price = unit_price + amount,
            "SHIPPING" => shipping = shipping + amount,
            other => {
                // Counted with shipping, the other charge beside the product, and shown.
                unknown_value(source, id.as_str(), "charge type", other);
                unknown_values.push(format!(
                    "line {number}: charge type {:?} is not one the channel knows (counted as shipping)",
                    charge.charge_type
                ));
                shipping = shipping + amount;
            }
        }
        if let Some(t) = &charge.tax {
            // The list schema leaves a tax's amount optional: none is no tax.
            if let Some(amount) = t.tax_amount.amount {
                tax = tax + money(endpoint, amount, "taxAmount")?;
            }
        }
    }
    Ok((unit_price, shipping, tax))
}

/// A line's statuses with their quantities, added to `statuses`; statuses and carriers the channel
/// does not know are reported.
fn line_statuses(
    source: Source<'_>,
    id: &PurchaseOrderId,
    number: LineNumber,
    wire_statuses: &[wire::OrderLineStatus],
    statuses: &mut Vec<LineStatusQuantity>,
    unknown_values: &mut Vec<String>,
) -> Result<Vec<(LineState, u32)>, WalmartError> {
    let endpoint = source.endpoint;
    let mut states = Vec::new();
    for status in wire_statuses {
        let state = LineState::parse(&status.status);
        if let LineState::Other(raw) = &state {
            unknown_value(source, id.as_str(), "line status", raw);
            unknown_values.push(format!(
                "line {number}: Walmart status {raw:?} is not one the channel knows"
            ));
        }
        if let Some(carrier) = status
            .tracking_info
            .as_ref()
            .and_then(|t| t.carrier_name.carrier.as_deref())
            .filter(|c| !KNOWN_CARRIERS.iter().any(|k| k.eq_ignore_ascii_case(c)))
        {
            unknown_value(source, id.as_str(), "carrier", carrier);
            unknown_values.push(format!(
                "line {number}: carrier {carrier:?} is not one of Walmart's carriers the channel knows"
            ));
        }
        let amount = whole_quantity(
            endpoint,
            &status.status_quantity.amount,
            &format!("statusQuantity of {id} line {number}"),
        )?;
        states.push((state.clone(), amount));
        statuses.push(LineStatusQuantity {
            line: number,
            state,
            quantity: amount,
            cancellation_reason: status.cancellation_reason.clone(),
            tracking_number: status.tracking_info.as_ref().map(|t| t.tracking_number.clone()),
        });
    }
    Ok(states)
}

/// Whether an `intentToCancel` value says the customer asked to cancel. The spec types it as a
/// string without listing values; Walmart's flags elsewhere are "Y"/"N".
fn intends_to_cancel(raw: &str) -> bool {
    matches!(raw.trim().to_ascii_uppercase().as_str(), "Y" | "YES" | "TRUE")
}

// ---------------------------------------------------------------- feeds

fn issues(errors: Option<wire::IngestionErrors>) -> Vec<ListingIssue> {
    errors
        .map(|e| e.ingestion_error)
        .unwrap_or_default()
        .into_iter()
        .map(|e| {
            let message = e.description.unwrap_or_else(|| e.kind.clone());
            ListingIssue::new(e.code, message)
        })
        .collect()
}

fn count(raw: Option<i64>) -> u32 {
    raw.and_then(|n| u32::try_from(n).ok()).unwrap_or(0)
}

pub(crate) fn feed_status(
    source: Source<'_>,
    asked: &FeedId,
    wire: wire::PartnerFeedResponse,
) -> Result<FeedStatusPage, WalmartError> {
    let endpoint = source.endpoint;
    let status = match wire.feed_status.as_deref() {
        Some(raw) => FeedStatus::parse(raw),
        None => return Err(malformed(endpoint, "no feedStatus")),
    };
    if let FeedStatus::Other(raw) = &status {
        unknown_value(source, asked.as_str(), "feed status", raw);
    }
    let feed_id = match wire.feed_id.as_deref() {
        Some(raw) if !raw.is_empty() => {
            FeedId::new(raw).map_err(|e| malformed(endpoint, format!("feedId: {e}")))?
        }
        _ => asked.clone(),
    };
    let details = wire
        .item_details
        .map(|d| d.item_ingestion_status)
        .unwrap_or_default();
    let (items, skipped) = page(
        source,
        details,
        |item| item.sku.clone(),
        |item| {
            let status = IngestionStatus::parse(&item.ingestion_status);
            if let IngestionStatus::Other(raw) = &status {
                unknown_value(source, item.sku.as_deref().unwrap_or(""), "ingestion status", raw);
            }
            let sku = item.sku.as_deref().and_then(|raw| match Sku::new(raw) {
                Ok(sku) => Some(sku),
                Err(e) => {
                    tracing::warn!(error = %e, "feed item with an unusable sku");
                    None
                }
            });
            Ok(FeedItemResult {
                index: item.index.and_then(|i| u32::try_from(i).ok()),
                sku,
                wpid: item
                    .wpid
                    .as_deref()
                    .filter(|w| !w.is_empty())
                    .and_then(|w| Wpid::new(w).ok()),
                status,
                issues: issues(item.ingestion_errors),
            })
        },
    );
    Ok(FeedStatusPage {
        feed_id,
        status,
        items_received: count(wire.items_received),
        items_succeeded: count(wire.items_succeeded),
        items_failed: count(wire.items_failed),
        items_processing: count(wire.items_processing),
        offset: count(wire.offset),
        limit: count(wire.limit),
        items,
        feed_errors: issues(wire.ingestion_errors),
        details_page_fell_back: false,
        skipped,
    })
}

// ---------------------------------------------------------------- items

pub(crate) fn seller_item(endpoint: Endpoint, wire: wire::ItemResponse) -> Result<SellerItem, WalmartError> {
    let sku = Sku::new(wire.sku.as_str()).map_err(|e| malformed(endpoint, format!("sku: {e}")))?;
    let price = match wire.price.and_then(|p| p.amount) {
        Some(amount) => Some(money(endpoint, amount, "price")?),
        None => None,
    };
    let non_empty = |s: Option<String>| s.filter(|s| !s.is_empty());
    Ok(SellerItem {
        wpid: non_empty(wire.wpid).and_then(|w| Wpid::new(w).ok()),
        sku,
        gtin: non_empty(wire.gtin),
        upc: non_empty(wire.upc),
        product_name: non_empty(wire.product_name),
        price,
        published_status: non_empty(wire.published_status),
        lifecycle_status: non_empty(wire.lifecycle_status),
        unpublished_reasons: wire.unpublished_reasons.map(|r| r.reason).unwrap_or_default(),
    })
}

pub(crate) fn catalog_item(wire: wire::SearchItem) -> Option<CatalogItem> {
    Some(CatalogItem {
        item_id: wire.item_id.filter(|i| !i.is_empty())?,
        title: wire.title,
        brand: wire.brand,
        product_type: wire.product_type,
        price: wire
            .price
            .and_then(|p| p.amount)
            .and_then(|a| a.parse::<f64>().ok())
            .and_then(|a| Money::from_decimal(a).ok()),
        marketplace_item: wire.is_market_place_item.unwrap_or(false),
    })
}

// ---------------------------------------------------------------- returns

/// `returnTrackingDetail` event tags that mean the line's refund was issued (Walmart's return
/// statuses: REFUND_INITIATED and REFUND_ISSUED, and the after-invoice ones).
const REFUND_EVENTS: [&str; 4] = [
    "REFUND_INITIATED",
    "REFUND_ISSUED",
    "INTRANSIT_AFTER_INVOICE",
    "DELIVERED_AFTER_INVOICE",
];

/// Whether Walmart shows the return line refunded, by any signal the spec shows: the spec's own
/// example has `refundedQty` and `refundChannel` set while `currentRefundStatus` still says
/// NOT_REFUNDED, so that field alone proves nothing either way.
fn line_refunded(line: &wire::ReturnOrderLine, quantity: u32) -> bool {
    let refunded_qty = line
        .refunded_qty
        .is_some_and(|q| q > 0.0 && q >= f64::from(quantity));
    let channel = line
        .refund_channel
        .as_deref()
        .is_some_and(|c| !c.trim().is_empty());
    let status = line.current_refund_status.as_deref().is_some_and(|s| {
        let s = s.trim().to_ascii_uppercase();
        matches!(
            s.as_str(),
            "REFUNDED" | "REFUND_ISSUED" | "REFUND_INITIATED" | "REFUND_COMPLETED"
        )
    });
    let event = line
        .return_tracking_detail
        .iter()
        .filter_map(|d| d.event_tag.as_deref())
        .any(|tag| REFUND_EVENTS.contains(&tag.trim().to_ascii_uppercase().as_str()));
    refunded_qty || channel || status || event
}

pub(crate) fn return_order(
    endpoint: Endpoint,
    wire: wire::ReturnOrder,
) -> Result<WalmartReturn, WalmartError> {
    let return_order_id = ReturnOrderId::new(wire.return_order_id.unwrap_or_default())
        .map_err(|e| malformed(endpoint, format!("returnOrderId: {e}")))?;
    let customer_order_id =
        CustomerOrderId::new(wire.customer_order_id.unwrap_or_default()).map_err(|e| {
            malformed(
                endpoint,
                format!("customerOrderId of return {return_order_id}: {e}"),
            )
        })?;
    let mut purchase_order_id = None;
    let mut lines = Vec::new();
    let mut refunded_lines = Vec::new();
    for line in wire.return_order_lines {
        let context = |what: &str| format!("{what} of return {return_order_id}");
        let return_line = line
            .return_order_line_number
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| malformed(endpoint, context("returnOrderLineNumber")))?;
        let order_line = line
            .purchase_order_line_number
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n > 0)
            .map(LineNumber)
            .ok_or_else(|| malformed(endpoint, context("purchaseOrderLineNumber")))?;
        if purchase_order_id.is_none()
            && let Some(po) = line.purchase_order_id.as_deref()
        {
            purchase_order_id = Some(
                PurchaseOrderId::new(po)
                    .map_err(|e| malformed(endpoint, format!("{}: {e}", context("purchaseOrderId"))))?,
            );
        }
        let sku = line
            .item
            .as_ref()
            .and_then(|i| i.sku.as_deref())
            .ok_or_else(|| malformed(endpoint, context("item.sku")))
            .and_then(|s| {
                Sku::new(s).map_err(|e| malformed(endpoint, format!("{}: {e}", context("item.sku"))))
            })?;
        let quantity = line
            .quantity
            .as_ref()
            .map(|q| q.measurement_value)
            .filter(|q| q.fract() == 0.0 && *q >= 0.0)
            .map(|q| q as u32)
            .ok_or_else(|| malformed(endpoint, context("quantity")))?;
        let line_total = line
            .charge_totals
            .iter()
            .find(|t| t.name == "lineTotal")
            .map(|t| t.value.currency_amount);
        let refund_amount = match (line_total, &line.unit_price) {
            (Some(total), _) => money(endpoint, total, "lineTotal")?,
            (None, Some(unit)) => money(endpoint, unit.currency_amount, "unitPrice")? * quantity,
            (None, None) => Money::ZERO,
        };
        if line_refunded(&line, quantity) {
            refunded_lines.push(return_line);
        }
        lines.push(ReturnLine {
            return_line,
            order_line,
            sku,
            quantity,
            refund_amount,
        });
    }
    Ok(WalmartReturn {
        return_order_id,
        customer_order_id,
        purchase_order_id,
        returned_at: wire
            .return_order_date
            .as_deref()
            .and_then(|d| Timestamp::parse_rfc3339(d).ok()),
        total_refund: match wire.total_refund_amount {
            Some(a) => Some(money(endpoint, a.currency_amount, "totalRefundAmount")?),
            None => None,
        },
        lines,
        refunded_lines,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_status_summary_follows_the_least_advanced_live_unit() {
        use LineState::*;
        assert_eq!(summarise(&[(Created, 2)]), WalmartLineStatus::Created);
        assert_eq!(
            summarise(&[(Shipped, 1), (Acknowledged, 1)]),
            WalmartLineStatus::Acknowledged
        );
        assert_eq!(
            summarise(&[(Shipped, 1), (Cancelled, 1)]),
            WalmartLineStatus::Shipped
        );
        assert_eq!(summarise(&[(Cancelled, 2)]), WalmartLineStatus::Cancelled);
        assert_eq!(summarise(&[(Refund, 1)]), WalmartLineStatus::Shipped);
    }

    #[test]
    fn quantities_accept_walmart_renderings() {
        let e = Endpoint::ListOrders;
        assert_eq!(whole_quantity(e, "2", "q").unwrap(), 2);
        assert_eq!(whole_quantity(e, "2.0", "q").unwrap(), 2);
        assert!(whole_quantity(e, "1.5", "q").is_err());
        assert!(whole_quantity(e, "x", "q").is_err());
    }
}
