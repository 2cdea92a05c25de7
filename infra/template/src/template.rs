//! Loading a CloudFormation/SAM template written in YAML into plain JSON, with the short-form
//! intrinsic functions (`!Ref`, `!GetAtt`, `!Sub`, ...) rewritten to their long form, so the checks
//! only ever meet one spelling.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use serde_yaml::value::TaggedValue;

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read the template {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("the template {path} is not valid YAML: {source}")]
    Yaml {
        path: PathBuf,
        source: serde_yaml::Error,
    },
    #[error("the template uses {what}, which this loader does not understand")]
    Unsupported { what: String },
    #[error("the template has no `Resources` map")]
    NoResources,
}

/// A parsed template: the whole document as JSON, intrinsics in long form.
#[derive(Debug, Clone)]
pub struct Template {
    pub document: Value,
}

impl Template {
    pub fn load(path: &Path) -> Result<Self, TemplateError> {
        let text = std::fs::read_to_string(path).map_err(|source| TemplateError::Read {
            path: path.to_owned(),
            source,
        })?;
        let yaml: serde_yaml::Value = serde_yaml::from_str(&text).map_err(|source| TemplateError::Yaml {
            path: path.to_owned(),
            source,
        })?;
        Self::from_yaml(yaml)
    }

    pub fn from_yaml(yaml: serde_yaml::Value) -> Result<Self, TemplateError> {
        let document = to_json(yaml)?;
        if !document.get("Resources").is_some_and(Value::is_object) {
            return Err(TemplateError::NoResources);
        }
        Ok(Self { document })
    }

    pub fn resources(&self) -> &Map<String, Value> {
        // `from_yaml` checked that Resources is a map.
        static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
        self.document
            .get("Resources")
            .and_then(Value::as_object)
            .unwrap_or_else(|| EMPTY.get_or_init(Map::new))
    }

    pub fn resource(&self, logical_id: &str) -> Option<&Value> {
        self.resources().get(logical_id)
    }

    /// `(logical id, resource)` for every resource of the type.
    pub fn resources_of_type<'a>(
        &'a self,
        resource_type: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a Value)> + 'a {
        self.resources()
            .iter()
            .filter(move |(_, r)| r.get("Type").and_then(Value::as_str) == Some(resource_type))
            .map(|(id, r)| (id.as_str(), r))
    }

    /// A resource's `Properties` with the `Globals` section's defaults merged in, the way SAM does it
    /// for serverless resources (maps merge, resource values win).
    pub fn effective_properties(&self, logical_id: &str) -> Value {
        let resource = self.resource(logical_id);
        let own = resource
            .and_then(|r| r.get("Properties"))
            .cloned()
            .unwrap_or_else(|| Value::Object(Map::new()));
        let global_section = match resource.and_then(|r| r.get("Type")).and_then(Value::as_str) {
            Some("AWS::Serverless::Function") => "Function",
            _ => return own,
        };
        match self.document.get("Globals").and_then(|g| g.get(global_section)) {
            Some(globals) => merge(globals.clone(), own),
            None => own,
        }
    }

    pub fn parameter(&self, name: &str) -> Option<&Value> {
        self.document.get("Parameters").and_then(|p| p.get(name))
    }
}

/// SAM's Globals merge: maps merge key by key, anything else is replaced by the resource's value.
fn merge(global: Value, own: Value) -> Value {
    match (global, own) {
        (Value::Object(mut base), Value::Object(over)) => {
            for (key, value) in over {
                let merged = match base.remove(&key) {
                    Some(existing) => merge(existing, value),
                    None => value,
                };
                base.insert(key, merged);
            }
            Value::Object(base)
        }
        (_, own) => own,
    }
}

fn to_json(yaml: serde_yaml::Value) -> Result<Value, TemplateError> {
    Ok(match yaml {
        serde_yaml::Value::Null => Value::Null,
        serde_yaml::Value::Bool(b) => Value::Bool(b),
        serde_yaml::Value::Number(n) => number(&n)?,
        serde_yaml::Value::String(s) => Value::String(s),
        serde_yaml::Value::Sequence(items) => {
            Value::Array(items.into_iter().map(to_json).collect::<Result<_, _>>()?)
        }
        serde_yaml::Value::Mapping(map) => {
            let mut out = Map::new();
            for (key, value) in map {
                let key = match key {
                    serde_yaml::Value::String(s) => s,
                    serde_yaml::Value::Number(n) => n.to_string(),
                    serde_yaml::Value::Bool(b) => b.to_string(),
                    other => {
                        return Err(TemplateError::Unsupported {
                            what: format!("a non-scalar map key {other:?}"),
                        });
                    }
                };
                out.insert(key, to_json(value)?);
            }
            Value::Object(out)
        }
        serde_yaml::Value::Tagged(tagged) => intrinsic(*tagged)?,
    })
}

fn number(n: &serde_yaml::Number) -> Result<Value, TemplateError> {
    if let Some(i) = n.as_i64() {
        Ok(Value::from(i))
    } else if let Some(u) = n.as_u64() {
        Ok(Value::from(u))
    } else {
        n.as_f64()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| TemplateError::Unsupported {
                what: format!("the number {n}"),
            })
    }
}

/// `!Tag value` to `{"Fn::Tag": value}` (or `Ref`/`Condition`), as CloudFormation defines the short forms.
fn intrinsic(tagged: TaggedValue) -> Result<Value, TemplateError> {
    let tag = tagged.tag.to_string();
    let name = tag.trim_start_matches('!');
    let value = to_json(tagged.value)?;
    let long = match name {
        "Ref" | "Condition" => name.to_owned(),
        "GetAtt" => {
            // The short form allows "Resource.Attribute" as one string.
            let value = match value {
                Value::String(s) => match s.split_once('.') {
                    Some((resource, attribute)) => Value::Array(vec![
                        Value::String(resource.to_owned()),
                        Value::String(attribute.to_owned()),
                    ]),
                    None => {
                        return Err(TemplateError::Unsupported {
                            what: format!("!GetAtt {s} without an attribute"),
                        });
                    }
                },
                other => other,
            };
            return Ok(single("Fn::GetAtt", value));
        }
        "Sub" | "If" | "Equals" | "Not" | "And" | "Or" | "FindInMap" | "Join" | "Select" | "Split"
        | "Base64" | "GetAZs" | "ImportValue" | "Cidr" | "Length" | "ToJsonString" => {
            format!("Fn::{name}")
        }
        other => {
            return Err(TemplateError::Unsupported {
                what: format!("the tag !{other}"),
            });
        }
    };
    Ok(single(&long, value))
}

fn single(key: &str, value: Value) -> Value {
    let mut map = Map::new();
    map.insert(key.to_owned(), value);
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_forms_become_long_forms_and_globals_merge() {
        let yaml = r#"
Globals:
  Function:
    Timeout: 3
    Environment: {Variables: {A: a, B: b}}
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Timeout: 9
      Role: !GetAtt Role.Arn
      Environment: {Variables: {B: !Ref Param, C: !Sub "x-${Param}"}}
      Other: !If [Cond, !GetAtt [Q, Arn], !Ref AWS::NoValue]
"#;
        let template = Template::from_yaml(serde_yaml::from_str(yaml).unwrap()).unwrap();
        let props = template.effective_properties("Fn");
        assert_eq!(props["Timeout"], 9);
        assert_eq!(props["Role"], serde_json::json!({"Fn::GetAtt": ["Role", "Arn"]}));
        assert_eq!(
            props["Environment"]["Variables"],
            serde_json::json!({"A": "a", "B": {"Ref": "Param"}, "C": {"Fn::Sub": "x-${Param}"}})
        );
        assert_eq!(
            props["Other"],
            serde_json::json!({"Fn::If": ["Cond", {"Fn::GetAtt": ["Q", "Arn"]}, {"Ref": "AWS::NoValue"}]})
        );
    }

    #[test]
    fn unknown_tags_are_refused() {
        let yaml = "Resources:\n  X: !Bogus 1\n";
        let err = Template::from_yaml(serde_yaml::from_str(yaml).unwrap()).unwrap_err();
        assert!(err.to_string().contains("!Bogus"), "{err}");
    }
}
