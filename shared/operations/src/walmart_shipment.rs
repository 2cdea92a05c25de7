//! One Commerce shipment sent to Walmart once, and invoiced in Commerce: the step shipment-sync runs
//! for each shipment it reads, and order-create for the shipments a late-linked order already has
//! (see `shipment_sync` for the whole story: claim, record before the call, check Walmart after an
//! ambiguous answer, lines marked shipped with the shipment, invoice).

use std::time::Duration;

use domain::{
    Carrier, CommerceOrderLink, CommerceShipmentId, Delivery, LineNumber, LineQuantity, OrderRecord,
    OrderSettings, PurchaseOrderId, ShipmentRecord, Sku, SyncTask, Timestamp, Tracking,
};
use ports::commerce::model::{ItemQuantity, Order, Shipment, ShipmentTrack};
use ports::records::order_pk;
use ports::walmart::{LineState, ShipLine};
use ports::{Deadline, Key, PageRequest, Records, Versioned};
use walmart_client::api::orders::KNOWN_CARRIERS;

use crate::claim::{ClaimKind, Lease, OnceOutcome};
use crate::dashboard::purchase_order_of;
use crate::order_support::{RACE_ATTEMPTS, caused_by_request, recorded_order, save_both};
use crate::{Channel, OpError, order_support};

/// Re-read before each cursor: clock skew between us and the store, and slow commits.
pub(crate) const OVERLAP: Duration = Duration::from_secs(10 * 60);
pub(crate) const PAGE_SIZE: u32 = 100;

/// What became of one Commerce shipment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShipmentOutcome {
    Sent {
        units: u32,
    },
    AlreadySent,
    /// Not a shipment of a channel order.
    NotChannel,
    /// No tracking number yet (a shipment of this purchase order).
    AwaitingTracking(PurchaseOrderId),
    /// Another invocation holds it.
    Busy,
    /// Walmart (or the record) refused it; recorded on the order.
    Refused(String),
}

/// The Walmart carrier for a Commerce track: the configured mapping of its carrier code when Walmart
/// knows the name, a carrier Walmart knows by the track's title, or another carrier with a
/// tracking URL.
pub fn carrier_for(settings: &OrderSettings, track: &ShipmentTrack) -> Carrier {
    let known = |name: &str| {
        KNOWN_CARRIERS
            .iter()
            .find(|k| k.eq_ignore_ascii_case(name.trim()))
            .map(|k| (*k).to_owned())
    };
    let code = track.carrier_code.trim().to_ascii_lowercase();
    let mapped = settings.carriers.get(&code);
    if let Some(name) = mapped.and_then(|m| known(m)).or_else(|| known(&track.title)) {
        return Carrier::Known { name };
    }
    let name = mapped
        .cloned()
        .or_else(|| Some(track.title.trim().to_owned()).filter(|t| !t.is_empty()))
        .unwrap_or_else(|| track.carrier_code.trim().to_owned());
    Carrier::Other {
        name,
        tracking_url: settings.tracking_url_for(track.track_number.trim()),
    }
}

/// The Walmart lines and quantities a shipment ships: each item's units spread over the open units
/// of the lines placed as that item.
pub fn shipped_lines(record: &OrderRecord, shipment: &Shipment) -> Result<Vec<LineQuantity>, String> {
    let mut lines: Vec<LineQuantity> = Vec::new();
    for item in &shipment.items {
        let qty = item.qty;
        if qty == 0 {
            continue;
        }
        let sku = item.sku.as_ref();
        // Units allocated to earlier items of this shipment are no longer open.
        let mut view = record.clone();
        for lq in &lines {
            view.ship(lq.line, lq.quantity, record.updated_at)
                .map_err(|e| e.to_string())?;
        }
        let allocated = view.allocate_open(item.order_item_id, sku, qty).map_err(|_| {
            format!(
                "shipment ships {qty} unit(s) of {} but the order has fewer open units",
                item.sku.as_ref().map_or("an unknown item", Sku::as_str)
            )
        })?;
        for lq in allocated {
            match lines.iter_mut().find(|l| l.line == lq.line) {
                Some(existing) => existing.quantity += lq.quantity,
                None => lines.push(lq),
            }
        }
    }
    if lines.is_empty() {
        return Err("shipment has no units".to_owned());
    }
    lines.sort_by_key(|l| l.line);
    Ok(lines)
}

fn shipment_key(ch: &Channel, po: &PurchaseOrderId, id: CommerceShipmentId) -> Key {
    Key::new(order_pk(&ch.settings.id, po), format!("SHIPMENT#{id}"))
}

/// Sends the shipments a Commerce order already has when the channel links it late: an
/// order-create holder placed it and died before linking it, the merchant shipped meanwhile, and
/// shipment-sync's window, which found no channel order for those shipments then, has passed
/// them. Reads the shipments changed since `since` (the purchase order's import, less the
/// overlap). Returns how many were sent now.
pub async fn sync_shipments_of(
    ch: &Channel,
    order_id: domain::CommerceOrderId,
    since: domain::Timestamp,
    deadline: &Deadline,
) -> Result<u64, OpError> {
    let mut request = PageRequest::first(PAGE_SIZE);
    let mut sent = 0;
    loop {
        let page = ch
            .commerce
            .shipments_page(since.minus(OVERLAP), request, deadline)
            .await?;
        for shipment in page.items.iter().filter(|s| s.order_id == order_id) {
            if let ShipmentOutcome::Sent { .. } = sync_shipment(ch, shipment, deadline).await? {
                sent += 1;
            }
        }
        if !page.has_more(request) {
            return Ok(sent);
        }
        request = request.next();
    }
}

impl OnceOutcome for ShipmentOutcome {
    const DONE_BEFORE: Self = ShipmentOutcome::AlreadySent;
    const BUSY: Self = ShipmentOutcome::Busy;
    fn done_for_good(&self) -> bool {
        matches!(self, ShipmentOutcome::Sent { .. } | ShipmentOutcome::AlreadySent)
    }
}

/// Sends one Commerce shipment to Walmart if it belongs to a channel order and was not sent yet.
pub async fn sync_shipment(
    ch: &Channel,
    shipment: &Shipment,
    deadline: &Deadline,
) -> Result<ShipmentOutcome, OpError> {
    let shipment_id = shipment.entity_id;
    let Some(po) = purchase_order_of(ch.store.as_ref(), &ch.settings.id, shipment.order_id).await? else {
        return Ok(ShipmentOutcome::NotChannel);
    };
    let key = shipment_key(ch, &po, shipment_id);
    if let Some(existing) = ch.store.load::<ShipmentRecord>(&key).await?
        && existing.record.delivery.is_sent()
        && existing.record.invoiced
    {
        return Ok(ShipmentOutcome::AlreadySent);
    }
    if !shipment.tracks.iter().any(|t| !t.track_number.trim().is_empty()) {
        return Ok(ShipmentOutcome::AwaitingTracking(po));
    }
    let work = |lease| sync_claimed(ch, lease, &po, shipment, shipment_id, &key, deadline);
    ClaimKind::ShipmentSync
        .on(shipment_id)
        .keeping(serde_json::json!({ "purchase_order": po }))
        .once(ch, deadline, work)
        .await
}

async fn sync_claimed(
    ch: &Channel,
    lease: Lease,
    po: &PurchaseOrderId,
    shipment: &Shipment,
    shipment_id: CommerceShipmentId,
    key: &Key,
    deadline: &Deadline,
) -> Result<ShipmentOutcome, OpError> {
    let order = recorded_order(ch, po, "is indexed but not recorded").await?;
    let Some(link) = order.record.commerce_link().cloned() else {
        return Err(OpError::missing("purchase order", po, "has no Commerce order"));
    };
    let (mut record, fresh) = match ch.store.load::<ShipmentRecord>(key).await? {
        Some(existing) => (existing, false),
        None => match new_shipment_record(ch, &order.record, shipment, shipment_id) {
            Ok(record) => {
                if !ch.store.insert_new(&record).await? {
                    return Err(OpError::Busy(format!(
                        "shipment {shipment_id} was recorded meanwhile"
                    )));
                }
                // A first write is version 1.
                let version = Some(ports::Version(1));
                (Versioned { record, version }, true)
            }
            Err(reason) => {
                mark_problem(ch, po, SyncTask::Shipment { shipment_id }, reason.clone()).await?;
                return Ok(ShipmentOutcome::Refused(reason));
            }
        },
    };
    let units: u32 = record.record.lines.iter().map(|l| l.quantity).sum();
    let mut sent_now = false;
    if !record.record.delivery.is_sent() {
        if order.record.acknowledged_at().is_none() {
            // Walmart ships only acknowledged units.
            order_support::acknowledge(ch, po, deadline).await?;
        }
        let already_on_walmart = !fresh && walmart_shows(ch, po, &record.record, deadline).await?;
        if !already_on_walmart
            && let Some(reason) =
                ship_on_walmart(ch, &lease, &order.record, &record.record, &link, deadline).await?
        {
            return Ok(ShipmentOutcome::Refused(reason));
        }
        record = record_delivery(ch, po, key, Ok(())).await?;
        sent_now = true;
        tracing::info!(units, tracking_number = %record.record.tracking.number, "shipment sent to Walmart");
    }
    if !record.record.invoiced {
        lease.keep_for_action(ch, deadline).await?;
        invoice_shipment(ch, po, &link, shipment, shipment_id, &mut record, deadline).await?;
    }
    Ok(if sent_now {
        ShipmentOutcome::Sent { units }
    } else {
        ShipmentOutcome::AlreadySent
    })
}

/// Sends the shipment to Walmart, once: the claim is kept first, and after an ambiguous answer
/// Walmart's order says whether it shipped (it is never sent again on a guess). Returns Walmart's
/// refusal, recorded on the shipment.
async fn ship_on_walmart(
    ch: &Channel,
    lease: &Lease,
    order: &OrderRecord,
    shipment: &ShipmentRecord,
    link: &CommerceOrderLink,
    deadline: &Deadline,
) -> Result<Option<String>, OpError> {
    let po = &shipment.purchase_order;
    let key = shipment_key(ch, po, shipment.shipment_id);
    // The merchant shipped in Commerce: lines the customer asked to cancel ship anyway.
    let ship_lines = |requested: &[LineNumber]| -> Vec<ShipLine> {
        shipment
            .lines
            .iter()
            .map(|lq| ShipLine {
                line: lq.line,
                quantity: lq.quantity,
                seller_order_id: link.increment_id.to_string(),
                tracking: shipment.tracking.clone(),
                intent_to_cancel_override: requested.contains(&lq.line),
            })
            .collect()
    };
    lease.keep_for_action(ch, deadline).await?;
    let mut sent = ch
        .walmart
        .ship(po, &ship_lines(order.cancel_requested()), deadline)
        .await;
    if let Err(e) = &sent
        && caused_by_request(e)
    {
        // The customer may have asked to cancel since the record last heard from Walmart:
        // the units left in a package already, so they ship with the override.
        let on_walmart = ch.walmart.get_order(po, deadline).await?;
        let newly_requested = on_walmart
            .intent_to_cancel
            .iter()
            .any(|n| !order.cancel_requested().contains(n));
        if newly_requested {
            sent = ch
                .walmart
                .ship(po, &ship_lines(&on_walmart.intent_to_cancel), deadline)
                .await;
        }
    }
    if let Err(e) = sent {
        if caused_by_request(&e) {
            let reason = format!("Walmart refused shipment {}: {e}", shipment.shipment_id);
            record_delivery(ch, po, &key, Err(reason.clone())).await?;
            return Ok(Some(reason));
        }
        // Ambiguous (timeout, 5xx, lost answer): Walmart's order says whether it shipped;
        // it is never sent again on a guess.
        if !walmart_shows(ch, po, shipment, deadline).await? {
            return Err(e.into());
        }
        tracing::info!(error = %e, "shipment's answer was lost, but Walmart shows it shipped");
    }
    Ok(None)
}

fn new_shipment_record(
    ch: &Channel,
    order: &OrderRecord,
    shipment: &Shipment,
    shipment_id: CommerceShipmentId,
) -> Result<ShipmentRecord, String> {
    let lines = shipped_lines(order, shipment)?;
    let track = shipment
        .tracks
        .iter()
        .find(|t| !t.track_number.trim().is_empty())
        .ok_or("shipment has no tracking number")?;
    let shipped_at = shipment.created_at.unwrap_or_else(|| ch.clock.now());
    Ok(ShipmentRecord {
        channel: ch.settings.id.clone(),
        shipment_id,
        purchase_order: order.order.id.clone(),
        lines,
        tracking: Tracking {
            number: track.track_number.trim().to_owned(),
            carrier: carrier_for(&ch.settings.orders, track),
            method: order.order.method_code.clone(),
            shipped_at,
        },
        delivery: Delivery::Pending,
        invoiced: !ch.settings.orders.invoice_on_shipment,
    })
}

/// Whether Walmart already shows the shipment's units shipped with its tracking number (an earlier
/// attempt's call went through before it could record so).
async fn walmart_shows(
    ch: &Channel,
    po: &PurchaseOrderId,
    record: &ShipmentRecord,
    deadline: &Deadline,
) -> Result<bool, OpError> {
    let on_walmart = ch.walmart.get_order(po, deadline).await?;
    Ok(record.lines.iter().all(|lq| {
        let shipped: u32 = on_walmart
            .statuses
            .iter()
            .filter(|s| {
                s.line == lq.line
                    && matches!(s.state, LineState::Shipped | LineState::Delivered)
                    && s.tracking_number.as_deref() == Some(record.tracking.number.as_str())
            })
            .map(|s| s.quantity)
            .sum();
        shipped >= lq.quantity
    }))
}

/// Marks the shipment sent (and its lines shipped on the order) or failed (and the order in error),
/// both records in one transaction, redone on a lost race.
async fn record_delivery(
    ch: &Channel,
    po: &PurchaseOrderId,
    key: &Key,
    outcome: Result<(), String>,
) -> Result<Versioned<ShipmentRecord>, OpError> {
    for _ in 0..RACE_ATTEMPTS {
        let now = ch.clock.now();
        let mut order = recorded_order(ch, po, "vanished").await?;
        let mut shipment = ch
            .store
            .load::<ShipmentRecord>(key)
            .await?
            .ok_or_else(|| OpError::missing("shipment record", format_args!("{key:?}"), "vanished"))?;
        if shipment.record.delivery.is_sent() {
            return Ok(shipment);
        }
        let task = SyncTask::Shipment {
            shipment_id: shipment.record.shipment_id,
        };
        match &outcome {
            Ok(()) => {
                shipment.record.delivery.mark_sent(now)?;
                let mut disagreement = None;
                for lq in &shipment.record.lines {
                    if let Err(e) = order.record.ship(lq.line, lq.quantity, now) {
                        disagreement = Some(format!(
                            "shipment {} reached Walmart but the order record could not take it: {e}",
                            shipment.record.shipment_id
                        ));
                    }
                }
                match disagreement {
                    Some(reason) => order.record.sync_failed(task, reason, now),
                    None => {
                        order.record.sync_recovered(&task, now);
                    }
                }
            }
            Err(reason) => {
                shipment.record.delivery.mark_failed(reason.clone(), now)?;
                order.record.sync_failed(task, reason.clone(), now);
            }
        }
        match save_both(ch, &mut order, &mut shipment).await {
            Ok(()) => return Ok(shipment),
            Err(e) if e.is_condition_failure() => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(OpError::Busy(format!(
        "order {po} kept changing while recording a shipment"
    )))
}

/// Invoices the shipment's units that are shipped but not invoiced yet (never more, so the rest of
/// the order stays cancellable).
async fn invoice_shipment(
    ch: &Channel,
    po: &PurchaseOrderId,
    link: &CommerceOrderLink,
    shipment: &Shipment,
    shipment_id: CommerceShipmentId,
    record: &mut Versioned<ShipmentRecord>,
    deadline: &Deadline,
) -> Result<(), OpError> {
    let order = ch.commerce.get_order(link.order_id, deadline).await?;
    let items: Vec<ItemQuantity> = shipment
        .items
        .iter()
        .filter_map(|shipped| {
            let item = order
                .items
                .iter()
                .find(|i| i.item_id.is_some() && i.item_id == shipped.order_item_id)?;
            let qty = shipped.qty.min(item.invoiceable_shipped());
            (qty > 0).then_some(ItemQuantity {
                order_item_id: item.item_id?,
                qty,
            })
        })
        .collect();
    if !items.is_empty()
        && let Err(e) = ch.commerce.invoice_order(link.order_id, &items, deadline).await
    {
        if caused_by_request(&e) {
            let reason = format!("shipped units of shipment {shipment_id} not invoiced in Commerce: {e}");
            mark_problem(ch, po, SyncTask::Invoice { shipment_id }, reason).await?;
        } else {
            // Ambiguous (timeout, 5xx, lost answer): an invoice has no idempotency key in Magento,
            // so the order's invoiced quantities say whether it landed; it is never sent again on
            // a guess (a later attempt invoices only what is still missing).
            let after = ch.commerce.get_order(link.order_id, deadline).await?;
            let landed = items.iter().all(|wanted| {
                let before = invoiced_of(&order, wanted.order_item_id);
                invoiced_of(&after, wanted.order_item_id) >= before + wanted.qty
            });
            if !landed {
                return Err(e.into());
            }
            tracing::info!(error = %e, "invoice's answer was lost, but the order shows the units invoiced");
        }
    }
    record.record.invoiced = true;
    match ch.store.save(record).await {
        Ok(()) => Ok(()),
        Err(e) if e.is_condition_failure() => Ok(()),
        Err(e) => Err(e.into()),
    }
}

fn invoiced_of(order: &Order, item_id: u64) -> u32 {
    order
        .items
        .iter()
        .find(|i| i.item_id == Some(item_id))
        .map_or(0, |i| i.qty_invoiced)
}

pub(crate) async fn mark_problem(
    ch: &Channel,
    po: &PurchaseOrderId,
    task: SyncTask,
    reason: String,
) -> Result<(), OpError> {
    let now: Timestamp = ch.clock.now();
    ch.store
        .update::<OrderRecord, OpError, _>(&ports::records::order_key(&ch.settings.id, po), |r| {
            r.sync_failed(task.clone(), reason.clone(), now);
            Ok(true)
        })
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::CommerceOrderId;
    use domain::fixtures::{created_record, purchase_order};
    use domain::{LineNumber, WalmartLineStatus};
    use ports::commerce::model::ShipmentItem;

    fn track(code: &str, title: &str) -> ShipmentTrack {
        ShipmentTrack {
            track_number: "1Z999".into(),
            title: title.into(),
            carrier_code: code.into(),
            ..ShipmentTrack::default()
        }
    }

    #[test]
    fn carriers_map_to_walmarts_list_or_go_as_other_carriers() {
        let settings = OrderSettings::default();
        assert_eq!(
            carrier_for(&settings, &track("ups", "United Parcel Service")),
            Carrier::Known { name: "UPS".into() }
        );
        assert_eq!(
            carrier_for(&settings, &track("dhl", "DHL")),
            Carrier::Known {
                name: "DHL Ecommerce - US".into()
            }
        );
        assert_eq!(
            carrier_for(&settings, &track("custom", "OnTrac")),
            Carrier::Known {
                name: "OnTrac".into()
            },
            "a custom track titled with a carrier Walmart knows"
        );
        assert_eq!(
            carrier_for(&settings, &track("custom", "Pony Express")),
            Carrier::Other {
                name: "Pony Express".into(),
                tracking_url: "https://www.17track.net/en/track?nums=1Z999".into()
            }
        );
    }

    fn record() -> OrderRecord {
        let order = purchase_order(
            &[(1, "A", 2), (2, "B", 1), (3, "A", 1)],
            100,
            WalmartLineStatus::Acknowledged,
            "Express",
        );
        created_record(order, &[(1, 70), (2, 80), (3, 70)])
    }

    fn shipment(items: &[(u64, &str, u32)]) -> Shipment {
        Shipment {
            entity_id: CommerceShipmentId(5),
            order_id: CommerceOrderId(9),
            created_at: None,
            updated_at: None,
            items: items
                .iter()
                .map(|(id, sku, qty)| ShipmentItem {
                    order_item_id: Some(*id),
                    sku: Sku::new(*sku).ok(),
                    qty: *qty,
                })
                .collect(),
            tracks: vec![track("ups", "UPS")],
        }
    }

    #[test]
    fn partial_shipments_ship_only_their_units() {
        let r = record();
        assert_eq!(
            shipped_lines(&r, &shipment(&[(70, "A", 3)])).unwrap(),
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
        assert_eq!(
            shipped_lines(&r, &shipment(&[(80, "B", 1), (70, "A", 1)])).unwrap(),
            vec![
                LineQuantity {
                    line: LineNumber(1),
                    quantity: 1
                },
                LineQuantity {
                    line: LineNumber(2),
                    quantity: 1
                },
            ]
        );
        let mut shipped = r.clone();
        shipped.ship(LineNumber(1), 2, Timestamp::from_millis(2)).unwrap();
        assert_eq!(
            shipped_lines(&shipped, &shipment(&[(70, "A", 1)])).unwrap(),
            vec![LineQuantity {
                line: LineNumber(3),
                quantity: 1
            }]
        );
        assert!(shipped_lines(&shipped, &shipment(&[(70, "A", 2)])).is_err());
        assert!(shipped_lines(&r, &shipment(&[])).is_err());
    }

    #[test]
    fn units_of_an_item_the_order_does_not_hold_are_refused_by_name() {
        let r = record();
        let unknown = shipped_lines(&r, &shipment(&[(99, "Z", 1)])).unwrap_err();
        assert!(unknown.contains("1 unit(s) of Z"), "{unknown}");
        // A SKU the channel cannot carry is named as unknown.
        let mut odd = shipment(&[(99, "Z", 1)]);
        odd.items[0].sku = None;
        let unnamed = shipped_lines(&r, &odd).unwrap_err();
        assert!(unnamed.contains("of an unknown item"), "{unnamed}");
    }

    #[test]
    fn only_shipped_units_not_yet_invoiced_are_invoiced_and_counted_once() {
        use ports::commerce::model::{OrderItem, OrderState};
        let order = Order {
            entity_id: CommerceOrderId(9),
            increment_id: domain::IncrementId::new("000000009").unwrap(),
            state: OrderState::Processing,
            status: "processing".into(),
            updated_at: None,
            items: vec![OrderItem {
                item_id: Some(70),
                qty_ordered: 3,
                qty_shipped: 2,
                qty_invoiced: 1,
                ..OrderItem::default()
            }],
            po_number: None,
            totals: None,
            status_histories: Vec::new(),
        };
        assert_eq!(invoiced_of(&order, 70), 1);
        assert_eq!(
            invoiced_of(&order, 80),
            0,
            "an item the order lacks has nothing invoiced"
        );
        assert_eq!(order.items[0].invoiceable_shipped(), 1);
    }
}
