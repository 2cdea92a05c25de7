//! `order_import`: lands with its issue.
