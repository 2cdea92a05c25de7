//! `shipment_sync`: lands with its issue.
