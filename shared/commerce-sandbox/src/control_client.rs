//! A typed client of the control API, for tests, benchmarks and the local runner.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

pub use crate::control::{PriceChange, RefundRequest, ShipRequest, StockChange, StoreConfigChange, Throttle};
use crate::model::Customer;
use crate::store::{CatalogSpec, ProductSeed, ShipLine, TrackInput};

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("sandbox control request failed: {0}")]
    Transport(#[from] reqwest::Error),
    #[error("sandbox control answered {status}: {body}")]
    Status { status: u16, body: String },
    #[error("sandbox control answer could not be read: {0}")]
    Decode(#[from] serde_json::Error),
}

#[derive(Debug, Clone)]
pub struct ControlClient {
    http: reqwest::Client,
    base_url: String,
}

impl ControlClient {
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            http: reqwest::Client::new(),
            base_url: base_url.into().trim_end_matches('/').to_owned(),
        }
    }

    async fn send<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<T, ControlError> {
        let mut request = self.http.request(method, format!("{}{path}", self.base_url));
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        if !(200..300).contains(&status) {
            return Err(ControlError::Status { status, body: text });
        }
        if text.trim().is_empty() {
            return Ok(serde_json::from_value(Value::Null)?);
        }
        Ok(serde_json::from_str(&text)?)
    }

    async fn post<T: DeserializeOwned>(&self, path: &str, body: &impl Serialize) -> Result<T, ControlError> {
        self.send(reqwest::Method::POST, path, Some(&serde_json::to_value(body)?))
            .await
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ControlError> {
        self.send(reqwest::Method::GET, path, None).await
    }

    fn sku_path(sku: &str) -> String {
        percent_encoding::utf8_percent_encode(sku, percent_encoding::NON_ALPHANUMERIC).to_string()
    }

    pub async fn seed_products(&self, products: &[ProductSeed]) -> Result<Value, ControlError> {
        self.post("/_sandbox/products", &products).await
    }

    pub async fn generate_catalog(&self, spec: &CatalogSpec) -> Result<Value, ControlError> {
        self.post("/_sandbox/products/generate", spec).await
    }

    /// The product as `GET /V1/products/{sku}` renders it.
    pub async fn product(&self, sku: &str) -> Result<Value, ControlError> {
        self.get(&format!("/_sandbox/products/{}", Self::sku_path(sku)))
            .await
    }

    pub async fn set_price(&self, sku: &str, change: &PriceChange) -> Result<Value, ControlError> {
        let body = serde_json::to_value(change)?;
        self.send(
            reqwest::Method::PUT,
            &format!("/_sandbox/products/{}/price", Self::sku_path(sku)),
            Some(&body),
        )
        .await
    }

    pub async fn set_stock(&self, changes: &[StockChange]) -> Result<Value, ControlError> {
        let body = serde_json::to_value(changes)?;
        self.send(reqwest::Method::PUT, "/_sandbox/stock", Some(&body))
            .await
    }

    /// `(source_quantity, salable_quantity)` of a SKU in a stock.
    pub async fn salable(&self, sku: &str, stock_id: u64) -> Result<(f64, f64), ControlError> {
        let v: Value = self
            .get(&format!(
                "/_sandbox/salable/{}?stock_id={stock_id}",
                Self::sku_path(sku)
            ))
            .await?;
        Ok((
            v["source_quantity"].as_f64().unwrap_or(0.0),
            v["salable_quantity"].as_f64().unwrap_or(0.0),
        ))
    }

    pub async fn reservations(&self) -> Result<Vec<Value>, ControlError> {
        self.get("/_sandbox/reservations").await
    }

    pub async fn add_customer(&self, customer: &Customer) -> Result<Value, ControlError> {
        self.post("/_sandbox/customers", customer).await
    }

    pub async fn orders(&self) -> Result<Vec<Value>, ControlError> {
        self.get("/_sandbox/orders").await
    }

    pub async fn order(&self, id: u64) -> Result<Value, ControlError> {
        self.get(&format!("/_sandbox/orders/{id}")).await
    }

    /// Ships (whole order when `items` is empty) with one track.
    pub async fn ship(
        &self,
        order_id: u64,
        items: Vec<ShipLine>,
        track: TrackInput,
        invoice: bool,
    ) -> Result<Value, ControlError> {
        self.post(
            &format!("/_sandbox/orders/{order_id}/ship"),
            &ShipRequest {
                items,
                tracks: vec![track],
                invoice,
            },
        )
        .await
    }

    /// Ships without a tracking number (a 3PL or ERP adds it later: [`Self::add_track`]).
    pub async fn ship_untracked(
        &self,
        order_id: u64,
        items: Vec<ShipLine>,
        invoice: bool,
    ) -> Result<Value, ControlError> {
        self.post(
            &format!("/_sandbox/orders/{order_id}/ship"),
            &ShipRequest {
                items,
                tracks: Vec::new(),
                invoice,
            },
        )
        .await
    }

    /// Adds a track to an existing shipment as Magento's `TrackRepository::save` does: the
    /// shipment's `updated_at` does not move.
    pub async fn add_track(&self, shipment_id: u64, track: &TrackInput) -> Result<Value, ControlError> {
        self.post(&format!("/_sandbox/shipments/{shipment_id}/tracks"), track)
            .await
    }

    pub async fn cancel(&self, order_id: u64) -> Result<bool, ControlError> {
        let v: Value = self
            .post(&format!("/_sandbox/orders/{order_id}/cancel"), &json!({}))
            .await?;
        Ok(v["canceled"].as_bool().unwrap_or(false))
    }

    pub async fn invoice(&self, order_id: u64) -> Result<Value, ControlError> {
        self.post(&format!("/_sandbox/orders/{order_id}/invoice"), &json!({}))
            .await
    }

    pub async fn refund(&self, order_id: u64, request: &RefundRequest) -> Result<Value, ControlError> {
        self.post(&format!("/_sandbox/orders/{order_id}/refund"), request)
            .await
    }

    pub async fn shipments(&self) -> Result<Vec<Value>, ControlError> {
        self.get("/_sandbox/shipments").await
    }

    pub async fn credit_memos(&self) -> Result<Vec<Value>, ControlError> {
        self.get("/_sandbox/creditmemos").await
    }

    pub async fn returns(&self) -> Result<Vec<Value>, ControlError> {
        self.get("/_sandbox/returns").await
    }

    pub async fn set_return_status(&self, rma_id: u64, status: &str) -> Result<Value, ControlError> {
        self.post(
            &format!("/_sandbox/returns/{rma_id}/status"),
            &json!({ "status": status }),
        )
        .await
    }

    /// Expires tokens (all of them when `tokens` is empty).
    pub async fn expire_tokens(&self, tokens: &[String]) -> Result<Value, ControlError> {
        self.post("/_sandbox/tokens/expire", &json!({ "tokens": tokens }))
            .await
    }

    /// The next `count` order placements are committed but answered 503.
    pub async fn lose_next_placement_answers(&self, count: u32) -> Result<Value, ControlError> {
        self.post(
            "/_sandbox/orders/lose-next-placement-answers",
            &json!({ "count": count }),
        )
        .await
    }

    /// The next `requests` API requests are throttled (429 or 503) with `Retry-After`.
    pub async fn throttle(&self, throttle: &Throttle) -> Result<Value, ControlError> {
        self.post("/_sandbox/throttle", throttle).await
    }

    /// The merchant changes the store's configuration (modules, payment methods, store codes).
    /// The store's configuration (`msi`, `payment_methods`, `store_codes`, `timezone`).
    pub async fn store_config(&self) -> Result<Value, ControlError> {
        self.get("/_sandbox/store-config").await
    }

    pub async fn change_store_config(&self, change: &StoreConfigChange) -> Result<Value, ControlError> {
        self.post("/_sandbox/store-config", change).await
    }

    pub async fn restore_tokens(&self) -> Result<Value, ControlError> {
        self.post("/_sandbox/tokens/restore", &json!({})).await
    }

    /// Calls per route template.
    pub async fn stats(&self) -> Result<std::collections::BTreeMap<String, u64>, ControlError> {
        self.get("/_sandbox/stats").await
    }

    pub async fn set_faults(
        &self,
        plan: &sandbox_kit::FaultPlan,
    ) -> Result<sandbox_kit::FaultPlan, ControlError> {
        let body = serde_json::to_value(plan)?;
        self.send(reqwest::Method::PUT, "/_sandbox/faults", Some(&body))
            .await
    }

    pub async fn exchanges(&self) -> Result<Vec<sandbox_kit::Exchange>, ControlError> {
        self.get("/_sandbox/exchanges").await
    }

    pub async fn clear_exchanges(&self) -> Result<(), ControlError> {
        let _: Value = self
            .send(reqwest::Method::DELETE, "/_sandbox/exchanges", None)
            .await?;
        Ok(())
    }
}
