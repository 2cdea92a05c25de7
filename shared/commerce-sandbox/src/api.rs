//! The Magento REST routes: `/rest/<store_code>/V1/...` (also `/rest/V1/...` for the default store and
//! `/rest/all/V1/...`), matched by hand so that unknown routes answer Magento's own 404 and every call
//! is counted per route template.

use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use percent_encoding::percent_decode_str;
use serde_json::{Value, json};

use crate::auth::{Replay, SignedRequest, refusal_error, verify};
use crate::error::ApiError;
use crate::model::{CreditMemo, Order, Product, Rma, Shipment, SourceItem, TYPE_CONFIGURABLE};
use crate::render;
use crate::search::{Criteria, Searchable};
use crate::store::{Commerce, RefundInput};

pub type Shared = Arc<Mutex<Commerce>>;

pub fn lock(shared: &Shared) -> MutexGuard<'_, Commerce> {
    // A panic in a handler must not take the whole sandbox down with a poisoned lock.
    shared.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What a handler gets.
struct Ctx {
    store_code: String,
    params: Vec<String>,
    query: Vec<(String, String)>,
    body: Option<Value>,
}

impl Ctx {
    fn param(&self, n: usize) -> &str {
        self.params.get(n).map_or("", String::as_str)
    }

    fn id(&self, n: usize, name: &str) -> Result<u64, ApiError> {
        self.param(n).parse().map_err(|_| ApiError::bad_request_named(
            "The \"%value\" value's type is invalid. The \"%type\" type was expected. Verify and try again.",
            json!({ "value": self.param(n), "type": "int", "field": name }),
        ))
    }

    fn body_field(&self, name: &str) -> Result<&Value, ApiError> {
        self.body
            .as_ref()
            .and_then(|b| b.get(name))
            .ok_or_else(|| ApiError::required_field(name))
    }
}

type Handler = fn(&mut Commerce, &Ctx) -> Result<Value, ApiError>;

struct Route {
    method: Method,
    /// Segments after `/V1/`; `{}` matches one segment.
    pattern: &'static [&'static str],
    template: &'static str,
    /// ACL resource named in 401 answers; `None` for anonymous routes (guest carts).
    resource: Option<&'static str>,
    needs: Module,
    handler: Handler,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Module {
    Core,
    Msi,
    Rma,
}

macro_rules! route {
    ($method:ident, [$($seg:literal),*], $template:literal, $resource:expr, $needs:expr, $handler:expr) => {
        Route { method: Method::$method, pattern: &[$($seg),*], template: $template, resource: $resource, needs: $needs, handler: $handler }
    };
}

/// ACL resources named in 401 answers.
const CATALOG: Option<&str> = Some("Magento_Catalog::products");
const INVENTORY: Option<&str> = Some("Magento_InventoryApi::inventory");
const CART: Option<&str> = Some("Magento_Cart::manage");
const SALES: Option<&str> = Some("Magento_Sales::sales");
const RMA: Option<&str> = Some("Magento_Rma::magento_rma");

/// Every route, in matching order.
fn routes() -> Vec<Route> {
    [
        catalog_routes(),
        inventory_routes(),
        guest_cart_routes(),
        cart_routes(),
        sales_routes(),
        rma_routes(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The store configuration and the catalog.
fn catalog_routes() -> Vec<Route> {
    use Module::*;
    vec![
        route!(
            GET,
            ["store", "storeConfigs"],
            "GET /V1/store/storeConfigs",
            Some("Magento_Backend::store"),
            Core,
            store_configs
        ),
        route!(
            GET,
            ["products"],
            "GET /V1/products",
            CATALOG,
            Core,
            search_products
        ),
        route!(
            GET,
            ["products", "{}"],
            "GET /V1/products/{sku}",
            CATALOG,
            Core,
            get_product
        ),
        route!(
            GET,
            ["configurable-products", "{}", "children"],
            "GET /V1/configurable-products/{sku}/children",
            CATALOG,
            Core,
            configurable_children
        ),
    ]
}

/// MSI and the legacy stock item.
fn inventory_routes() -> Vec<Route> {
    use Module::*;
    vec![
        route!(
            GET,
            ["inventory", "get-product-salable-quantity", "{}", "{}"],
            "GET /V1/inventory/get-product-salable-quantity/{sku}/{stockId}",
            INVENTORY,
            Msi,
            salable_quantity
        ),
        route!(
            GET,
            ["inventory", "are-products-salable"],
            "GET /V1/inventory/are-products-salable",
            INVENTORY,
            Msi,
            are_products_salable
        ),
        route!(
            GET,
            ["inventory", "source-items"],
            "GET /V1/inventory/source-items",
            INVENTORY,
            Msi,
            search_source_items
        ),
        route!(
            GET,
            ["inventory", "stock-resolver", "{}", "{}"],
            "GET /V1/inventory/stock-resolver/{type}/{code}",
            INVENTORY,
            Msi,
            stock_resolver
        ),
        route!(
            GET,
            ["inventory", "export-stock-salable-qty", "{}", "{}"],
            "GET /V1/inventory/export-stock-salable-qty/{salesChannelType}/{salesChannelCode}",
            INVENTORY,
            Msi,
            export_stock_salable_qty
        ),
        route!(
            GET,
            ["inventory", "stocks", "{}"],
            "GET /V1/inventory/stocks/{stockId}",
            INVENTORY,
            Msi,
            get_stock
        ),
        route!(
            GET,
            ["stockItems", "{}"],
            "GET /V1/stockItems/{productSku}",
            Some("Magento_CatalogInventory::cataloginventory"),
            Core,
            legacy_stock_item
        ),
    ]
}

/// Guest carts, and placing their orders.
fn guest_cart_routes() -> Vec<Route> {
    use Module::*;
    vec![
        route!(
            POST,
            ["guest-carts"],
            "POST /V1/guest-carts",
            None,
            Core,
            create_guest_cart
        ),
        route!(
            GET,
            ["guest-carts", "{}"],
            "GET /V1/guest-carts/{cartId}",
            None,
            Core,
            get_guest_cart
        ),
        route!(
            POST,
            ["guest-carts", "{}", "items"],
            "POST /V1/guest-carts/{cartId}/items",
            None,
            Core,
            add_guest_item
        ),
        route!(
            POST,
            ["guest-carts", "{}", "shipping-information"],
            "POST /V1/guest-carts/{cartId}/shipping-information",
            None,
            Core,
            guest_shipping_information
        ),
        route!(
            PUT,
            ["guest-carts", "{}", "order"],
            "PUT /V1/guest-carts/{cartId}/order",
            None,
            Core,
            place_guest_order
        ),
    ]
}

/// Carts of the integration (anonymous or a customer's), and placing their orders.
fn cart_routes() -> Vec<Route> {
    use Module::*;
    vec![
        route!(
            POST,
            ["carts", ""],
            "POST /V1/carts/",
            CART,
            Core,
            create_anonymous_cart
        ),
        route!(
            POST,
            ["customers", "{}", "carts"],
            "POST /V1/customers/{customerId}/carts",
            CART,
            Core,
            create_customer_cart
        ),
        route!(
            GET,
            ["carts", "{}"],
            "GET /V1/carts/{cartId}",
            CART,
            Core,
            get_cart
        ),
        route!(
            GET,
            ["carts", "{}", "items"],
            "GET /V1/carts/{cartId}/items",
            CART,
            Core,
            list_cart_items
        ),
        route!(
            POST,
            ["carts", "{}", "items"],
            "POST /V1/carts/{quoteId}/items",
            CART,
            Core,
            add_cart_item
        ),
        route!(
            DELETE,
            ["carts", "{}", "items", "{}"],
            "DELETE /V1/carts/{cartId}/items/{itemId}",
            CART,
            Core,
            delete_cart_item
        ),
        route!(
            POST,
            ["carts", "{}", "shipping-information"],
            "POST /V1/carts/{cartId}/shipping-information",
            CART,
            Core,
            cart_shipping_information
        ),
        route!(
            PUT,
            ["carts", "{}", "order"],
            "PUT /V1/carts/{cartId}/order",
            CART,
            Core,
            place_cart_order
        ),
    ]
}

/// Orders, invoices, refunds, shipments and credit memos.
fn sales_routes() -> Vec<Route> {
    use Module::*;
    vec![
        route!(GET, ["orders"], "GET /V1/orders", SALES, Core, search_orders),
        route!(
            GET,
            ["orders", "{}"],
            "GET /V1/orders/{id}",
            SALES,
            Core,
            get_order
        ),
        route!(
            POST,
            ["orders", "{}", "comments"],
            "POST /V1/orders/{id}/comments",
            SALES,
            Core,
            add_order_comment
        ),
        route!(
            POST,
            ["orders", "{}", "cancel"],
            "POST /V1/orders/{id}/cancel",
            SALES,
            Core,
            cancel_order
        ),
        route!(
            POST,
            ["order", "{}", "invoice"],
            "POST /V1/order/{orderId}/invoice",
            SALES,
            Core,
            invoice_order
        ),
        route!(
            POST,
            ["order", "{}", "refund"],
            "POST /V1/order/{orderId}/refund",
            SALES,
            Core,
            refund_order
        ),
        route!(
            GET,
            ["shipments"],
            "GET /V1/shipments",
            SALES,
            Core,
            search_shipments
        ),
        route!(
            GET,
            ["creditmemos"],
            "GET /V1/creditmemos",
            SALES,
            Core,
            search_credit_memos
        ),
    ]
}

/// Returns (Adobe Commerce RMA).
fn rma_routes() -> Vec<Route> {
    use Module::*;
    vec![
        route!(GET, ["returns"], "GET /V1/returns", RMA, Rma, search_returns),
        route!(POST, ["returns"], "POST /V1/returns", RMA, Rma, create_return),
        route!(
            GET,
            ["returns", "{}"],
            "GET /V1/returns/{id}",
            RMA,
            Rma,
            get_return
        ),
    ]
}

fn matches(pattern: &[&str], segments: &[String]) -> Option<Vec<String>> {
    if pattern.len() != segments.len() {
        return None;
    }
    let mut params = Vec::new();
    for (p, s) in pattern.iter().zip(segments) {
        if *p == "{}" {
            if s.is_empty() {
                return None;
            }
            params.push(s.clone());
        } else if p != s {
            return None;
        }
    }
    Some(params)
}

/// Every `/rest/...` request.
pub async fn dispatch(State(shared): State<Shared>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let bytes: Bytes = match axum::body::to_bytes(body, sandbox_kit::REQUEST_BODY_LIMIT).await {
        Ok(b) => b,
        Err(_) => return ApiError::bad_request("Request body is too large.").into_response(),
    };
    let raw_path = parts.uri.path().to_owned();
    let query: Vec<(String, String)> = parts
        .uri
        .query()
        .map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    if let Some(throttled) = throttled(&shared) {
        return throttled;
    }
    let raw_query = parts.uri.query();
    match handle(
        &shared,
        &parts.method,
        &parts.headers,
        (&raw_path, raw_query),
        query,
        &bytes,
    ) {
        Ok(value) => (StatusCode::OK, axum::Json(value)).into_response(),
        Err(error) => error.into_response(),
    }
}

/// A CDN or proxy in front of the store refusing the request before Magento sees it: Fastly's 429
/// or nginx's 503, each with `Retry-After` and the proxy's own (non-JSON) body.
fn throttled(shared: &Shared) -> Option<Response> {
    let mut store = lock(shared);
    let throttle = store.throttle.as_mut()?;
    throttle.requests = throttle.requests.saturating_sub(1);
    let (status, retry_after) = (throttle.status, throttle.retry_after_secs);
    if throttle.requests == 0 {
        store.throttle = None;
    }
    let (status, body) = if status == 429 {
        (StatusCode::TOO_MANY_REQUESTS, "Too Many Requests\n".to_owned())
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n\
             <center><h1>503 Service Temporarily Unavailable</h1></center>\r\n<hr><center>nginx</center>\r\n\
             </body>\r\n</html>\r\n"
                .to_owned(),
        )
    };
    Some(
        (
            status,
            [
                (axum::http::header::RETRY_AFTER, retry_after.to_string()),
                (axum::http::header::CONTENT_TYPE, "text/html".to_owned()),
            ],
            body,
        )
            .into_response(),
    )
}

fn handle(
    shared: &Shared,
    method: &Method,
    headers: &HeaderMap,
    (raw_path, raw_query): (&str, Option<&str>),
    query: Vec<(String, String)>,
    body: &[u8],
) -> Result<Value, ApiError> {
    let Some(rest) = raw_path.strip_prefix("/rest/") else {
        return Err(ApiError::no_route());
    };
    let (store_code, api_path) = match rest.split_once('/') {
        Some(("V1", after)) => ("default".to_owned(), after),
        Some((code, after)) => match after
            .strip_prefix("V1/")
            .or_else(|| (after == "V1").then_some(""))
        {
            Some(api) => (code.to_owned(), api),
            None => return Err(ApiError::no_route()),
        },
        None => return Err(ApiError::no_route()),
    };
    let segments: Vec<String> = api_path
        .split('/')
        .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect();
    let mut store = lock(shared);
    // Magento's `Webapi\Controller\PathProcessor` strips only a known store code; an unknown one
    // stays in the path, which then matches no route.
    if store_code != "all" && !store.settings.store_codes.contains(&store_code) {
        *store.stats.entry(format!("{method} (no route)")).or_insert(0) += 1;
        return Err(ApiError::no_route());
    }
    let table = routes();
    let route = table
        .iter()
        .filter(|r| match r.needs {
            Module::Core => true,
            Module::Msi => store.settings.msi,
            Module::Rma => store.settings.rma,
        })
        .find_map(|r| {
            (r.method == *method)
                .then(|| matches(r.pattern, &segments).map(|p| (r, p)))
                .flatten()
        });
    let Some((route, params)) = route else {
        *store.stats.entry(format!("{method} (no route)")).or_insert(0) += 1;
        return Err(ApiError::no_route());
    };
    *store.stats.entry(route.template.to_owned()).or_insert(0) += 1;
    let authorization = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    // Anonymous routes still check credentials that are sent: a bad signature is refused anywhere.
    if route.resource.is_some() || authorization.is_some() {
        let signed = SignedRequest {
            method: method.as_str(),
            host,
            path: raw_path,
            query: raw_query,
            authorization,
        };
        let now_secs = store.clock.now().seconds();
        let store = &mut *store;
        let replay = Replay {
            now_secs,
            used_nonces: &mut store.used_nonces,
        };
        if let Err(refusal) = verify(&signed, &store.settings, &store.expired_tokens, replay) {
            tracing::info!(route = route.template, ?refusal, "sandbox refused credentials");
            return Err(refusal_error(route.resource.unwrap_or("anonymous")));
        }
    }
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        Some(
            serde_json::from_slice::<Value>(body)
                .map_err(|e| ApiError::bad_request_list("Decoding error: %1", &[&e.to_string()]))?,
        )
    };
    let ctx = Ctx {
        store_code,
        params,
        query,
        body,
    };
    (route.handler)(&mut store, &ctx)
}

fn search_result<T>(
    criteria: &Criteria,
    page: crate::search::PageOf<'_, T>,
    render: impl Fn(&T) -> Value,
) -> Value {
    json!({
        "items": page.items.iter().map(|i| render(i)).collect::<Vec<_>>(),
        "search_criteria": criteria.echo(),
        "total_count": page.total_count,
    })
}

fn criteria_for<T: Searchable>(
    store: &Commerce,
    ctx: &Ctx,
    extra: impl Fn(&str) -> bool,
) -> Result<Criteria, ApiError> {
    let criteria = Criteria::from_query(&ctx.query)?;
    criteria.check_page_size(store.settings.page_size_cap)?;
    criteria.check_fields::<T>(extra)?;
    Ok(criteria)
}

// ------------------------------------------------------------------ stores

/// `store-data-store-config-interface` of every store view (or of `storeCodes[]`).
fn store_configs(store: &mut Commerce, ctx: &Ctx) -> Result<Value, ApiError> {
    let wanted: Vec<&str> = ctx
        .query
        .iter()
        .filter(|(k, _)| k.starts_with("storeCodes"))
        .map(|(_, v)| v.as_str())
        .collect();
    Ok(Value::Array(
        store
            .settings
            .store_codes
            .iter()
            .enumerate()
            .filter(|(_, code)| wanted.is_empty() || wanted.contains(&code.as_str()))
            .map(|(i, code)| render::store_config(store, i as u64 + 1, code))
            .collect(),
    ))
}

// ------------------------------------------------------------------ catalog

fn search_products(store: &mut Commerce, ctx: &Ctx) -> Result<Value, ApiError> {
    let criteria = criteria_for::<Product>(store, ctx, |name| {
        store.products.values().any(|p| p.attributes.contains_key(name))
    })?;
    // Large catalogs: walk products already in the requested order when the sort allows it.
    let by_updated = matches!(criteria.sort.as_slice(), [(f, true)] | [(f, true), _] if f == "updated_at")
        && criteria
            .sort
            .get(1)
            .is_none_or(|(f, asc)| f == "entity_id" && *asc);
    let by_id =
        criteria.sort.is_empty() || matches!(criteria.sort.as_slice(), [(f, true)] if f == "entity_id");
    let from = criteria.lower_time_bound("updated_at").unwrap_or(i64::MIN);
    if by_updated && criteria.is_only_lower_bound("updated_at") {
        // The index range is the result: count it and look up only the page's products.
        let keys: Vec<&(i64, u64)> = store.by_updated.range((from, 0)..).collect();
        let page = criteria.page(keys);
        let items: Vec<&Product> = page
            .items
            .iter()
            .filter_map(|(_, id)| store.products.get(id))
            .collect();
        let page = crate::search::PageOf {
            items,
            total_count: page.total_count,
        };
        return Ok(search_result(&criteria, page, |p| render::product(store, p)));
    }
    let page = if by_updated {
        let matching: Vec<&Product> = store
            .by_updated
            .range((from, 0)..)
            .filter_map(|(_, id)| store.products.get(id))
            .filter(|p| criteria.matches(*p))
            .collect();
        criteria.page(matching)
    } else if by_id {
        let matching: Vec<&Product> = store.products.values().filter(|p| criteria.matches(*p)).collect();
        criteria.page(matching)
    } else {
        criteria.run(store.products.values())
    };
    Ok(search_result(&criteria, page, |p| render::product(store, p)))
}

fn get_product(store: &mut Commerce, ctx: &Ctx) -> Result<Value, ApiError> {
    let product = store.product_by_sku(ctx.param(0))?;
    Ok(render::product(store, product))
}

fn configurable_children(store: &mut Commerce, ctx: &Ctx) -> Result<Value, ApiError> {
    let parent = store.product_by_sku(ctx.param(0))?;
    if parent.type_id != TYPE_CONFIGURABLE {
        return Ok(json!([]));
    }
    Ok(Value::Array(
        parent
            .children
            .iter()
            .filter_map(|id| store.products.get(id))
            .map(|c| render::configurable_child(store, c))
            .collect(),
    ))
}

// ------------------------------------------------------------------ inventory

fn salable_quantity(store: &mut Commerce, ctx: &Ctx) -> Result<Value, ApiError> {
    let stock_id = ctx.id(1, "stockId")?;
    let product = store.product_by_sku(ctx.param(0))?;
    if product.type_id != crate::model::TYPE_SIMPLE {
        return Err(ApiError::bad_request(
            "Can't check requested quantity for products without Source Items support.",
        ));
    }
    if store.stock(stock_id).is_none() {
        return Err(ApiError::no_such_entity("stockId", stock_id));
    }
    Ok(json!(store.salable_quantity(ctx.param(0), stock_id)))
}

fn are_products_salable(store: &mut Commerce, ctx: &Ctx) -> Result<Value, ApiError> {
    let stock_id: u64 = ctx
        .query
        .iter()
        .find(|(k, _)| k == "stockId")
        .and_then(|(_, v)| v.parse().ok())
        .ok_or_else(|| ApiError::required_field("stockId"))?;
    let skus: Vec<&String> = ctx
        .query
        .iter()
        .filter(|(k, _)| k == "skus" || k.starts_with("skus["))
        .map(|(_, v)| v)
        .collect();
    if skus.is_empty() {
        return Err(ApiError::required_field("skus"));
    }
    Ok(Value::Array(
        skus.iter()
            .map(
                |sku| json!({ "sku": sku, "stock_id": stock_id, "salable": store.is_salable(sku, stock_id) }),
            )
            .collect(),
    ))
}

fn search_source_items(store: &mut Commerce, ctx: &Ctx) -> Result<Value, ApiError> {
    let criteria = criteria_for::<SourceItem>(store, ctx, |_| false)?;
    let page = criteria.run(store.source_items.values());
    Ok(search_result(&criteria, page, render::source_item))
}

fn stock_resolver(store: &mut Commerce, ctx: &Ctx) -> Result<Value, ApiError> {
    if ctx.param(0) != "website" {
        return Err(ApiError::bad_request_list(
            "Unknown sales channel type %1.",
            &[ctx.param(0)],
        ));
    }
    let stock = store
        .stock_for_website(ctx.param(1))
        .ok_or_else(|| ApiError::no_such_entity("code", ctx.param(1)))?;
    Ok(render::stock(stock))
}

/// Salable quantities of the products a product search finds, in the stock of a sales channel
/// (`InventoryExportStock`'s `PreciseExportStockProcessor`: `qty` is the same salable quantity
/// `get-product-salable-quantity` answers); products not in the stock are left out of `items`.
fn export_stock_salable_qty(store: &mut Commerce, ctx: &Ctx) -> Result<Value, ApiError> {
    if ctx.param(0) != "website" {
        return Err(ApiError::bad_request_list(
            "Unknown sales channel type %1.",
            &[ctx.param(0)],
        ));
    }
    let stock_id = store
        .stock_for_website(ctx.param(1))
        .ok_or_else(|| ApiError::no_such_entity("code", ctx.param(1)))?
        .stock_id;
    let criteria = criteria_for::<Product>(store, ctx, |name| {
        store.products.values().any(|p| p.attributes.contains_key(name))
    })?;
    let page = criteria.run(store.products.values());
    let items: Vec<Value> = page
        .items
        .iter()
        .filter(|p| p.type_id == crate::model::TYPE_SIMPLE)
        .map(|p| {
            json!({
                "sku": p.sku,
                "qty": store.salable_quantity(&p.sku, stock_id),
                "is_salable": store.is_salable(&p.sku, stock_id),
            })
        })
        .collect();
    Ok(json!({
        "items": items,
        "search_criteria": criteria.echo(),
        "total_count": page.total_count,
    }))
}

fn get_stock(store: &mut Commerce, ctx: &Ctx) -> Result<Value, ApiError> {
    let stock_id = ctx.id(0, "stockId")?;
    let stock = store
        .stock(stock_id)
        .ok_or_else(|| ApiError::no_such_entity("stockId", stock_id))?;
    Ok(render::stock(stock))
}

fn legacy_stock_item(store: &mut Commerce, ctx: &Ctx) -> Result<Value, ApiError> {
    let product = store.product_by_sku(ctx.param(0))?;
    Ok(render::stock_item(
        product,
        store.salable_quantity(&product.sku, 1),
    ))
}

// ------------------------------------------------------------------ carts

fn create_guest_cart(store: &mut Commerce, ctx: &Ctx) -> Result<Value, ApiError> {
    let id = store.create_cart(&ctx.store_code, None, true)?;
    Ok(json!(
        store
            .carts
            .get(&id)
            .and_then(|c| c.masked_id.clone())
            .unwrap_or_default()
    ))
}

fn create_anonymous_cart(store: &mut Commerce, ctx: &Ctx) -> Result<Value, ApiError> {
    Ok(json!(store.create_cart(&ctx.store_code, None, false)?))
}

fn create_customer_cart(store: &mut Commerce, ctx: &Ctx) -> Result<Value, ApiError> {
    let customer_id = ctx.id(0, "customerId")?;
    let cart_id = store.create_cart(&ctx.store_code, Some(customer_id), false)?;
    Ok(saved_id(store, cart_id))
}

/// The id of a freshly saved entity as a service method returns it: `$entity->getId()` is the
/// database's string, and `ServiceOutputProcessor::convertValue` passes scalars through unchanged,
/// so Magento answers `"123"` where the schema says integer.
fn saved_id(store: &Commerce, id: u64) -> Value {
    if store.settings.php_scalar_ids {
        json!(id.to_string())
    } else {
        json!(id)
    }
}

fn cart_view(store: &Commerce, raw: &str, guest: bool) -> Result<Value, ApiError> {
    let id = store.cart_id(raw, guest)?;
    let cart = store
        .carts
        .get(&id)
        .ok_or_else(|| ApiError::no_such_entity("cartId", raw))?;
    Ok(render::cart(store, cart))
}

fn get_guest_cart(store: &mut Commerce, ctx: &Ctx) -> Result<Value, ApiError> {
    cart_view(store, ctx.param(0), true)
}

fn get_cart(store: &mut Commerce, ctx: &Ctx) -> Result<Value, ApiError> {
    cart_view(store, ctx.param(0), false)
}

fn list_cart_items(store: &mut Commerce, ctx: &Ctx) -> Result<Value, ApiError> {
    let id = store.cart_id(ctx.param(0), false)?;
    let cart = store
        .carts
        .get(&id)
        .ok_or_else(|| ApiError::no_such_entity("cartId", ctx.param(0)))?;
    Ok(Value::Array(
        cart.items.iter().map(|l| render::cart_item(cart, l)).collect(),
    ))
}

fn add_item(store: &mut Commerce, ctx: &Ctx, guest: bool) -> Result<Value, ApiError> {
    let id = store.cart_id(ctx.param(0), guest)?;
    let item = ctx.body_field("cartItem")?;
    let sku = item
        .get("sku")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::required_field("sku"))?;
    let qty = item
        .get("qty")
        .and_then(Value::as_f64)
        .ok_or_else(|| ApiError::required_field("qty"))?;
    let item_id = store.add_cart_item(id, sku, qty)?;
    let cart = store
        .carts
        .get(&id)
        .ok_or_else(|| ApiError::no_such_entity("cartId", ctx.param(0)))?;
    let line = cart
        .items
        .iter()
        .find(|l| l.item_id == item_id)
        .ok_or_else(ApiError::entity_not_found)?;
    Ok(render::cart_item(cart, line))
}

fn add_guest_item(store: &mut Commerce, ctx: &Ctx) -> Result<Value, ApiError> {
    add_item(store, ctx, true)
}

fn add_cart_item(store: &mut Commerce, ctx: &Ctx) -> Result<Value, ApiError> {
    add_item(store, ctx, false)
}

fn delete_cart_item(store: &mut Commerce, ctx: &Ctx) -> Result<Value, ApiError> {
    let id = store.cart_id(ctx.param(0), false)?;
    store.remove_cart_item(id, ctx.id(1, "itemId")?)?;
    Ok(json!(true))
}

fn shipping_information(store: &mut Commerce, ctx: &Ctx, guest: bool) -> Result<Value, ApiError> {
    let id = store.cart_id(ctx.param(0), guest)?;
    store.set_shipping_information(id, ctx.body_field("addressInformation")?)?;
    let cart = store
        .carts
        .get(&id)
        .ok_or_else(|| ApiError::no_such_entity("cartId", ctx.param(0)))?;
    Ok(render::payment_details(store, cart))
}

fn guest_shipping_information(store: &mut Commerce, ctx: &Ctx) -> Result<Value, ApiError> {
    shipping_information(store, ctx, true)
}

fn cart_shipping_information(store: &mut Commerce, ctx: &Ctx) -> Result<Value, ApiError> {
    shipping_information(store, ctx, false)
}

fn place(store: &mut Commerce, ctx: &Ctx, guest: bool) -> Result<Value, ApiError> {
    let id = store.cart_id(ctx.param(0), guest)?;
    let payment = ctx.body.as_ref().and_then(|b| b.get("paymentMethod"));
    let order_id = store.place_order(id, payment, guest)?;
    if store.lose_placement_answers > 0 {
        store.lose_placement_answers -= 1;
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service Unavailable",
        ));
    }
    Ok(saved_id(store, order_id))
}

fn place_guest_order(store: &mut Commerce, ctx: &Ctx) -> Result<Value, ApiError> {
    place(store, ctx, true)
}

fn place_cart_order(store: &mut Commerce, ctx: &Ctx) -> Result<Value, ApiError> {
    place(store, ctx, false)
}

// ------------------------------------------------------------------ orders

fn search_orders(store: &mut Commerce, ctx: &Ctx) -> Result<Value, ApiError> {
    let criteria = criteria_for::<Order>(store, ctx, |_| false)?;
    let page = criteria.run(store.orders.values());
    Ok(search_result(&criteria, page, render::order))
}

fn get_order(store: &mut Commerce, ctx: &Ctx) -> Result<Value, ApiError> {
    Ok(render::order(store.order(ctx.id(0, "id")?)?))
}

fn add_order_comment(store: &mut Commerce, ctx: &Ctx) -> Result<Value, ApiError> {
    let history = ctx.body_field("statusHistory")?;
    let comment = history
        .get("comment")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::required_field("comment"))?;
    let int = |k: &str| history.get(k).and_then(Value::as_i64).unwrap_or(0);
    let status = history.get("status").and_then(Value::as_str).map(str::to_owned);
    store.add_comment(
        ctx.id(0, "id")?,
        comment,
        status,
        int("is_customer_notified"),
        int("is_visible_on_front"),
    )?;
    Ok(json!(true))
}

fn cancel_order(store: &mut Commerce, ctx: &Ctx) -> Result<Value, ApiError> {
    Ok(json!(store.cancel(ctx.id(0, "id")?)?))
}

fn item_quantities(body: Option<&Value>) -> Vec<(u64, f64)> {
    body.and_then(|b| b.get("items"))
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|i| Some((i.get("order_item_id")?.as_u64()?, i.get("qty")?.as_f64()?)))
                .collect()
        })
        .unwrap_or_default()
}

fn invoice_order(store: &mut Commerce, ctx: &Ctx) -> Result<Value, ApiError> {
    let order_id = ctx.id(0, "orderId")?;
    store.order(order_id)?;
    let invoice_id = store.invoice(order_id, &item_quantities(ctx.body.as_ref()))?;
    Ok(saved_id(store, invoice_id))
}

fn refund_order(store: &mut Commerce, ctx: &Ctx) -> Result<Value, ApiError> {
    let order_id = ctx.id(0, "orderId")?;
    let body = ctx.body.as_ref();
    let args = body.and_then(|b| b.get("arguments"));
    let arg = |k: &str| args.and_then(|a| a.get(k)).and_then(Value::as_f64);
    let return_to_stock: Vec<u64> = args
        .and_then(|a| a.pointer("/extension_attributes/return_to_stock_items"))
        .and_then(Value::as_array)
        .map(|ids| ids.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default();
    let comment = body
        .and_then(|b| b.pointer("/comment/comment"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let memo = store.refund(
        order_id,
        RefundInput {
            items: item_quantities(body),
            shipping_amount: arg("shipping_amount"),
            adjustment_positive: arg("adjustment_positive").unwrap_or(0.0),
            adjustment_negative: arg("adjustment_negative").unwrap_or(0.0),
            return_to_stock,
            comment,
        },
    )?;
    Ok(saved_id(store, memo))
}

fn search_shipments(store: &mut Commerce, ctx: &Ctx) -> Result<Value, ApiError> {
    let criteria = criteria_for::<Shipment>(store, ctx, |_| false)?;
    let page = criteria.run(store.shipments.values());
    Ok(search_result(&criteria, page, |s| {
        render::shipment(s, store.orders.get(&s.order_id))
    }))
}

fn search_credit_memos(store: &mut Commerce, ctx: &Ctx) -> Result<Value, ApiError> {
    let criteria = criteria_for::<CreditMemo>(store, ctx, |_| false)?;
    let page = criteria.run(store.credit_memos.values());
    Ok(search_result(&criteria, page, render::credit_memo))
}

// ------------------------------------------------------------------ returns

fn search_returns(store: &mut Commerce, ctx: &Ctx) -> Result<Value, ApiError> {
    let criteria = criteria_for::<Rma>(store, ctx, |_| false)?;
    let page = criteria.run(store.rmas.values());
    Ok(search_result(&criteria, page, render::rma))
}

fn create_return(store: &mut Commerce, ctx: &Ctx) -> Result<Value, ApiError> {
    let id = store.create_rma(ctx.body_field("rmaDataObject")?)?;
    let rma = store.rmas.get(&id).ok_or_else(ApiError::entity_not_found)?;
    Ok(render::rma(rma))
}

fn get_return(store: &mut Commerce, ctx: &Ctx) -> Result<Value, ApiError> {
    let rma = store
        .rmas
        .get(&ctx.id(0, "id")?)
        .ok_or_else(ApiError::entity_not_found)?;
    Ok(render::rma(rma))
}
