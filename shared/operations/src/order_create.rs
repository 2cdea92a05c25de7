//! `order_create`: the Commerce order for a Walmart purchase order is created exactly once.
//!
//! One [`CreateOrder`] message per purchase order (from order-import, its sweep, or a re-drive).
//! Exactly once, even with SQS redelivery, concurrent invocations and a crash between "Commerce
//! order placed" and "link saved":
//! 1. the dashboard record says whether the order exists already (then only what follows creation
//!    is finished: acknowledgement, Walmart cancellations that arrived meanwhile);
//! 2. the work is claimed with an idempotency record `order-create#<channel>#<po>` leased for the
//!    invocation's remaining time, so a concurrent delivery backs off (retryable `Busy`) and a
//!    crashed holder's lease runs out;
//! 3. the claim holder looks for a Commerce order already carrying the purchase order id (the
//!    `purchaseorder` payment's `po_number`) before placing one, so an order placed by a holder that
//!    crashed is found and linked rather than placed again (the Commerce client also looks by
//!    itself when a placement answer is lost);
//! 4. the link (Commerce order id, increment id, order item and price per line, price differences
//!    flagged) is saved with the record's version condition, then the claim is completed.
//!
//! The order is placed through Commerce's cart flow (reserving stock) for the mapped customer, the
//! ship-to address, the shipping method configured for the Walmart method code and the configured
//! offline payment method; units Walmart cancelled before placement are left out. Orders Commerce
//! refuses (unknown SKU, disabled product, out of stock, invalid address, ...) are marked failed with
//! Commerce's reason; order-import's sweep retries them with growing delays up to
//! `orders.max_create_attempts`, after which they wait for [`redrive`]. Transient failures (network,
//! 5xx, throttling) fail the message so SQS redelivers it.

use domain::{
    ChannelId, CommerceOrderId, CommerceOrderLink, CreationState, IncrementId, LineNumber, Money,
    OrderRecord, OrderSummary, PurchaseOrder, PurchaseOrderId, SyncTask,
};
use ports::commerce::model::Order;
use ports::commerce::{OrderLookup, OrderPlacement};
use ports::records::order_key;
use ports::{Deadline, OutgoingMessage, QueueName, Records, Versioned};
use serde::{Deserialize, Serialize};
use tracing::Instrument;

use crate::dashboard::{CommerceOrderIndex, load_order};
use crate::order_support::{Claimed, caused_by_request, claim, enqueue_urgent_inventory};
use crate::registry::Message;
use crate::{Channel, OpError, cancellation_sync};

/// Idempotency operation name of order creation.
const CLAIM: &str = "order-create";

/// The order-create queue's message: create the Commerce order of this purchase order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateOrder {
    pub channel: ChannelId,
    pub purchase_order_id: PurchaseOrderId,
}

impl CreateOrder {
    pub fn new(ch: &Channel, purchase_order_id: PurchaseOrderId) -> Self {
        Self {
            channel: ch.settings.id.clone(),
            purchase_order_id,
        }
    }

    pub fn message(&self) -> Result<OutgoingMessage, OpError> {
        serde_json::to_string(self)
            .map(OutgoingMessage::new)
            .map_err(|e| OpError::Invalid(format!("create-order message not serialised: {e}")))
    }

    pub fn parse(body: &str) -> Result<Self, OpError> {
        serde_json::from_str(body).map_err(|e| OpError::Invalid(format!("not a create-order message: {e}")))
    }
}

/// What one creation attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateOutcome {
    /// Placed now (`recovered`: found, placed by an attempt that did not get to save the link).
    Created {
        link: CommerceOrderLink,
        recovered: bool,
    },
    /// The record already had its Commerce order.
    AlreadyCreated,
    /// Commerce refused the order; `will_retry` until the attempt limit.
    Failed { reason: String, will_retry: bool },
    /// Nothing to create (why).
    Skipped(&'static str),
}

/// The SQS handler: one message, one purchase order.
pub async fn handle_message(ch: &Channel, message: &Message, deadline: &Deadline) -> Result<(), OpError> {
    let request = CreateOrder::parse(&message.body)?;
    if request.channel != ch.settings.id {
        return Err(OpError::Invalid(format!(
            "message for channel {} reached channel {}",
            request.channel, ch.settings.id
        )));
    }
    let po = request.purchase_order_id;
    let span =
        tracing::info_span!("order_create", purchase_order = %po, receive_count = message.receive_count);
    let outcome = create_order(ch, &po, deadline).instrument(span.clone()).await?;
    span.in_scope(|| tracing::info!(?outcome, "order-create handled"));
    Ok(())
}

/// Creates the Commerce order of `po` if it does not exist, then finishes what follows creation.
pub async fn create_order(
    ch: &Channel,
    po: &PurchaseOrderId,
    deadline: &Deadline,
) -> Result<CreateOutcome, OpError> {
    let record = load_order(ch.store.as_ref(), &ch.settings.id, po)
        .await?
        .ok_or_else(|| OpError::Invalid(format!("purchase order {po} is not recorded")))?
        .record;
    match record.creation() {
        CreationState::Created { .. } => {
            finish(ch, po, deadline).await?;
            return Ok(CreateOutcome::AlreadyCreated);
        }
        CreationState::Failed { attempts, .. } if *attempts >= ch.settings.orders.max_create_attempts => {
            return Ok(CreateOutcome::Skipped("attempts used up; waiting for a re-drive"));
        }
        _ => {}
    }
    if record.order_to_place().lines.is_empty() {
        return Ok(CreateOutcome::Skipped("every unit was cancelled on Walmart"));
    }
    let lease = match claim(ch, CLAIM, po.as_str(), deadline).await? {
        Claimed::Acquired(lease) => lease,
        Claimed::InProgress => return Err(OpError::Busy(format!("creation of purchase order {po}"))),
        // Completed since we read the record: the record has the link now.
        Claimed::Completed => return link_without_claim(ch, po, deadline).await,
    };
    // Re-read under the claim: a holder that finished just before us saved the link.
    let record = match load_order(ch.store.as_ref(), &ch.settings.id, po).await {
        Ok(Some(v)) => v.record,
        Ok(None) => {
            return lease
                .release_after(ch, OpError::Invalid(format!("purchase order {po} vanished")))
                .await;
        }
        Err(e) => return lease.release_after(ch, e.into()).await,
    };
    if record.commerce_link().is_some() {
        lease.release(ch).await?;
        finish(ch, po, deadline).await?;
        return Ok(CreateOutcome::AlreadyCreated);
    }
    let placement = OrderPlacement::from_settings(&ch.settings.orders, &record.order.method_code);
    let lookup = OrderLookup::for_purchase_order(&record.order, &placement);
    let found = match ch
        .commerce
        .find_order_for_purchase_order(po, &lookup, deadline)
        .await
    {
        Ok(found) => found,
        Err(e) => return lease.release_after(ch, e.into()).await,
    };
    let (placed, recovered) = match found {
        Some(order) => match placed_from_existing(&record, &order) {
            Ok(placed) => (placed, true),
            Err(e) => return lease.release_after(ch, e).await,
        },
        None => {
            let to_place = record.order_to_place();
            match ch
                .commerce
                .create_order_for(&to_place, &placement, deadline)
                .await
            {
                Ok(order) => (
                    Placed {
                        link: order.link(),
                        lines: order
                            .lines
                            .iter()
                            .map(|l| (l.line, l.order_item_id, l.commerce_unit_price))
                            .collect(),
                        order: to_place,
                    },
                    order.recovered,
                ),
                Err(e) if caused_by_request(&e) => {
                    let reason = format!("Commerce refused the order: {}", e.message);
                    let outcome = record_failure(ch, po, reason).await;
                    lease.release(ch).await?;
                    return outcome;
                }
                Err(e) => return lease.release_after(ch, e.into()).await,
            }
        }
    };
    // The order exists in Commerce from here on: if saving the link fails, the claim is given back
    // and the next attempt finds the order instead of placing another.
    if let Err(e) = save_link(ch, po, &placed).await {
        return lease.release_after(ch, e).await;
    }
    let link = placed.link.clone();
    let result = serde_json::json!({ "order_id": link.order_id, "increment_id": link.increment_id });
    lease.complete(ch, result).await?;
    tracing::info!(order_id = %link.order_id, increment_id = %link.increment_id, recovered, "Commerce order linked");
    enqueue_urgent_inventory(ch, placed.order.lines.iter().map(|l| &l.sku)).await;
    finish(ch, po, deadline).await?;
    Ok(CreateOutcome::Created { link, recovered })
}

/// What was placed in Commerce: the link, per line its order item and Commerce unit price, and the
/// quantities the Commerce order holds.
struct Placed {
    link: CommerceOrderLink,
    lines: Vec<(LineNumber, Option<u64>, Option<Money>)>,
    order: PurchaseOrder,
}

/// The placement an existing Commerce order shows: its items by SKU (a cart holds one item per SKU),
/// their quantities spread over the Walmart lines of that SKU in line order.
fn placed_from_existing(record: &OrderRecord, order: &Order) -> Result<Placed, OpError> {
    let order_id = order
        .entity_id
        .ok_or_else(|| OpError::Invalid("Commerce order without entity_id".into()))?;
    let increment_id = IncrementId::new(order.increment_id.clone())
        .map_err(|e| OpError::Invalid(format!("Commerce order {order_id}: {e}")))?;
    let mut placed = record.order.clone();
    let mut lines = Vec::new();
    let mut left: std::collections::BTreeMap<String, u32> = std::collections::BTreeMap::new();
    for line in &mut placed.lines {
        let item = order
            .items
            .iter()
            .find(|i| i.sku == line.sku.as_str() && i.parent_item_id.is_none())
            .or_else(|| order.items.iter().find(|i| i.sku == line.sku.as_str()));
        let remaining = left
            .entry(line.sku.as_str().to_owned())
            .or_insert_with(|| item.and_then(|i| i.qty_ordered).unwrap_or(0.0).max(0.0) as u32);
        let quantity = line.quantity.min(*remaining);
        *remaining -= quantity;
        line.quantity = quantity;
        lines.push((
            line.number,
            item.and_then(|i| i.item_id),
            item.and_then(|i| i.price)
                .and_then(|p| Money::from_decimal(p).ok()),
        ));
    }
    placed.lines.retain(|l| l.quantity > 0);
    Ok(Placed {
        link: CommerceOrderLink {
            order_id: CommerceOrderId(order_id),
            increment_id,
        },
        lines,
        order: placed,
    })
}

/// Saves the link on the record (version-checked, retried on a lost race) and the Commerce order
/// index. Linking a record to a second Commerce order is refused by the record itself.
async fn save_link(ch: &Channel, po: &PurchaseOrderId, placed: &Placed) -> Result<(), OpError> {
    let now = ch.clock.now();
    ch.store
        .update::<OrderRecord, OpError, _>(&order_key(&ch.settings.id, po), |record| {
            record.created_from(placed.link.clone(), &placed.order, now)?;
            for (line, item, price) in &placed.lines {
                record
                    .link_line(*line, *item, *price, now)
                    .map_err(|e| OpError::Invalid(e.to_string()))?;
            }
            Ok(true)
        })
        .await?
        .ok_or_else(|| OpError::Invalid(format!("purchase order {po} vanished")))?;
    let mut index = Versioned::new(CommerceOrderIndex {
        channel: ch.settings.id.clone(),
        order_id: placed.link.order_id,
        purchase_order: po.clone(),
    });
    match ch.store.save(&mut index).await {
        Ok(()) => Ok(()),
        Err(e) if e.is_condition_failure() => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Claimed as completed by someone else: make sure the record carries the link (it does, unless
/// the store lost a write), then finish.
async fn link_without_claim(
    ch: &Channel,
    po: &PurchaseOrderId,
    deadline: &Deadline,
) -> Result<CreateOutcome, OpError> {
    let record = load_order(ch.store.as_ref(), &ch.settings.id, po)
        .await?
        .ok_or_else(|| OpError::Invalid(format!("purchase order {po} is not recorded")))?
        .record;
    if record.commerce_link().is_none() {
        // Finding and linking without the claim is safe: nothing is placed here.
        let placement = OrderPlacement::from_settings(&ch.settings.orders, &record.order.method_code);
        let lookup = OrderLookup::for_purchase_order(&record.order, &placement);
        let order = ch
            .commerce
            .find_order_for_purchase_order(po, &lookup, deadline)
            .await?
            .ok_or_else(|| {
                OpError::Invalid(format!(
                    "creation of {po} is recorded as done but no Commerce order carries it"
                ))
            })?;
        save_link(ch, po, &placed_from_existing(&record, &order)?).await?;
    }
    finish(ch, po, deadline).await?;
    Ok(CreateOutcome::AlreadyCreated)
}

async fn record_failure(
    ch: &Channel,
    po: &PurchaseOrderId,
    reason: String,
) -> Result<CreateOutcome, OpError> {
    let now = ch.clock.now();
    let max = ch.settings.orders.max_create_attempts;
    let mut will_retry = false;
    ch.store
        .update::<OrderRecord, OpError, _>(&order_key(&ch.settings.id, po), |record| {
            if record.commerce_link().is_some() {
                return Ok(false);
            }
            will_retry = record.creation_failed(reason.clone(), max, now)?;
            Ok(true)
        })
        .await?;
    tracing::warn!(%reason, will_retry, "Commerce order not created");
    Ok(CreateOutcome::Failed { reason, will_retry })
}

/// What follows creation: the acknowledgement, and Walmart cancellations that arrived while the
/// order was being placed.
async fn finish(ch: &Channel, po: &PurchaseOrderId, deadline: &Deadline) -> Result<(), OpError> {
    let record = acknowledge(ch, po, deadline).await?;
    if !record.cancellations_pending_in_commerce().is_empty()
        && let Err(e) = cancellation_sync::reflect_in_commerce(ch, po, deadline).await
    {
        // cancellation-sync tries again on its next run.
        tracing::warn!(error = %e, "Walmart cancellation not yet reflected in Commerce");
    }
    Ok(())
}

/// Acknowledges the order on Walmart if it is not yet. Walmart accepts repeated acknowledgements,
/// so no claim is needed; a refused one is recorded on the order.
pub async fn acknowledge(
    ch: &Channel,
    po: &PurchaseOrderId,
    deadline: &Deadline,
) -> Result<OrderRecord, OpError> {
    let key = order_key(&ch.settings.id, po);
    let record = load_order(ch.store.as_ref(), &ch.settings.id, po)
        .await?
        .ok_or_else(|| OpError::Invalid(format!("purchase order {po} is not recorded")))?
        .record;
    if record.acknowledged_at().is_some() || record.summary() == OrderSummary::Canceled {
        return Ok(record);
    }
    let outcome = ch.walmart.acknowledge(po, deadline).await;
    let now = ch.clock.now();
    let refused = match &outcome {
        Ok(_) => None,
        Err(e) if caused_by_request(e) => Some(format!("Walmart refused the acknowledgement: {e}")),
        Err(e) => return Err(e.clone().into()),
    };
    let updated = ch
        .store
        .update::<OrderRecord, OpError, _>(&key, |r| {
            match &refused {
                None => {
                    if r.acknowledged_at().is_some() {
                        return Ok(false);
                    }
                    r.acknowledged(now)?;
                    r.sync_recovered(&SyncTask::Acknowledge, now);
                }
                Some(reason) => r.sync_failed(SyncTask::Acknowledge, reason.clone(), now),
            }
            Ok(true)
        })
        .await?
        .ok_or_else(|| OpError::Invalid(format!("purchase order {po} vanished")))?;
    Ok(updated)
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
    ch.queues
        .send(
            QueueName::OrderCreate,
            CreateOrder::new(ch, po.clone()).message()?,
        )
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_and_bad_bodies_are_invalid() {
        let message = CreateOrder {
            channel: ChannelId::new("main").unwrap(),
            purchase_order_id: PurchaseOrderId::new("1796000000001").unwrap(),
        };
        let body = serde_json::to_string(&message).unwrap();
        assert_eq!(body, r#"{"channel":"main","purchase_order_id":"1796000000001"}"#);
        assert_eq!(CreateOrder::parse(&body).unwrap(), message);
        assert!(matches!(CreateOrder::parse("{}"), Err(OpError::Invalid(_))));
        assert!(matches!(
            CreateOrder::parse(r#"{"channel":"main","purchase_order_id":"PO-1"}"#),
            Err(OpError::Invalid(_))
        ));
    }
}
