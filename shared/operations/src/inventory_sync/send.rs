//! Sending quantities to Walmart: rechecks of held SKUs, single updates, and the inventory feed.

use super::*;

/// Rechecks the marked SKUs (those touched by orders first), then sends what changed.
pub(super) async fn process_rechecks(
    ch: &Channel,
    snapshot: &mut Snapshot,
    urgent: &BTreeSet<Sku>,
    deadline: &Deadline,
    report: &mut RunReport,
) -> Result<(), OpError> {
    let marked = snapshot.rechecks();
    let mut queue: Vec<Sku> = marked.iter().filter(|s| urgent.contains(*s)).cloned().collect();
    queue.extend(marked.into_iter().filter(|s| !urgent.contains(s)));
    let mut changes = Vec::new();
    let mut offers = HashMap::new();
    for batch in queue.chunks(RECHECK_BATCH) {
        if running_out(deadline) {
            report.complete = false;
            break;
        }
        for (sku, evaluation) in evaluate_all(ch, batch.to_vec(), deadline).await {
            report.add(Counter::Rechecked, 1);
            match evaluation {
                Ok(Evaluation::NotLive) => {
                    snapshot.untrack(&sku);
                    report.add(Counter::NotLive, 1);
                }
                Ok(Evaluation::Unchanged) => {
                    snapshot.rechecked(&sku);
                    report.add(Counter::Unchanged, 1);
                }
                Ok(Evaluation::Changed(changed)) => {
                    let (change, offer) = *changed;
                    offers.insert(sku, offer);
                    changes.push(change);
                }
                // Nothing is sent when the store is misconfigured: its answers say nothing of stock.
                Err(e) if e.configuration_problem().is_some() => return Err(e),
                Err(e) if e.is_retryable() => report.problem(format!("{sku}: {e} (checked again next run)")),
                Err(e) => {
                    snapshot.rechecked(&sku);
                    report.problem(format!("{sku}: {e}"));
                }
            }
        }
    }
    if changes.is_empty() {
        return Ok(());
    }
    let now = ch.clock.now();
    let singles = feeds::budget(ch, BudgetedCall::InventoryUpdate)
        .await?
        .available(now)
        .min(MAX_SINGLES_PER_RUN);
    let feed_allowed = feeds::budget(ch, BudgetedCall::InventoryFeed)
        .await?
        .available(now)
        > 0;
    let plan = plan(changes, singles, feed_allowed);
    report.add(Counter::Deferred, plan.deferred.len() as u64);
    send_singles(
        ch,
        plan.singles,
        &mut offers,
        Some(&mut *snapshot),
        deadline,
        report,
    )
    .await?;
    send_feed(ch, plan.feed, &mut offers, snapshot, deadline, report).await
}

/// Sends single updates (most urgent first), each after writing its value (versioned) so no other
/// invocation sends the same SKU meanwhile. Returns how many went out.
pub(super) async fn send_singles(
    ch: &Channel,
    singles: Vec<QuantityChange>,
    offers: &mut HashMap<Sku, Versioned<OfferState>>,
    mut snapshot: Option<&mut Snapshot>,
    deadline: &Deadline,
    report: &mut RunReport,
) -> Result<u64, OpError> {
    if singles.is_empty() {
        return Ok(0);
    }
    let wanted = u32::try_from(singles.len()).unwrap_or(u32::MAX);
    let granted = feeds::reserve(ch, BudgetedCall::InventoryUpdate, wanted).await? as usize;
    let mut work = Vec::with_capacity(granted);
    for (i, change) in singles.into_iter().enumerate() {
        match offers.remove(&change.sku) {
            Some(offer) if i < granted => work.push((change, offer)),
            _ => report.add(Counter::Deferred, 1),
        }
    }
    let outcomes = concurrently(work, COMMERCE_CONCURRENCY, |(change, offer)| async move {
        let span = tracing::info_span!("inventory_update", sku = %change.sku);
        let outcome = send_single(ch, &change, offer, deadline).instrument(span).await;
        (change, outcome)
    })
    .await;
    let mut sent = 0;
    for (change, outcome) in outcomes {
        match outcome? {
            SingleSend::Sent => {
                sent += 1;
                if let Some(s) = snapshot.as_deref_mut() {
                    s.rechecked(&change.sku);
                }
            }
            SingleSend::Raced => report.add(Counter::Raced, 1),
            SingleSend::Failed { retry, problem } => {
                if !retry && let Some(s) = snapshot.as_deref_mut() {
                    s.rechecked(&change.sku);
                }
                report.problem(problem);
            }
        }
    }
    report.add(Counter::QuantitiesSentSingle, sent);
    Ok(sent)
}

pub(super) fn quantity_slot(
    o: &mut OfferState,
) -> (&mut Option<domain::Sent<u32>>, &mut Option<ListingIssue>) {
    (&mut o.quantity, &mut o.quantity_issue)
}

pub(super) async fn send_single(
    ch: &Channel,
    change: &QuantityChange,
    offer: Versioned<OfferState>,
    deadline: &Deadline,
) -> Result<SingleSend, OpError> {
    let now = ch.clock.now();
    feeds::send_single(
        ch,
        offer,
        quantity_slot,
        change.read_at,
        |o| o.quantity_sent(change.quantity, SentVia::Single, now),
        |quantity| ch.walmart.update_inventory(&change.sku, quantity, deadline),
        format!("{}: quantity {}", change.sku, change.quantity),
    )
    .await
}

/// Sends the feed part of a plan and records each value as sent in it.
pub(super) async fn send_feed(
    ch: &Channel,
    changes: Vec<QuantityChange>,
    offers: &mut HashMap<Sku, Versioned<OfferState>>,
    snapshot: &mut Snapshot,
    deadline: &Deadline,
    report: &mut RunReport,
) -> Result<(), OpError> {
    if changes.is_empty() {
        return Ok(());
    }
    let entries: Vec<InventoryEntry> = changes
        .iter()
        .map(|c| InventoryEntry {
            sku: c.sku.clone(),
            quantity: c.quantity,
        })
        .collect();
    let files = inventory_feeds(&entries).map_err(|source| OpError::Feed {
        what: "inventory",
        source,
    })?;
    let mut feeds = FeedSender::new(FeedKind::Inventory, BudgetedCall::InventoryFeed, files, changes);
    while let Some((feed_id, batch)) = feeds.next(ch, deadline).await? {
        report.add(Counter::InventoryFeeds, 1);
        report.add(Counter::QuantitiesSentFeed, batch.len() as u64);
        let now = ch.clock.now();
        let work: Vec<(QuantityChange, Option<Versioned<OfferState>>)> = batch
            .into_iter()
            .map(|c| (c.clone(), offers.remove(&c.sku)))
            .collect();
        let recorded = concurrently(work, STORE_CONCURRENCY, |(change, offer)| {
            record_in_feed(ch, change, offer, feed_id.clone(), now)
        })
        .await;
        for result in recorded {
            snapshot.rechecked(&result?);
        }
    }
    report.add(Counter::Deferred, feeds.waiting());
    Ok(())
}

impl FeedChange for QuantityChange {
    fn feed_entry(&self) -> FeedEntry {
        FeedEntry::new(
            self.sku.clone(),
            FeedValue::Quantity {
                quantity: self.quantity,
            },
        )
    }
}

pub(super) async fn record_in_feed(
    ch: &Channel,
    change: QuantityChange,
    offer: Option<Versioned<OfferState>>,
    feed_id: FeedId,
    now: Timestamp,
) -> Result<Sku, OpError> {
    let via = SentVia::Feed { feed_id };
    feeds::record_in_feed(ch, offer, &change.sku, quantity_slot, change.read_at, |o| {
        o.quantity_sent(change.quantity, via.clone(), now)
    })
    .await?;
    Ok(change.sku)
}
