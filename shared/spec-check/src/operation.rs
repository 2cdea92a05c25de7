//! The spec-neutral model of an operation (path template, parameters, bodies) and the checks of one
//! exchange against it. The two spec loaders fill this model; their dialect differences are the [`Dialect`].

use percent_encoding::percent_decode_str;
use sandbox_kit::Exchange;
use serde_json::Value;

use crate::schema::LazySchema;

/// Which API's conventions apply where the specs leave room.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dialect {
    Walmart,
    Commerce,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Segment {
    Literal(String),
    Param(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ParamLocation {
    Path,
    Query,
    Header,
}

#[derive(Debug)]
pub(crate) struct Param {
    pub name: String,
    pub location: ParamLocation,
    pub required: bool,
    /// `string`, `integer`, `number`, `boolean`, `array`, or `None` when the spec says nothing.
    pub value_type: Option<String>,
    /// Element type of `array` parameters.
    pub item_type: Option<String>,
    pub allowed: Option<Vec<Value>>,
}

#[derive(Debug, Default)]
pub(crate) struct RequestBodySpec {
    pub required: bool,
    /// Lower-cased media types the operation accepts.
    pub media_types: Vec<String>,
    pub json_schema: Option<LazySchema>,
    pub form_schema: Option<LazySchema>,
}

#[derive(Debug, Default)]
pub(crate) struct ResponseSpec {
    /// Lower-cased media types described for this status.
    pub media_types: Vec<String>,
    pub json_schema: Option<LazySchema>,
}

#[derive(Debug)]
pub(crate) struct Operation {
    pub method: String,
    /// The path template exactly as the spec writes it.
    pub template: String,
    pub segments: Vec<Segment>,
    /// Which spec file it came from, for messages.
    pub source: String,
    pub params: Vec<Param>,
    pub body: Option<RequestBodySpec>,
    /// Status code (`"200"`) or `"default"`, with what it describes.
    pub responses: Vec<(String, ResponseSpec)>,
}

pub(crate) fn parse_template(template: &str) -> Vec<Segment> {
    template
        .split('/')
        .filter(|segment| !segment.is_empty())
        .map(
            |segment| match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => Segment::Param(name.to_owned()),
                None => Segment::Literal(segment.to_owned()),
            },
        )
        .collect()
}

/// Percent-decoded segments of a raw path. Split before decoding, so an encoded `/` (`%2F` in a SKU) stays
/// inside its segment. A trailing slash does not count as a segment.
pub(crate) fn split_path(raw_path: &str) -> Vec<String> {
    let mut segments: Vec<String> = raw_path
        .trim_start_matches('/')
        .split('/')
        .map(|segment| percent_decode_str(segment).decode_utf8_lossy().into_owned())
        .collect();
    if segments.last().is_some_and(String::is_empty) {
        segments.pop();
    }
    segments
}

impl Operation {
    pub(crate) fn matches_path(&self, segments: &[String]) -> bool {
        self.segments.len() == segments.len()
            && self
                .segments
                .iter()
                .zip(segments)
                .all(|(template, actual)| match template {
                    Segment::Literal(literal) => literal == actual,
                    Segment::Param(_) => !actual.is_empty(),
                })
    }

    /// Literal segments win over parameters, earliest first (`/v3/orders/released` over
    /// `/v3/orders/{purchaseOrderId}`), as in any router.
    pub(crate) fn specificity(&self) -> Vec<bool> {
        self.segments
            .iter()
            .map(|segment| matches!(segment, Segment::Literal(_)))
            .collect()
    }

    /// Every body schema of this operation, with what it describes.
    pub(crate) fn schemas(&self) -> Vec<(String, &LazySchema)> {
        let mut schemas = Vec::new();
        if let Some(body) = &self.body {
            schemas.extend(
                body.json_schema
                    .iter()
                    .map(|schema| ("request body".to_owned(), schema)),
            );
            schemas.extend(
                body.form_schema
                    .iter()
                    .map(|schema| ("request form body".to_owned(), schema)),
            );
        }
        for (status, response) in &self.responses {
            schemas.extend(
                response
                    .json_schema
                    .iter()
                    .map(|schema| (format!("response {status}"), schema)),
            );
        }
        schemas
    }

    /// Everything wrong with `exchange` against this operation, as `what` texts.
    pub(crate) fn problems(&self, exchange: &Exchange, segments: &[String], dialect: Dialect) -> Vec<String> {
        let mut problems = Vec::new();
        self.check_path_params(segments, dialect, &mut problems);
        self.check_query(exchange, dialect, &mut problems);
        self.check_headers(exchange, dialect, &mut problems);
        self.check_request_body(exchange, &mut problems);
        self.check_response(exchange, dialect, &mut problems);
        problems
    }

    fn check_path_params(&self, segments: &[String], dialect: Dialect, problems: &mut Vec<String>) {
        for (template, actual) in self.segments.iter().zip(segments) {
            let Segment::Param(name) = template else { continue };
            if let Some(param) = self
                .params
                .iter()
                .find(|p| p.location == ParamLocation::Path && &p.name == name)
                && let Some(problem) = value_problem(param, actual, dialect)
            {
                problems.push(format!("path parameter {name}: {problem}"));
            }
        }
    }

    fn check_query(&self, exchange: &Exchange, dialect: Dialect, problems: &mut Vec<String>) {
        let query_params = || self.params.iter().filter(|p| p.location == ParamLocation::Query);
        for param in query_params() {
            let values: Vec<&str> = exchange
                .query
                .iter()
                .filter(|(key, _)| query_key_matches(param, key, dialect))
                .map(|(_, value)| value.as_str())
                .collect();
            if values.is_empty() && param.required {
                problems.push(format!("missing required query parameter {}", param.name));
            }
            for value in values {
                if let Some(problem) = value_problem(param, value, dialect) {
                    problems.push(format!("query parameter {}: {problem}", param.name));
                }
            }
        }
        if dialect == Dialect::Commerce {
            // A mistyped searchCriteria key is silently ignored by Magento, and a lost pageSize returns
            // the whole catalog: hold those keys to the declared names.
            for (key, _) in &exchange.query {
                let normalized = normalize_commerce_query_key(key);
                if normalized.starts_with("searchCriteria")
                    && !query_params().any(|param| query_key_matches(param, key, dialect))
                {
                    problems.push(format!("undocumented searchCriteria query parameter {key}"));
                }
            }
        }
    }

    fn check_headers(&self, exchange: &Exchange, dialect: Dialect, problems: &mut Vec<String>) {
        for param in self
            .params
            .iter()
            .filter(|p| p.location == ParamLocation::Header && p.required)
        {
            match header_value(exchange, &param.name) {
                None => problems.push(format!("missing required header {}", param.name)),
                Some(value) if value.trim().is_empty() => {
                    problems.push(format!("required header {} is empty", param.name))
                }
                Some(_) => {}
            }
        }
        // Walmart's token call authenticates with the client credentials alone.
        if dialect == Dialect::Walmart && self.template == "/v3/token" && self.method == "POST" {
            let is_basic = header_value(exchange, "Authorization")
                .is_some_and(|value| value.trim_start().to_ascii_lowercase().starts_with("basic "));
            if !is_basic {
                problems.push("POST /v3/token must authenticate with Authorization: Basic".to_owned());
            }
        }
    }

    fn check_request_body(&self, exchange: &Exchange, problems: &mut Vec<String>) {
        let has_body = exchange.request_body.is_some() || exchange.request_text.is_some();
        let Some(body) = &self.body else {
            if let Some(json) = &exchange.request_body
                && !is_trivial_json(json)
            {
                problems.push("request has a JSON body but the operation documents none".to_owned());
            }
            return;
        };
        if !has_body {
            if body.required {
                problems.push("missing required request body".to_owned());
            }
            return;
        }
        let Some(media_type) = exchange.request_content_type.as_deref().map(media_type_essence) else {
            problems.push("request has a body but no Content-Type".to_owned());
            return;
        };
        if !body.media_types.is_empty() && !body.media_types.contains(&media_type) {
            problems.push(format!(
                "request Content-Type {media_type} is not one the operation accepts ({})",
                body.media_types.join(", ")
            ));
            return;
        }
        if media_type == "multipart/form-data" {
            // Feed files: their payload is checked against the feed schemas (FeedSchemas), not here.
            return;
        }
        if media_type == "application/x-www-form-urlencoded" {
            if let (Some(schema), Some(text)) = (&body.form_schema, &exchange.request_text) {
                let form: serde_json::Map<String, Value> = url::form_urlencoded::parse(text.as_bytes())
                    .map(|(key, value)| (key.into_owned(), Value::String(value.into_owned())))
                    .collect();
                for problem in schema.problems(&Value::Object(form)) {
                    problems.push(format!("request form body {problem}"));
                }
            }
            return;
        }
        if let Some(schema) = &body.json_schema {
            match &exchange.request_body {
                Some(json) => {
                    for problem in schema.problems(json) {
                        problems.push(format!("request body {problem}"));
                    }
                }
                None => problems.push("request body is not valid JSON".to_owned()),
            }
        }
    }

    fn check_response(&self, exchange: &Exchange, dialect: Dialect, problems: &mut Vec<String>) {
        let status = exchange.status.to_string();
        let described = self
            .responses
            .iter()
            .find(|(code, _)| *code == status)
            .or_else(|| self.responses.iter().find(|(code, _)| code == "default"));
        let Some((code, response)) = described else {
            if dialect == Dialect::Commerce {
                let documented: Vec<&str> = self.responses.iter().map(|(code, _)| code.as_str()).collect();
                problems.push(format!(
                    "response status {status} is not documented ({})",
                    documented.join(", ")
                ));
            }
            // Walmart describes only successes: other statuses have nothing to check against.
            return;
        };
        let Some(schema) = &response.json_schema else {
            return;
        };
        let content_type = exchange
            .response_headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
            .map(|(_, value)| media_type_essence(value));
        match &exchange.response_body {
            Some(json) => {
                let json = match dialect {
                    // Walmart sends `null` for optional fields it has no value for (a PROCESSED
                    // feed's `"ingestionErrors": {"ingestionError": null}`): read as absent, as the
                    // client does. A `null` for a required field still fails as missing.
                    Dialect::Walmart => &without_nulls(json),
                    Dialect::Commerce => json,
                };
                for problem in schema.problems(json) {
                    problems.push(format!("response {code} body {problem}"));
                }
            }
            None => {
                let other_described_type = content_type
                    .as_ref()
                    .is_some_and(|t| !t.contains("json") && response.media_types.contains(t));
                if exchange.status != 204 && !other_described_type {
                    problems.push(format!(
                        "response {status} body is missing or not JSON, but the spec describes a JSON body"
                    ));
                }
            }
        }
    }
}

/// `value` with every `null` object member removed, at any depth.
fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(members) => Value::Object(
            members
                .iter()
                .filter(|(_, member)| !member.is_null())
                .map(|(name, member)| (name.clone(), without_nulls(member)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

/// Whether a query key names `param`. Commerce (Magento) also accepts snake_case spellings and any array
/// index, and array parameters as `name[]` or `name[N]`.
fn query_key_matches(param: &Param, key: &str, dialect: Dialect) -> bool {
    match dialect {
        Dialect::Walmart => key == param.name,
        Dialect::Commerce => {
            let key = normalize_commerce_query_key(key);
            let name = normalize_commerce_query_key(&param.name);
            key == name
                || (param.value_type.as_deref() == Some("array")
                    && (key == format!("{name}[]") || key == format!("{name}[0]")))
        }
    }
}

/// `search_criteria[filter_groups][3][filters][1][field]` → `searchCriteria[filterGroups][0][filters][0][field]`.
pub(crate) fn normalize_commerce_query_key(key: &str) -> String {
    let mut normalized = String::with_capacity(key.len());
    let mut characters = key.chars().peekable();
    while let Some(character) = characters.next() {
        match character {
            '[' if characters.peek().is_some_and(char::is_ascii_digit) => {
                let mut index = String::new();
                while let Some(digit) = characters.next_if(char::is_ascii_digit) {
                    index.push(digit);
                }
                if characters.peek() == Some(&']') {
                    normalized.push_str("[0");
                } else {
                    normalized.push('[');
                    normalized.push_str(&index);
                }
            }
            '_' if characters.peek().is_some_and(char::is_ascii_lowercase) => {
                if let Some(next) = characters.next() {
                    normalized.push(next.to_ascii_uppercase());
                }
            }
            other => normalized.push(other),
        }
    }
    normalized
}

/// What is wrong with one parameter value, if anything: its declared type and enum.
fn value_problem(param: &Param, value: &str, dialect: Dialect) -> Option<String> {
    let value_type = match param.value_type.as_deref() {
        Some("array") => param.item_type.as_deref(),
        other => other,
    };
    let type_ok = match value_type {
        Some("integer") => value.parse::<i64>().is_ok(),
        Some("number") => value.parse::<f64>().is_ok_and(f64::is_finite),
        Some("boolean") => match dialect {
            Dialect::Walmart => matches!(value, "true" | "false"),
            // Magento casts "1"/"0" to booleans too.
            Dialect::Commerce => matches!(value, "true" | "false" | "1" | "0"),
        },
        _ => true,
    };
    if !type_ok {
        return Some(format!(
            "{value:?} is not a valid {}",
            value_type.unwrap_or("value")
        ));
    }
    if let Some(allowed) = &param.allowed {
        let matches_one = allowed.iter().any(|candidate| match candidate {
            Value::String(text) => text == value,
            Value::Null => false,
            // Numbers and booleans in an enum compare by their JSON text.
            other => serde_json::to_string(other).is_ok_and(|text| text == value),
        });
        if !matches_one {
            let listed: Vec<String> = allowed.iter().map(Value::to_string).collect();
            return Some(format!(
                "{value:?} is not one of {}",
                crate::schema::shorten(&listed.join(", "))
            ));
        }
    }
    None
}

fn header_value<'a>(exchange: &'a Exchange, name: &str) -> Option<&'a str> {
    exchange
        .request_headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

/// `application/json; charset=utf-8` → `application/json`.
pub(crate) fn media_type_essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

fn is_trivial_json(json: &Value) -> bool {
    match json {
        Value::Null => true,
        Value::Object(object) => object.is_empty(),
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commerce_query_keys_normalise_indices_and_snake_case() {
        assert_eq!(
            normalize_commerce_query_key("search_criteria[filter_groups][3][filters][12][field]"),
            "searchCriteria[filterGroups][0][filters][0][field]"
        );
        assert_eq!(
            normalize_commerce_query_key("searchCriteria[pageSize]"),
            "searchCriteria[pageSize]"
        );
        assert_eq!(normalize_commerce_query_key("skus[]"), "skus[]");
    }

    #[test]
    fn paths_split_before_decoding() {
        assert_eq!(split_path("/v3/items/AB%2FC%201"), vec!["v3", "items", "AB/C 1"]);
        assert_eq!(split_path("/V1/carts/"), vec!["V1", "carts"]);
        assert_eq!(
            parse_template("/V1/carts/{cartId}/items"),
            vec![
                Segment::Literal("V1".into()),
                Segment::Literal("carts".into()),
                Segment::Param("cartId".into()),
                Segment::Literal("items".into()),
            ]
        );
    }
}
