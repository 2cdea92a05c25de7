//! What a sandbox run pretends to be: credentials it accepts, modules present, limits, stores.

use serde::{Deserialize, Serialize};

/// An Integration's OAuth 1.0a credentials.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthCredentials {
    pub consumer_key: String,
    pub consumer_secret: String,
    pub access_token: String,
    pub access_token_secret: String,
}

impl std::fmt::Debug for OAuthCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthCredentials")
            .field("consumer_key", &self.consumer_key)
            .finish_non_exhaustive()
    }
}

impl OAuthCredentials {
    /// Fixed, well-known test credentials (the binary prints them at start).
    pub fn sandbox() -> Self {
        Self {
            consumer_key: "sandbox-consumer-key".into(),
            consumer_secret: "sandbox-consumer-secret".into(),
            access_token: "sandbox-access-token".into(),
            access_token_secret: "sandbox-access-token-secret".into(),
        }
    }
}

/// A shipping carrier method the store offers (`carrier_method` = `<carrier>_<method>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShippingMethod {
    pub carrier_code: String,
    pub method_code: String,
    pub title: String,
    /// Charged per item unit (Magento's flat rate "per item" type).
    pub price_per_item: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SandboxSettings {
    pub oauth: Vec<OAuthCredentials>,
    /// Extra tokens accepted as `Bearer` (the OAuth access tokens are accepted too when
    /// `accept_bearer` is on, as Magento does with `enable_integration_as_bearer`).
    pub bearer_tokens: Vec<String>,
    /// "Allow OAuth Access Tokens to be used as standalone Bearer tokens"
    /// (`oauth/consumer/enable_integration_as_bearer`): off by default since 2.4.4, so a Bearer
    /// header is refused with 401 unless a test switches it on.
    pub accept_bearer: bool,
    /// Multi-Source Inventory installed: the `/V1/inventory/...` routes exist.
    pub msi: bool,
    /// Adobe Commerce's RMA module installed: the `/V1/returns` routes exist (off = Open Source).
    pub rma: bool,
    /// Input limits: the largest `searchCriteria[pageSize]` accepted (None = no limit).
    pub page_size_cap: Option<usize>,
    /// Store view codes served under `/rest/<code>/V1` (all on website `base`, stock 1).
    pub store_codes: Vec<String>,
    pub shipping_methods: Vec<ShippingMethod>,
    /// Offline payment methods switched on (code, title). Magento ships only "Check / Money order"
    /// on; "Purchase Order", the one method that stores `po_number`, is off until the merchant
    /// enables it ([`SandboxSettings::with_purchase_order`]).
    pub payment_methods: Vec<(String, String)>,
    /// `POST /V1/orders/{id}/comments` without `status` keeps the order's status (the AC-1342 fix);
    /// off = the 2.4.x releases of issue 34180, where the order's status becomes NULL.
    pub comment_keeps_status: bool,
    /// Ids a service method returns for a freshly saved entity (placed order, invoice, credit
    /// memo, customer cart) are PHP strings, `"123"`, as Magento prints them; off = JSON integers.
    pub php_scalar_ids: bool,
    /// Store attributes set "used in product listing": the only custom attributes
    /// `GET /V1/configurable-products/{sku}/children` prints besides Magento's own (special price
    /// and dates, URL key). Empty by default, as for attributes a merchant adds (`upc`,
    /// `walmart_enabled`).
    pub listing_attributes: Vec<String>,
    /// Magento 2.4.6 decodes `%2F %2B %26 %3A %40 %3D %24 %2C %3B` in the path before checking an
    /// OAuth signature (magento/magento2#37830, #37913): a path route whose SKU holds one of
    /// `/ + & : @ = $ , ;` answers 401. On by default (the strict case); off = later releases.
    pub oauth_decodes_path_delimiters: bool,
    /// How far `oauth_timestamp` may lie ahead of the store's clock
    /// (`Integration/Model/Oauth/Nonce/Generator::TIME_DEVIATION`).
    pub oauth_time_deviation_secs: u64,
    /// The store's `general/locale/timezone`: `special_from_date`/`special_to_date` and other dates
    /// without a time are days in this zone (`GET /V1/store/storeConfigs` tells it).
    pub timezone: String,
}

impl SandboxSettings {
    /// The merchant's set-up for the channel: the "Purchase Order" payment method switched on.
    pub fn with_purchase_order(mut self) -> Self {
        if !self
            .payment_methods
            .iter()
            .any(|(code, _)| code == PURCHASE_ORDER)
        {
            self.payment_methods
                .push((PURCHASE_ORDER.into(), "Purchase Order".into()));
        }
        self
    }

    /// The merchant switched on Free Shipping (off in Magento's shipped configuration), e.g. to
    /// place Walmart orders without a second shipping charge.
    pub fn with_free_shipping(mut self) -> Self {
        if !self
            .shipping_methods
            .iter()
            .any(|m| m.carrier_code == "freeshipping")
        {
            self.shipping_methods.push(ShippingMethod {
                carrier_code: "freeshipping".into(),
                method_code: "freeshipping".into(),
                title: "Free Shipping - Free".into(),
                price_per_item: 0.0,
            });
        }
        self
    }
}

/// Magento's code of the "Purchase Order" offline payment method.
pub const PURCHASE_ORDER: &str = "purchaseorder";

impl Default for SandboxSettings {
    fn default() -> Self {
        Self {
            oauth: vec![OAuthCredentials::sandbox()],
            bearer_tokens: Vec::new(),
            accept_bearer: false,
            msi: true,
            rma: true,
            page_size_cap: Some(300),
            store_codes: vec!["default".into()],
            // Magento's `OfflineShipping/etc/config.xml`: the flat rate is active at $5.00 per
            // item; free shipping (and table rates) ship inactive.
            shipping_methods: vec![ShippingMethod {
                carrier_code: "flatrate".into(),
                method_code: "flatrate".into(),
                title: "Flat Rate - Fixed".into(),
                price_per_item: 5.0,
            }],
            // Magento's `Magento/OfflinePayments/etc/config.xml`: checkmo active, purchaseorder not.
            payment_methods: vec![("checkmo".into(), "Check / Money order".into())],
            timezone: "America/Chicago".into(),
            comment_keeps_status: false,
            php_scalar_ids: true,
            listing_attributes: Vec::new(),
            oauth_decodes_path_delimiters: true,
            oauth_time_deviation_secs: 600,
        }
    }
}
