//! The names of the counts runs report (`RunReport::counts`), which are also the metrics contract.

/// Declares each counter once, with its name: the enum, [`Counter::ALL`] and [`Counter::as_str`].
macro_rules! counters {
    ($($(#[$doc:meta])* $variant:ident => $name:literal,)+) => {
        /// A count a run reports: its name is the metric's name on the wire (EMF), in summaries and
        /// in the docs, so the names below must not change. Named here once, so that a typo cannot
        /// invent one.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Counter {
            $($(#[$doc])* $variant,)+
        }

        impl Counter {
            /// Every counter, for checks over all of them.
            pub const ALL: &[Counter] = &[$(Counter::$variant,)+];

            /// The counter's name: the key in `RunReport::counts` and the metric's name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Counter::$variant => $name,)+
                }
            }
        }
    };
}

counters! {
    AdoptedResultsApplied => "adopted_results_applied",
    AlreadyKnown => "already_known",
    AlreadySent => "already_sent",
    AwaitingTracking => "awaiting_tracking",
    AwaitingTrackingDue => "awaiting_tracking_due",
    Busy => "busy",
    CancellationRequestsNoted => "cancellation_requests_noted",
    CancellationRequestsRecorded => "cancellation_requests_recorded",
    CancellationsRefused => "cancellations_refused",
    CommerceCancellationsRefused => "commerce_cancellations_refused",
    CommerceOrdersCancelled => "commerce_orders_cancelled",
    ConfigurableParents => "configurable_parents",
    CreditMemosKnown => "credit_memos_known",
    CreditMemosWaitingForReturn => "credit_memos_waiting_for_return",
    CreditMemosWithoutReturn => "credit_memos_without_return",
    Deferred => "deferred",
    Drafts => "drafts",
    DraftsWaiting => "drafts_waiting",
    DriftFound => "drift_found",
    DuplicatesCancelled => "duplicates_cancelled",
    DuplicatesLeftOpen => "duplicates_left_open",
    FeedBudgetExhausted => "feed_budget_exhausted",
    FeedBuilderBusy => "feed_builder_busy",
    FeedDetailsPageFallbacks => "feed_details_page_fallbacks",
    FeedItemsRefused => "feed_items_refused",
    FeedItemsRetried => "feed_items_retried",
    /// A quantity recorded since an inventory feed went, which Walmart may have overwritten with
    /// the feed's older one when it processed the feed: sent again.
    FeedOverwroteNewer => "feed_overwrote_newer",
    FeedsProcessing => "feeds_processing",
    FeedsSettled => "feeds_settled",
    ImportFailures => "import_failures",
    ImportedCancelled => "imported_cancelled",
    InventoryFeeds => "inventory_feeds",
    LateShipmentsSent => "late_shipments_sent",
    ListingErrors => "listing_errors",
    ListingsCreated => "listings_created",
    ListingsFollowed => "listings_followed",
    ListingsSent => "listings_sent",
    ListingsUpdated => "listings_updated",
    ListingsWentLive => "listings_went_live",
    LiveProductsChecked => "live_products_checked",
    MatchErrors => "match_errors",
    MatchFeeds => "match_feeds",
    MatchFeedsAdopted => "match_feeds_adopted",
    Matched => "matched",
    NotChannelOrders => "not_channel_orders",
    NotInWebsite => "not_in_website",
    NotListed => "not_listed",
    NotLive => "not_live",
    OrderSkus => "order_skus",
    OrdersFailed => "OrdersFailed",
    OrdersImported => "orders_imported",
    OrdersNotInChannel => "orders_not_in_channel",
    OrdersPendingCreation => "OrdersPendingCreation",
    OrdersQueued => "orders_queued",
    OrdersRead => "orders_read",
    OrdersRequeued => "orders_requeued",
    OrdersRetried => "orders_retried",
    PagesFannedOut => "pages_fanned_out",
    PartialCancellationsCommented => "partial_cancellations_commented",
    /// The merchant paused the operation: the run did nothing (`merchant::pause`).
    PausedByMerchant => "paused_by_merchant",
    PriceFeeds => "price_feeds",
    PricesSentFeed => "prices_sent_feed",
    PricesSentSingle => "prices_sent_single",
    ProductsMatching => "products_matching",
    ProductsRead => "products_read",
    Published => "published",
    QuantitiesSentFeed => "quantities_sent_feed",
    QuantitiesSentSingle => "quantities_sent_single",
    Raced => "raced",
    Rechecked => "rechecked",
    Reconciled => "reconciled",
    RefundsFailed => "refunds_failed",
    Requeued => "requeued",
    Resubmitted => "resubmitted",
    ResultsStale => "results_stale",
    ReturnsFailed => "returns_failed",
    ReturnsKnown => "returns_known",
    ReturnsRefunded => "returns_refunded",
    ReturnsRequested => "returns_requested",
    ReturnsWaitingForShipment => "returns_waiting_for_shipment",
    RunInProgressElsewhere => "run_in_progress_elsewhere",
    ShipmentsRefused => "shipments_refused",
    ShipmentsSent => "shipments_sent",
    SkippedWalmartRecords => "skipped_walmart_records",
    SnapshotChunksWritten => "snapshot_chunks_written",
    SourceChanges => "source_changes",
    SourcePages => "source_pages",
    SpecialPricesDue => "special_prices_due",
    Tracked => "tracked",
    TrackingAddedLater => "tracking_added_later",
    Unchanged => "unchanged",
    UnitsCancelledOnWalmart => "units_cancelled_on_walmart",
    UnitsCancelledOnWalmartSide => "units_cancelled_on_walmart_side",
    UnitsShipped => "units_shipped",
    UnknownWalmartValues => "unknown_walmart_values",
    /// Orders order-import's poll found before any event did, while push is on: what the push path missed.
    OrdersFoundByPollNotEvent => "orders_found_by_poll_not_event",
    /// Walmart-side cancellations cancellation-sync's poll found before any event did, while push is on.
    CancellationsFoundByPollNotEvent => "cancellations_found_by_poll_not_event",
    PushSubscriptionCreated => "push_subscription_created",
    PushSubscriptionUpdated => "push_subscription_updated",
    /// The `ORDER_UPDATES` subscription the channel had was missing on Walmart.
    PushSubscriptionMissing => "push_subscription_missing",
    LegacySubscriptionsRemoved => "legacy_subscriptions_removed",
    PushTestNotificationFailed => "push_test_notification_failed",
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_counter_has_its_own_name() {
        let names: std::collections::BTreeSet<&str> = Counter::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), Counter::ALL.len());
    }
}
