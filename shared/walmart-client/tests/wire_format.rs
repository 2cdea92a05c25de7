//! Walmart's wire format as production sends and expects it (issue 11, "Wire format and paging"
//! in `docs/fidelity.md`): each test names the fact it proves, against the sandbox's strict
//! defaults.

mod common;

use common::start;
use domain::Sku;
use ports::Deadline;

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
