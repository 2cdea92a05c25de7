//! Items API: the seller's items and Walmart's catalog.

use domain::{Gtin, GtinKind, Sku};
use ports::Deadline;

use crate::client::{Call, WalmartClient};
use crate::convert::{self, CatalogItem, SellerItem};
use crate::encoding::{component, query};
use crate::endpoint::Endpoint;
use crate::error::WalmartError;
use crate::wire;
pub use ports::walmart::{ItemsPage, ItemsQuery};

/// Largest page of `GET /v3/items` the client asks for.
pub const MAX_ITEMS_PAGE: u32 = 200;

impl WalmartClient {
    /// `GET /v3/items`: one page of the seller's items, cursor-paged.
    pub async fn list_items(
        &self,
        request: &ItemsQuery,
        deadline: &Deadline,
    ) -> Result<ItemsPage, WalmartError> {
        if request.limit == 0 || request.limit > MAX_ITEMS_PAGE {
            return Err(WalmartError::InvalidInput(format!(
                "items page limit {} outside 1..={MAX_ITEMS_PAGE}",
                request.limit
            )));
        }
        let mut pairs = vec![
            (
                "nextCursor",
                request.cursor.clone().unwrap_or_else(|| "*".to_owned()),
            ),
            ("limit", request.limit.to_string()),
        ];
        if let Some(status) = &request.lifecycle_status {
            pairs.push(("lifecycleStatus", status.clone()));
        }
        if let Some(status) = &request.published_status {
            pairs.push(("publishedStatus", status.clone()));
        }
        let call = Call::get(Endpoint::ListItems, format!("/v3/items{}", query(&pairs)));
        let (response, correlation_id): (wire::ItemResponses, String) =
            self.execute_correlated(&call, deadline).await?;
        let source = convert::Source {
            endpoint: Endpoint::ListItems,
            correlation_id: &correlation_id,
        };
        let (items, skipped) = convert::page(
            source,
            response.item_response,
            |i| Some(i.sku.clone()),
            |i| convert::seller_item(Endpoint::ListItems, i),
        );
        // A page of only unreadable records still has a next page.
        let had_records = !items.is_empty() || !skipped.is_empty();
        let next_cursor = response.next_cursor.filter(|c| !c.is_empty() && had_records);
        Ok(ItemsPage {
            items,
            total_items: response.total_items.and_then(|t| u64::try_from(t).ok()),
            next_cursor,
            skipped,
        })
    }

    /// `GET /v3/items/{sku}?productIdType=SKU`: one seller item.
    pub async fn get_item(&self, sku: &Sku, deadline: &Deadline) -> Result<SellerItem, WalmartError> {
        let path = format!("/v3/items/{}?productIdType=SKU", component(sku.as_str()));
        let call = Call::get(Endpoint::GetItem, path).with_key(sku.as_str());
        let response: wire::GetItemResponse = self.execute(&call, deadline).await?;
        let item = response
            .response_record
            .or_else(|| response.item_response.into_iter().next())
            .ok_or_else(|| WalmartError::NotFound {
                endpoint: Endpoint::GetItem,
                message: format!("no item in the response for sku {sku}"),
            })?;
        convert::seller_item(Endpoint::GetItem, item)
    }

    /// `GET /v3/items/walmart/search`: Walmart catalog items with this identifier (UPC-A by `upc`,
    /// anything else as a 14-digit `gtin`). Empty when Walmart has no such item.
    pub async fn search_catalog_by_gtin(
        &self,
        gtin: &Gtin,
        deadline: &Deadline,
    ) -> Result<Vec<CatalogItem>, WalmartError> {
        let pair = match gtin.kind() {
            GtinKind::Upc => ("upc", gtin.as_str().to_owned()),
            _ => ("gtin", gtin.to_gtin14()),
        };
        let call = Call::get(
            Endpoint::CatalogSearch,
            format!("/v3/items/walmart/search{}", query(&[pair])),
        )
        .with_key(gtin.as_str());
        let (response, correlation_id): (wire::SearchResponse, String) =
            match self.execute_correlated(&call, deadline).await {
                Ok(r) => r,
                Err(WalmartError::NotFound { .. }) => return Ok(Vec::new()),
                Err(e) => return Err(e),
            };
        let source = convert::Source {
            endpoint: Endpoint::CatalogSearch,
            correlation_id: &correlation_id,
        };
        // A catalog entry Walmart sent badly is logged and left out; the others can still match.
        let (items, _skipped) = convert::page(source, response.items, |i| i.item_id.clone(), Ok);
        Ok(items.into_iter().filter_map(convert::catalog_item).collect())
    }
}
