//! `returns_sync`: lands with its issue.
