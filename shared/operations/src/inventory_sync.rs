//! `inventory_sync`: lands with its issue.
