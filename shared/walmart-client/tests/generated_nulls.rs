//! Generated from Walmart's specs: every response schema the client parses is turned into bodies
//! where every property the spec does not require is `null` (at the top, and again inside every
//! object and array the body keeps), and each body must decode through the client's wire types
//! (issue 11 fact 1: Walmart sends explicit `null`s for optional fields). Where the response is a
//! page of records (orders, feed item details, items, returns, feeds), one record of the page is
//! left malformed and the others must still decode (issue 11 fact 2).

use std::path::Path;

use serde_json::{Map, Value, json};
use walmart_client::wire;

type Decode = fn(&[u8]) -> Result<(), String>;

fn decoder<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<(), String> {
    wire::decode::<T>(body).map(|_| ()).map_err(|e| e.to_string())
}

/// Every response the client parses: spec file, path, method, and the wire type it is read as.
const PARSED: &[(&str, &str, &str, Decode)] = &[
    ("auth.json", "/v3/token", "post", decoder::<wire::TokenResponse>),
    ("items.json", "/v3/items", "get", decoder::<wire::ItemResponses>),
    (
        "items.json",
        "/v3/items/{id}",
        "get",
        decoder::<wire::GetItemResponse>,
    ),
    (
        "items.json",
        "/v3/items/walmart/search",
        "get",
        decoder::<wire::SearchResponse>,
    ),
    ("inventory.json", "/v3/feeds", "post", decoder::<wire::FeedId>),
    (
        "feeds.json",
        "/v3/feeds/{feedId}",
        "get",
        decoder::<wire::PartnerFeedResponse>,
    ),
    (
        "inventory.json",
        "/v3/inventory",
        "get",
        decoder::<wire::Inventory>,
    ),
    (
        "inventory.json",
        "/v3/inventory",
        "put",
        decoder::<wire::Inventory>,
    ),
    (
        "price.json",
        "/v3/price",
        "put",
        decoder::<wire::ItemPriceResponse>,
    ),
    (
        "orders.json",
        "/v3/orders",
        "get",
        decoder::<wire::OrdersListResponse>,
    ),
    (
        "orders.json",
        "/v3/orders/released",
        "get",
        decoder::<wire::OrdersListResponse>,
    ),
    (
        "orders.json",
        "/v3/orders/{purchaseOrderId}",
        "get",
        decoder::<wire::Order>,
    ),
    (
        "orders.json",
        "/v3/orders/{purchaseOrderId}/acknowledge",
        "post",
        decoder::<wire::OrderEnvelope>,
    ),
    (
        "orders.json",
        "/v3/orders/{purchaseOrderId}/shipping",
        "post",
        decoder::<wire::OrderEnvelope>,
    ),
    (
        "orders.json",
        "/v3/orders/{purchaseOrderId}/cancel",
        "post",
        decoder::<wire::OrderEnvelope>,
    ),
    (
        "orders.json",
        "/v3/orders/{purchaseOrderId}/refund",
        "post",
        decoder::<wire::OrderEnvelope>,
    ),
    (
        "returns.json",
        "/v3/returns",
        "get",
        decoder::<wire::ReturnsResponse>,
    ),
];

/// How many records of a page decoded, and the place and id of each that did not.
type Tally = (usize, Vec<(usize, Option<String>)>);

type DecodePage = fn(&[u8]) -> Result<Tally, String>;

fn tally<T>(records: &wire::Records<T>) -> Tally {
    let unreadable = records
        .0
        .iter()
        .filter_map(|r| r.as_ref().err())
        .map(|u| (u.index, u.id.clone()))
        .collect();
    (records.parsed().count(), unreadable)
}

fn page_of<T: serde::de::DeserializeOwned, R>(
    body: &[u8],
    records: fn(&T) -> Option<&wire::Records<R>>,
) -> Result<Tally, String> {
    let page = wire::decode::<T>(body).map_err(|e| e.to_string())?;
    records(&page)
        .map(tally)
        .ok_or_else(|| "no records in the decoded page".to_owned())
}

fn orders_page(body: &[u8]) -> Result<Tally, String> {
    page_of::<wire::OrdersListResponse, _>(body, |p| Some(&p.list.elements.order))
}

fn feed_items_page(body: &[u8]) -> Result<Tally, String> {
    page_of::<wire::PartnerFeedResponse, _>(body, |p| {
        p.item_details.as_ref().map(|d| &d.item_ingestion_status)
    })
}

fn items_page(body: &[u8]) -> Result<Tally, String> {
    page_of::<wire::ItemResponses, _>(body, |p| Some(&p.item_response))
}

fn search_page(body: &[u8]) -> Result<Tally, String> {
    page_of::<wire::SearchResponse, _>(body, |p| Some(&p.items))
}

fn returns_page(body: &[u8]) -> Result<Tally, String> {
    page_of::<wire::ReturnsResponse, _>(body, |p| Some(&p.return_orders))
}

fn feeds_page(body: &[u8]) -> Result<Tally, String> {
    page_of::<wire::FeedList, _>(body, |p| p.results.as_ref().map(|r| &r.feed))
}

/// Every page of records the client reads: spec file, path, method, where the records are in the
/// body, the member that identifies a record, and how the page decodes.
const PAGES: &[(&str, &str, &str, &str, &str, DecodePage)] = &[
    (
        "orders.json",
        "/v3/orders",
        "get",
        "/list/elements/order",
        <wire::Order as wire::RecordId>::ID,
        orders_page,
    ),
    (
        "orders.json",
        "/v3/orders/released",
        "get",
        "/list/elements/order",
        <wire::Order as wire::RecordId>::ID,
        orders_page,
    ),
    (
        "feeds.json",
        "/v3/feeds/{feedId}",
        "get",
        "/itemDetails/itemIngestionStatus",
        <wire::ItemIngestionStatus as wire::RecordId>::ID,
        feed_items_page,
    ),
    (
        "items.json",
        "/v3/items",
        "get",
        "/ItemResponse",
        <wire::ItemResponse as wire::RecordId>::ID,
        items_page,
    ),
    (
        "items.json",
        "/v3/items/walmart/search",
        "get",
        "/items",
        <wire::SearchItem as wire::RecordId>::ID,
        search_page,
    ),
    (
        "returns.json",
        "/v3/returns",
        "get",
        "/returnOrders",
        <wire::ReturnOrder as wire::RecordId>::ID,
        returns_page,
    ),
    (
        "feeds.json",
        "/v3/feeds",
        "get",
        "/results/feed",
        <wire::FeedListEntry as wire::RecordId>::ID,
        feeds_page,
    ),
];

/// How a generated body fills what the spec does not require.
#[derive(Debug, Clone, Copy)]
enum Optional {
    /// Every optional property `null`.
    Null,
    /// Optional objects kept (their own optional members `null`), optional arrays and scalars `null`:
    /// `"ingestionErrors": {"ingestionError": null}`.
    ObjectsKept,
    /// Optional objects kept, optional arrays with one element, optional scalars `null`.
    ObjectsAndArraysKept,
}

struct Spec<'a> {
    document: &'a Value,
}

impl Spec<'_> {
    fn resolve<'s>(&'s self, schema: &'s Value) -> &'s Value {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                let pointer = reference.trim_start_matches('#');
                let target = self
                    .document
                    .pointer(pointer)
                    .unwrap_or_else(|| panic!("unresolvable {reference}"));
                self.resolve(target)
            }
            None => schema,
        }
    }

    /// `allOf` merged; the first of `oneOf`/`anyOf`.
    fn flatten(&self, schema: &Value) -> Value {
        let schema = self.resolve(schema);
        if let Some(first) = ["oneOf", "anyOf"]
            .iter()
            .find_map(|k| schema.get(*k).and_then(Value::as_array).and_then(|a| a.first()))
        {
            return self.flatten(first);
        }
        let Some(parts) = schema.get("allOf").and_then(Value::as_array) else {
            return schema.clone();
        };
        let mut merged = Map::new();
        let mut properties = Map::new();
        let mut required = Vec::new();
        for part in parts {
            let part = self.flatten(part);
            if let Some(p) = part.get("properties").and_then(Value::as_object) {
                properties.extend(p.clone());
            }
            if let Some(r) = part.get("required").and_then(Value::as_array) {
                required.extend(r.clone());
            }
        }
        merged.insert("type".into(), json!("object"));
        merged.insert("properties".into(), Value::Object(properties));
        merged.insert("required".into(), Value::Array(required));
        Value::Object(merged)
    }

    fn instance(&self, schema: &Value, mode: Optional, depth: usize) -> Value {
        let schema = self.flatten(schema);
        if depth > 12 {
            return Value::Null;
        }
        if let Some(first) = schema
            .get("enum")
            .and_then(Value::as_array)
            .and_then(|e| e.first())
        {
            return first.clone();
        }
        let kind = schema.get("type").and_then(Value::as_str).unwrap_or_else(|| {
            if schema.get("properties").is_some() {
                "object"
            } else if schema.get("items").is_some() {
                "array"
            } else {
                "string"
            }
        });
        match kind {
            "object" => {
                let required: Vec<&str> = schema
                    .get("required")
                    .and_then(Value::as_array)
                    .map(|r| r.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let mut object = Map::new();
                for (name, property) in schema
                    .get("properties")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                {
                    let value = if required.contains(&name.as_str()) {
                        self.instance(property, mode, depth + 1)
                    } else {
                        self.optional(property, mode, depth + 1)
                    };
                    object.insert(name.clone(), value);
                }
                Value::Object(object)
            }
            "array" => match schema.get("items") {
                Some(items) => json!([self.instance(items, mode, depth + 1)]),
                None => json!([]),
            },
            "integer" => json!(1),
            "number" => json!(1.5),
            "boolean" => json!(true),
            _ => schema
                .get("example")
                .filter(|e| e.is_string())
                .cloned()
                .unwrap_or_else(|| json!("1")),
        }
    }

    fn optional(&self, schema: &Value, mode: Optional, depth: usize) -> Value {
        let flat = self.flatten(schema);
        let kind = flat
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or(if flat.get("properties").is_some() {
                "object"
            } else {
                ""
            });
        match (mode, kind) {
            (Optional::ObjectsKept | Optional::ObjectsAndArraysKept, "object") => {
                self.instance(schema, mode, depth)
            }
            (Optional::ObjectsAndArraysKept, "array") => self.instance(schema, mode, depth),
            _ => Value::Null,
        }
    }
}

fn reference() -> std::path::PathBuf {
    let dir = spec_check::reference_dir().expect("reference material");
    let nested = dir.join("walmart-openapi");
    if nested.is_dir() { nested } else { dir }
}

fn response_schema<'a>(document: &'a Value, path: &str, method: &str) -> &'a Value {
    let escaped = path.replace('~', "~0").replace('/', "~1");
    document
        .pointer(&format!(
            "/paths/{escaped}/{method}/responses/200/content/application~1json/schema"
        ))
        .unwrap_or_else(|| panic!("{method} {path}: no JSON 200 response in the spec"))
}

fn load(dir: &Path, file: &str) -> Value {
    let text = std::fs::read_to_string(dir.join(file)).expect("spec file readable");
    serde_json::from_str(&text).expect("spec file is JSON")
}

#[test]
fn every_parsed_response_decodes_with_every_optional_property_null() {
    let dir = reference();
    let mut failures = Vec::new();
    for (file, path, method, decode) in PARSED {
        let document = load(&dir, file);
        let spec = Spec { document: &document };
        let schema = response_schema(&document, path, method);
        for mode in [
            Optional::Null,
            Optional::ObjectsKept,
            Optional::ObjectsAndArraysKept,
        ] {
            let body = spec.instance(schema, mode, 0);
            if let Err(e) = decode(body.to_string().as_bytes()) {
                failures.push(format!("{method} {path} ({mode:?}): {e}\n  body: {body}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} bodies did not decode:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A record broken two ways: replaced by a scalar, or with every member but its id set to a value
/// of the wrong type (a string where the spec says boolean, `true` anywhere else).
fn malformed(record: &Value, id: &str) -> [Value; 2] {
    let mut wrong_types = record.clone();
    if let Value::Object(members) = &mut wrong_types {
        for (name, member) in members.iter_mut() {
            if name != id {
                *member = if member.is_boolean() {
                    json!("x")
                } else {
                    json!(true)
                };
            }
        }
    }
    [json!("not a record"), wrong_types]
}

#[test]
fn one_malformed_record_leaves_the_rest_of_its_page_readable() {
    let dir = reference();
    let mut failures = Vec::new();
    for (file, path, method, records, id, decode) in PAGES {
        let document = load(&dir, file);
        let spec = Spec { document: &document };
        let schema = response_schema(&document, path, method);
        for mode in [Optional::ObjectsKept, Optional::ObjectsAndArraysKept] {
            // The page with its arrays kept, so the records are there; the record itself with its
            // optional members as `mode` has them when `mode` keeps the records.
            let mut body = spec.instance(schema, Optional::ObjectsAndArraysKept, 0);
            let first = |body: &Value| body.pointer(&format!("{records}/0")).cloned();
            let Some(mut record) = first(&spec.instance(schema, mode, 0)).or_else(|| first(&body)) else {
                failures.push(format!(
                    "{method} {path}: no records at {records} in the generated body"
                ));
                continue;
            };
            // An id even where the spec leaves it optional, so its report can be checked.
            record[*id] = json!("REC-1");
            for (kind, broken) in malformed(&record, id).into_iter().enumerate() {
                let page = json!([record.clone(), broken, record.clone()]);
                match body.pointer_mut(records) {
                    Some(slot) => *slot = page,
                    None => {
                        failures.push(format!(
                            "{method} {path}: no records at {records} in the generated body"
                        ));
                        break;
                    }
                }
                match decode(body.to_string().as_bytes()) {
                    Err(e) => failures.push(format!(
                        "{method} {path} ({mode:?}, malformed #{kind}): the page failed: {e}\n  body: {body}"
                    )),
                    Ok((parsed, unreadable)) => {
                        // The scalar has no id; the record broken member by member keeps its own.
                        let expected_id = (kind == 1).then(|| "REC-1".to_owned());
                        let fine = parsed == 2 && unreadable == vec![(1, expected_id)];
                        if !fine {
                            failures.push(format!(
                                "{method} {path} ({mode:?}, malformed #{kind}): {parsed} records read, unreadable {unreadable:?}\n  body: {body}"
                            ));
                        }
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} pages did not read around their malformed record:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
