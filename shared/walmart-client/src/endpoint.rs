//! The Walmart operations this client calls. Rate limits, counters, errors and logs are all keyed
//! by [`Endpoint`], so "which call was throttled" is always answerable.

use std::fmt;

use serde::{Deserialize, Serialize};

pub use ports::walmart::FeedType;

/// One Walmart operation as the client uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Endpoint {
    Token,
    ListItems,
    GetItem,
    CatalogSearch,
    SubmitFeed(FeedType),
    ListFeeds,
    FeedStatus,
    GetInventory,
    UpdateInventory,
    UpdatePrice,
    ListOrders,
    ListReleasedOrders,
    GetOrder,
    AcknowledgeOrder,
    ShipOrderLines,
    CancelOrderLines,
    RefundOrderLines,
    ListReturns,
    RefundReturn,
    ListSubscriptions,
    CreateSubscription,
    UpdateSubscription,
    DeleteSubscription,
    TestNotification,
}

impl Endpoint {
    pub const ALL: [Endpoint; 27] = [
        Endpoint::Token,
        Endpoint::ListItems,
        Endpoint::GetItem,
        Endpoint::CatalogSearch,
        Endpoint::SubmitFeed(FeedType::ItemMatch),
        Endpoint::SubmitFeed(FeedType::Inventory),
        Endpoint::SubmitFeed(FeedType::MultiNodeInventory),
        Endpoint::SubmitFeed(FeedType::Price),
        Endpoint::ListFeeds,
        Endpoint::FeedStatus,
        Endpoint::GetInventory,
        Endpoint::UpdateInventory,
        Endpoint::UpdatePrice,
        Endpoint::ListOrders,
        Endpoint::ListReleasedOrders,
        Endpoint::GetOrder,
        Endpoint::AcknowledgeOrder,
        Endpoint::ShipOrderLines,
        Endpoint::CancelOrderLines,
        Endpoint::RefundOrderLines,
        Endpoint::ListReturns,
        Endpoint::RefundReturn,
        Endpoint::ListSubscriptions,
        Endpoint::CreateSubscription,
        Endpoint::UpdateSubscription,
        Endpoint::DeleteSubscription,
        Endpoint::TestNotification,
    ];

    /// A stable name for logs and counters, e.g. `POST /v3/feeds?feedType=price`.
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::Token => "POST /v3/token",
            Endpoint::ListItems => "GET /v3/items",
            Endpoint::GetItem => "GET /v3/items/{id}",
            Endpoint::CatalogSearch => "GET /v3/items/walmart/search",
            Endpoint::SubmitFeed(FeedType::ItemMatch) => "POST /v3/feeds?feedType=MP_ITEM_MATCH",
            Endpoint::SubmitFeed(FeedType::Inventory) => "POST /v3/feeds?feedType=inventory",
            Endpoint::SubmitFeed(FeedType::MultiNodeInventory) => "POST /v3/feeds?feedType=MP_INVENTORY",
            Endpoint::SubmitFeed(FeedType::Price) => "POST /v3/feeds?feedType=price",
            Endpoint::ListFeeds => "GET /v3/feeds",
            Endpoint::FeedStatus => "GET /v3/feeds/{feedId}",
            Endpoint::GetInventory => "GET /v3/inventory",
            Endpoint::UpdateInventory => "PUT /v3/inventory",
            Endpoint::UpdatePrice => "PUT /v3/price",
            Endpoint::ListOrders => "GET /v3/orders",
            Endpoint::ListReleasedOrders => "GET /v3/orders/released",
            Endpoint::GetOrder => "GET /v3/orders/{purchaseOrderId}",
            Endpoint::AcknowledgeOrder => "POST /v3/orders/{purchaseOrderId}/acknowledge",
            Endpoint::ShipOrderLines => "POST /v3/orders/{purchaseOrderId}/shipping",
            Endpoint::CancelOrderLines => "POST /v3/orders/{purchaseOrderId}/cancel",
            Endpoint::RefundOrderLines => "POST /v3/orders/{purchaseOrderId}/refund",
            Endpoint::ListReturns => "GET /v3/returns",
            Endpoint::RefundReturn => "POST /v3/returns/{returnOrderId}/refund",
            Endpoint::ListSubscriptions => "GET /v3/webhooks/subscriptions",
            Endpoint::CreateSubscription => "POST /v3/webhooks/subscriptions",
            Endpoint::UpdateSubscription => "PATCH /v3/webhooks/subscriptions/{subscriptionId}",
            Endpoint::DeleteSubscription => "DELETE /v3/webhooks/subscriptions/{subscriptionId}",
            Endpoint::TestNotification => "POST /v3/webhooks/test",
        }
    }

    /// Whether repeating the call cannot change the outcome (reads, absolute-value updates, and
    /// acknowledging, which Walmart accepts again without change). Only these are retried after a
    /// timeout, a 5xx or a response whose body could not be read.
    pub fn is_idempotent(self) -> bool {
        matches!(
            self,
            Endpoint::Token
                | Endpoint::ListItems
                | Endpoint::GetItem
                | Endpoint::CatalogSearch
                | Endpoint::FeedStatus
                | Endpoint::ListFeeds
                | Endpoint::GetInventory
                | Endpoint::UpdateInventory
                | Endpoint::UpdatePrice
                | Endpoint::ListOrders
                | Endpoint::ListReleasedOrders
                | Endpoint::GetOrder
                | Endpoint::AcknowledgeOrder
                | Endpoint::ListReturns
                | Endpoint::ListSubscriptions
                | Endpoint::UpdateSubscription
        )
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_feed_types_round_trip() {
        let names: std::collections::BTreeSet<_> = Endpoint::ALL.iter().map(|e| e.name()).collect();
        assert_eq!(names.len(), Endpoint::ALL.len());
        for t in FeedType::ALL {
            assert_eq!(FeedType::parse(t.as_str()), Some(t));
        }
        assert_eq!(FeedType::parse("item"), None);
    }
}
