//! `price_sync`: lands with its issue.
