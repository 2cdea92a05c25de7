//! From the specs' schema dialects (OpenAPI 3.0, Swagger 2.0) to JSON Schema documents the `jsonschema`
//! crate validates, compiled lazily and cached.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, OnceLock};

use jsonschema::{Draft, Validator};
use serde_json::{Map, Value};

/// Schema keywords that only document (or belong to OpenAPI's dialect) and mean nothing to a JSON Schema
/// validator. Dropping them keeps the converted documents small.
const DOCUMENTATION_KEYWORDS: &[&str] = &[
    "nullable",
    "xml",
    "example",
    "examples",
    "description",
    "title",
    "readOnly",
    "writeOnly",
    "deprecated",
    "externalDocs",
    "discriminator",
];

/// At most this many schema errors are reported per body: the first ones say enough.
const MAX_ERRORS_PER_BODY: usize = 20;
/// Error texts can quote whole enums (170 currencies): cut them.
const MAX_ERROR_TEXT: usize = 300;

/// Converts one schema object of the spec into JSON Schema: OpenAPI 3.0's `nullable: true` becomes a type
/// array with `"null"` (and `null` joins an `enum`), documentation-only keywords go, and `$ref`s starting
/// with `component_prefix` are rewritten to `#/definitions/...`. Property *names* are never mistaken for
/// keywords: only keyword positions that hold schemas are walked.
pub(crate) fn to_json_schema(schema: &Value, component_prefix: &str) -> Value {
    let Value::Object(object) = schema else {
        return schema.clone();
    };
    let mut converted = Map::new();
    for (keyword, value) in object {
        if DOCUMENTATION_KEYWORDS.contains(&keyword.as_str()) || keyword.starts_with("x-") {
            continue;
        }
        let value = match keyword.as_str() {
            "properties" | "patternProperties" | "definitions" => match value {
                Value::Object(schemas) => Value::Object(
                    schemas
                        .iter()
                        .map(|(name, schema)| (name.clone(), to_json_schema(schema, component_prefix)))
                        .collect(),
                ),
                other => other.clone(),
            },
            "items" | "allOf" | "anyOf" | "oneOf" => match value {
                Value::Array(schemas) => Value::Array(
                    schemas
                        .iter()
                        .map(|schema| to_json_schema(schema, component_prefix))
                        .collect(),
                ),
                schema => to_json_schema(schema, component_prefix),
            },
            "additionalProperties" | "additionalItems" | "not" => to_json_schema(value, component_prefix),
            "$ref" => match value.as_str() {
                Some(reference) if reference.starts_with(component_prefix) => {
                    Value::String(format!("#/definitions/{}", &reference[component_prefix.len()..]))
                }
                _ => value.clone(),
            },
            _ => value.clone(),
        };
        converted.insert(keyword.clone(), value);
    }
    if object.get("nullable").and_then(Value::as_bool) == Some(true) {
        make_nullable(&mut converted);
    }
    Value::Object(converted)
}

fn make_nullable(schema: &mut Map<String, Value>) {
    match schema.get_mut("type") {
        Some(Value::String(single)) => {
            let single = std::mem::take(single);
            schema.insert(
                "type".to_owned(),
                Value::Array(vec![Value::String(single), "null".into()]),
            );
        }
        Some(Value::Array(types)) if !types.iter().any(|t| t == "null") => types.push("null".into()),
        _ => {}
    }
    if let Some(Value::Array(values)) = schema.get_mut("enum")
        && !values.contains(&Value::Null)
    {
        values.push(Value::Null);
    }
}

/// The named schemas a spec's `$ref`s point to (`components.schemas` or `definitions`), already converted.
#[derive(Debug, Default)]
pub(crate) struct Definitions {
    by_name: BTreeMap<String, Value>,
}

impl Definitions {
    pub(crate) fn new(by_name: BTreeMap<String, Value>) -> Self {
        Self { by_name }
    }

    /// A self-contained document: `schema` plus only the definitions it reaches (so compiling one
    /// operation does not compile the 500 definitions of the Commerce schema).
    fn document_for(&self, schema: &Value) -> Result<Value, String> {
        let mut reached = BTreeSet::new();
        let mut pending = Vec::new();
        collect_definition_refs(schema, &mut pending);
        let mut definitions = Map::new();
        while let Some(name) = pending.pop() {
            if !reached.insert(name.clone()) {
                continue;
            }
            let definition = self
                .by_name
                .get(&name)
                .ok_or_else(|| format!("unresolvable $ref #/definitions/{name}"))?;
            collect_definition_refs(definition, &mut pending);
            definitions.insert(name, definition.clone());
        }
        // `allOf` rather than merging: in drafts 4-7 keywords beside a `$ref` are ignored.
        Ok(serde_json::json!({"allOf": [schema], "definitions": definitions}))
    }
}

fn collect_definition_refs(value: &Value, names: &mut Vec<String>) {
    match value {
        Value::Object(object) => {
            if let Some(name) = object
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/definitions/"))
            {
                names.push(name.replace("~1", "/").replace("~0", "~"));
            }
            object
                .values()
                .for_each(|nested| collect_definition_refs(nested, names));
        }
        Value::Array(items) => items
            .iter()
            .for_each(|nested| collect_definition_refs(nested, names)),
        _ => {}
    }
}

/// One body schema of one operation, compiled on first use.
#[derive(Debug)]
pub(crate) struct LazySchema {
    schema: Value,
    definitions: Arc<Definitions>,
    draft: Draft,
    compiled: OnceLock<Result<Validator, String>>,
}

impl LazySchema {
    pub(crate) fn new(schema: Value, definitions: Arc<Definitions>, draft: Draft) -> Self {
        Self {
            schema,
            definitions,
            draft,
            compiled: OnceLock::new(),
        }
    }

    /// Problems of `instance`, each as `<JSON pointer>: <what>` (`(root)` for the top level). A schema
    /// that does not compile is reported as a problem too, never ignored.
    /// The compiled validator, compiling it on first use.
    pub(crate) fn compiled(&self) -> &Result<Validator, String> {
        self.compiled.get_or_init(|| {
            let document = self.definitions.document_for(&self.schema)?;
            jsonschema::options()
                .with_draft(self.draft)
                .should_validate_formats(true)
                .should_ignore_unknown_formats(true)
                .build(&document)
                .map_err(|error| error.to_string())
        })
    }

    pub(crate) fn problems(&self, instance: &Value) -> Vec<String> {
        let validator = match self.compiled() {
            Ok(validator) => validator,
            Err(error) => return vec![format!("(schema): the spec's schema does not compile: {error}")],
        };
        validator
            .iter_errors(instance)
            .take(MAX_ERRORS_PER_BODY)
            .map(|error| {
                let pointer = error.instance_path().to_string();
                let pointer = if pointer.is_empty() {
                    "(root)".to_owned()
                } else {
                    pointer
                };
                format!("{pointer}: {}", shorten(&error.to_string()))
            })
            .collect()
    }
}

pub(crate) fn shorten(text: &str) -> String {
    if text.len() <= MAX_ERROR_TEXT {
        return text.to_owned();
    }
    let mut end = MAX_ERROR_TEXT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nullable_becomes_a_type_array_and_property_names_survive() {
        let schema = json!({
            "type": "object",
            "nullable": true,
            "description": "dropped",
            "properties": {
                "description": {"type": "string", "nullable": true, "enum": ["A"]},
                "xml": {"$ref": "#/components/schemas/Thing"}
            }
        });
        assert_eq!(
            to_json_schema(&schema, "#/components/schemas/"),
            json!({
                "type": ["object", "null"],
                "properties": {
                    "description": {"type": ["string", "null"], "enum": ["A", null]},
                    "xml": {"$ref": "#/definitions/Thing"}
                }
            })
        );
    }

    #[test]
    fn documents_carry_only_reached_definitions_and_report_pointers() {
        let definitions = Arc::new(Definitions::new(BTreeMap::from([
            (
                "a".to_owned(),
                json!({"type": "object", "properties": {"b": {"$ref": "#/definitions/b"}}}),
            ),
            ("b".to_owned(), json!({"type": "integer"})),
            ("unused".to_owned(), json!({"$ref": "#/definitions/missing"})),
        ])));
        let lazy = LazySchema::new(json!({"$ref": "#/definitions/a"}), definitions, Draft::Draft4);
        assert!(lazy.problems(&json!({"b": 3})).is_empty());
        let problems = lazy.problems(&json!({"b": "x"}));
        assert_eq!(problems.len(), 1);
        assert!(problems[0].starts_with("/b: "), "{problems:?}");
    }

    #[test]
    fn an_unresolvable_ref_is_reported_not_ignored() {
        let lazy = LazySchema::new(
            json!({"$ref": "#/definitions/missing"}),
            Arc::new(Definitions::default()),
            Draft::Draft4,
        );
        let problems = lazy.problems(&json!({}));
        assert!(
            problems[0].contains("unresolvable $ref #/definitions/missing"),
            "{problems:?}"
        );
    }
}
