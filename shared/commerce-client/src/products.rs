//! Catalog reads: products by `updated_at` cursor, SKU list, category or attribute, configurable
//! children, and the conversions the channel needs from a product.

use domain::{ProductSelection, Sku, Timestamp};
use ports::Deadline;

use crate::client::{Call, CommerceClient, Paged, seg};
use crate::error::CommerceError;
use crate::search::{Condition, Direction, Filter, SearchCriteria};
use crate::wire::Product;

/// SKUs per `in` filter: keeps URLs well under common 8 KB limits.
const SKUS_PER_QUERY: usize = 100;

impl CommerceClient {
    /// Products changed at or after `since` (inclusive, so nothing changed within the same second is
    /// missed; callers de-duplicate), oldest change first, then by id: a stable order to page by.
    pub fn products_updated_since(&self, since: Timestamp) -> Paged<Product> {
        let criteria = SearchCriteria::new()
            .filter("updated_at", Condition::Gteq, since.to_commerce())
            .sort_by("updated_at", Direction::Asc)
            .sort_by("entity_id", Direction::Asc);
        self.paged("GET /V1/products", "products", criteria)
    }

    /// The products with these SKUs (unknown SKUs are simply absent), in batches of 100 per search.
    pub async fn products_by_skus(
        &self,
        skus: &[Sku],
        deadline: &Deadline,
    ) -> Result<Vec<Product>, CommerceError> {
        let mut found = Vec::with_capacity(skus.len());
        for chunk in skus.chunks(SKUS_PER_QUERY) {
            let criteria = SearchCriteria::new()
                .any_of(Filter::skus(chunk))
                .sort_by("entity_id", Direction::Asc);
            found.extend(
                self.paged::<Product>("GET /V1/products", "products", criteria)
                    .collect_all(deadline)
                    .await?,
            );
        }
        Ok(found)
    }

    /// Products assigned to a category.
    pub fn products_in_category(&self, category_id: u64) -> Paged<Product> {
        let criteria = SearchCriteria::new()
            .filter("category_id", Condition::Eq, category_id.to_string())
            .sort_by("entity_id", Direction::Asc);
        self.paged("GET /V1/products", "products", criteria)
    }

    /// Products whose attribute `code` equals `value` (e.g. `walmart_enabled` = `1`).
    pub fn products_with_attribute(&self, code: &str, value: &str) -> Paged<Product> {
        let criteria = SearchCriteria::new()
            .filter(code, Condition::Eq, value)
            .sort_by("entity_id", Direction::Asc);
        self.paged("GET /V1/products", "products", criteria)
    }

    /// The products a channel's selection names, optionally only those changed since a cursor.
    pub fn products_selected(
        &self,
        selection: &ProductSelection,
        changed_since: Option<Timestamp>,
    ) -> Paged<Product> {
        let mut criteria = match selection {
            ProductSelection::Skus { skus } => SearchCriteria::new().any_of(Filter::skus(skus)),
            ProductSelection::Category { category_id } => {
                SearchCriteria::new().filter("category_id", Condition::Eq, category_id.to_string())
            }
            ProductSelection::Attribute { code, value } => {
                SearchCriteria::new().filter(code, Condition::Eq, value)
            }
        };
        if let Some(since) = changed_since {
            criteria = criteria
                .filter("updated_at", Condition::Gteq, since.to_commerce())
                .sort_by("updated_at", Direction::Asc);
        }
        self.paged(
            "GET /V1/products",
            "products",
            criteria.sort_by("entity_id", Direction::Asc),
        )
    }

    /// One product by SKU: `GET /V1/products/{sku}`, or the products search for a SKU Magento 2.4.6
    /// cannot verify in a signed path.
    pub async fn product(&self, sku: &Sku, deadline: &Deadline) -> Result<Product, CommerceError> {
        if crate::oauth::unsafe_in_signed_path(sku.as_str()) {
            return self.product_by_search(sku, deadline).await;
        }
        self.execute(
            &Call::get(
                "GET /V1/products/{sku}",
                format!("products/{}", seg(sku.as_str())),
            ),
            deadline,
        )
        .await
    }

    /// The simple children of a configurable product, whole, by entity id order.
    ///
    /// Not through `GET /V1/configurable-products/{sku}/children`: Magento rebuilds those children
    /// from the attributes its collection loaded (`LinkManagement::getChildren`), without
    /// `extension_attributes` (so no `website_ids`) and with custom attributes only when "used in
    /// product listing" (so no `upc`). The parent's `configurable_product_links` name the children,
    /// and a search reads them whole.
    pub async fn configurable_children(
        &self,
        sku: &Sku,
        deadline: &Deadline,
    ) -> Result<Vec<Product>, CommerceError> {
        let parent = self.product_by_search(sku, deadline).await?;
        let links = parent
            .extension_attributes
            .map(|extension| extension.configurable_product_links)
            .unwrap_or_default();
        let mut children = Vec::with_capacity(links.len());
        for chunk in links.chunks(SKUS_PER_QUERY) {
            let criteria = SearchCriteria::new()
                .any_of(vec![Filter::in_list(
                    "entity_id",
                    chunk.iter().map(u64::to_string),
                )])
                .sort_by("entity_id", Direction::Asc);
            children.extend(
                self.paged::<Product>("GET /V1/products", "products", criteria)
                    .collect_all(deadline)
                    .await?,
            );
        }
        Ok(children)
    }

    /// One product by SKU through the products search (any SKU, whatever its characters); a
    /// missing product is [`CommerceError::NotFound`] with Magento's own message.
    pub(crate) async fn product_by_search(
        &self,
        sku: &Sku,
        deadline: &Deadline,
    ) -> Result<Product, CommerceError> {
        let criteria = SearchCriteria::new()
            .filter("sku", Condition::Eq, sku.as_str())
            .page_size(1);
        let found = self
            .paged::<Product>("GET /V1/products", "products", criteria)
            .page(ports::PageRequest { page: 1, size: 1 }, deadline)
            .await?;
        found
            .items
            .into_iter()
            .find(|product| product.sku.eq_ignore_ascii_case(sku.as_str()))
            .ok_or_else(|| CommerceError::NotFound {
                route: "GET /V1/products".to_owned(),
                message: "The product that was requested doesn't exist. Verify the product and try again."
                    .to_owned(),
            })
    }
}
