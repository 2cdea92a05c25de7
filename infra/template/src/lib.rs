//! The SAM template (`infra/template.yaml`) read into typed form.
//!
//! A crate of its own, apart from `infra-checks`, because two kinds of reader need the same
//! parsing: the checks, which hold the template to the code, and the local runner, which takes its
//! timers, timeouts, batch sizes, visibility timeouts and maximum receives from it. The runner
//! must not depend on a crate of checks (and through it on every adapter the checks reason
//! about), and the template must be read one way only, so both read it through this crate.
//!
//! - [`template`]: loads the YAML (short-form intrinsics rewritten to long form, Globals merged).
//! - [`model`]: the functions, timers, triggers, queues and permissions, typed.
//! - [`eval`]: evaluates intrinsics (parameters, conditions, `Fn::Sub`) as CloudFormation would.

pub mod eval;
pub mod model;
pub mod template;

use std::path::{Path, PathBuf};

pub use model::Stack;
pub use ports::QueueName;
pub use template::{Template, TemplateError};

/// The workspace root (this crate lives in `infra/template`).
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| manifest.to_path_buf())
}

/// `infra/template.yaml`.
pub fn template_path() -> PathBuf {
    workspace_root().join("infra").join("template.yaml")
}

/// Loads `infra/template.yaml` from the workspace.
pub fn load_stack() -> Result<Stack, TemplateError> {
    Template::load(&template_path()).map(Stack::from_template)
}

/// Reads a template's text (the local runner embeds the file at build time).
pub fn parse_stack(yaml: &str) -> Result<Stack, TemplateError> {
    let value: serde_yaml::Value = serde_yaml::from_str(yaml).map_err(|source| TemplateError::Yaml {
        path: PathBuf::from("<embedded>"),
        source,
    })?;
    Template::from_yaml(value).map(Stack::from_template)
}

/// `catalog-import` -> `CatalogImport`.
pub fn pascal_case(kebab: &str) -> String {
    kebab
        .split('-')
        .map(|word| {
            let mut chars = word.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// The template's logical id for a queue (`CatalogImportQueue`).
pub fn queue_logical_id(queue: QueueName) -> String {
    format!("{}Queue", pascal_case(queue.as_str()))
}
