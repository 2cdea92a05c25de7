//! Walmart Marketplace: the OpenAPI 3.0.1 files merged into one checker.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jsonschema::Draft;
use sandbox_kit::Exchange;
use serde_json::Value;

use crate::index::{OperationIndex, build_report, violations_for};
use crate::operation::{
    Dialect, Operation, Param, ParamLocation, RequestBodySpec, ResponseSpec, media_type_essence,
    parse_template,
};
use crate::schema::{Definitions, LazySchema, to_json_schema};
use crate::{FeedSchemas, Report, SpecError, Violation, read_json};

/// The Walmart spec files merged, in the order they are read.
pub const WALMART_SPEC_FILES: &[&str] = &[
    "auth.json",
    "items.json",
    "feeds.json",
    "inventory.json",
    "price.json",
    "orders.json",
    "returns.json",
    "notifications.json",
];

const HTTP_METHODS: &[&str] = &["get", "put", "post", "delete", "patch", "head", "options"];
const COMPONENT_SCHEMAS: &str = "#/components/schemas/";

/// Walmart's OpenAPI 3.0.1 specs, merged. Load once (orders.json alone is 3 MB); body schemas compile on
/// first use and stay cached.
#[derive(Debug)]
pub struct OpenApi3 {
    index: OperationIndex,
}

impl OpenApi3 {
    /// Loads [`WALMART_SPEC_FILES`] from `dir`: the reference directory, or its `walmart-openapi/`.
    pub fn load_walmart(dir: &Path) -> Result<Self, SpecError> {
        let spec_dir = walmart_dir(dir);
        let mut operations = Vec::new();
        for file in WALMART_SPEC_FILES {
            let path = spec_dir.join(file);
            let document = read_json(&path)?;
            operations.extend(operations_of(&document, file, &path)?);
        }
        Ok(Self {
            index: OperationIndex::new(operations, Dialect::Walmart),
        })
    }

    /// Every problem of one exchange: undocumented path or method, missing required query parameters and
    /// headers, wrong types and enum values, request and response bodies against their schemas.
    pub fn check(&self, exchange: &Exchange) -> Vec<Violation> {
        let evaluation = self.index.evaluate(exchange, &exchange.path);
        violations_for(exchange, evaluation.problems)
    }

    /// The `(METHOD, template)` an exchange would be checked against, if any.
    pub fn operation_of(&self, exchange: &Exchange) -> Option<(String, String)> {
        self.index.evaluate(exchange, &exchange.path).operation
    }

    /// Checks every exchange no fault touched; see [`Report`].
    pub fn report(&self, exchanges: &[Exchange]) -> Report {
        build_report(exchanges, |exchange| {
            self.index.evaluate(exchange, &exchange.path)
        })
    }

    /// [`OpenApi3::report`], plus the feed file of every `POST /v3/feeds` upload checked with
    /// [`FeedSchemas::check_exchange`].
    pub fn report_with_feeds(&self, exchanges: &[Exchange], feeds: &FeedSchemas) -> Report {
        let mut report = self.report(exchanges);
        for exchange in exchanges.iter().filter(|exchange| !exchange.fault_injected) {
            report.violations.extend(feeds.check_exchange(exchange));
        }
        report.violations.sort_by_key(|violation| violation.seq);
        report
    }

    /// Compiles every body schema now instead of on first use (they are otherwise compiled lazily and
    /// cached). Returns how many compiled, or the failures, each naming its operation.
    pub fn precompile(&self) -> Result<usize, Vec<String>> {
        let (compiled, failures) = self.index.precompile();
        if failures.is_empty() {
            Ok(compiled)
        } else {
            Err(failures)
        }
    }

    /// Every documented `(METHOD, template)`.
    pub fn operations(&self) -> BTreeSet<(String, String)> {
        self.index
            .operations()
            .map(|op| (op.method.clone(), op.template.clone()))
            .collect()
    }
}

fn walmart_dir(dir: &Path) -> PathBuf {
    let nested = dir.join("walmart-openapi");
    if nested.is_dir() {
        nested
    } else {
        dir.to_path_buf()
    }
}

fn operations_of(document: &Value, file: &str, path: &Path) -> Result<Vec<Operation>, SpecError> {
    let shape = |pointer: &str, message: &str| SpecError::Shape {
        path: path.to_path_buf(),
        pointer: pointer.to_owned(),
        message: message.to_owned(),
    };
    let paths = document
        .get("paths")
        .and_then(Value::as_object)
        .ok_or_else(|| shape("/paths", "missing"))?;
    let component_schemas = document
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|schemas| {
            schemas
                .iter()
                .map(|(name, schema)| (name.clone(), to_json_schema(schema, COMPONENT_SCHEMAS)))
                .collect::<BTreeMap<_, _>>()
        })
        .unwrap_or_default();
    let definitions = Arc::new(Definitions::new(component_schemas));
    let lazy = |schema: &Value| {
        LazySchema::new(
            to_json_schema(schema, COMPONENT_SCHEMAS),
            Arc::clone(&definitions),
            Draft::Draft7,
        )
    };

    let mut operations = Vec::new();
    for (template, path_item) in paths {
        let shared_params: Vec<&Value> = path_item
            .get("parameters")
            .and_then(Value::as_array)
            .map(|p| p.iter().collect())
            .unwrap_or_default();
        for method in HTTP_METHODS {
            let Some(operation) = path_item.get(*method) else {
                continue;
            };
            let pointer = format!(
                "/paths/{}/{method}",
                template.replace('~', "~0").replace('/', "~1")
            );
            let mut params = Vec::new();
            let declared = operation
                .get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten();
            for param in shared_params.iter().copied().chain(declared) {
                let param = resolve_parameter(document, param)
                    .ok_or_else(|| shape(&pointer, "unresolvable parameter $ref"))?;
                if let Some(param) = parameter(param, template) {
                    params.push(param);
                }
            }
            let body = operation.get("requestBody").map(|body| request_body(body, &lazy));
            let responses = responses(operation, &lazy);
            operations.push(Operation {
                method: method.to_ascii_uppercase(),
                template: template.clone(),
                segments: parse_template(template),
                source: file.to_owned(),
                params,
                body,
                responses,
            });
        }
    }
    Ok(operations)
}

/// An operation's `requestBody`: whether it is required, its media types, and its JSON and form
/// schemas.
fn request_body(body: &Value, lazy: &dyn Fn(&Value) -> LazySchema) -> RequestBodySpec {
    let content = body.get("content").and_then(Value::as_object);
    let schema_of = |media: &str| {
        content
            .and_then(|content| content.iter().find(|(key, _)| media_type_essence(key) == media))
            .and_then(|(_, media)| media.get("schema"))
            .map(lazy)
    };
    RequestBodySpec {
        required: body.get("required").and_then(Value::as_bool).unwrap_or(false),
        media_types: content
            .map(|content| content.keys().map(|key| media_type_essence(key)).collect())
            .unwrap_or_default(),
        json_schema: schema_of("application/json"),
        form_schema: schema_of("application/x-www-form-urlencoded"),
    }
}

/// An operation's responses by status: their media types and JSON schema.
fn responses(operation: &Value, lazy: &dyn Fn(&Value) -> LazySchema) -> Vec<(String, ResponseSpec)> {
    operation
        .get("responses")
        .and_then(Value::as_object)
        .map(|responses| {
            responses
                .iter()
                .map(|(status, response)| {
                    let content = response.get("content").and_then(Value::as_object);
                    let json_schema = content
                        .and_then(|content| {
                            content
                                .iter()
                                .find(|(key, _)| media_type_essence(key).contains("json"))
                        })
                        .and_then(|(_, media)| media.get("schema"))
                        .map(lazy);
                    let media_types = content
                        .map(|content| content.keys().map(|key| media_type_essence(key)).collect())
                        .unwrap_or_default();
                    (
                        status.clone(),
                        ResponseSpec {
                            media_types,
                            json_schema,
                        },
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn resolve_parameter<'a>(document: &'a Value, param: &'a Value) -> Option<&'a Value> {
    match param.get("$ref").and_then(Value::as_str) {
        Some(reference) => document.pointer(reference.strip_prefix('#')?),
        None => Some(param),
    }
}

fn parameter(param: &Value, template: &str) -> Option<Param> {
    let location = match param.get("in").and_then(Value::as_str)? {
        "path" => ParamLocation::Path,
        "query" => ParamLocation::Query,
        "header" => ParamLocation::Header,
        _ => return None,
    };
    let name = param.get("name").and_then(Value::as_str)?.to_owned();
    let schema = param.get("schema");
    let field = |key: &str| schema.and_then(|schema| schema.get(key));
    let mut allowed = field("enum").and_then(Value::as_array).cloned();
    // Quirk: returns.json documents feedType only by its default (RETURNS_OVERRIDES). Without an enum that
    // variant of POST /v3/feeds would accept any feed type and hide the other files' enums.
    if allowed.is_none() && name == "feedType" && template == "/v3/feeds" {
        allowed = field("default").map(|default| vec![default.clone()]);
    }
    Some(Param {
        name,
        location,
        required: param
            .get("required")
            .and_then(Value::as_bool)
            .unwrap_or(location == ParamLocation::Path),
        value_type: field("type").and_then(Value::as_str).map(str::to_owned),
        item_type: field("items")
            .and_then(|items| items.get("type"))
            .and_then(Value::as_str)
            .map(str::to_owned),
        allowed,
    })
}
