//! Walmart's wire format as production sends and expects it (issue 11, "Wire format and paging"
//! in `docs/fidelity.md`): each test names the fact it proves, against the sandbox's strict
//! defaults.

mod common;

use common::start;
use domain::Sku;
use ports::Deadline;
use walmart_sandbox::DEFAULT_CLIENT_ID;

fn sku(raw: &str) -> Sku {
    Sku::new(raw).expect("valid sku")
}

/// Fact 9: the spec's examples of `PUT /v3/inventory` carry `"amount": 10`, an integer.
#[tokio::test]
async fn inventory_amount_is_sent_as_a_whole_number() {
    let h = start().await;
    h.seed_items(0..1).await;
    h.client
        .update_inventory(&sku("sku-0"), 10, &Deadline::none())
        .await
        .expect("inventory set");
    let put = &h.exchanges_to("PUT", "/v3/inventory")[0];
    let amount = &put.request_body.as_ref().expect("body")["quantity"]["amount"];
    assert!(amount.is_u64(), "amount sent as {amount}, not an integer");
    assert_eq!(amount.as_u64(), Some(10));
    assert_eq!(
        h.client
            .get_inventory(&sku("sku-0"), &Deadline::none())
            .await
            .expect("read back"),
        10
    );
}

/// Fact 5: Walmart answers 500 to a POST without `Content-Type`, even a bodiless acknowledge.
#[tokio::test]
async fn every_post_carries_a_content_type_and_walmart_fails_one_without() {
    let h = start().await;
    h.seed_items(0..1).await;
    let po = domain::PurchaseOrderId::new(h.order(&[("sku-0", 1)]).await).expect("po");
    h.client
        .acknowledge(&po, &Deadline::none())
        .await
        .expect("acknowledged against the strict sandbox");
    let posts = h.exchanges_to("POST", "/v3/");
    assert!(posts.iter().any(|e| e.path.ends_with("/acknowledge")));
    for post in &posts {
        assert!(
            post.request_headers.contains_key("content-type"),
            "{} sent without a Content-Type",
            post.path
        );
    }
    let ack = posts
        .iter()
        .find(|e| e.path.ends_with("/acknowledge"))
        .expect("acknowledge recorded");
    assert_eq!(ack.request_content_type.as_deref(), Some("application/json"));

    // The sandbox, like Walmart, fails the same call without the header.
    let token = posts
        .iter()
        .find(|e| e.path == "/v3/token")
        .and_then(|e| e.response_body.as_ref())
        .and_then(|b| b["access_token"].as_str())
        .expect("token issued")
        .to_owned();
    let bare = reqwest::Client::new()
        .post(format!("{}/v3/orders/{po}/acknowledge", h.sandbox.base_url()))
        .header("WM_SVC.NAME", "test")
        .header("WM_QOS.CORRELATION_ID", "c-1")
        .header("Accept", "application/json")
        .header("WM_SEC.ACCESS_TOKEN", token)
        .basic_auth(DEFAULT_CLIENT_ID, Some("unused"))
        .send()
        .await
        .expect("sandbox answers");
    assert_eq!(bare.status().as_u16(), 500);
    let body: serde_json::Value = bare.json().await.expect("error body");
    assert!(
        body.to_string().contains("SYSTEM_ERROR.GMP_GATEWAY_API"),
        "{body}"
    );
}
