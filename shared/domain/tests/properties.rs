//! Property tests of the pure rules and of the settings parser: for any input, a value or a typed
//! error, never a panic; the inventory rules never advertise a negative quantity or more than is
//! salable; money never loses a cent. Case counts stay modest (CI runs these on every change); the
//! seeds are proptest's, and a failure prints the minimal input to add as a plain test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use serde_json::{Value, json};

use domain::{ChannelId, ChannelSettings, InventoryRules, Money, PriceRules, Rounding, Timestamp};

/// Amounts any store trades in: up to a billion dollars, both signs (refunds, adjustments).
const MAX_CENTS: i64 = 100_000_000_000;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        ..ProptestConfig::default()
    }
}

/// JSON values of any shape, a few levels deep, with the settings' own field names as keys often
/// enough to get past the first level of parsing.
fn json_value() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("id".to_owned()),
        Just("store_code".to_owned()),
        Just("selection".to_owned()),
        Just("by".to_owned()),
        Just("skus".to_owned()),
        Just("stock".to_owned()),
        Just("mode".to_owned()),
        Just("inventory".to_owned()),
        Just("safety_buffer".to_owned()),
        Just("max_advertised".to_owned()),
        Just("pricing".to_owned()),
        Just("adjustment_percent".to_owned()),
        Just("rounding".to_owned()),
        Just("minimum".to_owned()),
        Just("orders".to_owned()),
        "[a-z_]{1,12}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        any::<String>().prop_map(Value::String),
        Just(json!("main")),
        Just(json!("attribute")),
        Just(json!("msi")),
    ];
    leaf.prop_recursive(4, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..8)
                .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
}

/// Any quantity, with the extremes (a garbled Commerce answer saturates there) as likely as the middle.
fn salable() -> impl Strategy<Value = i64> {
    prop_oneof![
        any::<i64>(),
        i64::MIN..i64::MIN + (1 << 33),
        i64::MAX - (1 << 33)..=i64::MAX,
        -1_000i64..1_000_000,
    ]
}

fn inventory_rules() -> impl Strategy<Value = InventoryRules> {
    (any::<u32>(), proptest::option::of(1..=u32::MAX), any::<u32>()).prop_map(
        |(safety_buffer, max_advertised, out_of_stock_threshold)| InventoryRules {
            safety_buffer,
            max_advertised,
            out_of_stock_threshold,
        },
    )
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn channel_settings_parse_to_a_value_or_an_error(text in any::<String>()) {
        if let Ok(settings) = serde_json::from_str::<ChannelSettings>(&text) {
            let _ = settings.validate();
        }
    }

    #[test]
    fn channel_settings_of_any_shape_parse_and_validate_without_panicking(value in json_value()) {
        if let Ok(settings) = serde_json::from_value::<ChannelSettings>(value) {
            let _ = settings.validate();
        }
    }

    #[test]
    fn valid_settings_survive_a_round_trip(
        buffer in any::<u32>(),
        max in proptest::option::of(1..=u32::MAX),
        adjustment in -90..=500i32,
    ) {
        let mut settings = ChannelSettings::with_defaults(ChannelId::new("main").unwrap());
        settings.inventory.safety_buffer = buffer;
        settings.inventory.max_advertised = max;
        settings.pricing.adjustment_percent = adjustment;
        prop_assert!(settings.validate().is_ok());
        let text = serde_json::to_string(&settings).unwrap();
        prop_assert_eq!(serde_json::from_str::<ChannelSettings>(&text).unwrap(), settings);
    }

    #[test]
    fn advertised_quantity_is_never_above_salable_or_the_maximum(
        rules in inventory_rules(),
        salable in salable(),
    ) {
        let advertised = i64::from(rules.advertised(salable));
        prop_assert!(advertised <= salable.max(0), "{advertised} advertised of {salable} salable");
        prop_assert!(advertised <= salable.saturating_sub(i64::from(rules.safety_buffer)).max(0));
        if let Some(max) = rules.max_advertised {
            prop_assert!(advertised <= i64::from(max));
        }
        if salable.saturating_sub(i64::from(rules.safety_buffer)) <= i64::from(rules.out_of_stock_threshold) {
            prop_assert_eq!(advertised, 0);
        }
    }

    #[test]
    fn advertised_quantity_never_falls_when_more_is_salable(
        rules in inventory_rules(),
        salable in -1_000_000i64..1_000_000_000,
        more in 0i64..1_000_000,
    ) {
        prop_assert!(rules.advertised(salable + more) >= rules.advertised(salable));
    }

    #[test]
    fn decimal_amounts_keep_every_cent(cents in -MAX_CENTS..=MAX_CENTS) {
        let money = Money::from_cents(cents);
        prop_assert_eq!(Money::from_decimal(money.to_decimal()), Ok(money));
        let shown = money.to_string();
        let parsed: f64 = shown.parse().unwrap();
        prop_assert_eq!(Money::from_decimal(parsed), Ok(money), "shown as {}", shown);
    }

    #[test]
    fn any_decimal_gives_cents_or_an_error(amount in any::<f64>()) {
        if let Ok(money) = Money::from_decimal(amount) {
            prop_assert!((money.to_decimal() - amount).abs() <= 0.005 + amount.abs() * 1e-15);
        }
    }

    #[test]
    fn sums_and_products_lose_no_cent(
        lines in prop::collection::vec((-MAX_CENTS / 1000..=MAX_CENTS / 1000, 0u32..1000), 0..50),
    ) {
        let total: Money = lines.iter().map(|&(cents, qty)| Money::from_cents(cents) * qty).sum();
        let expected: i64 = lines.iter().map(|&(cents, qty)| cents * i64::from(qty)).sum();
        prop_assert_eq!(total.cents(), expected);
        let back = lines
            .iter()
            .fold(total, |left, &(cents, qty)| left - Money::from_cents(cents) * qty);
        prop_assert_eq!(back, Money::ZERO);
    }

    #[test]
    fn walmart_prices_are_never_negative_nor_below_the_minimum(
        base in 0..MAX_CENTS,
        special in proptest::option::of(0..MAX_CENTS),
        adjustment in -90..=500i32,
        rounding in prop_oneof![Just(Rounding::None), Just(Rounding::Whole), Just(Rounding::EndIn99)],
        minimum in proptest::option::of(0..MAX_CENTS),
    ) {
        let rules = PriceRules {
            adjustment_percent: adjustment,
            rounding,
            minimum: minimum.map(Money::from_cents),
        };
        let now = Timestamp::from_millis(1_800_000_000_000);
        let special = special.map(|cents| domain::SpecialPrice {
            price: Money::from_cents(cents),
            from: None,
            to: None,
        });
        let price = rules.walmart_price(Money::from_cents(base), special, now);
        prop_assert!(!price.is_negative());
        if let Some(min) = minimum {
            prop_assert!(price.cents() >= min);
        }
        if rounding == Rounding::None && adjustment == 0 && minimum.is_none() {
            let effective = special.map_or(base, |s| s.price.cents().min(base));
            prop_assert_eq!(price.cents(), effective, "no rule, no change: not a cent lost");
        }
    }
}
