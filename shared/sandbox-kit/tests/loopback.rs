//! The kit over real loopback HTTP: an instrumented toy API, driven with reqwest.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use sandbox_kit::{
    Exchange, FAULT_HEADER, FaultPlan, Faults, Recorder, RunningServer, control_routes, instrument, serve,
};
use serde_json::{Value, json};

/// How many times the toy API's handlers ran: proves whether a fault reached the handler.
#[derive(Clone, Default)]
struct Calls(Arc<AtomicU64>);

impl Calls {
    fn bump(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
    fn get(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

fn toy_api(calls: Calls) -> Router {
    Router::new()
        .route("/v3/orders", get(list_orders))
        .route("/v3/items/{sku}", get(get_item))
        .route("/v3/echo", post(echo))
        .route("/v3/feeds", post(upload_feed))
        .route("/v3/token", post(token))
        .with_state(calls)
}

async fn list_orders(State(calls): State<Calls>) -> Json<Value> {
    calls.bump();
    Json(json!({"list": {"elements": {"order": [{"purchaseOrderId": "1234567890"}]}}}))
}

async fn get_item(State(calls): State<Calls>, Path(sku): Path<String>) -> Json<Value> {
    calls.bump();
    Json(json!({"sku": sku}))
}

async fn echo(State(calls): State<Calls>, Json(body): Json<Value>) -> (StatusCode, Json<Value>) {
    calls.bump();
    (StatusCode::CREATED, Json(json!({"received": body})))
}

async fn upload_feed(
    State(calls): State<Calls>,
    mut multipart: Multipart,
) -> Result<Json<Value>, StatusCode> {
    calls.bump();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|_| StatusCode::BAD_REQUEST)?
    {
        if field.name() == Some("file") {
            let bytes = field.bytes().await.map_err(|_| StatusCode::PAYLOAD_TOO_LARGE)?;
            return Ok(Json(json!({"feedId": "F1", "bytes": bytes.len()})));
        }
    }
    Err(StatusCode::BAD_REQUEST)
}

async fn token(State(calls): State<Calls>, body: String) -> Json<Value> {
    calls.bump();
    Json(json!({"access_token": "t", "token_type": "Bearer", "expires_in": 900, "seen": body.len()}))
}

struct Harness {
    server: RunningServer,
    recorder: Recorder,
    faults: Faults,
    calls: Calls,
    http: reqwest::Client,
}

impl Harness {
    async fn start() -> Self {
        let (recorder, faults, calls) = (Recorder::new(), Faults::new(), Calls::default());
        let app = instrument(toy_api(calls.clone()), recorder.clone(), faults.clone())
            .merge(control_routes(recorder.clone(), faults.clone()));
        let server = serve(app, "127.0.0.1:0".parse().unwrap()).await.unwrap();
        Self {
            server,
            recorder,
            faults,
            calls,
            http: reqwest::Client::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base_url())
    }

    async fn set_faults_over_http(&self, plan: Value) -> FaultPlan {
        let response = self
            .http
            .put(self.url("/_sandbox/faults"))
            .json(&plan)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    async fn get_status(&self, path: &str) -> u16 {
        self.http
            .get(self.url(path))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    fn only_exchange(&self) -> Exchange {
        let exchanges = self.recorder.snapshot();
        assert_eq!(exchanges.len(), 1, "{exchanges:#?}");
        exchanges.into_iter().next().unwrap()
    }
}

#[tokio::test]
async fn records_json_request_and_response_with_headers_and_query() {
    let harness = Harness::start().await;
    let response = harness
        .http
        .post(harness.url("/v3/echo?limit=10&createdStartDate=2026-01-01T00%3A00%3A00Z&q=a+b"))
        .header("WM_SEC.ACCESS_TOKEN", "secret-token")
        .header("X-Repeated", "one")
        .header("x-repeated", "two")
        .json(&json!({"sku": "ABC-1", "qty": 3}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"received": {"sku": "ABC-1", "qty": 3}})
    );

    let exchange = harness.only_exchange();
    assert_eq!(exchange.method, "POST");
    assert_eq!(exchange.path, "/v3/echo");
    assert_eq!(
        exchange.query,
        vec![
            ("limit".to_owned(), "10".to_owned()),
            ("createdStartDate".to_owned(), "2026-01-01T00:00:00Z".to_owned()),
            ("q".to_owned(), "a b".to_owned()),
        ]
    );
    assert_eq!(
        exchange.request_header("WM_SEC.access_token"),
        Some("secret-token")
    );
    assert_eq!(
        exchange.request_headers.get("x-repeated").map(String::as_str),
        Some("one, two")
    );
    assert_eq!(exchange.request_content_type.as_deref(), Some("application/json"));
    assert_eq!(exchange.request_body, Some(json!({"sku": "ABC-1", "qty": 3})));
    assert_eq!(exchange.request_text, None);
    assert_eq!(exchange.status, 201);
    assert_eq!(
        exchange.response_body,
        Some(json!({"received": {"sku": "ABC-1", "qty": 3}}))
    );
    assert_eq!(
        exchange.response_headers.get("content-type").map(String::as_str),
        Some("application/json")
    );
    assert!(!exchange.fault_injected);
    assert_eq!(exchange.seq, 1);

    // The JSON form, as GET /_sandbox/exchanges serves it, round-trips with the documented field names.
    let listed: Vec<Value> = harness
        .http
        .get(harness.url("/_sandbox/exchanges"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed.len(), 1, "control routes are not recorded");
    assert_eq!(listed[0]["request_body"], json!({"sku": "ABC-1", "qty": 3}));
    assert_eq!(listed[0]["query"][0], json!(["limit", "10"]));
    let round_trip: Exchange = serde_json::from_value(listed[0].clone()).unwrap();
    assert_eq!(round_trip, exchange);
}

#[tokio::test]
async fn keeps_percent_encoding_in_paths_and_records_unknown_routes() {
    let harness = Harness::start().await;
    assert_eq!(harness.get_status("/v3/items/ABC%2F1%20X").await, 200);
    assert_eq!(harness.get_status("/v3/nowhere").await, 404);
    let exchanges = harness.recorder.snapshot();
    assert_eq!(exchanges.len(), 2);
    assert_eq!(exchanges[0].path, "/v3/items/ABC%2F1%20X");
    assert_eq!(exchanges[0].response_body, Some(json!({"sku": "ABC/1 X"})));
    assert_eq!(exchanges[1].path, "/v3/nowhere");
    assert_eq!(exchanges[1].status, 404);
    assert_eq!(exchanges[1].response_body, None);
    assert!(exchanges[0].seq < exchanges[1].seq);
}

#[tokio::test]
async fn records_the_multipart_file_part_of_a_large_feed_and_the_handler_still_reads_it() {
    let harness = Harness::start().await;
    // About 5 MB: well past axum's 2 MB default, under the 32 MiB sandbox limit.
    let items: Vec<Value> = (0..100_000)
        .map(|n| json!({"sku": format!("SKU-{n:06}"), "quantity": {"amount": n}}))
        .collect();
    let feed = json!({"InventoryHeader": {"version": "1.5"}, "Inventory": items});
    let feed_text = serde_json::to_string(&feed).unwrap();
    assert!(feed_text.len() > 3 * 1024 * 1024);
    let form = reqwest::multipart::Form::new().text("note", "not the file").part(
        "file",
        reqwest::multipart::Part::text(feed_text.clone()).file_name("feed.json"),
    );
    let response = harness
        .http
        .post(harness.url("/v3/feeds?feedType=inventory"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["bytes"], json!(feed_text.len()));

    let exchange = harness.only_exchange();
    assert!(
        exchange
            .request_content_type
            .as_deref()
            .unwrap()
            .starts_with("multipart/form-data; boundary=")
    );
    assert_eq!(exchange.request_body.as_ref(), Some(&feed));
    assert_eq!(exchange.request_text, None);
    assert_eq!(exchange.query_value("feedType"), Some("inventory"));
}

#[tokio::test]
async fn records_form_bodies_as_text() {
    let harness = Harness::start().await;
    let response = harness
        .http
        .post(harness.url("/v3/token"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let exchange = harness.only_exchange();
    assert_eq!(exchange.request_body, None);
    assert_eq!(
        exchange.request_text.as_deref(),
        Some("grant_type=client_credentials")
    );
    assert_eq!(
        exchange.request_content_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(exchange.response_body.as_ref().unwrap()["expires_in"], json!(900));
}

#[tokio::test]
async fn burst_of_503s_then_normal_service_and_control_routes_are_exempt() {
    let harness = Harness::start().await;
    let plan = harness.set_faults_over_http(json!({"burst_5xx": 2})).await;
    assert_eq!(plan.burst_5xx, 2);

    // Control routes during the burst: answered, not counted against it, not recorded.
    assert_eq!(harness.get_status("/_sandbox/health").await, 200);
    assert_eq!(harness.get_status("/_sandbox/faults").await, 200);
    assert_eq!(harness.faults.get().burst_5xx, 2);

    let first = harness.http.get(harness.url("/v3/orders")).send().await.unwrap();
    assert_eq!(first.status(), 503);
    assert_eq!(first.headers()[FAULT_HEADER], "burst_5xx");
    assert!(first.json::<Value>().await.unwrap()["message"].is_string());
    assert_eq!(harness.get_status("/v3/orders").await, 503);
    assert_eq!(harness.get_status("/v3/orders").await, 200);
    assert_eq!(harness.calls.get(), 1, "a burst 503 never reaches the handler");

    let faulted: Vec<bool> = harness
        .recorder
        .snapshot()
        .iter()
        .map(|e| e.fault_injected)
        .collect();
    assert_eq!(faulted, vec![true, true, false]);
    let statuses: Vec<u16> = harness.recorder.snapshot().iter().map(|e| e.status).collect();
    assert_eq!(statuses, vec![503, 503, 200]);

    let cleared = harness
        .http
        .delete(harness.url("/_sandbox/exchanges"))
        .send()
        .await
        .unwrap();
    assert_eq!(cleared.status(), 204);
    assert_eq!(harness.recorder.count(), 0);
}

#[tokio::test]
async fn seeded_error_rate_is_reproducible() {
    let harness = Harness::start().await;
    let mut runs = Vec::new();
    for _ in 0..2 {
        harness
            .set_faults_over_http(json!({"error_rate": 0.5, "seed": 7}))
            .await;
        let mut statuses = Vec::new();
        for _ in 0..24 {
            statuses.push(harness.get_status("/v3/orders").await);
        }
        runs.push(statuses);
    }
    assert_eq!(runs[0], runs[1], "same seed, same faults");
    assert!(runs[0].contains(&500) && runs[0].contains(&200), "{:?}", runs[0]);
    for exchange in harness.recorder.snapshot() {
        assert_eq!(exchange.fault_injected, exchange.status == 500);
        if exchange.status == 500 {
            assert!(exchange.response_body.as_ref().unwrap()["errors"].is_array());
        }
    }
}

#[tokio::test]
async fn malformed_responses_are_200_non_json_after_the_handler_ran() {
    let harness = Harness::start().await;
    harness.set_faults_over_http(json!({"malformed_rate": 1.0})).await;
    let response = harness.http.get(harness.url("/v3/orders")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()[FAULT_HEADER], "malformed_rate");
    let body = response.text().await.unwrap();
    assert!(
        serde_json::from_str::<Value>(&body).is_err(),
        "body must not parse: {body}"
    );
    assert!(
        body.starts_with("{\"list\""),
        "a truncated version of the real answer: {body}"
    );
    assert_eq!(
        harness.calls.get(),
        1,
        "the handler ran; only its answer was garbled"
    );

    let exchange = harness.only_exchange();
    assert!(exchange.fault_injected);
    assert_eq!(exchange.status, 200);
    assert_eq!(exchange.response_body, None);
}

#[tokio::test]
async fn latency_delays_responses_without_marking_them() {
    let harness = Harness::start().await;
    harness.faults.set(FaultPlan {
        latency_ms: 150,
        ..FaultPlan::default()
    });
    let started = Instant::now();
    assert_eq!(harness.get_status("/v3/orders").await, 200);
    // Only a lower bound: a sleep never ends early, whatever the machine's load.
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert!(!harness.only_exchange().fault_injected);

    // Control routes are not delayed: a huge latency would otherwise hang this request.
    harness.faults.set(FaultPlan {
        latency_ms: 3_600_000,
        ..FaultPlan::default()
    });
    assert_eq!(harness.get_status("/_sandbox/health").await, 200);
    harness.faults.set(FaultPlan::default());
}

#[tokio::test]
async fn timeout_next_hangs_then_answers_504() {
    let harness = Harness::start().await;

    // A client with a short timeout gives up on the hung request.
    harness.faults.set(FaultPlan {
        timeout_next: 1,
        hang_ms: 3_600_000,
        ..FaultPlan::default()
    });
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let error = impatient.get(harness.url("/v3/orders")).send().await.unwrap_err();
    assert!(error.is_timeout(), "{error}");
    assert_eq!(harness.faults.get().timeout_next, 0);
    assert_eq!(
        harness.get_status("/v3/orders").await,
        200,
        "only the next N requests hang"
    );

    // A patient client sees the 504 once the hang is over.
    harness.faults.set(FaultPlan {
        timeout_next: 1,
        hang_ms: 20,
        ..FaultPlan::default()
    });
    let response = harness.http.get(harness.url("/v3/orders")).send().await.unwrap();
    assert_eq!(response.status(), 504);
    assert_eq!(response.headers()[FAULT_HEADER], "timeout_next");
    assert_eq!(harness.calls.get(), 1);
    let last = harness.recorder.snapshot().pop().unwrap();
    assert_eq!((last.status, last.fault_injected), (504, true));
}

#[tokio::test]
async fn serves_on_a_free_port_and_shuts_down() {
    let harness = Harness::start().await;
    let addr = harness.server.local_addr();
    assert_ne!(addr.port(), 0);
    assert_eq!(
        harness.server.base_url(),
        format!("http://127.0.0.1:{}", addr.port())
    );
    let health: Value = harness
        .http
        .get(harness.url("/_sandbox/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health, json!({"status": "ok"}));

    harness.server.shutdown().await;
    // A fresh client, so no pooled connection hides the closed listener.
    let after = reqwest::Client::new()
        .get(format!("http://{addr}/_sandbox/health"))
        .send()
        .await;
    assert!(after.is_err(), "server still answering after shutdown");
}

#[tokio::test]
async fn every_way_of_composing_control_routes_records_api_traffic_only() {
    type Compose = fn(Router, Recorder, Faults) -> Router;
    let compositions: Vec<(&str, Compose)> = vec![
        ("control merged after", |api, recorder, faults| {
            instrument(api, recorder.clone(), faults.clone()).merge(control_routes(recorder, faults))
        }),
        ("control merged first", |api, recorder, faults| {
            control_routes(recorder.clone(), faults.clone()).merge(instrument(api, recorder, faults))
        }),
        ("control inside", |api, recorder, faults| {
            instrument(
                api.merge(control_routes(recorder.clone(), faults.clone())),
                recorder,
                faults,
            )
        }),
    ];
    for (name, compose) in compositions {
        let (recorder, faults) = (Recorder::new(), Faults::new());
        let app = compose(toy_api(Calls::default()), recorder.clone(), faults.clone());
        let server = serve(app, "127.0.0.1:0".parse().unwrap()).await.unwrap();
        let http = reqwest::Client::new();
        faults.set(FaultPlan {
            burst_5xx: 1,
            ..FaultPlan::default()
        });
        let health = http
            .get(format!("{}/_sandbox/health", server.base_url()))
            .send()
            .await
            .unwrap();
        assert_eq!(health.status(), 200, "{name}");
        let unknown = http
            .get(format!("{}/v3/unknown", server.base_url()))
            .send()
            .await
            .unwrap();
        assert_eq!(unknown.status(), 503, "{name}: the burst hits API traffic");
        let unknown = http
            .get(format!("{}/v3/unknown", server.base_url()))
            .send()
            .await
            .unwrap();
        assert_eq!(unknown.status(), 404, "{name}");
        let paths: Vec<(String, u16)> = recorder
            .snapshot()
            .into_iter()
            .map(|exchange| (exchange.path, exchange.status))
            .collect();
        assert_eq!(
            paths,
            vec![("/v3/unknown".to_owned(), 503), ("/v3/unknown".to_owned(), 404)],
            "{name}"
        );
        server.shutdown().await;
    }
}
