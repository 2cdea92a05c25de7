//! Each order's story, step by step: the merchant ships (sometimes in two parts), cancels or
//! refunds a return; the buyer cancels or returns. A story waits on the channel (its Commerce order,
//! Walmart showing it shipped, its return in Commerce) or on the script's own clock.

use std::collections::BTreeMap;

use commerce_client::wire::{CreditMemo, Order as CommerceOrder, Rma, Shipment};
use commerce_sandbox::{RefundRequest, ShipLine, TrackInput};
use domain::Timestamp;
use rand::seq::IndexedRandom;
use serde::{Deserialize, Serialize};
use walmart_sandbox::{BuyerCancellation, LineQuantitySpec, NewReturn};

use super::journal::{
    BuyerCancelled, MerchantCancelled, OrderPlaced, RefundMade, ReturnOpened, ShipmentMade,
};
use super::{Scenario, ScenarioError, Story, decode_all};

/// Where an order's story stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// Waiting for the channel to create the Commerce order.
    AwaitCommerceOrder,
    /// The merchant (or buyer) acts at `at`.
    Act {
        at: Timestamp,
    },
    /// The second shipment of a two-part story goes out at `at`.
    ShipRest {
        at: Timestamp,
    },
    /// Waiting for Walmart to show every unit shipped.
    AwaitShippedOnWalmart,
    /// The buyer opens a return at `at`.
    OpenReturn {
        at: Timestamp,
    },
    /// Waiting for the channel to bring the return into Commerce.
    AwaitReturnInCommerce {
        return_order_id: String,
    },
    /// The merchant refunds the returned unit at `at`.
    Refund {
        at: Timestamp,
        return_order_id: String,
    },
    Done,
}

impl Step {
    /// What a story in this step waits for, for the summary of unfinished stories.
    pub fn waiting_for(&self) -> &'static str {
        match self {
            Step::AwaitCommerceOrder => "its Commerce order",
            Step::Act { .. } | Step::ShipRest { .. } | Step::OpenReturn { .. } | Step::Refund { .. } => {
                "its next scripted action"
            }
            Step::AwaitShippedOnWalmart => "Walmart to show it shipped",
            Step::AwaitReturnInCommerce { .. } => "its return in Commerce",
            Step::Done => "nothing",
        }
    }

    /// Waiting on the channel (as opposed to on the script's own clock).
    pub fn waits_on_channel(&self) -> bool {
        matches!(
            self,
            Step::AwaitCommerceOrder | Step::AwaitShippedOnWalmart | Step::AwaitReturnInCommerce { .. }
        )
    }
}

/// One order's story in progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoryProgress {
    pub purchase_order_id: String,
    pub story: Story,
    pub commerce_order_id: Option<u64>,
    pub step: Step,
    pub since: Timestamp,
}

impl Scenario {
    pub(super) async fn advance_stories(&mut self, now: Timestamp) -> Result<(), ScenarioError> {
        let waiting = |pred: fn(&Step) -> bool| self.stories.values().any(|s| pred(&s.step));
        let commerce_orders = if waiting(|s| matches!(s, Step::AwaitCommerceOrder)) {
            decode_all::<CommerceOrder>(self.commerce.orders().await?)?
        } else {
            Vec::new()
        };
        let walmart_shipped = if waiting(|s| matches!(s, Step::AwaitShippedOnWalmart)) {
            let mut shipped: BTreeMap<String, u32> = BTreeMap::new();
            for s in self.walmart.received().await?.shipments {
                *shipped.entry(s.purchase_order_id).or_default() += s.quantity;
            }
            shipped
        } else {
            BTreeMap::new()
        };
        let rmas = if waiting(|s| matches!(s, Step::AwaitReturnInCommerce { .. })) {
            decode_all::<Rma>(self.commerce.returns().await?)?
        } else {
            Vec::new()
        };

        let pos: Vec<String> = self.stories.keys().cloned().collect();
        for po in pos {
            let Some(progress) = self.stories.get(&po).cloned() else {
                continue;
            };
            let now = self.action_time(now);
            let next = match self
                .next_step(&progress, now, &commerce_orders, &walmart_shipped, &rmas)
                .await
            {
                Ok(next) => next,
                Err(refused) => {
                    self.journal
                        .refused_actions
                        .push(format!("PO {po} ({:?}): {refused}", progress.story));
                    Some(Step::Done)
                }
            };
            if let Some(step) = next
                && let Some(p) = self.stories.get_mut(&po)
            {
                p.step = step;
                p.since = now;
            }
        }
        Ok(())
    }

    /// The story's next step, if it moves now. A sandbox refusing the action is an `Err` with the
    /// reason; the story then ends.
    async fn next_step(
        &mut self,
        progress: &StoryProgress,
        now: Timestamp,
        commerce_orders: &[CommerceOrder],
        walmart_shipped: &BTreeMap<String, u32>,
        rmas: &[Rma],
    ) -> Result<Option<Step>, String> {
        let po = progress.purchase_order_id.as_str();
        match &progress.step {
            Step::AwaitCommerceOrder => Ok(self.commerce_order_created(po, commerce_orders, now)),
            Step::Act { at } if *at <= now => self.act(progress, now).await.map(Some),
            Step::ShipRest { at } if *at <= now => {
                let (order_id, order) = self.placed_order(progress)?;
                let (_, rest) = split_shipments(&order);
                self.ship(po, order_id, rest, true, now).await?;
                Ok(Some(Step::Done))
            }
            Step::AwaitShippedOnWalmart => Ok(self.shipped_on_walmart(po, walmart_shipped, now)),
            Step::OpenReturn { at } if *at <= now => self.open_return(po, now).await.map(Some),
            Step::AwaitReturnInCommerce { return_order_id } => {
                let order_id = progress.commerce_order_id.ok_or("no Commerce order")?;
                if !rmas.iter().any(|r| r.order_id == order_id) {
                    return Ok(None);
                }
                Ok(Some(Step::Refund {
                    at: now.plus(self.reaction()),
                    return_order_id: return_order_id.clone(),
                }))
            }
            Step::Refund { at, return_order_id } if *at <= now => {
                self.refund_return(progress, return_order_id, now).await.map(Some)
            }
            _ => Ok(None),
        }
    }

    /// The story's Commerce order and its placed order, for a step that acts on both.
    fn placed_order(&self, progress: &StoryProgress) -> Result<(u64, OrderPlaced), String> {
        let order_id = progress.commerce_order_id.ok_or("no Commerce order")?;
        let order = self
            .journal
            .order(&progress.purchase_order_id)
            .cloned()
            .ok_or("order not in the journal")?;
        Ok((order_id, order))
    }

    /// Once the channel has created the Commerce order, the merchant (or buyer) acts a little later.
    fn commerce_order_created(
        &mut self,
        po: &str,
        commerce_orders: &[CommerceOrder],
        now: Timestamp,
    ) -> Option<Step> {
        let order_id = commerce_orders
            .iter()
            .find(|o| o.po_number() == Some(po))
            .and_then(|o| o.entity_id)?;
        if let Some(p) = self.stories.get_mut(po) {
            p.commerce_order_id = Some(order_id);
        }
        Some(Step::Act {
            at: now.plus(self.reaction()),
        })
    }

    /// The story's first action: ship, ship a first part, or cancel (merchant or buyer).
    async fn act(&mut self, progress: &StoryProgress, now: Timestamp) -> Result<Step, String> {
        let po = progress.purchase_order_id.as_str();
        let (order_id, order) = self.placed_order(progress)?;
        match progress.story {
            Story::Ship | Story::ReturnAndRefund => {
                let items = order.lines.iter().map(|l| (l.sku.clone(), l.quantity)).collect();
                self.ship(po, order_id, items, true, now).await?;
                Ok(if progress.story == Story::Ship {
                    Step::Done
                } else {
                    Step::AwaitShippedOnWalmart
                })
            }
            Story::ShipInTwo => {
                let (first, _) = split_shipments(&order);
                self.ship(po, order_id, first, false, now).await?;
                Ok(Step::ShipRest {
                    at: now.plus(self.reaction()),
                })
            }
            Story::MerchantCancel => self.merchant_cancel(po, order_id, now).await,
            Story::BuyerCancel => self.buyer_cancel(po, &order, now).await,
        }
    }

    /// The merchant cancels the order in Commerce.
    async fn merchant_cancel(&mut self, po: &str, order_id: u64, now: Timestamp) -> Result<Step, String> {
        let canceled = self.commerce.cancel(order_id).await.map_err(|e| e.to_string())?;
        self.journal.merchant_cancellations.push(MerchantCancelled {
            purchase_order_id: po.to_owned(),
            commerce_order_id: order_id,
            canceled,
            at: now,
        });
        if !canceled {
            return Err("Commerce would not cancel the order".into());
        }
        Ok(Step::Done)
    }

    /// The buyer cancels every line of the order on Walmart.
    async fn buyer_cancel(&mut self, po: &str, order: &OrderPlaced, now: Timestamp) -> Result<Step, String> {
        let lines: Vec<(u32, u32)> = order.lines.iter().map(|l| (l.line, l.quantity)).collect();
        self.walmart
            .cancel_as_buyer(
                po,
                &BuyerCancellation {
                    lines: lines
                        .iter()
                        .map(|(line, quantity)| LineQuantitySpec {
                            line: *line,
                            quantity: *quantity,
                        })
                        .collect(),
                    // Walmart lets no buyer cancel a released order outright: what the channel
                    // sees cancelled there is an auto-cancellation, which Walmart announces
                    // (PO_LINE_AUTOCANCELLED).
                    reason: "AUTO_CANCEL".to_owned(),
                },
            )
            .await
            .map_err(|e| e.to_string())?;
        self.journal.buyer_cancellations.push(BuyerCancelled {
            purchase_order_id: po.to_owned(),
            lines,
            at: now,
        });
        Ok(Step::Done)
    }

    /// Once Walmart shows every unit shipped, the buyer opens a return a little later.
    fn shipped_on_walmart(
        &mut self,
        po: &str,
        walmart_shipped: &BTreeMap<String, u32>,
        now: Timestamp,
    ) -> Option<Step> {
        let ordered: u32 = self
            .journal
            .order(po)
            .map_or(0, |o| o.lines.iter().map(|l| l.quantity).sum());
        if walmart_shipped.get(po).copied().unwrap_or(0) < ordered {
            return None;
        }
        Some(Step::OpenReturn {
            at: now.plus(self.reaction()),
        })
    }

    /// The buyer returns one unit of line 1 on Walmart.
    async fn open_return(&mut self, po: &str, now: Timestamp) -> Result<Step, String> {
        let lines = vec![(1u32, 1u32)];
        let created = self
            .walmart
            .create_return(&NewReturn {
                purchase_order_id: po.to_owned(),
                lines: lines
                    .iter()
                    .map(|(line, quantity)| LineQuantitySpec {
                        line: *line,
                        quantity: *quantity,
                    })
                    .collect(),
                reason: "CUSTOMER_CHANGED_MIND".to_owned(),
            })
            .await
            .map_err(|e| e.to_string())?;
        self.journal.returns.push(ReturnOpened {
            purchase_order_id: po.to_owned(),
            return_order_id: created.return_order_id.clone(),
            lines,
            at: now,
        });
        Ok(Step::AwaitReturnInCommerce {
            return_order_id: created.return_order_id,
        })
    }

    /// The merchant refunds the returned unit in Commerce, with a credit memo.
    async fn refund_return(
        &mut self,
        progress: &StoryProgress,
        return_order_id: &str,
        now: Timestamp,
    ) -> Result<Step, String> {
        let po = progress.purchase_order_id.as_str();
        let (order_id, order) = self.placed_order(progress)?;
        let sku = order.sku_of_line(1).ok_or("order has no line 1")?.to_owned();
        let memo = self
            .commerce
            .refund(
                order_id,
                &RefundRequest {
                    items: vec![ShipLine {
                        sku: Some(sku.clone()),
                        order_item_id: None,
                        qty: 1.0,
                    }],
                    shipping_amount: Some(0.0),
                    adjustment_positive: 0.0,
                    adjustment_negative: 0.0,
                    return_to_stock: true,
                    comment: Some(format!("Walmart return {return_order_id}")),
                },
            )
            .await
            .map_err(|e| e.to_string())?;
        let memo: CreditMemo = serde_json::from_value(memo).map_err(|e| e.to_string())?;
        self.journal.refunds.push(RefundMade {
            purchase_order_id: po.to_owned(),
            commerce_order_id: order_id,
            credit_memo_id: memo.entity_id.unwrap_or_default(),
            return_order_id: return_order_id.to_owned(),
            items: vec![(sku, 1)],
            at: now,
        });
        Ok(Step::Done)
    }

    async fn ship(
        &mut self,
        po: &str,
        order_id: u64,
        items: Vec<(String, u32)>,
        invoice: bool,
        now: Timestamp,
    ) -> Result<(), String> {
        self.tracking_serial += 1;
        let (carrier_code, title) = [
            ("ups", "United Parcel Service"),
            ("usps", "United States Postal Service"),
            ("fedex", "Federal Express"),
            ("dhl", "DHL"),
            ("custom", "OnTrac"),
        ]
        .choose(&mut self.rng)
        .copied()
        .unwrap_or(("ups", "United Parcel Service"));
        let track_number = match carrier_code {
            "ups" => format!("1Z999AA1{:010}", self.tracking_serial),
            _ => format!("9400{:016}", self.tracking_serial),
        };
        let shipment = self
            .commerce
            .ship(
                order_id,
                items
                    .iter()
                    .map(|(sku, qty)| ShipLine {
                        sku: Some(sku.clone()),
                        order_item_id: None,
                        qty: f64::from(*qty),
                    })
                    .collect(),
                TrackInput {
                    carrier_code: carrier_code.to_owned(),
                    title: title.to_owned(),
                    number: track_number.clone(),
                },
                invoice,
            )
            .await
            .map_err(|e| e.to_string())?;
        let shipment: Shipment = serde_json::from_value(shipment).map_err(|e| e.to_string())?;
        self.journal.shipments.push(ShipmentMade {
            purchase_order_id: po.to_owned(),
            commerce_order_id: order_id,
            shipment_id: shipment.entity_id.unwrap_or_default(),
            track_number,
            carrier_code: carrier_code.to_owned(),
            items,
            at: now,
        });
        Ok(())
    }
}

/// (sku, quantity) pairs of a shipment or refund.
type SkuQuantities = Vec<(String, u32)>;

/// A two-part shipment: the first line, then the rest; a one-line order ships one unit, then the
/// rest.
fn split_shipments(order: &OrderPlaced) -> (SkuQuantities, SkuQuantities) {
    let mut first = Vec::new();
    let mut rest = Vec::new();
    match order.lines.as_slice() {
        [only] if only.quantity > 1 => {
            first.push((only.sku.clone(), 1));
            rest.push((only.sku.clone(), only.quantity - 1));
        }
        [head, tail @ ..] if !tail.is_empty() => {
            first.push((head.sku.clone(), head.quantity));
            rest.extend(tail.iter().map(|l| (l.sku.clone(), l.quantity)));
        }
        lines => first.extend(lines.iter().map(|l| (l.sku.clone(), l.quantity))),
    }
    (first, rest)
}

#[cfg(test)]
mod tests {
    use domain::Money;

    use super::*;
    use crate::scenario::journal::PlacedLine;

    fn order(lines: &[(u32, &str, u32)]) -> OrderPlaced {
        OrderPlaced {
            purchase_order_id: "1".into(),
            customer_order_id: "2".into(),
            story: Story::ShipInTwo,
            lines: lines
                .iter()
                .map(|(line, sku, quantity)| PlacedLine {
                    line: *line,
                    sku: (*sku).to_owned(),
                    quantity: *quantity,
                    unit_price: Money::from_cents(100),
                })
                .collect(),
            at: Timestamp::from_millis(0),
        }
    }

    #[test]
    fn two_part_shipments_split_lines_or_units() {
        let (first, rest) = split_shipments(&order(&[(1, "A", 2)]));
        assert_eq!(first, vec![("A".to_owned(), 1)]);
        assert_eq!(rest, vec![("A".to_owned(), 1)]);
        let (first, rest) = split_shipments(&order(&[(1, "A", 2), (2, "B", 1)]));
        assert_eq!(first, vec![("A".to_owned(), 2)]);
        assert_eq!(rest, vec![("B".to_owned(), 1)]);
        let (first, rest) = split_shipments(&order(&[(1, "A", 1)]));
        assert_eq!(first, vec![("A".to_owned(), 1)]);
        assert!(rest.is_empty());
    }
}
