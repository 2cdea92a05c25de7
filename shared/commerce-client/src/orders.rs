//! Orders: placing a Commerce order for a Walmart purchase order through the cart flow, finding it
//! again after a crash, searching, comments, invoices and cancellation.
//!
//! # Why the cart flow, and what it costs
//! `POST /V1/orders` saves an order without MSI reservations or totals, so it must not be used. The
//! cart flow places a real order (reservations, totals, increment id, events), but Magento prices
//! cart items from the catalog and ignores custom prices over REST. When a Walmart line price
//! differs from the catalog price, the order is placed at the catalog price anyway and the
//! difference is written on the order as a status-history comment and returned in
//! [`PlacedOrder::lines`] so the channel records it ([`domain::OrderRecord::note_price_difference`]).
//! The alternative, refusing such orders, would leave a Walmart order that the buyer paid for
//! without a Commerce order to ship from.
//!
//! # Guest or customer
//! * [`CustomerMapping::Guest`]: `POST /V1/guest-carts` and the `guest-carts/{cartId}` routes.
//!   Magento treats a cart as a guest checkout only when it is placed through the guest-carts routes
//!   (they set the checkout method "guest" and take the customer email from the billing address);
//!   an anonymous cart made with `POST /V1/carts/` and placed with `PUT /V1/carts/{id}/order` is not a
//!   guest checkout, and Magento then tries to populate a customer account for it. An integration
//!   may call the guest-carts routes: they are anonymous resources.
//! * [`CustomerMapping::Customer`]: `POST /V1/customers/{customerId}/carts` (which returns the
//!   customer's active cart if one exists, so leftovers of a crashed attempt are removed first),
//!   then the admin `carts/{cartId}` routes.
//!
//! # Exactly once, REST only
//! The order is placed with the payment method `purchaseorder` whose `po_number` carries the Walmart
//! purchase order id, and a status-history comment names it too. `sales_order` has no column for it
//! that `GET /V1/orders` can filter on (the payment lives in `sales_order_payment`, which the order
//! search does not join), so [`CommerceClient::find_order_for_purchase_order`] narrows the search
//! by the buyer's email (guests) or customer id, and by creation time from the Walmart order date,
//! then confirms `payment.po_number` on each candidate.

use domain::{
    CommerceOrderId, CustomerMapping, IncrementId, Money, PurchaseOrder, PurchaseOrderId, Sku, Timestamp,
};
use ports::Deadline;
use reqwest::Method;
use serde_json::json;

use crate::address::cart_address;
use crate::client::{Call, CommerceClient, Paged, outcome_unknown};
use crate::error::CommerceError;
use crate::search::{Condition, Direction, Filter, SearchCriteria};
use crate::wire::lenient::Number;
use crate::wire::{CartItem, ItemQuantity, NewStatusHistory, Order, PaymentMethod, ShippingInformation};
pub use ports::commerce::{OrderFilter, OrderLookup, OrderPlacement, PlacedLine, PlacedOrder};

/// Payment method whose `po_number` carries the Walmart purchase order id.
pub const PURCHASE_ORDER_METHOD: &str = "purchaseorder";

/// Splits `carrier_method` into Magento's carrier code and method code.
fn carrier_and_method(placement: &OrderPlacement) -> Result<(&str, &str), CommerceError> {
    placement
        .carrier_method
        .split_once('_')
        .filter(|(carrier, method)| !carrier.is_empty() && !method.is_empty())
        .ok_or_else(|| {
            CommerceError::Input(format!(
                "carrier_method {:?} is not carrier_method",
                placement.carrier_method
            ))
        })
}

/// Magento ships the "Purchase Order" method switched off (`Magento/OfflinePayments/etc/config.xml`),
/// and only that method stores `po_number`, which finding an order again relies on. The answer to
/// `shipping-information` lists the methods the cart may use: a missing one is the store's
/// configuration, not this order's fault, so it is said as such before anything is placed.
fn check_payment_method(payment_details: &serde_json::Value, method: &str) -> Result<(), CommerceError> {
    let available: Vec<&str> = payment_details
        .get("payment_methods")
        .and_then(serde_json::Value::as_array)
        .map(|methods| {
            methods
                .iter()
                .filter_map(|m| m.get("code").and_then(serde_json::Value::as_str))
                .collect()
        })
        .unwrap_or_default();
    if available.contains(&method) {
        return Ok(());
    }
    Err(CommerceError::Configuration(format!(
        "payment method {method:?} is not available in Commerce (the cart offers: {}); enable it in \
         Stores > Configuration > Sales > Payment Methods",
        if available.is_empty() {
            "none".to_owned()
        } else {
            available.join(", ")
        }
    )))
}

/// The cart being filled: guest carts are addressed by a masked id, customer carts by number.
enum Cart {
    Guest(String),
    Customer(u64),
}

impl Cart {
    fn id(&self) -> String {
        match self {
            Cart::Guest(masked) => masked.clone(),
            Cart::Customer(id) => id.to_string(),
        }
    }
}

impl CommerceClient {
    /// Places the Commerce order for a Walmart purchase order through the cart flow (see the module
    /// docs). Call [`Self::find_order_for_purchase_order`] first when a previous attempt may have
    /// placed it; if placing fails ambiguously (5xx or timeout), this looks for the order itself
    /// before giving up.
    pub async fn create_order_for(
        &self,
        po: &PurchaseOrder,
        placement: &OrderPlacement,
        deadline: &Deadline,
    ) -> Result<PlacedOrder, CommerceError> {
        if po.lines.is_empty() {
            return Err(CommerceError::Input(format!(
                "purchase order {} has no lines",
                po.id
            )));
        }
        let (carrier, method) = carrier_and_method(placement)?;
        let email = po
            .ship_to
            .email
            .clone()
            .filter(|e| !e.trim().is_empty())
            .ok_or_else(|| CommerceError::Input(format!("purchase order {} has no buyer email", po.id)))?;
        let address = cart_address(&po.ship_to, &email)?;

        let cart = self.open_cart(&placement.customer, deadline).await?;
        self.add_cart_items(&cart, po, deadline).await?;
        let info = ShippingInformation {
            shipping_address: address.clone(),
            billing_address: address,
            shipping_method_code: method.to_owned(),
            shipping_carrier_code: carrier.to_owned(),
        };
        let payment_details = self.set_shipping_information(&cart, &info, deadline).await?;
        check_payment_method(&payment_details, &placement.payment_method)?;
        self.note_check_passed(crate::client::payment_method_check(&placement.payment_method));

        let payment = PaymentMethod {
            method: placement.payment_method.clone(),
            po_number: Some(po.id.as_str().to_owned()),
        };
        let placed = self.place_cart(&cart, &payment, deadline).await;
        let (order, recovered) = self.placed_or_found(po, placement, placed, deadline).await?;
        let placed = placed_order(po, &order, recovered)?;
        // A recovered order may come from an attempt that stopped before commenting.
        let marker = format!("Walmart purchase order {}", po.id);
        if !order.status_histories.iter().any(|h| h.comment.contains(&marker)) {
            self.post_order_comment(
                placed.order_id,
                &current_status(&order),
                &creation_comment(po, &placed),
                deadline,
            )
            .await?;
        }
        tracing::info!(purchase_order = %po.id, order_id = placed.order_id.0, recovered,
            price_differences = placed.price_differences().count(), "Commerce order placed");
        Ok(placed)
    }

    /// Adds the purchase order's units to the cart, one item per SKU.
    async fn add_cart_items(
        &self,
        cart: &Cart,
        po: &PurchaseOrder,
        deadline: &Deadline,
    ) -> Result<(), CommerceError> {
        for (sku, qty) in quantities_by_sku(po) {
            let item = CartItem {
                sku: Some(sku.as_str().to_owned()),
                qty: f64::from(qty),
                quote_id: cart.id(),
                ..CartItem::default()
            };
            let body = json!({ "cartItem": item });
            let call = match cart {
                Cart::Guest(id) => Call::send(
                    Method::POST,
                    "POST /V1/guest-carts/{cartId}/items",
                    format!("guest-carts/{id}/items"),
                    &body,
                ),
                Cart::Customer(id) => Call::send(
                    Method::POST,
                    "POST /V1/carts/{quoteId}/items",
                    format!("carts/{id}/items"),
                    &body,
                ),
            };
            let _added: CartItem = self.execute(&call, deadline).await?;
        }
        Ok(())
    }

    /// Sets the cart's addresses and shipping method; returns Magento's payment details (the
    /// payment methods the cart offers).
    async fn set_shipping_information(
        &self,
        cart: &Cart,
        info: &ShippingInformation,
        deadline: &Deadline,
    ) -> Result<serde_json::Value, CommerceError> {
        let body = json!({ "addressInformation": info });
        let call = match cart {
            Cart::Guest(id) => Call::send(
                Method::POST,
                "POST /V1/guest-carts/{cartId}/shipping-information",
                format!("guest-carts/{id}/shipping-information"),
                &body,
            ),
            Cart::Customer(id) => Call::send(
                Method::POST,
                "POST /V1/carts/{cartId}/shipping-information",
                format!("carts/{id}/shipping-information"),
                &body,
            ),
        };
        self.execute(&call, deadline).await
    }

    /// Places the cart's order with the payment; the placed order's entity id.
    async fn place_cart(
        &self,
        cart: &Cart,
        payment: &PaymentMethod,
        deadline: &Deadline,
    ) -> Result<u64, CommerceError> {
        let body = json!({ "paymentMethod": payment });
        let call = match cart {
            Cart::Guest(id) => Call::send(
                Method::PUT,
                "PUT /V1/guest-carts/{cartId}/order",
                format!("guest-carts/{id}/order"),
                &body,
            ),
            Cart::Customer(id) => Call::send(
                Method::PUT,
                "PUT /V1/carts/{cartId}/order",
                format!("carts/{id}/order"),
                &body,
            ),
        };
        self.execute::<Number<u64>>(&call, deadline)
            .await
            .map(|Number(id)| id)
    }

    /// The order a placement answered with, or, after an answer that may hide a placed order, the
    /// order found for the purchase order (`true`: recovered).
    async fn placed_or_found(
        &self,
        po: &PurchaseOrder,
        placement: &OrderPlacement,
        placed: Result<u64, CommerceError>,
        deadline: &Deadline,
    ) -> Result<(Order, bool), CommerceError> {
        match placed {
            Ok(order_id) => Ok((self.get_order(CommerceOrderId(order_id), deadline).await?, false)),
            // A timeout, 5xx or garbled answer may hide a placed order; a retry of a placed cart
            // answers 404 (the cart is no longer active). Either way, look before reporting failure.
            Err(error)
                if error.is_retryable()
                    || matches!(
                        error,
                        CommerceError::NotFound { .. }
                            | CommerceError::DeadlineExceeded { .. }
                            | CommerceError::Malformed { .. }
                    ) =>
            {
                let lookup = OrderLookup::for_purchase_order(po, placement);
                match self
                    .find_order_for_purchase_order(&po.id, &lookup, deadline)
                    .await
                {
                    Ok(Some(order)) => Ok((order, true)),
                    _ => Err(error),
                }
            }
            Err(error) => Err(error),
        }
    }

    async fn open_cart(
        &self,
        customer: &CustomerMapping,
        deadline: &Deadline,
    ) -> Result<Cart, CommerceError> {
        match customer {
            CustomerMapping::Guest => {
                let masked: String = self
                    .execute(&Call::post_empty("POST /V1/guest-carts", "guest-carts"), deadline)
                    .await?;
                Ok(Cart::Guest(masked))
            }
            CustomerMapping::Customer { customer_id } => {
                let call = Call::post_empty(
                    "POST /V1/customers/{customerId}/carts",
                    format!("customers/{customer_id}/carts"),
                );
                let Number(cart_id): Number<u64> = self.execute(&call, deadline).await?;
                // The customer's active cart may hold items of an attempt that failed half-way.
                let items: Vec<CartItem> = self
                    .execute(
                        &Call::get("GET /V1/carts/{cartId}/items", format!("carts/{cart_id}/items")),
                        deadline,
                    )
                    .await?;
                for item in items {
                    if let Some(item_id) = item.item_id {
                        let call = Call {
                            method: Method::DELETE,
                            route: "DELETE /V1/carts/{cartId}/items/{itemId}",
                            path: format!("carts/{cart_id}/items/{item_id}"),
                            query: Vec::new(),
                            body: None,
                            once: false,
                        };
                        let _removed: bool = self.execute(&call, deadline).await?;
                    }
                }
                Ok(Cart::Customer(cart_id))
            }
        }
    }

    /// The order placed for a purchase order, if any (see the module docs for how it is found).
    pub async fn find_order_for_purchase_order(
        &self,
        po: &PurchaseOrderId,
        lookup: &OrderLookup,
        deadline: &Deadline,
    ) -> Result<Option<Order>, CommerceError> {
        Ok(self.orders_for_purchase_order(po, lookup, deadline).await?.pop())
    }

    /// Every order carrying the purchase order (more than one only if a duplicate slipped
    /// through), oldest first.
    pub async fn orders_for_purchase_order(
        &self,
        po: &PurchaseOrderId,
        lookup: &OrderLookup,
        deadline: &Deadline,
    ) -> Result<Vec<Order>, CommerceError> {
        let mut criteria =
            SearchCriteria::new().filter("created_at", Condition::Gteq, lookup.created_after.to_commerce());
        match (&lookup.customer_email, lookup.customer_id) {
            (_, Some(customer_id)) => {
                criteria = criteria.filter("customer_id", Condition::Eq, customer_id.to_string())
            }
            (Some(email), None) => criteria = criteria.filter("customer_email", Condition::Eq, email.clone()),
            (None, None) => {}
        }
        let mut pages: Paged<Order> = self.paged(
            "GET /V1/orders",
            "orders",
            criteria
                .sort_by("created_at", Direction::Desc)
                .sort_by("entity_id", Direction::Desc),
        );
        let mut found = Vec::new();
        while let Some(orders) = pages.next_page(deadline).await? {
            found.extend(orders.into_iter().filter(|o| o.po_number() == Some(po.as_str())));
        }
        found.reverse();
        Ok(found)
    }

    /// Orders changed at or after `since`, oldest change first, optionally by state and status.
    pub fn orders_updated_since(&self, since: Timestamp, filter: &OrderFilter) -> Paged<Order> {
        let mut criteria = SearchCriteria::new().filter("updated_at", Condition::Gteq, since.to_commerce());
        if !filter.states.is_empty() {
            criteria = criteria.any_of(vec![Filter::in_list("state", &filter.states)]);
        }
        if !filter.statuses.is_empty() {
            criteria = criteria.any_of(vec![Filter::in_list("status", &filter.statuses)]);
        }
        self.paged(
            "GET /V1/orders",
            "orders",
            criteria
                .sort_by("updated_at", Direction::Asc)
                .sort_by("entity_id", Direction::Asc),
        )
    }

    pub async fn get_order(
        &self,
        order_id: CommerceOrderId,
        deadline: &Deadline,
    ) -> Result<Order, CommerceError> {
        self.execute(
            &Call::get("GET /V1/orders/{id}", format!("orders/{}", order_id.0)),
            deadline,
        )
        .await
    }

    /// Adds a status-history comment (not shown to the customer, no email). The order is read
    /// first: the comment must carry the order's current status, or Magento may wipe it.
    pub async fn add_order_comment(
        &self,
        order_id: CommerceOrderId,
        comment: &str,
        deadline: &Deadline,
    ) -> Result<(), CommerceError> {
        let order = self.get_order(order_id, deadline).await?;
        self.post_order_comment(order_id, &current_status(&order), comment, deadline)
            .await
    }

    async fn post_order_comment(
        &self,
        order_id: CommerceOrderId,
        status: &str,
        comment: &str,
        deadline: &Deadline,
    ) -> Result<(), CommerceError> {
        let history = NewStatusHistory {
            comment: comment.to_owned(),
            is_customer_notified: 0,
            is_visible_on_front: 0,
            parent_id: order_id.0,
            status: status.to_owned(),
        };
        let body = json!({ "statusHistory": history });
        let call = Call::send(
            Method::POST,
            "POST /V1/orders/{id}/comments",
            format!("orders/{}/comments", order_id.0),
            &body,
        )
        .once();
        let added: bool = match self.execute(&call, deadline).await {
            Ok(added) => added,
            // Magento has no idempotency key for comments: whether it landed is read on the order.
            Err(e) if outcome_unknown(&e) => {
                let shows_it = self
                    .get_order(order_id, deadline)
                    .await
                    .is_ok_and(|order| order.status_histories.iter().any(|h| h.comment == comment));
                if !shows_it {
                    return Err(e);
                }
                tracing::info!(
                    route = call.route,
                    "comment's answer was lost, but the order shows it"
                );
                true
            }
            Err(e) => return Err(e),
        };
        if added {
            Ok(())
        } else {
            Err(CommerceError::Validation {
                route: call.route.to_owned(),
                status: 200,
                message: "comment not added".to_owned(),
            })
        }
    }

    /// Invoices the order (offline capture): all uninvoiced quantities, or only `items`. Needed
    /// before a refund; an order that is fully invoiced can no longer be cancelled, so invoice at ship
    /// or refund time. Returns the invoice id.
    pub async fn invoice_order(
        &self,
        order_id: CommerceOrderId,
        items: &[ItemQuantity],
        deadline: &Deadline,
    ) -> Result<u64, CommerceError> {
        let body = if items.is_empty() {
            json!({ "capture": false, "notify": false })
        } else {
            json!({ "capture": false, "notify": false, "items": items })
        };
        // No idempotency key: after a lost answer the caller reads the order's invoiced
        // quantities and invoices only what is still missing.
        let call = Call::send(
            Method::POST,
            "POST /V1/order/{orderId}/invoice",
            format!("order/{}/invoice", order_id.0),
            &body,
        )
        .once();
        let Number(invoice_id): Number<u64> = self.execute(&call, deadline).await?;
        Ok(invoice_id)
    }

    /// Cancels the order's open quantities. `Ok(false)` when Magento cannot cancel it (fully
    /// invoiced, complete, closed or already canceled).
    pub async fn cancel_order(
        &self,
        order_id: CommerceOrderId,
        deadline: &Deadline,
    ) -> Result<bool, CommerceError> {
        let call = Call::post_empty(
            "POST /V1/orders/{id}/cancel",
            format!("orders/{}/cancel", order_id.0),
        )
        .once();
        match self.execute(&call, deadline).await {
            // A second cancel of a cancelled order answers `false`: whether the first landed is
            // read on the order instead.
            Err(e) if outcome_unknown(&e) => {
                let cancelled = self
                    .get_order(order_id, deadline)
                    .await
                    .is_ok_and(|order| order.state == "canceled");
                if !cancelled {
                    return Err(e);
                }
                tracing::info!(
                    route = call.route,
                    "cancellation's answer was lost, but the order is cancelled"
                );
                Ok(true)
            }
            other => other,
        }
    }

    /// [`Self::cancel_order`], with `false` as [`CommerceError::CannotCancel`].
    pub async fn cancel_order_or_fail(
        &self,
        order_id: CommerceOrderId,
        deadline: &Deadline,
    ) -> Result<(), CommerceError> {
        if self.cancel_order(order_id, deadline).await? {
            Ok(())
        } else {
            Err(CommerceError::CannotCancel { order_id: order_id.0 })
        }
    }
}

/// Total quantity per SKU, first-seen order: Walmart may split one SKU over several lines, and a
/// cart holds one item per SKU.
fn quantities_by_sku(po: &PurchaseOrder) -> Vec<(Sku, u32)> {
    let mut out: Vec<(Sku, u32)> = Vec::new();
    for line in &po.lines {
        match out.iter_mut().find(|(sku, _)| *sku == line.sku) {
            Some((_, qty)) => *qty += line.quantity,
            None => out.push((line.sku.clone(), line.quantity)),
        }
    }
    out
}

fn placed_order(po: &PurchaseOrder, order: &Order, recovered: bool) -> Result<PlacedOrder, CommerceError> {
    let order_id = order.entity_id.ok_or_else(|| CommerceError::Malformed {
        route: "GET /V1/orders/{id}".into(),
        context: "order without entity_id".into(),
    })?;
    let increment_id =
        IncrementId::new(order.increment_id.clone()).map_err(|e| CommerceError::Malformed {
            route: "GET /V1/orders/{id}".into(),
            context: e.to_string(),
        })?;
    let lines = po
        .lines
        .iter()
        .map(|line| {
            // Configurable parents carry the price; their simple child carries the SKU. Prefer the
            // priced item with this SKU, then any item with it.
            let item = order
                .items
                .iter()
                .find(|i| i.sku == line.sku.as_str() && i.parent_item_id.is_none())
                .or_else(|| order.items.iter().find(|i| i.sku == line.sku.as_str()));
            PlacedLine {
                line: line.number,
                sku: line.sku.clone(),
                quantity: line.quantity,
                walmart_unit_price: line.unit_price,
                commerce_unit_price: item
                    .and_then(|i| i.price)
                    .and_then(|p| Money::from_decimal(p).ok()),
                order_item_id: item.and_then(|i| i.item_id),
            }
        })
        .collect();
    Ok(PlacedOrder {
        order_id: CommerceOrderId(order_id),
        increment_id,
        lines,
        recovered,
        commerce_totals: order.totals(),
    })
}

/// The status to send with a comment: the order's own, or, when an earlier comment already left it
/// NULL, the default status of its state (Magento's defaults are named after the state, except
/// `new`, whose default is `pending`), which puts the order back into the admin grid.
fn current_status(order: &Order) -> String {
    match (order.status.as_str(), order.state.as_str()) {
        ("", "new") => "pending".to_owned(),
        ("", state) => state.to_owned(),
        (status, _) => status.to_owned(),
    }
}

fn creation_comment(po: &PurchaseOrder, placed: &PlacedOrder) -> String {
    let mut comment = format!(
        "Walmart purchase order {} (customer order {}).",
        po.id, po.customer_order_id
    );
    let differences: Vec<String> = placed
        .price_differences()
        .map(|l| {
            format!(
                "line {} ({}): Walmart {} per unit, Commerce {} per unit",
                l.line,
                l.sku,
                l.walmart_unit_price,
                l.commerce_unit_price.unwrap_or_default()
            )
        })
        .collect();
    if !differences.is_empty() {
        comment.push_str(" Price differences, charged at catalog price: ");
        comment.push_str(&differences.join("; "));
        comment.push('.');
    }
    comment
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{CustomerOrderId, OrderLine, ShipTo, WalmartLineStatus};
    use domain::{LineNumber, MethodCode, OrderSettings};

    fn po() -> PurchaseOrder {
        let line = |n: u32, sku: &str, qty: u32, cents: i64| OrderLine {
            number: LineNumber(n),
            sku: Sku::new(sku).unwrap(),
            product_name: sku.into(),
            quantity: qty,
            unit_price: Money::from_cents(cents),
            tax: Money::ZERO,
            shipping: Money::ZERO,
            status: WalmartLineStatus::Acknowledged,
        };
        PurchaseOrder {
            id: PurchaseOrderId::new("1796277083022").unwrap(),
            customer_order_id: CustomerOrderId::new("5401787453925").unwrap(),
            order_date: Timestamp::from_millis(1_800_000_000_000),
            method_code: MethodCode::new("Standard").unwrap(),
            ship_to: ShipTo {
                name: "Jane Doe".into(),
                address1: "1 Main St".into(),
                address2: None,
                city: "Bentonville".into(),
                state: "AR".into(),
                postal_code: "72712".into(),
                country: "USA".into(),
                phone: None,
                email: Some("relay@relay.walmart.com".into()),
            },
            lines: vec![
                line(1, "MUG-1", 1, 1000),
                line(2, "CUP-1", 2, 500),
                line(3, "MUG-1", 1, 1000),
            ],
        }
    }

    #[test]
    fn quantities_merge_per_sku_in_first_seen_order() {
        let q = quantities_by_sku(&po());
        assert_eq!(
            q,
            vec![(Sku::new("MUG-1").unwrap(), 2), (Sku::new("CUP-1").unwrap(), 2)]
        );
    }

    #[test]
    fn price_differences_are_found_and_described() {
        let order: Order = serde_json::from_value(json!({
            "entity_id": 9, "increment_id": "000000009",
            "items": [{"item_id": 1, "sku": "MUG-1", "price": 12.0}, {"item_id": 2, "sku": "CUP-1", "price": 5.0}],
            "payment": {"method": "purchaseorder", "po_number": "1796277083022"}
        }))
        .unwrap();
        let placed = placed_order(&po(), &order, false).unwrap();
        assert_eq!(placed.price_differences().count(), 2, "both MUG-1 lines differ");
        let comment = creation_comment(&po(), &placed);
        assert!(
            comment.contains("Walmart purchase order 1796277083022"),
            "{comment}"
        );
        assert!(
            comment.contains("line 1 (MUG-1): Walmart 10.00 per unit, Commerce 12.00 per unit"),
            "{comment}"
        );
        assert!(!comment.contains("CUP-1"));
    }

    #[test]
    fn placement_from_settings_maps_methods() {
        let mut settings: OrderSettings = serde_json::from_value(json!({})).unwrap();
        settings
            .shipping_methods
            .insert(MethodCode::new("Express").unwrap(), "tablerate_bestway".into());
        let express = OrderPlacement::from_settings(&settings, &MethodCode::new("Express").unwrap());
        assert_eq!(carrier_and_method(&express).unwrap(), ("tablerate", "bestway"));
        let standard = OrderPlacement::from_settings(&settings, &MethodCode::new("Standard").unwrap());
        assert_eq!(standard.carrier_method, "flatrate_flatrate");
        assert_eq!(standard.payment_method, PURCHASE_ORDER_METHOD);
        let lookup = OrderLookup::for_purchase_order(&po(), &standard);
        assert_eq!(lookup.customer_email.as_deref(), Some("relay@relay.walmart.com"));
        assert!(lookup.created_after < po().order_date);
    }
}
