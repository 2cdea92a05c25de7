//! Carts and checkout: a cart filled, given its shipping, and placed as an order.

use serde_json::{Value, json};

use super::*;
use crate::error::ApiError;
use crate::model::*;

impl Commerce {
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
        let (payment_method, po_number) = self.checkout_payment(payment)?;
        let (customer_email, customer_firstname, customer_lastname) =
            self.checkout_customer(&cart, &billing_address, guest)?;
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
        let items = self.order_lines(&cart);
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

    /// The payment method (one the store offers) and the purchase order number it requires.
    fn checkout_payment(&self, payment: Option<&Value>) -> Result<(String, Option<String>), ApiError> {
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
        Ok((payment_method, po_number))
    }

    /// The buyer's email, first and last name: the cart's customer's, or a guest's from the
    /// billing address.
    fn checkout_customer(
        &self,
        cart: &Cart,
        billing_address: &Value,
        guest: bool,
    ) -> Result<(String, String, String), ApiError> {
        match cart.customer_id {
            Some(id) => {
                let c = self
                    .customers
                    .get(&id)
                    .ok_or_else(|| ApiError::no_such_entity("customerId", id))?;
                Ok((c.email.clone(), c.firstname.clone(), c.lastname.clone()))
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
                Ok((email, text("firstname"), text("lastname")))
            }
            // An anonymous admin cart is not a guest checkout: Magento would try to create a customer
            // account from the quote's (empty) customer data.
            None => Err(ApiError::bad_request(
                "The customer email is missing. Enter and try again.",
            )),
        }
    }

    /// The cart's lines as order lines, each with a new item id.
    fn order_lines(&mut self, cart: &Cart) -> Vec<OrderLine> {
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
        items
            .into_iter()
            .map(|mut i| {
                i.item_id = self.id();
                i
            })
            .collect()
    }
}
