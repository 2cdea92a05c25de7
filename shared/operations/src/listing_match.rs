//! `listing_match`: lands with its issue.
