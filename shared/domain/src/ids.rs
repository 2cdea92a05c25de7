//! Identifiers. Each is a newtype so a `Sku` can never be passed where a `PurchaseOrderId` is meant,
//! and each validates on construction so the rest of the code can trust it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a raw value was rejected as an identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} {value:?}: {reason}")]
pub struct InvalidId {
    pub kind: &'static str,
    pub value: String,
    pub reason: &'static str,
}

impl InvalidId {
    fn new(kind: &'static str, value: &str, reason: &'static str) -> Self {
        Self {
            kind,
            value: value.to_owned(),
            reason,
        }
    }
}

/// Declares a validated string identifier with serde support that re-validates on deserialisation.
macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $check:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn new(raw: impl Into<String>) -> Result<Self, InvalidId> {
                let raw = raw.into();
                let check: fn(&str) -> Result<(), &'static str> = $check;
                check(&raw).map_err(|reason| InvalidId::new($kind, &raw, reason))?;
                Ok(Self(raw))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidId;
            fn try_from(raw: String) -> Result<Self, Self::Error> {
                Self::new(raw)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = InvalidId;
            fn from_str(raw: &str) -> Result<Self, Self::Err> {
                Self::new(raw)
            }
        }
    };
}

fn non_empty_trimmed(raw: &str, max: usize) -> Result<(), &'static str> {
    if raw.is_empty() {
        return Err("must not be empty");
    }
    if raw.trim() != raw {
        return Err("must not start or end with whitespace");
    }
    if raw.chars().count() > max {
        return Err("too long");
    }
    if raw.chars().any(char::is_control) {
        return Err("must not contain control characters");
    }
    Ok(())
}

fn digits(raw: &str, max: usize) -> Result<(), &'static str> {
    non_empty_trimmed(raw, max)?;
    if raw.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err("must be digits only")
    }
}

string_id!(
    /// A channel: one Commerce website/store view paired with one Walmart seller account. It prefixes
    /// every stored key, so it is restricted to characters that are safe inside keys and names.
    ChannelId,
    "channel id",
    |raw| {
        non_empty_trimmed(raw, 40)?;
        if raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
            Ok(())
        } else {
            Err("only lowercase letters, digits and '-' are allowed")
        }
    }
);

string_id!(
    /// Seller SKU, shared by the Commerce product and the Walmart item (Walmart allows up to 50 characters).
    Sku,
    "sku",
    |raw| non_empty_trimmed(raw, 50)
);

string_id!(
    /// Walmart Product ID of a matched item.
    Wpid,
    "WPID",
    |raw| {
        non_empty_trimmed(raw, 20)?;
        if raw.bytes().all(|b| b.is_ascii_alphanumeric()) { Ok(()) } else { Err("must be alphanumeric") }
    }
);

string_id!(
    /// Walmart purchase order id: the business key of an order.
    PurchaseOrderId,
    "purchase order id",
    |raw| digits(raw, 20)
);

string_id!(
    /// Walmart customer order id (what the buyer sees).
    CustomerOrderId,
    "customer order id",
    |raw| non_empty_trimmed(raw, 40)
);

string_id!(
    /// Walmart return order id.
    ReturnOrderId,
    "return order id",
    |raw| non_empty_trimmed(raw, 40)
);

string_id!(
    /// Walmart feed id (may contain '@', which must be percent-encoded in URLs).
    FeedId,
    "feed id",
    |raw| non_empty_trimmed(raw, 100)
);

string_id!(
    /// Commerce order increment id: the order number merchants see (e.g. "000000123").
    IncrementId,
    "increment id",
    |raw| non_empty_trimmed(raw, 50)
);

string_id!(
    /// Walmart shipping method code (Standard, Express, OneDay, ...).
    MethodCode,
    "method code",
    |raw| non_empty_trimmed(raw, 30)
);

/// Declares a numeric Commerce entity id.
macro_rules! entity_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub u64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

entity_id!(
    /// Commerce catalog product entity id.
    CommerceProductId
);
entity_id!(
    /// Commerce sales order entity id (not the increment id).
    CommerceOrderId
);
entity_id!(
    /// Commerce shipment entity id.
    CommerceShipmentId
);
entity_id!(
    /// Commerce credit memo entity id.
    CreditMemoId
);
entity_id!(
    /// Commerce RMA (return) entity id.
    RmaId
);

/// A Walmart order line number ("1", "2", ...), kept numeric for ordering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LineNumber(pub u32);

impl fmt::Display for LineNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::str::FromStr for LineNumber {
    type Err = InvalidId;
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        raw.parse::<u32>()
            .ok()
            .filter(|n| *n > 0)
            .map(LineNumber)
            .ok_or_else(|| InvalidId::new("line number", raw, "must be a positive integer"))
    }
}

/// The kind of a product identifier, named as Walmart's `productIdType` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum GtinKind {
    /// GTIN-8 (EAN-8).
    Gtin8,
    /// UPC-A, 12 digits.
    Upc,
    /// EAN-13.
    Ean,
    /// GTIN-14.
    Gtin,
}

/// A product identifier from the GS1 family (UPC-A, EAN-13, GTIN-8, GTIN-14) with a valid check digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Gtin(String);

impl Gtin {
    /// Accepts the digits of a GTIN-8, UPC-A (12), EAN-13 or GTIN-14, with spaces and dashes ignored.
    pub fn parse(raw: &str) -> Result<Self, InvalidId> {
        let cleaned: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        if cleaned.is_empty() {
            return Err(InvalidId::new("GTIN", raw, "must not be empty"));
        }
        if !cleaned.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidId::new("GTIN", raw, "must be digits only"));
        }
        if !matches!(cleaned.len(), 8 | 12 | 13 | 14) {
            return Err(InvalidId::new("GTIN", raw, "must have 8, 12, 13 or 14 digits"));
        }
        if !Self::check_digit_ok(&cleaned) {
            return Err(InvalidId::new("GTIN", raw, "check digit does not match"));
        }
        Ok(Self(cleaned))
    }

    /// GS1 mod-10: weights 3,1,3,... from the rightmost data digit.
    fn check_digit_ok(digits: &str) -> bool {
        let bytes = digits.as_bytes();
        let (data, check) = bytes.split_at(bytes.len() - 1);
        let sum: u32 = data
            .iter()
            .rev()
            .enumerate()
            .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 3 } else { 1 })
            .sum();
        (10 - sum % 10) % 10 == u32::from(check[0] - b'0')
    }

    pub fn kind(&self) -> GtinKind {
        match self.0.len() {
            8 => GtinKind::Gtin8,
            12 => GtinKind::Upc,
            13 => GtinKind::Ean,
            _ => GtinKind::Gtin,
        }
    }

    /// The same identifier zero-padded to 14 digits, the form catalogs compare on.
    pub fn to_gtin14(&self) -> String {
        format!("{:0>14}", self.0)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Gtin {
    type Error = InvalidId;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<Gtin> for String {
    fn from(id: Gtin) -> String {
        id.0
    }
}

impl fmt::Display for Gtin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gtin_accepts_valid_check_digits_of_every_length() {
        for raw in ["96385074", "036000291452", "4006381333931", "10614141000415"] {
            assert!(Gtin::parse(raw).is_ok(), "{raw}");
        }
        assert_eq!(Gtin::parse("0360-0029 1452").unwrap().as_str(), "036000291452");
        assert_eq!(Gtin::parse("036000291452").unwrap().kind(), GtinKind::Upc);
        assert_eq!(Gtin::parse("036000291452").unwrap().to_gtin14(), "00036000291452");
    }

    #[test]
    fn gtin_rejects_bad_input_with_a_reason() {
        let err = Gtin::parse("036000291453").unwrap_err();
        assert_eq!(err.reason, "check digit does not match");
        assert_eq!(
            Gtin::parse("12345").unwrap_err().reason,
            "must have 8, 12, 13 or 14 digits"
        );
        assert_eq!(
            Gtin::parse("03600029145X").unwrap_err().reason,
            "must be digits only"
        );
        assert_eq!(Gtin::parse("").unwrap_err().reason, "must not be empty");
    }

    #[test]
    fn ids_validate_and_round_trip_through_serde() {
        assert!(ChannelId::new("Main").is_err());
        assert!(ChannelId::new("us-main-1").is_ok());
        assert!(Sku::new("").is_err());
        assert!(Sku::new(" a").is_err());
        assert!(Sku::new("x".repeat(51)).is_err());
        assert!(PurchaseOrderId::new("12a").is_err());
        let po = PurchaseOrderId::new("1796277083022").unwrap();
        let json = serde_json::to_string(&po).unwrap();
        assert_eq!(json, "\"1796277083022\"");
        assert!(serde_json::from_str::<PurchaseOrderId>("\"x\"").is_err());
        assert_eq!("3".parse::<LineNumber>().unwrap(), LineNumber(3));
        assert!("0".parse::<LineNumber>().is_err());
    }
}
