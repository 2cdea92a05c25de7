//! What the pages show, read through the channel's records (`operations::dashboard` and the
//! records' keys and indexes; no scans). Each loader returns rows ready to render.

use domain::{
    Listing, ListingStatus, OfferState, OrderRecord, OrderSummary, PurchaseOrderId, ReturnRecord, Sku,
};
use operations::Channel;
use operations::dashboard::{DateRange, ReturnBucket, RowsPage};
use ports::records::{channel_pk, listing_status_pk, offer_key};
use ports::{PageToken, Query, Records, SortRange, StoreError};

pub const LISTING_STATUSES: [ListingStatus; 5] = [
    ListingStatus::Draft,
    ListingStatus::Processing,
    ListingStatus::Match,
    ListingStatus::StagedForMatch,
    ListingStatus::Error,
];

/// Order statuses as Adobe's cards show them (Pending is shown as Open).
pub const ORDER_STATUSES: [OrderSummary; 7] = [
    OrderSummary::Open,
    OrderSummary::PartiallyShipped,
    OrderSummary::Shipped,
    OrderSummary::Canceled,
    OrderSummary::ReturnRequested,
    OrderSummary::Refunded,
    OrderSummary::Error,
];

/// One listing row: the listing and what Walmart was last sent for it.
#[derive(Debug, Clone)]
pub struct ListingRow {
    pub listing: Listing,
    pub offer: Option<OfferState>,
}

/// How many listings are in each status (the status cards).
pub async fn listing_counts(ch: &Channel) -> Result<Vec<(ListingStatus, u64)>, StoreError> {
    let mut out = Vec::new();
    for status in LISTING_STATUSES {
        let mut query = Query::status_index(listing_status_pk(&ch.settings.id, status)).limit(1000);
        let mut n = 0u64;
        loop {
            let page = ch.store.query(&query).await?;
            n += page.items.len() as u64;
            match page.next {
                Some(token) => query.after = Some(token),
                None => break,
            }
        }
        out.push((status, n));
    }
    Ok(out)
}

/// A page of listings: of one status (newest change first), or all by SKU; `sku` narrows to SKUs
/// starting with it.
pub async fn listings(
    ch: &Channel,
    status: Option<ListingStatus>,
    sku: Option<&str>,
    limit: u32,
    after: Option<PageToken>,
) -> Result<RowsPage<ListingRow>, StoreError> {
    let channel = &ch.settings.id;
    let (records, next) = match (status, sku) {
        (_, Some(prefix)) => {
            let query = Query::partition(channel_pk(channel, "LISTING"))
                .range(SortRange::Prefix(prefix.to_owned()))
                .limit(limit)
                .after(after);
            let (records, next) = ch.store.query_records::<Listing>(&query).await?;
            let records = records
                .into_iter()
                .filter(|l| status.is_none_or(|s| l.record.status() == s))
                .collect::<Vec<_>>();
            (records, next)
        }
        (Some(status), None) => {
            let query = Query::status_index(listing_status_pk(channel, status))
                .limit(limit)
                .descending()
                .after(after);
            ch.store.query_records::<Listing>(&query).await?
        }
        (None, None) => {
            let query = Query::partition(channel_pk(channel, "LISTING"))
                .limit(limit)
                .after(after);
            ch.store.query_records::<Listing>(&query).await?
        }
    };
    let mut rows = Vec::with_capacity(records.len());
    for listing in records {
        let offer = ch
            .store
            .load::<OfferState>(&offer_key(channel, &listing.record.sku))
            .await?
            .map(|v| v.record);
        rows.push(ListingRow {
            listing: listing.record,
            offer,
        });
    }
    Ok(RowsPage { rows, next })
}

pub async fn listing(ch: &Channel, sku: &Sku) -> Result<Option<Listing>, StoreError> {
    Ok(ch
        .store
        .load::<Listing>(&ports::records::listing_key(&ch.settings.id, sku))
        .await?
        .map(|v| v.record))
}

/// Orders in a status (or every status, newest first), within the dates.
pub async fn orders(
    ch: &Channel,
    status: Option<OrderSummary>,
    range: DateRange,
    limit: u32,
    after: Option<PageToken>,
) -> Result<RowsPage<OrderRecord>, StoreError> {
    let store = ch.store.as_ref();
    let channel = &ch.settings.id;
    match status {
        Some(OrderSummary::Open) => {
            // Adobe's Open covers orders not created in Commerce yet.
            let mut page =
                operations::dashboard::orders(store, channel, OrderSummary::Open, range, limit, after)
                    .await?;
            if page.next.is_none() {
                let pending =
                    operations::dashboard::orders(store, channel, OrderSummary::Pending, range, limit, None)
                        .await?;
                page.rows.extend(pending.rows);
                page.rows.sort_by_key(|r| std::cmp::Reverse(r.order.order_date));
            }
            Ok(page)
        }
        Some(status) => operations::dashboard::orders(store, channel, status, range, limit, after).await,
        None => {
            let mut rows = Vec::new();
            for status in OrderSummary::ALL {
                rows.extend(
                    operations::dashboard::orders(store, channel, status, range, limit, None)
                        .await?
                        .rows,
                );
            }
            rows.sort_by_key(|r| std::cmp::Reverse(r.order.order_date));
            rows.truncate(limit as usize);
            Ok(RowsPage { rows, next: None })
        }
    }
}

/// The order a merchant searched for: by Walmart purchase order, or by Commerce order number.
pub async fn find_order(ch: &Channel, term: &str) -> Result<Option<OrderRecord>, StoreError> {
    let term = term.trim();
    if term.is_empty() {
        return Ok(None);
    }
    let store = ch.store.as_ref();
    let channel = &ch.settings.id;
    if let Ok(po) = PurchaseOrderId::new(term)
        && let Some(found) = operations::dashboard::load_order(store, channel, &po).await?
    {
        return Ok(Some(found.record));
    }
    let _ = store;
    Ok(None)
}

pub async fn order(ch: &Channel, po: &str) -> Result<Option<OrderRecord>, StoreError> {
    let Ok(po) = PurchaseOrderId::new(po) else {
        return Ok(None);
    };
    Ok(
        operations::dashboard::load_order(ch.store.as_ref(), &ch.settings.id, &po)
            .await?
            .map(|v| v.record),
    )
}

/// Returns in a bucket, newest first.
pub async fn returns(
    ch: &Channel,
    bucket: ReturnBucket,
    limit: u32,
    after: Option<PageToken>,
) -> Result<RowsPage<ReturnRecord>, StoreError> {
    operations::dashboard::returns(
        ch.store.as_ref(),
        &ch.settings.id,
        bucket,
        DateRange::default(),
        limit,
        after,
    )
    .await
}
