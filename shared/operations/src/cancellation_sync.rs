//! `cancellation_sync`: lands with its issue.
