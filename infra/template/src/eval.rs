//! Evaluates the intrinsic functions the template uses in values a function sees (its environment),
//! for given parameter values and physical resource ids, the way CloudFormation would at deploy time.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::template::Template;

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("no value for `Ref {0}` (not a parameter with a value, nor a known resource)")]
    UnknownRef(String),
    #[error("no value for `Fn::GetAtt {0}.{1}`")]
    UnknownAttribute(String, String),
    #[error("the condition {0} is not defined")]
    UnknownCondition(String),
    #[error("`{function}` is malformed: {detail}")]
    Malformed { function: &'static str, detail: String },
    #[error("`{0}` is not supported by this evaluator")]
    Unsupported(String),
    #[error("mapping lookup {0} found nothing")]
    MissingMapping(String),
}

/// What `Ref` and `Fn::GetAtt` resolve to: parameter values (defaults unless overridden) and the
/// physical ids/attributes of resources as created (by a test, or by a stack).
#[derive(Debug, Clone, Default)]
pub struct Bindings {
    pub parameters: BTreeMap<String, String>,
    pub refs: BTreeMap<String, String>,
    pub attributes: BTreeMap<(String, String), String>,
}

impl Bindings {
    /// Every parameter's default, then the overrides.
    pub fn with_defaults(template: &Template, overrides: &[(&str, &str)]) -> Self {
        let mut parameters = BTreeMap::new();
        if let Some(params) = template.document.get("Parameters").and_then(Value::as_object) {
            for (name, spec) in params {
                if let Some(default) = spec.get("Default") {
                    let text = match default {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    parameters.insert(name.clone(), text);
                }
            }
        }
        for (name, value) in overrides {
            parameters.insert((*name).to_owned(), (*value).to_owned());
        }
        Self {
            parameters,
            ..Self::default()
        }
    }

    pub fn bind_ref(&mut self, logical_id: &str, value: impl Into<String>) -> &mut Self {
        self.refs.insert(logical_id.to_owned(), value.into());
        self
    }

    pub fn bind_attribute(
        &mut self,
        logical_id: &str,
        attribute: &str,
        value: impl Into<String>,
    ) -> &mut Self {
        self.attributes
            .insert((logical_id.to_owned(), attribute.to_owned()), value.into());
        self
    }
}

pub struct Evaluator<'a> {
    template: &'a Template,
    bindings: &'a Bindings,
}

/// `Ok(None)` is `AWS::NoValue`: the property is left out.
pub type Evaluated = Option<Value>;

impl<'a> Evaluator<'a> {
    pub fn new(template: &'a Template, bindings: &'a Bindings) -> Self {
        Self { template, bindings }
    }

    pub fn condition(&self, name: &str) -> Result<bool, EvalError> {
        let expr = self
            .template
            .document
            .get("Conditions")
            .and_then(|c| c.get(name))
            .ok_or_else(|| EvalError::UnknownCondition(name.to_owned()))?;
        self.truth(expr)
    }

    fn truth(&self, expr: &Value) -> Result<bool, EvalError> {
        let (function, args) = single_key(expr).ok_or_else(|| EvalError::Malformed {
            function: "condition",
            detail: expr.to_string(),
        })?;
        match function {
            "Condition" => self.condition(args.as_str().unwrap_or_default()),
            "Fn::Equals" => {
                let pair = args
                    .as_array()
                    .filter(|a| a.len() == 2)
                    .ok_or_else(|| EvalError::Malformed {
                        function: "Fn::Equals",
                        detail: args.to_string(),
                    })?;
                Ok(self.string(&pair[0])? == self.string(&pair[1])?)
            }
            "Fn::Not" => {
                let inner = args
                    .as_array()
                    .and_then(|a| a.first())
                    .ok_or_else(|| EvalError::Malformed {
                        function: "Fn::Not",
                        detail: args.to_string(),
                    })?;
                Ok(!self.truth(inner)?)
            }
            "Fn::And" | "Fn::Or" => {
                let items = args.as_array().ok_or_else(|| EvalError::Malformed {
                    function: "Fn::And/Or",
                    detail: args.to_string(),
                })?;
                let values = items
                    .iter()
                    .map(|i| self.truth(i))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(if function == "Fn::And" {
                    values.iter().all(|v| *v)
                } else {
                    values.iter().any(|v| *v)
                })
            }
            other => Err(EvalError::Unsupported(other.to_owned())),
        }
    }

    /// Evaluates to a string (what an environment variable holds).
    pub fn string(&self, value: &Value) -> Result<String, EvalError> {
        match self.value(value)? {
            Some(Value::String(s)) => Ok(s),
            Some(Value::Number(n)) => Ok(n.to_string()),
            Some(Value::Bool(b)) => Ok(b.to_string()),
            other => Err(EvalError::Malformed {
                function: "string value",
                detail: format!("{value} evaluated to {other:?}"),
            }),
        }
    }

    pub fn value(&self, value: &Value) -> Result<Evaluated, EvalError> {
        if let Some((function, args)) = single_key(value) {
            return match function {
                "Ref" => self.reference(args.as_str().unwrap_or_default()),
                "Fn::GetAtt" => {
                    let parts: Vec<&str> = args
                        .as_array()
                        .map(|a| a.iter().filter_map(Value::as_str).collect())
                        .unwrap_or_default();
                    let [resource, attribute] = parts.as_slice() else {
                        return Err(EvalError::Malformed {
                            function: "Fn::GetAtt",
                            detail: args.to_string(),
                        });
                    };
                    self.attribute(resource, attribute).map(Some)
                }
                "Fn::If" => {
                    let parts =
                        args.as_array()
                            .filter(|a| a.len() == 3)
                            .ok_or_else(|| EvalError::Malformed {
                                function: "Fn::If",
                                detail: args.to_string(),
                            })?;
                    let name = parts[0].as_str().unwrap_or_default();
                    let chosen = if self.condition(name)? {
                        &parts[1]
                    } else {
                        &parts[2]
                    };
                    self.value(chosen)
                }
                "Fn::Sub" => self.sub(args).map(|s| Some(Value::String(s))),
                "Fn::FindInMap" => self.find_in_map(args).map(Some),
                "Fn::Join" => self.join(args).map(|s| Some(Value::String(s))),
                other if other.starts_with("Fn::") => Err(EvalError::Unsupported(other.to_owned())),
                _ => self.plain(value),
            };
        }
        self.plain(value)
    }

    fn plain(&self, value: &Value) -> Result<Evaluated, EvalError> {
        Ok(Some(match value {
            Value::Array(items) => {
                let mut out = Vec::new();
                for item in items {
                    if let Some(v) = self.value(item)? {
                        out.push(v);
                    }
                }
                Value::Array(out)
            }
            Value::Object(map) => {
                let mut out = serde_json::Map::new();
                for (k, v) in map {
                    if let Some(v) = self.value(v)? {
                        out.insert(k.clone(), v);
                    }
                }
                Value::Object(out)
            }
            other => other.clone(),
        }))
    }

    fn reference(&self, name: &str) -> Result<Evaluated, EvalError> {
        if name == "AWS::NoValue" {
            return Ok(None);
        }
        self.bindings
            .parameters
            .get(name)
            .or_else(|| self.bindings.refs.get(name))
            .map(|s| Some(Value::String(s.clone())))
            .ok_or_else(|| EvalError::UnknownRef(name.to_owned()))
    }

    fn attribute(&self, resource: &str, attribute: &str) -> Result<Value, EvalError> {
        self.bindings
            .attributes
            .get(&(resource.to_owned(), attribute.to_owned()))
            .map(|s| Value::String(s.clone()))
            .ok_or_else(|| EvalError::UnknownAttribute(resource.to_owned(), attribute.to_owned()))
    }

    /// `${Name}` and `${Resource.Attribute}`; `${!Literal}` stays literal.
    fn sub(&self, args: &Value) -> Result<String, EvalError> {
        let (text, locals) = match args {
            Value::String(s) => (s.as_str(), None),
            Value::Array(parts) => (
                parts.first().and_then(Value::as_str).unwrap_or_default(),
                parts.get(1).and_then(Value::as_object),
            ),
            other => {
                return Err(EvalError::Malformed {
                    function: "Fn::Sub",
                    detail: other.to_string(),
                });
            }
        };
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after.find('}').ok_or_else(|| EvalError::Malformed {
                function: "Fn::Sub",
                detail: format!("unclosed ${{ in {text:?}"),
            })?;
            let name = &after[..end];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            } else if let Some(local) = locals.and_then(|l| l.get(name)) {
                out.push_str(&self.string(local)?);
            } else if let Some((resource, attribute)) = name.split_once('.') {
                out.push_str(self.attribute(resource, attribute)?.as_str().unwrap_or_default());
            } else {
                match self.reference(name)? {
                    Some(Value::String(s)) => out.push_str(&s),
                    _ => return Err(EvalError::UnknownRef(name.to_owned())),
                }
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn find_in_map(&self, args: &Value) -> Result<Value, EvalError> {
        let parts = args
            .as_array()
            .filter(|a| a.len() == 3)
            .ok_or_else(|| EvalError::Malformed {
                function: "Fn::FindInMap",
                detail: args.to_string(),
            })?;
        let keys = parts
            .iter()
            .map(|p| self.string(p))
            .collect::<Result<Vec<_>, _>>()?;
        self.template
            .document
            .get("Mappings")
            .and_then(|m| m.get(&keys[0]))
            .and_then(|m| m.get(&keys[1]))
            .and_then(|m| m.get(&keys[2]))
            .cloned()
            .ok_or_else(|| EvalError::MissingMapping(keys.join(".")))
    }

    fn join(&self, args: &Value) -> Result<String, EvalError> {
        let parts = args
            .as_array()
            .filter(|a| a.len() == 2)
            .ok_or_else(|| EvalError::Malformed {
                function: "Fn::Join",
                detail: args.to_string(),
            })?;
        let separator = parts[0].as_str().unwrap_or_default();
        let items = match self.value(&parts[1])? {
            Some(Value::Array(items)) => items,
            other => {
                return Err(EvalError::Malformed {
                    function: "Fn::Join",
                    detail: format!("list evaluated to {other:?}"),
                });
            }
        };
        Ok(items
            .iter()
            .map(|i| match i {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(separator))
    }
}

/// `{"Fn::X": args}` as `("Fn::X", args)`.
pub fn single_key(value: &Value) -> Option<(&str, &Value)> {
    let map = value.as_object()?;
    if map.len() != 1 {
        return None;
    }
    let (key, args) = map.iter().next()?;
    (key == "Ref" || key == "Condition" || key.starts_with("Fn::")).then_some((key.as_str(), args))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(yaml: &str) -> Template {
        Template::from_yaml(serde_yaml::from_str(yaml).unwrap()).unwrap()
    }

    #[test]
    fn conditions_subs_and_maps_evaluate_like_cloudformation() {
        let t = template(
            r#"
Parameters:
  Env: {Type: String, Default: prod}
  Extra: {Type: String, Default: ""}
Mappings:
  Urls: {prod: {Base: "https://p"}, test: {Base: "https://t"}}
Conditions:
  HasExtra: !Not [!Equals [!Ref Extra, ""]]
Resources:
  X:
    Type: AWS::Serverless::Function
    Properties:
      A: !If [HasExtra, !Sub '{"id":"${Env}",${Extra}}', !Sub '{"id":"${Env}"}']
      B: !FindInMap [Urls, !Ref Env, Base]
      C: !Sub "${Q.Arn}/index/${!Literal}"
      D: !If [HasExtra, yes, !Ref AWS::NoValue]
"#,
        );
        let props = t.effective_properties("X");
        let mut b = Bindings::with_defaults(&t, &[]);
        b.bind_attribute("Q", "Arn", "arn:q");
        let e = Evaluator::new(&t, &b);
        assert_eq!(e.string(&props["A"]).unwrap(), r#"{"id":"prod"}"#);
        assert_eq!(e.string(&props["B"]).unwrap(), "https://p");
        assert_eq!(e.string(&props["C"]).unwrap(), "arn:q/index/${Literal}");
        assert_eq!(e.value(&props["D"]).unwrap(), None);

        let b = Bindings::with_defaults(&t, &[("Env", "test"), ("Extra", r#""k":1"#)]);
        let e = Evaluator::new(&t, &b);
        assert_eq!(e.string(&props["A"]).unwrap(), r#"{"id":"test","k":1}"#);
        assert_eq!(e.string(&props["B"]).unwrap(), "https://t");
        assert!(matches!(
            e.string(&serde_json::json!({"Ref": "Nope"})),
            Err(EvalError::UnknownRef(_))
        ));
    }
}
