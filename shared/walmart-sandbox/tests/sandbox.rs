//! The sandbox on its own, over loopback with plain HTTP: the gateway's header and token rules,
//! the control API, settings, and scale (100,000 SKUs, a 10,000-item feed).

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use domain::{Money, Timestamp};
use ports::ManualClock;
use serde_json::{Value, json};
use walmart_sandbox::{
    CatalogItemSpec, ControlClient, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, NewOrder, NewOrderLine,
    RunningSandbox, SandboxSettings, SellerItemSpec, ShipToSpec, WalmartSandbox,
};

const START: Timestamp = Timestamp::from_millis(1_764_237_600_000);

struct Setup {
    sandbox: RunningSandbox,
    control: ControlClient,
    clock: Arc<ManualClock>,
    http: reqwest::Client,
}

async fn setup(settings: SandboxSettings) -> Setup {
    let clock = Arc::new(ManualClock::at(START));
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

fn basic() -> String {
    let raw = format!("{DEFAULT_CLIENT_ID}:{DEFAULT_CLIENT_SECRET}");
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(raw))
}

fn ean(n: u64) -> String {
    let body = format!("{:012}", 400_000_000_000 + n);
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

impl Setup {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sandbox.base_url())
    }

    fn walmart(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, self.url(path))
            .header("WM_SVC.NAME", "Walmart Marketplace")
            .header("WM_QOS.CORRELATION_ID", "test-correlation")
            .header("Accept", "application/json")
    }

    async fn token(&self) -> String {
        let response = self
            .walmart(reqwest::Method::POST, "/v3/token")
            .header("Authorization", basic())
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials")
            .send()
            .await
            .expect("token call");
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.expect("token json");
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 900);
        body["access_token"].as_str().expect("token").to_owned()
    }

    async fn status_and_body(&self, request: reqwest::RequestBuilder) -> (u16, Value) {
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

#[tokio::test]
async fn the_gateway_rejects_requests_without_walmarts_headers_or_a_valid_token() {
    let s = setup(SandboxSettings::default()).await;
    let token = s.token().await;
    let path = "/v3/orders";

    let no_svc = s
        .http
        .get(s.url(path))
        .header("WM_QOS.CORRELATION_ID", "x")
        .header("Accept", "application/json")
        .header("WM_SEC.ACCESS_TOKEN", &token);
    let (status, body) = s.status_and_body(no_svc).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"][0]["field"], "WM_SVC.NAME");

    let no_correlation = s
        .http
        .get(s.url(path))
        .header("WM_SVC.NAME", "x")
        .header("Accept", "application/json")
        .header("WM_SEC.ACCESS_TOKEN", &token);
    assert_eq!(s.status_and_body(no_correlation).await.0, 400);

    let no_accept = s
        .http
        .get(s.url(path))
        .header("WM_SVC.NAME", "x")
        .header("WM_QOS.CORRELATION_ID", "x")
        .header("WM_SEC.ACCESS_TOKEN", &token);
    assert_eq!(s.status_and_body(no_accept).await.0, 406);

    let (status, body) = s.status_and_body(s.walmart(reqwest::Method::GET, path)).await;
    assert_eq!(status, 401, "no token");
    assert_eq!(body["error"][0]["code"], "UNAUTHORIZED.GMP_GATEWAY_API");
    let bad_token = s
        .walmart(reqwest::Method::GET, path)
        .header("WM_SEC.ACCESS_TOKEN", "forged");
    assert_eq!(s.status_and_body(bad_token).await.0, 401);

    let good = s
        .walmart(reqwest::Method::GET, path)
        .header("WM_SEC.ACCESS_TOKEN", &token);
    assert_eq!(s.status_and_body(good).await.0, 404, "valid, and no orders yet");
    s.clock.advance(Duration::from_secs(901));
    let expired = s
        .walmart(reqwest::Method::GET, path)
        .header("WM_SEC.ACCESS_TOKEN", &token);
    assert_eq!(
        s.status_and_body(expired).await.0,
        401,
        "tokens expire after 900 s of sandbox time"
    );

    let wrong_grant = s
        .walmart(reqwest::Method::POST, "/v3/token")
        .header("Authorization", basic())
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("grant_type=password");
    assert_eq!(s.status_and_body(wrong_grant).await.0, 400);
    let no_basic = s
        .walmart(reqwest::Method::POST, "/v3/token")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials");
    assert_eq!(s.status_and_body(no_basic).await.0, 401);

    let unknown = s
        .walmart(reqwest::Method::GET, "/v3/nothing-here")
        .header("WM_SEC.ACCESS_TOKEN", s.token().await);
    let (status, body) = s.status_and_body(unknown).await;
    assert_eq!(status, 404);
    assert!(body["errors"].is_array());
    let stats = s.control.stats().await.expect("stats");
    assert_eq!(stats["GET /v3/orders"].calls, 7);
}

#[tokio::test]
async fn rate_limit_headers_on_every_limited_response_and_429_when_empty() {
    let s = setup(SandboxSettings::default()).await;
    let token = s.token().await;
    let mut last = None;
    for _ in 0..61 {
        let response = s
            .walmart(reqwest::Method::GET, "/v3/orders/released")
            .header("WM_SEC.ACCESS_TOKEN", &token)
            .send()
            .await
            .expect("sent");
        let count = response.headers()["x-current-token-count"]
            .to_str()
            .expect("ascii")
            .to_owned();
        let next: i64 = response.headers()["x-next-replenishment-time"]
            .to_str()
            .expect("ascii")
            .parse()
            .expect("epoch ms");
        last = Some((response.status().as_u16(), count, next));
    }
    let (status, count, next) = last.expect("responses");
    assert_eq!((status, count.as_str()), (429, "0"), "60 per minute");
    assert_eq!(
        next,
        START.plus(Duration::from_secs(1)).millis(),
        "one token a second"
    );
    s.clock.advance(Duration::from_secs(1));
    let again = s
        .walmart(reqwest::Method::GET, "/v3/orders/released")
        .header("WM_SEC.ACCESS_TOKEN", &token);
    assert_eq!(
        s.status_and_body(again).await.0,
        404,
        "replenished: no orders, but not throttled"
    );
    assert_eq!(
        s.control.stats().await.expect("stats")["GET /v3/orders/released"].throttled,
        1
    );

    s.control
        .update_settings(&json!({ "rate_limits": false }))
        .await
        .expect("settings");
    s.control.reset_rate_limits().await.expect("reset");
    for _ in 0..70 {
        let call = s
            .walmart(reqwest::Method::GET, "/v3/orders/released")
            .header("WM_SEC.ACCESS_TOKEN", &token);
        assert_eq!(s.status_and_body(call).await.0, 404);
    }
}

#[tokio::test]
async fn control_api_settings_orders_and_store_live() {
    let s = setup(SandboxSettings::default()).await;
    s.control
        .add_catalog_items(&[CatalogItemSpec {
            gtin: ean(1),
            product_name: "Mug".into(),
            brand: None,
            product_type: None,
            price: None,
            wpid: None,
        }])
        .await
        .expect("catalog");
    assert!(
        s.control
            .add_catalog_items(&[CatalogItemSpec {
                gtin: "036000291453".into(),
                product_name: "Bad".into(),
                brand: None,
                product_type: None,
                price: None,
                wpid: None,
            }])
            .await
            .is_err(),
        "catalog GTINs need a valid check digit"
    );
    let settings = s
        .control
        .update_settings(&json!({ "store_live": false, "token_ttl_secs": 60 }))
        .await
        .expect("settings");
    assert!(!settings.store_live);
    assert_eq!(settings.token_ttl_secs, 60);
    assert_eq!(
        settings.feed_processing_secs, 600,
        "unnamed settings keep their values"
    );
    assert!(s.control.update_settings(&json!({ "no_such": 1 })).await.is_err());
    s.control
        .add_seller_items(&[SellerItemSpec {
            sku: "MUG-1".into(),
            gtin: ean(1),
            price: Some(Money::from_cents(999)),
            quantity: Some(3),
        }])
        .await
        .expect("item");
    assert_eq!(
        s.control.seller_item("MUG-1").await.expect("item")["publishedStatus"],
        "STAGE"
    );
    s.control
        .update_settings(&json!({ "store_live": true }))
        .await
        .expect("settings");
    assert_eq!(
        s.control.seller_item("MUG-1").await.expect("item")["publishedStatus"],
        "PUBLISHED",
        "staged items are published when the store goes live"
    );

    let created = s
        .control
        .create_order(&NewOrder {
            lines: vec![NewOrderLine {
                sku: "MUG-1".into(),
                quantity: 2,
                unit_price: Money::from_cents(999),
                tax: Money::from_cents(80),
                shipping: Money::from_cents(500),
                product_name: None,
            }],
            ship_to: ShipToSpec::default(),
            method_code: "Express".into(),
            order_date: None,
            purchase_order_id: Some("1796277083022".into()),
        })
        .await
        .expect("order");
    assert_eq!(created.purchase_order_id, "1796277083022");
    let order = s.control.order("1796277083022").await.expect("order");
    assert_eq!(order["orderLines"]["orderLine"][0]["item"]["productName"], "Mug");
    assert_eq!(
        order["orderLines"]["orderLine"][0]["charges"]["charge"][1]["chargeType"],
        "SHIPPING"
    );
    assert_eq!(order["shippingInfo"]["methodCode"], "Express");
    assert!(
        s.control
            .create_return(&walmart_sandbox::NewReturn {
                purchase_order_id: created.purchase_order_id.clone(),
                lines: vec![walmart_sandbox::LineQuantitySpec { line: 1, quantity: 1 }],
                reason: "DAMAGED".into(),
            })
            .await
            .is_err(),
        "returns only of shipped units"
    );
    let state = s.control.state().await.expect("state");
    assert_eq!((state.catalog_items, state.seller_items, state.orders), (1, 1, 1));
    assert!(
        s.control.exchanges().await.expect("exchanges").is_empty(),
        "control calls are not recorded"
    );
}

#[tokio::test]
async fn a_hundred_thousand_skus_and_a_ten_thousand_item_feed() {
    let settings = SandboxSettings {
        feed_received_secs: 0,
        feed_processing_secs: 1,
        ..SandboxSettings::default()
    };
    let s = setup(settings).await;
    for batch in 0..5u64 {
        let range = batch * 20_000..(batch + 1) * 20_000;
        let catalog: Vec<CatalogItemSpec> = range
            .clone()
            .map(|n| CatalogItemSpec {
                gtin: ean(n),
                product_name: format!("Product {n}"),
                brand: None,
                product_type: None,
                price: None,
                wpid: None,
            })
            .collect();
        s.control
            .add_catalog_items(&catalog)
            .await
            .expect("catalog batch");
        let items: Vec<SellerItemSpec> = range
            .map(|n| SellerItemSpec {
                sku: format!("sku-{n}"),
                gtin: ean(n),
                price: None,
                quantity: Some(1),
            })
            .collect();
        s.control.add_seller_items(&items).await.expect("items batch");
    }
    assert_eq!(s.control.state().await.expect("state").seller_items, 100_000);

    let feed = json!({
        "InventoryHeader": { "version": "1.4" },
        "Inventory": (0..10_000u64)
            .map(|n| json!({ "sku": format!("sku-{}", n * 10), "quantity": { "unit": "EACH", "amount": 7 } }))
            .collect::<Vec<_>>(),
    });
    let token = s.token().await;
    let part = reqwest::multipart::Part::bytes(serde_json::to_vec(&feed).expect("json"))
        .file_name("feed.json")
        .mime_str("application/json")
        .expect("mime");
    let (status, body) = s
        .status_and_body(
            s.walmart(reqwest::Method::POST, "/v3/feeds?feedType=inventory")
                .header("WM_SEC.ACCESS_TOKEN", &token)
                .multipart(reqwest::multipart::Form::new().part("file", part)),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let feed_id = body["feedId"].as_str().expect("feed id").to_owned();
    s.clock.advance(Duration::from_secs(2));
    let encoded: String = url::form_urlencoded::byte_serialize(feed_id.as_bytes()).collect();
    let (status, body) = s
        .status_and_body(
            s.walmart(
                reqwest::Method::GET,
                &format!("/v3/feeds/{encoded}?includeDetails=true&offset=9990&limit=50"),
            )
            .header("WM_SEC.ACCESS_TOKEN", &token),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["feedStatus"], "PROCESSED");
    assert_eq!(body["itemsSucceeded"], 10_000);
    assert_eq!(
        body["itemDetails"]["itemIngestionStatus"]
            .as_array()
            .map(Vec::len),
        Some(10)
    );
    assert_eq!(
        s.control.inventory_of("sku-99990").await.expect("inventory"),
        Some(7)
    );
    assert_eq!(
        s.control.inventory_of("sku-99991").await.expect("inventory"),
        Some(1)
    );

    let (status, body) = s
        .status_and_body(
            s.walmart(reqwest::Method::GET, "/v3/items?nextCursor=*&limit=200")
                .header("WM_SEC.ACCESS_TOKEN", &token),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["totalItems"], 100_000);
    assert!(body["nextCursor"].is_string());
}

#[tokio::test]
async fn the_binary_serves_on_the_port_it_is_given() {
    use std::io::{BufRead, BufReader};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_walmart-sandbox"))
        .args(["--port", "0", "--scale", "60"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("binary starts");
    let stdout = child.stdout.take().expect("stdout");
    // Reads log lines until the ready line names the address.
    let base_url = tokio::task::spawn_blocking(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .find_map(|line| {
                line.split_whitespace()
                    .find_map(|word| word.strip_prefix("base_url=").map(str::to_owned))
            })
    })
    .await
    .expect("reader joins");
    let health = match &base_url {
        Some(url) => ControlClient::new(url.clone())
            .state()
            .await
            .map(|s| s.now.is_some()),
        None => Ok(false),
    };
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        health.expect("control API answers"),
        "ready line seen: {base_url:?}"
    );
}
