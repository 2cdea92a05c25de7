//! Inventory and price of single SKUs.

use domain::{Money, Sku};
use ports::Deadline;
use reqwest::Method;

use crate::client::{Call, WalmartClient};
use crate::encoding::query;
use crate::endpoint::Endpoint;
use crate::error::WalmartError;
use crate::wire;

fn sku_query(sku: &Sku) -> String {
    query(&[("sku", sku.as_str().to_owned())])
}

impl WalmartClient {
    /// `GET /v3/inventory?sku=`: the quantity Walmart has for the SKU at the default ship node.
    pub async fn get_inventory(&self, sku: &Sku, deadline: &Deadline) -> Result<u32, WalmartError> {
        let call = Call::get(Endpoint::GetInventory, format!("/v3/inventory{}", sku_query(sku)))
            .with_key(sku.as_str());
        let response: wire::Inventory = self.execute(&call, deadline).await?;
        let amount = &response.quantity.amount;
        let whole = amount.as_u64().or_else(|| {
            // A whole quantity rendered as `10.0` still reads as 10.
            amount
                .as_f64()
                .filter(|a| a.fract() == 0.0 && *a >= 0.0)
                .map(|a| a as u64)
        });
        whole
            .and_then(|a| u32::try_from(a).ok())
            .ok_or_else(|| WalmartError::Malformed {
                endpoint: Endpoint::GetInventory,
                context: format!("quantity {amount} for sku {sku}"),
            })
    }

    /// `PUT /v3/inventory?sku=`: sets the SKU's quantity at the default ship node.
    pub async fn update_inventory(
        &self,
        sku: &Sku,
        quantity: u32,
        deadline: &Deadline,
    ) -> Result<(), WalmartError> {
        let body = wire::Inventory {
            sku: sku.as_str().to_owned(),
            quantity: wire::InventoryQuantity {
                unit: "EACH".to_owned(),
                amount: serde_json::Number::from(quantity),
            },
        };
        let call = Call::get(
            Endpoint::UpdateInventory,
            format!("/v3/inventory{}", sku_query(sku)),
        )
        .with_method(Method::PUT)
        .with_key(sku.as_str())
        .with_json(&body)?;
        let _: wire::Inventory = self.execute(&call, deadline).await?;
        tracing::info!(sku = %sku, quantity, "inventory updated");
        Ok(())
    }

    /// `PUT /v3/price`: sets the SKU's base price (USD).
    pub async fn update_price(
        &self,
        sku: &Sku,
        price: Money,
        deadline: &Deadline,
    ) -> Result<(), WalmartError> {
        if price.is_negative() {
            return Err(WalmartError::InvalidInput(format!(
                "negative price {price} for sku {sku}"
            )));
        }
        let body = wire::Price {
            sku: sku.as_str().to_owned(),
            pricing: vec![wire::Pricing {
                current_price_type: "BASE".to_owned(),
                current_price: wire::PriceAmount {
                    currency: "USD".to_owned(),
                    amount: price.to_decimal(),
                },
            }],
        };
        let call = Call::get(Endpoint::UpdatePrice, "/v3/price".to_owned())
            .with_method(Method::PUT)
            .with_key(sku.as_str())
            .with_json(&body)?;
        let _: wire::ItemPriceResponse = self.execute(&call, deadline).await?;
        tracing::info!(sku = %sku, price = %price, "price updated");
        Ok(())
    }
}
