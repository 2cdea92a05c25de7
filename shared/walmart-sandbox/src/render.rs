//! The sandbox's records rendered as Walmart's JSON (the response schemas of the specs).

use domain::{Money, Timestamp};
use serde_json::{Value, json};

use crate::world::{
    CatalogEntry, Feed, FeedPhase, Order, OrderLine, ReturnOrder, SellerItem, StatusQuantity,
};

fn usd(amount: Money) -> Value {
    json!({ "currency": "USD", "amount": amount.to_decimal() })
}

fn currency_amount(amount: Money) -> Value {
    json!({ "currencyAmount": amount.to_decimal(), "currencyUnit": "USD" })
}

fn quantity(amount: u32) -> Value {
    json!({ "unitOfMeasurement": "EACH", "amount": amount.to_string() })
}

/// How `orderDate` is rendered: epoch ms in lists and line updates, RFC 3339 in the single-order
/// schema of `GET /v3/orders/{purchaseOrderId}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateStyle {
    EpochMillis,
    Rfc3339,
}

/// An `Order`. The buyer's address is made-up sandbox data.
pub fn order(order: &Order, style: DateStyle) -> Value {
    let order_date = match style {
        DateStyle::EpochMillis => json!(order.order_date.millis()),
        DateStyle::Rfc3339 => json!(order.order_date.to_rfc3339()),
    };
    let day = std::time::Duration::from_secs(24 * 3600);
    let lines: Vec<Value> = order.lines.iter().map(|line| order_line(order, line)).collect();
    let total: Money = order
        .lines
        .iter()
        .map(|l| l.unit_price * l.quantity + l.tax + l.shipping)
        .sum();
    let address = json!({
        "name": order.ship_to.name,
        "address1": order.ship_to.address1,
        "city": order.ship_to.city,
        "state": order.ship_to.state,
        "postalCode": order.ship_to.postal_code,
        "country": order.ship_to.country,
        "addressType": "RESIDENTIAL",
        "address2": order.ship_to.address2,
    });
    json!({
        "purchaseOrderId": order.purchase_order_id,
        "customerOrderId": order.customer_order_id,
        "customerEmailId": order.customer_email,
        "orderDate": order_date,
        "mart": "Walmart.com",
        "shippingInfo": {
            "phone": order.ship_to.phone,
            "estimatedDeliveryDate": order.order_date.plus(day * 5).millis(),
            "estimatedShipDate": order.order_date.plus(day * 2).millis(),
            "methodCode": order.method_code,
            "postalAddress": address,
        },
        "orderLines": { "orderLine": lines },
        "orderSummary": {
            "totalAmount": { "currencyAmount": total.to_decimal(), "currencyUnit": "USD" },
        },
        "shipNode": { "type": "SellerFulfilled" },
    })
}

/// One line of an order: its charges, statuses (with tracking), buyer's intent to cancel and refunds.
fn order_line(order: &Order, line: &OrderLine) -> Value {
    let mut charges = vec![json!({
        "chargeType": "PRODUCT",
        "chargeName": "ItemPrice",
        "chargeAmount": usd(line.unit_price),
        "tax": { "taxName": "Tax1", "taxAmount": usd(line.tax) },
    })];
    if line.shipping != Money::ZERO {
        charges.push(json!({
            "chargeType": "SHIPPING",
            "chargeName": "Shipping",
            "chargeAmount": usd(line.shipping),
        }));
    }
    let statuses: Vec<Value> = line.statuses.iter().map(line_status).collect();
    let mut rendered = json!({
        "lineNumber": line.number.to_string(),
        "item": { "productName": line.product_name, "sku": line.sku },
        "charges": { "charge": charges },
        "orderLineQuantity": quantity(line.quantity),
        "statusDate": line.status_date.millis(),
        "orderLineStatuses": { "orderLineStatus": statuses },
        "fulfillment": { "fulfillmentOption": "S2H", "shipMethod": order.method_code.to_uppercase() },
        "refund": null,
    });
    if line.intent_to_cancel {
        rendered["intentToCancel"] = json!("Y");
    }
    if !line.refunds.is_empty() {
        rendered["refund"] = line_refund(line);
    }
    rendered
}

/// One status of a line's units, with its cancellation reason and tracking.
fn line_status(s: &StatusQuantity) -> Value {
    let mut status = json!({
        "status": s.state.as_str(),
        "statusQuantity": quantity(s.quantity),
        "cancellationReason": null,
        "trackingInfo": null,
    });
    if let Some(reason) = &s.cancellation_reason {
        status["cancellationReason"] = json!(reason);
    }
    if let Some(t) = &s.tracking {
        let mut carrier = json!({});
        if let Some(c) = &t.carrier {
            carrier["carrier"] = json!(c);
        }
        if let Some(c) = &t.other_carrier {
            carrier["otherCarrier"] = json!(c);
        }
        let mut info = json!({
            "shipDateTime": t.ship_date_time,
            "carrierName": carrier,
            "methodCode": t.method_code,
            "trackingNumber": t.tracking_number,
        });
        if let Some(url) = &t.tracking_url {
            info["trackingURL"] = json!(url);
        }
        status["trackingInfo"] = info;
    }
    status
}

/// A line's refunds as negative charges, with the latest refund comment.
fn line_refund(line: &OrderLine) -> Value {
    let refund_charges: Vec<Value> = line
        .refunds
        .iter()
        .map(|r| {
            json!({
                "refundReason": r.reason,
                "charge": {
                    "chargeType": "PRODUCT",
                    "chargeName": "ItemPrice",
                    "chargeAmount": usd(Money::ZERO - r.amount),
                    "tax": { "taxName": "Tax1", "taxAmount": usd(Money::ZERO - r.tax) },
                },
            })
        })
        .collect();
    let mut refund = json!({ "refundCharges": { "refundCharge": refund_charges } });
    if let Some(comments) = line.refunds.iter().rev().find_map(|r| r.comments.clone()) {
        refund["refundComments"] = json!(comments);
    }
    refund
}

/// An `ItemResponse`.
pub fn seller_item(item: &SellerItem) -> Value {
    let mut rendered = json!({
        "mart": "WALMART_US",
        "sku": item.sku,
        "wpid": item.wpid,
        "upc": item.upc.clone().unwrap_or_default(),
        "gtin": item.gtin14,
        "productName": item.product_name,
        "publishedStatus": item.published_status,
        "lifecycleStatus": item.lifecycle_status,
        "productType": item.product_type,
        "price": item.price.map(usd),
        "unpublishedReasons": null,
    });
    if item.published_status != "PUBLISHED" {
        rendered["unpublishedReasons"] = json!({ "reason": ["The seller's store is not live yet."] });
    }
    rendered
}

/// An item of `GET /v3/items/walmart/search`.
pub fn catalog_item(entry: &CatalogEntry) -> Value {
    json!({
        "itemId": entry.item_id,
        "isMarketPlaceItem": true,
        "title": entry.product_name,
        "brand": entry.brand,
        "productType": entry.product_type,
        "price": entry.price.map(|price| json!({ "amount": price.to_string(), "currency": "USD" })),
    })
}

/// A `PartnerFeedResponse`, with item details `offset..offset+limit` when asked.
/// One feed of `GET /v3/feeds`.
pub fn feed_summary(record: &Feed, now: Timestamp) -> Value {
    let status = feed(record, now, None);
    json!({
        "feedId": record.feed_id,
        "feedSource": "MARKETPLACE_PARTNER",
        "feedType": record.feed_type,
        "partnerId": "100009",
        "itemsReceived": status["itemsReceived"],
        "itemsSucceeded": status["itemsSucceeded"],
        "itemsFailed": status["itemsFailed"],
        "itemsProcessing": status["itemsProcessing"],
        "feedStatus": status["feedStatus"],
        "feedDate": record.submitted_at.millis(),
        "modifiedDtm": record.submitted_at.millis(),
    })
}

pub fn feed(feed: &Feed, now: Timestamp, details: Option<(usize, usize)>) -> Value {
    let phase = feed.phase(now);
    let done = matches!(phase, FeedPhase::Processed | FeedPhase::Error);
    let outcomes = feed.outcomes.as_deref().filter(|_| done);
    let received = outcomes.map_or(feed.lines.len(), <[_]>::len);
    let succeeded = outcomes.map_or(0, |o| o.iter().filter(|x| x.succeeded()).count());
    let failed = outcomes.map_or(0, |o| o.len() - succeeded);
    let mut rendered = json!({
        "feedId": feed.feed_id,
        "feedStatus": phase.as_str(),
        "feedSubmissionDate": feed.submitted_at.millis(),
        "itemsReceived": received,
        "itemsSucceeded": succeeded,
        "itemsFailed": failed,
        "itemsProcessing": if done { 0 } else { received },
        // What Walmart sends for a feed without errors.
        "ingestionErrors": { "ingestionError": null },
    });
    if let Some(reason) = feed.file_error.as_ref().filter(|_| done) {
        rendered["ingestionErrors"] = json!({ "ingestionError": [{
            "type": "DATA_ERROR",
            "code": crate::world::codes::INVALID_FEED_FILE,
            "description": reason,
        }]});
    }
    if let Some((offset, limit)) = details {
        let items: Vec<Value> = match outcomes {
            Some(outcomes) => outcomes
                .iter()
                .enumerate()
                .skip(offset)
                .take(limit)
                .map(|(index, o)| {
                    let mut item = json!({
                        "martId": 0,
                        "index": index,
                        "ingestionStatus": if o.succeeded() { "SUCCESS" } else { "DATA_ERROR" },
                        "sku": o.sku,
                        "wpid": o.wpid,
                        "ingestionErrors": { "ingestionError": null },
                    });
                    if !o.errors.is_empty() {
                        let errors: Vec<Value> = o
                            .errors
                            .iter()
                            .map(|e| json!({ "type": e.kind, "code": e.code, "description": e.description }))
                            .collect();
                        item["ingestionErrors"] = json!({ "ingestionError": errors });
                    }
                    item
                })
                .collect(),
            None => feed
                .lines
                .iter()
                .enumerate()
                .skip(offset)
                .take(limit)
                .map(|(index, line)| {
                    json!({
                        "martId": 0,
                        "index": index,
                        "ingestionStatus": "INPROGRESS",
                        "sku": line.sku(),
                        "wpid": null,
                        "ingestionErrors": { "ingestionError": null },
                    })
                })
                .collect(),
        };
        rendered["offset"] = json!(offset);
        rendered["limit"] = json!(limit);
        rendered["itemDetails"] = json!({ "itemIngestionStatus": items });
    }
    rendered
}

/// A return order of `GET /v3/returns`.
pub fn return_order(record: &ReturnOrder) -> Value {
    let lines: Vec<Value> = record
        .lines
        .iter()
        .map(|l| {
            let line_total = l.unit_price * l.quantity + l.tax;
            let mut rendered = json!({
                "returnOrderLineNumber": l.number,
                "salesOrderLineNumber": l.order_line,
                "purchaseOrderId": record.purchase_order_id,
                "purchaseOrderLineNumber": l.order_line,
                "returnReason": l.reason,
                "item": { "sku": l.sku, "productName": l.product_name },
                "unitPrice": currency_amount(l.unit_price),
                "chargeTotals": [
                    { "name": "lineSubTotal", "value": currency_amount(l.unit_price * l.quantity) },
                    { "name": "lineTotalTaxes", "value": currency_amount(l.tax) },
                    { "name": "lineTotal", "value": currency_amount(line_total) },
                ],
                "quantity": { "unitOfMeasure": "EACH", "measurementValue": l.quantity },
                "status": if l.refunded() { "COMPLETED" } else { "INITIATED" },
                "statusTime": record.modified_at.to_rfc3339(),
                // As the spec's example shows: a refunded line carries `refundedQty` and
                // `refundChannel` while `currentRefundStatus` still says NOT_REFUNDED
                // (`REFUNDED` is no documented value).
                "currentRefundStatus": "NOT_REFUNDED",
                "refundedQty": if l.refunded() { l.quantity } else { 0 },
            });
            if let Some(channel) = l.refund_channel {
                rendered["refundChannel"] = json!(channel);
            }
            rendered
        })
        .collect();
    let total: Money = record
        .lines
        .iter()
        .map(|l| l.unit_price * l.quantity + l.tax)
        .sum();
    json!({
        "returnOrderId": record.return_order_id,
        "customerEmailId": record.customer_email,
        "customerOrderId": record.customer_order_id,
        "returnOrderDate": record.created_at.to_rfc3339(),
        "returnByDate": record.created_at.plus(std::time::Duration::from_secs(30 * 24 * 3600)).to_rfc3339(),
        "refundMode": "POST_DELIVERY",
        "totalRefundAmount": currency_amount(total),
        "returnOrderLines": lines,
        "returnChannel": { "channelName": "ONLINE" },
    })
}
