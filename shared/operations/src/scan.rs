//! One run over a Commerce stream's window, written once: open the window, read it page by page,
//! hand each item to the operation, count what the item's outcome says and hold the window where
//! an item must be read again, stop at the deadline, close the window.

use std::fmt::Display;
use std::future::Future;
use std::time::Duration;

use domain::{Stream, Timestamp};
use ports::{ApiError, Deadline, PageRequest, SearchPage};

use crate::order_support::{StreamWindow, worth_retrying};
use crate::{Channel, Counter, OpError, RunReport};

/// What one item came to: what to count, what to tell the operator, and whether the next run must
/// read it again (work held by another invocation, waiting, a failure worth retrying).
#[derive(Debug, Default)]
pub(crate) struct Seen {
    counts: Vec<(Counter, u64)>,
    problems: Vec<String>,
    hold: bool,
}

impl Seen {
    /// Nothing to count.
    pub(crate) fn nothing() -> Self {
        Self::default()
    }

    pub(crate) fn count(counter: Counter, n: u64) -> Self {
        Self::nothing().and(counter, n)
    }

    pub(crate) fn and(mut self, counter: Counter, n: u64) -> Self {
        self.counts.push((counter, n));
        self
    }

    /// The next run reads this item again.
    pub(crate) fn held(mut self) -> Self {
        self.hold = true;
        self
    }

    pub(crate) fn problem(mut self, problem: String) -> Self {
        self.problems.push(problem);
        self
    }

    /// The item failed: the operator is told, and it is read again when trying again can help.
    pub(crate) fn failed(what: impl Display, error: &OpError) -> Self {
        let seen = Self::nothing().problem(format!("{what}: {error}"));
        if worth_retrying(error) { seen.held() } else { seen }
    }

    /// This outcome and then `other`'s.
    pub(crate) fn merge(mut self, other: Seen) -> Self {
        self.counts.extend(other.counts);
        self.problems.extend(other.problems);
        self.hold |= other.hold;
        self
    }

    /// Counts and reports the item's outcome; returns whether it must be read again.
    pub(crate) fn report_to(self, report: &mut RunReport) -> bool {
        for (counter, n) in self.counts {
            report.add(counter, n);
        }
        for problem in self.problems {
            report.problem(problem);
        }
        self.hold
    }
}

/// How a stream is read: which cursor, how far back each run looks again, the page size, and the
/// name of what it reads (for the problem a failed page reports).
pub(crate) struct StreamScan {
    pub(crate) stream: Stream,
    pub(crate) overlap: Duration,
    pub(crate) page_size: u32,
    pub(crate) what: &'static str,
}

/// Reads `scan`'s window of a Commerce search (`page`), hands each item to `handle` and moves the
/// cursor past what is done. An item is held at its update time (`updated`; the window's start when
/// it has none). A page that cannot be read fails the run and the whole window is read again.
pub(crate) async fn scan<T, P, PF, H, HF>(
    ch: &Channel,
    scan: StreamScan,
    deadline: &Deadline,
    report: &mut RunReport,
    mut page: P,
    updated: impl Fn(&T) -> Option<Timestamp>,
    mut handle: H,
) -> Result<(), OpError>
where
    P: FnMut(Timestamp, PageRequest) -> PF,
    PF: Future<Output = Result<SearchPage<T>, ApiError>>,
    H: FnMut(T) -> HF,
    HF: Future<Output = Seen>,
{
    let mut window = StreamWindow::open(ch, scan.stream, scan.overlap).await?;
    let mut request = PageRequest::first(scan.page_size);
    'pages: loop {
        let items = match page(window.from, request).await {
            Ok(items) => items,
            Err(e) => {
                report.problem(format!("Commerce {} not read: {e}", scan.what));
                window.hold(None);
                window.close(ch).await?;
                return Err(e.into());
            }
        };
        let more = items.has_more(request);
        for item in items.items {
            let hold_here = updated(&item).or(Some(window.from));
            if deadline.is_past() {
                report.complete = false;
                window.hold(hold_here);
                break 'pages;
            }
            if handle(item).await.report_to(report) {
                window.hold(hold_here);
            }
        }
        if !more {
            break;
        }
        request = request.next();
    }
    window.close(ch).await
}
