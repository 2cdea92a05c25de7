//! The [`ControlClient`] side of the notifications: delivery settings, the delivery log, lost
//! subscriptions and Walmart's own cancellations.

use reqwest::Method;
use serde_json::{Value, json};

use super::model::{DeliveryAttempt, WalmartCancellation, WebhookSettings, WebhookStatus};
use crate::control_client::{ControlClient, ControlError};

impl ControlClient {
    /// The delivery settings (fault modes, retries, timeout).
    pub async fn webhook_settings(&self) -> Result<WebhookSettings, ControlError> {
        self.call::<(), _>(Method::GET, "/_sandbox/webhooks/settings", None)
            .await
    }

    /// Changes the delivery settings the patch names (e.g. `{"drop_rate": 0.2, "seed": 7}`).
    pub async fn update_webhook_settings(&self, patch: &Value) -> Result<WebhookSettings, ControlError> {
        self.call(Method::PUT, "/_sandbox/webhooks/settings", Some(patch))
            .await
    }

    /// Every delivery attempt so far, oldest first (dropped events included).
    pub async fn webhook_deliveries(&self) -> Result<Vec<DeliveryAttempt>, ControlError> {
        self.call::<(), _>(Method::GET, "/_sandbox/webhooks/deliveries", None)
            .await
    }

    pub async fn clear_webhook_deliveries(&self) -> Result<(), ControlError> {
        let _: Value = self
            .call::<(), _>(Method::DELETE, "/_sandbox/webhooks/deliveries", None)
            .await?;
        Ok(())
    }

    /// Subscriptions, pending and in-flight deliveries, and outcome counts.
    pub async fn webhook_status(&self) -> Result<WebhookStatus, ControlError> {
        self.call::<(), _>(Method::GET, "/_sandbox/webhooks/status", None)
            .await
    }

    /// Every subscription as `GET /v3/webhooks/subscriptions` renders it.
    pub async fn webhook_subscriptions(&self) -> Result<Vec<Value>, ControlError> {
        self.call::<(), _>(Method::GET, "/_sandbox/webhooks/subscriptions", None)
            .await
    }

    /// Walmart loses every subscription; returns how many there were.
    pub async fn lose_webhook_subscriptions(&self) -> Result<u64, ControlError> {
        let v: Value = self
            .call::<(), _>(Method::DELETE, "/_sandbox/webhooks/subscriptions", None)
            .await?;
        Ok(v["removed"].as_u64().unwrap_or(0))
    }

    /// Walmart auto-cancels every unshipped unit of `lines` (every line when empty): announced as
    /// `PO_LINE_AUTOCANCELLED`. Returns the order as Walmart renders it.
    pub async fn auto_cancel(&self, purchase_order_id: &str, lines: &[u32]) -> Result<Value, ControlError> {
        self.walmart_cancel(purchase_order_id, "auto-cancel", lines).await
    }

    /// Walmart cancels for fraud every unshipped unit of `lines` (every line when empty):
    /// announced as `FRAUD_CANCEL`. Returns the order as Walmart renders it.
    pub async fn fraud_cancel(&self, purchase_order_id: &str, lines: &[u32]) -> Result<Value, ControlError> {
        self.walmart_cancel(purchase_order_id, "fraud-cancel", lines)
            .await
    }

    async fn walmart_cancel(
        &self,
        purchase_order_id: &str,
        kind: &str,
        lines: &[u32],
    ) -> Result<Value, ControlError> {
        let path = format!("/_sandbox/orders/{}/{kind}", Self::segment(purchase_order_id));
        let body = json!(WalmartCancellation {
            lines: lines.to_vec()
        });
        self.call(Method::POST, &path, Some(&body)).await
    }
}
