//! What Walmart was last told about a SKU's quantity and price, so syncs send only differences.

use serde::{Deserialize, Serialize};

use crate::{ChannelId, FeedId, ListingIssue, Money, Sku, Timestamp, Wpid};

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
    /// When the value was read from Commerce: a value read earlier never replaces it, so two
    /// invocations at once cannot leave an older value recorded (and sent) after a newer one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_at: Option<Timestamp>,
    /// Written ahead of a single call whose success is not known yet, or whose call may have landed
    /// before another invocation's older call did: Walmart may not hold this value, so the next
    /// evaluation sends it again whatever it finds.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unconfirmed: bool,
}

impl<T> Sent<T> {
    pub fn new(value: T, via: SentVia, at: Timestamp) -> Self {
        Self {
            value,
            at,
            via,
            read_at: None,
            unconfirmed: false,
        }
    }

    /// Whether this value went out in `feed`.
    pub fn in_feed(&self, feed: &FeedId) -> bool {
        matches!(&self.via, SentVia::Feed { feed_id } if feed_id == feed)
    }

    /// Whether this value was read from Commerce after `read_at`: it is newer than a value read then.
    pub fn read_after(&self, read_at: Timestamp) -> bool {
        self.read_at.is_some_and(|r| r > read_at)
    }
}

impl<T: PartialEq> Sent<T> {
    /// Walmart applied `feed`, which carried `in_feed`, after this other value was recorded (sent
    /// singly while the feed was still processing, or read later than the feed's value): Walmart
    /// applies a feed's lines when it processes them, so it may now show the feed's older value.
    /// Marks this value unconfirmed, so the next evaluation sends it again; says whether it did.
    pub fn overwritten_by(&mut self, feed: &FeedId, in_feed: &T) -> bool {
        let overwritten = !self.in_feed(feed) && self.value != *in_feed;
        if overwritten {
            self.unconfirmed = true;
        }
        overwritten
    }
}

/// The offer of one SKU on Walmart as far as we know.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferState {
    pub channel: ChannelId,
    pub sku: Sku,
    pub quantity: Option<Sent<u32>>,
    pub price: Option<Sent<Money>>,
    /// Why Walmart refused the last quantity sent, if it did.
    #[serde(default)]
    pub quantity_issue: Option<ListingIssue>,
    /// Why Walmart refused the last price sent, if it did.
    #[serde(default)]
    pub price_issue: Option<ListingIssue>,
    /// When the Walmart price must be worked out again although the product did not change: the
    /// start or end of a Commerce special price.
    #[serde(default)]
    pub price_due_at: Option<Timestamp>,
}

impl OfferState {
    pub fn new(channel: ChannelId, sku: Sku) -> Self {
        Self {
            channel,
            sku,
            quantity: None,
            price: None,
            quantity_issue: None,
            price_issue: None,
            price_due_at: None,
        }
    }

    /// A quantity went to Walmart.
    pub fn quantity_sent(&mut self, value: u32, via: SentVia, at: Timestamp) {
        self.quantity = Some(Sent::new(value, via, at));
        self.quantity_issue = None;
    }

    /// A price went to Walmart.
    pub fn price_sent(&mut self, value: Money, via: SentVia, at: Timestamp) {
        self.price = Some(Sent::new(value, via, at));
        self.price_issue = None;
    }

    /// Walmart refused the quantity sent in `feed` (a later value, sent since, is left alone).
    /// A transient refusal forgets the value so the next sync sends it again; a permanent one keeps
    /// it, so the same refused value is not sent over and over, and records why.
    pub fn quantity_refused(&mut self, feed: &FeedId, issue: ListingIssue, transient: bool) -> bool {
        if !self.quantity.as_ref().is_some_and(|q| q.in_feed(feed)) {
            return false;
        }
        if transient {
            self.quantity = None;
        }
        self.quantity_issue = Some(issue);
        true
    }

    /// [`Sent::overwritten_by`] for the value a feed item Walmart applied carried.
    pub fn overwritten_by_feed(&mut self, feed: &FeedId, value: &FeedValue) -> bool {
        match value {
            FeedValue::Quantity { quantity } => self
                .quantity
                .as_mut()
                .is_some_and(|q| q.overwritten_by(feed, quantity)),
            FeedValue::Price { price } => self.price.as_mut().is_some_and(|p| p.overwritten_by(feed, price)),
            FeedValue::Match { .. } => false,
        }
    }

    /// As [`Self::quantity_refused`], for prices.
    pub fn price_refused(&mut self, feed: &FeedId, issue: ListingIssue, transient: bool) -> bool {
        if !self.price.as_ref().is_some_and(|p| p.in_feed(feed)) {
            return false;
        }
        if transient {
            self.price = None;
        }
        self.price_issue = Some(issue);
        true
    }

    /// The quantity to send, if it differs from what Walmart was last told or Walmart may not
    /// hold what was last sent (unconfirmed).
    pub fn quantity_change(&self, wanted: u32) -> Option<u32> {
        match &self.quantity {
            Some(sent) if sent.value == wanted && !sent.unconfirmed => None,
            _ => Some(wanted),
        }
    }

    /// As [`Self::quantity_change`], for prices.
    pub fn price_change(&self, wanted: Money) -> Option<Money> {
        match &self.price {
            Some(sent) if sent.value == wanted && !sent.unconfirmed => None,
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

/// Walmart's feed status as reported by `GET /v3/feeds/{feedId}`. A status Walmart added since is
/// kept as `Other`, and counts as not done: the feed is polled on until it reaches one we know.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FeedStatus {
    Received,
    Inprogress,
    Processed,
    Error,
    Other(String),
}

impl FeedStatus {
    pub fn parse(raw: &str) -> Self {
        match raw {
            "RECEIVED" => FeedStatus::Received,
            "INPROGRESS" => FeedStatus::Inprogress,
            "PROCESSED" => FeedStatus::Processed,
            "ERROR" => FeedStatus::Error,
            other => FeedStatus::Other(other.to_owned()),
        }
    }

    pub fn is_done(&self) -> bool {
        matches!(self, FeedStatus::Processed | FeedStatus::Error)
    }
}

impl FeedKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedKind::ItemMatch => "item_match",
            FeedKind::Inventory => "inventory",
            FeedKind::Price => "price",
        }
    }
}

/// A submitted feed and what is known of its outcome, kept for the dashboard. Its items (SKU,
/// value sent, outcome) are in [`FeedChunk`]s of [`FEED_CHUNK_ITEMS`], in file order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedRecord {
    pub channel: ChannelId,
    pub feed_id: FeedId,
    pub kind: FeedKind,
    pub item_count: u32,
    pub status: FeedStatus,
    pub submitted_at: Timestamp,
    pub checked_at: Option<Timestamp>,
    pub items_succeeded: u32,
    pub items_failed: u32,
    /// Item results read and applied to listings and offers so far: the offset of the next page of
    /// Walmart's item details.
    #[serde(default)]
    pub results_applied: u32,
    /// Errors of the feed as a whole (a feed in ERROR).
    #[serde(default)]
    pub feed_errors: Vec<ListingIssue>,
    /// When every result was applied: nothing is left to poll.
    #[serde(default)]
    pub settled_at: Option<Timestamp>,
}

impl FeedRecord {
    pub fn submitted(
        channel: ChannelId,
        feed_id: FeedId,
        kind: FeedKind,
        item_count: u32,
        now: Timestamp,
    ) -> Self {
        Self {
            channel,
            feed_id,
            kind,
            item_count,
            status: FeedStatus::Received,
            submitted_at: now,
            checked_at: None,
            items_succeeded: 0,
            items_failed: 0,
            results_applied: 0,
            feed_errors: Vec::new(),
            settled_at: None,
        }
    }

    /// Polled and applied to the end: the record leaves the "pending" index.
    pub fn is_settled(&self) -> bool {
        self.settled_at.is_some()
    }

    pub fn settle(&mut self, now: Timestamp) {
        self.settled_at = Some(now);
    }
}

/// Items per [`FeedChunk`]: SKUs of up to 50 characters and Walmart's messages stay well under the
/// state store's item size.
pub const FEED_CHUNK_ITEMS: usize = 500;

/// What one feed item carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FeedValue {
    /// An MP_ITEM_MATCH item, offered at this price.
    Match {
        price: Money,
    },
    Quantity {
        quantity: u32,
    },
    Price {
        price: Money,
    },
}

/// What Walmart made of one feed item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemOutcome {
    Succeeded,
    /// Refused for a reason in the data: sending it again unchanged fails again.
    Rejected,
    /// Walmart's own trouble (system error, timeout): sent again.
    Retried,
}

/// One item of a submitted feed and its outcome once known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedEntry {
    pub sku: Sku,
    pub value: FeedValue,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<ItemOutcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wpid: Option<Wpid>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub issues: Vec<ListingIssue>,
}

impl FeedEntry {
    pub fn new(sku: Sku, value: FeedValue) -> Self {
        Self {
            sku,
            value,
            outcome: None,
            wpid: None,
            issues: Vec::new(),
        }
    }
}

/// A run of [`FEED_CHUNK_ITEMS`] consecutive items of a feed (file positions `first..`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedChunk {
    pub channel: ChannelId,
    pub feed_id: FeedId,
    pub index: u32,
    pub entries: Vec<FeedEntry>,
}

impl FeedChunk {
    /// The chunks of a feed's entries, in file order.
    pub fn split(channel: &ChannelId, feed_id: &FeedId, entries: Vec<FeedEntry>) -> Vec<FeedChunk> {
        let mut chunks = Vec::with_capacity(entries.len().div_ceil(FEED_CHUNK_ITEMS));
        let mut entries = entries.into_iter().peekable();
        let mut index = 0;
        while entries.peek().is_some() {
            chunks.push(FeedChunk {
                channel: channel.clone(),
                feed_id: feed_id.clone(),
                index,
                entries: entries.by_ref().take(FEED_CHUNK_ITEMS).collect(),
            });
            index += 1;
        }
        chunks
    }

    /// The chunk holding file position `position`, and the position inside it.
    pub fn locate(position: u32) -> (u32, usize) {
        let chunk = FEED_CHUNK_ITEMS as u32;
        (position / chunk, (position % chunk) as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_differences_are_sent() {
        let mut offer = OfferState::new(ChannelId::new("main").unwrap(), Sku::new("A").unwrap());
        assert_eq!(offer.quantity_change(0), Some(0), "never sent: send even zero");
        offer.quantity = Some(Sent::new(5, SentVia::Single, Timestamp::EPOCH));
        assert_eq!(offer.quantity_change(5), None);
        assert_eq!(offer.quantity_change(4), Some(4));
        if let Some(sent) = offer.quantity.as_mut() {
            sent.unconfirmed = true;
        }
        assert_eq!(offer.quantity_change(5), Some(5), "unconfirmed: sent again");
        assert_eq!(
            offer.price_change(Money::from_cents(100)),
            Some(Money::from_cents(100))
        );
        let json = serde_json::to_value(&offer.quantity).unwrap();
        assert_eq!(json["via"], "single");
    }

    #[test]
    fn refusals_only_touch_the_value_of_their_feed() {
        let feed = FeedId::new("F1").unwrap();
        let later = FeedId::new("F2").unwrap();
        let mut offer = OfferState::new(ChannelId::new("main").unwrap(), Sku::new("A").unwrap());
        offer.quantity_sent(
            3,
            SentVia::Feed {
                feed_id: feed.clone(),
            },
            Timestamp::EPOCH,
        );
        let issue = ListingIssue::new("E", "no");
        assert!(offer.quantity_refused(&feed, issue.clone(), false));
        assert_eq!(
            offer.quantity_change(3),
            None,
            "a refused value is not sent again unchanged"
        );
        assert!(offer.quantity_issue.is_some());
        assert!(offer.quantity_refused(&feed, issue.clone(), true));
        assert_eq!(
            offer.quantity_change(3),
            Some(3),
            "a transient refusal is sent again"
        );
        offer.price_sent(
            Money::from_cents(5),
            SentVia::Feed { feed_id: later },
            Timestamp::EPOCH,
        );
        assert!(
            !offer.price_refused(&feed, issue, true),
            "a newer price is left alone"
        );
        assert!(offer.price.is_some());
    }

    #[test]
    fn a_value_recorded_after_a_feed_went_is_sent_again_once_the_feed_is_applied() {
        let feed = FeedId::new("F1").unwrap();
        let mut offer = OfferState::new(ChannelId::new("main").unwrap(), Sku::new("A").unwrap());
        offer.quantity_sent(
            10,
            SentVia::Feed {
                feed_id: feed.clone(),
            },
            Timestamp::EPOCH,
        );
        offer.price_sent(Money::from_cents(500), SentVia::Single, Timestamp::EPOCH);
        let quantity_in_feed = FeedValue::Quantity { quantity: 10 };
        assert!(
            !offer.overwritten_by_feed(&feed, &quantity_in_feed),
            "the feed's own value stands"
        );
        // A single call sent 20 while the feed (carrying 10) was still processing.
        offer.quantity_sent(20, SentVia::Single, Timestamp::EPOCH);
        assert!(offer.overwritten_by_feed(&feed, &quantity_in_feed));
        assert_eq!(offer.quantity_change(20), Some(20), "sent again");
        let same_price = FeedValue::Price {
            price: Money::from_cents(500),
        };
        assert!(
            !offer.overwritten_by_feed(&feed, &same_price),
            "same value: nothing lost"
        );
        let older_price = FeedValue::Price {
            price: Money::from_cents(400),
        };
        assert!(offer.overwritten_by_feed(&feed, &older_price));
        assert_eq!(
            offer.price_change(Money::from_cents(500)),
            Some(Money::from_cents(500))
        );
    }

    #[test]
    fn feed_entries_split_into_chunks_in_file_order() {
        let ch = ChannelId::new("main").unwrap();
        let feed = FeedId::new("F1").unwrap();
        let entries: Vec<_> = (0..1_201)
            .map(|n| {
                FeedEntry::new(
                    Sku::new(format!("S{n}")).unwrap(),
                    FeedValue::Quantity { quantity: n },
                )
            })
            .collect();
        let chunks = FeedChunk::split(&ch, &feed, entries);
        assert_eq!(
            chunks.iter().map(|c| c.entries.len()).collect::<Vec<_>>(),
            vec![500, 500, 201]
        );
        assert_eq!(FeedChunk::locate(1_200), (2, 200));
        assert_eq!(chunks[2].entries[200].sku.as_str(), "S1200");
        assert_eq!(chunks[1].index, 1);
        let json = serde_json::to_value(&chunks[0].entries[0]).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"sku": "S0", "value": {"kind": "quantity", "quantity": 0}})
        );
    }
}
