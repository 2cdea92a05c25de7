//! Taking a Walmart purchase order into the channel, shared by order-import's runs and the
//! merchant's re-import from the dashboard (`merchant`): recording an order the channel has not
//! seen, acknowledging it when the policy says so, and queueing its creation (again).

use domain::{AckPolicy, OrderRecord, PurchaseOrderId, SyncTask};
use ports::records::order_key;
use ports::walmart::{LineState, WalmartOrder};
use ports::{Deadline, Records};

use crate::dashboard::load_order;
use crate::messages::{self, CreateOrder};
use crate::order_support::{caused_by_request, note_unknown_values};
use crate::{Channel, OpError};

/// What became of a purchase order taken in.
pub(crate) enum Imported {
    /// Recorded now; queue it unless Walmart cancelled everything.
    New {
        queue: bool,
    },
    Known,
}

pub(crate) async fn import_one(
    ch: &Channel,
    order: &WalmartOrder,
    deadline: &Deadline,
) -> Result<Imported, OpError> {
    let po = &order.order.id;
    if load_order(ch.store.as_ref(), &ch.settings.id, po)
        .await?
        .is_some()
    {
        return Ok(Imported::Known);
    }
    let now = ch.clock.now();
    let mut record = OrderRecord::import(ch.settings.id.clone(), order.order.clone(), now);
    for line in &order.order.lines {
        let cancelled = order.quantity_in(line.number, LineState::Cancelled);
        let open = record.line(line.number).map_or(0, |l| l.open());
        if cancelled > 0 && open > 0 {
            record.cancel(line.number, cancelled.min(open), now)?;
        }
    }
    // A cancellation the customer asked for before import; the comment follows the Commerce order.
    record.customer_asked_to_cancel(&order.intent_to_cancel, now);
    // A value Walmart added since (a line status, a carrier): the order is taken in, and its
    // record shows Error with what Walmart sent.
    note_unknown_values(&mut record, order, now);
    if !ch.store.insert_new(&record).await? {
        return Ok(Imported::Known);
    }
    tracing::info!(lines = order.order.lines.len(), "purchase order recorded");
    let queue = !record.order_to_place().lines.is_empty();
    if queue && ch.settings.orders.acknowledge == AckPolicy::OnImport && record.acknowledged_at().is_none() {
        acknowledge_on_import(ch, &record, deadline).await;
    }
    Ok(Imported::New { queue })
}

/// [`AckPolicy::OnImport`]: acknowledge now. A failure is left to order-create, which acknowledges
/// whatever is still unacknowledged once the Commerce order exists.
async fn acknowledge_on_import(ch: &Channel, record: &OrderRecord, deadline: &Deadline) {
    let po = &record.order.id;
    let outcome = ch.walmart.acknowledge(po, deadline).await;
    let key = ports::Record::key(record);
    let now = ch.clock.now();
    let saved = ch
        .store
        .update::<OrderRecord, OpError, _>(&key, |r| match &outcome {
            Ok(_) => Ok(r.acknowledged_at().is_none() && r.acknowledged(now).is_ok()),
            Err(e) if caused_by_request(e) => {
                r.sync_failed(
                    SyncTask::Acknowledge,
                    format!("acknowledgement refused by Walmart: {e}"),
                    now,
                );
                Ok(true)
            }
            Err(_) => Ok(false),
        })
        .await;
    if let Err(e) = outcome {
        tracing::warn!(error = %e, "acknowledgement at import failed; order-create acknowledges later");
    }
    if let Err(e) = saved {
        tracing::warn!(error = %e, "acknowledgement not recorded; order-create acknowledges again");
    }
}

/// The merchant fixed the cause of a failed creation: try again from zero attempts, now.
pub async fn redrive(ch: &Channel, po: &PurchaseOrderId) -> Result<(), OpError> {
    let now = ch.clock.now();
    ch.store
        .update::<OrderRecord, OpError, _>(&order_key(&ch.settings.id, po), |record| {
            record.redrive(now)?;
            Ok(true)
        })
        .await?
        .ok_or_else(|| OpError::Invalid(format!("purchase order {po} is not recorded")))?;
    messages::send_all(ch, &[CreateOrder::new(ch, po.clone())]).await
}

/// What [`import_by_id`] did with one order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventImport {
    /// Recorded now and queued for order-create.
    Queued,
    /// Recorded now; Walmart had cancelled every unit, so there is nothing to create.
    RecordedCancelled,
    /// Already recorded (by the poll or an earlier event): nothing done.
    Known,
    /// Walmart shows no such order (its test notification's made-up sample, or an order not
    /// readable yet): nothing done; the poll is the backstop.
    NotOnWalmart,
}

/// One order by its id, as a Walmart event announces it: read in full from Walmart (the event is
/// a summary), then taken in by [`import_one`] and queued for creation, as order-import's poll
/// does it.
pub async fn import_by_id(
    ch: &Channel,
    po: &PurchaseOrderId,
    deadline: &Deadline,
) -> Result<EventImport, OpError> {
    if load_order(ch.store.as_ref(), &ch.settings.id, po)
        .await?
        .is_some()
    {
        return Ok(EventImport::Known);
    }
    let order = match ch.walmart.get_order(po, deadline).await {
        Ok(order) => order,
        Err(e) if e.kind == ports::ApiErrorKind::NotFound => {
            tracing::warn!(purchase_order = %po, "event for an order Walmart does not show; left to the poll");
            return Ok(EventImport::NotOnWalmart);
        }
        Err(e) => return Err(e.into()),
    };
    match import_one(ch, &order, deadline).await? {
        Imported::New { queue: true } => {
            messages::send_all(ch, &[CreateOrder::new(ch, po.clone())]).await?;
            Ok(EventImport::Queued)
        }
        Imported::New { queue: false } => Ok(EventImport::RecordedCancelled),
        Imported::Known => Ok(EventImport::Known),
    }
}
