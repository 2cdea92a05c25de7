//! Orders API: read purchase orders and move their lines (acknowledge, ship, cancel, refund).

use domain::{Carrier, Money, PurchaseOrderId, Tracking};
use ports::Deadline;
use reqwest::Method;
use serde_json::Value;

use crate::client::{Call, WalmartClient};
use crate::convert::{self, WalmartOrder};
use crate::encoding::{component, query};
use crate::endpoint::Endpoint;
use crate::error::WalmartError;
use crate::wire;
pub use ports::walmart::{
    CancelLine, CancellationReason, OrderSource, OrdersCursor, OrdersPage, OrdersQuery, RefundLine,
    RefundReason, ShipLine,
};

/// Largest page `GET /v3/orders` serves.
pub const MAX_ORDERS_PAGE: u32 = 200;

pub use ports::walmart::{KNOWN_CARRIERS, METHOD_CODES};

fn source_path(source: OrderSource) -> &'static str {
    match source {
        OrderSource::All => "/v3/orders",
        OrderSource::Released => "/v3/orders/released",
    }
}

fn source_endpoint(source: OrderSource) -> Endpoint {
    match source {
        OrderSource::All => Endpoint::ListOrders,
        OrderSource::Released => Endpoint::ListReleasedOrders,
    }
}

fn orders_query_string(q: &OrdersQuery) -> Result<String, WalmartError> {
    if q.limit == 0 || q.limit > MAX_ORDERS_PAGE {
        return Err(WalmartError::InvalidInput(format!(
            "orders page limit {} outside 1..={MAX_ORDERS_PAGE}",
            q.limit
        )));
    }
    if q.source == OrderSource::Released && (q.modified_start.is_some() || q.modified_end.is_some()) {
        return Err(WalmartError::InvalidInput(
            "released orders cannot be filtered by modification date".to_owned(),
        ));
    }
    if q.created_start.is_none() {
        // Walmart would apply "now - 7 days" and silently leave older orders out.
        return Err(WalmartError::InvalidInput(
            "orders queries need a createdStartDate: Walmart otherwise reads only the last 7 days".to_owned(),
        ));
    }
    let mut pairs = Vec::new();
    let dates = [
        ("createdStartDate", q.created_start),
        ("createdEndDate", q.created_end),
        ("lastModifiedStartDate", q.modified_start),
        ("lastModifiedEndDate", q.modified_end),
    ];
    for (name, value) in dates {
        if let Some(t) = value {
            pairs.push((name, t.to_rfc3339()));
        }
    }
    if let Some(status) = &q.status {
        pairs.push(("status", status.as_str().to_owned()));
    }
    pairs.push(("limit", q.limit.to_string()));
    Ok(query(&pairs))
}

fn usd(amount: Money) -> wire::CurrencyAmount {
    wire::CurrencyAmount {
        currency: "USD".to_owned(),
        amount: Some(amount.to_decimal()),
    }
}

fn tracking_info(tracking: &Tracking) -> Result<wire::TrackingInfo, WalmartError> {
    let method = METHOD_CODES
        .iter()
        .find(|m| m.eq_ignore_ascii_case(tracking.method.as_str()))
        .ok_or_else(|| {
            WalmartError::InvalidInput(format!(
                "shipping method {:?} is not one of Walmart's {METHOD_CODES:?}",
                tracking.method.as_str()
            ))
        })?;
    if tracking.number.trim().is_empty() {
        return Err(WalmartError::InvalidInput("empty tracking number".to_owned()));
    }
    let (carrier_name, tracking_url) = match &tracking.carrier {
        Carrier::Known { name } => match KNOWN_CARRIERS.iter().find(|c| c.eq_ignore_ascii_case(name)) {
            Some(known) => (
                wire::CarrierName {
                    carrier: Some((*known).to_owned()),
                    other_carrier: None,
                },
                None,
            ),
            None => {
                return Err(WalmartError::InvalidInput(format!(
                    "carrier {name:?} is not one Walmart knows; send it as another carrier with a tracking URL"
                )));
            }
        },
        Carrier::Other { name, tracking_url } => {
            if tracking_url.trim().is_empty() {
                return Err(WalmartError::InvalidInput(format!(
                    "carrier {name:?} needs a tracking URL"
                )));
            }
            (
                wire::CarrierName {
                    carrier: None,
                    other_carrier: Some(name.clone()),
                },
                Some(tracking_url.clone()),
            )
        }
    };
    Ok(wire::TrackingInfo {
        ship_date_time: tracking.shipped_at.millis(),
        carrier_name,
        method_code: (*method).to_owned(),
        tracking_number: tracking.number.clone(),
        tracking_url,
    })
}

impl WalmartClient {
    fn orders_page(
        &self,
        source: OrderSource,
        response: Result<(wire::OrdersListResponse, String), WalmartError>,
    ) -> Result<OrdersPage, WalmartError> {
        let (response, correlation_id) = match response {
            Ok(r) => r,
            // Walmart answers "no orders" with a 404 and an error body: an empty page.
            Err(WalmartError::NotFound { .. }) => {
                return Ok(OrdersPage {
                    orders: Vec::new(),
                    next_cursor: None,
                    skipped: Vec::new(),
                });
            }
            Err(e) => return Err(e),
        };
        let from = convert::Source {
            endpoint: source_endpoint(source),
            correlation_id: &correlation_id,
        };
        // One order Walmart sent badly is skipped and reported; the rest of the page is read.
        let (orders, skipped) = convert::page(
            from,
            response.list.elements.order,
            |o| Some(o.purchase_order_id.clone()),
            |o| convert::order(from, o),
        );
        // A page of only unreadable records still has a next page.
        let had_records = !orders.is_empty() || !skipped.is_empty();
        let next_cursor = response
            .list
            .meta
            .next_cursor
            .filter(|c| !c.trim().is_empty() && had_records)
            .map(|c| OrdersCursor {
                source,
                query: if c.starts_with('?') { c } else { format!("?{c}") },
            });
        Ok(OrdersPage {
            orders,
            next_cursor,
            skipped,
        })
    }

    /// The first page of orders matching `request`. A 404 "no orders" is an empty page.
    pub async fn list_orders(
        &self,
        request: &OrdersQuery,
        deadline: &Deadline,
    ) -> Result<OrdersPage, WalmartError> {
        let path = format!("{}{}", source_path(request.source), orders_query_string(request)?);
        let call = Call::get(source_endpoint(request.source), path);
        let response = self.execute_correlated(&call, deadline).await;
        self.orders_page(request.source, response)
    }

    /// The page after `cursor`: Walmart's `nextCursor` appended to the list path as given.
    pub async fn next_orders(
        &self,
        cursor: &OrdersCursor,
        deadline: &Deadline,
    ) -> Result<OrdersPage, WalmartError> {
        let path = format!("{}{}", source_path(cursor.source), cursor.query);
        let call = Call::get(source_endpoint(cursor.source), path);
        let response = self.execute_correlated(&call, deadline).await;
        self.orders_page(cursor.source, response)
    }

    /// `GET /v3/orders/{purchaseOrderId}`.
    pub async fn get_order(
        &self,
        id: &PurchaseOrderId,
        deadline: &Deadline,
    ) -> Result<WalmartOrder, WalmartError> {
        let call = Call::get(
            Endpoint::GetOrder,
            format!("/v3/orders/{}", component(id.as_str())),
        )
        .with_key(id.as_str());
        // The spec's schema is a bare Order; production wraps it in `order`. Read either.
        let (mut body, correlation_id): (Value, String) = self.execute_correlated(&call, deadline).await?;
        let order = match body.get_mut("order") {
            Some(inner) => inner.take(),
            None => body,
        };
        let order: wire::Order = wire::decode_value(order).map_err(|e| WalmartError::Malformed {
            endpoint: Endpoint::GetOrder,
            context: format!("order {id}: {e}"),
        })?;
        convert::order(
            convert::Source {
                endpoint: Endpoint::GetOrder,
                correlation_id: &correlation_id,
            },
            order,
        )
    }

    async fn order_update(
        &self,
        endpoint: Endpoint,
        id: &PurchaseOrderId,
        action: &str,
        body: Option<Value>,
        deadline: &Deadline,
    ) -> Result<WalmartOrder, WalmartError> {
        let path = format!("/v3/orders/{}/{action}", component(id.as_str()));
        let mut call = Call::get(endpoint, path)
            .with_method(Method::POST)
            .with_key(id.as_str());
        if let Some(body) = body {
            call = call.with_json(&body)?;
        }
        let (response, correlation_id): (wire::OrderEnvelope, String) =
            self.execute_correlated(&call, deadline).await?;
        let order = response.order.ok_or_else(|| WalmartError::Malformed {
            endpoint,
            context: format!("no order in the {action} response of {id}"),
        })?;
        convert::order(
            convert::Source {
                endpoint,
                correlation_id: &correlation_id,
            },
            order,
        )
    }

    /// `POST /v3/orders/{purchaseOrderId}/acknowledge`: the seller will fulfil every line.
    pub async fn acknowledge(
        &self,
        id: &PurchaseOrderId,
        deadline: &Deadline,
    ) -> Result<WalmartOrder, WalmartError> {
        let order = self
            .order_update(Endpoint::AcknowledgeOrder, id, "acknowledge", None, deadline)
            .await?;
        tracing::info!(purchase_order_id = %id, "order acknowledged");
        Ok(order)
    }

    /// `POST /v3/orders/{purchaseOrderId}/shipping`: units of lines shipped, with tracking.
    /// Partial quantities are allowed; Walmart splits the line's statuses.
    pub async fn ship(
        &self,
        id: &PurchaseOrderId,
        lines: &[ShipLine],
        deadline: &Deadline,
    ) -> Result<WalmartOrder, WalmartError> {
        if lines.is_empty() {
            return Err(WalmartError::InvalidInput(format!("no lines to ship on {id}")));
        }
        let mut order_lines = Vec::with_capacity(lines.len());
        for line in lines {
            if line.quantity == 0 {
                return Err(WalmartError::InvalidInput(format!(
                    "ship 0 units of {id} line {}",
                    line.line
                )));
            }
            if line.seller_order_id.trim().is_empty() {
                return Err(WalmartError::InvalidInput(format!(
                    "{id} line {}: empty seller order id",
                    line.line
                )));
            }
            order_lines.push(wire::ShipLine {
                line_number: line.line.to_string(),
                intent_to_cancel_override: line.intent_to_cancel_override.then_some(true),
                seller_order_id: line.seller_order_id.clone(),
                order_line_statuses: wire::ShipLineStatuses {
                    order_line_status: vec![wire::ShipLineStatus {
                        status: "Shipped".to_owned(),
                        status_quantity: wire::Quantity::each(line.quantity),
                        tracking_info: tracking_info(&line.tracking)?,
                    }],
                },
            });
        }
        let body = wire::ShippingUpdate {
            order_shipment: wire::OrderShipment {
                order_lines: wire::ShipLines {
                    order_line: order_lines,
                },
            },
        };
        let body = serde_json::to_value(body).map_err(|e| WalmartError::InvalidInput(e.to_string()))?;
        let order = self
            .order_update(Endpoint::ShipOrderLines, id, "shipping", Some(body), deadline)
            .await?;
        tracing::info!(purchase_order_id = %id, lines = lines.len(), "order lines shipped");
        Ok(order)
    }

    /// `POST /v3/orders/{purchaseOrderId}/cancel`: cancel units of lines, with Walmart's reasons.
    pub async fn cancel_lines(
        &self,
        id: &PurchaseOrderId,
        lines: &[CancelLine],
        deadline: &Deadline,
    ) -> Result<WalmartOrder, WalmartError> {
        if lines.is_empty() || lines.iter().any(|l| l.quantity == 0) {
            return Err(WalmartError::InvalidInput(format!("nothing to cancel on {id}")));
        }
        let body = wire::CancelRequest {
            order_cancellation: wire::OrderCancellation {
                order_lines: wire::CancelLines {
                    order_line: lines
                        .iter()
                        .map(|l| wire::CancelLine {
                            line_number: l.line.to_string(),
                            order_line_statuses: wire::CancelLineStatuses {
                                order_line_status: vec![wire::CancelLineStatus {
                                    status: "Cancelled".to_owned(),
                                    cancellation_reason: l.reason.as_str().to_owned(),
                                    status_quantity: wire::Quantity::each(l.quantity),
                                }],
                            },
                        })
                        .collect(),
                },
            },
        };
        let body = serde_json::to_value(body).map_err(|e| WalmartError::InvalidInput(e.to_string()))?;
        let order = self
            .order_update(Endpoint::CancelOrderLines, id, "cancel", Some(body), deadline)
            .await?;
        tracing::info!(purchase_order_id = %id, lines = lines.len(), "order lines cancelled");
        Ok(order)
    }

    /// `POST /v3/orders/{purchaseOrderId}/refund`: refund shipped lines (amounts sent negated, as
    /// Walmart records refunds).
    pub async fn refund_lines(
        &self,
        id: &PurchaseOrderId,
        lines: &[RefundLine],
        deadline: &Deadline,
    ) -> Result<WalmartOrder, WalmartError> {
        if lines.is_empty() {
            return Err(WalmartError::InvalidInput(format!("nothing to refund on {id}")));
        }
        let mut order_lines = Vec::with_capacity(lines.len());
        for line in lines {
            if line.amount.is_negative() || line.tax.is_some_and(Money::is_negative) {
                return Err(WalmartError::InvalidInput(format!(
                    "{id} line {}: refund amounts are given positive",
                    line.line
                )));
            }
            let charge = wire::Charge {
                charge_type: "PRODUCT".to_owned(),
                charge_name: "Item Price".to_owned(),
                charge_amount: usd(Money::ZERO - line.amount),
                tax: line.tax.map(|tax| wire::Tax {
                    tax_name: "Item Price Tax".to_owned(),
                    tax_amount: usd(Money::ZERO - tax),
                }),
            };
            order_lines.push(wire::RefundLine {
                line_number: line.line.to_string(),
                refunds: wire::Refunds {
                    refund: vec![wire::Refund {
                        refund_comments: line.comments.clone(),
                        refund_charges: wire::RefundCharges {
                            refund_charge: vec![wire::RefundCharge {
                                refund_reason: line.reason.as_str().to_owned(),
                                charge,
                            }],
                        },
                    }],
                },
            });
        }
        let body = wire::RefundRequest {
            order_refund: wire::OrderRefund {
                purchase_order_id: id.as_str().to_owned(),
                order_lines: wire::RefundLines {
                    order_line: order_lines,
                },
            },
        };
        let body = serde_json::to_value(body).map_err(|e| WalmartError::InvalidInput(e.to_string()))?;
        let order = self
            .order_update(Endpoint::RefundOrderLines, id, "refund", Some(body), deadline)
            .await?;
        tracing::info!(purchase_order_id = %id, lines = lines.len(), "order lines refunded");
        Ok(order)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::MethodCode;
    use domain::Timestamp;

    fn tracking(carrier: Carrier, method: &str) -> Tracking {
        Tracking {
            number: "1Z999".into(),
            carrier,
            method: MethodCode::new(method).unwrap(),
            shipped_at: Timestamp::from_millis(1_700_000_000_000),
        }
    }

    #[test]
    fn tracking_maps_known_and_other_carriers() {
        let known = tracking_info(&tracking(Carrier::Known { name: "fedex".into() }, "standard")).unwrap();
        assert_eq!(known.carrier_name.carrier.as_deref(), Some("FedEx"));
        assert_eq!(known.method_code, "Standard");
        let other = tracking_info(&tracking(
            Carrier::Other {
                name: "Local Courier".into(),
                tracking_url: "https://courier.example/t/1Z999".into(),
            },
            "Value",
        ))
        .unwrap();
        assert_eq!(other.carrier_name.other_carrier.as_deref(), Some("Local Courier"));
        assert!(other.tracking_url.is_some());
        assert!(tracking_info(&tracking(Carrier::Known { name: "Pony".into() }, "Value")).is_err());
        assert!(tracking_info(&tracking(Carrier::Known { name: "UPS".into() }, "Teleport")).is_err());
    }

    #[test]
    fn order_queries_encode_dates_and_refuse_bad_combinations() {
        let start = Timestamp::from_millis(1_764_237_600_000);
        let end = start.plus(std::time::Duration::from_secs(3600));
        let q = orders_query_string(&OrdersQuery::created_between(start, end)).unwrap();
        assert_eq!(
            q,
            "?createdStartDate=2025-11-27T10%3A00%3A00.000Z&createdEndDate=2025-11-27T11%3A00%3A00.000Z&limit=100"
        );
        let mut released = OrdersQuery::released(start, end);
        released.modified_start = Some(start);
        assert!(orders_query_string(&released).is_err());
        let mut big = OrdersQuery::created_between(start, end);
        big.limit = 201;
        assert!(orders_query_string(&big).is_err());
    }
}
