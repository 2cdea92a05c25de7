//! The runs: an urgent message, and the scheduled run that reads what changed in Commerce and
//! evaluates the SKUs it touched.

use super::*;

/// Handles one urgent message: the SKUs' quantities are checked now and changes sent as single
/// calls while the budget allows. What the budget does not allow is left to the schedule, which
/// finds the same SKUs through the orders that changed them.
pub async fn handle_message(
    ch: &Channel,
    message: &Received<UrgentSkus>,
    deadline: &Deadline,
) -> Result<(), OpError> {
    let skus: Vec<Sku> = message
        .body
        .skus
        .iter()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut report = RunReport::new(Operation::InventorySync);
    let mut changes = Vec::new();
    let mut offers = HashMap::new();
    for (sku, evaluation) in evaluate_all(ch, skus, deadline).await {
        match evaluation {
            Ok(Evaluation::Changed(changed)) => {
                let (change, offer) = *changed;
                offers.insert(sku, offer);
                changes.push(change);
            }
            Ok(Evaluation::Unchanged) => report.add(Counter::Unchanged, 1),
            Ok(Evaluation::NotLive) => report.add(Counter::NotLive, 1),
            // Nothing is sent when the store is misconfigured: its answers say nothing of stock.
            Err(e) if e.is_retryable() || e.configuration_problem().is_some() => return Err(e),
            Err(e) => report.problem(format!("{sku}: {e}")),
        }
    }
    let available = feeds::budget(ch, BudgetedCall::InventoryUpdate)
        .await?
        .available(ch.clock.now())
        .min(MAX_SINGLES_PER_RUN);
    let plan = plan(changes, available, false);
    report.add(Counter::Deferred, plan.deferred.len() as u64);
    send_singles(ch, plan.singles, &mut offers, None, deadline, &mut report).await?;
    tracing::info!(message_id = %message.message_id, counts = ?report.counts, "urgent inventory handled");
    Ok(())
}

/// The scheduled run, one at a time per channel (a lease).
pub async fn run_scheduled(ch: &Channel, deadline: &Deadline) -> Result<RunReport, OpError> {
    let mut report = RunReport::new(Operation::InventorySync);
    let Some(lease) = Lease::take(ch, OPERATION, "scheduled-run", deadline).await? else {
        report.add(crate::RUN_IN_PROGRESS_ELSEWHERE, 1);
        return Ok(report);
    };
    let outcome = run_locked(ch, deadline, &mut report).await;
    lease.release(ch).await?;
    outcome.map(|()| report)
}

pub(super) async fn run_locked(
    ch: &Channel,
    deadline: &Deadline,
    report: &mut RunReport,
) -> Result<(), OpError> {
    let mut snapshot = Snapshot::load(ch).await?;
    let (polled, again) = feeds::poll_offer_feeds(
        ch,
        FeedKind::Inventory,
        OfferState::quantity_refused,
        deadline,
        report,
    )
    .await?;
    for sku in &again {
        snapshot.mark_recheck(sku);
    }
    let in_flight = polled.in_flight();

    let (listings_cursor, listings_since) =
        cursor_since(ch, Stream::InventoryListings, OVERLAP, Stamps::Ours).await?;
    let listings_seen = track_new_listings(ch, &mut snapshot, listings_since, report).await?;

    let (orders_cursor, orders_since) =
        cursor_since(ch, Stream::InventoryOrders, OVERLAP, Stamps::Commerce).await?;
    // A stream never read starts now: earlier orders are in the salable quantities already.
    let first_read = orders_since.is_none().then(|| ch.clock.now().minus(OVERLAP));
    let orders_from = orders_since.or(first_read).unwrap_or(Timestamp::EPOCH);
    let (urgent, orders_seen) = order_activity(ch, &mut snapshot, orders_from, deadline, report).await?;
    let orders_seen = orders_seen.max(first_read);

    match ch.settings.stock {
        StockSource::Msi { .. } => scan_sources(ch, &mut snapshot, deadline, report).await?,
        StockSource::Legacy => {
            let slot =
                u32::try_from(ch.clock.now().millis() / 300_000 % i64::from(STOCK_CHUNKS)).unwrap_or(0);
            for i in 0..LEGACY_CHUNKS_PER_RUN {
                snapshot.mark_chunk((slot * LEGACY_CHUNKS_PER_RUN + i) % STOCK_CHUNKS);
            }
        }
    }
    reconcile(ch, &mut snapshot, &in_flight, deadline, report).await?;
    process_rechecks(ch, &mut snapshot, &urgent, deadline, report).await?;
    report.add(Counter::Tracked, snapshot.tracked().len() as u64);
    snapshot.save(ch, report).await?;
    // Cursors move only once what they found is saved as marks in the snapshot.
    if let Some(seen) = listings_seen {
        advance_cursor(ch, listings_cursor, seen).await?;
    }
    if let Some(seen) = orders_seen {
        advance_cursor(ch, orders_cursor, seen).await?;
    }
    Ok(())
}

/// Listings that went live since the cursor start being followed. Returns the newest change seen.
pub(super) async fn track_new_listings(
    ch: &Channel,
    snapshot: &mut Snapshot,
    since: Option<Timestamp>,
    report: &mut RunReport,
) -> Result<Option<Timestamp>, OpError> {
    let mut newest = None;
    for status in [ListingStatus::Match, ListingStatus::StagedForMatch] {
        let range = since.map_or(SortRange::All, |t| SortRange::From(t.to_rfc3339()));
        let mut query = Query::status_index(listing_status_pk(&ch.settings.id, status))
            .range(range)
            .limit(1_000);
        loop {
            let (page, next) = ch.store.query_records::<Listing>(&query).await?;
            for listing in page {
                newest = newest.max(Some(listing.record.status_changed_at));
                if snapshot.track(&listing.record.sku) {
                    report.add(Counter::ListingsFollowed, 1);
                }
            }
            match next {
                Some(token) => query = query.after(Some(token)),
                None => break,
            }
        }
    }
    Ok(newest)
}

/// SKUs of Commerce orders changed since `since` are rechecked (their reservations moved). Reads by
/// keyset: each next read starts at the newest change seen, so orders changing while being read
/// never shift a page. Returns those SKUs and the newest change seen.
pub(super) async fn order_activity(
    ch: &Channel,
    snapshot: &mut Snapshot,
    since: Timestamp,
    deadline: &Deadline,
    report: &mut RunReport,
) -> Result<(BTreeSet<Sku>, Option<Timestamp>), OpError> {
    let filter = OrderFilter::default();
    let mut from = since;
    let mut request = PageRequest::first(ORDER_PAGE);
    let mut urgent = BTreeSet::new();
    let mut newest = None;
    loop {
        if running_out(deadline) {
            report.complete = false;
            // What was read is marked; everything changed before `from` was read.
            return Ok((urgent, Some(from).filter(|f| *f > since)));
        }
        let page = ch.commerce.orders_page(from, &filter, request, deadline).await?;
        report.add(Counter::OrdersRead, page.items.len() as u64);
        let page_newest = page.items.iter().filter_map(|o| o.updated_at).max();
        for order in &page.items {
            for item in &order.items {
                if let Some(sku) = &item.sku
                    && snapshot.is_tracked(sku)
                {
                    snapshot.mark_recheck(sku);
                    urgent.insert(sku.clone());
                }
            }
        }
        newest = newest.max(page_newest);
        if !page.has_more(request) {
            report.add(Counter::OrderSkus, urgent.len() as u64);
            return Ok((urgent, newest));
        }
        match page_newest {
            Some(t) if t > from => {
                from = t;
                request = PageRequest::first(ORDER_PAGE);
            }
            _ => request = request.next(),
        }
    }
}

/// The fingerprint of a SKU's MSI source items: the in-stock quantity, less a thousandth per source
/// that is out of stock, so a source switched off counts as a change too.
pub(super) fn source_fingerprint(items: &[ports::commerce::model::SourceItem]) -> f64 {
    items
        .iter()
        .map(|i| if i.in_stock { i.quantity } else { -0.001 })
        .sum()
}

/// Reads every MSI source item and marks the followed SKUs whose sources changed. A scan that cannot
/// finish before the deadline marks nothing (a partial sum would be a false change).
pub(super) async fn scan_sources(
    ch: &Channel,
    snapshot: &mut Snapshot,
    deadline: &Deadline,
    report: &mut RunReport,
) -> Result<(), OpError> {
    if snapshot.chunks.is_empty() {
        return Ok(());
    }
    if running_out(deadline) {
        report.complete = false;
        return Ok(());
    }
    let first = ch
        .commerce
        .source_items_page(None, PageRequest::first(SOURCE_PAGE), deadline)
        .await?;
    let pages = u32::try_from(first.total_count.div_ceil(u64::from(SOURCE_PAGE))).unwrap_or(u32::MAX);
    let rest = concurrently((2..=pages).collect(), PAGES_IN_FLIGHT, |page| async move {
        ch.commerce
            .source_items_page(
                None,
                PageRequest {
                    page,
                    size: SOURCE_PAGE,
                },
                deadline,
            )
            .await
    })
    .await;
    let mut by_sku: HashMap<String, Vec<ports::commerce::model::SourceItem>> = HashMap::new();
    let mut read = u64::from(pages.min(1));
    for item in first.items {
        by_sku.entry(item.sku.clone()).or_default().push(item);
    }
    for page in rest {
        match page {
            Ok(page) => {
                read += 1;
                for item in page.items {
                    by_sku.entry(item.sku.clone()).or_default().push(item);
                }
            }
            Err(e) => {
                report.complete = false;
                report.problem(format!("source items not read to the end: {e}"));
                return Ok(());
            }
        }
    }
    report.add(Counter::SourcePages, read);
    let mut changed = 0;
    for sku in snapshot.tracked() {
        let fingerprint = by_sku
            .get(sku.as_str())
            .map_or(0.0, |items| source_fingerprint(items));
        if snapshot.observe_sources(&sku, fingerprint) {
            changed += 1;
        }
    }
    report.add(Counter::SourceChanges, changed);
    Ok(())
}

/// What a recheck found.
pub(super) enum Evaluation {
    /// Not (or no longer) live on Walmart: not followed.
    NotLive,
    Unchanged,
    Changed(Box<(QuantityChange, Versioned<OfferState>)>),
}

pub(super) async fn salable_of(ch: &Channel, sku: &Sku, deadline: &Deadline) -> Result<f64, OpError> {
    let answer = match ch.settings.stock {
        StockSource::Msi { stock_id } => ch.commerce.salable_quantity(sku, stock_id, deadline).await,
        StockSource::Legacy => ch
            .commerce
            .legacy_stock_item(sku, deadline)
            .await
            .map(|item| item.salable()),
    };
    match answer {
        Ok(quantity) => Ok(quantity),
        // A product gone from Commerce cannot be sold. Only an entity 404 says so: Magento's route
        // 404 (MSI disabled, unknown store code) is a configuration error and stops the run.
        Err(e) if e.kind == ApiErrorKind::NotFound => Ok(0.0),
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn evaluate(ch: &Channel, sku: &Sku, deadline: &Deadline) -> Result<Evaluation, OpError> {
    let listing = ch
        .store
        .load::<Listing>(&listing_key(&ch.settings.id, sku))
        .await?;
    let Some(listing) = listing.filter(|l| l.record.is_live_on_walmart()) else {
        return Ok(Evaluation::NotLive);
    };
    let read_at = ch.clock.now();
    let salable = salable_of(ch, sku, deadline).await?;
    let wanted = advertised(ch, &listing.record, salable);
    let offer = ch
        .store
        .load::<OfferState>(&offer_key(&ch.settings.id, sku))
        .await?
        .unwrap_or_else(|| Versioned::new(OfferState::new(ch.settings.id.clone(), sku.clone())));
    // A value read after ours was recorded meanwhile: it is the newer one.
    if offer
        .record
        .quantity
        .as_ref()
        .is_some_and(|q| q.read_after(read_at))
    {
        return Ok(Evaluation::Unchanged);
    }
    Ok(match offer.record.quantity_change(wanted) {
        None => Evaluation::Unchanged,
        Some(quantity) => Evaluation::Changed(Box::new((
            QuantityChange {
                sku: sku.clone(),
                quantity,
                previous: offer.record.quantity.as_ref().map(|q| q.value),
                read_at,
            },
            offer,
        ))),
    })
}

pub(super) async fn evaluate_all(
    ch: &Channel,
    skus: Vec<Sku>,
    deadline: &Deadline,
) -> Vec<(Sku, Result<Evaluation, OpError>)> {
    concurrently(skus, COMMERCE_CONCURRENCY, |sku| async move {
        let span = tracing::debug_span!("recheck", sku = %sku);
        let evaluation = evaluate(ch, &sku, deadline).instrument(span).await;
        (sku, evaluation)
    })
    .await
}
