//! `searchCriteria` as Magento evaluates it: filter groups are ANDed, the filters inside a group are
//! ORed; sort orders apply in turn; `pageSize` absent means everything; a `currentPage` past the last
//! page answers the last page again; stores with input limits refuse a `pageSize` over the cap.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::BTreeMap;

use domain::Timestamp;
use serde_json::{Value, json};

use crate::error::ApiError;

/// A field's value on an entity, typed so comparisons need no formatting.
#[derive(Debug, Clone)]
pub enum Field<'a> {
    Str(Cow<'a, str>),
    Num(f64),
    /// Commerce dates compare as instants.
    Time(i64),
    /// Multi-valued (a product's category ids): a filter matches if any entry matches.
    List(Vec<String>),
    Missing,
}

/// Entities that searches run over.
pub trait Searchable {
    fn field(&self, name: &str) -> Field<'_>;
    /// Whether `name` is a field of this entity type at all (unknown fields are an error).
    fn knows(name: &str) -> bool;
}

#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub field: String,
    pub value: String,
    pub condition: String,
    /// The value parsed once (a large catalog compares it with every product).
    operand: Operand,
    /// The comma-separated entries of `in` / `nin`, parsed once.
    list: Vec<Operand>,
}

impl Filter {
    pub fn new(field: String, value: String, condition: String) -> Self {
        let operand = Operand::new(&value);
        let list = value.split(',').map(|v| Operand::new(v.trim())).collect();
        Self {
            field,
            value,
            condition,
            operand,
            list,
        }
    }
}

/// A filter value as text, number and instant, whichever it parses as.
#[derive(Debug, Clone, PartialEq)]
struct Operand {
    text: String,
    num: Option<f64>,
    time: Option<i64>,
}

impl Operand {
    fn new(raw: &str) -> Self {
        Self {
            text: raw.to_owned(),
            num: raw.trim().parse().ok(),
            time: parse_time(raw),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Criteria {
    pub groups: Vec<Vec<Filter>>,
    /// (field, ascending)
    pub sort: Vec<(String, bool)>,
    pub page_size: Option<usize>,
    pub current_page: Option<usize>,
}

/// A filter's (field, value, condition type) as the query parameters arrive.
type FilterSlot = (Option<String>, Option<String>, Option<String>);

/// The page of a search: items of the page and the size of the whole result.
pub struct PageOf<'a, T> {
    pub items: Vec<&'a T>,
    pub total_count: usize,
}

const CONDITIONS: &[&str] = &[
    "eq", "neq", "like", "nlike", "in", "nin", "gt", "gteq", "lt", "lteq", "null", "notnull", "finset",
    "from", "to", "moreq",
];

impl Criteria {
    /// Reads `searchCriteria[...]` query parameters (indices may be sparse; they are ordered).
    pub fn from_query(query: &[(String, String)]) -> Result<Self, ApiError> {
        // group index -> filter index -> (field, value, condition)
        let mut groups: BTreeMap<usize, BTreeMap<usize, FilterSlot>> = BTreeMap::new();
        let mut sorts: BTreeMap<usize, (Option<String>, Option<String>)> = BTreeMap::new();
        let mut criteria = Criteria::default();
        for (name, value) in query {
            let Some(rest) = name.strip_prefix("searchCriteria") else {
                continue;
            };
            let parts = brackets(rest);
            match parts.as_slice() {
                ["filterGroups", g, "filters", f, key] | ["filter_groups", g, "filters", f, key] => {
                    let (g, f) = (index(g, name)?, index(f, name)?);
                    let slot = groups.entry(g).or_default().entry(f).or_default();
                    match *key {
                        "field" => slot.0 = Some(value.clone()),
                        "value" => slot.1 = Some(value.clone()),
                        "conditionType" | "condition_type" => slot.2 = Some(value.clone()),
                        _ => {}
                    }
                }
                ["sortOrders", s, key] | ["sort_orders", s, key] => {
                    let slot = sorts.entry(index(s, name)?).or_default();
                    match *key {
                        "field" => slot.0 = Some(value.clone()),
                        "direction" => slot.1 = Some(value.clone()),
                        _ => {}
                    }
                }
                ["pageSize"] | ["page_size"] => criteria.page_size = Some(number(value, name)?),
                ["currentPage"] | ["current_page"] => criteria.current_page = Some(number(value, name)?),
                _ => {}
            }
        }
        for (_, filters) in groups {
            let mut group = Vec::new();
            for (_, (field, value, condition)) in filters {
                let field = field.ok_or_else(|| ApiError::required_field("field"))?;
                let condition = condition.unwrap_or_else(|| "eq".to_owned()).to_ascii_lowercase();
                if !CONDITIONS.contains(&condition.as_str()) {
                    return Err(ApiError::bad_request_list(
                        "Invalid condition type: %1",
                        &[&condition],
                    ));
                }
                group.push(Filter::new(field, value.unwrap_or_default(), condition));
            }
            criteria.groups.push(group);
        }
        for (_, (field, direction)) in sorts {
            let Some(field) = field else { continue };
            let ascending = !direction.is_some_and(|d| d.eq_ignore_ascii_case("desc"));
            criteria.sort.push((field, ascending));
        }
        Ok(criteria)
    }

    /// Refuses unknown fields, as Magento does (for EAV entities: "Invalid attribute name").
    pub fn check_fields<T: Searchable>(&self, extra_known: impl Fn(&str) -> bool) -> Result<(), ApiError> {
        let names = self
            .groups
            .iter()
            .flatten()
            .map(|f| f.field.as_str())
            .chain(self.sort.iter().map(|(f, _)| f.as_str()));
        for name in names {
            if !T::knows(name) && !extra_known(name) {
                return Err(ApiError::bad_request_list("Invalid attribute name: %1", &[name]));
            }
        }
        Ok(())
    }

    /// Refuses a `pageSize` over the store's input limit.
    pub fn check_page_size(&self, cap: Option<usize>) -> Result<(), ApiError> {
        match (self.page_size, cap) {
            (Some(size), Some(cap)) if size > cap => Err(ApiError::bad_request_named(
                "Maximum SearchCriteria pageSize is %max",
                json!({ "max": cap }),
            )),
            _ => Ok(()),
        }
    }

    /// The earliest instant `field` may have for an item to match, when one group is a single
    /// lower-bound filter on it: an index on the field can start there.
    pub fn lower_time_bound(&self, field: &str) -> Option<i64> {
        self.groups
            .iter()
            .filter_map(|group| match group.as_slice() {
                [f] if f.field == field
                    && matches!(f.condition.as_str(), "gteq" | "gt" | "from" | "moreq") =>
                {
                    f.operand.time
                }
                _ => None,
            })
            .max()
    }

    /// Whether the whole search is one inclusive lower bound on `field` (so a range scan of an index
    /// on it from [`Self::lower_time_bound`] needs no per-item test).
    pub fn is_only_lower_bound(&self, field: &str) -> bool {
        matches!(self.groups.as_slice(), [group] if matches!(group.as_slice(),
            [f] if f.field == field && matches!(f.condition.as_str(), "gteq" | "from" | "moreq") && f.operand.time.is_some()))
    }

    pub fn matches<T: Searchable>(&self, item: &T) -> bool {
        self.groups
            .iter()
            .all(|group| group.is_empty() || group.iter().any(|f| filter_matches(f, &item.field(&f.field))))
    }

    pub fn compare<T: Searchable>(&self, a: &T, b: &T) -> Ordering {
        for (field, ascending) in &self.sort {
            let order = compare_fields(&a.field(field), &b.field(field));
            let order = if *ascending { order } else { order.reverse() };
            if order != Ordering::Equal {
                return order;
            }
        }
        Ordering::Equal
    }

    /// The requested page of `matching` (already filtered and sorted): Magento's paging, including
    /// the last page again for a page past the end.
    pub fn page<'a, T>(&self, matching: Vec<&'a T>) -> PageOf<'a, T> {
        let total_count = matching.len();
        let Some(size) = self.page_size.filter(|s| *s > 0) else {
            return PageOf {
                items: matching,
                total_count,
            };
        };
        let last_page = total_count.div_ceil(size).max(1);
        let page = self.current_page.unwrap_or(1).clamp(1, last_page);
        let items = matching.into_iter().skip((page - 1) * size).take(size).collect();
        PageOf { items, total_count }
    }

    /// The `search_criteria` echo of a search result.
    pub fn echo(&self) -> Value {
        let filter_groups: Vec<Value> = self
            .groups
            .iter()
            .map(|g| {
                json!({ "filters": g.iter().map(|f| json!({
                    "field": f.field, "value": f.value, "condition_type": f.condition
                })).collect::<Vec<_>>() })
            })
            .collect();
        let mut echo = json!({ "filter_groups": filter_groups });
        if !self.sort.is_empty() {
            echo["sort_orders"] = Value::Array(
                self.sort
                    .iter()
                    .map(|(f, asc)| json!({ "field": f, "direction": if *asc { "ASC" } else { "DESC" } }))
                    .collect(),
            );
        }
        if let Some(size) = self.page_size {
            echo["page_size"] = json!(size);
        }
        if let Some(page) = self.current_page {
            echo["current_page"] = json!(page);
        }
        echo
    }

    /// Runs the whole search over `items`.
    pub fn run<'a, T: Searchable + 'a>(&self, items: impl Iterator<Item = &'a T>) -> PageOf<'a, T> {
        let mut matching: Vec<&T> = items.filter(|i| self.matches(*i)).collect();
        if !self.sort.is_empty() {
            matching.sort_by(|a, b| self.compare(*a, *b));
        }
        self.page(matching)
    }
}

fn brackets(rest: &str) -> Vec<&str> {
    rest.split('[').filter_map(|p| p.strip_suffix(']')).collect()
}

fn index(raw: &str, name: &str) -> Result<usize, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::bad_request_list("Invalid search criteria parameter %1", &[name]))
}

fn number(raw: &str, name: &str) -> Result<usize, ApiError> {
    raw.trim()
        .parse()
        .map_err(|_| ApiError::bad_request_list("Invalid search criteria parameter %1", &[name]))
}

/// Commerce dates (`YYYY-MM-DD HH:MM:SS` or `YYYY-MM-DD`) as epoch milliseconds.
pub fn parse_time(raw: &str) -> Option<i64> {
    let raw = raw.trim();
    Timestamp::parse_commerce(raw)
        .or_else(|_| Timestamp::parse_commerce(&format!("{raw} 00:00:00")))
        .ok()
        .map(Timestamp::millis)
}

fn like(pattern: &str, text: &str) -> bool {
    // SQL LIKE with `%` (any run) and `_` (one character), case-insensitive as MySQL's default collation.
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '_' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '%' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '%')
}

fn compare_scalar(field: &Field<'_>, value: &Operand) -> Option<Ordering> {
    match field {
        Field::Num(n) => value.num.and_then(|v| n.partial_cmp(&v)),
        Field::Time(t) => value.time.map(|v| t.cmp(&v)),
        Field::Str(s) => Some(match (s.parse::<f64>(), value.num) {
            (Ok(a), Some(b)) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
            _ => s.as_ref().cmp(value.text.as_str()),
        }),
        Field::List(_) | Field::Missing => None,
    }
}

fn filter_matches(filter: &Filter, field: &Field<'_>) -> bool {
    let value = filter.value.as_str();
    let operand = &filter.operand;
    if let Field::List(entries) = field {
        let any =
            |test: &dyn Fn(&Field<'_>) -> bool| entries.iter().any(|e| test(&Field::Str(Cow::Borrowed(e))));
        return match filter.condition.as_str() {
            "neq" | "nin" | "nlike" => !any(&|f| {
                filter_matches(
                    &Filter {
                        condition: positive(&filter.condition),
                        ..filter.clone()
                    },
                    f,
                )
            }),
            "null" => entries.is_empty(),
            "notnull" => !entries.is_empty(),
            _ => any(&|f| filter_matches(filter, f)),
        };
    }
    let missing = matches!(field, Field::Missing);
    match filter.condition.as_str() {
        "null" => missing,
        "notnull" => !missing,
        _ if missing => false,
        "eq" => compare_scalar(field, operand) == Some(Ordering::Equal),
        "neq" => compare_scalar(field, operand) != Some(Ordering::Equal),
        "gt" => compare_scalar(field, operand) == Some(Ordering::Greater),
        "gteq" | "from" | "moreq" => matches!(
            compare_scalar(field, operand),
            Some(Ordering::Greater | Ordering::Equal)
        ),
        "lt" => compare_scalar(field, operand) == Some(Ordering::Less),
        "lteq" | "to" => matches!(
            compare_scalar(field, operand),
            Some(Ordering::Less | Ordering::Equal)
        ),
        "in" => filter
            .list
            .iter()
            .any(|v| compare_scalar(field, v) == Some(Ordering::Equal)),
        "nin" => !filter
            .list
            .iter()
            .any(|v| compare_scalar(field, v) == Some(Ordering::Equal)),
        "finset" => match field {
            Field::Str(s) => s.split(',').any(|part| part.trim() == value),
            _ => compare_scalar(field, operand) == Some(Ordering::Equal),
        },
        "like" | "nlike" => {
            let text = match field {
                Field::Str(s) => s.to_string(),
                Field::Num(n) => n.to_string(),
                Field::Time(t) => Timestamp::from_millis(*t).to_commerce(),
                Field::List(_) | Field::Missing => String::new(),
            };
            like(value, &text) == (filter.condition == "like")
        }
        _ => false,
    }
}

fn positive(condition: &str) -> String {
    match condition {
        "neq" => "eq",
        "nin" => "in",
        "nlike" => "like",
        other => other,
    }
    .to_owned()
}

fn compare_fields(a: &Field<'_>, b: &Field<'_>) -> Ordering {
    match (a, b) {
        (Field::Num(x), Field::Num(y)) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
        (Field::Time(x), Field::Time(y)) => x.cmp(y),
        (Field::Str(x), Field::Str(y)) => x.cmp(y),
        // Missing sorts first, as NULL does in MySQL ascending order.
        (Field::Missing, Field::Missing) => Ordering::Equal,
        (Field::Missing, _) => Ordering::Less,
        (_, Field::Missing) => Ordering::Greater,
        _ => Ordering::Equal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Row {
        id: f64,
        sku: &'static str,
        cats: Vec<String>,
        at: i64,
    }

    impl Searchable for Row {
        fn field(&self, name: &str) -> Field<'_> {
            match name {
                "entity_id" => Field::Num(self.id),
                "sku" => Field::Str(Cow::Borrowed(self.sku)),
                "category_id" => Field::List(self.cats.clone()),
                "updated_at" => Field::Time(self.at),
                _ => Field::Missing,
            }
        }
        fn knows(name: &str) -> bool {
            matches!(name, "entity_id" | "sku" | "category_id" | "updated_at")
        }
    }

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn rows() -> Vec<Row> {
        let t = |s: &str| parse_time(s).unwrap();
        vec![
            Row {
                id: 1.0,
                sku: "MUG-1",
                cats: vec!["3".into()],
                at: t("2026-01-01 00:00:00"),
            },
            Row {
                id: 2.0,
                sku: "CUP-1",
                cats: vec!["3".into(), "4".into()],
                at: t("2026-01-03 00:00:00"),
            },
            Row {
                id: 3.0,
                sku: "PLATE-9",
                cats: vec![],
                at: t("2026-01-02 00:00:00"),
            },
        ]
    }

    #[test]
    fn groups_and_filters_combine_as_magento_does() {
        let rows = rows();
        let criteria = Criteria::from_query(&q(&[
            ("searchCriteria[filterGroups][0][filters][0][field]", "sku"),
            ("searchCriteria[filterGroups][0][filters][0][value]", "%-1"),
            (
                "searchCriteria[filterGroups][0][filters][0][conditionType]",
                "like",
            ),
            ("searchCriteria[filterGroups][0][filters][1][field]", "sku"),
            ("searchCriteria[filterGroups][0][filters][1][value]", "PLATE-9"),
            ("searchCriteria[filterGroups][1][filters][0][field]", "updated_at"),
            (
                "searchCriteria[filterGroups][1][filters][0][value]",
                "2026-01-02 00:00:00",
            ),
            (
                "searchCriteria[filterGroups][1][filters][0][conditionType]",
                "gteq",
            ),
            ("searchCriteria[sortOrders][0][field]", "updated_at"),
            ("searchCriteria[sortOrders][0][direction]", "DESC"),
        ]))
        .unwrap();
        let page = criteria.run(rows.iter());
        assert_eq!(
            page.items.iter().map(|r| r.sku).collect::<Vec<_>>(),
            ["CUP-1", "PLATE-9"]
        );
        let cats = Criteria::from_query(&q(&[
            (
                "searchCriteria[filterGroups][0][filters][0][field]",
                "category_id",
            ),
            ("searchCriteria[filterGroups][0][filters][0][value]", "4"),
        ]))
        .unwrap();
        assert_eq!(cats.run(rows.iter()).total_count, 1);
        let in_list = Criteria::from_query(&q(&[
            ("searchCriteria[filterGroups][0][filters][0][field]", "entity_id"),
            ("searchCriteria[filterGroups][0][filters][0][value]", "1,3"),
            ("searchCriteria[filterGroups][0][filters][0][conditionType]", "in"),
        ]))
        .unwrap();
        assert_eq!(in_list.run(rows.iter()).total_count, 2);
    }

    #[test]
    fn a_page_past_the_end_is_the_last_page_again() {
        let rows = rows();
        let criteria = Criteria::from_query(&q(&[
            ("searchCriteria[pageSize]", "2"),
            ("searchCriteria[currentPage]", "7"),
        ]))
        .unwrap();
        let page = criteria.run(rows.iter());
        assert_eq!(page.total_count, 3);
        assert_eq!(page.items.len(), 1);
        assert_eq!(page.items[0].sku, "PLATE-9");
        assert!(criteria.check_page_size(Some(300)).is_ok());
        let big = Criteria::from_query(&q(&[("searchCriteria[pageSize]", "301")])).unwrap();
        assert!(big.check_page_size(Some(300)).is_err());
        assert!(big.check_page_size(None).is_ok());
    }

    #[test]
    fn like_patterns() {
        assert!(like("%mug%", "Big MUG"));
        assert!(like("a_c", "abc"));
        assert!(!like("a_c", "abbc"));
        assert!(like("%", ""));
    }
}
