//! One module per page; `actions` answers the forms.

pub mod actions;
pub mod audit;
pub mod listings;
pub mod login;
pub mod orders;
pub mod overview;
pub mod returns;

use http::Response;

/// Why a page could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error(transparent)]
    Store(#[from] ports::StoreError),
    #[error(transparent)]
    Operation(#[from] operations::OpError),
}

pub type PageResult = Result<Response<Vec<u8>>, PageError>;
