//! Notifications (`/v3/webhooks`): the channel's subscriptions and Walmart's test notification
//! (`shared/reference/walmart-openapi/notifications.json`).
//!
//! The spec's schemas and its examples disagree on the list's shape (`events[].event[]` against a
//! flat `events[]`) and on the create answer's key (`event` against `events`): both are read.

use ports::Deadline;
use ports::webhooks::{Subscription, SubscriptionRequest, WebhookAuth};
use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::client::{Call, WalmartClient};
use crate::endpoint::Endpoint;
use crate::error::WalmartError;

const SUBSCRIPTIONS: &str = "/v3/webhooks/subscriptions";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireAuthDetails<'a> {
    auth_method: &'a str,
    auth_header_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    password: Option<&'a str>,
}

#[derive(Serialize)]
struct WireHeaders {
    #[serde(rename = "content-type")]
    content_type: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireSubscriptionRequest<'a> {
    event_type: &'a str,
    event_version: &'a str,
    resource_name: &'a str,
    event_url: &'a str,
    auth_details: WireAuthDetails<'a>,
    headers: WireHeaders,
    status: &'a str,
}

impl<'a> WireSubscriptionRequest<'a> {
    fn from(request: &'a SubscriptionRequest) -> Self {
        let auth_details = match &request.auth {
            WebhookAuth::Hmac {
                header_name,
                client_secret,
            } => WireAuthDetails {
                auth_method: "HMAC",
                auth_header_name: header_name,
                client_secret: Some(client_secret.expose()),
                user_name: None,
                password: None,
            },
            WebhookAuth::Basic {
                header_name,
                user_name,
                password,
            } => WireAuthDetails {
                auth_method: "BASIC_AUTH",
                auth_header_name: header_name,
                client_secret: None,
                user_name: Some(user_name),
                password: Some(password.expose()),
            },
        };
        Self {
            event_type: &request.event_type,
            event_version: &request.event_version,
            resource_name: &request.resource_name,
            event_url: &request.event_url,
            auth_details,
            headers: WireHeaders {
                content_type: "application/json",
            },
            status: &request.status,
        }
    }
}

/// The update: what a subscription may change (its event type and resource stay).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireUpdate<'a> {
    event_version: &'a str,
    event_url: &'a str,
    auth_details: WireAuthDetails<'a>,
    headers: WireHeaders,
    status: &'a str,
}

#[derive(Serialize)]
struct WireCreate<'a> {
    events: Vec<WireSubscriptionRequest<'a>>,
}

/// The test notification's body: one subscription's fields, without `status`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireTest<'a> {
    event_type: &'a str,
    event_version: &'a str,
    resource_name: &'a str,
    event_url: &'a str,
    auth_details: WireAuthDetails<'a>,
    headers: WireHeaders,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct WireAuthShown {
    #[serde(default)]
    auth_method: Option<String>,
    #[serde(default)]
    auth_header_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireSubscription {
    #[serde(default)]
    subscription_id: Option<String>,
    #[serde(default)]
    event_type: Option<String>,
    #[serde(default)]
    event_version: Option<String>,
    #[serde(default)]
    resource_name: Option<String>,
    #[serde(default)]
    event_url: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    auth_details: Option<WireAuthShown>,
}

/// A list or create answer: `events` (examples) or `event` (schemas), each entry a subscription
/// or a group `{ "event": [...] }`.
#[derive(Deserialize, Default)]
struct WireSubscriptions {
    #[serde(default)]
    events: Vec<serde_json::Value>,
    #[serde(default)]
    event: Vec<serde_json::Value>,
}

impl WireSubscriptions {
    fn into_subscriptions(self) -> Vec<Subscription> {
        let mut flat = Vec::new();
        for entry in self.events.into_iter().chain(self.event) {
            match entry.get("event").and_then(|e| e.as_array()) {
                Some(group) => flat.extend(group.iter().cloned()),
                None => flat.push(entry),
            }
        }
        flat.into_iter()
            .filter_map(|v| serde_json::from_value::<WireSubscription>(v).ok())
            .filter_map(|w| {
                let auth = w.auth_details.unwrap_or_default();
                Some(Subscription {
                    subscription_id: w.subscription_id?,
                    event_type: w.event_type?,
                    event_version: w.event_version,
                    resource_name: w.resource_name,
                    event_url: w.event_url,
                    status: w.status,
                    auth_method: auth.auth_method,
                    auth_header_name: auth.auth_header_name,
                })
            })
            .collect()
    }
}

#[derive(Deserialize)]
struct WireMessage {
    #[serde(default)]
    #[allow(dead_code)]
    message: Option<String>,
}

fn subscription_path(subscription_id: &str) -> String {
    format!(
        "{SUBSCRIPTIONS}/{}",
        percent_encoding::utf8_percent_encode(subscription_id, percent_encoding::NON_ALPHANUMERIC)
    )
}

impl WalmartClient {
    /// `GET /v3/webhooks/subscriptions`: every subscription of the seller.
    pub async fn list_subscriptions(&self, deadline: &Deadline) -> Result<Vec<Subscription>, WalmartError> {
        let call = Call::get(Endpoint::ListSubscriptions, SUBSCRIPTIONS.to_owned());
        let answer: WireSubscriptions = self.execute(&call, deadline).await?;
        Ok(answer.into_subscriptions())
    }

    /// `POST /v3/webhooks/subscriptions`: creates one subscription; returns its id.
    pub async fn create_subscription(
        &self,
        request: &SubscriptionRequest,
        deadline: &Deadline,
    ) -> Result<String, WalmartError> {
        let body = WireCreate {
            events: vec![WireSubscriptionRequest::from(request)],
        };
        let call = Call::get(Endpoint::CreateSubscription, SUBSCRIPTIONS.to_owned())
            .with_method(Method::POST)
            .with_key(&request.event_type)
            .with_json(&body)?;
        let answer: WireSubscriptions = self.execute(&call, deadline).await?;
        let created = answer.into_subscriptions();
        created
            .iter()
            .find(|s| s.event_type == request.event_type)
            .or(created.first())
            .map(|s| s.subscription_id.clone())
            .ok_or_else(|| WalmartError::Malformed {
                endpoint: Endpoint::CreateSubscription,
                context: "no subscriptionId in the answer".into(),
            })
    }

    /// `PATCH /v3/webhooks/subscriptions/{subscriptionId}`.
    pub async fn update_subscription(
        &self,
        subscription_id: &str,
        request: &SubscriptionRequest,
        deadline: &Deadline,
    ) -> Result<(), WalmartError> {
        let full = WireSubscriptionRequest::from(request);
        let body = WireUpdate {
            event_version: full.event_version,
            event_url: full.event_url,
            auth_details: full.auth_details,
            headers: full.headers,
            status: full.status,
        };
        let call = Call::get(Endpoint::UpdateSubscription, subscription_path(subscription_id))
            .with_method(Method::PATCH)
            .with_key(subscription_id)
            .with_json(&body)?;
        // The updated subscription, flat (sandbox) or listed (the spec): only its arrival matters.
        let _: serde_json::Value = self.execute(&call, deadline).await?;
        Ok(())
    }

    /// `DELETE /v3/webhooks/subscriptions/{subscriptionId}`.
    pub async fn delete_subscription(
        &self,
        subscription_id: &str,
        deadline: &Deadline,
    ) -> Result<(), WalmartError> {
        let call = Call::get(Endpoint::DeleteSubscription, subscription_path(subscription_id))
            .with_method(Method::DELETE)
            .with_key(subscription_id);
        let _: WireMessage = self.execute(&call, deadline).await?;
        Ok(())
    }

    /// `POST /v3/webhooks/test`: Walmart sends a sample notification to the URL with the auth
    /// given; an error when the destination did not accept it.
    pub async fn test_notification(
        &self,
        request: &SubscriptionRequest,
        deadline: &Deadline,
    ) -> Result<(), WalmartError> {
        let full = WireSubscriptionRequest::from(request);
        let body = WireTest {
            event_type: full.event_type,
            event_version: full.event_version,
            resource_name: full.resource_name,
            event_url: full.event_url,
            auth_details: full.auth_details,
            headers: full.headers,
        };
        let call = Call::get(Endpoint::TestNotification, "/v3/webhooks/test".to_owned())
            .with_method(Method::POST)
            .with_key(&request.event_type)
            .with_json(&body)?;
        let _: WireMessage = self.execute(&call, deadline).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_list_shapes_read() {
        let flat: WireSubscriptions = serde_json::from_str(
            r#"{"events":[{"eventType":"PO_CREATED","subscriptionId":"a","eventUrl":"https://x/","status":"ACTIVE","authDetails":{"authMethod":"BASIC_AUTH","authHeaderName":"Authorization"}}]}"#,
        )
        .unwrap();
        let flat = flat.into_subscriptions();
        assert_eq!(flat[0].subscription_id, "a");
        assert_eq!(flat[0].auth_method.as_deref(), Some("BASIC_AUTH"));
        let grouped: WireSubscriptions = serde_json::from_str(
            r#"{"events":[{"event":[{"eventType":"ORDER_UPDATES","subscriptionId":"b"}]}]}"#,
        )
        .unwrap();
        assert_eq!(grouped.into_subscriptions()[0].event_type, "ORDER_UPDATES");
        let created: WireSubscriptions =
            serde_json::from_str(r#"{"event":[{"eventType":"ORDER_UPDATES","subscriptionId":"c"}]}"#)
                .unwrap();
        assert_eq!(created.into_subscriptions()[0].subscription_id, "c");
    }
}
