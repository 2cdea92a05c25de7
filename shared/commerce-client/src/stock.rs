//! Stock: MSI salable quantities, source items in bulk, the website's stock, and the legacy stock
//! item for stores without MSI.
//!
//! Source items carry no `updated_at`, so changes cannot be searched for: callers read them in bulk
//! ([`CommerceClient::source_items`]) and compare with the previous snapshot.

use domain::Sku;
use ports::Deadline;

use crate::client::{Call, CommerceClient, Paged, seg};
use crate::error::CommerceError;
use crate::search::{Direction, Filter, SearchCriteria};
use crate::wire::lenient;
use crate::wire::lenient::Number;
use crate::wire::{IsProductSalableResult, SourceItem, Stock, StockItem};

/// `inventory-api-data-stock-interface` with the sales channels it serves.
#[derive(Debug, serde::Deserialize)]
struct StockWithChannels {
    #[serde(default)]
    extension_attributes: StockExtension,
}

#[derive(Debug, Default, serde::Deserialize)]
struct StockExtension {
    #[serde(default)]
    sales_channels: Vec<SalesChannel>,
}

#[derive(Debug, serde::Deserialize)]
struct SalesChannel {
    #[serde(rename = "type")]
    channel_type: String,
    code: String,
}

/// `inventory-export-stock-api-data-export-stock-salable-qty-search-result-interface`: each item is
/// `{sku, qty, is_salable}`.
#[derive(Debug, serde::Deserialize)]
struct ExportedSalableQuantities {
    #[serde(default)]
    items: Vec<ExportedSalableQuantity>,
}

#[derive(Debug, serde::Deserialize)]
struct ExportedSalableQuantity {
    sku: String,
    #[serde(deserialize_with = "lenient::number")]
    qty: f64,
}

impl CommerceClient {
    /// MSI salable quantity of `sku` in a stock: Σ source quantities of the stock's sources minus
    /// reservations (placed, not yet shipped or cancelled orders). May be negative.
    pub async fn salable_quantity(
        &self,
        sku: &Sku,
        stock_id: u32,
        deadline: &Deadline,
    ) -> Result<f64, CommerceError> {
        if crate::oauth::unsafe_in_signed_path(sku.as_str()) {
            return self.salable_quantity_by_search(sku, stock_id, deadline).await;
        }
        let call = Call::get(
            "GET /V1/inventory/get-product-salable-quantity/{sku}/{stockId}",
            format!(
                "inventory/get-product-salable-quantity/{}/{stock_id}",
                seg(sku.as_str())
            ),
        );
        let Number(quantity): Number<f64> = self.execute(&call, deadline).await?;
        Ok(quantity)
    }

    /// The salable quantity of a SKU that cannot go in a signed path (see
    /// [`crate::oauth::unsafe_in_signed_path`]): `GET /V1/inventory/export-stock-salable-qty`
    /// takes the SKU as a `searchCriteria` filter in the query and answers, per product found, the
    /// same `GetProductSalableQtyInterface` quantity the path route does (`InventoryExportStock`'s
    /// `PreciseExportStockProcessor`). It is asked by sales channel, so the stock's website comes
    /// first from `GET /V1/inventory/stocks/{stockId}`.
    async fn salable_quantity_by_search(
        &self,
        sku: &Sku,
        stock_id: u32,
        deadline: &Deadline,
    ) -> Result<f64, CommerceError> {
        let stock: StockWithChannels = self
            .execute(
                &Call::get(
                    "GET /V1/inventory/stocks/{stockId}",
                    format!("inventory/stocks/{stock_id}"),
                ),
                deadline,
            )
            .await?;
        let Some(website) = stock
            .extension_attributes
            .sales_channels
            .iter()
            .find(|c| c.channel_type == "website")
        else {
            return Err(CommerceError::Configuration(format!(
                "stock {stock_id} serves no website in Commerce; assign the channel's website to it \
                 (Stores > Inventory > Stocks)"
            )));
        };
        let route = "GET /V1/inventory/export-stock-salable-qty/{salesChannelType}/{salesChannelCode}";
        let criteria = SearchCriteria::new()
            .any_of(Filter::skus(std::slice::from_ref(sku)))
            .page_size(10)
            .current_page(1);
        let call = Call::get(
            route,
            format!(
                "inventory/export-stock-salable-qty/website/{}",
                seg(&website.code)
            ),
        )
        .query(criteria.to_query());
        let found: ExportedSalableQuantities = self.execute(&call, deadline).await?;
        found
            .items
            .into_iter()
            .find(|item| item.sku == sku.as_str())
            .map(|item| item.qty)
            .ok_or_else(|| CommerceError::NotFound {
                route: route.to_owned(),
                message: format!(
                    "The product that was requested doesn't exist in stock {stock_id}. Verify the product and try again."
                ),
            })
    }

    /// Whether each SKU is salable in a stock.
    pub async fn are_products_salable(
        &self,
        skus: &[Sku],
        stock_id: u32,
        deadline: &Deadline,
    ) -> Result<Vec<IsProductSalableResult>, CommerceError> {
        if skus.is_empty() {
            return Ok(Vec::new());
        }
        // Indexed, never `skus[]` repeated: Magento's signature check keeps one value per name.
        let mut query: Vec<(String, String)> = skus
            .iter()
            .enumerate()
            .map(|(n, s)| (format!("skus[{n}]"), s.as_str().to_owned()))
            .collect();
        query.push(("stockId".to_owned(), stock_id.to_string()));
        let call = Call::get(
            "GET /V1/inventory/are-products-salable",
            "inventory/are-products-salable",
        )
        .query(query);
        self.execute(&call, deadline).await
    }

    /// Every source item (SKU × source quantity), by SKU then source: one snapshot to diff.
    pub fn source_items(&self) -> Paged<SourceItem> {
        let criteria = SearchCriteria::new()
            .sort_by("sku", Direction::Asc)
            .sort_by("source_code", Direction::Asc);
        self.paged(
            "GET /V1/inventory/source-items",
            "inventory/source-items",
            criteria,
        )
    }

    /// Source items of some SKUs.
    pub fn source_items_for(&self, skus: &[Sku]) -> Paged<SourceItem> {
        let criteria = SearchCriteria::new()
            .any_of(Filter::skus(skus))
            .sort_by("sku", Direction::Asc)
            .sort_by("source_code", Direction::Asc);
        self.paged(
            "GET /V1/inventory/source-items",
            "inventory/source-items",
            criteria,
        )
    }

    /// The stock that serves a website (by website code).
    pub async fn stock_for_website(
        &self,
        website_code: &str,
        deadline: &Deadline,
    ) -> Result<Stock, CommerceError> {
        let call = Call::get(
            "GET /V1/inventory/stock-resolver/{type}/{code}",
            format!("inventory/stock-resolver/website/{}", seg(website_code)),
        );
        self.execute(&call, deadline).await
    }

    /// The legacy CatalogInventory stock item (stores without MSI).
    pub async fn legacy_stock_item(
        &self,
        sku: &Sku,
        deadline: &Deadline,
    ) -> Result<StockItem, CommerceError> {
        refuse_unsignable_path("GET /V1/stockItems/{productSku}", sku)?;
        let call = Call::get(
            "GET /V1/stockItems/{productSku}",
            format!("stockItems/{}", seg(sku.as_str())),
        );
        self.execute(&call, deadline).await
    }
}

/// The legacy stock route takes the SKU in the path and has no `searchCriteria` twin: a SKU Magento
/// 2.4.6 cannot verify there (its signature would fail with 401) is refused before sending, with
/// the reason, instead of being read as an authentication failure.
fn refuse_unsignable_path(route: &str, sku: &Sku) -> Result<(), CommerceError> {
    if crate::oauth::unsafe_in_signed_path(sku.as_str()) {
        return Err(CommerceError::Input(format!(
            "{route}: SKU {sku} holds one of / + & : @ = $ , ; which Magento 2.4.6 decodes in the \
             path before checking the OAuth signature (magento/magento2#37830); rename the SKU or \
             upgrade the store"
        )));
    }
    Ok(())
}
