//! `order_create`: lands with its issue.
