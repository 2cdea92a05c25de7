//! `catalog_import`: lands with its issue.
