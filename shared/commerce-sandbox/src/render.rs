//! Records as Magento's REST API prints them, shaped by the schema definitions.
//!
//! Where real Magento prints `null` for a field the schema marks required (a payment's
//! `cc_last4`, a track's `weight`), the sandbox prints an empty value of the declared type, so its
//! answers validate against the schema; the client tolerates both.

use serde_json::{Value, json};

use crate::model::*;
use crate::store::Commerce;

fn money(v: f64) -> Value {
    json!((v * 100.0).round() / 100.0)
}

/// A child as `GET /V1/configurable-products/{sku}/children` prints it:
/// `ConfigurableProduct/Model/LinkManagement::getChildren` rebuilds each child from the attributes
/// the used-products collection loaded, so there are no `extension_attributes` (no `website_ids`,
/// no category links), and a custom attribute appears only when it is "used in product listing"
/// (`SandboxSettings::listing_attributes`; Magento's own special price and URL key attributes are).
pub fn configurable_child(store: &Commerce, p: &Product) -> Value {
    let mut whole = product(store, p);
    let listed = |code: &str| {
        matches!(
            code,
            "special_price" | "special_from_date" | "special_to_date" | "url_key"
        ) || store.settings.listing_attributes.iter().any(|a| a == code)
    };
    let custom: Vec<Value> = whole["custom_attributes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["attribute_code"].as_str().is_some_and(listed))
        .cloned()
        .collect();
    if let Some(fields) = whole.as_object_mut() {
        for absent in [
            "extension_attributes",
            "product_links",
            "options",
            "media_gallery_entries",
            "tier_prices",
        ] {
            fields.remove(absent);
        }
        fields.insert("custom_attributes".to_owned(), Value::Array(custom));
    }
    whole
}

pub fn product(store: &Commerce, p: &Product) -> Value {
    let mut custom: Vec<Value> = Vec::new();
    let mut push = |code: &str, value: String| custom.push(json!({ "attribute_code": code, "value": value }));
    if let Some(sp) = p.special_price {
        push("special_price", format!("{sp:.6}"));
    }
    if let Some(from) = &p.special_from_date {
        push("special_from_date", from.clone());
    }
    if let Some(to) = &p.special_to_date {
        push("special_to_date", to.clone());
    }
    push(
        "url_key",
        p.sku
            .to_lowercase()
            .replace(|c: char| !c.is_ascii_alphanumeric(), "-"),
    );
    for (code, value) in &p.attributes {
        push(code, value.clone());
    }
    let mut extension = json!({
        "website_ids": p.website_ids,
        "category_links": p.category_ids.iter().map(|c| json!({ "position": 0, "category_id": c.to_string() })).collect::<Vec<_>>(),
    });
    if p.type_id == TYPE_CONFIGURABLE {
        extension["configurable_product_links"] = json!(p.children);
    }
    let _ = store;
    let mut out = json!({
        "id": p.id,
        "sku": p.sku,
        "name": p.name,
        "attribute_set_id": 4,
        "price": p.price,
        "status": p.status,
        "visibility": p.visibility,
        "type_id": p.type_id,
        "created_at": p.created_at.to_commerce(),
        "updated_at": p.updated_at.to_commerce(),
        "extension_attributes": extension,
        "product_links": [],
        "options": [],
        "media_gallery_entries": [],
        "tier_prices": [],
        "custom_attributes": custom,
    });
    if let Some(w) = p.weight {
        out["weight"] = json!(w);
    }
    out
}

pub fn source_item(i: &SourceItem) -> Value {
    json!({ "sku": i.sku, "source_code": i.source_code, "quantity": i.quantity, "status": i.status })
}

pub fn stock(s: &StockDef) -> Value {
    json!({
        "stock_id": s.stock_id,
        "name": s.name,
        "extension_attributes": { "sales_channels": s.websites.iter().map(|w| json!({ "type": "website", "code": w })).collect::<Vec<_>>() },
    })
}

/// `catalog-inventory-data-stock-item-interface` for the legacy route.
pub fn stock_item(p: &Product, qty: f64) -> Value {
    json!({
        "item_id": p.id, "product_id": p.id, "stock_id": 1, "qty": qty, "is_in_stock": qty > 0.0,
        "is_qty_decimal": false, "show_default_notification_message": false, "use_config_min_qty": true,
        "min_qty": 0, "use_config_min_sale_qty": 1, "min_sale_qty": 1, "use_config_max_sale_qty": true,
        "max_sale_qty": 10000, "use_config_backorders": true, "backorders": 0, "use_config_notify_stock_qty": true,
        "notify_stock_qty": 1, "use_config_qty_increments": true, "qty_increments": 0,
        "use_config_enable_qty_inc": true, "enable_qty_increments": false, "use_config_manage_stock": true,
        "manage_stock": true, "low_stock_date": "", "is_decimal_divided": false, "stock_status_changed_auto": 0,
    })
}

pub fn cart_item(cart: &Cart, line: &CartLine) -> Value {
    let quote_id = cart.masked_id.clone().unwrap_or_else(|| cart.id.to_string());
    json!({
        "item_id": line.item_id, "sku": line.sku, "qty": line.qty, "name": line.name, "price": line.price,
        "product_type": line.product_type, "quote_id": quote_id,
    })
}

pub fn cart(store: &Commerce, cart: &Cart) -> Value {
    let customer = match cart.customer_id.and_then(|id| store.customers.get(&id)) {
        Some(c) => json!({ "id": c.id, "email": c.email, "firstname": c.firstname, "lastname": c.lastname }),
        None => json!({ "email": "", "firstname": "", "lastname": "" }),
    };
    json!({
        "id": cart.id,
        "created_at": cart.created_at.to_commerce(),
        "updated_at": cart.updated_at.to_commerce(),
        "is_active": cart.active,
        "is_virtual": false,
        "items": cart.items.iter().map(|l| cart_item(cart, l)).collect::<Vec<_>>(),
        "items_count": cart.items.len(),
        "items_qty": cart.items.iter().map(|l| l.qty).sum::<f64>(),
        "customer": customer,
        "customer_is_guest": cart.customer_id.is_none(),
        "store_id": 1,
    })
}

/// `store-data-store-config-interface` of one store view (all on website 1, USD, US English).
pub fn store_config(store: &Commerce, id: u64, code: &str) -> Value {
    let base = "http://localhost/";
    json!({
        "id": id, "code": code, "website_id": 1, "locale": "en_US",
        "base_currency_code": "USD", "default_display_currency_code": "USD",
        "timezone": store.settings.timezone, "weight_unit": "lbs",
        "base_url": base, "base_link_url": base, "base_static_url": format!("{base}static/"),
        "base_media_url": format!("{base}media/"), "secure_base_url": base, "secure_base_link_url": base,
        "secure_base_static_url": format!("{base}static/"), "secure_base_media_url": format!("{base}media/"),
    })
}

/// `checkout-data-payment-details-interface`: the payment methods and the totals after shipping.
pub fn payment_details(store: &Commerce, cart: &Cart) -> Value {
    let subtotal: f64 = cart.items.iter().map(|l| l.price * l.qty).sum();
    let units: f64 = cart.items.iter().map(|l| l.qty).sum();
    let shipping = cart
        .shipping
        .as_ref()
        .and_then(|(c, m)| store.shipping_method(c, m))
        .map_or(0.0, |m| m.price_per_item * units);
    let grand = subtotal + shipping;
    json!({
        "payment_methods": store.settings.payment_methods.iter().map(|(code, title)| json!({ "code": code, "title": title })).collect::<Vec<_>>(),
        "totals": {
            "grand_total": money(grand), "base_grand_total": money(grand), "subtotal": money(subtotal),
            "base_subtotal": money(subtotal), "discount_amount": 0, "subtotal_with_discount": money(subtotal),
            "shipping_amount": money(shipping), "base_shipping_amount": money(shipping), "tax_amount": 0,
            "weee_tax_applied_amount": 0, "quote_currency_code": "USD", "base_currency_code": "USD",
            "items_qty": units as i64,
            "items": cart.items.iter().map(|l| json!({
                "item_id": l.item_id, "price": l.price, "base_price": l.price, "qty": l.qty,
                "row_total": money(l.price * l.qty), "base_row_total": money(l.price * l.qty), "options": "[]",
                "weee_tax_applied_amount": 0, "weee_tax_applied": "", "name": l.name,
            })).collect::<Vec<_>>(),
            "total_segments": [
                { "code": "subtotal", "title": "Subtotal", "value": money(subtotal) },
                { "code": "shipping", "title": "Shipping & Handling", "value": money(shipping) },
                { "code": "grand_total", "title": "Grand Total", "value": money(grand), "area": "footer" },
            ],
        },
    })
}

fn order_address(order: &Order, address: &Value, kind: &str, entity_id: u64) -> Value {
    let text = |k: &str| address.get(k).cloned().unwrap_or(Value::String(String::new()));
    let mut out = json!({
        "address_type": kind, "city": text("city"), "country_id": text("country_id"), "email": order.customer_email,
        "entity_id": entity_id, "firstname": text("firstname"), "lastname": text("lastname"), "parent_id": order.id,
        "postcode": text("postcode"), "region": text("region"), "region_code": text("region_code"),
        "street": address.get("street").cloned().unwrap_or_else(|| json!([])), "telephone": text("telephone"),
    });
    if let Some(region_id) = address.get("region_id").and_then(Value::as_u64) {
        out["region_id"] = json!(region_id);
    }
    out
}

pub fn order(o: &Order) -> Value {
    let items: Vec<Value> = o
        .items
        .iter()
        .map(|i| {
            json!({
                "item_id": i.item_id, "order_id": o.id, "sku": i.sku, "name": i.name, "product_id": i.product_id,
                "product_type": i.product_type, "price": i.price, "base_price": i.price, "original_price": i.price,
                "price_incl_tax": i.price, "row_total": money(i.price * i.qty_ordered),
                "base_row_total": money(i.price * i.qty_ordered), "qty_ordered": i.qty_ordered,
                "qty_invoiced": i.qty_invoiced, "qty_shipped": i.qty_shipped, "qty_canceled": i.qty_canceled,
                "qty_refunded": i.qty_refunded, "weight": i.weight, "row_weight": i.weight * i.qty_ordered,
                "created_at": o.created_at.to_commerce(), "updated_at": o.updated_at.to_commerce(),
                "store_id": 1, "is_virtual": 0, "tax_amount": 0, "discount_amount": 0,
            })
        })
        .collect();
    let histories: Vec<Value> = o
        .histories
        .iter()
        .rev()
        .map(|h| {
            let mut history = json!({
                "comment": h.comment, "created_at": h.created_at.to_commerce(), "entity_id": h.id, "entity_name": "order",
                "is_customer_notified": h.is_customer_notified, "is_visible_on_front": h.is_visible_on_front,
                "parent_id": o.id,
            });
            if let Some(status) = &h.status {
                history["status"] = json!(status);
            }
            history
        })
        .collect();
    let mut payment = json!({
        "account_status": "", "additional_information": [payment_title(&o.payment_method)], "cc_last4": "",
        "method": o.payment_method, "entity_id": o.id, "parent_id": o.id,
        "amount_ordered": money(o.grand_total()), "base_amount_ordered": money(o.grand_total()),
        "shipping_amount": money(o.shipping_amount),
    });
    if let Some(po) = &o.po_number {
        payment["po_number"] = json!(po);
    }
    let grand = o.grand_total();
    let mut out = json!({
        "entity_id": o.id, "increment_id": o.increment_id, "state": o.state,
        "created_at": o.created_at.to_commerce(), "updated_at": o.updated_at.to_commerce(),
        "customer_email": o.customer_email, "customer_firstname": o.customer_firstname,
        "customer_lastname": o.customer_lastname, "customer_is_guest": i64::from(o.customer_id.is_none()),
        "customer_group_id": i64::from(o.customer_id.is_some()),
        "quote_id": o.quote_id, "store_id": 1, "store_name": "Main Website\nMain Website Store\nDefault Store View",
        "base_currency_code": "USD", "order_currency_code": "USD", "global_currency_code": "USD", "store_currency_code": "USD",
        "subtotal": money(o.subtotal()), "base_subtotal": money(o.subtotal()),
        "shipping_amount": money(o.shipping_amount), "base_shipping_amount": money(o.shipping_amount),
        "shipping_description": o.shipping_description, "tax_amount": 0, "discount_amount": 0,
        "grand_total": money(grand), "base_grand_total": money(grand),
        "total_invoiced": money(o.total_invoiced()), "total_paid": money(o.total_invoiced()),
        "total_refunded": money(o.total_refunded), "total_offline_refunded": money(o.total_refunded),
        "total_due": money(grand - o.total_invoiced()),
        "total_qty_ordered": o.items.iter().map(|i| i.qty_ordered).sum::<f64>(),
        "total_item_count": o.items.len(), "is_virtual": 0,
        "items": items,
        "billing_address": order_address(o, &o.billing_address, "billing", o.id * 10 + 1),
        "payment": payment,
        "status_histories": histories,
        "extension_attributes": {
            "shipping_assignments": [{
                "shipping": {
                    "address": order_address(o, &o.shipping_address, "shipping", o.id * 10 + 2),
                    "method": o.shipping_method,
                    "total": { "shipping_amount": money(o.shipping_amount), "base_shipping_amount": money(o.shipping_amount) },
                },
                "items": [],
            }],
        },
    });
    if let Some(customer_id) = o.customer_id {
        out["customer_id"] = json!(customer_id);
    }
    // A NULL status is left out of the answer, not printed as null (issue 37807).
    if let Some(status) = &o.status {
        out["status"] = json!(status);
    }
    out
}

pub fn payment_title(method: &str) -> &'static str {
    match method {
        "purchaseorder" => "Purchase Order",
        "checkmo" => "Check / Money order",
        _ => "Offline payment",
    }
}

pub fn shipment(s: &Shipment, order: Option<&Order>) -> Value {
    json!({
        "entity_id": s.id, "increment_id": s.increment_id, "order_id": s.order_id, "store_id": 1,
        "created_at": s.created_at.to_commerce(), "updated_at": s.updated_at.to_commerce(),
        "customer_id": order.and_then(|o| o.customer_id).unwrap_or(0),
        "total_qty": s.items.iter().map(|i| i.qty).sum::<f64>(),
        "items": s.items.iter().map(|i| json!({
            "entity_id": i.entity_id, "parent_id": s.id, "order_item_id": i.order_item_id, "qty": i.qty, "sku": i.sku,
            "name": i.name, "price": i.price, "product_id": i.product_id, "weight": 0,
        })).collect::<Vec<_>>(),
        "tracks": s.tracks.iter().map(|t| json!({
            "entity_id": t.id, "order_id": s.order_id, "parent_id": s.id, "track_number": t.track_number,
            "title": t.title, "carrier_code": t.carrier_code, "created_at": t.created_at.to_commerce(),
            "updated_at": t.created_at.to_commerce(), "weight": 0, "qty": 0, "description": "",
        })).collect::<Vec<_>>(),
        "comments": [],
        "packages": [],
    })
}

pub fn credit_memo(m: &CreditMemo) -> Value {
    let mut out = json!({
        "entity_id": m.id, "increment_id": m.increment_id, "order_id": m.order_id, "state": 2, "store_id": 1,
        "creditmemo_status": 2,
        "created_at": m.created_at.to_commerce(), "updated_at": m.updated_at.to_commerce(),
        "subtotal": money(m.subtotal), "base_subtotal": money(m.subtotal),
        "shipping_amount": money(m.shipping_amount), "base_shipping_amount": money(m.shipping_amount),
        "adjustment_positive": money(m.adjustment_positive), "adjustment_negative": money(m.adjustment_negative),
        "adjustment": money(m.adjustment_positive - m.adjustment_negative),
        "grand_total": money(m.grand_total()), "base_grand_total": money(m.grand_total()),
        "order_currency_code": "USD", "base_currency_code": "USD",
        "items": m.items.iter().map(|i| json!({
            "entity_id": i.entity_id, "parent_id": m.id, "order_item_id": i.order_item_id, "qty": i.qty, "sku": i.sku,
            "name": i.name, "product_id": i.product_id, "price": i.price, "base_price": i.price, "base_cost": 0,
            "row_total": money(i.price * i.qty), "base_row_total": money(i.price * i.qty),
        })).collect::<Vec<_>>(),
        "comments": m.comments.iter().enumerate().map(|(n, c)| json!({
            "comment": c, "parent_id": m.id, "is_customer_notified": 0, "is_visible_on_front": 0,
            "entity_id": m.id * 100 + n as u64, "created_at": m.created_at.to_commerce(),
        })).collect::<Vec<_>>(),
    });
    if let Some(invoice_id) = m.invoice_id {
        out["invoice_id"] = json!(invoice_id);
    }
    out
}

pub fn rma(r: &Rma) -> Value {
    json!({
        "increment_id": r.increment_id, "entity_id": r.id, "order_id": r.order_id,
        "order_increment_id": r.order_increment_id, "store_id": 1, "customer_id": r.customer_id,
        "date_requested": r.date_requested.to_commerce(), "customer_custom_email": r.customer_custom_email,
        "status": r.status,
        "items": r.items.iter().map(|i| json!({
            "entity_id": i.entity_id, "rma_entity_id": r.id, "order_item_id": i.order_item_id,
            "qty_requested": i.qty_requested, "qty_authorized": i.qty_authorized, "qty_approved": i.qty_approved,
            "qty_returned": i.qty_returned, "reason": i.reason, "condition": i.condition, "resolution": i.resolution,
            "status": i.status,
        })).collect::<Vec<_>>(),
        "comments": r.comments.iter().map(|c| json!({
            "comment": c.comment, "rma_entity_id": r.id, "created_at": c.created_at.to_commerce(),
            "entity_id": c.entity_id, "customer_notified": false, "visible_on_front": false, "status": c.status,
            "admin": c.admin,
        })).collect::<Vec<_>>(),
        "tracks": [],
    })
}
