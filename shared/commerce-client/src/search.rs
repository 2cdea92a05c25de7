//! Magento's `searchCriteria`: filter groups (AND) of filters (OR), sort orders and paging,
//! serialised as the bracketed query parameters every `GET` search route takes.

use std::fmt;

/// Magento's `condition_type` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Condition {
    Eq,
    Neq,
    /// SQL LIKE: `%` matches any run of characters.
    Like,
    Nlike,
    /// The value is a comma-separated list.
    In,
    Nin,
    Gt,
    Gteq,
    Lt,
    Lteq,
    /// The value is ignored.
    Null,
    Notnull,
    /// The value is one of a comma-separated column's entries.
    Finset,
    From,
    To,
}

impl Condition {
    pub fn as_str(self) -> &'static str {
        match self {
            Condition::Eq => "eq",
            Condition::Neq => "neq",
            Condition::Like => "like",
            Condition::Nlike => "nlike",
            Condition::In => "in",
            Condition::Nin => "nin",
            Condition::Gt => "gt",
            Condition::Gteq => "gteq",
            Condition::Lt => "lt",
            Condition::Lteq => "lteq",
            Condition::Null => "null",
            Condition::Notnull => "notnull",
            Condition::Finset => "finset",
            Condition::From => "from",
            Condition::To => "to",
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One `field condition value` test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub field: String,
    pub condition: Condition,
    pub value: String,
}

impl Filter {
    pub fn new(field: impl Into<String>, condition: Condition, value: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            condition,
            value: value.into(),
        }
    }

    pub fn eq(field: impl Into<String>, value: impl Into<String>) -> Self {
        Self::new(field, Condition::Eq, value)
    }

    /// `in` over a list, joined with commas as Magento expects.
    pub fn in_list<I, S>(field: impl Into<String>, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let joined = values
            .into_iter()
            .map(|v| v.as_ref().to_owned())
            .collect::<Vec<_>>()
            .join(",");
        Self::new(field, Condition::In, joined)
    }
}

impl Filter {
    /// SKUs, ORed: one `in` filter, plus an `eq` filter for each SKU holding a comma (Magento
    /// splits an `in` value at commas).
    pub fn skus(skus: &[domain::Sku]) -> Vec<Filter> {
        let (with_comma, plain): (Vec<&domain::Sku>, Vec<&domain::Sku>) =
            skus.iter().partition(|sku| sku.as_str().contains(','));
        let mut filters = Vec::with_capacity(with_comma.len() + 1);
        if !plain.is_empty() {
            filters.push(Filter::in_list("sku", plain.iter().map(|sku| sku.as_str())));
        }
        filters.extend(with_comma.into_iter().map(|sku| Filter::eq("sku", sku.as_str())));
        filters
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Asc,
    Desc,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Asc => "ASC",
            Direction::Desc => "DESC",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortOrder {
    pub field: String,
    pub direction: Direction,
}

/// A search: every group must match (AND); within a group any filter may match (OR).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchCriteria {
    pub groups: Vec<Vec<Filter>>,
    pub sort_orders: Vec<SortOrder>,
    pub page_size: Option<u32>,
    pub current_page: Option<u32>,
}

impl SearchCriteria {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a group of one filter (ANDed with the other groups).
    pub fn filter(
        mut self,
        field: impl Into<String>,
        condition: Condition,
        value: impl Into<String>,
    ) -> Self {
        self.groups.push(vec![Filter::new(field, condition, value)]);
        self
    }

    /// Adds a group whose filters are ORed.
    pub fn any_of(mut self, filters: Vec<Filter>) -> Self {
        if !filters.is_empty() {
            self.groups.push(filters);
        }
        self
    }

    pub fn sort_by(mut self, field: impl Into<String>, direction: Direction) -> Self {
        self.sort_orders.push(SortOrder {
            field: field.into(),
            direction,
        });
        self
    }

    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = Some(size);
        self
    }

    /// 1-based, as Magento counts.
    pub fn current_page(mut self, page: u32) -> Self {
        self.current_page = Some(page);
        self
    }

    /// The query parameters, in a stable order:
    /// `searchCriteria[filterGroups][g][filters][f][field|value|conditionType]`,
    /// `searchCriteria[sortOrders][s][field|direction]`, `searchCriteria[pageSize]`,
    /// `searchCriteria[currentPage]`. With no filter at all Magento still needs `searchCriteria` to be
    /// present, so a bare search sends `searchCriteria[pageSize]` or, failing that, an empty
    /// `searchCriteria` parameter.
    pub fn to_query(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (g, group) in self.groups.iter().enumerate() {
            for (f, filter) in group.iter().enumerate() {
                let prefix = format!("searchCriteria[filterGroups][{g}][filters][{f}]");
                out.push((format!("{prefix}[field]"), filter.field.clone()));
                out.push((format!("{prefix}[value]"), filter.value.clone()));
                out.push((
                    format!("{prefix}[conditionType]"),
                    filter.condition.as_str().to_owned(),
                ));
            }
        }
        for (s, sort) in self.sort_orders.iter().enumerate() {
            out.push((
                format!("searchCriteria[sortOrders][{s}][field]"),
                sort.field.clone(),
            ));
            out.push((
                format!("searchCriteria[sortOrders][{s}][direction]"),
                sort.direction.as_str().to_owned(),
            ));
        }
        if let Some(size) = self.page_size {
            out.push(("searchCriteria[pageSize]".to_owned(), size.to_string()));
        }
        if let Some(page) = self.current_page {
            out.push(("searchCriteria[currentPage]".to_owned(), page.to_string()));
        }
        if out.is_empty() {
            out.push(("searchCriteria".to_owned(), String::new()));
        }
        out
    }
}

/// Where a paged search stands. Magento answers a page past the last one with the last page again,
/// so the end is decided by `total_count` and never by an empty or short page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageCursor {
    pub page_size: u32,
    /// The next page to ask for (1-based).
    pub next_page: u32,
    /// `total_count` as of the latest page.
    pub total_count: Option<u64>,
    pub done: bool,
}

impl PageCursor {
    pub fn new(page_size: u32) -> Self {
        Self {
            page_size: page_size.max(1),
            next_page: 1,
            total_count: None,
            done: false,
        }
    }

    /// Records a page's answer and decides whether another page exists. `items` is how many items
    /// the page held. An empty page before `total_count` is reached means the result set shrank
    /// under us: stop rather than loop on Magento's repeated last page.
    pub fn advance(&mut self, total_count: u64, items: usize) {
        self.total_count = Some(total_count);
        let seen_through = u64::from(self.next_page) * u64::from(self.page_size);
        self.done = items == 0 || seen_through >= total_count;
        self.next_page = self.next_page.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_groups_filters_sorts_and_paging() {
        let criteria = SearchCriteria::new()
            .filter("updated_at", Condition::Gteq, "2026-01-01 00:00:00")
            .any_of(vec![
                Filter::eq("status", "pending"),
                Filter::in_list("state", ["new", "processing"]),
            ])
            .sort_by("updated_at", Direction::Asc)
            .sort_by("entity_id", Direction::Asc)
            .page_size(300)
            .current_page(2);
        let q = criteria.to_query();
        let get = |k: &str| q.iter().find(|(name, _)| name == k).map(|(_, v)| v.as_str());
        assert_eq!(
            get("searchCriteria[filterGroups][0][filters][0][field]"),
            Some("updated_at")
        );
        assert_eq!(
            get("searchCriteria[filterGroups][0][filters][0][conditionType]"),
            Some("gteq")
        );
        assert_eq!(
            get("searchCriteria[filterGroups][1][filters][0][value]"),
            Some("pending")
        );
        assert_eq!(
            get("searchCriteria[filterGroups][1][filters][1][value]"),
            Some("new,processing")
        );
        assert_eq!(
            get("searchCriteria[filterGroups][1][filters][1][conditionType]"),
            Some("in")
        );
        assert_eq!(get("searchCriteria[sortOrders][1][field]"), Some("entity_id"));
        assert_eq!(get("searchCriteria[sortOrders][0][direction]"), Some("ASC"));
        assert_eq!(get("searchCriteria[pageSize]"), Some("300"));
        assert_eq!(get("searchCriteria[currentPage]"), Some("2"));
        assert_eq!(q.len(), 6 + 3 + 4 + 2);
        assert_eq!(
            SearchCriteria::new().to_query(),
            vec![("searchCriteria".to_owned(), String::new())]
        );
    }

    #[test]
    fn paging_stops_by_total_count_not_by_page_contents() {
        let mut cursor = PageCursor::new(300);
        cursor.advance(601, 300);
        assert!(!cursor.done);
        cursor.advance(601, 300);
        assert!(!cursor.done);
        // Page 3 holds one item; it is the last by the count.
        cursor.advance(601, 1);
        assert!(cursor.done);
        let mut exact = PageCursor::new(300);
        exact.advance(300, 300);
        assert!(
            exact.done,
            "a full last page must not lead to asking past the end"
        );
        let mut shrunk = PageCursor::new(10);
        shrunk.advance(50, 0);
        assert!(
            shrunk.done,
            "an empty page ends the search even if the count says otherwise"
        );
    }
}
