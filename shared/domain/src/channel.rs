//! A channel's settings and the pure rules they drive (what quantity and price Walmart should show).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{ChannelId, MethodCode, Money, Sku, StoreDate, StoreTimeZone, Timestamp};

/// Everything a merchant configures for one channel (one Commerce website/store view paired with one
/// Walmart seller account). Loaded and validated once at cold start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelSettings {
    pub id: ChannelId,
    /// Commerce store view code used in `/rest/<store_code>/V1/...`.
    #[serde(default = "default_store_code")]
    pub store_code: String,
    /// Commerce website id the products must be assigned to.
    #[serde(default = "default_website_id")]
    pub website_id: u32,
    /// Which Commerce products sell on Walmart.
    #[serde(default)]
    pub selection: ProductSelection,
    /// Product attribute that carries the UPC/GTIN.
    #[serde(default = "default_gtin_attribute")]
    pub gtin_attribute: String,
    #[serde(default)]
    pub stock: StockSource,
    #[serde(default)]
    pub inventory: InventoryRules,
    #[serde(default)]
    pub pricing: PriceRules,
    #[serde(default)]
    pub orders: OrderSettings,
    /// While the Walmart store is not live, matches are staged rather than published.
    #[serde(default = "default_true")]
    pub walmart_store_live: bool,
    /// Walmart's order notifications (`ORDER_UPDATES`) to the `walmart-events` receiver.
    #[serde(default)]
    pub push: crate::PushSettings,
}

fn default_store_code() -> String {
    "default".to_owned()
}
fn default_website_id() -> u32 {
    1
}
fn default_gtin_attribute() -> String {
    "upc".to_owned()
}
fn default_true() -> bool {
    true
}

impl ChannelSettings {
    /// Settings with every default, for the given channel.
    pub fn with_defaults(id: ChannelId) -> Self {
        Self {
            id,
            store_code: default_store_code(),
            website_id: default_website_id(),
            selection: ProductSelection::default(),
            gtin_attribute: default_gtin_attribute(),
            stock: StockSource::default(),
            inventory: InventoryRules::default(),
            pricing: PriceRules::default(),
            orders: OrderSettings::default(),
            walmart_store_live: true,
            push: crate::PushSettings::default(),
        }
    }

    /// Checks the cross-field rules serde cannot express. Returns every problem, not just the first.
    pub fn validate(&self) -> Result<(), Vec<String>> {
        let mut problems = Vec::new();
        if self.store_code.is_empty()
            || !self
                .store_code
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            problems.push(format!(
                "store_code {:?} must be letters, digits or '_'",
                self.store_code
            ));
        }
        if self.gtin_attribute.is_empty() {
            problems.push("gtin_attribute must not be empty".to_owned());
        }
        if let ProductSelection::Skus { skus } = &self.selection
            && skus.is_empty()
        {
            problems.push("selection.skus must list at least one SKU".to_owned());
        }
        if let Some(max) = self.inventory.max_advertised
            && max == 0
        {
            problems.push("inventory.max_advertised must be positive when set".to_owned());
        }
        if !(-90..=500).contains(&self.pricing.adjustment_percent) {
            problems.push("pricing.adjustment_percent must be between -90 and 500".to_owned());
        }
        if self.orders.max_create_attempts == 0 {
            problems.push("orders.max_create_attempts must be at least 1".to_owned());
        }
        if self.orders.payment_method.is_empty() {
            problems.push("orders.payment_method must not be empty".to_owned());
        }
        if !self.orders.other_carrier_tracking_url.contains("{number}") {
            problems.push("orders.other_carrier_tracking_url must contain {number}".to_owned());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

/// How the merchant chooses the products that sell on Walmart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum ProductSelection {
    /// An explicit list of SKUs.
    Skus { skus: Vec<Sku> },
    /// Every product in a category.
    Category { category_id: u64 },
    /// Every product whose attribute has the value (e.g. `walmart_enabled` = `1`).
    Attribute { code: String, value: String },
}

impl Default for ProductSelection {
    fn default() -> Self {
        ProductSelection::Attribute {
            code: "walmart_enabled".to_owned(),
            value: "1".to_owned(),
        }
    }
}

/// Where the salable quantity comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum StockSource {
    /// Multi-Source Inventory: the salable quantity of one stock.
    Msi { stock_id: u32 },
    /// Stores without MSI: the legacy stock item quantity.
    Legacy,
}

impl Default for StockSource {
    fn default() -> Self {
        StockSource::Msi { stock_id: 1 }
    }
}

/// Rules that turn a Commerce salable quantity into the quantity advertised on Walmart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InventoryRules {
    /// Units held back from Walmart.
    #[serde(default)]
    pub safety_buffer: u32,
    /// Never advertise more than this.
    #[serde(default)]
    pub max_advertised: Option<u32>,
    /// At or below this (after the buffer), advertise zero.
    #[serde(default)]
    pub out_of_stock_threshold: u32,
}

impl InventoryRules {
    /// The quantity Walmart should show for a Commerce salable quantity (which may be negative
    /// when reservations exceed the source quantity).
    pub fn advertised(&self, salable: i64) -> u32 {
        // Saturating: a garbled, hugely negative quantity must not wrap into a huge positive one.
        let after_buffer = salable.saturating_sub(i64::from(self.safety_buffer));
        if after_buffer <= i64::from(self.out_of_stock_threshold) {
            return 0;
        }
        let qty = u32::try_from(after_buffer).unwrap_or(u32::MAX);
        self.max_advertised.map_or(qty, |max| qty.min(max))
    }

    /// The quantity Walmart should show for a Commerce product: zero while it is disabled, else the
    /// rules applied to its salable quantity, fractional (decimal) stock rounded down since half a
    /// unit cannot be sold.
    pub fn advertised_for_product(&self, enabled: bool, salable: f64) -> u32 {
        if !enabled {
            return 0;
        }
        let whole = if salable.is_finite() {
            salable.floor() as i64
        } else {
            0
        };
        self.advertised(whole)
    }
}

/// How a price is rounded after adjustment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    /// Keep cents as computed.
    #[default]
    None,
    /// Round up to the next x.99.
    EndIn99,
    /// Round to whole units.
    Whole,
}

/// Rules that turn a Commerce price into the Walmart price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceRules {
    /// Markup (positive) or markdown (negative), in whole percent.
    #[serde(default)]
    pub adjustment_percent: i32,
    #[serde(default)]
    pub rounding: Rounding,
    /// Never send a price below this.
    #[serde(default)]
    pub minimum: Option<Money>,
}

/// A Commerce special price with its optional date window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecialPrice {
    pub price: Money,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
}

impl SpecialPrice {
    /// A special price dated as Magento dates it: from the start of the store's day `from` to the
    /// end of its day `to`, days in the store's time zone (Magento compares them with the store's
    /// current day, not UTC's).
    pub fn on_store_days(
        price: Money,
        from: Option<StoreDate>,
        to: Option<StoreDate>,
        zone: &StoreTimeZone,
    ) -> Self {
        Self {
            price,
            from: from.map(|day| zone.start_of(day)),
            to: to.map(|day| zone.end_of(day)),
        }
    }

    pub fn applies_at(&self, now: Timestamp) -> bool {
        self.from.is_none_or(|from| from <= now) && self.to.is_none_or(|to| now <= to)
    }

    /// The next time after `now` at which the special price starts or stops applying, if any: the
    /// Walmart price must be worked out again then, although nothing changed in Commerce.
    pub fn next_change_after(&self, now: Timestamp) -> Option<Timestamp> {
        let starts = self.from.filter(|from| *from > now);
        let ends = self
            .to
            .map(|to| to.plus(std::time::Duration::from_millis(1)))
            .filter(|end| *end > now);
        match (starts, ends) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

impl PriceRules {
    /// The Walmart price for a product: its special price while it applies and is lower, else the base
    /// price; then the adjustment, rounding and minimum.
    pub fn walmart_price(&self, base: Money, special: Option<SpecialPrice>, now: Timestamp) -> Money {
        let effective = match special {
            Some(sp) if sp.applies_at(now) && sp.price < base => sp.price,
            _ => base,
        };
        // Saturating, like `Money`'s operators: a corrupted price ends at the bound, never wraps.
        let adjusted = effective
            .cents()
            .saturating_mul(100_i64.saturating_add(i64::from(self.adjustment_percent)));
        // Round half up to cents.
        let mut cents = adjusted.saturating_add(50).div_euclid(100);
        cents = match self.rounding {
            Rounding::None => cents,
            Rounding::Whole => cents.saturating_add(50).div_euclid(100).saturating_mul(100),
            Rounding::EndIn99 => cents.div_euclid(100).saturating_mul(100).saturating_add(99),
        };
        let price = Money::from_cents(cents.max(0));
        match self.minimum {
            Some(min) if price < min => min,
            _ => price,
        }
    }
}

/// When to acknowledge a Walmart order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AckPolicy {
    /// Only after the Commerce order exists: an acknowledged order is always known to Commerce.
    #[default]
    AfterCommerceOrder,
    /// At import, before the Commerce order: faster acknowledgement, but a failed creation leaves an
    /// acknowledged order that someone must handle (it shows as Error on the dashboard).
    OnImport,
}

/// Who the Commerce order is placed for.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "as", rename_all = "snake_case")]
pub enum CustomerMapping {
    /// A guest order with the buyer's Walmart relay email.
    #[default]
    Guest,
    /// Every order placed for one configured customer account.
    Customer { customer_id: u64 },
}

/// How Walmart orders become Commerce orders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderSettings {
    #[serde(default)]
    pub acknowledge: AckPolicy,
    #[serde(default)]
    pub customer: CustomerMapping,
    /// Commerce `carrier_method` per Walmart method code (e.g. `Express` -> `flatrate_flatrate`).
    #[serde(default)]
    pub shipping_methods: BTreeMap<MethodCode, String>,
    /// Used for method codes without an entry above.
    #[serde(default = "default_shipping_method")]
    pub default_shipping_method: String,
    /// An offline payment method code. `purchaseorder` (Magento's built-in offline "Purchase Order") carries the
    /// Walmart purchase order id in the payment's `po_number`, where we look for it after a crash.
    #[serde(default = "default_payment_method")]
    pub payment_method: String,
    /// Creation attempts before an order is left failed for a re-drive.
    #[serde(default = "default_attempts")]
    pub max_create_attempts: u32,
    /// Walmart carrier name per Commerce carrier code (e.g. `ups` -> `UPS`); others go as otherCarrier.
    #[serde(default = "default_carriers")]
    pub carriers: BTreeMap<String, String>,
    /// Tracking URL sent with carriers Walmart does not know (Walmart requires one with
    /// `otherCarrier`); `{number}` is replaced by the tracking number.
    #[serde(default = "default_tracking_url")]
    pub other_carrier_tracking_url: String,
    /// Invoice shipped units in Commerce when their shipment reaches Walmart, so the merchant can
    /// refund them later with a credit memo. Unshipped units stay uninvoiced, so the rest of the
    /// order can still be cancelled.
    #[serde(default = "default_true")]
    pub invoice_on_shipment: bool,
    /// How far back each order-import run re-reads Walmart's released orders, for orders Walmart
    /// releases late. Known orders cost one state-store read each.
    #[serde(default = "default_import_overlap")]
    pub import_overlap_minutes: u32,
    /// RMA item attribute values (option ids of the store's `reason`, `condition` and `resolution`
    /// RMA attributes) for returns opened from Walmart.
    #[serde(default)]
    pub rma_reason: String,
    #[serde(default)]
    pub rma_condition: String,
    #[serde(default)]
    pub rma_resolution: String,
}

fn default_shipping_method() -> String {
    "flatrate_flatrate".to_owned()
}
fn default_payment_method() -> String {
    "purchaseorder".to_owned()
}
fn default_attempts() -> u32 {
    5
}
fn default_tracking_url() -> String {
    "https://www.17track.net/en/track?nums={number}".to_owned()
}
fn default_import_overlap() -> u32 {
    24 * 60
}
fn default_carriers() -> BTreeMap<String, String> {
    // Walmart's carrier list spells DHL's US service "DHL Ecommerce - US".
    [
        ("ups", "UPS"),
        ("usps", "USPS"),
        ("fedex", "FedEx"),
        ("dhl", "DHL Ecommerce - US"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

impl Default for OrderSettings {
    fn default() -> Self {
        Self {
            acknowledge: AckPolicy::default(),
            customer: CustomerMapping::default(),
            shipping_methods: BTreeMap::new(),
            default_shipping_method: default_shipping_method(),
            payment_method: default_payment_method(),
            max_create_attempts: default_attempts(),
            carriers: default_carriers(),
            other_carrier_tracking_url: default_tracking_url(),
            invoice_on_shipment: true,
            import_overlap_minutes: default_import_overlap(),
            rma_reason: String::new(),
            rma_condition: String::new(),
            rma_resolution: String::new(),
        }
    }
}

impl OrderSettings {
    /// The tracking URL for a carrier Walmart does not know.
    pub fn tracking_url_for(&self, number: &str) -> String {
        self.other_carrier_tracking_url.replace("{number}", number)
    }

    /// The Commerce `carrier_method` for a Walmart shipping method code.
    pub fn shipping_method_for(&self, code: &MethodCode) -> &str {
        self.shipping_methods
            .get(code)
            .map_or(self.default_shipping_method.as_str(), String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advertised_quantity_applies_buffer_threshold_and_cap() {
        let rules = InventoryRules {
            safety_buffer: 2,
            max_advertised: Some(50),
            out_of_stock_threshold: 1,
        };
        assert_eq!(rules.advertised(-3), 0);
        assert_eq!(rules.advertised(3), 0, "3 - 2 = 1 is at the threshold");
        assert_eq!(rules.advertised(4), 2);
        assert_eq!(rules.advertised(1000), 50);
        assert_eq!(InventoryRules::default().advertised(7), 7);
    }

    #[test]
    fn a_disabled_product_advertises_nothing_and_half_units_round_down() {
        let rules = InventoryRules::default();
        assert_eq!(rules.advertised_for_product(false, 9.0), 0);
        assert_eq!(rules.advertised_for_product(true, 5.5), 5);
        assert_eq!(rules.advertised_for_product(true, f64::NAN), 0);
    }

    #[test]
    fn a_special_price_runs_on_the_stores_days_not_utcs() {
        let chicago = StoreTimeZone::named("America/Chicago").unwrap();
        let day = |raw: &str| StoreDate::parse(raw).ok();
        let special = SpecialPrice::on_store_days(
            Money::from_cents(1500),
            day("2027-01-16 00:00:00"),
            day("2027-01-17 00:00:00"),
            &chicago,
        );
        let at = |raw: &str| Timestamp::parse_commerce(raw).unwrap();
        let rules = PriceRules::default();
        let base = Money::from_cents(1999);
        // 16th 00:30 UTC is still the 15th in Chicago.
        assert_eq!(
            rules.walmart_price(base, Some(special), at("2027-01-16 00:30:00")),
            base
        );
        assert_eq!(
            rules.walmart_price(base, Some(special), at("2027-01-16 06:00:00")),
            Money::from_cents(1500)
        );
        // 18th 03:00 UTC is still the 17th in Chicago.
        assert_eq!(
            rules.walmart_price(base, Some(special), at("2027-01-18 03:00:00")),
            Money::from_cents(1500)
        );
        assert_eq!(
            rules.walmart_price(base, Some(special), at("2027-01-18 06:00:00")),
            base
        );
        assert_eq!(
            special.next_change_after(at("2027-01-16 00:30:00")),
            Some(at("2027-01-16 06:00:00"))
        );
    }

    #[test]
    fn price_uses_special_price_inside_its_window_then_rules() {
        let now = Timestamp::from_millis(1_000);
        let base = Money::from_cents(2000);
        let special = SpecialPrice {
            price: Money::from_cents(1500),
            from: Some(Timestamp::from_millis(500)),
            to: Some(Timestamp::from_millis(2_000)),
        };
        let plain = PriceRules::default();
        assert_eq!(
            plain.walmart_price(base, Some(special), now),
            Money::from_cents(1500)
        );
        assert_eq!(
            plain.walmart_price(base, Some(special), Timestamp::from_millis(3_000)),
            base
        );
        assert_eq!(
            special.next_change_after(Timestamp::from_millis(100)),
            Some(Timestamp::from_millis(500))
        );
        assert_eq!(
            special.next_change_after(now),
            Some(Timestamp::from_millis(2_001))
        );
        assert_eq!(special.next_change_after(Timestamp::from_millis(2_001)), None);
        let higher = SpecialPrice {
            price: Money::from_cents(2500),
            from: None,
            to: None,
        };
        assert_eq!(plain.walmart_price(base, Some(higher), now), base);

        let markup = PriceRules {
            adjustment_percent: 10,
            rounding: Rounding::EndIn99,
            minimum: None,
        };
        assert_eq!(markup.walmart_price(base, None, now), Money::from_cents(2299));
        // A corrupted price saturates instead of wrapping to a small or negative one.
        let huge = markup.walmart_price(Money::from_cents(i64::MAX / 2), None, now);
        assert!(huge.cents() > i64::MAX / 200, "{huge}");
        let whole = PriceRules {
            adjustment_percent: -15,
            rounding: Rounding::Whole,
            minimum: None,
        };
        assert_eq!(
            whole.walmart_price(Money::from_cents(1999), None, now),
            Money::from_cents(1700)
        );
        let floor = PriceRules {
            adjustment_percent: -50,
            rounding: Rounding::None,
            minimum: Some(base),
        };
        assert_eq!(floor.walmart_price(base, None, now), base);
    }

    #[test]
    fn settings_parse_with_defaults_and_validate() {
        let s: ChannelSettings = serde_json::from_str(r#"{"id":"main"}"#).unwrap();
        assert_eq!(s, ChannelSettings::with_defaults(ChannelId::new("main").unwrap()));
        assert!(s.validate().is_ok());
        assert!(serde_json::from_str::<ChannelSettings>(r#"{"id":"main","typo":1}"#).is_err());
        let bad: ChannelSettings =
            serde_json::from_str(r#"{"id":"main","store_code":"a b","selection":{"by":"skus","skus":[]}}"#)
                .unwrap();
        assert_eq!(bad.validate().unwrap_err().len(), 2);
        let express = MethodCode::new("Express").unwrap();
        let mut orders = OrderSettings::default();
        assert_eq!(orders.shipping_method_for(&express), "flatrate_flatrate");
        orders
            .shipping_methods
            .insert(express.clone(), "tablerate_bestway".to_owned());
        assert_eq!(orders.shipping_method_for(&express), "tablerate_bestway");
        assert_eq!(
            orders.tracking_url_for("1Z9"),
            "https://www.17track.net/en/track?nums=1Z9"
        );
        let mut no_placeholder = ChannelSettings::with_defaults(ChannelId::new("main").unwrap());
        no_placeholder.orders.other_carrier_tracking_url = "https://track.example".into();
        assert_eq!(no_placeholder.validate().unwrap_err().len(), 1);
    }
}
