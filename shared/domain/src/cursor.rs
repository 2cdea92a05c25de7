//! Sync cursors: how far each stream of a channel has been read.

use serde::{Deserialize, Serialize};

use crate::{ChannelId, Timestamp};

/// A stream of changes the channel follows. One cursor per channel and stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stream {
    /// Commerce products updated since (catalog-import).
    CommerceProducts,
    /// Commerce product prices updated since (price-sync).
    CommercePrices,
    /// Walmart purchase orders created since (order-import).
    WalmartOrders,
    /// Commerce shipments updated since (shipment-sync).
    CommerceShipments,
    /// Commerce orders updated since, to find cancellations (cancellation-sync).
    CommerceOrders,
    /// Walmart orders modified since, to find Walmart-side cancellations (cancellation-sync).
    WalmartOrderChanges,
    /// Walmart returns created since (returns-sync).
    WalmartReturns,
    /// Commerce credit memos updated since (returns-sync).
    CommerceCreditMemos,
    /// Last full inventory reconciliation (inventory-sync).
    InventoryReconciliation,
    /// Commerce orders of any channel updated since: their reservations change salable quantities
    /// (inventory-sync).
    InventoryOrders,
    /// Listings that went live on Walmart since, to get their first quantity (inventory-sync).
    InventoryListings,
    /// Listings that went live on Walmart since, to check their price (price-sync).
    PriceListings,
}

impl Stream {
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::CommerceProducts => "commerce_products",
            Stream::CommercePrices => "commerce_prices",
            Stream::WalmartOrders => "walmart_orders",
            Stream::CommerceShipments => "commerce_shipments",
            Stream::CommerceOrders => "commerce_orders",
            Stream::WalmartOrderChanges => "walmart_order_changes",
            Stream::WalmartReturns => "walmart_returns",
            Stream::CommerceCreditMemos => "commerce_credit_memos",
            Stream::InventoryReconciliation => "inventory_reconciliation",
            Stream::InventoryOrders => "inventory_orders",
            Stream::InventoryListings => "inventory_listings",
            Stream::PriceListings => "price_listings",
        }
    }
}

/// Position in a stream: the time up to which changes were seen. Readers re-read an overlap window
/// before it, so a change committed late with an older timestamp is not missed; records are
/// idempotent by business key so the overlap is harmless.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncCursor {
    pub channel: ChannelId,
    pub stream: Stream,
    pub seen_until: Timestamp,
    pub advanced_at: Timestamp,
}

impl SyncCursor {
    pub fn start(channel: ChannelId, stream: Stream, from: Timestamp) -> Self {
        Self {
            channel,
            stream,
            seen_until: from,
            advanced_at: from,
        }
    }

    /// Moves forward only: a late or replayed run never moves a cursor back.
    pub fn advance(&mut self, seen_until: Timestamp, now: Timestamp) {
        if seen_until > self.seen_until {
            self.seen_until = seen_until;
        }
        self.advanced_at = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_never_moves_back() {
        let ch = ChannelId::new("main").unwrap();
        let mut c = SyncCursor::start(ch, Stream::WalmartOrders, Timestamp::from_millis(100));
        c.advance(Timestamp::from_millis(50), Timestamp::from_millis(200));
        assert_eq!(c.seen_until, Timestamp::from_millis(100));
        c.advance(Timestamp::from_millis(150), Timestamp::from_millis(300));
        assert_eq!(c.seen_until, Timestamp::from_millis(150));
        assert_eq!(c.advanced_at, Timestamp::from_millis(300));
    }
}
