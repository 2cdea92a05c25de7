//! Listings: a Commerce product paired with a Walmart item, and the states Adobe's Channel Manager
//! shows for it (Draft, Processing, Match, Staged for Match, Error).

use serde::{Deserialize, Serialize};

use crate::{
    ChannelId, CommerceProductId, FeedId, Gtin, IllegalTransition, Money, PriceRules, Sku, SpecialPrice,
    Timestamp, Wpid,
};

/// Listing status as the merchant sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListingStatus {
    /// Imported from Commerce, not yet sent to Walmart (or to be sent again after a change).
    Draft,
    /// Sent in an MP_ITEM_MATCH feed; waiting for Walmart's result.
    Processing,
    /// Matched to a Walmart item and published.
    Match,
    /// Matched while the Walmart store is not live yet; published when it goes live.
    StagedForMatch,
    /// Cannot be matched (bad or unknown identifier, missing data, Walmart error). Retried once the
    /// product changes in Commerce.
    Error,
}

impl ListingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ListingStatus::Draft => "draft",
            ListingStatus::Processing => "processing",
            ListingStatus::Match => "match",
            ListingStatus::StagedForMatch => "staged_for_match",
            ListingStatus::Error => "error",
        }
    }

    /// The moves the listing state machine allows.
    pub fn can_become(self, next: ListingStatus) -> bool {
        use ListingStatus::*;
        matches!(
            (self, next),
            (Draft, Processing)
                | (Draft, Error)
                | (Processing, Match)
                | (Processing, StagedForMatch)
                | (Processing, Error)
                | (Processing, Draft)
                | (StagedForMatch, Match)
                | (StagedForMatch, Draft)
                | (Match, Draft)
                | (Error, Draft)
        )
    }
}

/// A per-item problem: Walmart's code (or ours, prefixed `CM_`) and a sentence a merchant can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingIssue {
    pub code: String,
    pub message: String,
}

impl ListingIssue {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
        }
    }
}

/// Walmart's per-item error codes, explained so a merchant can act on them. Walmart's own text
/// follows the explanation, so nothing it said is lost.
pub fn walmart_issue(code: &str, walmart_message: &str) -> ListingIssue {
    let explanation = match code {
        "ERR_EXT_DATA_0101001" => {
            "No Walmart item has this UPC/GTIN. Only existing Walmart items can be matched: check the \
             identifier in Commerce, or set the item up in Seller Center."
        }
        "ERR_EXT_DATA_0801002" => {
            "Walmart rejected the product identifier. Use a 12-digit UPC, 13-digit EAN or 14-digit GTIN \
             with a valid check digit (pad shorter codes with leading zeros)."
        }
        "ERR_EXT_DATA_0801001" => {
            "A value Walmart requires is missing (such as price or shipping weight): fill it in in Commerce."
        }
        "ERR_EXT_DATA_0801003" => {
            "Walmart rejected a value of the item (such as a negative price or quantity): correct it in \
             Commerce."
        }
        "ERR_EXT_DATA_0100001" => "The SKU is not set up on Walmart yet: it must be matched first.",
        "ERR_EXT_DATA_0000001" => "Walmart could not read the feed file the item was sent in.",
        _ => "Walmart rejected the item.",
    };
    let said = walmart_message.trim();
    let message = if said.is_empty() {
        format!("{explanation} ({code})")
    } else {
        format!("{explanation} Walmart says: {said} ({code})")
    };
    ListingIssue::new(code, message)
}

/// The Commerce side of a listing: what was read from the product at import.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductSnapshot {
    pub product_id: CommerceProductId,
    pub name: String,
    /// The raw identifier attribute value, kept even when invalid so the error can quote it.
    pub raw_identifier: Option<String>,
    pub price: Option<Money>,
    pub weight_lb: Option<f64>,
    /// Commerce special price and its window, if the product has one.
    #[serde(default)]
    pub special_price: Option<SpecialPrice>,
    /// Enabled in Commerce.
    pub enabled: bool,
    /// Commerce `updated_at`.
    pub updated_at: Timestamp,
}

impl ProductSnapshot {
    /// The price Walmart should show now, by the channel's rules; `None` without a Commerce price.
    pub fn walmart_price(&self, rules: &PriceRules, now: Timestamp) -> Option<Money> {
        self.price
            .map(|base| rules.walmart_price(base, self.special_price, now))
    }
}

/// A Commerce product ↔ Walmart item pairing and its state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Listing {
    pub channel: ChannelId,
    pub sku: Sku,
    pub product: ProductSnapshot,
    pub gtin: Option<Gtin>,
    pub wpid: Option<Wpid>,
    status: ListingStatus,
    pub issues: Vec<ListingIssue>,
    /// The MP_ITEM_MATCH feed the listing was last sent in.
    pub feed_id: Option<FeedId>,
    pub status_changed_at: Timestamp,
    /// Imported while the channel matches by hand (Adobe's "Match products on Walmart"): a draft
    /// waits until the merchant selects it and sends it to match.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    awaiting_selection: bool,
}

/// Our own issue codes, beside Walmart's.
pub const ISSUE_MISSING_IDENTIFIER: &str = "CM_MISSING_IDENTIFIER";
pub const ISSUE_INVALID_IDENTIFIER: &str = "CM_INVALID_IDENTIFIER";
pub const ISSUE_MISSING_PRICE: &str = "CM_MISSING_PRICE";
pub const ISSUE_MISSING_WEIGHT: &str = "CM_MISSING_WEIGHT";
/// Walmart had a temporary problem with the item; it is sent again.
pub const ISSUE_WALMART_RETRY: &str = "CM_WALMART_RETRY";
/// Walmart's result for the item carries a value the channel does not know, or could not be read.
pub const ISSUE_WALMART_UNREADABLE: &str = "CM_WALMART_UNREADABLE";

impl Listing {
    /// A listing from a freshly read product. Products without a usable identifier or price start in
    /// Error with the reason, rather than failing the import.
    pub fn import(channel: ChannelId, sku: Sku, product: ProductSnapshot, now: Timestamp) -> Self {
        let (gtin, issues) = Self::check_product(&product);
        let status = if issues.is_empty() {
            ListingStatus::Draft
        } else {
            ListingStatus::Error
        };
        Self {
            channel,
            sku,
            product,
            gtin,
            wpid: None,
            status,
            issues,
            feed_id: None,
            status_changed_at: now,
            awaiting_selection: false,
        }
    }

    /// The listing waits for the merchant to select it before it is sent to match (manual match
    /// mode). It keeps waiting through product changes until selected.
    pub fn hold_for_selection(&mut self) {
        self.awaiting_selection = true;
    }

    /// A draft the merchant has not selected for matching yet (listing-match leaves it alone).
    pub fn awaits_selection(&self) -> bool {
        self.awaiting_selection && self.status == ListingStatus::Draft
    }

    /// The merchant selected the listing and sent it to match: a waiting draft becomes an ordinary
    /// draft, counted as new from now (so a partial feed still waits for its neighbours). Returns
    /// whether it was waiting; a listing in Error stays there with its reason but no longer waits.
    pub fn select_for_matching(&mut self, now: Timestamp) -> bool {
        let was_waiting = self.awaits_selection();
        self.awaiting_selection = false;
        if was_waiting {
            self.status_changed_at = now;
        }
        was_waiting
    }

    fn check_product(product: &ProductSnapshot) -> (Option<Gtin>, Vec<ListingIssue>) {
        let mut issues = Vec::new();
        let gtin = match product.raw_identifier.as_deref().map(str::trim) {
            None | Some("") => {
                issues.push(ListingIssue::new(
                    ISSUE_MISSING_IDENTIFIER,
                    "The product has no UPC/GTIN; add one in Commerce to match it on Walmart.",
                ));
                None
            }
            Some(raw) => match Gtin::parse(raw) {
                Ok(g) => Some(g),
                Err(e) => {
                    issues.push(ListingIssue::new(
                        ISSUE_INVALID_IDENTIFIER,
                        format!("The UPC/GTIN {raw:?} is not valid: {}.", e.reason),
                    ));
                    None
                }
            },
        };
        if product.price.is_none() {
            issues.push(ListingIssue::new(
                ISSUE_MISSING_PRICE,
                "The product has no price; Walmart needs one to match the item.",
            ));
        }
        if !product.weight_lb.is_some_and(|w| w.is_finite() && w >= 0.0) {
            issues.push(ListingIssue::new(
                ISSUE_MISSING_WEIGHT,
                "The product has no weight; Walmart needs a shipping weight (in lb) to match the item.",
            ));
        }
        (gtin, issues)
    }

    pub fn status(&self) -> ListingStatus {
        self.status
    }

    fn move_to(&mut self, next: ListingStatus, now: Timestamp) -> Result<(), IllegalTransition> {
        if !self.status.can_become(next) {
            return Err(IllegalTransition::new("listing", self.status, next));
        }
        self.status = next;
        self.status_changed_at = now;
        Ok(())
    }

    /// The product was read again from Commerce. If anything relevant to matching changed, a
    /// matched or failed listing goes back to Draft to be sent again; returns whether to (re)send.
    pub fn product_changed(&mut self, product: ProductSnapshot, now: Timestamp) -> bool {
        let identifier_changed = product.raw_identifier != self.product.raw_identifier;
        let changed = identifier_changed
            || product.updated_at != self.product.updated_at
            || product.price != self.product.price;
        self.product = product;
        let (gtin, issues) = Self::check_product(&self.product);
        match self.status {
            ListingStatus::Error if changed => {
                // Errors from Walmart are retried once the product changes; our own checks first.
                self.gtin = gtin;
                if issues.is_empty() {
                    self.issues.clear();
                    self.status = ListingStatus::Draft;
                    self.status_changed_at = now;
                    true
                } else {
                    self.issues = issues;
                    false
                }
            }
            ListingStatus::Match | ListingStatus::StagedForMatch if identifier_changed => {
                self.gtin = gtin;
                self.wpid = None;
                self.status = if issues.is_empty() {
                    ListingStatus::Draft
                } else {
                    ListingStatus::Error
                };
                self.issues = issues;
                self.status_changed_at = now;
                self.status == ListingStatus::Draft
            }
            ListingStatus::Draft => {
                self.gtin = gtin;
                if !issues.is_empty() {
                    self.issues = issues;
                    self.status = ListingStatus::Error;
                    self.status_changed_at = now;
                }
                self.status == ListingStatus::Draft
            }
            _ => false,
        }
    }

    /// Sent to Walmart in a match feed.
    pub fn submitted(&mut self, feed: FeedId, now: Timestamp) -> Result<(), IllegalTransition> {
        self.move_to(ListingStatus::Processing, now)?;
        self.feed_id = Some(feed);
        self.issues.clear();
        Ok(())
    }

    /// Walmart matched the item. Staged while the store is not live.
    pub fn matched(&mut self, wpid: Wpid, store_live: bool, now: Timestamp) -> Result<(), IllegalTransition> {
        let next = if store_live {
            ListingStatus::Match
        } else {
            ListingStatus::StagedForMatch
        };
        self.move_to(next, now)?;
        self.wpid = Some(wpid);
        Ok(())
    }

    /// Walmart (or our checks) rejected the item.
    pub fn failed(&mut self, issues: Vec<ListingIssue>, now: Timestamp) -> Result<(), IllegalTransition> {
        self.move_to(ListingStatus::Error, now)?;
        self.issues = issues;
        Ok(())
    }

    /// Walmart could not process the item for a reason of its own (system error, timeout): it goes
    /// back to Draft and is sent in the next match feed.
    pub fn requeue(&mut self, issue: ListingIssue, now: Timestamp) -> Result<(), IllegalTransition> {
        self.move_to(ListingStatus::Draft, now)?;
        self.issues = vec![issue];
        Ok(())
    }

    /// The merchant asks to match a failed listing again (after fixing something outside the
    /// product, e.g. on Walmart's side). Our own checks still apply: returns whether it is a Draft now.
    pub fn resubmit(&mut self, now: Timestamp) -> bool {
        // Asking for a match again is a selection.
        self.awaiting_selection = false;
        if self.status != ListingStatus::Error {
            return self.status == ListingStatus::Draft;
        }
        let (gtin, issues) = Self::check_product(&self.product);
        self.gtin = gtin;
        if issues.is_empty() {
            self.issues.clear();
            self.status = ListingStatus::Draft;
            self.status_changed_at = now;
            true
        } else {
            self.issues = issues;
            false
        }
    }

    /// The Walmart store went live: staged matches are published.
    pub fn store_went_live(&mut self, now: Timestamp) -> Result<(), IllegalTransition> {
        self.move_to(ListingStatus::Match, now)
    }

    /// Inventory and price only flow for listings Walmart knows.
    pub fn is_live_on_walmart(&self) -> bool {
        matches!(self.status, ListingStatus::Match | ListingStatus::StagedForMatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(identifier: Option<&str>) -> ProductSnapshot {
        ProductSnapshot {
            product_id: CommerceProductId(7),
            name: "Mug".into(),
            raw_identifier: identifier.map(str::to_owned),
            price: Some(Money::from_cents(999)),
            weight_lb: Some(1.0),
            special_price: None,
            enabled: true,
            updated_at: Timestamp::from_millis(1),
        }
    }

    fn listing(identifier: Option<&str>) -> Listing {
        Listing::import(
            ChannelId::new("main").unwrap(),
            Sku::new("MUG-1").unwrap(),
            product(identifier),
            Timestamp::from_millis(1),
        )
    }

    #[test]
    fn transition_table_allows_only_documented_moves() {
        use ListingStatus::*;
        let all = [Draft, Processing, Match, StagedForMatch, Error];
        let allowed: Vec<_> = all
            .iter()
            .flat_map(|a| all.iter().map(move |b| (*a, *b)))
            .filter(|(a, b)| a.can_become(*b))
            .collect();
        assert_eq!(allowed.len(), 10);
        assert!(
            !Draft.can_become(Match),
            "a listing cannot match without being sent"
        );
        assert!(!Error.can_become(Match));
        assert!(!Match.can_become(Error));
    }

    #[test]
    fn invalid_identifiers_are_listing_errors_not_crashes() {
        let missing = listing(None);
        assert_eq!(missing.status(), ListingStatus::Error);
        assert_eq!(missing.issues[0].code, ISSUE_MISSING_IDENTIFIER);
        let bad = listing(Some("036000291453"));
        assert_eq!(bad.status(), ListingStatus::Error);
        assert!(bad.issues[0].message.contains("check digit"), "{:?}", bad.issues);
        assert_eq!(listing(Some("036000291452")).status(), ListingStatus::Draft);
    }

    #[test]
    fn match_flow_and_illegal_moves() {
        let mut l = listing(Some("036000291452"));
        let now = Timestamp::from_millis(5);
        let wpid = Wpid::new("5RDV1JH9CN2B").unwrap();
        assert!(
            l.matched(wpid.clone(), true, now).is_err(),
            "Draft cannot jump to Match"
        );
        l.submitted(FeedId::new("F1@AQ").unwrap(), now).unwrap();
        assert!(
            l.submitted(FeedId::new("F2").unwrap(), now).is_err(),
            "already processing"
        );
        l.matched(wpid, false, now).unwrap();
        assert_eq!(l.status(), ListingStatus::StagedForMatch);
        l.store_went_live(now).unwrap();
        assert_eq!(l.status(), ListingStatus::Match);
        assert!(l.is_live_on_walmart());
    }

    #[test]
    fn failed_listing_is_retried_when_the_product_changes() {
        let mut l = listing(Some("036000291452"));
        let now = Timestamp::from_millis(5);
        l.submitted(FeedId::new("F1").unwrap(), now).unwrap();
        l.failed(vec![ListingIssue::new("ERR_EXT_DATA_0101", "No match")], now)
            .unwrap();
        assert!(
            !l.product_changed(product(Some("036000291452")), now),
            "unchanged product is not resent"
        );
        assert_eq!(l.status(), ListingStatus::Error);
        let mut l2 = listing(Some("036000291452"));
        l2.submitted(FeedId::new("F1").unwrap(), now).unwrap();
        l2.failed(vec![ListingIssue::new("ERR", "x")], now).unwrap();
        assert!(l2.product_changed(product(Some("4006381333931")), now));
        assert_eq!(l2.status(), ListingStatus::Draft);
        assert!(l2.issues.is_empty());
        // A matched listing whose identifier changes is matched again.
        let mut l3 = listing(Some("036000291452"));
        l3.submitted(FeedId::new("F1").unwrap(), now).unwrap();
        l3.matched(Wpid::new("ABC").unwrap(), true, now).unwrap();
        assert!(
            !l3.product_changed(product(Some("036000291452")), now),
            "nothing relevant changed"
        );
        assert!(l3.product_changed(product(Some("4006381333931")), now));
        assert_eq!(l3.wpid, None);
    }

    #[test]
    fn walmart_system_errors_requeue_and_merchants_can_resubmit() {
        let now = Timestamp::from_millis(5);
        let mut l = listing(Some("036000291452"));
        l.submitted(FeedId::new("F1").unwrap(), now).unwrap();
        l.requeue(ListingIssue::new(ISSUE_WALMART_RETRY, "try again"), now)
            .unwrap();
        assert_eq!(l.status(), ListingStatus::Draft);
        assert!(
            l.requeue(ListingIssue::new("x", "y"), now).is_err(),
            "only from Processing"
        );
        l.submitted(FeedId::new("F2").unwrap(), now).unwrap();
        l.failed(vec![walmart_issue("ERR_EXT_DATA_0101001", "No match.")], now)
            .unwrap();
        assert!(l.resubmit(now));
        assert_eq!(l.status(), ListingStatus::Draft);
        let mut no_weight = listing(Some("036000291452"));
        assert_eq!(no_weight.status(), ListingStatus::Draft);
        no_weight.product.weight_lb = None;
        no_weight.submitted(FeedId::new("F3").unwrap(), now).unwrap();
        no_weight.failed(Vec::new(), now).unwrap();
        assert!(!no_weight.resubmit(now), "our own check fails first");
        assert_eq!(no_weight.issues[0].code, ISSUE_MISSING_WEIGHT);
    }

    #[test]
    fn walmart_codes_become_readable_reasons_keeping_walmarts_words() {
        let issue = walmart_issue(
            "ERR_EXT_DATA_0101001",
            "No Walmart item matches product id 036000291452.",
        );
        assert_eq!(issue.code, "ERR_EXT_DATA_0101001");
        assert!(
            issue.message.starts_with("No Walmart item has this UPC/GTIN"),
            "{}",
            issue.message
        );
        assert!(issue.message.contains("036000291452"));
        let unknown = walmart_issue("ERR_NEW", " ");
        assert_eq!(unknown.message, "Walmart rejected the item. (ERR_NEW)");
    }

    #[test]
    fn snapshot_price_follows_the_rules_and_special_price() {
        let mut p = product(Some("036000291452"));
        p.special_price = Some(SpecialPrice {
            price: Money::from_cents(500),
            from: None,
            to: Some(Timestamp::from_millis(10)),
        });
        let rules = PriceRules::default();
        assert_eq!(
            p.walmart_price(&rules, Timestamp::from_millis(5)),
            Some(Money::from_cents(500))
        );
        assert_eq!(
            p.walmart_price(&rules, Timestamp::from_millis(50)),
            Some(Money::from_cents(999))
        );
        p.price = None;
        assert_eq!(p.walmart_price(&rules, Timestamp::from_millis(5)), None);
    }
}
