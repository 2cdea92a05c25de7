//! Live progress lines (to stderr in the binary): scenario clock, counts from the channel's records,
//! queue depths and run tallies, at most one line per interval.

use std::io::Write;
use std::time::Duration;

use adapters_embedded::EmbeddedQueues;
use domain::{ChannelSettings, ListingStatus, Timestamp};
use ports::{QueueName, StateStore};
use tokio::time::Instant;

use crate::activity::Activity;
use crate::evidence::ChannelRecords;

/// Where progress goes, and how often.
pub struct Progress {
    out: Option<Box<dyn Write + Send>>,
    every: Duration,
    last_line: Option<Instant>,
    /// Reading every record is cheap for a demo's few hundred and costly for a big store: the
    /// counts are refreshed at most this often.
    records_every: Duration,
    records: Option<(Instant, String)>,
}

/// What a progress line shows.
pub struct ProgressView<'a> {
    pub start: Timestamp,
    pub now: Timestamp,
    pub phase: &'a str,
    pub activity: &'a Activity,
    pub store: &'a dyn StateStore,
    pub settings: &'a ChannelSettings,
    pub queues: &'a EmbeddedQueues,
    /// Anything the caller adds (e.g. the scenario's counts).
    pub extra: String,
}

impl Progress {
    pub fn new(out: Option<Box<dyn Write + Send>>, every: Duration, records_every: Duration) -> Self {
        Self {
            out,
            every,
            last_line: None,
            records_every,
            records: None,
        }
    }

    /// No output at all (headless runs).
    pub fn silent() -> Self {
        Self::new(None, Duration::MAX, Duration::MAX)
    }

    /// Prints a message line now.
    pub fn say(&mut self, text: &str) {
        if let Some(out) = &mut self.out {
            let _ = writeln!(out, "{text}");
            let _ = out.flush();
        }
    }

    /// Prints a progress line if the last one is older than the interval.
    pub async fn tick(&mut self, view: ProgressView<'_>) {
        if self.out.is_none() || self.last_line.is_some_and(|t| t.elapsed() < self.every) {
            return;
        }
        self.last_line = Some(Instant::now());
        let records = match &self.records {
            Some((at, text)) if at.elapsed() < self.records_every => text.clone(),
            _ => {
                let text = record_counts(view.store, view.settings).await;
                self.records = Some((Instant::now(), text.clone()));
                text
            }
        };
        let line = format!(
            "[{} {}] {records} | {} | {}{}",
            clock(view.now.since(view.start)),
            view.phase,
            queue_depths(view.queues),
            run_counts(view.activity),
            if view.extra.is_empty() {
                String::new()
            } else {
                format!(" | {}", view.extra)
            }
        );
        self.say(&line);
    }
}

/// Scenario time since the start as `d1 06:32`.
pub fn clock(elapsed: Duration) -> String {
    let minutes = elapsed.as_secs() / 60;
    let (days, hours, mins) = (minutes / 1440, (minutes % 1440) / 60, minutes % 60);
    format!("d{} {hours:02}:{mins:02}", days + 1)
}

async fn record_counts(store: &dyn StateStore, settings: &ChannelSettings) -> String {
    match ChannelRecords::load(store, settings).await {
        Ok(r) => {
            let count = |s: ListingStatus| r.listings.iter().filter(|l| l.status() == s).count();
            let created = r.orders.iter().filter(|o| o.commerce_link().is_some()).count();
            format!(
                "listings {} ({} matched, {} processing, {} error) | orders {} ({} in Commerce)",
                r.listings.len(),
                count(ListingStatus::Match) + count(ListingStatus::StagedForMatch),
                count(ListingStatus::Processing),
                count(ListingStatus::Error),
                r.orders.len(),
                created
            )
        }
        Err(e) => format!("records unreadable: {e}"),
    }
}

fn queue_depths(queues: &EmbeddedQueues) -> String {
    let busy: Vec<String> = QueueName::ALL
        .into_iter()
        .filter_map(|q| {
            let depth = queues.depth(q);
            (depth > 0).then(|| format!("{} {depth}", q.as_str()))
        })
        .collect();
    if busy.is_empty() {
        "queues empty".to_owned()
    } else {
        format!("queued: {}", busy.join(", "))
    }
}

fn run_counts(activity: &Activity) -> String {
    let all = activity.snapshot();
    let runs: u64 = all.values().map(|a| a.scheduled_runs).sum();
    let messages: u64 = all.values().map(|a| a.messages_handled).sum();
    let failures: u64 = all.values().map(|a| a.total_failures()).sum();
    format!("{runs} runs, {messages} messages, {failures} failures")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scenario_clock_counts_days() {
        assert_eq!(clock(Duration::from_secs(0)), "d1 00:00");
        assert_eq!(clock(Duration::from_secs(6 * 3600 + 32 * 60 + 59)), "d1 06:32");
        assert_eq!(clock(Duration::from_secs(25 * 3600)), "d2 01:00");
    }
}
