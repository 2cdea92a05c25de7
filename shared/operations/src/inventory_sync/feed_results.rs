//! Inventory feeds' results: what Walmart accepted or refused, recorded on the offers.

use super::*;

/// Applies the results of inventory feeds Walmart finished: refused values are recorded on the
/// offer and, when Walmart's trouble was transient, sent again. Returns the feeds still in flight.
pub(super) async fn poll_feeds(
    ch: &Channel,
    snapshot: &mut Snapshot,
    deadline: &Deadline,
    report: &mut RunReport,
) -> Result<BTreeSet<FeedId>, OpError> {
    let mut in_flight = BTreeSet::new();
    for mut feed in feeds::unsettled(ch, FeedKind::Inventory).await? {
        let feed_id = feed.record.feed_id.clone();
        loop {
            if running_out(deadline) {
                report.complete = false;
                in_flight.insert(feed_id.clone());
                break;
            }
            match feeds::next_results(ch, &mut feed, deadline, report).await {
                Ok(None) => {
                    in_flight.insert(feed_id.clone());
                    break;
                }
                Ok(Some(results)) => {
                    for result in results.iter().filter(|r| r.outcome != ItemOutcome::Succeeded) {
                        let transient = result.outcome == ItemOutcome::Retried;
                        let issue = result
                            .issues
                            .first()
                            .cloned()
                            .unwrap_or_else(|| domain::walmart_issue("", ""));
                        let sku = &result.entry.sku;
                        let mut refused = false;
                        feeds::update_offer(ch, sku, |o| {
                            refused = o.quantity_refused(&feed_id, issue.clone(), transient);
                            refused
                        })
                        .await?;
                        if refused && transient {
                            snapshot.mark_recheck(sku);
                        }
                        report.add(
                            if transient {
                                Counter::FeedItemsRetried
                            } else {
                                Counter::FeedItemsRefused
                            },
                            1,
                        );
                    }
                    for sku in overwritten_by_feed(ch, &feed_id, &results).await? {
                        snapshot.mark_recheck(&sku);
                        report.add(Counter::FeedOverwroteNewer, 1);
                    }
                    feeds::record_results(ch, &mut feed, &results).await?;
                    if feed.record.is_settled() {
                        report.add(Counter::FeedsSettled, 1);
                        break;
                    }
                }
                Err(OpError::Api(e)) => {
                    report.problem(format!("feed {feed_id}: {e}"));
                    in_flight.insert(feed_id.clone());
                    break;
                }
                Err(e) => return Err(e),
            }
        }
    }
    Ok(in_flight)
}

/// Walmart applies a feed's lines when it processes the feed, after any single call made meanwhile:
/// a quantity recorded since the feed went (sent singly while it was processing, or read later than
/// the feed's value, which its record then left in place) may now be overwritten on Walmart by the
/// feed's older one. Such offers become unconfirmed; their SKUs are returned for a recheck, which
/// sends the value again. One offer read per item Walmart applied.
async fn overwritten_by_feed(
    ch: &Channel,
    feed_id: &FeedId,
    results: &[feeds::ItemResult],
) -> Result<Vec<Sku>, OpError> {
    let applied: Vec<(Sku, u32)> = results
        .iter()
        .filter(|r| r.outcome == ItemOutcome::Succeeded)
        .filter_map(|r| match r.entry.value {
            FeedValue::Quantity { quantity } => Some((r.entry.sku.clone(), quantity)),
            _ => None,
        })
        .collect();
    let checked = concurrently(applied, STORE_CONCURRENCY, |(sku, in_feed)| async move {
        let mut overwritten = false;
        let updated = feeds::update_offer(ch, &sku, |o| {
            let Some(sent) = o.quantity.as_mut() else {
                return false;
            };
            overwritten = !sent.in_feed(feed_id) && sent.value != in_feed;
            let write = overwritten && !sent.unconfirmed;
            if write {
                sent.unconfirmed = true;
            }
            write
        })
        .await;
        (sku, updated.map(|_| overwritten))
    })
    .await;
    let mut skus = Vec::new();
    for (sku, overwritten) in checked {
        if overwritten? {
            tracing::info!(sku = %sku, feed_id = %feed_id, "a newer quantity may be overwritten by an older feed; sent again");
            skus.push(sku);
        }
    }
    Ok(skus)
}
