//! Checks that the deployable stack (`infra/template.yaml`) agrees with the code.
//!
//! - [`template`], [`model`], [`eval`]: the template read into typed form, from the `sam-template`
//!   crate (the local runner reads it through the same crate).
//! - [`topology`]: the wiring the architecture decided (who consumes and sends to which queue).
//! - [`delays`]: each operation's worst case from the template's timers, against
//!   `domain::Operation`'s delays.
//! - [`checks`]: every rule, each returning the violations it finds.
//! - [`permissions`]: each role's table actions, derived from the store calls its operation declares.
//! - [`dashboard`]: the merchant's dashboard function, which is not an operation.
//! - [`receiver`]: the other functions that are not operations (the `walmart-events` receiver).

pub mod checks;
pub mod dashboard;
pub mod delays;
pub mod permissions;
pub mod receiver;
pub mod topology;

use std::path::Path;

pub use checks::{Violation, check_all};
pub use sam_template::{
    Stack, Template, TemplateError, eval, load_stack, model, template, template_path, workspace_root,
};

/// The function crates: directories under `functions/` with a Cargo.toml.
pub fn function_crates(root: &Path) -> std::io::Result<Vec<String>> {
    let mut crates = Vec::new();
    for entry in std::fs::read_dir(root.join("functions"))? {
        let entry = entry?;
        if entry.path().join("Cargo.toml").is_file() {
            crates.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    crates.sort();
    Ok(crates)
}
