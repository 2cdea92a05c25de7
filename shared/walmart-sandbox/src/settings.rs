//! Run-time settings of the sandbox, readable and changeable through `/_sandbox/settings`.

use serde::{Deserialize, Serialize};

pub const DEFAULT_CLIENT_ID: &str = "sandbox-client-id";
pub const DEFAULT_CLIENT_SECRET: &str = "sandbox-client-secret";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SandboxSettings {
    /// The client credentials `POST /v3/token` accepts.
    pub client_id: String,
    pub client_secret: String,
    /// Lifetime of issued access tokens (Walmart: 900 s).
    pub token_ttl_secs: u64,
    /// How long a feed stays RECEIVED before processing starts.
    pub feed_received_secs: u64,
    /// How long a feed stays INPROGRESS before it is PROCESSED.
    pub feed_processing_secs: u64,
    /// Enforce Walmart's published rate limits (429 with the rate-limit headers).
    pub rate_limits: bool,
    /// Whether the seller's store is live: matched items are PUBLISHED when it is, STAGE otherwise.
    pub store_live: bool,
    /// Answer 500 `SYSTEM_ERROR.GMP_GATEWAY_API` to a POST without a `Content-Type` header, as
    /// Walmart does for a bodiless acknowledge (walmartlabs/partnerapi_sdk_dotnet PR 16).
    pub require_post_content_type: bool,
    /// Send `null` for optional fields without a value, as Walmart does (`"ingestionErrors":
    /// {"ingestionError": null}`); `false` leaves them out.
    pub explicit_nulls: bool,
    /// Largest `limit` of `GET /v3/feeds/{feedId}` item details; above it the answer is a 400. The
    /// spec says 50 ("cannot be more than 50"), newer Walmart docs say 1000.
    pub max_feed_detail_page: usize,
    /// How notifications are delivered: fault modes, retries, timeout (`webhooks/model.rs`).
    pub webhooks: crate::webhooks::model::WebhookSettings,
}

impl Default for SandboxSettings {
    fn default() -> Self {
        Self {
            client_id: DEFAULT_CLIENT_ID.to_owned(),
            client_secret: DEFAULT_CLIENT_SECRET.to_owned(),
            token_ttl_secs: 900,
            feed_received_secs: 60,
            feed_processing_secs: 600,
            rate_limits: true,
            store_live: true,
            require_post_content_type: true,
            explicit_nulls: true,
            max_feed_detail_page: 50,
            webhooks: crate::webhooks::model::WebhookSettings::default(),
        }
    }
}
