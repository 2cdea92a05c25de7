//! Feeds: submitted, then processed lazily once their processing time has passed; each line
//! applied to the items, inventory or prices, or refused with Walmart's data error codes.

use std::time::Duration;

use domain::{Gtin, Money, Timestamp};

use super::*;
use crate::model::*;

/// One item of a submitted feed, as parsed at submission.
#[derive(Debug, Clone)]
pub enum FeedLine {
    Match {
        sku: Option<String>,
        product_id: Option<String>,
        price: Option<f64>,
    },
    Inventory {
        sku: Option<String>,
        quantity: Option<f64>,
    },
    Price {
        sku: Option<String>,
        amount: Option<f64>,
        currency: Option<String>,
    },
}

impl FeedLine {
    pub fn sku(&self) -> Option<&str> {
        match self {
            FeedLine::Match { sku, .. } | FeedLine::Inventory { sku, .. } | FeedLine::Price { sku, .. } => {
                sku.as_deref()
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct ItemError {
    pub kind: &'static str,
    pub code: &'static str,
    pub description: String,
}

#[derive(Debug, Clone)]
pub struct ItemOutcome {
    pub sku: Option<String>,
    pub wpid: Option<String>,
    pub errors: Vec<ItemError>,
}

impl ItemOutcome {
    pub fn succeeded(&self) -> bool {
        self.errors.is_empty()
    }
}

#[derive(Debug, Clone)]
pub struct Feed {
    pub feed_id: String,
    pub feed_type: String,
    pub submitted_at: Timestamp,
    pub processing_at: Timestamp,
    pub processed_at: Timestamp,
    pub lines: Vec<FeedLine>,
    /// Set once processed.
    pub outcomes: Option<Vec<ItemOutcome>>,
    /// The whole file was unusable: the feed ends in ERROR.
    pub file_error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedPhase {
    Received,
    InProgress,
    Processed,
    Error,
}

impl FeedPhase {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedPhase::Received => "RECEIVED",
            FeedPhase::InProgress => "INPROGRESS",
            FeedPhase::Processed => "PROCESSED",
            FeedPhase::Error => "ERROR",
        }
    }
}

impl Feed {
    pub fn phase(&self, now: Timestamp) -> FeedPhase {
        if self.outcomes.is_some() && now >= self.processed_at {
            if self.file_error.is_some() {
                FeedPhase::Error
            } else {
                FeedPhase::Processed
            }
        } else if now >= self.processing_at {
            FeedPhase::InProgress
        } else {
            FeedPhase::Received
        }
    }
}

impl World {
    pub fn submit_feed(
        &mut self,
        feed_type: &str,
        lines: Vec<FeedLine>,
        file_error: Option<String>,
        now: Timestamp,
    ) -> String {
        let seq = self.seq();
        let feed_id = format!(
            "{}@AQMBAQA",
            uuid::Uuid::new_v4().simple().to_string().to_uppercase()
        );
        let processing_at = now.plus(Duration::from_secs(self.settings.feed_received_secs));
        let processed_at = processing_at.plus(Duration::from_secs(self.settings.feed_processing_secs));
        self.feeds.insert(
            feed_id.clone(),
            Feed {
                feed_id: feed_id.clone(),
                feed_type: feed_type.to_owned(),
                submitted_at: now,
                processing_at,
                processed_at,
                lines,
                outcomes: None,
                file_error,
            },
        );
        self.feed_order.push(feed_id.clone());
        self.pending_feeds.insert((processed_at, seq), feed_id.clone());
        feed_id
    }

    /// Processes every feed whose processing time has come, oldest first.
    pub fn advance(&mut self, now: Timestamp) {
        while let Some(entry) = self.pending_feeds.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let feed_id = entry.remove();
            self.process_feed(&feed_id);
        }
    }

    pub fn pending_feed_count(&self) -> usize {
        self.pending_feeds.len()
    }

    fn process_feed(&mut self, feed_id: &str) {
        let Some(feed) = self.feeds.get(feed_id) else {
            return;
        };
        let at = feed.processed_at;
        let lines = feed.lines.clone();
        let outcomes = if feed.file_error.is_some() {
            Vec::new()
        } else {
            lines
                .iter()
                .map(|line| self.apply_feed_line(feed_id, line, at))
                .collect()
        };
        if let Some(feed) = self.feeds.get_mut(feed_id) {
            feed.outcomes = Some(outcomes);
            // The parsed lines are no longer needed; outcomes keep what the status shows.
            feed.lines = Vec::new();
        }
    }

    fn apply_feed_line(&mut self, feed_id: &str, line: &FeedLine, at: Timestamp) -> ItemOutcome {
        let mut outcome = ItemOutcome {
            sku: line.sku().map(str::to_owned),
            wpid: None,
            errors: Vec::new(),
        };
        let Some(sku) = line.sku().filter(|s| !s.is_empty() && s.chars().count() <= 50) else {
            outcome.errors.push(data_error(
                codes::MISSING_ATTRIBUTE,
                "'sku' - Attribute requires a value.".to_owned(),
            ));
            return outcome;
        };
        let source = UpdateSource::Feed {
            feed_id: feed_id.to_owned(),
        };
        match line {
            FeedLine::Match {
                product_id, price, ..
            } => self.apply_match_line(&mut outcome, sku, product_id.as_deref(), *price, source, at),
            FeedLine::Inventory { quantity, .. } => {
                self.apply_inventory_line(&mut outcome, sku, *quantity, source, at);
            }
            FeedLine::Price { amount, currency, .. } => {
                self.apply_price_line(&mut outcome, sku, *amount, currency.as_deref(), source, at);
            }
        }
        outcome
    }

    /// A match (MP_ITEM) line: a valid GTIN Walmart's catalog knows and a price make a seller item.
    fn apply_match_line(
        &mut self,
        outcome: &mut ItemOutcome,
        sku: &str,
        product_id: Option<&str>,
        price: Option<f64>,
        source: UpdateSource,
        at: Timestamp,
    ) {
        let gtin = match product_id {
            None | Some("") => {
                outcome.errors.push(data_error(
                    codes::MISSING_ATTRIBUTE,
                    "'productIdentifiers' - Attribute requires a value.".to_owned(),
                ));
                None
            }
            Some(raw) => match Gtin::parse(raw) {
                Ok(g) => Some(g),
                Err(e) => {
                    outcome.errors.push(data_error(
                        codes::INVALID_PRODUCT_ID,
                        format!("'productId' {raw} is invalid: {}.", e.reason),
                    ));
                    None
                }
            },
        };
        let price = match price {
            None => {
                outcome.errors.push(data_error(
                    codes::MISSING_ATTRIBUTE,
                    "'price' - Attribute requires a value.".to_owned(),
                ));
                None
            }
            Some(p) => match Money::from_decimal(p).ok().filter(|m| !m.is_negative()) {
                Some(m) => Some(m),
                None => {
                    outcome.errors.push(data_error(
                        codes::INVALID_VALUE,
                        format!("'price' {p} is invalid."),
                    ));
                    None
                }
            },
        };
        let entry = gtin.as_ref().and_then(|g| {
            let found = self.catalog.get(&g.to_gtin14()).cloned();
            if found.is_none() {
                outcome.errors.push(data_error(
                    codes::NO_CATALOG_MATCH,
                    format!("No Walmart item matches product id {}.", g.as_str()),
                ));
            }
            found
        });
        if let (Some(entry), Some(price), true) = (entry, price, outcome.errors.is_empty()) {
            let upc = gtin
                .as_ref()
                .filter(|g| g.as_str().len() == 12)
                .map(|g| g.as_str().to_owned());
            outcome.wpid = Some(entry.wpid.clone());
            self.upsert_item(sku, &entry, None, upc);
            self.set_price(sku, price, source, at);
        }
    }

    /// An inventory line: a whole, non-negative quantity for a known seller item.
    fn apply_inventory_line(
        &mut self,
        outcome: &mut ItemOutcome,
        sku: &str,
        quantity: Option<f64>,
        source: UpdateSource,
        at: Timestamp,
    ) {
        let quantity = quantity.filter(|q| q.fract() == 0.0 && *q >= 0.0 && *q <= f64::from(u32::MAX));
        match (self.items.get(sku).map(|i| i.wpid.clone()), quantity) {
            (None, _) => outcome.errors.push(data_error(
                codes::UNKNOWN_SKU,
                format!("SKU {sku} is not set up on Walmart."),
            )),
            (_, None) => outcome.errors.push(data_error(
                codes::INVALID_VALUE,
                "'quantity.amount' must be a whole number of units.".to_owned(),
            )),
            (Some(wpid), Some(q)) => {
                outcome.wpid = Some(wpid);
                self.set_inventory(sku, q as u32, source, at);
            }
        }
    }

    /// A price line: a non-negative USD amount for a known seller item.
    fn apply_price_line(
        &mut self,
        outcome: &mut ItemOutcome,
        sku: &str,
        amount: Option<f64>,
        currency: Option<&str>,
        source: UpdateSource,
        at: Timestamp,
    ) {
        let price = amount
            .and_then(|a| Money::from_decimal(a).ok())
            .filter(|m| !m.is_negative());
        let currency_ok = currency.is_none_or(|c| c == "USD");
        match (self.items.get(sku).map(|i| i.wpid.clone()), price) {
            (None, _) => outcome.errors.push(data_error(
                codes::UNKNOWN_SKU,
                format!("SKU {sku} is not set up on Walmart."),
            )),
            (_, None) => outcome.errors.push(data_error(
                codes::MISSING_ATTRIBUTE,
                "'currentPrice.amount' - Attribute requires a value.".to_owned(),
            )),
            (Some(_), Some(_)) if !currency_ok => outcome.errors.push(data_error(
                codes::INVALID_VALUE,
                "'currency' must be USD.".to_owned(),
            )),
            (Some(wpid), Some(price)) => {
                outcome.wpid = Some(wpid);
                self.set_price(sku, price, source, at);
            }
        }
    }

    pub fn feed_summary(&self, feed: &Feed, now: Timestamp) -> FeedSummary {
        let outcomes = feed.outcomes.as_deref().unwrap_or_default();
        let processed = feed.phase(now) == FeedPhase::Processed;
        FeedSummary {
            feed_id: feed.feed_id.clone(),
            feed_type: feed.feed_type.clone(),
            status: feed.phase(now).as_str().to_owned(),
            submitted_at: feed.submitted_at,
            items_received: if feed.outcomes.is_some() {
                outcomes.len()
            } else {
                feed.lines.len()
            },
            items_succeeded: if processed {
                outcomes.iter().filter(|o| o.succeeded()).count()
            } else {
                0
            },
            items_failed: if processed {
                outcomes.iter().filter(|o| !o.succeeded()).count()
            } else {
                0
            },
        }
    }
}

/// A feed item's data error, as Walmart reports it.
fn data_error(code: &'static str, description: String) -> ItemError {
    ItemError {
        kind: "DATA_ERROR",
        code,
        description,
    }
}
