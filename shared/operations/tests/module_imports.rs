//! The registry is on top: no module of `src/` names an operation module (`crate::order_create`,
//! `use crate::{.., shipment_sync}`) except `registry.rs`. Operations share steps through shared
//! modules (`messages`, `feeds`, `order_support`, `dashboard`), never through each other, so no
//! circle runs between them. Read from the sources, so it stays true as code is added.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use domain::Operation;

/// Crossings still to be moved to a shared module. This list may only shrink: it is empty.
const NOT_YET_SHARED: [(&str, &str); 0] = [];

/// The operation modules: one per operation, named after its function.
fn operation_modules() -> BTreeSet<String> {
    Operation::ALL
        .iter()
        .map(|op| op.function_name().replace('-', "_"))
        .collect()
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The first-level module names a source refers to after `crate::`: `crate::a::b` gives `a`,
/// `crate::{a, b::c, d}` gives `a`, `b` and `d`. Comments are skipped.
fn crate_modules(source: &str) -> BTreeSet<String> {
    let code: String = source
        .lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let mut names = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 1;
            let mut item = String::new();
            let mut at_start = true;
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    ',' if depth == 1 => {
                        if !item.is_empty() {
                            names.insert(std::mem::take(&mut item));
                        }
                        at_start = true;
                        continue;
                    }
                    _ => {}
                }
                if depth == 1 && at_start {
                    if c.is_alphanumeric() || c == '_' {
                        item.push(c);
                    } else if !item.is_empty() {
                        names.insert(std::mem::take(&mut item));
                        at_start = false;
                    }
                }
            }
            if !item.is_empty() {
                names.insert(item);
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            names.insert(name);
        }
    }
    names
}

#[test]
fn only_the_registry_imports_operation_modules() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let operations = operation_modules();
    let mut crossings = BTreeSet::new();
    for file in &files {
        let module = file
            .strip_prefix(&src)
            .unwrap()
            .with_extension("")
            .to_string_lossy()
            .replace('/', "::");
        if module == "registry" {
            continue;
        }
        let text = std::fs::read_to_string(file).unwrap();
        for name in crate_modules(&text) {
            if operations.contains(&name) && name != module {
                crossings.insert((module.clone(), name));
            }
        }
    }
    let allowed: BTreeSet<(String, String)> = NOT_YET_SHARED
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect();
    let new: Vec<_> = crossings.difference(&allowed).collect();
    assert!(
        new.is_empty(),
        "these modules import an operation module (move the shared step to a shared module; only \
         the registry imports operations): {new:?}"
    );
    let gone: Vec<_> = allowed.difference(&crossings).collect();
    assert!(
        gone.is_empty(),
        "no longer crossing, remove from NOT_YET_SHARED: {gone:?}"
    );
}

#[test]
fn the_reader_finds_paths_and_groups() {
    let names = crate_modules(
        "use crate::feeds::{self, Lease};\nuse crate::{Channel, OpError, order_create::{A, B}, shipment_sync};\n\
         // crate::returns_sync in a comment\nlet x = crate::cancellation_sync::f();",
    );
    let expected: BTreeSet<String> = [
        "feeds",
        "Channel",
        "OpError",
        "order_create",
        "shipment_sync",
        "cancellation_sync",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_eq!(names, expected);
}
