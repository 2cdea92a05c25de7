//! Adobe Commerce: the Swagger 2.0 admin REST schema.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jsonschema::Draft;
use sandbox_kit::Exchange;
use serde_json::{Value, json};

use crate::index::{Evaluation, OperationIndex, build_report, violations_for};
use crate::operation::{
    Dialect, Operation, Param, ParamLocation, RequestBodySpec, ResponseSpec, media_type_essence,
    parse_template,
};
use crate::schema::{Definitions, LazySchema, to_json_schema};
use crate::{Report, SpecError, Violation};

/// The schema file inside `commerce-webapi/`.
pub const COMMERCE_SCHEMA_FILE: &str = "admin-schema-2.4.9.yaml";

const HTTP_METHODS: &[&str] = &["get", "put", "post", "delete", "patch", "head", "options"];
const DEFINITIONS: &str = "#/definitions/";

/// Adobe Commerce's admin REST schema (Swagger 2.0). Paths are checked relative to the store prefix:
/// `/rest/<store_code>/V1/...`, `/rest/all/V1/...` and `/rest/V1/...` all check as `/V1/...`.
#[derive(Debug)]
pub struct Swagger2 {
    index: OperationIndex,
}

impl Swagger2 {
    /// Loads the schema from `dir`: the reference directory, its `commerce-webapi/`, or the YAML file.
    pub fn load_commerce(dir: &Path) -> Result<Self, SpecError> {
        let path = schema_path(dir);
        let text = std::fs::read_to_string(&path).map_err(|error| SpecError::Read {
            path: path.clone(),
            message: error.to_string(),
        })?;
        let document: Value = serde_yaml::from_str(&text).map_err(|error| SpecError::Parse {
            path: path.clone(),
            message: error.to_string(),
        })?;
        let operations = operations_of(&document, &path)?;
        Ok(Self {
            index: OperationIndex::new(operations, Dialect::Commerce),
        })
    }

    /// Every problem of one exchange (see [`crate::OpenApi3::check`]; Commerce also documents error
    /// responses, so those are checked too).
    pub fn check(&self, exchange: &Exchange) -> Vec<Violation> {
        violations_for(exchange, self.evaluate(exchange).problems)
    }

    /// The `(METHOD, template)` an exchange would be checked against, if any.
    pub fn operation_of(&self, exchange: &Exchange) -> Option<(String, String)> {
        self.evaluate(exchange).operation
    }

    /// Checks every exchange no fault touched; see [`Report`].
    pub fn report(&self, exchanges: &[Exchange]) -> Report {
        build_report(exchanges, |exchange| self.evaluate(exchange))
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

    /// Every documented `(METHOD, template)` (templates as the schema writes them, e.g. `/V1/products/{sku}`).
    pub fn operations(&self) -> BTreeSet<(String, String)> {
        self.index
            .operations()
            .map(|op| (op.method.clone(), op.template.clone()))
            .collect()
    }

    fn evaluate(&self, exchange: &Exchange) -> Evaluation {
        match strip_store_code(&exchange.path) {
            Some(api_path) => self.index.evaluate(exchange, api_path),
            None => Evaluation {
                operation: None,
                problems: vec![format!(
                    "not a Commerce REST path: expected /rest/<store_code>/V1/..., got {}",
                    exchange.path
                )],
            },
        }
    }
}

/// `/rest/default/V1/products` → `/V1/products`; also `/rest/V1/...`. `None` for anything else.
pub fn strip_store_code(path: &str) -> Option<&str> {
    let after_rest = path.strip_prefix("/rest/")?;
    if after_rest.starts_with("V1/") || after_rest == "V1" {
        return Some(&path["/rest".len()..]);
    }
    let slash = after_rest.find('/')?;
    let (store_code, rest) = after_rest.split_at(slash);
    (!store_code.is_empty() && (rest.starts_with("/V1/") || rest == "/V1")).then_some(rest)
}

fn schema_path(dir: &Path) -> PathBuf {
    if dir.is_file() {
        return dir.to_path_buf();
    }
    let nested = dir.join("commerce-webapi").join(COMMERCE_SCHEMA_FILE);
    if nested.is_file() {
        nested
    } else {
        dir.join(COMMERCE_SCHEMA_FILE)
    }
}

fn operations_of(document: &Value, path: &Path) -> Result<Vec<Operation>, SpecError> {
    let shape = |pointer: &str, message: &str| SpecError::Shape {
        path: path.to_path_buf(),
        pointer: pointer.to_owned(),
        message: message.to_owned(),
    };
    let paths = document
        .get("paths")
        .and_then(Value::as_object)
        .ok_or_else(|| shape("/paths", "missing"))?;
    let definitions = Arc::new(definitions(document).ok_or_else(|| shape("/definitions", "missing"))?);
    let lazy = |schema: &Value| {
        LazySchema::new(
            to_json_schema(schema, DEFINITIONS),
            Arc::clone(&definitions),
            Draft::Draft4,
        )
    };
    let global_consumes = media_list(document.get("consumes"));
    let global_produces = media_list(document.get("produces"));

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
            let consumes = operation
                .get("consumes")
                .map(|c| media_list(Some(c)))
                .unwrap_or(global_consumes.clone());
            let produces = operation
                .get("produces")
                .map(|p| media_list(Some(p)))
                .unwrap_or(global_produces.clone());
            let mut params = Vec::new();
            let mut body = None;
            let declared = operation
                .get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten();
            for param in shared_params.iter().copied().chain(declared) {
                let param = match param.get("$ref").and_then(Value::as_str) {
                    Some(reference) => reference
                        .strip_prefix('#')
                        .and_then(|pointer| document.pointer(pointer))
                        .ok_or_else(|| shape(template, "unresolvable parameter $ref"))?,
                    None => param,
                };
                match param.get("in").and_then(Value::as_str) {
                    Some("body") => {
                        body = Some(RequestBodySpec {
                            required: param.get("required").and_then(Value::as_bool).unwrap_or(false),
                            media_types: consumes.clone(),
                            json_schema: param.get("schema").map(&lazy),
                            form_schema: None,
                        });
                    }
                    Some(location) => {
                        if let Some(param) = parameter(param, location) {
                            params.push(param);
                        }
                    }
                    None => {}
                }
            }
            let responses = responses(operation, &produces, &lazy);
            operations.push(Operation {
                method: method.to_ascii_uppercase(),
                template: template.clone(),
                segments: parse_template(template),
                source: COMMERCE_SCHEMA_FILE.to_owned(),
                params,
                body,
                responses,
            });
        }
    }
    Ok(operations)
}

/// The document's definitions as JSON Schema, with the schema's known quirks relaxed.
fn definitions(document: &Value) -> Option<Definitions> {
    let mut converted: BTreeMap<String, Value> = document
        .get("definitions")
        .and_then(Value::as_object)?
        .iter()
        .map(|(name, schema)| (name.clone(), to_json_schema(schema, DEFINITIONS)))
        .collect();
    relax_custom_attribute_values(&mut converted);
    relax_error_parameters(&mut converted);
    Some(Definitions::new(converted))
}

/// An operation's responses by status, each with the operation's media types and its schema.
fn responses(
    operation: &Value,
    produces: &[String],
    lazy: &dyn Fn(&Value) -> LazySchema,
) -> Vec<(String, ResponseSpec)> {
    operation
        .get("responses")
        .and_then(Value::as_object)
        .map(|responses| {
            responses
                .iter()
                .map(|(status, response)| {
                    let schema = response.get("schema").map(relax_scalar_number);
                    let spec = ResponseSpec {
                        media_types: produces.to_vec(),
                        json_schema: schema.as_ref().map(lazy),
                    };
                    (status.clone(), spec)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Quirk: an answer that is one integer or number (the order id of `PUT /V1/carts/{id}/order`, an
/// invoice or credit memo id, a cart id) is the service method's PHP scalar passed through as it is
/// (`Webapi/ServiceOutputProcessor::convertValue`), and ids read back from the database are PHP
/// strings: accept a numeric string there too.
fn relax_scalar_number(schema: &Value) -> Value {
    match schema.get("type").and_then(Value::as_str) {
        Some(kind @ ("integer" | "number")) if schema.get("$ref").is_none() => {
            let pattern = if kind == "integer" {
                "^-?[0-9]+$"
            } else {
                "^-?[0-9]+(\\.[0-9]+)?$"
            };
            json!({"anyOf": [schema, {"type": "string", "pattern": pattern}]})
        }
        _ => schema.clone(),
    }
}

/// Quirk: `framework-attribute-interface.value` is typed `string`, but Magento answers multi-valued
/// custom attributes (`category_ids`, multiselects) with arrays of strings. Accept both.
fn relax_custom_attribute_values(definitions: &mut BTreeMap<String, Value>) {
    if let Some(value) = definitions
        .get_mut("framework-attribute-interface")
        .and_then(|definition| definition.pointer_mut("/properties/value"))
    {
        *value = json!({"type": ["string", "array"], "items": {"type": "string"}});
    }
}

/// Quirk: `error-parameters` is typed as an array of `{resources, fieldName, fieldValue}` objects, but
/// Magento sends positional parameters as an array of strings (`["SKU-9"]`) and named ones as a map
/// (`{"fieldName": "id", "fieldValue": 5}`). Accept an array of scalars/objects, or an object.
fn relax_error_parameters(definitions: &mut BTreeMap<String, Value>) {
    if let Some(parameters) = definitions.get_mut("error-parameters") {
        *parameters = json!({
            "type": ["array", "object"],
            "items": {"type": ["string", "number", "boolean", "object", "null"]}
        });
    }
}

fn media_list(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(media_type_essence)
                .collect()
        })
        .unwrap_or_default()
}

fn parameter(param: &Value, location: &str) -> Option<Param> {
    let location = match location {
        "path" => ParamLocation::Path,
        "query" => ParamLocation::Query,
        "header" => ParamLocation::Header,
        _ => return None,
    };
    Some(Param {
        name: param.get("name").and_then(Value::as_str)?.to_owned(),
        location,
        required: param
            .get("required")
            .and_then(Value::as_bool)
            .unwrap_or(location == ParamLocation::Path),
        value_type: param.get("type").and_then(Value::as_str).map(str::to_owned),
        item_type: param
            .pointer("/items/type")
            .and_then(Value::as_str)
            .map(str::to_owned),
        allowed: param.get("enum").and_then(Value::as_array).cloned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_codes_are_stripped() {
        assert_eq!(
            strip_store_code("/rest/default/V1/products"),
            Some("/V1/products")
        );
        assert_eq!(
            strip_store_code("/rest/all/V1/products/SKU%201"),
            Some("/V1/products/SKU%201")
        );
        assert_eq!(strip_store_code("/rest/V1/carts/mine"), Some("/V1/carts/mine"));
        assert_eq!(strip_store_code("/rest/us_en/V1"), Some("/V1"));
        assert_eq!(strip_store_code("/rest/default/async/V1/products"), None);
        assert_eq!(strip_store_code("/V1/products"), None);
        assert_eq!(strip_store_code("/rest//V1/products"), None);
    }
}
