//! Feeds API: submit feed files and read their per-item outcome.

use std::sync::atomic::Ordering;

use domain::{FeedId, Timestamp};
use ports::Deadline;
use ports::walmart::FeedSummary;
use reqwest::Method;
use serde_json::Value;

use crate::client::{Call, WalmartClient};
use crate::convert::{self, FeedStatusPage};
use crate::encoding::{component, query};
use crate::endpoint::{Endpoint, FeedType};
use crate::error::WalmartError;
use crate::feeds::{Feed, MAX_FEED_BYTES, feed_items, max_items};
use crate::wire;

/// Largest page of item details Walmart's newer docs allow per `GET /v3/feeds/{feedId}`.
pub const MAX_FEED_DETAILS_PAGE: u32 = 1000;

/// The spec's limit ("cannot be more than 50"), which an account that refuses the large page takes.
pub const SPEC_FEED_DETAILS_PAGE: u32 = 50;

/// Whether Walmart refused a details page for its size.
fn refused_for_limit(error: &WalmartError) -> bool {
    match error {
        WalmartError::Validation {
            status: 400,
            field,
            message,
            ..
        } => field.as_deref() == Some("limit") || message.to_ascii_lowercase().contains("limit"),
        _ => false,
    }
}

impl WalmartClient {
    /// `GET /v3/feeds`: the newest page of the seller's feeds (entries without an id are skipped).
    pub async fn recent_feeds(&self, deadline: &Deadline) -> Result<Vec<FeedSummary>, WalmartError> {
        let call = Call::get(Endpoint::ListFeeds, "/v3/feeds?limit=50".to_owned());
        let (list, correlation_id): (wire::FeedList, String) =
            self.execute_correlated(&call, deadline).await?;
        let source = convert::Source {
            endpoint: Endpoint::ListFeeds,
            correlation_id: &correlation_id,
        };
        // A feed entry Walmart sent badly is logged and left out: the list only finds lost feeds.
        let (feeds, _skipped) = convert::page(
            source,
            list.results.map(|r| r.feed).unwrap_or_default(),
            |f| f.feed_id.clone(),
            Ok,
        );
        Ok(feeds
            .into_iter()
            .filter_map(|f| {
                Some(FeedSummary {
                    feed_id: FeedId::new(f.feed_id.filter(|id| !id.is_empty())?).ok()?,
                    feed_type: f.feed_type.unwrap_or_default(),
                    submitted_at: f.feed_date.map(Timestamp::from_millis),
                    items_received: f.items_received.and_then(|n| u32::try_from(n).ok()).unwrap_or(0),
                })
            })
            .collect())
    }

    /// `POST /v3/feeds?feedType=...` with the payload as the multipart part `file`. Refuses files
    /// over Walmart's item or size limits before sending (use [`crate::feeds::split`]).
    pub async fn submit_feed(
        &self,
        feed_type: FeedType,
        payload: &Value,
        deadline: &Deadline,
    ) -> Result<FeedId, WalmartError> {
        let file = serde_json::to_vec(payload)
            .map_err(|e| WalmartError::InvalidInput(format!("cannot serialise the {feed_type} feed: {e}")))?;
        if file.len() > MAX_FEED_BYTES {
            return Err(WalmartError::InvalidInput(format!(
                "{feed_type} feed of {} bytes exceeds {MAX_FEED_BYTES} bytes",
                file.len()
            )));
        }
        let items = feed_items(feed_type, payload).map_or(0, Vec::len);
        if items > max_items(feed_type) {
            return Err(WalmartError::InvalidInput(format!(
                "{feed_type} feed of {items} items exceeds {} items",
                max_items(feed_type)
            )));
        }
        let endpoint = Endpoint::SubmitFeed(feed_type);
        let path = format!(
            "/v3/feeds{}",
            query(&[("feedType", feed_type.as_str().to_owned())])
        );
        let call = Call::get(endpoint, path)
            .with_method(Method::POST)
            .with_feed(file)
            .with_key(feed_type.as_str());
        let response: wire::FeedId = self.execute(&call, deadline).await?;
        let raw = response.feed_id.unwrap_or_default();
        let feed_id = FeedId::new(raw).map_err(|e| WalmartError::Malformed {
            endpoint,
            context: format!("feedId: {e}"),
        })?;
        tracing::info!(feed_type = feed_type.as_str(), feed_id = %feed_id, items, "feed submitted");
        Ok(feed_id)
    }

    /// Submits a feed built by [`crate::feeds`].
    pub async fn submit(&self, feed: &Feed, deadline: &Deadline) -> Result<FeedId, WalmartError> {
        self.submit_feed(feed.feed_type, &feed.payload, deadline).await
    }

    /// `GET /v3/feeds/{feedId}?includeDetails=true&offset=&limit=`: the feed's status and one page
    /// of at most `limit` item details. Page on with [`FeedStatusPage::next_offset`]. When Walmart
    /// answers 400 to a page above the spec's 50, the call is made again with 50, and this client
    /// asks for no more than 50 from then on.
    pub async fn feed_status(
        &self,
        feed_id: &FeedId,
        offset: u32,
        limit: u32,
        deadline: &Deadline,
    ) -> Result<FeedStatusPage, WalmartError> {
        let cap = self.feed_details_page.load(Ordering::Relaxed);
        let asked = limit.min(cap);
        match self.feed_status_page(feed_id, offset, asked, deadline).await {
            Err(e) if asked > SPEC_FEED_DETAILS_PAGE && refused_for_limit(&e) => {
                tracing::warn!(
                    feed_id = %feed_id,
                    asked,
                    error = %e,
                    "Walmart refused the large feed details page; asking for {SPEC_FEED_DETAILS_PAGE} from now on"
                );
                self.feed_details_page
                    .store(SPEC_FEED_DETAILS_PAGE, Ordering::Relaxed);
                let mut page = self
                    .feed_status_page(feed_id, offset, SPEC_FEED_DETAILS_PAGE, deadline)
                    .await?;
                page.details_page_fell_back = true;
                Ok(page)
            }
            other => other,
        }
    }

    async fn feed_status_page(
        &self,
        feed_id: &FeedId,
        offset: u32,
        limit: u32,
        deadline: &Deadline,
    ) -> Result<FeedStatusPage, WalmartError> {
        if limit == 0 || limit > MAX_FEED_DETAILS_PAGE {
            return Err(WalmartError::InvalidInput(format!(
                "feed details limit {limit} outside 1..={MAX_FEED_DETAILS_PAGE}"
            )));
        }
        let path = format!(
            "/v3/feeds/{}{}",
            component(feed_id.as_str()),
            query(&[
                ("includeDetails", "true".to_owned()),
                ("offset", offset.to_string()),
                ("limit", limit.to_string()),
            ])
        );
        let call = Call::get(Endpoint::FeedStatus, path).with_key(feed_id.as_str());
        let (response, correlation_id): (wire::PartnerFeedResponse, String) =
            self.execute_correlated(&call, deadline).await?;
        let source = convert::Source {
            endpoint: Endpoint::FeedStatus,
            correlation_id: &correlation_id,
        };
        convert::feed_status(source, feed_id, response)
    }
}
