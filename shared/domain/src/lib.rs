//! Channel Manager's domain: identifiers, records, state machines and pure business rules.
//!
//! Nothing here does I/O. Every status is an enum whose allowed moves are code; an illegal move is an
//! [`IllegalTransition`], never a silent overwrite.

mod budget;
mod channel;
mod commerce;
mod cursor;
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
mod fulfilment;
mod ids;
mod listing;
mod money;
mod offer;
mod operation;
mod order;
mod push;
mod returns;
mod stock;
mod text;
mod time;
mod transition;

pub use budget::*;
pub use channel::*;
pub use commerce::*;
pub use cursor::*;
pub use fulfilment::*;
pub use ids::*;
pub use listing::*;
pub use money::*;
pub use offer::*;
pub use operation::*;
pub use order::*;
pub use push::*;
pub use returns::*;
pub use stock::*;
pub use text::*;
pub use time::*;
pub use transition::*;
