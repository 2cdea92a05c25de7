//! Walmart feed files (the `file` part of `POST /v3/feeds`) against the feed JSON Schemas.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use jsonschema::Validator;
use sandbox_kit::Exchange;
use serde_json::{Map, Value};

use crate::index::violations_for;
use crate::operation::media_type_essence;
use crate::schema::shorten;
use crate::{SpecError, Violation, read_json};

/// Feed types with a schema in the reference, and the schema file each is checked against.
pub const FEED_SCHEMA_FILES: &[(&str, &str)] = &[
    ("MP_ITEM_MATCH", "MP_ITEM_MATCH_v4.json"),
    ("inventory", "InventoryFeed.json"),
    ("price", "PriceFeed.json"),
];

/// Walmart's published per-feed limits for item and price feeds (not in the schemas themselves, which
/// allow 100,000 prices).
pub const MAX_FEED_ITEMS: usize = 10_000;
pub const MAX_FEED_BYTES: usize = 10 * 1024 * 1024;

const MAX_ERRORS_PER_FEED: usize = 20;

/// The compiled feed schemas.
pub struct FeedSchemas {
    by_feed_type: BTreeMap<&'static str, Validator>,
}

impl std::fmt::Debug for FeedSchemas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedSchemas")
            .field("feed_types", &self.by_feed_type.keys())
            .finish()
    }
}

impl FeedSchemas {
    /// Loads [`FEED_SCHEMA_FILES`] (with the files they `$ref`) from `dir`: the reference directory,
    /// `walmart-openapi/` or `walmart-openapi/feed-schemas/`.
    pub fn load(dir: &Path) -> Result<Self, SpecError> {
        let schema_dir = feed_schema_dir(dir);
        let mut by_feed_type = BTreeMap::new();
        for (feed_type, file) in FEED_SCHEMA_FILES {
            let document = bundle(&schema_dir, file)?;
            let validator = jsonschema::options()
                .should_validate_formats(true)
                .should_ignore_unknown_formats(true)
                .build(&document)
                .map_err(|error| SpecError::Parse {
                    path: schema_dir.join(file),
                    message: format!("schema does not compile: {error}"),
                })?;
            by_feed_type.insert(*feed_type, validator);
        }
        Ok(Self { by_feed_type })
    }

    /// Problems of one feed payload, each `<JSON pointer>: <what>`; empty when valid. A feed type without
    /// a schema in the reference is itself a problem (nothing is waved through unchecked).
    pub fn check(&self, feed_type: &str, payload: &Value) -> Vec<String> {
        let Some(validator) = self.by_feed_type.get(feed_type) else {
            let known: Vec<&str> = FEED_SCHEMA_FILES
                .iter()
                .map(|(feed_type, _)| *feed_type)
                .collect();
            return vec![format!(
                "no feed schema in the reference for feed type {feed_type:?} (known: {})",
                known.join(", ")
            )];
        };
        let mut problems: Vec<String> = validator
            .iter_errors(payload)
            .take(MAX_ERRORS_PER_FEED)
            .map(|error| {
                let pointer = error.instance_path().to_string();
                let pointer = if pointer.is_empty() {
                    "(root)".to_owned()
                } else {
                    pointer
                };
                format!("{pointer}: {}", shorten(&error.to_string()))
            })
            .collect();
        if matches!(feed_type, "MP_ITEM_MATCH" | "price") {
            let list_key = if feed_type == "price" { "Price" } else { "MPItem" };
            let items = payload
                .get(list_key)
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            if items > MAX_FEED_ITEMS {
                problems.push(format!(
                    "/{list_key}: {items} items, Walmart accepts at most {MAX_FEED_ITEMS} per feed"
                ));
            }
            let bytes = serde_json::to_vec(payload).map_or(0, |bytes| bytes.len());
            if bytes > MAX_FEED_BYTES {
                problems.push(format!(
                    "(root): {bytes} bytes, Walmart accepts at most {MAX_FEED_BYTES} per feed"
                ));
            }
        }
        problems
    }

    /// For a `POST /v3/feeds` exchange: its feed file (recorded as `request_body`) against the schema of
    /// its `feedType`. Other exchanges, faulted ones and uploads without a `feedType` (which the OpenAPI
    /// check reports) give nothing.
    pub fn check_exchange(&self, exchange: &Exchange) -> Vec<Violation> {
        let is_feed_upload = exchange.method.eq_ignore_ascii_case("POST")
            && exchange.path.trim_end_matches('/') == "/v3/feeds"
            && !exchange.fault_injected;
        let Some(feed_type) = exchange.query_value("feedType").filter(|_| is_feed_upload) else {
            return Vec::new();
        };
        let problems = match &exchange.request_body {
            Some(payload) => self
                .check(feed_type, payload)
                .into_iter()
                .map(|problem| format!("feed file ({feed_type}) {problem}"))
                .collect(),
            None => {
                let multipart = exchange
                    .request_content_type
                    .as_deref()
                    .is_some_and(|content_type| media_type_essence(content_type) == "multipart/form-data");
                let what = if multipart {
                    "feed upload has no multipart part named \"file\" holding JSON"
                } else {
                    "feed upload is not multipart/form-data with a JSON \"file\" part"
                };
                vec![what.to_owned()]
            }
        };
        violations_for(exchange, problems)
    }
}

fn feed_schema_dir(dir: &Path) -> PathBuf {
    [
        dir.join("walmart-openapi").join("feed-schemas"),
        dir.join("feed-schemas"),
    ]
    .into_iter()
    .find(|candidate| candidate.is_dir())
    .unwrap_or_else(|| dir.to_path_buf())
}

/// One self-contained document: `root_file` with every file it `$ref`s (e.g. `"Inventory.json"`) embedded
/// under `definitions`, and every reference rewritten to point there. Avoids needing a URI registry.
fn bundle(dir: &Path, root_file: &str) -> Result<Value, SpecError> {
    let mut root = read_json(&dir.join(root_file))?;
    let mut pending = Vec::new();
    rewrite_refs(&mut root, None, &mut pending);
    let mut embedded: BTreeMap<String, Value> = BTreeMap::new();
    while let Some(file) = pending.pop() {
        if file == root_file || embedded.contains_key(&file) {
            continue;
        }
        let mut document = read_json(&dir.join(&file))?;
        rewrite_refs(&mut document, Some(&file), &mut pending);
        embedded.insert(file, document);
    }
    strip_nested_schema_declarations(&mut root, true);
    if let Value::Object(root_object) = &mut root {
        let definitions = root_object
            .entry("definitions")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(definitions) = definitions {
            for (file, mut document) in embedded {
                strip_nested_schema_declarations(&mut document, false);
                definitions.insert(file, document);
            }
        }
    }
    Ok(root)
}

/// `X.json#/a` → `#/definitions/X.json/a`; inside an embedded file `F`, `#/a` → `#/definitions/F/a`.
fn rewrite_refs(value: &mut Value, current_file: Option<&str>, referenced_files: &mut Vec<String>) {
    match value {
        Value::Object(object) => {
            if let Some(Value::String(reference)) = object.get_mut("$ref") {
                let (file, fragment) = reference.split_once('#').unwrap_or((reference.as_str(), ""));
                let target = if file.is_empty() {
                    current_file.map(str::to_owned)
                } else {
                    Some(file.to_owned())
                };
                if let Some(target) = target {
                    let rewritten = format!("#/definitions/{}{fragment}", target.replace('~', "~0"));
                    if !file.is_empty() {
                        referenced_files.push(file.to_owned());
                    }
                    *reference = rewritten;
                }
            }
            for nested in object.values_mut() {
                rewrite_refs(nested, current_file, referenced_files);
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|nested| rewrite_refs(nested, current_file, referenced_files)),
        _ => {}
    }
}

/// Quirk: MP_ITEM_MATCH_v4 repeats `$schema` inside subschemas; only the root's counts.
fn strip_nested_schema_declarations(value: &mut Value, is_root: bool) {
    match value {
        Value::Object(object) => {
            if !is_root {
                object.remove("$schema");
            }
            object
                .values_mut()
                .for_each(|nested| strip_nested_schema_declarations(nested, false));
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|nested| strip_nested_schema_declarations(nested, false)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn references_are_rewritten_into_definitions() {
        let mut referenced = Vec::new();
        let mut root = json!({"properties": {"a": {"$ref": "A.json"}, "b": {"$ref": "#/definitions/b"}}});
        rewrite_refs(&mut root, None, &mut referenced);
        assert_eq!(
            root,
            json!({"properties": {"a": {"$ref": "#/definitions/A.json"}, "b": {"$ref": "#/definitions/b"}}})
        );
        assert_eq!(referenced, vec!["A.json"]);

        let mut embedded = json!({"items": {"$ref": "#/definitions/pricing"}});
        rewrite_refs(&mut embedded, Some("Price.json"), &mut referenced);
        assert_eq!(
            embedded,
            json!({"items": {"$ref": "#/definitions/Price.json/definitions/pricing"}})
        );
    }
}
