//! The listings page: every product of the channel with Adobe's listing states (Draft, Processing,
//! Match, Staged for Match, Error), status cards with counts, a filter by state, sorting by SKU or by
//! the last status change, search by SKU prefix, paged.
//!
//! Every read goes through keys: a state sorted by its last change is one status-index partition;
//! SKU order (all states, or a prefix) is the listings' own partition, sorted by SKU; a state in SKU
//! order reads the SKU partition and keeps that state's rows, at most [`MAX_SCANNED`] listings per
//! page (the page then ends early, with a token to go on). Counts come from the store's count of
//! each status partition, kept for a short while in one record (`CH#{ch}#DASHBOARD` /
//! `listing_counts`), so 100,000 listings cost a count only once per [`ListingCounts`] lifetime.

use std::collections::BTreeMap;
use std::time::Duration;

use domain::{
    ChannelId, FeedId, Gtin, Listing, ListingIssue, ListingStatus, Money, OfferState, Sku, Timestamp, Wpid,
};
use ports::records::{
    channel_pk, listing_awaiting_selection_pk, listing_key, listing_status_pk, offer_key, stock_chunk_key,
};
use ports::{Key, PageToken, Query, Record, Records, SortRange, StateStore, StoreError, Versioned};
use serde::{Deserialize, Serialize};

use super::RowsPage;
use crate::Channel;
use crate::feeds::{STORE_CONCURRENCY, concurrently};

/// Most listings one page reads when a state is shown in SKU order.
pub const MAX_SCANNED: usize = 5_000;

/// Which listings to show.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "show", content = "status")]
pub enum ListingFilter {
    #[default]
    All,
    /// One state (Draft here means drafts on their way to matching).
    Status(ListingStatus),
    /// Drafts waiting for the merchant's selection (manual match mode); Adobe shows them as Draft.
    AwaitingSelection,
}

/// The order of the rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListingSort {
    #[default]
    SkuAscending,
    SkuDescending,
    /// Last status change, newest first (only with a state filter; SKU order otherwise).
    ChangedNewest,
    ChangedOldest,
}

/// Adobe's name of a listing state.
pub fn adobe_label(status: ListingStatus) -> &'static str {
    match status {
        ListingStatus::Draft => "Draft",
        ListingStatus::Processing => "Processing",
        ListingStatus::Match => "Match",
        ListingStatus::StagedForMatch => "Staged for Match",
        ListingStatus::Error => "Error",
    }
}

pub const LISTING_STATUSES: [ListingStatus; 5] = [
    ListingStatus::Draft,
    ListingStatus::Processing,
    ListingStatus::Match,
    ListingStatus::StagedForMatch,
    ListingStatus::Error,
];

/// A listing problem as the merchant reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssueView {
    pub code: String,
    /// What is wrong (Walmart's own words included where it gave any).
    pub reason: String,
    /// What to do about it.
    pub fix: &'static str,
}

impl IssueView {
    pub fn of(issue: &ListingIssue) -> Self {
        Self {
            code: issue.code.clone(),
            reason: issue.message.clone(),
            fix: remedy(&issue.code),
        }
    }
}

/// What the merchant does about an issue, by its code.
pub fn remedy(code: &str) -> &'static str {
    match code {
        domain::ISSUE_MISSING_IDENTIFIER => {
            "Add the product's UPC/GTIN in Commerce; the listing is matched again once it changes."
        }
        domain::ISSUE_INVALID_IDENTIFIER | "ERR_EXT_DATA_0801002" => {
            "Correct the UPC/GTIN in Commerce (12, 13 or 14 digits with a valid check digit)."
        }
        domain::ISSUE_MISSING_PRICE => "Give the product a price in Commerce.",
        domain::ISSUE_MISSING_WEIGHT => "Give the product a weight in Commerce.",
        domain::ISSUE_WALMART_RETRY => "Nothing: it is sent again in the next match feed.",
        domain::ISSUE_WALMART_UNREADABLE => "Check the item in Seller Center, then retry the match.",
        "ERR_EXT_DATA_0101001" => {
            "Check the identifier in Commerce, or set the item up in Walmart's Seller Center, then retry the match."
        }
        "ERR_EXT_DATA_0801001" | "ERR_EXT_DATA_0801003" => {
            "Correct the value in Commerce; the listing is matched again once it changes."
        }
        _ => {
            "Read Walmart's reason, fix the product in Commerce or the item in Seller Center, then retry the match."
        }
    }
}

/// One row of the listings table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ListingRow {
    pub sku: Sku,
    pub name: String,
    pub status: ListingStatus,
    /// Adobe's name of the state (a draft waiting for selection is a Draft).
    pub status_label: &'static str,
    pub awaiting_selection: bool,
    pub gtin: Option<Gtin>,
    /// Walmart's item id (WPID), once matched.
    pub walmart_item_id: Option<Wpid>,
    /// Commerce's price, and the price the channel's rules give for Walmart now.
    pub commerce_price: Option<Money>,
    pub expected_walmart_price: Option<Money>,
    /// The last price and quantity sent to Walmart, and when.
    pub walmart_price: Option<Money>,
    pub walmart_price_sent_at: Option<Timestamp>,
    pub advertised_quantity: Option<u32>,
    pub quantity_sent_at: Option<Timestamp>,
    /// Whether Walmart's price is not what the rules give now (a sync pending or refused).
    pub price_differs: bool,
    pub enabled_in_commerce: bool,
    pub issues: Vec<IssueView>,
    pub feed_id: Option<FeedId>,
    pub status_changed_at: Timestamp,
}

impl ListingRow {
    pub fn of(listing: &Listing, offer: Option<&OfferState>, ch: &Channel, now: Timestamp) -> Self {
        let expected = listing.product.walmart_price(&ch.settings.pricing, now);
        let sent_price = offer.and_then(|o| o.price.as_ref());
        let sent_quantity = offer.and_then(|o| o.quantity.as_ref());
        let mut issues: Vec<IssueView> = listing.issues.iter().map(IssueView::of).collect();
        for refused in offer
            .into_iter()
            .flat_map(|o| o.quantity_issue.iter().chain(o.price_issue.iter()))
        {
            issues.push(IssueView::of(refused));
        }
        Self {
            sku: listing.sku.clone(),
            name: listing.product.name.clone(),
            status: listing.status(),
            status_label: adobe_label(listing.status()),
            awaiting_selection: listing.awaits_selection(),
            gtin: listing.gtin.clone(),
            walmart_item_id: listing.wpid.clone(),
            commerce_price: listing.product.price,
            expected_walmart_price: expected,
            walmart_price: sent_price.map(|p| p.value),
            walmart_price_sent_at: sent_price.map(|p| p.at),
            advertised_quantity: sent_quantity.map(|q| q.value),
            quantity_sent_at: sent_quantity.map(|q| q.at),
            price_differs: listing.is_live_on_walmart()
                && expected.is_some()
                && sent_price.map(|p| p.value) != expected,
            enabled_in_commerce: listing.product.enabled,
            issues,
            feed_id: listing.feed_id.clone(),
            status_changed_at: listing.status_changed_at,
        }
    }
}

/// How many listings are in each state (the status cards).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingCounts {
    pub channel: ChannelId,
    /// By `ListingStatus::as_str`; `draft` counts drafts on their way to matching only.
    pub by_status: BTreeMap<String, u64>,
    pub awaiting_selection: u64,
    pub counted_at: Timestamp,
}

impl ListingCounts {
    pub fn of(&self, status: ListingStatus) -> u64 {
        self.by_status.get(status.as_str()).copied().unwrap_or(0)
    }

    /// Adobe's Draft card: drafts on their way and drafts waiting for selection.
    pub fn adobe_draft(&self) -> u64 {
        self.of(ListingStatus::Draft) + self.awaiting_selection
    }

    pub fn total(&self) -> u64 {
        self.by_status.values().sum::<u64>() + self.awaiting_selection
    }
}

impl Record for ListingCounts {
    fn key(&self) -> Key {
        listing_counts_key(&self.channel)
    }
}

pub fn listing_counts_key(channel: &ChannelId) -> Key {
    Key::new(channel_pk(channel, "DASHBOARD"), "listing_counts")
}

/// The status cards' counts: the kept ones when younger than `max_age`, otherwise counted now
/// (one count per status partition) and kept.
pub async fn listing_counts(ch: &Channel, max_age: Duration) -> Result<ListingCounts, StoreError> {
    let now = ch.clock.now();
    let key = listing_counts_key(&ch.settings.id);
    let kept = ch.store.load::<ListingCounts>(&key).await?;
    if let Some(kept) = &kept
        && now.since(kept.record.counted_at) < max_age
        && kept.record.counted_at <= now
    {
        return Ok(kept.record.clone());
    }
    let counts = count_listings(ch.store.as_ref(), &ch.settings.id, now).await?;
    let mut saving = Versioned {
        record: counts.clone(),
        version: kept.and_then(|k| k.version),
    };
    // Another dashboard request counting at the same time wrote the same figures.
    match ch.store.save(&mut saving).await {
        Ok(()) | Err(StoreError::ConditionFailed { .. }) => Ok(counts),
        Err(e) => Err(e),
    }
}

async fn count_listings(
    store: &dyn StateStore,
    channel: &ChannelId,
    now: Timestamp,
) -> Result<ListingCounts, StoreError> {
    let mut partitions: Vec<(Option<ListingStatus>, String)> = LISTING_STATUSES
        .iter()
        .map(|s| (Some(*s), listing_status_pk(channel, *s)))
        .collect();
    partitions.push((None, listing_awaiting_selection_pk(channel)));
    let counted = concurrently(partitions, STORE_CONCURRENCY, |(status, pk)| async move {
        (status, store.count(&Query::status_index(pk)).await)
    })
    .await;
    let mut counts = ListingCounts {
        channel: channel.clone(),
        by_status: BTreeMap::new(),
        awaiting_selection: 0,
        counted_at: now,
    };
    for (status, n) in counted {
        match status {
            Some(status) => {
                counts.by_status.insert(status.as_str().to_owned(), n?);
            }
            None => counts.awaiting_selection = n?,
        }
    }
    Ok(counts)
}

/// A page of listings. `sku_prefix` narrows to SKUs starting with it (then rows are in SKU order).
pub async fn listings(
    ch: &Channel,
    filter: ListingFilter,
    sort: ListingSort,
    sku_prefix: Option<&str>,
    limit: u32,
    after: Option<PageToken>,
) -> Result<RowsPage<ListingRow>, StoreError> {
    let limit = limit.clamp(1, 500) as usize;
    let prefix = sku_prefix.map(str::trim).filter(|p| !p.is_empty());
    let by_change = matches!(sort, ListingSort::ChangedNewest | ListingSort::ChangedOldest);
    let (found, next, span) = match (filter, prefix, by_change) {
        (ListingFilter::Status(_) | ListingFilter::AwaitingSelection, None, true) => {
            let (found, next) =
                by_status_change(ch, filter, sort == ListingSort::ChangedNewest, limit, after).await?;
            (found, next, None)
        }
        _ => {
            by_sku(
                ch,
                filter,
                sort == ListingSort::SkuDescending,
                prefix,
                limit,
                after,
            )
            .await?
        }
    };
    let rows = with_offers(ch, found, span).await?;
    Ok(RowsPage { rows, next })
}

async fn by_status_change(
    ch: &Channel,
    filter: ListingFilter,
    newest_first: bool,
    limit: usize,
    after: Option<PageToken>,
) -> Result<(Vec<Listing>, Option<PageToken>), StoreError> {
    let pk = match filter {
        ListingFilter::Status(status) => listing_status_pk(&ch.settings.id, status),
        _ => listing_awaiting_selection_pk(&ch.settings.id),
    };
    let mut query = Query::status_index(pk).limit(limit as u32).after(after);
    if newest_first {
        query = query.descending();
    }
    let (found, next) = ch.store.query_records::<Listing>(&query).await?;
    Ok((found.into_iter().map(|v| v.record).collect(), next))
}

fn keeps(filter: ListingFilter, listing: &Listing) -> bool {
    match filter {
        ListingFilter::All => true,
        ListingFilter::Status(status) => listing.status() == status && !listing.awaits_selection(),
        ListingFilter::AwaitingSelection => listing.awaits_selection(),
    }
}

/// The smallest string above every string starting with `prefix` (`None` if there is none).
fn successor(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let mut next = u32::from(last) + 1;
        if (0xD800..0xE000).contains(&next) {
            next = 0xE000;
        }
        if let Some(c) = char::from_u32(next) {
            chars.push(c);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// The SKU-partition range of a page: the prefix's range, continued after the token's SKU.
fn sku_range(prefix: Option<&str>, after: Option<&str>, descending: bool) -> SortRange {
    let upper = prefix.and_then(successor);
    match (prefix, after, descending) {
        (None, None, _) => SortRange::All,
        (Some(p), None, _) => SortRange::Prefix(p.to_owned()),
        (None, Some(a), false) => SortRange::From(a.to_owned()),
        (None, Some(a), true) => SortRange::To(a.to_owned()),
        (Some(_), Some(a), false) => match upper {
            Some(hi) => SortRange::Between(a.to_owned(), hi),
            None => SortRange::From(a.to_owned()),
        },
        (Some(p), Some(a), true) => SortRange::Between(p.to_owned(), a.to_owned()),
    }
}

const SKU_TOKEN: &str = "sku:";

/// A page in SKU order, with how many listings were read for it (`Some`: the page's listings lie
/// among them, so its SKU range holds at most that many listings).
async fn by_sku(
    ch: &Channel,
    filter: ListingFilter,
    descending: bool,
    prefix: Option<&str>,
    limit: usize,
    after: Option<PageToken>,
) -> Result<(Vec<Listing>, Option<PageToken>, Option<usize>), StoreError> {
    let after_sku = after
        .as_ref()
        .and_then(|t| t.0.strip_prefix(SKU_TOKEN))
        .map(str::to_owned);
    let mut query = Query::partition(channel_pk(&ch.settings.id, "LISTING"))
        .range(sku_range(prefix, after_sku.as_deref(), descending))
        .limit(if filter == ListingFilter::All {
            limit as u32 + 1
        } else {
            1_000
        });
    if descending {
        query = query.descending();
    }
    let mut rows = Vec::new();
    let mut scanned = 0usize;
    let mut last_seen: Option<String> = None;
    loop {
        let (page, next) = ch.store.query_records::<Listing>(&query).await?;
        for listing in page {
            let listing = listing.record;
            let sku = listing.sku.as_str();
            if after_sku.as_deref() == Some(sku) {
                continue;
            }
            if prefix.is_some_and(|p| !sku.starts_with(p)) {
                continue;
            }
            let kept = keeps(filter, &listing);
            if kept && rows.len() == limit {
                // One more row exists: the page ends at the last row taken.
                let token = rows.last().map(|l: &Listing| format!("{SKU_TOKEN}{}", l.sku));
                return Ok((rows, token.map(PageToken), Some(scanned)));
            }
            scanned += 1;
            last_seen = Some(sku.to_owned());
            if kept {
                rows.push(listing);
            }
        }
        match next {
            Some(token) if scanned < MAX_SCANNED => query.after = Some(token),
            Some(_) => {
                // Read enough for one page: go on from the last listing read.
                let token = last_seen.map(|s| PageToken(format!("{SKU_TOKEN}{s}")));
                return Ok((rows, token, Some(scanned)));
            }
            None => return Ok((rows, None, Some(scanned))),
        }
    }
}

/// Most listings between a page's first and last SKU for which its offers are read with one range
/// query (at most this many offers, well under a 1 MB query page) rather than one read each.
pub const MAX_OFFER_SPAN: usize = 1_000;

/// Each listing's offer (what was sent to Walmart). When the listings lie within a SKU range of at
/// most `span` listings (a page in SKU order) and that is at most [`MAX_OFFER_SPAN`]: one query of
/// the offers between the first and the last SKU (an unfiltered page of 50 reads 50 offers, an
/// Error page at 7% about 700); otherwise one read per listing, concurrently.
async fn with_offers(
    ch: &Channel,
    listings: Vec<Listing>,
    span: Option<usize>,
) -> Result<Vec<ListingRow>, StoreError> {
    let now = ch.clock.now();
    let store = ch.store.as_ref();
    let channel = &ch.settings.id;
    let first = listings.iter().map(|l| l.sku.as_str()).min();
    let last = listings.iter().map(|l| l.sku.as_str()).max();
    if let (Some(span), Some(first), Some(last)) = (span, first, last)
        && span <= MAX_OFFER_SPAN
    {
        // At most one offer per listing of the range: one page (its limit one more than that, so
        // the store sees the range end and does not offer a next page).
        let mut query = Query::partition(channel_pk(channel, "OFFER"))
            .range(SortRange::Between(first.to_owned(), last.to_owned()))
            .limit(span as u32 + 1);
        let mut offers: BTreeMap<Sku, OfferState> = BTreeMap::new();
        loop {
            let (page, next) = store.query_records::<OfferState>(&query).await?;
            offers.extend(page.into_iter().map(|v| (v.record.sku.clone(), v.record)));
            match next {
                Some(token) => query.after = Some(token),
                None => break,
            }
        }
        return Ok(listings
            .iter()
            .map(|listing| ListingRow::of(listing, offers.get(&listing.sku), ch, now))
            .collect());
    }
    let loaded = concurrently(listings, STORE_CONCURRENCY, |listing| async move {
        let offer = store.load::<OfferState>(&offer_key(channel, &listing.sku)).await;
        (listing, offer)
    })
    .await;
    loaded
        .into_iter()
        .map(|(listing, offer)| {
            let offer = offer?.map(|v| v.record);
            Ok(ListingRow::of(&listing, offer.as_ref(), ch, now))
        })
        .collect()
}

/// One listing in full: its row and what Commerce's stock was when last read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ListingDetail {
    pub row: ListingRow,
    /// Σ of the SKU's MSI source quantities when inventory-sync last read them (live listings).
    pub commerce_source_quantity: Option<f64>,
    /// The quantity the channel's rules give from that (before reservations).
    pub quantity_from_sources: Option<u32>,
}

/// A listing by exact SKU.
pub async fn listing_detail(ch: &Channel, sku: &Sku) -> Result<Option<ListingDetail>, StoreError> {
    let Some(listing) = ch
        .store
        .load::<Listing>(&listing_key(&ch.settings.id, sku))
        .await?
    else {
        return Ok(None);
    };
    let offer = ch
        .store
        .load::<OfferState>(&offer_key(&ch.settings.id, sku))
        .await?
        .map(|v| v.record);
    let chunk = ch
        .store
        .load::<domain::StockChunk>(&stock_chunk_key(&ch.settings.id, domain::stock_chunk_of(sku)))
        .await?;
    let sources = chunk.and_then(|c| c.record.entries.get(sku).and_then(|e| e.sources));
    let row = ListingRow::of(&listing.record, offer.as_ref(), ch, ch.clock.now());
    Ok(Some(ListingDetail {
        row,
        commerce_source_quantity: sources,
        quantity_from_sources: sources.map(|q| {
            ch.settings
                .inventory
                .advertised_for_product(listing.record.product.enabled, q)
        }),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn successors_bound_prefixes() {
        assert_eq!(successor("AB").as_deref(), Some("AC"));
        assert_eq!(successor("").as_deref(), None);
        let range = sku_range(Some("AB"), Some("AB-7"), false);
        assert!(range.contains("AB-8"));
        assert!(range.contains("AB~"));
        assert!(!range.contains("AB-6"));
        assert!(!range.contains("ACA"));
        let down = sku_range(Some("AB"), Some("AB-7"), true);
        assert!(down.contains("AB-6") && down.contains("AB") && !down.contains("AB-8"));
        assert!(sku_range(None, Some("M"), true).contains("A"));
        assert!(!sku_range(None, Some("M"), true).contains("N"));
    }
}
