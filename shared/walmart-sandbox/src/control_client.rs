//! A typed client of the sandbox's control API, so tests, benchmarks and the local runner drive the
//! sandbox the same way.

use std::collections::BTreeMap;

use domain::Money;
use reqwest::Method;
use sandbox_kit::{Exchange, FaultPlan};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::model::*;
use crate::settings::SandboxSettings;

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("{method} {path}: HTTP {status}: {body}")]
    Status {
        method: String,
        path: String,
        status: u16,
        body: String,
    },
    #[error("{method} {path}: {message}")]
    Transport {
        method: String,
        path: String,
        message: String,
    },
    #[error("{method} {path}: unexpected response: {message}")]
    Decode {
        method: String,
        path: String,
        message: String,
    },
}

#[derive(Debug, Clone)]
pub struct ControlClient {
    base_url: String,
    http: reqwest::Client,
}

impl ControlClient {
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
        }
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub(crate) async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, ControlError> {
        let url = format!("{}{path}", self.base_url);
        let mut request = self.http.request(method.clone(), &url);
        if let Some(body) = body {
            request = request.json(body);
        }
        let fail = |message: String| ControlError::Transport {
            method: method.to_string(),
            path: path.to_owned(),
            message,
        };
        let response = request.send().await.map_err(|e| fail(e.to_string()))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| fail(e.to_string()))?;
        if !status.is_success() {
            return Err(ControlError::Status {
                method: method.to_string(),
                path: path.to_owned(),
                status: status.as_u16(),
                body: String::from_utf8_lossy(&bytes).into_owned(),
            });
        }
        // 204s carry nothing: read them as JSON null.
        let bytes = if bytes.is_empty() {
            &b"null"[..]
        } else {
            &bytes[..]
        };
        serde_json::from_slice(bytes).map_err(|e| ControlError::Decode {
            method: method.to_string(),
            path: path.to_owned(),
            message: e.to_string(),
        })
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ControlError> {
        self.call::<(), T>(Method::GET, path, None).await
    }

    async fn post<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T, ControlError> {
        self.call(Method::POST, path, Some(body)).await
    }

    pub(crate) fn segment(raw: &str) -> String {
        url::form_urlencoded::byte_serialize(raw.as_bytes())
            .collect::<String>()
            .replace('+', "%20")
    }

    // ------------------------------------------------------------ setup

    /// Adds items to Walmart's catalog; returns their WPIDs.
    pub async fn add_catalog_items(&self, items: &[CatalogItemSpec]) -> Result<Vec<String>, ControlError> {
        let added: Value = self.post("/_sandbox/catalog", &items).await?;
        serde_json::from_value(added["wpids"].clone()).map_err(|e| ControlError::Decode {
            method: "POST".into(),
            path: "/_sandbox/catalog".into(),
            message: e.to_string(),
        })
    }

    /// Sets up seller items directly, as if matched earlier.
    pub async fn add_seller_items(&self, items: &[SellerItemSpec]) -> Result<(), ControlError> {
        let _: Value = self.post("/_sandbox/items", &items).await?;
        Ok(())
    }

    /// Places a buyer's order; returns its ids.
    pub async fn create_order(&self, order: &NewOrder) -> Result<CreatedOrder, ControlError> {
        self.post("/_sandbox/orders", order).await
    }

    /// Cancels unshipped units as the buyer or Walmart would.
    pub async fn cancel_as_buyer(
        &self,
        purchase_order_id: &str,
        cancellation: &BuyerCancellation,
    ) -> Result<Value, ControlError> {
        self.post(
            &format!("/_sandbox/orders/{}/cancel", Self::segment(purchase_order_id)),
            cancellation,
        )
        .await
    }

    /// The buyer asks to cancel lines on Walmart (`intentToCancel`); the seller decides.
    pub async fn request_cancellation(
        &self,
        purchase_order_id: &str,
        request: &CancellationRequest,
    ) -> Result<Value, ControlError> {
        self.post(
            &format!(
                "/_sandbox/orders/{}/intent-to-cancel",
                Self::segment(purchase_order_id)
            ),
            request,
        )
        .await
    }

    /// Opens a return of shipped units.
    pub async fn create_return(&self, new_return: &NewReturn) -> Result<CreatedReturn, ControlError> {
        self.post("/_sandbox/returns", new_return).await
    }

    /// Walmart refunds the return's unrefunded lines itself (its automatic refund); returns the
    /// return as Walmart renders it.
    pub async fn walmart_refunds_return(&self, return_order_id: &str) -> Result<Value, ControlError> {
        self.post(
            &format!(
                "/_sandbox/returns/{}/walmart-refund",
                Self::segment(return_order_id)
            ),
            &serde_json::json!({}),
        )
        .await
    }

    /// Makes the sandbox put `value` at `pointer` in one record each time it renders it (a value
    /// Walmart added since, a record sent badly); `""` replaces the whole record.
    pub async fn override_record(
        &self,
        record: OverriddenRecord,
        pointer: &str,
        value: Value,
    ) -> Result<(), ControlError> {
        let spec = RecordOverride {
            record,
            pointer: pointer.to_owned(),
            value,
        };
        let _: Value = self.post("/_sandbox/overrides", &spec).await?;
        Ok(())
    }

    pub async fn clear_overrides(&self) -> Result<(), ControlError> {
        let _: Value = self
            .call::<(), Value>(Method::DELETE, "/_sandbox/overrides", None)
            .await?;
        Ok(())
    }

    // ------------------------------------------------------------ inspection

    pub async fn state(&self) -> Result<StateSummary, ControlError> {
        self.get("/_sandbox/state").await
    }

    /// The order as Walmart renders it (`Order` JSON with line statuses).
    pub async fn order(&self, purchase_order_id: &str) -> Result<Value, ControlError> {
        self.get(&format!("/_sandbox/orders/{}", Self::segment(purchase_order_id)))
            .await
    }

    pub async fn return_order(&self, return_order_id: &str) -> Result<Value, ControlError> {
        self.get(&format!("/_sandbox/returns/{}", Self::segment(return_order_id)))
            .await
    }

    /// Every seller item as `GET /v3/items` renders it.
    pub async fn seller_items(&self) -> Result<Vec<Value>, ControlError> {
        self.get("/_sandbox/items").await
    }

    pub async fn seller_item(&self, sku: &str) -> Result<Value, ControlError> {
        self.get(&format!("/_sandbox/items/{}", Self::segment(sku))).await
    }

    pub async fn inventory(&self) -> Result<BTreeMap<String, u32>, ControlError> {
        self.get("/_sandbox/inventory").await
    }

    /// The SKU's quantity, `None` when Walmart has none recorded.
    pub async fn inventory_of(&self, sku: &str) -> Result<Option<u32>, ControlError> {
        match self
            .get::<Value>(&format!("/_sandbox/inventory/{}", Self::segment(sku)))
            .await
        {
            Ok(v) => Ok(v["quantity"].as_u64().and_then(|q| u32::try_from(q).ok())),
            Err(ControlError::Status { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn prices(&self) -> Result<BTreeMap<String, Money>, ControlError> {
        self.get("/_sandbox/prices").await
    }

    pub async fn price_of(&self, sku: &str) -> Result<Option<Money>, ControlError> {
        match self
            .get::<Value>(&format!("/_sandbox/prices/{}", Self::segment(sku)))
            .await
        {
            Ok(v) => Ok(v["price"].as_i64().map(Money::from_cents)),
            Err(ControlError::Status { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn inventory_updates(&self) -> Result<Vec<ValueUpdate<u32>>, ControlError> {
        self.get("/_sandbox/updates/inventory").await
    }

    pub async fn price_updates(&self) -> Result<Vec<ValueUpdate<Money>>, ControlError> {
        self.get("/_sandbox/updates/prices").await
    }

    /// Acknowledgements, shipments, cancellations and refunds the seller sent.
    pub async fn received(&self) -> Result<Received, ControlError> {
        self.get("/_sandbox/received").await
    }

    pub async fn feeds(&self) -> Result<Vec<FeedSummary>, ControlError> {
        self.get("/_sandbox/feeds").await
    }

    /// The feed's status with every item's outcome, as Walmart renders it.
    pub async fn feed(&self, feed_id: &str) -> Result<Value, ControlError> {
        self.get(&format!("/_sandbox/feeds/{}", Self::segment(feed_id)))
            .await
    }

    // ------------------------------------------------------------ settings, limits, faults

    pub async fn settings(&self) -> Result<SandboxSettings, ControlError> {
        self.get("/_sandbox/settings").await
    }

    /// Changes the named settings, e.g. `json!({"store_live": false})`; returns them all.
    pub async fn update_settings(&self, patch: &Value) -> Result<SandboxSettings, ControlError> {
        self.call(Method::PUT, "/_sandbox/settings", Some(patch)).await
    }

    /// Expires every issued token now (the next call with one gets a 401).
    pub async fn expire_tokens(&self) -> Result<u64, ControlError> {
        let v: Value = self.post("/_sandbox/tokens/expire", &json!({})).await?;
        Ok(v["expired"].as_u64().unwrap_or(0))
    }

    /// Calls and 429s per endpoint.
    pub async fn stats(&self) -> Result<BTreeMap<String, EndpointCounters>, ControlError> {
        self.get("/_sandbox/stats").await
    }

    pub async fn reset_stats(&self) -> Result<(), ControlError> {
        let _: Value = self
            .call::<(), Value>(Method::DELETE, "/_sandbox/stats", None)
            .await?;
        Ok(())
    }

    /// Refills every rate-limit bucket.
    pub async fn reset_rate_limits(&self) -> Result<(), ControlError> {
        let _: Value = self.post("/_sandbox/rate-limits/reset", &json!({})).await?;
        Ok(())
    }

    /// Empties every rate-limit bucket: limited endpoints answer 429 (with Walmart's headers) until
    /// their next token.
    pub async fn drain_rate_limits(&self) -> Result<(), ControlError> {
        let _: Value = self.post("/_sandbox/rate-limits/drain", &json!({})).await?;
        Ok(())
    }

    pub async fn faults(&self) -> Result<FaultPlan, ControlError> {
        self.get("/_sandbox/faults").await
    }

    pub async fn set_faults(&self, plan: &FaultPlan) -> Result<FaultPlan, ControlError> {
        self.call(Method::PUT, "/_sandbox/faults", Some(plan)).await
    }

    /// Every recorded exchange (requests and responses of the Walmart API).
    pub async fn exchanges(&self) -> Result<Vec<Exchange>, ControlError> {
        self.get("/_sandbox/exchanges").await
    }

    pub async fn clear_exchanges(&self) -> Result<(), ControlError> {
        let _: Value = self
            .call::<(), Value>(Method::DELETE, "/_sandbox/exchanges", None)
            .await?;
        Ok(())
    }
}
