//! `walmart_events`: Walmart's `ORDER_UPDATES` notifications, received and acted on.
//!
//! **Receiver** ([`receive`], the `walmart-events` function behind its Function URL, declared by
//! [`DECLARATION`]): each delivery is checked (method, size, authentication, content type,
//! envelope) and answered at once after one queue send, with no Walmart or Commerce call: Walmart
//! wants a quick 2xx and retries anything else. `PO_CREATED` goes to order-import's event queue
//! ([`OrderEvent`]); `PO_LINE_AUTOCANCELLED`, `FRAUD_CANCEL` and `INTENT_TO_CANCEL` to
//! cancellation-sync's ([`CancelEvent`]). A sub-event (or event type) the channel does not know is
//! accepted, counted and ignored: Walmart adds sub-events.
//!
//! **Consumers** ([`handle_order_event`], [`handle_cancel_event`]): the event is a summary, so the
//! order is read from Walmart first (`GET /v3/orders/{purchaseOrderId}`), then it goes through the
//! same one-order code as the polls (`order_intake`, the shared step that records and queues an
//! order; cancellation-sync's Walmart → Commerce direction). Walmart delivers at least once and in
//! any order: each event is acted on once, under the claim `walmart-event#{channel}#{eventId}`;
//! what was already done (by the poll or an earlier event) is found on the order record and not
//! done again, whichever came first.

use base64::Engine as _;
use domain::PurchaseOrderId;
use hmac::{Hmac, KeyInit, Mac};
use ports::webhooks::{ORDER_UPDATES, WebhookAuth};
use ports::{Deadline, QueueName, StoreCall, WorkQueue};
use serde::Deserialize;
use sha2::Sha256;

use crate::claim::{AfterWork, ClaimKind, Claimed, with_claim};
use crate::declaration::{Declaration, UrlAuth};
use crate::messages::{CancelEvent, OrderEvent, QueueMessage, Received, WalmartEvent};
use crate::order_intake::{EventImport, import_by_id};
use crate::{Channel, OpError};

/// The queues the receiver sends to: new orders to order-import, cancellations to
/// cancellation-sync.
pub const SENDS_TO: &[QueueName] = &[OrderEvent::QUEUE, CancelEvent::QUEUE];

/// The receiver's wiring: a public Function URL (it authenticates every delivery itself), the two
/// event queues, and no state table (nothing but one queue send per delivery).
pub const DECLARATION: Declaration = Declaration {
    function: "walmart-events",
    consumes: None,
    scheduled: false,
    function_url: Some(UrlAuth::None),
    sends_to: SENDS_TO,
    store_calls: &[] as &[StoreCall],
};

/// Largest delivery accepted: SQS's message limit, which the queued message must fit.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Sub-events routed to order-import.
pub const ORDER_SUB_EVENTS: [&str; 1] = ["PO_CREATED"];
/// Sub-events routed to cancellation-sync.
pub const CANCEL_SUB_EVENTS: [&str; 3] = ["PO_LINE_AUTOCANCELLED", "FRAUD_CANCEL", "INTENT_TO_CANCEL"];

/// One HTTP request as the receiver gets it (from a Function URL event or a local server).
#[derive(Debug, Clone, Default)]
pub struct HttpDelivery {
    pub method: String,
    /// Header names as sent; looked up case-insensitively.
    pub headers: Vec<(String, String)>,
    /// The exact body bytes (what the HMAC covers).
    pub body: Vec<u8>,
}

impl HttpDelivery {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why a delivery was refused; nothing was queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    Method,
    TooLarge {
        bytes: usize,
    },
    ContentType,
    Unauthenticated,
    /// Not an `ORDER_UPDATES` notification the channel can read (what is wrong, for the log).
    Malformed(String),
    /// The queue did not take it (the queue's error, for the log): Walmart retries.
    NotQueued(String),
}

/// What the receiver did with a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Queued {
        queue: QueueName,
        sub_event: String,
    },
    /// Authentic, well formed, and nothing for the channel (an unknown sub-event or event type,
    /// Walmart's test notification).
    Ignored {
        event_type: String,
        sub_event: Option<String>,
    },
    Rejected(Rejection),
}

impl Outcome {
    /// The HTTP status of the answer.
    pub fn status(&self) -> u16 {
        match self {
            Outcome::Queued { .. } | Outcome::Ignored { .. } => 200,
            Outcome::Rejected(Rejection::Method) => 405,
            Outcome::Rejected(Rejection::TooLarge { .. }) => 413,
            Outcome::Rejected(Rejection::ContentType) => 415,
            Outcome::Rejected(Rejection::Unauthenticated) => 401,
            Outcome::Rejected(Rejection::Malformed(_)) => 400,
            Outcome::Rejected(Rejection::NotQueued(_)) => 503,
        }
    }

    /// The answer's JSON body: short, and never an echo of what was sent.
    pub fn body(&self) -> String {
        let message = match self {
            Outcome::Queued { .. } => "accepted",
            Outcome::Ignored { .. } => "accepted and ignored",
            Outcome::Rejected(Rejection::Method) => "POST only",
            Outcome::Rejected(Rejection::TooLarge { .. }) => "body larger than 256 KB",
            Outcome::Rejected(Rejection::ContentType) => "content type must be application/json",
            Outcome::Rejected(Rejection::Unauthenticated) => "not authenticated",
            Outcome::Rejected(Rejection::Malformed(_)) => "not an ORDER_UPDATES notification",
            Outcome::Rejected(Rejection::NotQueued(_)) => "temporarily unavailable",
        };
        serde_json::json!({ "message": message }).to_string()
    }

    /// A short name for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Outcome::Queued { .. } => "queued",
            Outcome::Ignored { .. } => "ignored",
            Outcome::Rejected(Rejection::Method) => "wrong_method",
            Outcome::Rejected(Rejection::TooLarge { .. }) => "too_large",
            Outcome::Rejected(Rejection::ContentType) => "wrong_content_type",
            Outcome::Rejected(Rejection::Unauthenticated) => "unauthenticated",
            Outcome::Rejected(Rejection::Malformed(_)) => "malformed",
            Outcome::Rejected(Rejection::NotQueued(_)) => "not_queued",
        }
    }
}

/// Handles one delivery: checks it and queues it (one send), or refuses it.
pub async fn receive(auth: &WebhookAuth, queues: &dyn WorkQueue, delivery: &HttpDelivery) -> Outcome {
    let routed = match check(auth, delivery) {
        Ok(routed) => routed,
        Err(rejection) => {
            tracing::warn!(?rejection, "Walmart delivery refused");
            return Outcome::Rejected(rejection);
        }
    };
    let (event, queue, encoded) = match routed {
        Routed::Order(event) => (event.clone(), OrderEvent::QUEUE, OrderEvent(event).encode()),
        Routed::Cancel(event) => (event.clone(), CancelEvent::QUEUE, CancelEvent(event).encode()),
        Routed::Ignore {
            event_type,
            sub_event,
        } => {
            tracing::info!(%event_type, sub_event = sub_event.as_deref().unwrap_or(""), metric = "WalmartEventsIgnored", "Walmart event ignored");
            return Outcome::Ignored {
                event_type,
                sub_event,
            };
        }
    };
    let sent = match encoded {
        Ok(message) => queues.send(queue, message).await.map_err(OpError::from),
        Err(e) => Err(e),
    };
    match sent {
        Ok(()) => {
            tracing::info!(event_id = %event.event_id, sub_event = %event.sub_event, purchase_order = %event.purchase_order_id, "Walmart event queued");
            Outcome::Queued {
                queue,
                sub_event: event.sub_event,
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "Walmart event not queued; Walmart retries it");
            Outcome::Rejected(Rejection::NotQueued(e.to_string()))
        }
    }
}

enum Routed {
    Order(WalmartEvent),
    Cancel(WalmartEvent),
    Ignore {
        event_type: String,
        sub_event: Option<String>,
    },
}

fn check(auth: &WebhookAuth, delivery: &HttpDelivery) -> Result<Routed, Rejection> {
    if !delivery.method.eq_ignore_ascii_case("POST") {
        return Err(Rejection::Method);
    }
    if delivery.body.len() > MAX_BODY_BYTES {
        return Err(Rejection::TooLarge {
            bytes: delivery.body.len(),
        });
    }
    if !authenticated(auth, delivery) {
        return Err(Rejection::Unauthenticated);
    }
    let json_type = delivery.header("content-type").is_some_and(|t| {
        t.split(';')
            .next()
            .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
    });
    if !json_type {
        return Err(Rejection::ContentType);
    }
    route(&delivery.body)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    source: Source,
    #[serde(default)]
    payload: Option<Payload>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Source {
    event_type: String,
    event_id: String,
    #[serde(default)]
    event_time: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    #[serde(default)]
    sub_event_type: Option<String>,
    #[serde(default)]
    order: Option<serde_json::Value>,
}

/// Reads the envelope and picks the queue.
fn route(body: &[u8]) -> Result<Routed, Rejection> {
    let envelope: Envelope =
        serde_json::from_slice(body).map_err(|e| Rejection::Malformed(format!("envelope: {e}")))?;
    let source = envelope.source;
    if source.event_id.trim().is_empty() {
        return Err(Rejection::Malformed("empty source.eventId".into()));
    }
    if source.event_type != ORDER_UPDATES {
        return Ok(Routed::Ignore {
            event_type: source.event_type,
            sub_event: None,
        });
    }
    let payload = envelope
        .payload
        .ok_or_else(|| Rejection::Malformed("ORDER_UPDATES without payload".into()))?;
    let sub_event = payload
        .sub_event_type
        .ok_or_else(|| Rejection::Malformed("ORDER_UPDATES without payload.subEventType".into()))?;
    let for_orders = ORDER_SUB_EVENTS.contains(&sub_event.as_str());
    if !for_orders && !CANCEL_SUB_EVENTS.contains(&sub_event.as_str()) {
        return Ok(Routed::Ignore {
            event_type: source.event_type,
            sub_event: Some(sub_event),
        });
    };
    let po = payload
        .order
        .as_ref()
        .and_then(|o| o.get("purchaseOrderId"))
        .and_then(|id| match id {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .ok_or_else(|| Rejection::Malformed(format!("{sub_event} without payload.order.purchaseOrderId")))?;
    let purchase_order_id =
        PurchaseOrderId::new(po).map_err(|e| Rejection::Malformed(format!("purchaseOrderId: {e}")))?;
    let event = WalmartEvent {
        event_id: source.event_id,
        sub_event,
        purchase_order_id,
        event_time: source.event_time,
    };
    Ok(if for_orders {
        Routed::Order(event)
    } else {
        Routed::Cancel(event)
    })
}

/// Whether the delivery carries the subscription's credentials. Compared in constant time.
pub fn authenticated(auth: &WebhookAuth, delivery: &HttpDelivery) -> bool {
    let Some(presented) = delivery.header(auth.header_name()) else {
        return false;
    };
    match auth {
        WebhookAuth::Hmac { client_secret, .. } => {
            let Ok(signature) = base64::engine::general_purpose::STANDARD.decode(presented.trim()) else {
                return false;
            };
            let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(client_secret.expose().as_bytes()) else {
                return false;
            };
            mac.update(&delivery.body);
            mac.verify_slice(&signature).is_ok()
        }
        WebhookAuth::Basic {
            user_name, password, ..
        } => {
            let expected = basic_credentials(user_name, password.expose());
            constant_time_eq(presented.trim().as_bytes(), expected.as_bytes())
        }
    }
}

/// The header value of an HMAC delivery: base64 of HMAC-SHA256 over the body, keyed with the
/// secret (what Walmart's sandbox sends, and tests sign with).
pub fn hmac_signature(secret: &str, body: &[u8]) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        // HMAC takes keys of any length; unreachable, and an empty signature never verifies.
        Err(_) => return String::new(),
    };
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// `Basic base64(user:password)`.
pub fn basic_credentials(user_name: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user_name}:{password}"))
    )
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The receiver's authentication from the channel's push settings; `None` when push is not set
/// up (no secret).
pub fn receiver_auth(settings: &domain::PushSettings) -> Option<WebhookAuth> {
    let secret = settings.secret.clone()?;
    Some(match settings.auth_method {
        domain::PushAuthMethod::Hmac => WebhookAuth::Hmac {
            header_name: settings.auth_header_name.clone(),
            client_secret: secret,
        },
        domain::PushAuthMethod::BasicAuth => WebhookAuth::Basic {
            header_name: settings.auth_header_name.clone(),
            user_name: settings.basic_user_name.clone().unwrap_or_default(),
            password: secret,
        },
    })
}

// ------------------------------------------------------------------ consumers

/// order-import's event queue: a `PO_CREATED` puts the order on order-create's path (recorded,
/// acknowledged by the policy and queued for creation, as the poll does it).
pub async fn handle_order_event(
    ch: &Channel,
    message: &Received<OrderEvent>,
    deadline: &Deadline,
) -> Result<(), OpError> {
    let event = &message.body.0;
    once_per_event(ch, event, deadline, || async {
        let imported: EventImport = import_by_id(ch, &event.purchase_order_id, deadline).await?;
        tracing::info!(event_id = %event.event_id, purchase_order = %event.purchase_order_id, ?imported, "order event handled");
        Ok(())
    })
    .await
}

/// cancellation-sync's event queue: a Walmart-side cancellation or cancel request reaches Commerce
/// through the poll's one-order code (`commerce_cancellation::reflect_walmart_order`).
pub async fn handle_cancel_event(
    ch: &Channel,
    message: &Received<CancelEvent>,
    deadline: &Deadline,
) -> Result<(), OpError> {
    let event = &message.body.0;
    once_per_event(ch, event, deadline, || async {
        let reflection =
            crate::commerce_cancellation::reflect_walmart_order(ch, &event.purchase_order_id, deadline).await?;
        tracing::info!(event_id = %event.event_id, sub_event = %event.sub_event, purchase_order = %event.purchase_order_id, ?reflection, "cancellation event handled");
        Ok(())
    })
    .await
}

/// Runs `work` once per `source.eventId`: a duplicate of a handled event is dropped; one whose
/// first copy is being handled elsewhere fails as busy, so its message comes back later.
async fn once_per_event<F, Fut>(
    ch: &Channel,
    event: &WalmartEvent,
    deadline: &Deadline,
    work: F,
) -> Result<(), OpError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<(), OpError>>,
{
    let claimed = with_claim(
        ch,
        ClaimKind::WalmartEvent,
        &event.event_id,
        deadline,
        |_lease| async {
            work().await?;
            Ok(AfterWork::Complete(
                (),
                serde_json::json!({ "sub_event": event.sub_event }),
            ))
        },
    )
    .await?;
    match claimed {
        // Taken over under the work: the work is idempotent, so the new holder repeating it is fine.
        Claimed::Ran(()) | Claimed::Lost => Ok(()),
        Claimed::Done => {
            tracing::info!(event_id = %event.event_id, metric = "WalmartEventDuplicates", "duplicate Walmart event dropped");
            Ok(())
        }
        Claimed::HeldElsewhere { .. } => Err(OpError::Busy(format!("Walmart event {}", event.event_id))),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    fn hmac_auth() -> WebhookAuth {
        WebhookAuth::Hmac {
            header_name: "X-Walmart-Signature".into(),
            client_secret: domain::WebhookSecret::new("k"),
        }
    }

    fn delivery(body: &str, signature: &str) -> HttpDelivery {
        HttpDelivery {
            method: "POST".into(),
            headers: vec![
                ("Content-Type".into(), "application/json; charset=utf-8".into()),
                ("x-walmart-signature".into(), signature.into()),
            ],
            body: body.as_bytes().to_vec(),
        }
    }

    const PO_CREATED: &str = r#"{"source":{"eventType":"ORDER_UPDATES","eventFilters":null,"eventTime":"2026-12-06T10:00:00Z","eventId":"e-1"},"payload":{"subEventType":"PO_CREATED","order":{"purchaseOrderId":"1796000000001"}},"meta":{}}"#;

    #[test]
    fn signed_deliveries_route_by_sub_event_and_forged_ones_do_not_authenticate() {
        let auth = hmac_auth();
        let signed = delivery(PO_CREATED, &hmac_signature("k", PO_CREATED.as_bytes()));
        assert!(authenticated(&auth, &signed));
        let Ok(Routed::Order(event)) = check(&auth, &signed) else {
            panic!("routed to order-import");
        };
        assert_eq!(event.purchase_order_id.as_str(), "1796000000001");
        assert_eq!(event.event_id, "e-1");
        let forged = delivery(PO_CREATED, &hmac_signature("other", PO_CREATED.as_bytes()));
        assert!(!authenticated(&auth, &forged));
        let tampered_body = PO_CREATED.replace("0001", "0002");
        let tampered = delivery(&tampered_body, &hmac_signature("k", PO_CREATED.as_bytes()));
        assert!(!authenticated(&auth, &tampered));
    }

    #[test]
    fn basic_auth_compares_the_whole_header() {
        let auth = WebhookAuth::Basic {
            header_name: "Authorization".into(),
            user_name: "walmart".into(),
            password: domain::WebhookSecret::new("pw"),
        };
        let mut d = delivery(PO_CREATED, "");
        d.headers[1] = ("authorization".into(), basic_credentials("walmart", "pw"));
        assert!(authenticated(&auth, &d));
        d.headers[1].1 = basic_credentials("walmart", "px");
        assert!(!authenticated(&auth, &d));
    }
}
