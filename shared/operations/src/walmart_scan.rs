//! One read of a Walmart stream's pages, written once (the Walmart side of `scan`): read the first
//! page, report the records Walmart sent badly, hand each record to the operation, count what its
//! outcome says and hold the window where it must be read again, stop at the deadline, follow the
//! next-page cursor. The caller opens and closes the window: one window may span several reads
//! (cancellation-sync reads one per order status).
//!
//! Walmart's cursors carry no per-record time, so a hold keeps the whole window for the next run.

use std::future::Future;

use ports::walmart::{OrdersCursor, OrdersPage, ReturnsPage, SkippedRecord, WalmartOrder, WalmartReturn};
use ports::{ApiError, Deadline};

use crate::order_support::{StreamWindow, report_skipped};
use crate::scan::Seen;
use crate::{OpError, RunReport};

/// A page of a Walmart stream: its records, those Walmart sent badly, the cursor to the next page.
pub(crate) trait WalmartPage {
    type Record;
    type Cursor;
    fn into_parts(self) -> (Vec<Self::Record>, Vec<SkippedRecord>, Option<Self::Cursor>);
}

impl WalmartPage for OrdersPage {
    type Record = WalmartOrder;
    type Cursor = OrdersCursor;
    fn into_parts(self) -> (Vec<WalmartOrder>, Vec<SkippedRecord>, Option<OrdersCursor>) {
        (self.orders, self.skipped, self.next_cursor)
    }
}

impl WalmartPage for ReturnsPage {
    type Record = WalmartReturn;
    type Cursor = String;
    fn into_parts(self) -> (Vec<WalmartReturn>, Vec<SkippedRecord>, Option<String>) {
        (self.returns, self.skipped, self.next_cursor)
    }
}

/// How a read of a Walmart stream ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Paged {
    /// Every page was read.
    Read,
    /// The deadline passed or a next page could not be read: the run is incomplete and the window
    /// held; the caller reads nothing more.
    Stopped,
}

/// How a Walmart stream is read: the name of what it reads (for skipped records and failed pages)
/// and the window the read belongs to.
pub(crate) struct WalmartScan<'w> {
    pub(crate) what: &'static str,
    pub(crate) window: &'w mut StreamWindow,
}

/// Reads a Walmart stream from its `first` page on, handing each record to `handle`. A first page
/// that cannot be read fails the run (the window is left as it was); a next page that cannot be
/// read stops it.
pub(crate) async fn scan_walmart<P: WalmartPage, NF, HF>(
    scan: WalmartScan<'_>,
    deadline: &Deadline,
    report: &mut RunReport,
    first: impl Future<Output = Result<P, ApiError>>,
    next: impl FnMut(P::Cursor) -> NF,
    mut handle: impl FnMut(P::Record) -> HF,
) -> Result<Paged, OpError>
where
    NF: Future<Output = Result<P, ApiError>>,
    HF: Future<Output = Result<Seen, OpError>>,
{
    scan_walmart_in_batches(
        scan,
        deadline,
        report,
        first,
        next,
        |record| {
            let seen = handle(record);
            async move { Ok((seen.await?, None::<()>)) }
        },
        |_| async { Seen::nothing() },
    )
    .await
}

/// [`scan_walmart`] for an operation that gathers what each record yields (`handle`'s second
/// value, a message to send) and hands a page's worth to `page_done` after the page, and after the
/// last record read when the deadline stops the read.
pub(crate) async fn scan_walmart_in_batches<P, M, FF, N, NF, H, HF, D, DF>(
    scan: WalmartScan<'_>,
    deadline: &Deadline,
    report: &mut RunReport,
    first: FF,
    mut next: N,
    mut handle: H,
    mut page_done: D,
) -> Result<Paged, OpError>
where
    P: WalmartPage,
    FF: Future<Output = Result<P, ApiError>>,
    N: FnMut(P::Cursor) -> NF,
    NF: Future<Output = Result<P, ApiError>>,
    H: FnMut(P::Record) -> HF,
    HF: Future<Output = Result<(Seen, Option<M>), OpError>>,
    D: FnMut(Vec<M>) -> DF,
    DF: Future<Output = Seen>,
{
    let WalmartScan { what, window } = scan;
    let mut page = match first.await {
        Ok(page) => page,
        Err(e) => {
            report.problem(format!("{what} not read: {e}"));
            return Err(e.into());
        }
    };
    loop {
        let (records, skipped, cursor) = page.into_parts();
        // A record Walmart sent badly is reported and skipped; the rest of its page is read.
        report_skipped(report, what, &skipped);
        let mut batch = Vec::new();
        for record in records {
            if deadline.is_past() {
                report.complete = false;
                window.hold(None);
                tell(page_done(batch).await, window, report);
                return Ok(Paged::Stopped);
            }
            let (seen, yielded) = handle(record).await?;
            batch.extend(yielded);
            tell(seen, window, report);
        }
        tell(page_done(batch).await, window, report);
        let Some(cursor) = cursor else {
            return Ok(Paged::Read);
        };
        page = match next(cursor).await {
            Ok(next) => next,
            Err(e) => {
                report.problem(format!("next page of {what} not read: {e}"));
                report.complete = false;
                window.hold(None);
                return Ok(Paged::Stopped);
            }
        };
    }
}

/// Counts and reports what a record came to, and holds the window when it must be read again.
fn tell(seen: Seen, window: &mut StreamWindow, report: &mut RunReport) {
    if seen.report_to(report) {
        window.hold(None);
    }
}
