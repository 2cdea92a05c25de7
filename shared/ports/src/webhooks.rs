//! Walmart's notifications (webhooks) vocabulary: the subscriptions the channel keeps on Walmart
//! (`/v3/webhooks/subscriptions`, `shared/reference/walmart-openapi/notifications.json`) and the
//! authentication Walmart uses when it delivers to the channel's receiver.

/// The one order event type the channel subscribes to: sub-events `PO_CREATED`,
/// `PO_LINE_AUTOCANCELLED`, `INTENT_TO_CANCEL`, `FRAUD_CANCEL` (and more Walmart may add).
pub const ORDER_UPDATES: &str = "ORDER_UPDATES";
pub const ORDER_UPDATES_VERSION: &str = "V1";
pub const ORDER_RESOURCE: &str = "ORDER";
/// The standalone order events `ORDER_UPDATES` replaces (removed by Walmart on 2026-12-15): a
/// subscription of these to the channel's own URL is removed.
pub const LEGACY_ORDER_EVENTS: [&str; 3] = ["PO_CREATED", "PO_LINE_AUTOCANCELLED", "INTENT_TO_CANCEL"];
pub const ACTIVE: &str = "ACTIVE";

pub use domain::WebhookSecret;

/// How Walmart authenticates its deliveries to the channel's receiver (`authDetails`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookAuth {
    /// `HMAC`: the header `header_name` carries the base64 (standard alphabet) HMAC-SHA256 of the
    /// delivery's exact body bytes keyed with `client_secret`. Walmart's docs do not say which
    /// bytes or which encoding: this is the one choice the channel accepts (`push-events.md`).
    Hmac {
        header_name: String,
        client_secret: WebhookSecret,
    },
    /// `BASIC_AUTH`: the header `header_name` carries `Basic base64(user:password)`.
    Basic {
        header_name: String,
        user_name: String,
        password: WebhookSecret,
    },
}

impl WebhookAuth {
    pub fn method(&self) -> &'static str {
        match self {
            WebhookAuth::Hmac { .. } => "HMAC",
            WebhookAuth::Basic { .. } => "BASIC_AUTH",
        }
    }

    pub fn header_name(&self) -> &str {
        match self {
            WebhookAuth::Hmac { header_name, .. } | WebhookAuth::Basic { header_name, .. } => header_name,
        }
    }
}

/// A subscription to create, update or test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionRequest {
    pub event_type: String,
    pub event_version: String,
    pub resource_name: String,
    pub event_url: String,
    pub auth: WebhookAuth,
    /// `ACTIVE` or `INACTIVE`.
    pub status: String,
}

impl SubscriptionRequest {
    /// The channel's `ORDER_UPDATES` subscription to `event_url`, active.
    pub fn order_updates(event_url: impl Into<String>, auth: WebhookAuth) -> Self {
        Self {
            event_type: ORDER_UPDATES.to_owned(),
            event_version: ORDER_UPDATES_VERSION.to_owned(),
            resource_name: ORDER_RESOURCE.to_owned(),
            event_url: event_url.into(),
            auth,
            status: ACTIVE.to_owned(),
        }
    }
}

/// A subscription as Walmart lists it (secrets are not read back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub subscription_id: String,
    pub event_type: String,
    pub event_version: Option<String>,
    pub resource_name: Option<String>,
    pub event_url: Option<String>,
    pub status: Option<String>,
    pub auth_method: Option<String>,
    pub auth_header_name: Option<String>,
}

impl Subscription {
    pub fn is_active(&self) -> bool {
        self.status.as_deref() == Some(ACTIVE)
    }

    /// Whether it delivers to `url` (trailing slashes aside).
    pub fn delivers_to(&self, url: &str) -> bool {
        self.event_url
            .as_deref()
            .is_some_and(|u| u.trim_end_matches('/') == url.trim_end_matches('/'))
    }

    /// Whether it is exactly what `wanted` asks for, as far as Walmart shows it (the secret is
    /// not shown back, so a changed secret is sent on the daily update anyway).
    pub fn matches(&self, wanted: &SubscriptionRequest) -> bool {
        self.event_type == wanted.event_type
            && self.delivers_to(&wanted.event_url)
            && self.event_version.as_deref() == Some(wanted.event_version.as_str())
            && self.is_active()
            && self
                .auth_method
                .as_deref()
                .is_none_or(|m| m == wanted.auth.method())
            && self
                .auth_header_name
                .as_deref()
                .is_none_or(|h| h.eq_ignore_ascii_case(wanted.auth.header_name()))
    }
}
