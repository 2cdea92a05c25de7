//! The reconciliation pass: every SKU compared again, a slice per run, with what Walmart shows.

use super::*;

/// Reads Walmart's quantities of the next SKUs of the reconciliation pass (chunk after chunk, the
/// chunk whose last pass is oldest first) and marks for a recheck every SKU whose quantity differs
/// from what was sent, forgetting the sent value so the recheck sends the right one. Runs share the
/// pass so that it takes about [`RECONCILE_PASS`], with at most [`RECONCILE_PER_RUN`] reads a run.
/// SKUs never sent, or whose value is still in a feed in flight, are not read.
pub(super) async fn reconcile(
    ch: &Channel,
    snapshot: &mut Snapshot,
    in_flight: &BTreeSet<FeedId>,
    deadline: &Deadline,
    report: &mut RunReport,
) -> Result<(), OpError> {
    if running_out(deadline) {
        return Ok(());
    }
    let now = ch.clock.now();
    let mut pass = load_cursor(
        ch.store.as_ref(),
        &ch.settings.id,
        Stream::InventoryReconciliation,
        Timestamp::EPOCH,
    )
    .await?;
    let since_last = if pass.record.advanced_at == Timestamp::EPOCH {
        Duration::from_secs(300)
    } else {
        now.since(pass.record.advanced_at)
    };
    let tracked: usize = snapshot.chunks.values().map(|c| c.record.entries.len()).sum();
    let share = (tracked as f64 * since_last.as_secs_f64() / RECONCILE_PASS.as_secs_f64()).ceil() as u32;
    let wanted = share
        .clamp(1, RECONCILE_PER_RUN)
        .min(u32::try_from(tracked).unwrap_or(u32::MAX));
    let left = feeds::reserve(ch, BudgetedCall::InventoryRead, wanted).await? as usize;
    let slices = snapshot.reconciliation_slices(left);
    let skus: Vec<Sku> = slices.iter().flat_map(|(_, s, _)| s.iter().cloned()).collect();
    if skus.is_empty() {
        return Ok(());
    }
    let sent_values = sent_quantities(ch, skus, in_flight).await?;
    let read = concurrently(sent_values, 4, |(sku, sent)| async move {
        let on_walmart = ch.walmart.get_inventory(&sku, deadline).await;
        (sku, sent, on_walmart)
    })
    .await;
    report.add(Counter::Reconciled, read.len() as u64);
    for (sku, sent, on_walmart) in read {
        match on_walmart {
            Ok(quantity) if quantity == sent.value => {}
            Ok(quantity) => {
                tracing::info!(sku = %sku, sent = sent.value, on_walmart = quantity, "inventory drift");
                feeds::update_offer(ch, &sku, |o| {
                    if o.quantity.as_ref() != Some(&sent) {
                        return false;
                    }
                    o.quantity = None;
                    true
                })
                .await?;
                snapshot.mark_recheck(&sku);
                report.add(Counter::DriftFound, 1);
            }
            Err(e) => report.problem(format!("{sku}: Walmart quantity not read: {e}")),
        }
    }
    for (n, slice, finishes) in &slices {
        snapshot.change_chunk(*n, |c| {
            c.reconciled(slice, *finishes, now);
            true
        });
    }
    pass.record.advance(now, now);
    match ch.store.save(&mut pass).await {
        Ok(()) | Err(StoreError::ConditionFailed { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// The quantities last sent for these SKUs, but for those never sent or still in a feed in flight.
pub(super) async fn sent_quantities(
    ch: &Channel,
    skus: Vec<Sku>,
    in_flight: &BTreeSet<FeedId>,
) -> Result<Vec<(Sku, domain::Sent<u32>)>, OpError> {
    let offers = concurrently(skus, STORE_CONCURRENCY, |sku| async move {
        let offer = ch
            .store
            .load::<OfferState>(&offer_key(&ch.settings.id, &sku))
            .await;
        (sku, offer)
    })
    .await;
    let mut sent_values = Vec::new();
    for (sku, offer) in offers {
        let Some(sent) = offer?.and_then(|o| o.record.quantity) else {
            continue;
        };
        let in_feed_in_flight = matches!(&sent.via, SentVia::Feed { feed_id } if in_flight.contains(feed_id));
        if !in_feed_in_flight {
            sent_values.push((sku, sent));
        }
    }
    Ok(sent_values)
}

impl Snapshot {
    /// The next SKUs of the reconciliation pass, at most `left`: chunk after chunk, the chunk whose
    /// last pass is oldest first; per chunk, its number, its SKUs and whether they finish its pass.
    pub(super) fn reconciliation_slices(&self, mut left: usize) -> Vec<(u32, Vec<Sku>, bool)> {
        let mut order: Vec<(Option<Timestamp>, u32)> = self
            .chunks
            .values()
            .filter(|c| !c.record.entries.is_empty())
            .map(|c| (c.record.reconciled_at, c.record.chunk))
            .collect();
        order.sort();
        let mut slices = Vec::new();
        for (_, n) in order {
            if left == 0 {
                break;
            }
            if let Some(chunk) = self.chunks.get(&n) {
                let (slice, finishes) = chunk.record.reconciliation_slice(left);
                left -= slice.len();
                slices.push((n, slice, finishes));
            }
        }
        slices
    }

    pub(super) fn change_chunk(&mut self, n: u32, f: impl FnOnce(&mut StockChunk) -> bool) {
        if let Some(chunk) = self.chunks.get_mut(&n)
            && f(&mut chunk.record)
        {
            self.dirty.insert(n);
        }
    }
}
