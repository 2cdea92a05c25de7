//! The operations, one module per Walmart API, all as methods of [`crate::WalmartClient`].

pub mod feeds;
pub mod inventory;
pub mod items;
pub mod notifications;
pub mod orders;
pub mod returns;
