//! Commerce's sales data in the channel's terms: what the Commerce port hands out of an order's
//! items (whole unit counts, money, SKUs), and the pure rules over it.

use serde::{Deserialize, Serialize};

use crate::{LineNumber, LineQuantity, Money, OrderRecord, Sku};

/// One item of a Commerce order. Quantities are whole units: the channel places whole Walmart
/// units, and the Commerce client refuses an order whose quantities are not whole counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommerceOrderItem {
    pub item_id: Option<u64>,
    /// `None` when the item's SKU is not one the channel can carry.
    pub sku: Option<Sku>,
    /// Set on the child item of a configurable product (the parent carries the quantities).
    pub parent_item_id: Option<u64>,
    pub price: Option<Money>,
    pub qty_ordered: u32,
    pub qty_invoiced: u32,
    pub qty_shipped: u32,
    pub qty_canceled: u32,
    pub qty_refunded: u32,
}

impl CommerceOrderItem {
    /// Units shipped but not invoiced yet, that may still be invoiced (never more than what is
    /// ordered and neither invoiced nor cancelled).
    pub fn invoiceable_shipped(&self) -> u32 {
        let uninvoiced_shipped = self.qty_shipped.saturating_sub(self.qty_invoiced);
        let invoiceable = self
            .qty_ordered
            .saturating_sub(self.qty_invoiced)
            .saturating_sub(self.qty_canceled);
        uninvoiced_shipped.min(invoiceable)
    }
}

/// Units of each line Commerce cancelled that the record does not know as cancelled in Commerce:
/// per order item, its cancelled quantity less what the record counts (its Walmart cancellations
/// not yet reflected in Commerce excluded), spread over the item's open lines in line order.
pub fn cancelled_in_commerce_only(record: &OrderRecord, items: &[CommerceOrderItem]) -> Vec<LineQuantity> {
    let mut out = Vec::new();
    for item in items.iter().filter(|i| i.parent_item_id.is_none()) {
        if item.qty_canceled == 0 {
            continue;
        }
        let lines = record.lines_of_item(item.item_id, item.sku.as_ref());
        let known: u32 = lines
            .iter()
            .filter_map(|n| record.line(*n))
            .map(|l| l.cancelled - l.cancel_pending_in_commerce)
            .sum();
        let mut left = item.qty_canceled.saturating_sub(known);
        for number in lines {
            if left == 0 {
                break;
            }
            let open = record.line(number).map_or(0, |l| l.open());
            let take = open.min(left);
            if take > 0 {
                out.push(LineQuantity {
                    line: number,
                    quantity: take,
                });
                left -= take;
            }
        }
    }
    out
}

/// Units of one purchase-order line as Walmart shows them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WalmartLineUnits {
    /// Created or acknowledged: still cancellable.
    pub open: u32,
    pub cancelled: u32,
}

/// What to do on Walmart with units cancelled in Commerce.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WalmartCancellationPlan {
    /// Units still open on Walmart: to cancel there.
    pub to_send: Vec<LineQuantity>,
    /// Units to record as cancelled on Walmart: those sent, and those Walmart shows cancelled
    /// already that the record does not count.
    pub to_record: Vec<LineQuantity>,
    /// Why some units cannot be cancelled on Walmart (it shows them shipped), when some cannot.
    pub stranded: Option<String>,
}

/// Splits the wanted cancellations: units still open on Walmart are sent; units Walmart already
/// shows cancelled are only recorded; units Walmart shows shipped cannot be cancelled (reported).
pub fn plan_walmart_cancellation(
    record: &OrderRecord,
    on_walmart: impl Fn(LineNumber) -> WalmartLineUnits,
    wanted: &[LineQuantity],
) -> WalmartCancellationPlan {
    let mut plan = WalmartCancellationPlan::default();
    let mut stranded = Vec::new();
    for w in wanted {
        let there = on_walmart(w.line);
        let recorded = record.line(w.line).map_or(0, |l| l.cancelled);
        let send = w.quantity.min(there.open);
        let already = there.cancelled.saturating_sub(recorded).min(w.quantity - send);
        if send > 0 {
            plan.to_send.push(LineQuantity {
                line: w.line,
                quantity: send,
            });
        }
        if send + already > 0 {
            plan.to_record.push(LineQuantity {
                line: w.line,
                quantity: send + already,
            });
        }
        let missing = w.quantity - send - already;
        if missing > 0 {
            stranded.push(format!("line {}: {missing} unit(s)", w.line));
        }
    }
    plan.stranded = (!stranded.is_empty()).then(|| {
        format!(
            "cancelled in Commerce but shipped on Walmart, so not cancellable there: {}",
            stranded.join(", ")
        )
    });
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{created_record, purchase_order};
    use crate::{Timestamp, WalmartLineStatus};

    fn record() -> OrderRecord {
        let order = purchase_order(
            &[(1, "A", 2), (2, "B", 1), (3, "A", 1)],
            100,
            WalmartLineStatus::Created,
            "Standard",
        );
        created_record(order, &[(1, 70), (2, 80), (3, 70)])
    }

    fn item(id: u64, sku: &str, ordered: u32, cancelled: u32) -> CommerceOrderItem {
        CommerceOrderItem {
            item_id: Some(id),
            sku: Sku::new(sku).ok(),
            qty_ordered: ordered,
            qty_canceled: cancelled,
            ..CommerceOrderItem::default()
        }
    }

    #[test]
    fn commerce_cancellations_spread_over_lines_sharing_an_item() {
        let r = record();
        let wanted = cancelled_in_commerce_only(&r, &[item(70, "A", 3, 3), item(80, "B", 1, 0)]);
        assert_eq!(
            wanted,
            vec![
                LineQuantity {
                    line: LineNumber(1),
                    quantity: 2
                },
                LineQuantity {
                    line: LineNumber(3),
                    quantity: 1
                },
            ]
        );
    }

    #[test]
    fn walmart_cancellations_noted_in_commerce_are_not_sent_back() {
        let now = Timestamp::from_millis(2);
        let mut r = record();
        // The buyer cancelled one unit of line 1 on Walmart; reflected by a comment only.
        r.cancelled_on_walmart(LineNumber(1), 1, now).unwrap();
        assert!(cancelled_in_commerce_only(&r, &[item(70, "A", 3, 0)]).is_empty());
        r.cancellations_reflected(Some("noted".into()), now);
        // Later the merchant cancels the whole Commerce order: 3 units of item 70, one of which
        // Walmart cancelled already.
        let wanted = cancelled_in_commerce_only(&r, &[item(70, "A", 3, 3), item(80, "B", 1, 1)]);
        assert_eq!(
            wanted,
            vec![
                LineQuantity {
                    line: LineNumber(1),
                    quantity: 1
                },
                LineQuantity {
                    line: LineNumber(3),
                    quantity: 1
                },
                LineQuantity {
                    line: LineNumber(2),
                    quantity: 1
                },
            ]
        );
        // Reflected by cancelling the Commerce order: nothing comes back.
        let mut whole = record();
        whole.cancelled_on_walmart(LineNumber(2), 1, now).unwrap();
        whole.cancellations_reflected(None, now);
        assert!(cancelled_in_commerce_only(&whole, &[item(80, "B", 1, 1)]).is_empty());
    }

    #[test]
    fn plan_sends_open_units_records_already_cancelled_and_reports_shipped() {
        let r = record();
        let lq = |line: u32, quantity: u32| LineQuantity {
            line: LineNumber(line),
            quantity,
        };
        let on_walmart = |line: LineNumber| match line.0 {
            // Line 1: one unit acknowledged, one cancelled by Walmart; line 2 shipped.
            1 => WalmartLineUnits {
                open: 1,
                cancelled: 1,
            },
            3 => WalmartLineUnits {
                open: 1,
                cancelled: 0,
            },
            _ => WalmartLineUnits::default(),
        };
        let plan = plan_walmart_cancellation(&r, on_walmart, &[lq(1, 2), lq(2, 1), lq(3, 1)]);
        assert_eq!(plan.to_send, [lq(1, 1), lq(3, 1)]);
        assert_eq!(plan.to_record, [lq(1, 2), lq(3, 1)]);
        assert_eq!(
            plan.stranded.as_deref(),
            Some("cancelled in Commerce but shipped on Walmart, so not cancellable there: line 2: 1 unit(s)")
        );
    }

    #[test]
    fn only_whole_units_shipped_but_not_invoiced_are_invoiceable() {
        let item = CommerceOrderItem {
            qty_ordered: 4,
            qty_shipped: 3,
            qty_invoiced: 1,
            qty_canceled: 1,
            ..CommerceOrderItem::default()
        };
        assert_eq!(item.invoiceable_shipped(), 2);
        let over = CommerceOrderItem {
            qty_canceled: 3,
            ..item
        };
        assert_eq!(over.invoiceable_shipped(), 0);
    }
}
