//! Checks that the deployable stack (`infra/template.yaml`) agrees with the code.
//!
//! - [`template`]: loads the SAM template (short-form intrinsics rewritten to long form).
//! - [`model`]: the functions, timers, triggers, queues and permissions, typed.
//! - [`topology`]: the wiring the architecture decided (who consumes and sends to which queue).
//! - [`delays`]: each operation's worst case from the template's timers, against
//!   `domain::Operation`'s delays.
//! - [`eval`]: evaluates intrinsics (parameters, conditions, `Fn::Sub`) as CloudFormation would.
//! - [`checks`]: every rule, each returning the violations it finds.
//! - [`permissions`]: each role's table actions, derived from the store calls its operation declares.
//! - [`dashboard`]: the merchant's dashboard function, which is not an operation.

pub mod checks;
pub mod dashboard;
pub mod delays;
pub mod eval;
pub mod model;
pub mod permissions;
pub mod template;
pub mod topology;

use std::path::{Path, PathBuf};

pub use checks::{Violation, check_all};
pub use model::Stack;
pub use template::{Template, TemplateError};

/// The workspace root (this crate lives in `infra/checks`).
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| manifest.to_path_buf())
}

pub fn template_path() -> PathBuf {
    workspace_root().join("infra").join("template.yaml")
}

/// Loads `infra/template.yaml` into the checks' model.
pub fn load_stack() -> Result<Stack, TemplateError> {
    Template::load(&template_path()).map(Stack::from_template)
}

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
