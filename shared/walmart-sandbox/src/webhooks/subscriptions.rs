//! Subscriptions: Walmart's event type catalog, the rules a subscription must meet, and its JSON.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use domain::Timestamp;
use serde_json::{Map, Value, json};

use crate::errors::WalmartFault;

/// `ORDER_UPDATES`: one subscription for every order sub-event.
pub const ORDER_UPDATES: &str = "ORDER_UPDATES";
/// The legacy standalone order events stop on 2026-12-15T00:00:00Z
/// (wmlink.me/us-marketplace/page/new-order-management-webhook-event).
pub const LEGACY_ORDER_EVENTS_END: Timestamp = Timestamp::from_millis(1_797_292_800_000);

const FAULT_CODE: &str = "INVALID_REQUEST_CONTENT.GMP_WEBHOOKS_API";

/// One subscribable event type.
pub struct EventTypeSpec {
    pub event_type: &'static str,
    pub event_version: &'static str,
    pub resource_name: &'static str,
    pub description: &'static str,
    /// The last moment it can be subscribed to and is delivered, if it is being removed.
    pub removed_at: Option<Timestamp>,
}

/// The event types the sandbox lists. Only the order events are ever produced; the others can be
/// subscribed to, as on Walmart, and stay silent.
pub const EVENT_TYPES: &[EventTypeSpec] = &[
    EventTypeSpec {
        event_type: ORDER_UPDATES,
        event_version: "V1",
        resource_name: "ORDER",
        description: "Order lifecycle updates; payload.subEventType is PO_CREATED, PO_LINE_AUTOCANCELLED, INTENT_TO_CANCEL or FRAUD_CANCEL",
        removed_at: None,
    },
    EventTypeSpec {
        event_type: "PO_CREATED",
        event_version: "V1",
        resource_name: "ORDER",
        description: "Notification for new purchase order created (legacy: removed on 2026-12-15)",
        removed_at: Some(LEGACY_ORDER_EVENTS_END),
    },
    EventTypeSpec {
        event_type: "PO_LINE_AUTOCANCELLED",
        event_version: "V1",
        resource_name: "ORDER",
        description: "Notification for purchase order line auto-cancelled (legacy: removed on 2026-12-15)",
        removed_at: Some(LEGACY_ORDER_EVENTS_END),
    },
    EventTypeSpec {
        event_type: "INTENT_TO_CANCEL",
        event_version: "V1",
        resource_name: "ORDER",
        description: "Notification for a customer's intent to cancel (legacy: removed on 2026-12-15)",
        removed_at: Some(LEGACY_ORDER_EVENTS_END),
    },
    EventTypeSpec {
        event_type: "OFFER_UNPUBLISHED",
        event_version: "V1",
        resource_name: "ITEM",
        description: "Notification for unpublished offers",
        removed_at: None,
    },
    EventTypeSpec {
        event_type: "OFFER_PUBLISHED",
        event_version: "V1",
        resource_name: "ITEM",
        description: "Notification for published offers",
        removed_at: None,
    },
    EventTypeSpec {
        event_type: "BUY_BOX_CHANGED",
        event_version: "V1",
        resource_name: "PRICE",
        description: "Notification for change in buy box",
        removed_at: None,
    },
    EventTypeSpec {
        event_type: "INVENTORY_OOS",
        event_version: "V1",
        resource_name: "INVENTORY",
        description: "Notification for an item out of stock",
        removed_at: None,
    },
    EventTypeSpec {
        event_type: "REPORT_STATUS",
        event_version: "V1",
        resource_name: "REPORTS",
        description: "Notification for report status",
        removed_at: None,
    },
];

impl EventTypeSpec {
    pub fn available(&self, now: Timestamp) -> bool {
        self.removed_at.is_none_or(|end| now < end)
    }
}

/// The event types that can be subscribed to at `now`.
pub fn available_event_types(now: Timestamp) -> impl Iterator<Item = &'static EventTypeSpec> {
    EVENT_TYPES.iter().filter(move |spec| spec.available(now))
}

pub fn event_type(name: &str) -> Option<&'static EventTypeSpec> {
    EVENT_TYPES.iter().find(|spec| spec.event_type == name)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    BasicAuth,
    Hmac,
    OAuth,
}

impl AuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::BasicAuth => "BASIC_AUTH",
            AuthMethod::Hmac => "HMAC",
            AuthMethod::OAuth => "OAUTH",
        }
    }
}

/// `authDetails`, checked: each method has what it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthDetails {
    pub method: AuthMethod,
    pub user_name: Option<String>,
    pub password: Option<String>,
    /// The header the credential goes in (`Authorization` when basic auth names none).
    pub header_name: String,
    pub auth_url: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionStatus {
    Active,
    Inactive,
}

impl SubscriptionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionStatus::Active => "ACTIVE",
            SubscriptionStatus::Inactive => "INACTIVE",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub subscription_id: String,
    pub partner_id: String,
    pub event_type: String,
    pub event_version: String,
    pub resource_name: String,
    pub event_url: String,
    /// Custom headers sent with every delivery.
    pub headers: BTreeMap<String, String>,
    pub auth: Option<AuthDetails>,
    pub status: SubscriptionStatus,
}

impl Subscription {
    pub fn active(&self) -> bool {
        self.status == SubscriptionStatus::Active
    }

    /// As Walmart renders a subscription record (secrets included, as its examples show).
    pub fn render(&self) -> Value {
        let mut record = json!({
            "subscriptionId": self.subscription_id,
            "partnerId": self.partner_id,
            "eventType": self.event_type,
            "eventVersion": self.event_version,
            "resourceName": self.resource_name,
            "eventUrl": self.event_url,
            "status": self.status.as_str(),
        });
        if !self.headers.is_empty() {
            record["headers"] = json!(self.headers);
        }
        if let Some(auth) = &self.auth {
            let mut details = Map::new();
            details.insert("authMethod".into(), json!(auth.method.as_str()));
            details.insert("authHeaderName".into(), json!(auth.header_name));
            let optional = [
                ("userName", &auth.user_name),
                ("password", &auth.password),
                ("authUrl", &auth.auth_url),
                ("clientId", &auth.client_id),
                ("clientSecret", &auth.client_secret),
            ];
            for (name, value) in optional {
                if let Some(value) = value {
                    details.insert(name.into(), json!(value));
                }
            }
            record["authDetails"] = Value::Object(details);
        }
        record
    }
}

pub fn fault(field: &str, description: impl Into<String>) -> WalmartFault {
    WalmartFault::bad_request(FAULT_CODE, field, description)
}

pub fn not_found(id: &str) -> WalmartFault {
    WalmartFault::new(
        StatusCode::NOT_FOUND,
        "CONTENT_NOT_FOUND.GMP_WEBHOOKS_API",
        format!("Subscription {id} was not found"),
    )
}

/// A string member: `Ok(None)` when absent, a 400 when present but not a non-empty string.
fn string_member(object: &Map<String, Value>, name: &str, at: &str) -> Result<Option<String>, WalmartFault> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        // Kept as sent: a secret's spaces are part of its key.
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.clone())),
        Some(_) => Err(fault(
            &format!("{at}{name}"),
            format!("{name} must be a non-empty string"),
        )),
    }
}

fn required_member(object: &Map<String, Value>, name: &str, at: &str) -> Result<String, WalmartFault> {
    string_member(object, name, at)?
        .ok_or_else(|| fault(&format!("{at}{name}"), format!("{name} is required")))
}

/// An https URL with a host; plain http only to this machine (the local runner's receiver).
pub fn check_url(raw: &str, field: &str) -> Result<String, WalmartFault> {
    let parsed = url::Url::parse(raw).map_err(|e| fault(field, format!("{raw:?} is not a URL: {e}")))?;
    let Some(host) = parsed.host_str() else {
        return Err(fault(field, format!("{raw:?} has no host")));
    };
    let loopback = matches!(host, "localhost" | "127.0.0.1" | "[::1]" | "::1");
    match parsed.scheme() {
        "https" => {}
        "http" if loopback => {}
        other => {
            return Err(fault(
                field,
                format!("{raw:?}: the destination must be https (got {other})"),
            ));
        }
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(fault(field, "credentials go in authDetails, not in the URL"));
    }
    Ok(raw.to_owned())
}

/// `authDetails`: absent means an unprotected URL; present, its method must have what it needs.
pub fn parse_auth(value: Option<&Value>, at: &str) -> Result<Option<AuthDetails>, WalmartFault> {
    let at = format!("{at}authDetails.");
    let object = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(object)) => object,
        Some(_) => return Err(fault(&at, "authDetails must be an object")),
    };
    let method = match required_member(object, "authMethod", &at)?.as_str() {
        "BASIC_AUTH" => AuthMethod::BasicAuth,
        "HMAC" => AuthMethod::Hmac,
        "OAUTH" => AuthMethod::OAuth,
        other => {
            return Err(fault(
                &format!("{at}authMethod"),
                format!("authMethod {other:?} is not one of BASIC_AUTH, OAUTH, HMAC"),
            ));
        }
    };
    let mut details = AuthDetails {
        method,
        user_name: string_member(object, "userName", &at)?,
        password: string_member(object, "password", &at)?,
        header_name: string_member(object, "authHeaderName", &at)?.unwrap_or_default(),
        auth_url: string_member(object, "authUrl", &at)?,
        client_id: string_member(object, "clientId", &at)?,
        client_secret: string_member(object, "clientSecret", &at)?,
    };
    let need = |value: &Option<String>, name: &str| {
        if value.is_none() {
            Err(fault(
                &format!("{at}{name}"),
                format!("{name} is required with authMethod {}", method.as_str()),
            ))
        } else {
            Ok(())
        }
    };
    match method {
        AuthMethod::BasicAuth => {
            need(&details.user_name, "userName")?;
            need(&details.password, "password")?;
            if details.header_name.is_empty() {
                details.header_name = "Authorization".to_owned();
            }
        }
        AuthMethod::Hmac => {
            need(&details.client_secret, "clientSecret")?;
            if details.header_name.is_empty() {
                return Err(fault(
                    &format!("{at}authHeaderName"),
                    "authHeaderName is required with authMethod HMAC",
                ));
            }
        }
        AuthMethod::OAuth => {
            need(&details.auth_url, "authUrl")?;
            need(&details.client_id, "clientId")?;
            need(&details.client_secret, "clientSecret")?;
            if let Some(url) = &details.auth_url {
                check_url(url, &format!("{at}authUrl"))?;
            }
            if details.header_name.is_empty() {
                details.header_name = "Authorization".to_owned();
            }
        }
    }
    if axum::http::HeaderName::from_bytes(details.header_name.as_bytes()).is_err() {
        return Err(fault(
            &format!("{at}authHeaderName"),
            format!("{:?} is not a header name", details.header_name),
        ));
    }
    Ok(Some(details))
}

/// `headers`: an object of string values that are valid HTTP headers.
pub fn parse_headers(value: Option<&Value>, at: &str) -> Result<BTreeMap<String, String>, WalmartFault> {
    let field = format!("{at}headers");
    let object = match value {
        None | Some(Value::Null) => return Ok(BTreeMap::new()),
        Some(Value::Object(object)) => object,
        Some(_) => return Err(fault(&field, "headers must be an object")),
    };
    let mut headers = BTreeMap::new();
    for (name, value) in object {
        let Some(value) = value.as_str() else {
            return Err(fault(&field, format!("header {name:?} must be a string")));
        };
        if axum::http::HeaderName::from_bytes(name.as_bytes()).is_err()
            || axum::http::HeaderValue::from_str(value).is_err()
        {
            return Err(fault(
                &field,
                format!("header {name:?} is not a valid HTTP header"),
            ));
        }
        headers.insert(name.clone(), value.to_owned());
    }
    Ok(headers)
}

/// The event type, version and resource of a request: a known type that is still offered, with
/// its own version and resource.
pub fn check_event_type(
    object: &Map<String, Value>,
    at: &str,
    now: Timestamp,
) -> Result<&'static EventTypeSpec, WalmartFault> {
    let name = required_member(object, "eventType", at)?;
    let version = required_member(object, "eventVersion", at)?;
    let resource = required_member(object, "resourceName", at)?;
    let spec = event_type(&name)
        .filter(|spec| spec.available(now))
        .ok_or_else(|| {
            fault(
                &format!("{at}eventType"),
                format!("eventType {name:?} is not offered (GET /v3/webhooks/eventTypes lists them)"),
            )
        })?;
    if version != spec.event_version {
        return Err(fault(
            &format!("{at}eventVersion"),
            format!(
                "eventVersion {version:?} is not offered for {name} (use {})",
                spec.event_version
            ),
        ));
    }
    if resource != spec.resource_name {
        return Err(fault(
            &format!("{at}resourceName"),
            format!(
                "resourceName {resource:?} does not go with {name} (use {})",
                spec.resource_name
            ),
        ));
    }
    Ok(spec)
}

pub fn parse_status(
    object: &Map<String, Value>,
    at: &str,
    required: bool,
) -> Result<Option<SubscriptionStatus>, WalmartFault> {
    let value = if required {
        Some(required_member(object, "status", at)?)
    } else {
        string_member(object, "status", at)?
    };
    value
        .map(|raw| match raw.as_str() {
            "ACTIVE" => Ok(SubscriptionStatus::Active),
            "INACTIVE" => Ok(SubscriptionStatus::Inactive),
            other => Err(fault(
                &format!("{at}status"),
                format!("status {other:?} is not ACTIVE or INACTIVE"),
            )),
        })
        .transpose()
}

/// The destination of a create or test request: event type, URL, headers and auth.
pub struct Destination {
    pub event_type: &'static EventTypeSpec,
    pub event_url: String,
    pub headers: BTreeMap<String, String>,
    pub auth: Option<AuthDetails>,
}

pub fn parse_destination(
    object: &Map<String, Value>,
    at: &str,
    now: Timestamp,
) -> Result<Destination, WalmartFault> {
    let event_type = check_event_type(object, at, now)?;
    let url = required_member(object, "eventUrl", at)?;
    Ok(Destination {
        event_type,
        event_url: check_url(&url, &format!("{at}eventUrl"))?,
        headers: parse_headers(object.get("headers"), at)?,
        auth: parse_auth(object.get("authDetails"), at)?,
    })
}
