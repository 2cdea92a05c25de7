//! Walmart's notifications in the sandbox: the subscriptions API (strict, and every exchange valid
//! against notifications.json), and order events delivered to a receiver in the test that checks
//! their signatures, with retries, duplicates, out-of-order delivery and dropped events.
//!
//! Time: a `ManualClock` drives the sandbox; the sender looks at it every few milliseconds, so a
//! test advances it and then waits (wall clock, bounded) for the outcome it expects. Every fault
//! choice comes from the seed, so outcomes never depend on timing.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use base64::Engine;
use domain::{Money, Timestamp};
use ports::ManualClock;
use serde_json::{Value, json};
use walmart_sandbox::{
    ControlClient, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DeliveryAttempt, DeliveryOutcome, NewOrder,
    NewOrderLine, RunningSandbox, SandboxSettings, ShipToSpec, WalmartSandbox, basic_credentials,
    hmac_signature,
};

const START: Timestamp = Timestamp::from_millis(1_764_237_600_000);
const SECRET: &str = "receiver-hmac-secret";
const SIGNATURE_HEADER: &str = "WM-Signature";

// ---------------------------------------------------------------- a receiver

/// What the receiver answers to one request.
#[derive(Debug, Clone, Copy)]
enum Answer {
    Status(u16),
    /// Never answers (the sandbox times out).
    Hang,
}

#[derive(Debug, Clone)]
struct Delivery {
    headers: BTreeMap<String, String>,
    body: Bytes,
}

impl Delivery {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("delivery body is JSON")
    }

    fn event_id(&self) -> String {
        self.json()["source"]["eventId"]
            .as_str()
            .expect("eventId")
            .to_owned()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(&name.to_ascii_lowercase()).map(String::as_str)
    }
}

#[derive(Default)]
struct ReceiverState {
    deliveries: Mutex<Vec<Delivery>>,
    /// Answers to the next requests, in order; 200 once empty.
    plan: Mutex<VecDeque<Answer>>,
    token_requests: Mutex<Vec<Delivery>>,
}

struct Receiver {
    url: String,
    state: Arc<ReceiverState>,
    server: sandbox_kit::RunningServer,
}

/// Header names (lower case) with their values, repeated ones joined with ", ".
fn header_map(headers: &HeaderMap) -> BTreeMap<String, String> {
    headers
        .keys()
        .map(|name| {
            let values: Vec<&str> = headers
                .get_all(name)
                .iter()
                .map(|v| v.to_str().unwrap_or_default())
                .collect();
            (name.as_str().to_owned(), values.join(", "))
        })
        .collect()
}

async fn receive(
    State(state): State<Arc<ReceiverState>>,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    let headers = header_map(&headers);
    state
        .deliveries
        .lock()
        .expect("lock")
        .push(Delivery { headers, body });
    let answer = state.plan.lock().expect("lock").pop_front();
    match answer.unwrap_or(Answer::Status(200)) {
        Answer::Status(code) => StatusCode::from_u16(code).expect("status").into_response(),
        Answer::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::OK.into_response()
        }
    }
}

/// An OAuth token endpoint: records the request, answers a token.
async fn issue_token(
    State(state): State<Arc<ReceiverState>>,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    let headers = header_map(&headers);
    state
        .token_requests
        .lock()
        .expect("lock")
        .push(Delivery { headers, body });
    axum::Json(json!({ "access_token": "receiver-token", "token_type": "Bearer", "expires_in": 3600 }))
        .into_response()
}

impl Receiver {
    async fn start() -> Self {
        let state = Arc::new(ReceiverState::default());
        let router = axum::Router::new()
            .route("/events", axum::routing::post(receive))
            .route("/token", axum::routing::post(issue_token))
            .with_state(state.clone());
        let server = sandbox_kit::serve(router, "127.0.0.1:0".parse().expect("address"))
            .await
            .expect("receiver starts");
        Self {
            url: format!("{}/events", server.base_url()),
            state,
            server,
        }
    }

    fn plan(&self, answers: &[Answer]) {
        self.state
            .plan
            .lock()
            .expect("lock")
            .extend(answers.iter().copied());
    }

    fn deliveries(&self) -> Vec<Delivery> {
        self.state.deliveries.lock().expect("lock").clone()
    }
}

// ---------------------------------------------------------------- the sandbox

struct Setup {
    sandbox: RunningSandbox,
    control: ControlClient,
    clock: Arc<ManualClock>,
    http: reqwest::Client,
}

async fn setup() -> Setup {
    let clock = Arc::new(ManualClock::at(START));
    let settings = SandboxSettings {
        rate_limits: false,
        ..SandboxSettings::default()
    };
    let sandbox = WalmartSandbox::start(settings, clock.clone(), "127.0.0.1:0".parse().expect("address"))
        .await
        .expect("sandbox starts");
    Setup {
        control: sandbox.control(),
        sandbox,
        clock,
        http: reqwest::Client::new(),
    }
}

impl Setup {
    /// A fresh access token (tests move the clock past a token's 900 s).
    async fn token(&self) -> String {
        let response = self
            .http
            .post(format!("{}/v3/token", self.sandbox.base_url()))
            .header("WM_SVC.NAME", "Walmart Marketplace")
            .header("WM_QOS.CORRELATION_ID", "token")
            .header("Accept", "application/json")
            .header(
                "Authorization",
                basic_credentials(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
            )
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials")
            .send()
            .await
            .expect("token call");
        let token: Value = response.json().await.expect("token json");
        token["access_token"].as_str().expect("token").to_owned()
    }

    /// A Walmart API call with every header the spec requires.
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.sandbox.base_url()))
            .header("WM_SVC.NAME", "Walmart Marketplace")
            .header("WM_QOS.CORRELATION_ID", "webhooks-test")
            .header("Accept", "application/json")
            .header(
                "Authorization",
                basic_credentials(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
            )
            .header("WM_SEC.ACCESS_TOKEN", self.token().await);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn subscribe(&self, entry: Value) -> (u16, Value) {
        self.call(
            reqwest::Method::POST,
            "/v3/webhooks/subscriptions",
            Some(json!({ "events": [entry] })),
        )
        .await
    }

    async fn order(&self, lines: u32) -> String {
        let created = self
            .control
            .create_order(&NewOrder {
                lines: (1..=lines)
                    .map(|n| NewOrderLine {
                        sku: format!("sku-{n}"),
                        quantity: 2,
                        unit_price: Money::from_cents(1000),
                        tax: Money::ZERO,
                        shipping: Money::ZERO,
                        product_name: None,
                    })
                    .collect(),
                ship_to: ship_to(),
                method_code: "Standard".to_owned(),
                order_date: None,
                purchase_order_id: None,
            })
            .await
            .expect("order created");
        created.purchase_order_id
    }

    /// Waits (at most 10 s of wall time) until the delivery log satisfies `done`.
    async fn log_until(&self, what: &str, done: impl Fn(&[DeliveryAttempt]) -> bool) -> Vec<DeliveryAttempt> {
        for _ in 0..2_000 {
            let log = self.control.webhook_deliveries().await.expect("delivery log");
            if done(&log) {
                return log;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let log = self.control.webhook_deliveries().await.expect("delivery log");
        panic!("{what}: not reached; log: {log:#?}");
    }

    /// Nothing was queued for delivery (events are queued as the world changes, so this holds
    /// at once) and nothing is on the wire.
    async fn assert_nothing_queued(&self) {
        let status = self.control.webhook_status().await.expect("status");
        assert_eq!((status.pending, status.in_flight), (0, 0), "{status:?}");
    }

    /// Every recorded exchange against Walmart's specs (notifications.json included): a request
    /// the spec calls invalid must have been refused (4xx), and every answer must be valid.
    fn assert_exchanges_valid(&self) {
        let spec = spec_check::walmart_spec().unwrap_or_else(|e| panic!("Walmart specs: {e}"));
        let exchanges = self.sandbox.recorder().snapshot();
        let report = spec.report(&exchanges);
        let status_of = |seq: u64| exchanges.iter().find(|e| e.seq == seq).map_or(0, |e| e.status);
        let unexplained: Vec<String> = report
            .violations
            .iter()
            .filter(|v| {
                let refused_request =
                    !v.what.starts_with("response") && (400..500).contains(&status_of(v.seq));
                !refused_request
            })
            .map(|v| format!("{v} (answered {})", status_of(v.seq)))
            .collect();
        assert!(
            unexplained.is_empty(),
            "spec violations:\n{}",
            unexplained.join("\n")
        );
        assert!(
            report
                .covered
                .iter()
                .any(|(_, template)| template.starts_with("/v3/webhooks")),
            "the webhook exchanges were checked: {:?}",
            report.covered
        );
    }
}

fn ship_to() -> ShipToSpec {
    ShipToSpec {
        name: "Pat Buyer".to_owned(),
        address1: "1 Main St".to_owned(),
        address2: None,
        city: "Bentonville".to_owned(),
        state: "AR".to_owned(),
        postal_code: "72712".to_owned(),
        country: "USA".to_owned(),
        phone: "5555550100".to_owned(),
    }
}

fn order_updates(url: &str, auth: Value) -> Value {
    json!({
        "eventType": "ORDER_UPDATES",
        "eventVersion": "V1",
        "resourceName": "ORDER",
        "eventUrl": url,
        "authDetails": auth,
        "headers": { "content-type": "application/json" },
        "status": "ACTIVE",
    })
}

fn hmac_auth() -> Value {
    json!({ "authMethod": "HMAC", "clientSecret": SECRET, "authHeaderName": SIGNATURE_HEADER })
}

fn delivered(log: &[DeliveryAttempt]) -> Vec<&DeliveryAttempt> {
    log.iter().filter(|a| a.outcome.delivered()).collect()
}

// ---------------------------------------------------------------- tests

#[tokio::test]
async fn a_new_order_reaches_an_order_updates_subscription_signed_with_hmac() {
    let s = setup().await;
    let receiver = Receiver::start().await;
    let (status, created) = s.subscribe(order_updates(&receiver.url, hmac_auth())).await;
    assert_eq!(status, 200, "{created}");
    let record = &created["events"][0];
    assert_eq!(record["eventType"], "ORDER_UPDATES");
    assert_eq!(record["status"], "ACTIVE");
    assert!(record["subscriptionId"].as_str().is_some_and(|id| !id.is_empty()));

    let po = s.order(2).await;
    let log = s.log_until("one delivery", |log| delivered(log).len() == 1).await;
    assert_eq!(log[0].sub_event_type.as_deref(), Some("PO_CREATED"));
    assert_eq!(log[0].purchase_order_id.as_deref(), Some(po.as_str()));
    assert_eq!(log[0].attempt, 1);

    let deliveries = receiver.deliveries();
    assert_eq!(deliveries.len(), 1);
    let delivery = &deliveries[0];
    // The receiver's check: base64(HMAC-SHA256(secret, raw body)) in the named header.
    let mac = {
        use hmac::{Hmac, KeyInit, Mac};
        let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(SECRET.as_bytes()).expect("key");
        mac.update(&delivery.body);
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    };
    assert_eq!(delivery.header(SIGNATURE_HEADER), Some(mac.as_str()));
    assert_eq!(hmac_signature(SECRET, &delivery.body), mac);
    assert_ne!(
        hmac_signature("another-secret", &delivery.body),
        mac,
        "a forged secret differs"
    );
    assert_eq!(delivery.header("content-type"), Some("application/json"));

    let event = delivery.json();
    assert_eq!(event["source"]["eventType"], "ORDER_UPDATES");
    assert!(event["source"]["eventFilters"].is_null());
    assert_eq!(event["source"]["eventId"], log[0].event_id.as_str());
    let time = event["source"]["eventTime"].as_str().expect("eventTime");
    assert!(time.ends_with('Z'), "UTC: {time}");
    assert_eq!(Timestamp::parse_rfc3339(time).expect("ISO 8601"), START);
    assert_eq!(event["payload"]["subEventType"], "PO_CREATED");
    let order = &event["payload"]["order"];
    assert_eq!(order["purchaseOrderId"], po.as_str());
    assert!(order["customerOrderId"].as_str().is_some());
    assert!(order["orderDate"].as_str().is_some());
    let lines = order["orderLines"].as_array().expect("lines");
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["lineNumber"], "1");
    assert_eq!(lines[0]["status"], "CREATED");
    let text = String::from_utf8_lossy(&delivery.body);
    for private in ["Pat Buyer", "1 Main St", "72712", "shippingInfo", "postalAddress"] {
        assert!(
            !text.contains(private),
            "the summary carries no shipping address ({private})"
        );
    }
    assert!(event.get("meta").is_some_and(Value::is_object));
    s.assert_exchanges_valid();
}

#[tokio::test]
async fn basic_auth_deliveries_carry_the_users_credentials() {
    let s = setup().await;
    let receiver = Receiver::start().await;
    let auth = json!({ "authMethod": "BASIC_AUTH", "userName": "channel", "password": "s3cret" });
    let (status, body) = s.subscribe(order_updates(&receiver.url, auth)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["events"][0]["authDetails"]["authHeaderName"],
        "Authorization"
    );
    s.order(1).await;
    s.log_until("delivered", |log| delivered(log).len() == 1).await;
    let delivery = &receiver.deliveries()[0];
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("channel:s3cret")
    );
    assert_eq!(delivery.header("authorization"), Some(expected.as_str()));
    assert_eq!(basic_credentials("channel", "s3cret"), expected);
}

#[tokio::test]
async fn a_delivery_answered_500_is_retried_after_the_back_off_on_the_sandbox_clock() {
    let s = setup().await;
    s.control
        .update_webhook_settings(&json!({ "retry_backoff_secs": [30, 120] }))
        .await
        .expect("settings");
    let receiver = Receiver::start().await;
    receiver.plan(&[Answer::Status(500), Answer::Status(503)]);
    s.subscribe(order_updates(&receiver.url, hmac_auth())).await;
    s.order(1).await;
    let log = s.log_until("first attempt", |log| log.len() == 1).await;
    assert_eq!(log[0].outcome, DeliveryOutcome::Rejected { status: 500 });
    assert!(log[0].will_retry);

    // Nothing happens until the back-off has passed on the sandbox clock.
    assert_eq!(s.control.webhook_status().await.expect("status").pending, 1);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        receiver.deliveries().len(),
        1,
        "no retry before 30 s of sandbox time"
    );
    s.clock.advance(Duration::from_secs(30));
    let log = s.log_until("second attempt", |log| log.len() == 2).await;
    assert_eq!(log[1].outcome, DeliveryOutcome::Rejected { status: 503 });
    assert_eq!(log[1].attempt, 2);
    assert_eq!(log[1].sent_at, START.plus(Duration::from_secs(30)));
    s.clock.advance(Duration::from_secs(120));
    let log = s.log_until("third attempt", |log| log.len() == 3).await;
    assert_eq!(log[2].outcome, DeliveryOutcome::Delivered { status: 200 });
    assert_eq!(log[2].attempt, 3);
    assert!(!log[2].will_retry);

    let deliveries = receiver.deliveries();
    assert_eq!(deliveries.len(), 3);
    let ids: Vec<String> = deliveries.iter().map(Delivery::event_id).collect();
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "a retry is the same event: {ids:?}"
    );
    assert!(
        deliveries.iter().all(|d| d.body == deliveries[0].body),
        "the same bytes"
    );
    assert_eq!(s.control.webhook_status().await.expect("status").pending, 0);
}

#[tokio::test]
async fn a_destination_that_never_answers_times_out_and_is_given_up_after_the_last_retry() {
    let s = setup().await;
    s.control
        .update_webhook_settings(&json!({ "retry_backoff_secs": [10], "timeout_ms": 200 }))
        .await
        .expect("settings");
    let receiver = Receiver::start().await;
    receiver.plan(&[Answer::Hang, Answer::Status(502)]);
    s.subscribe(order_updates(&receiver.url, hmac_auth())).await;
    s.order(1).await;
    let log = s.log_until("timed out", |log| log.len() == 1).await;
    assert_eq!(log[0].outcome, DeliveryOutcome::TimedOut);
    s.clock.advance(Duration::from_secs(10));
    let log = s.log_until("last retry", |log| log.len() == 2).await;
    assert_eq!(log[1].outcome, DeliveryOutcome::Rejected { status: 502 });
    assert!(!log[1].will_retry, "no back-off left");
    let status = s.control.webhook_status().await.expect("status");
    assert_eq!((status.pending, status.given_up, status.delivered), (0, 1, 0));
}

/// Subscribes with `settings`, places `orders` one-line orders, and waits until every event is
/// settled (delivered or dropped) with nothing pending.
async fn play(settings: Value, orders: usize) -> (Setup, Receiver, Vec<String>, Vec<DeliveryAttempt>) {
    let s = setup().await;
    s.control
        .update_webhook_settings(&settings)
        .await
        .expect("settings");
    let receiver = Receiver::start().await;
    s.subscribe(order_updates(&receiver.url, hmac_auth())).await;
    let mut pos = Vec::new();
    for _ in 0..orders {
        pos.push(s.order(1).await);
    }
    let log_before = s
        .log_until("every event settled", |log| {
            pos.iter().all(|po| {
                log.iter().any(|a| {
                    a.purchase_order_id.as_deref() == Some(po.as_str())
                        && (a.outcome.delivered() || a.outcome == DeliveryOutcome::Dropped)
                })
            })
        })
        .await;
    // Duplicate copies are queued as their original is logged: wait for them too.
    for _ in 0..2_000 {
        let status = s.control.webhook_status().await.expect("status");
        if status.pending == 0 && status.in_flight == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    drop(log_before);
    let log = s.control.webhook_deliveries().await.expect("log");
    (s, receiver, pos, log)
}

#[tokio::test]
async fn duplicates_repeat_the_same_event_id_and_bytes_for_the_share_the_seed_picks() {
    let settings = json!({ "seed": 11, "duplicate_rate": 0.5 });
    let (_, receiver, pos, log) = play(settings.clone(), 20).await;
    let copies: Vec<&DeliveryAttempt> = log.iter().filter(|a| a.copy == 1).collect();
    assert!(
        (2..=18).contains(&copies.len()),
        "about half of 20 sent twice: {}",
        copies.len()
    );
    assert!(copies.iter().all(|c| c.outcome.delivered()));
    let deliveries = receiver.deliveries();
    assert_eq!(deliveries.len(), pos.len() + copies.len());
    for copy in &copies {
        let same: Vec<&Delivery> = deliveries
            .iter()
            .filter(|d| d.event_id() == copy.event_id)
            .collect();
        assert_eq!(same.len(), 2, "the original and its duplicate");
        assert_eq!(same[0].body, same[1].body);
        assert_eq!(same[0].header(SIGNATURE_HEADER), same[1].header(SIGNATURE_HEADER));
    }
    // The same seed picks the same events again.
    let (_, _, pos_again, log_again) = play(settings, 20).await;
    let picked = |pos: &[String], log: &[DeliveryAttempt]| -> Vec<usize> {
        log.iter()
            .filter(|a| a.copy == 1)
            .filter_map(|a| pos.iter().position(|p| Some(p) == a.purchase_order_id.as_ref()))
            .collect()
    };
    assert_eq!(picked(&pos, &log), picked(&pos_again, &log_again));
}

#[tokio::test]
async fn out_of_order_mode_lets_a_later_event_overtake_a_held_back_one() {
    let s = setup().await;
    s.control
        .update_webhook_settings(
            &json!({ "seed": 5, "out_of_order_rate": 0.5, "out_of_order_delay_secs": 60 }),
        )
        .await
        .expect("settings");
    let receiver = Receiver::start().await;
    s.subscribe(order_updates(&receiver.url, hmac_auth())).await;
    let mut pos = Vec::new();
    for _ in 0..10 {
        pos.push(s.order(1).await);
    }
    // Some are held back 60 s of sandbox time; the others arrive now.
    let early = s
        .log_until("the events not held back", |log| !log.is_empty())
        .await;
    // Settled for now: every event delivered or held back, nothing on the wire.
    let mut early_count = 0;
    for _ in 0..2_000 {
        let status = s.control.webhook_status().await.expect("status");
        early_count = status.delivered;
        if status.in_flight == 0 && status.delivered + status.pending == 10 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(
        (1..10).contains(&early_count),
        "some held back, some not: {early_count} of 10 ({early:?})"
    );
    s.clock.advance(Duration::from_secs(60));
    s.log_until("all ten", |log| delivered(log).len() == 10).await;
    let arrived: Vec<String> = receiver
        .deliveries()
        .iter()
        .map(|d| {
            d.json()["payload"]["order"]["purchaseOrderId"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_ne!(arrived, pos, "not in the order the orders were placed");
    let mut sorted = arrived.clone();
    sorted.sort();
    let mut placed = pos.clone();
    placed.sort();
    assert_eq!(sorted, placed, "every event arrived once");
}

#[tokio::test]
async fn drop_rate_loses_the_share_the_seed_picks_and_sends_nothing_for_them() {
    let (s, receiver, pos, log) = play(json!({ "seed": 3, "drop_rate": 0.3 }), 30).await;
    let dropped: Vec<&DeliveryAttempt> = log
        .iter()
        .filter(|a| a.outcome == DeliveryOutcome::Dropped)
        .collect();
    assert!(
        (3..=18).contains(&dropped.len()),
        "about 30% of 30 dropped: {}",
        dropped.len()
    );
    let received: Vec<String> = receiver.deliveries().iter().map(Delivery::event_id).collect();
    assert_eq!(received.len() + dropped.len(), pos.len());
    for d in &dropped {
        assert!(!received.contains(&d.event_id), "a dropped event is never sent");
    }
    let status = s.control.webhook_status().await.expect("status");
    assert_eq!(status.dropped, dropped.len());
    // Deterministic: the same seed drops the same orders' events.
    let (_, _, pos_again, log_again) = play(json!({ "seed": 3, "drop_rate": 0.3 }), 30).await;
    let dropped_index = |pos: &[String], log: &[DeliveryAttempt]| -> Vec<usize> {
        log.iter()
            .filter(|a| a.outcome == DeliveryOutcome::Dropped)
            .filter_map(|a| pos.iter().position(|p| Some(p) == a.purchase_order_id.as_ref()))
            .collect()
    };
    assert_eq!(dropped_index(&pos, &log), dropped_index(&pos_again, &log_again));
}

#[tokio::test]
async fn walmart_side_cancellations_and_cancel_requests_are_announced_with_their_lines() {
    let s = setup().await;
    let receiver = Receiver::start().await;
    s.subscribe(order_updates(&receiver.url, hmac_auth())).await;
    let po = s.order(3).await;
    s.control.auto_cancel(&po, &[1]).await.expect("auto-cancel");
    s.control.fraud_cancel(&po, &[2]).await.expect("fraud cancel");
    s.control
        .request_cancellation(&po, &walmart_sandbox::CancellationRequest { lines: vec![3] })
        .await
        .expect("intent to cancel");
    s.log_until("four events", |log| delivered(log).len() == 4).await;
    let events: Vec<Value> = receiver.deliveries().iter().map(Delivery::json).collect();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["payload"]["subEventType"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        kinds,
        [
            "PO_CREATED",
            "PO_LINE_AUTOCANCELLED",
            "FRAUD_CANCEL",
            "INTENT_TO_CANCEL"
        ]
    );
    let lines = |i: usize| events[i]["payload"]["order"]["orderLines"].clone();
    assert_eq!(lines(1)[0]["lineNumber"], "1");
    assert_eq!(lines(1)[0]["status"], "CANCELLED");
    assert_eq!(lines(1).as_array().map(Vec::len), Some(1));
    assert_eq!(lines(2)[0]["lineNumber"], "2");
    assert_eq!(lines(2)[0]["status"], "CANCELLED");
    assert_eq!(lines(3)[0]["lineNumber"], "3");
    assert_eq!(lines(3)[0]["intentToCancel"], "Y");
    let ids: std::collections::BTreeSet<&str> = events
        .iter()
        .filter_map(|e| e["source"]["eventId"].as_str())
        .collect();
    assert_eq!(ids.len(), 4, "every event has its own id");
    // The order shows Walmart's cancellations.
    let order = s.control.order(&po).await.expect("order");
    assert!(order.to_string().contains("Cancelled"));
}

#[tokio::test]
async fn legacy_subscriptions_get_their_standalone_event_until_2026_12_15() {
    let s = setup().await;
    let receiver = Receiver::start().await;
    let legacy = json!({
        "eventType": "PO_CREATED", "eventVersion": "V1", "resourceName": "ORDER",
        "eventUrl": receiver.url, "status": "ACTIVE",
    });
    let (status, body) = s.subscribe(legacy.clone()).await;
    assert_eq!(status, 200, "{body}");
    let po = s.order(1).await;
    s.log_until("legacy delivery", |log| delivered(log).len() == 1)
        .await;
    let event = receiver.deliveries()[0].json();
    assert_eq!(event["source"]["eventType"], "PO_CREATED");
    assert_eq!(event["payload"]["purchaseOrderId"], po.as_str());
    assert!(event["payload"].get("subEventType").is_none());
    assert!(
        receiver.deliveries()[0].header(SIGNATURE_HEADER).is_none(),
        "unprotected URL"
    );

    // After the removal date Walmart neither offers nor delivers the legacy events.
    s.clock
        .set(Timestamp::parse_rfc3339("2026-12-15T00:00:00Z").expect("date"));
    s.order(1).await;
    s.assert_nothing_queued().await;
    assert_eq!(
        receiver.deliveries().len(),
        1,
        "no legacy delivery after 2026-12-15"
    );
    let (_, types) = s
        .call(reqwest::Method::GET, "/v3/webhooks/eventTypes", None)
        .await;
    let names: Vec<&str> = types["eventTypes"]
        .as_array()
        .expect("eventTypes")
        .iter()
        .filter_map(|t| t["eventType"].as_str())
        .collect();
    assert!(names.contains(&"ORDER_UPDATES"));
    assert!(!names.contains(&"PO_CREATED"));
    let mut again = legacy;
    again["eventType"] = json!("INTENT_TO_CANCEL");
    assert_eq!(s.subscribe(again).await.0, 400);
    s.assert_exchanges_valid();
}

#[tokio::test]
async fn the_subscriptions_api_refuses_what_walmart_refuses() {
    let s = setup().await;
    let receiver = Receiver::start().await;
    let valid = order_updates(&receiver.url, hmac_auth());
    let with = |pointer: &str, value: Value| {
        let mut entry = valid.clone();
        let target = entry.pointer_mut(pointer).expect("pointer");
        *target = value;
        entry
    };
    let without = |name: &str| {
        let mut entry = valid.clone();
        entry.as_object_mut().expect("object").remove(name);
        entry
    };
    let refused = [
        ("unknown event type", with("/eventType", json!("ORDER_SHIPPED"))),
        ("wrong version", with("/eventVersion", json!("V2"))),
        ("wrong resource", with("/resourceName", json!("ITEM"))),
        ("no event type", without("eventType")),
        ("no url", without("eventUrl")),
        ("no status", without("status")),
        ("bad status", with("/status", json!("ON"))),
        ("not a URL", with("/eventUrl", json!("events please"))),
        (
            "plain http elsewhere",
            with("/eventUrl", json!("http://example.com/events")),
        ),
        ("ftp", with("/eventUrl", json!("ftp://example.com/events"))),
        (
            "unknown auth method",
            with("/authDetails/authMethod", json!("JWT")),
        ),
        (
            "no auth method",
            with("/authDetails", json!({ "clientSecret": "x" })),
        ),
        (
            "HMAC without secret",
            with(
                "/authDetails",
                json!({ "authMethod": "HMAC", "authHeaderName": "X" }),
            ),
        ),
        (
            "HMAC without header",
            with(
                "/authDetails",
                json!({ "authMethod": "HMAC", "clientSecret": "x" }),
            ),
        ),
        (
            "basic without password",
            with(
                "/authDetails",
                json!({ "authMethod": "BASIC_AUTH", "userName": "u" }),
            ),
        ),
        (
            "OAuth without URL",
            with(
                "/authDetails",
                json!({ "authMethod": "OAUTH", "clientId": "i", "clientSecret": "s" }),
            ),
        ),
        ("header not a string", with("/headers", json!({ "x-a": 1 }))),
    ];
    for (what, entry) in refused {
        let (status, body) = s.subscribe(entry).await;
        assert_eq!(status, 400, "{what}: {body}");
        assert!(
            body["errors"][0]["code"].as_str().is_some(),
            "{what}: Walmart's error body: {body}"
        );
    }
    let (status, _) = s
        .call(
            reqwest::Method::POST,
            "/v3/webhooks/subscriptions",
            Some(json!({ "events": [] })),
        )
        .await;
    assert_eq!(status, 400, "no events");
    assert_eq!(
        s.control.webhook_status().await.expect("status").subscriptions,
        0,
        "nothing created"
    );

    // One subscription per event type: a second one (or two in one request) is refused whole.
    let (status, created) = s.subscribe(valid.clone()).await;
    assert_eq!(status, 200);
    let id = created["events"][0]["subscriptionId"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(s.subscribe(valid.clone()).await.0, 400, "duplicate ORDER_UPDATES");
    let legacy = with("/eventType", json!("PO_CREATED"));
    let (status, _) = s
        .call(
            reqwest::Method::POST,
            "/v3/webhooks/subscriptions",
            Some(json!({ "events": [legacy.clone(), legacy] })),
        )
        .await;
    assert_eq!(status, 400, "the same type twice in one request");
    assert_eq!(s.control.webhook_status().await.expect("status").subscriptions, 1);

    // Update: what may change changes; the event type may not; unknown ids are 404.
    let path = format!("/v3/webhooks/subscriptions/{id}");
    let (status, updated) = s
        .call(
            reqwest::Method::PATCH,
            &path,
            Some(json!({ "status": "INACTIVE" })),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["status"], "INACTIVE");
    assert_eq!(updated["subscriptionId"], id.as_str());
    let (status, _) = s
        .call(
            reqwest::Method::PATCH,
            &path,
            Some(json!({ "eventType": "PO_CREATED" })),
        )
        .await;
    assert_eq!(status, 400);
    let (status, _) = s
        .call(
            reqwest::Method::PATCH,
            &path,
            Some(json!({ "eventUrl": "http://example.com/x" })),
        )
        .await;
    assert_eq!(status, 400);
    let (status, _) = s
        .call(
            reqwest::Method::PATCH,
            "/v3/webhooks/subscriptions/no-such-id",
            Some(json!({ "status": "ACTIVE" })),
        )
        .await;
    assert_eq!(status, 404);

    // An inactive subscription gets nothing.
    s.order(1).await;
    s.assert_nothing_queued().await;
    assert!(receiver.deliveries().is_empty());

    // List with filters.
    let (status, listed) = s
        .call(
            reqwest::Method::GET,
            "/v3/webhooks/subscriptions?eventType=ORDER_UPDATES&status=INACTIVE",
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(listed["events"].as_array().map(Vec::len), Some(1));
    let (_, none) = s
        .call(
            reqwest::Method::GET,
            "/v3/webhooks/subscriptions?status=ACTIVE",
            None,
        )
        .await;
    assert_eq!(none["events"].as_array().map(Vec::len), Some(0));
    assert_eq!(
        s.call(reqwest::Method::GET, "/v3/webhooks/subscriptions?status=ON", None)
            .await
            .0,
        400
    );

    // Delete, then it is gone.
    let (status, deleted) = s.call(reqwest::Method::DELETE, &path, None).await;
    assert_eq!(status, 200);
    assert_eq!(deleted["subscriptionId"], id.as_str());
    assert_eq!(s.call(reqwest::Method::DELETE, &path, None).await.0, 404);

    // Walmart's gateway rules hold here too.
    let no_token = s
        .http
        .get(format!("{}/v3/webhooks/subscriptions", s.sandbox.base_url()))
        .header("WM_SVC.NAME", "x")
        .header("WM_QOS.CORRELATION_ID", "x")
        .header("Accept", "application/json")
        .send()
        .await
        .expect("sent");
    assert_eq!(no_token.status().as_u16(), 401);

    s.assert_exchanges_valid();
}

#[tokio::test]
async fn the_test_notification_reports_a_live_url_validated_and_a_dead_one_failed() {
    let s = setup().await;
    let receiver = Receiver::start().await;
    let request = |url: &str| {
        json!({
            "eventType": "ORDER_UPDATES", "eventVersion": "V1", "resourceName": "ORDER",
            "eventUrl": url, "authDetails": hmac_auth(),
        })
    };
    let (status, body) = s
        .call(
            reqwest::Method::POST,
            "/v3/webhooks/test",
            Some(request(&receiver.url)),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["message"], "Eventurl successfully validated");
    let sample = &receiver.deliveries()[0];
    assert_eq!(
        sample.header(SIGNATURE_HEADER),
        Some(hmac_signature(SECRET, &sample.body).as_str())
    );
    assert_eq!(sample.json()["source"]["eventType"], "ORDER_UPDATES");

    // A URL where nothing listens: the answer says it failed.
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        drop(listener);
        format!("http://127.0.0.1:{port}/events")
    };
    let (status, body) = s
        .call(reqwest::Method::POST, "/v3/webhooks/test", Some(request(&dead)))
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["errors"][0]["description"]
            .as_str()
            .is_some_and(|d| d.contains("could not be validated"))
    );
    // A destination answering 500 fails too.
    receiver.plan(&[Answer::Status(500)]);
    let (status, _) = s
        .call(
            reqwest::Method::POST,
            "/v3/webhooks/test",
            Some(request(&receiver.url)),
        )
        .await;
    assert_eq!(status, 400);
    // And an invalid request is refused before anything is sent.
    let mut unknown = request(&receiver.url);
    unknown["eventType"] = json!("NOPE");
    assert_eq!(
        s.call(reqwest::Method::POST, "/v3/webhooks/test", Some(unknown))
            .await
            .0,
        400
    );
    assert_eq!(receiver.deliveries().len(), 2);

    let log = s.control.webhook_deliveries().await.expect("log");
    assert_eq!(log.len(), 3);
    assert!(log[0].outcome.delivered());
    assert!(matches!(log[1].outcome, DeliveryOutcome::Failed { .. }));
    assert_eq!(log[2].outcome, DeliveryOutcome::Rejected { status: 500 });
    s.assert_exchanges_valid();
}

#[tokio::test]
async fn a_lost_subscription_gets_nothing_and_its_pending_retries_are_forgotten() {
    let s = setup().await;
    let receiver = Receiver::start().await;
    receiver.plan(&[Answer::Status(500)]);
    s.subscribe(order_updates(&receiver.url, hmac_auth())).await;
    s.order(1).await;
    s.log_until("first attempt failed", |log| log.len() == 1).await;
    assert_eq!(s.control.webhook_status().await.expect("status").pending, 1);
    assert_eq!(s.control.lose_webhook_subscriptions().await.expect("lose"), 1);
    assert_eq!(s.control.webhook_status().await.expect("status").pending, 0);
    s.clock.advance(Duration::from_secs(3600));
    s.order(1).await;
    s.assert_nothing_queued().await;
    assert_eq!(receiver.deliveries().len(), 1);
    let (_, listed) = s
        .call(reqwest::Method::GET, "/v3/webhooks/subscriptions", None)
        .await;
    assert_eq!(listed["events"], json!([]));
    drop(receiver.server);
}

#[tokio::test]
async fn delivery_settings_change_through_the_sandbox_settings_too_and_bad_rates_are_refused() {
    let s = setup().await;
    let settings = s
        .control
        .update_settings(&json!({ "webhooks": { "drop_rate": 0.2, "seed": 9 } }))
        .await
        .expect("settings");
    assert_eq!(settings.webhooks.drop_rate, 0.2);
    assert_eq!(settings.webhooks.seed, 9);
    assert_eq!(
        settings.webhooks.timeout_ms, 5_000,
        "members not named keep their value"
    );
    assert_eq!(s.control.webhook_settings().await.expect("settings").seed, 9);
    assert!(
        s.control
            .update_settings(&json!({ "webhooks": { "drop_rate": 1.5 } }))
            .await
            .is_err()
    );
    assert!(
        s.control
            .update_webhook_settings(&json!({ "duplicate_rate": -0.1 }))
            .await
            .is_err()
    );
    assert!(
        s.control
            .update_webhook_settings(&json!({ "dropRate": 0.1 }))
            .await
            .is_err()
    );
    assert_eq!(
        s.control.webhook_settings().await.expect("settings").drop_rate,
        0.2
    );
}

#[tokio::test]
async fn oauth_deliveries_fetch_a_token_from_the_auth_url_first() {
    let s = setup().await;
    let receiver = Receiver::start().await;
    let auth_url = receiver.url.replace("/events", "/token");
    let auth = json!({
        "authMethod": "OAUTH", "authUrl": auth_url, "clientId": "walmart", "clientSecret": "oauth-secret",
        "authHeaderName": "Authorization",
    });
    let (status, body) = s.subscribe(order_updates(&receiver.url, auth)).await;
    assert_eq!(status, 200, "{body}");
    s.order(1).await;
    s.log_until("delivered", |log| delivered(log).len() == 1).await;
    let token_request = receiver.state.token_requests.lock().expect("lock")[0].clone();
    assert_eq!(
        token_request.header("authorization"),
        Some(basic_credentials("walmart", "oauth-secret").as_str())
    );
    assert_eq!(&token_request.body[..], b"grant_type=client_credentials");
    assert_eq!(
        receiver.deliveries()[0].header("authorization"),
        Some("Bearer receiver-token")
    );
}

#[tokio::test]
async fn the_first_attempt_waits_the_configured_lag_on_the_sandbox_clock() {
    let s = setup().await;
    s.control
        .update_webhook_settings(&json!({ "delivery_delay_secs": 5 }))
        .await
        .expect("settings");
    let receiver = Receiver::start().await;
    s.subscribe(order_updates(&receiver.url, hmac_auth())).await;
    s.order(1).await;
    assert_eq!(s.control.webhook_status().await.expect("status").pending, 1);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(receiver.deliveries().is_empty(), "not before 5 s of sandbox time");
    s.clock.advance(Duration::from_secs(5));
    let log = s.log_until("delivered", |log| delivered(log).len() == 1).await;
    assert_eq!(log[0].event_time, START);
    assert_eq!(log[0].sent_at, START.plus(Duration::from_secs(5)));
}
