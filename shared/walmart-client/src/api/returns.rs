//! Returns API: read return orders and refund them.

use domain::{CustomerOrderId, ReturnOrderId};
use ports::Deadline;
use reqwest::Method;

use crate::client::{Call, WalmartClient};
use crate::convert::{self};
use crate::encoding::{component, query};
use crate::endpoint::Endpoint;
use crate::error::WalmartError;
use crate::wire;
pub use ports::walmart::{ReturnsPage, ReturnsQuery, WalmartReturn};

/// Largest page `GET /v3/returns` serves.
pub const MAX_RETURNS_PAGE: u32 = 200;

impl WalmartClient {
    async fn returns_page(&self, path: String, deadline: &Deadline) -> Result<ReturnsPage, WalmartError> {
        let call = Call::get(Endpoint::ListReturns, path);
        let (response, correlation_id): (wire::ReturnsResponse, String) =
            self.execute_correlated(&call, deadline).await?;
        let source = convert::Source {
            endpoint: Endpoint::ListReturns,
            correlation_id: &correlation_id,
        };
        let (returns, skipped) = convert::page(
            source,
            response.return_orders,
            |r| r.return_order_id.clone(),
            |r| convert::return_order(Endpoint::ListReturns, r),
        );
        // A page of only unreadable records still has a next page.
        let had_records = !returns.is_empty() || !skipped.is_empty();
        let next_cursor = response
            .meta
            .next_cursor
            .filter(|c| !c.trim().is_empty() && had_records)
            .map(|c| if c.starts_with('?') { c } else { format!("?{c}") });
        Ok(ReturnsPage {
            returns,
            next_cursor,
            skipped,
        })
    }

    /// `GET /v3/returns`: the first page of returns matching `request`.
    pub async fn list_returns(
        &self,
        request: &ReturnsQuery,
        deadline: &Deadline,
    ) -> Result<ReturnsPage, WalmartError> {
        if request.limit == 0 || request.limit > MAX_RETURNS_PAGE {
            return Err(WalmartError::InvalidInput(format!(
                "returns page limit {} outside 1..={MAX_RETURNS_PAGE}",
                request.limit
            )));
        }
        let mut pairs = Vec::new();
        if let Some(t) = request.created_start {
            pairs.push(("returnCreationStartDate", t.to_rfc3339()));
        }
        if let Some(t) = request.created_end {
            pairs.push(("returnCreationEndDate", t.to_rfc3339()));
        }
        if let Some(status) = &request.status {
            pairs.push(("status", status.clone()));
        }
        pairs.push(("limit", request.limit.to_string()));
        self.returns_page(format!("/v3/returns{}", query(&pairs)), deadline)
            .await
    }

    /// The page after `cursor` (a `ReturnsPage::next_cursor`).
    pub async fn next_returns(&self, cursor: &str, deadline: &Deadline) -> Result<ReturnsPage, WalmartError> {
        self.returns_page(format!("/v3/returns{cursor}"), deadline).await
    }

    /// `GET /v3/returns?returnOrderId=`: one return as Walmart shows it now (`None` when it lists
    /// no such return).
    pub async fn get_return(
        &self,
        return_order_id: &ReturnOrderId,
        deadline: &Deadline,
    ) -> Result<Option<WalmartReturn>, WalmartError> {
        let path = format!(
            "/v3/returns{}",
            query(&[("returnOrderId", return_order_id.as_str().to_owned())])
        );
        let page = self.returns_page(path, deadline).await?;
        let found = page
            .returns
            .into_iter()
            .find(|r| &r.return_order_id == return_order_id);
        // The return asked for, sent badly, is not "no such return".
        match (found, page.skipped.into_iter().next()) {
            (None, Some(skipped)) => Err(WalmartError::Malformed {
                endpoint: Endpoint::ListReturns,
                context: format!("return {return_order_id}: {skipped}"),
            }),
            (found, _) => Ok(found),
        }
    }

    /// `POST /v3/returns/{returnOrderId}/refund`: refund the given return lines.
    pub async fn refund_return(
        &self,
        return_order_id: &ReturnOrderId,
        customer_order_id: &CustomerOrderId,
        return_lines: &[u32],
        deadline: &Deadline,
    ) -> Result<(), WalmartError> {
        if return_lines.is_empty() {
            return Err(WalmartError::InvalidInput(format!(
                "no lines to refund on return {return_order_id}"
            )));
        }
        let body = wire::ReturnRefundRequest {
            customer_order_id: customer_order_id.as_str().to_owned(),
            refund_lines: return_lines
                .iter()
                .map(|n| wire::RefundLineNumber {
                    return_order_line_number: i64::from(*n),
                })
                .collect(),
        };
        let path = format!("/v3/returns/{}/refund", component(return_order_id.as_str()));
        let call = Call::get(Endpoint::RefundReturn, path)
            .with_method(Method::POST)
            .with_key(return_order_id.as_str())
            .with_json(&body)?;
        let _: serde_json::Value = self.execute(&call, deadline).await?;
        tracing::info!(return_order_id = %return_order_id, lines = return_lines.len(), "return refunded");
        Ok(())
    }
}
