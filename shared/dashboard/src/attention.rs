//! What needs the merchant ([`Attention`], from the overview), worded as a plain sentence in the
//! page's language. Operations keep Adobe's names in each language ([`Lang::operation`]); ids,
//! Walmart's call names and reasons from the other side stay as they are.

use domain::{FeedKind, Operation};
use operations::dashboard::overview::Attention;

use crate::i18n::Lang;

impl Lang {
    /// The item as one sentence in this language.
    pub fn attention(self, item: &Attention) -> String {
        match self {
            Lang::En => english(item),
            Lang::Sv => swedish(item),
        }
    }

    fn feed_kind(self, kind: FeedKind) -> &'static str {
        match (self, kind) {
            (Lang::En, FeedKind::ItemMatch) => "item match",
            (Lang::En, FeedKind::Inventory) => "inventory",
            (Lang::En, FeedKind::Price) => "price",
            (Lang::Sv, FeedKind::ItemMatch) => "artikelmatchnings",
            (Lang::Sv, FeedKind::Inventory) => "lager",
            (Lang::Sv, FeedKind::Price) => "pris",
        }
    }
}

/// Order-create's documented delay in whole minutes, for the orders not created in time.
fn order_create_minutes() -> u64 {
    Operation::OrderCreate.target_delay().as_secs() / 60
}

fn english(item: &Attention) -> String {
    let lang = Lang::En;
    match item {
        Attention::ConfigurationError { problem, .. } => format!(
            "The Commerce store is not set up as the channel needs, so every operation is stopped: {problem}"
        ),
        Attention::PushSubscription { problem } => format!(
            "Walmart's order notifications do not reach the channel ({problem}): orders still come by the regular polls, within the documented delays, but not in seconds."
        ),
        Attention::Paused { operation, by, since } => format!(
            "{} is paused (by {by} since {}); resume it to sync again.",
            lang.operation(*operation),
            since.to_rfc3339()
        ),
        Attention::StuckFeed {
            feed_id,
            kind,
            submitted_at,
        } => format!(
            "Walmart has not finished the {} feed {feed_id} sent at {}; it is still polled. Check it in Seller Center.",
            lang.feed_kind(*kind),
            submitted_at.to_rfc3339()
        ),
        Attention::Throttled { call, until } => format!(
            "Walmart's limit for {} is used up{}; those updates wait until then.",
            call.as_str(),
            until
                .map(|u| format!(" until {}", u.to_rfc3339()))
                .unwrap_or_default()
        ),
        Attention::DeadLetters { queue, count } => format!(
            "{count} message(s) of {} failed repeatedly and wait in its dead-letter queue: fix the cause, then re-drive them.",
            queue.as_str()
        ),
        Attention::Failing {
            operation,
            failures,
            last_reason,
        } => format!(
            "{} failed {failures} time(s) in the last 24 hours{}.",
            lang.operation(*operation),
            last_reason
                .as_ref()
                .map(|r| format!(", last: {r}"))
                .unwrap_or_default()
        ),
        Attention::OrdersNotCreated { count } => format!(
            "{count} Walmart order(s) are not in Commerce yet, later than the documented {} minutes.",
            order_create_minutes()
        ),
        Attention::OrdersInError { count } => {
            format!("{count} order(s) are in Error: open them to see why, and retry.")
        }
        Attention::DraftsAwaitingSelection { count } => {
            format!("{count} imported product(s) wait for you to select them and send them to match.")
        }
    }
}

fn swedish(item: &Attention) -> String {
    let lang = Lang::Sv;
    match item {
        Attention::ConfigurationError { problem, .. } => format!(
            "Commerce-butiken är inte inställd som kanalen behöver, så alla åtgärder har stoppats: {problem}"
        ),
        Attention::PushSubscription { problem } => format!(
            "Walmarts ordernotiser når inte kanalen ({problem}): order hämtas ändå med de schemalagda körningarna, inom de dokumenterade tiderna, men inte på sekunder."
        ),
        Attention::Paused { operation, by, since } => format!(
            "{} är pausad (av {by} sedan {}); återuppta den för att synka igen.",
            lang.operation(*operation),
            since.to_rfc3339()
        ),
        Attention::StuckFeed {
            feed_id,
            kind,
            submitted_at,
        } => format!(
            "Walmart har inte bearbetat klart {}flödet {feed_id} som skickades {}; det kontrolleras fortfarande. Se efter i Seller Center.",
            lang.feed_kind(*kind),
            submitted_at.to_rfc3339()
        ),
        Attention::Throttled { call, until } => format!(
            "Walmarts gräns för {} är förbrukad{}; de uppdateringarna väntar till dess.",
            call.as_str(),
            until
                .map(|u| format!(" till {}", u.to_rfc3339()))
                .unwrap_or_default()
        ),
        Attention::DeadLetters { queue, count } => format!(
            "{count} meddelande(n) i {} misslyckades upprepade gånger och väntar bland de döda meddelandena: åtgärda orsaken och skicka dem sedan igen.",
            queue.as_str()
        ),
        Attention::Failing {
            operation,
            failures,
            last_reason,
        } => format!(
            "{} misslyckades {failures} gång(er) de senaste 24 timmarna{}.",
            lang.operation(*operation),
            last_reason
                .as_ref()
                .map(|r| format!(", senast: {r}"))
                .unwrap_or_default()
        ),
        Attention::OrdersNotCreated { count } => format!(
            "{count} Walmart-order finns inte i Commerce än, senare än de dokumenterade {} minuterna.",
            order_create_minutes()
        ),
        Attention::OrdersInError { count } => {
            format!("{count} order har status Fel: öppna dem för att se varför och försök igen.")
        }
        Attention::DraftsAwaitingSelection { count } => format!(
            "{count} importerade produkt(er) väntar på att du väljer dem och skickar dem till matchning."
        ),
    }
}

#[cfg(test)]
mod tests {
    use domain::{BudgetedCall, Timestamp};
    use ports::QueueName;

    use super::*;

    fn every_kind() -> Vec<Attention> {
        let at = Timestamp::from_millis(1_796_000_000_000);
        vec![
            Attention::ConfigurationError {
                problem: "no Walmart payment method".into(),
                since: Some(at),
            },
            Attention::Paused {
                operation: Operation::InventorySync,
                by: "merchant".into(),
                since: at,
            },
            Attention::PushSubscription {
                problem: "Walmart's test notification failed".into(),
            },
            Attention::StuckFeed {
                feed_id: "F1".into(),
                kind: FeedKind::Inventory,
                submitted_at: at,
            },
            Attention::Throttled {
                call: BudgetedCall::PriceFeed,
                until: Some(at),
            },
            Attention::DeadLetters {
                queue: QueueName::ALL[0],
                count: 2,
            },
            Attention::Failing {
                operation: Operation::PriceSync,
                failures: 3,
                last_reason: Some("timeout".into()),
            },
            Attention::OrdersNotCreated { count: 1 },
            Attention::OrdersInError { count: 4 },
            Attention::DraftsAwaitingSelection { count: 5 },
        ]
    }

    #[test]
    fn every_item_has_its_own_swedish_sentence() {
        for item in every_kind() {
            let (en, sv) = (Lang::En.attention(&item), Lang::Sv.attention(&item));
            assert_ne!(en, sv, "{item:?} has no Swedish");
            assert!(!sv.is_empty() && !en.is_empty());
        }
    }

    #[test]
    fn sentences_name_the_operation_in_the_pages_language() {
        let paused = &every_kind()[1];
        assert!(
            Lang::En
                .attention(paused)
                .starts_with("Inventory updates is paused (by merchant")
        );
        assert!(
            Lang::Sv
                .attention(paused)
                .starts_with("Lageruppdateringar är pausad (av merchant")
        );
        let late = Attention::OrdersNotCreated { count: 2 };
        assert!(Lang::En.attention(&late).contains("the documented 5 minutes"));
        assert!(Lang::Sv.attention(&late).contains("de dokumenterade 5 minuterna"));
    }
}
