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
