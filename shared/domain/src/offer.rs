//! What Walmart was last told about a SKU's quantity and price, so syncs send only differences.

use serde::{Deserialize, Serialize};

use crate::{ChannelId, FeedId, Money, Sku, Timestamp};

/// How a value reached Walmart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "via", rename_all = "snake_case")]
pub enum SentVia {
    /// A single-item call (`PUT /v3/inventory`, `PUT /v3/price`).
    Single,
    /// A bulk feed.
    Feed { feed_id: FeedId },
}

/// One value as sent to Walmart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sent<T> {
    pub value: T,
    pub at: Timestamp,
    #[serde(flatten)]
    pub via: SentVia,
}

/// The offer of one SKU on Walmart as far as we know.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferState {
    pub channel: ChannelId,
    pub sku: Sku,
    pub quantity: Option<Sent<u32>>,
    pub price: Option<Sent<Money>>,
}

impl OfferState {
    pub fn new(channel: ChannelId, sku: Sku) -> Self {
        Self {
            channel,
            sku,
            quantity: None,
            price: None,
        }
    }

    /// The quantity to send, if it differs from what Walmart was last told.
    pub fn quantity_change(&self, wanted: u32) -> Option<u32> {
        match &self.quantity {
            Some(sent) if sent.value == wanted => None,
            _ => Some(wanted),
        }
    }

    /// The price to send, if it differs from what Walmart was last told.
    pub fn price_change(&self, wanted: Money) -> Option<Money> {
        match &self.price {
            Some(sent) if sent.value == wanted => None,
            _ => Some(wanted),
        }
    }
}

/// Kinds of Walmart feeds the channel submits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedKind {
    /// `MP_ITEM_MATCH`: match listings to existing Walmart items.
    ItemMatch,
    /// `inventory`: bulk quantities.
    Inventory,
    /// `price`: bulk prices.
    Price,
}

/// Walmart's feed status as reported by `GET /v3/feeds/{feedId}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FeedStatus {
    Received,
    Inprogress,
    Processed,
    Error,
}

impl FeedStatus {
    pub fn is_done(self) -> bool {
        matches!(self, FeedStatus::Processed | FeedStatus::Error)
    }
}

/// A submitted feed and what is known of its outcome, kept for the dashboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedRecord {
    pub channel: ChannelId,
    pub feed_id: FeedId,
    pub kind: FeedKind,
    pub skus: Vec<Sku>,
    pub status: FeedStatus,
    pub submitted_at: Timestamp,
    pub checked_at: Option<Timestamp>,
    pub items_succeeded: u32,
    pub items_failed: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_differences_are_sent() {
        let mut offer = OfferState::new(ChannelId::new("main").unwrap(), Sku::new("A").unwrap());
        assert_eq!(offer.quantity_change(0), Some(0), "never sent: send even zero");
        offer.quantity = Some(Sent {
            value: 5,
            at: Timestamp::EPOCH,
            via: SentVia::Single,
        });
        assert_eq!(offer.quantity_change(5), None);
        assert_eq!(offer.quantity_change(4), Some(4));
        assert_eq!(
            offer.price_change(Money::from_cents(100)),
            Some(Money::from_cents(100))
        );
        let json = serde_json::to_value(&offer.quantity).unwrap();
        assert_eq!(json["via"], "single");
    }
}
