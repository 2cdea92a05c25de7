use super::*;

fn change(sku: &str, quantity: u32, previous: Option<u32>) -> QuantityChange {
    QuantityChange {
        sku: Sku::new(sku).unwrap(),
        quantity,
        previous,
        read_at: Timestamp::EPOCH,
    }
}

#[test]
fn few_changes_go_single_and_stock_outs_first() {
    let changes = vec![
        change("UP", 9, Some(3)),
        change("OUT", 0, Some(4)),
        change("NEW", 5, None),
        change("DOWN", 2, Some(6)),
    ];
    let p = plan(changes, 10, true);
    let order: Vec<&str> = p.singles.iter().map(|c| c.sku.as_str()).collect();
    assert_eq!(order, vec!["OUT", "DOWN", "NEW", "UP"]);
    assert!(p.feed.is_empty() && p.deferred.is_empty());
}

#[test]
fn many_changes_go_in_a_feed_with_stock_outs_still_single() {
    let mut changes: Vec<_> = (0..50)
        .map(|n| change(&format!("S{n:02}"), n + 1, Some(100)))
        .collect();
    changes.push(change("OUT-A", 0, Some(3)));
    changes.push(change("OUT-B", 0, None));
    let p = plan(changes, 10, true);
    assert_eq!(p.singles.len(), 2);
    assert!(p.singles.iter().all(|c| c.quantity == 0));
    assert_eq!(p.feed.len(), 50);
    let no_feed = plan(p.feed.clone(), 10, false);
    assert_eq!((no_feed.singles.len(), no_feed.deferred.len()), (10, 40));
    assert!(plan(Vec::new(), 0, false) == InventoryPlan::default());
}

#[test]
fn urgent_messages_are_the_documented_json() {
    let m: UrgentSkus = serde_json::from_str(r#"{"skus": ["A", "B"]}"#).unwrap();
    assert_eq!(m.skus.len(), 2);
    assert!(serde_json::from_str::<UrgentSkus>(r#"{"skus": [""]}"#).is_err());
    assert!(serde_json::from_str::<UrgentSkus>(r#"{"sku": "A"}"#).is_err());
}

#[test]
fn fingerprints_change_when_a_source_goes_out_of_stock() {
    let item = |q: f64, status: i64| ports::commerce::model::SourceItem {
        sku: "A".into(),
        source_code: "default".into(),
        quantity: q,
        in_stock: status == 1,
    };
    assert_eq!(source_fingerprint(&[item(3.0, 1), item(2.0, 1)]), 5.0);
    assert_ne!(
        source_fingerprint(&[item(3.0, 1), item(0.0, 1)]),
        source_fingerprint(&[item(3.0, 1), item(0.0, 0)])
    );
}
