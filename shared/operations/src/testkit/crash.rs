//! Crashing an invocation right after its k-th port call, for every k: the harness behind the
//! "crash at every step" tests of every operation.
//!
//! [`CrashPlan`] counts the calls an invocation makes to its four ports (state store, queues,
//! Walmart, Commerce); [`crashing`] wraps a channel's ports in it. When call k has completed (its
//! effect applied, as a process that dies right after an answer arrived), the plan marks the
//! invocation crashed: that call's answer and every later call never return (calls in flight at that
//! moment still reach the other side, as they would). [`invoke`] then drops the invocation's future,
//! as a Lambda crash or timeout would. [`crash_at_every_step`] runs a [`CrashScenario`] once to
//! count its calls, then once per k on a fresh world, each followed by the scenario's own recovery
//! (SQS redelivery, the next schedule tick) and its exactly-once checks.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use domain::{
    CommerceOrderId, CreditMemoId, CustomerOrderId, FeedId, Gtin, Money, Operation, PurchaseOrder,
    PurchaseOrderId, ReturnOrderId, Sku, Timestamp,
};
use ports::commerce::model::{
    CreditMemo, ItemQuantity, Order, Product, Rma, Shipment, SourceItem, Stock, StockItem,
};
use ports::commerce::{
    OrderFilter, OrderLookup, OrderPlacement, PlacedOrder, ProductQuery, RefundArguments, ReturnRecorded,
    ReturnRequest, StoreSetup,
};
use ports::walmart::{
    CancelLine, CatalogItem, FeedStatusPage, FeedSummary, FeedType, ItemsPage, ItemsQuery, OrdersCursor,
    OrdersPage, OrdersQuery, RefundLine, ReturnsPage, ReturnsQuery, SellerItem, ShipLine, WalmartOrder,
    WalmartReturn,
};
use ports::{
    ApiError, Claim, ClaimTerms, ClaimToken, Commerce, Deadline, Delivery, Expect, IdempotencyKey, Item, Key,
    ManualClock, OutgoingMessage, Page, PageRequest, Query, QueueError, QueueName, SearchPage, StateStore,
    StoreError, Stored, Version, Walmart, WorkQueue, Write,
};
use serde_json::Value;
use tokio::sync::Notify;

use crate::{Channel, OpError, RunReport, registry};

/// Counts an invocation's port calls and crashes it right after the k-th.
#[derive(Default)]
pub struct CrashPlan {
    crash_after: Option<u64>,
    /// Instead of a crash: the k-th Walmart or Commerce call named in `names` fails with `error`
    /// without reaching the API (as when the client's retries ran out on a 5xx or 429 burst).
    fail: Option<Failure>,
    api_calls_named: AtomicU64,
    calls: AtomicU64,
    crashed: AtomicBool,
    crash: Notify,
    /// The calls completed, in order, by port and method.
    made: Mutex<Vec<&'static str>>,
}

impl CrashPlan {
    /// Counts calls and never crashes (the run that finds how many calls there are).
    pub fn counting() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Crashes right after call `k` (1-based) completes.
    pub fn after(k: u64) -> Arc<Self> {
        Arc::new(Self {
            crash_after: Some(k),
            ..Self::default()
        })
    }

    /// The `k`-th (1-based) Walmart or Commerce call named in `names` (`walmart.next_orders`) fails
    /// with `error`; nothing crashes.
    pub fn failing(k: u64, names: &[&'static str], error: ApiError) -> Arc<Self> {
        Arc::new(Self {
            fail: Some(Failure {
                k,
                names: names.to_vec(),
                error,
            }),
            ..Self::default()
        })
    }

    /// Port calls completed so far (the crashing call included).
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::SeqCst)
    }

    /// The calls completed so far, by port and method (`walmart.update_price`), in order.
    pub fn calls_made(&self) -> Vec<&'static str> {
        self.made
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub fn has_crashed(&self) -> bool {
        self.crashed.load(Ordering::SeqCst)
    }

    /// Runs one port call under the plan: nothing starts after the crash, and no answer comes back
    /// once the crash happened.
    async fn call<T>(&self, name: &'static str, port_call: impl Future<Output = T>) -> T {
        if self.has_crashed() {
            return std::future::pending().await;
        }
        let answer = port_call.await;
        let n = {
            let mut made = self
                .made
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            made.push(name);
            self.calls.fetch_add(1, Ordering::SeqCst) + 1
        };
        if self.crash_after == Some(n) {
            self.crashed.store(true, Ordering::SeqCst);
            self.crash.notify_one();
        }
        if self.has_crashed() {
            return std::future::pending().await;
        }
        answer
    }
}

struct Failure {
    k: u64,
    names: Vec<&'static str>,
    error: ApiError,
}

impl CrashPlan {
    /// A Walmart or Commerce call: fails if the plan says so, else as [`Self::call`].
    async fn api_call<T>(
        &self,
        name: &'static str,
        port_call: impl Future<Output = Result<T, ApiError>>,
    ) -> Result<T, ApiError> {
        if let Some(fail) = &self.fail
            && fail.names.contains(&name)
            && self.api_calls_named.fetch_add(1, Ordering::SeqCst) + 1 == fail.k
        {
            self.made
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(name);
            self.calls.fetch_add(1, Ordering::SeqCst);
            return Err(fail.error.clone());
        }
        self.call(name, port_call).await
    }
}

/// How an invocation under a [`CrashPlan`] ended.
#[derive(Debug)]
pub enum Invocation<T> {
    Finished(T),
    /// Stopped right after the plan's k-th call; its future was dropped.
    Crashed,
}

/// Runs `invocation` until it finishes or its plan crashes it (then drops it, mid-flight).
pub async fn invoke<T>(plan: &CrashPlan, invocation: impl Future<Output = T>) -> Invocation<T> {
    tokio::select! {
        biased;
        () = plan.crash.notified() => Invocation::Crashed,
        outcome = invocation => {
            if plan.has_crashed() { Invocation::Crashed } else { Invocation::Finished(outcome) }
        }
    }
}

/// `channel` with its four ports counted (and crashed) by `plan`; settings and clock are shared.
pub fn crashing(channel: &Channel, plan: &Arc<CrashPlan>) -> Channel {
    Channel {
        settings: channel.settings.clone(),
        store: Arc::new(CrashingStore {
            inner: channel.store.clone(),
            plan: plan.clone(),
        }),
        queues: Arc::new(CrashingQueues {
            inner: channel.queues.clone(),
            plan: plan.clone(),
        }),
        walmart: Arc::new(CrashingWalmart {
            inner: channel.walmart.clone(),
            plan: plan.clone(),
        }),
        commerce: Arc::new(CrashingCommerce {
            inner: channel.commerce.clone(),
            plan: plan.clone(),
        }),
        clock: channel.clock.clone(),
    }
}

/// One operation's "crash at every step" story: a world, the invocation that crashes, how the
/// platform runs the work again, and the exactly-once checks on the sandboxes' own records.
// Not `Send`: the harness runs scenarios on the test's own task, and some set-up futures are not.
#[async_trait(?Send)]
pub trait CrashScenario {
    type World;

    /// A fresh world, ready for the invocation under test.
    async fn prepare(&self) -> Self::World;

    /// The world's channel (its real ports).
    fn channel(world: &Self::World) -> &Channel;

    /// The invocation under test, on `channel` (the world's channel with crashing ports).
    async fn invoke(&self, world: &Self::World, channel: Arc<Channel>);

    /// Runs the work again as the platform would after a crash (redelivery after the visibility
    /// timeout, the next schedule ticks), until it is done.
    async fn recover(&self, world: &Self::World);

    /// Panics unless every side effect happened exactly once; `label` names the run. Returns what
    /// the sandboxes show, which must be the same after every crash as without one.
    async fn check(&self, world: &Self::World, label: &str) -> Value;

    /// Frees the world (stops its sandboxes).
    async fn finish(&self, world: Self::World);
}

/// Crashes the scenario's invocation after each of its port calls in turn, recovering and checking
/// each time (and once without a crash). Returns the port calls the uncrashed invocation made, in
/// order (`walmart.refund_return`), so a test can show which steps it crashed after.
pub async fn crash_at_every_step<S: CrashScenario>(scenario: &S) -> Vec<&'static str> {
    let world = scenario.prepare().await;
    let plan = CrashPlan::counting();
    let channel = Arc::new(crashing(S::channel(&world), &plan));
    let _finished = invoke(&plan, scenario.invoke(&world, channel)).await;
    let calls = plan.calls();
    let made = plan.calls_made();
    scenario.recover(&world).await;
    let expected = scenario.check(&world, "without a crash").await;
    scenario.finish(world).await;
    assert!(calls > 0, "the invocation made no port call");
    for k in 1..=calls {
        let world = scenario.prepare().await;
        let plan = CrashPlan::after(k);
        let channel = Arc::new(crashing(S::channel(&world), &plan));
        let _crashed = invoke(&plan, scenario.invoke(&world, channel)).await;
        scenario.recover(&world).await;
        let crashed_after = plan.calls_made().last().copied().unwrap_or("nothing");
        let label = format!("crashed after port call {k} of {calls} ({crashed_after}; uncrashed: {made:?})");
        let outcome = scenario.check(&world, &label).await;
        assert_eq!(
            outcome, expected,
            "{label}: the sandboxes differ from a run without a crash"
        );
        scenario.finish(world).await;
    }
    made
}

/// A 5xx or 429 burst in the middle of a run: the scenario's invocation runs once per call named in
/// `names` that an undisturbed invocation makes, that call failing with `error` (the invocation
/// itself carries on as it chooses), then the scenario's recovery (the next ticks) and checks, which
/// must show the same as without a fault: the cursor skipped nothing and nothing happened twice.
/// Returns how many such calls the undisturbed invocation made.
pub async fn fault_at_every_page<S: CrashScenario>(
    scenario: &S,
    names: &[&'static str],
    error: ApiError,
) -> u64 {
    let world = scenario.prepare().await;
    let plan = CrashPlan::counting();
    let channel = Arc::new(crashing(S::channel(&world), &plan));
    let _finished = invoke(&plan, scenario.invoke(&world, channel)).await;
    let made = plan.calls_made();
    scenario.recover(&world).await;
    let expected = scenario.check(&world, "without a fault").await;
    scenario.finish(world).await;
    let named = made.iter().filter(|n| names.contains(n)).count() as u64;
    assert!(named > 0, "the invocation made none of {names:?}: {made:?}");
    for k in 1..=named {
        let world = scenario.prepare().await;
        let plan = CrashPlan::failing(k, names, error.clone());
        let channel = Arc::new(crashing(S::channel(&world), &plan));
        let _finished = invoke(&plan, scenario.invoke(&world, channel)).await;
        scenario.recover(&world).await;
        let label = format!("{} on call {k} of {named} of {names:?}", error.kind.as_str());
        let outcome = scenario.check(&world, &label).await;
        assert_eq!(
            outcome, expected,
            "{label}: the sandboxes differ from a run without a fault"
        );
        scenario.finish(world).await;
    }
    named
}

/// The visibility timeout of the SAM template's queues ([`super::queue_settings`]): when a crashed
/// invocation's message is delivered again.
pub const VISIBILITY_TIMEOUT: Duration = Duration::from_secs(180);

/// The wall time an invocation under test is given; its claims' leases last as long in the clock's
/// time, so a round of [`run_again`] outlasts them.
pub const INVOCATION_TIME: Duration = Duration::from_secs(60);

/// One scheduled invocation of `operation` on `channel`, as a schedule tick starts it.
pub async fn tick(channel: Arc<Channel>, operation: Operation) -> Result<RunReport, OpError> {
    let schedule = registry::handlers(operation)
        .schedule
        .expect("the operation runs on a schedule");
    schedule(channel, Deadline::after(INVOCATION_TIME)).await
}

/// One SQS invocation of `operation`: receives one message from `delivery`'s queues (Lambda's event
/// source mapping, never crashed), handles it on `channel`, deletes it when handled and makes it
/// visible again when not. A crash drops this before the delete: the message comes back after the
/// visibility timeout, as SQS redelivers it.
pub async fn deliver_one(
    delivery: &Channel,
    channel: Arc<Channel>,
    operation: Operation,
) -> Result<(), OpError> {
    let (queue, handle) = registry::handlers(operation)
        .queue
        .expect("the operation consumes a queue");
    let received = delivery
        .queues
        .receive(queue, 1, Duration::ZERO)
        .await
        .expect("receive");
    let message = received
        .first()
        .unwrap_or_else(|| panic!("nothing queued for {operation:?}"));
    let outcome = handle(
        channel,
        registry::Message {
            message_id: message.message_id.clone(),
            body: message.body.clone(),
            receive_count: message.receive_count,
        },
        Deadline::after(INVOCATION_TIME),
    )
    .await;
    match &outcome {
        Ok(()) => delivery
            .queues
            .delete(queue, &message.receipt)
            .await
            .expect("delete"),
        Err(_) => delivery
            .queues
            .change_visibility(queue, &message.receipt, Duration::ZERO)
            .await
            .expect("change visibility"),
    }
    outcome
}

/// SQS alone after a crash, `rounds` times: the clock moves past the visibility timeout, then
/// `operation`'s queue is drained (no schedule tick that could make up for a lost message).
pub async fn redeliver(channel: &Arc<Channel>, clock: &ManualClock, operation: Operation, rounds: usize) {
    for _ in 0..rounds {
        clock.advance(VISIBILITY_TIMEOUT + Duration::from_secs(1));
        super::drain(channel, operation).await;
    }
}

/// What the platform does after a crash, `rounds` times: the clock moves past the visibility timeout
/// (and so past every lease an invocation under test took), then each of `operations` runs its
/// schedule tick (if it has one) and drains its queue (if it has one), in order.
pub async fn run_again(channel: &Arc<Channel>, clock: &ManualClock, operations: &[Operation], rounds: usize) {
    for _ in 0..rounds {
        clock.advance(VISIBILITY_TIMEOUT + Duration::from_secs(1));
        for &operation in operations {
            let handlers = registry::handlers(operation);
            if handlers.schedule.is_some()
                && let Err(e) = tick(channel.clone(), operation).await
            {
                tracing::warn!(error = %e, ?operation, "scheduled run failed");
            }
            if handlers.queue.is_some() {
                super::drain(channel, operation).await;
            }
        }
    }
}

struct CrashingStore {
    inner: Arc<dyn StateStore>,
    plan: Arc<CrashPlan>,
}

#[async_trait]
impl StateStore for CrashingStore {
    async fn get(&self, key: &Key) -> Result<Option<Stored>, StoreError> {
        self.plan.call("store.get", self.inner.get(key)).await
    }
    async fn put(&self, item: Item, expect: Expect) -> Result<Version, StoreError> {
        self.plan.call("store.put", self.inner.put(item, expect)).await
    }
    async fn delete(&self, key: &Key, expect: Expect) -> Result<(), StoreError> {
        self.plan
            .call("store.delete", self.inner.delete(key, expect))
            .await
    }
    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        self.plan.call("store.query", self.inner.query(query)).await
    }
    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        self.plan
            .call("store.transact", self.inner.transact(writes))
            .await
    }
    async fn put_many(&self, items: Vec<Item>) -> Result<(), StoreError> {
        self.plan.call("store.put_many", self.inner.put_many(items)).await
    }
    async fn claim(&self, key: &IdempotencyKey, terms: ClaimTerms) -> Result<Claim, StoreError> {
        self.plan.call("store.claim", self.inner.claim(key, terms)).await
    }
    async fn complete(
        &self,
        key: &IdempotencyKey,
        token: &ClaimToken,
        result: Value,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        self.plan
            .call(
                "store.complete",
                self.inner.complete(key, token, result, expires_at),
            )
            .await
    }
    async fn renew(
        &self,
        key: &IdempotencyKey,
        token: &ClaimToken,
        in_progress_until: Timestamp,
    ) -> Result<(), StoreError> {
        self.plan
            .call("store.renew", self.inner.renew(key, token, in_progress_until))
            .await
    }
    async fn release(&self, key: &IdempotencyKey, token: &ClaimToken) -> Result<(), StoreError> {
        self.plan
            .call("store.release", self.inner.release(key, token))
            .await
    }
}

struct CrashingQueues {
    inner: Arc<dyn WorkQueue>,
    plan: Arc<CrashPlan>,
}

#[async_trait]
impl WorkQueue for CrashingQueues {
    async fn send(&self, queue: QueueName, message: OutgoingMessage) -> Result<(), QueueError> {
        self.plan
            .call("queue.send", self.inner.send(queue, message))
            .await
    }
    async fn send_all(&self, queue: QueueName, messages: Vec<OutgoingMessage>) -> Result<(), QueueError> {
        self.plan
            .call("queue.send_all", self.inner.send_all(queue, messages))
            .await
    }
    async fn receive(
        &self,
        queue: QueueName,
        max: usize,
        wait: Duration,
    ) -> Result<Vec<Delivery>, QueueError> {
        self.plan
            .call("queue.receive", self.inner.receive(queue, max, wait))
            .await
    }
    async fn delete(&self, queue: QueueName, receipt: &str) -> Result<(), QueueError> {
        self.plan
            .call("queue.delete", self.inner.delete(queue, receipt))
            .await
    }
    async fn change_visibility(
        &self,
        queue: QueueName,
        receipt: &str,
        timeout: Duration,
    ) -> Result<(), QueueError> {
        self.plan
            .call(
                "queue.change_visibility",
                self.inner.change_visibility(queue, receipt, timeout),
            )
            .await
    }
    async fn dead_letters(&self, queue: QueueName, max: usize) -> Result<Vec<Delivery>, QueueError> {
        self.plan
            .call("queue.dead_letters", self.inner.dead_letters(queue, max))
            .await
    }
    async fn depth(&self, queue: QueueName) -> Result<ports::QueueDepth, QueueError> {
        self.plan.call("queue.depth", self.inner.depth(queue)).await
    }
    async fn redrive(&self, queue: QueueName, max: usize) -> Result<usize, QueueError> {
        self.plan
            .call("queue.redrive", self.inner.redrive(queue, max))
            .await
    }
}

struct CrashingWalmart {
    inner: Arc<dyn Walmart>,
    plan: Arc<CrashPlan>,
}

#[async_trait]
impl Walmart for CrashingWalmart {
    async fn list_items(&self, query: &ItemsQuery, d: &Deadline) -> Result<ItemsPage, ApiError> {
        self.plan
            .api_call("walmart.list_items", self.inner.list_items(query, d))
            .await
    }
    async fn get_item(&self, sku: &Sku, d: &Deadline) -> Result<SellerItem, ApiError> {
        self.plan
            .api_call("walmart.get_item", self.inner.get_item(sku, d))
            .await
    }
    async fn search_catalog_by_gtin(&self, gtin: &Gtin, d: &Deadline) -> Result<Vec<CatalogItem>, ApiError> {
        self.plan
            .api_call(
                "walmart.search_catalog_by_gtin",
                self.inner.search_catalog_by_gtin(gtin, d),
            )
            .await
    }
    async fn submit_feed(
        &self,
        feed_type: FeedType,
        payload: &Value,
        d: &Deadline,
    ) -> Result<FeedId, ApiError> {
        self.plan
            .api_call(
                "walmart.submit_feed",
                self.inner.submit_feed(feed_type, payload, d),
            )
            .await
    }
    async fn recent_feeds(&self, d: &Deadline) -> Result<Vec<FeedSummary>, ApiError> {
        self.plan
            .api_call("walmart.recent_feeds", self.inner.recent_feeds(d))
            .await
    }
    async fn feed_status(
        &self,
        feed_id: &FeedId,
        offset: u32,
        limit: u32,
        d: &Deadline,
    ) -> Result<FeedStatusPage, ApiError> {
        self.plan
            .api_call(
                "walmart.feed_status",
                self.inner.feed_status(feed_id, offset, limit, d),
            )
            .await
    }
    async fn get_inventory(&self, sku: &Sku, d: &Deadline) -> Result<u32, ApiError> {
        self.plan
            .api_call("walmart.get_inventory", self.inner.get_inventory(sku, d))
            .await
    }
    async fn update_inventory(&self, sku: &Sku, quantity: u32, d: &Deadline) -> Result<(), ApiError> {
        self.plan
            .api_call(
                "walmart.update_inventory",
                self.inner.update_inventory(sku, quantity, d),
            )
            .await
    }
    async fn update_price(&self, sku: &Sku, price: Money, d: &Deadline) -> Result<(), ApiError> {
        self.plan
            .api_call("walmart.update_price", self.inner.update_price(sku, price, d))
            .await
    }
    async fn list_orders(&self, query: &OrdersQuery, d: &Deadline) -> Result<OrdersPage, ApiError> {
        self.plan
            .api_call("walmart.list_orders", self.inner.list_orders(query, d))
            .await
    }
    async fn next_orders(&self, cursor: &OrdersCursor, d: &Deadline) -> Result<OrdersPage, ApiError> {
        self.plan
            .api_call("walmart.next_orders", self.inner.next_orders(cursor, d))
            .await
    }
    async fn get_order(&self, po: &PurchaseOrderId, d: &Deadline) -> Result<WalmartOrder, ApiError> {
        self.plan
            .api_call("walmart.get_order", self.inner.get_order(po, d))
            .await
    }
    async fn acknowledge(&self, po: &PurchaseOrderId, d: &Deadline) -> Result<WalmartOrder, ApiError> {
        self.plan
            .api_call("walmart.acknowledge", self.inner.acknowledge(po, d))
            .await
    }
    async fn ship(
        &self,
        po: &PurchaseOrderId,
        lines: &[ShipLine],
        d: &Deadline,
    ) -> Result<WalmartOrder, ApiError> {
        self.plan
            .api_call("walmart.ship", self.inner.ship(po, lines, d))
            .await
    }
    async fn cancel_lines(
        &self,
        po: &PurchaseOrderId,
        lines: &[CancelLine],
        d: &Deadline,
    ) -> Result<WalmartOrder, ApiError> {
        self.plan
            .api_call("walmart.cancel_lines", self.inner.cancel_lines(po, lines, d))
            .await
    }
    async fn refund_lines(
        &self,
        po: &PurchaseOrderId,
        lines: &[RefundLine],
        d: &Deadline,
    ) -> Result<WalmartOrder, ApiError> {
        self.plan
            .api_call("walmart.refund_lines", self.inner.refund_lines(po, lines, d))
            .await
    }
    async fn list_returns(&self, query: &ReturnsQuery, d: &Deadline) -> Result<ReturnsPage, ApiError> {
        self.plan
            .api_call("walmart.list_returns", self.inner.list_returns(query, d))
            .await
    }
    async fn next_returns(&self, cursor: &str, d: &Deadline) -> Result<ReturnsPage, ApiError> {
        self.plan
            .api_call("walmart.next_returns", self.inner.next_returns(cursor, d))
            .await
    }
    async fn get_return(&self, id: &ReturnOrderId, d: &Deadline) -> Result<Option<WalmartReturn>, ApiError> {
        self.plan
            .api_call("walmart.get_return", self.inner.get_return(id, d))
            .await
    }
    async fn refund_return(
        &self,
        id: &ReturnOrderId,
        customer_order_id: &CustomerOrderId,
        return_lines: &[u32],
        d: &Deadline,
    ) -> Result<(), ApiError> {
        self.plan
            .api_call(
                "walmart.refund_return",
                self.inner.refund_return(id, customer_order_id, return_lines, d),
            )
            .await
    }
}

struct CrashingCommerce {
    inner: Arc<dyn Commerce>,
    plan: Arc<CrashPlan>,
}

#[async_trait]
impl Commerce for CrashingCommerce {
    async fn store_setup(&self, needs_msi: bool, d: &Deadline) -> Result<StoreSetup, ApiError> {
        self.plan
            .api_call("commerce.store_setup", self.inner.store_setup(needs_msi, d))
            .await
    }
    async fn products_page(
        &self,
        query: &ProductQuery,
        page: PageRequest,
        d: &Deadline,
    ) -> Result<SearchPage<Product>, ApiError> {
        self.plan
            .api_call("commerce.products_page", self.inner.products_page(query, page, d))
            .await
    }
    async fn products_by_skus(&self, skus: &[Sku], d: &Deadline) -> Result<Vec<Product>, ApiError> {
        self.plan
            .api_call("commerce.products_by_skus", self.inner.products_by_skus(skus, d))
            .await
    }
    async fn configurable_children(&self, sku: &Sku, d: &Deadline) -> Result<Vec<Product>, ApiError> {
        self.plan
            .api_call(
                "commerce.configurable_children",
                self.inner.configurable_children(sku, d),
            )
            .await
    }
    async fn salable_quantity(&self, sku: &Sku, stock_id: u32, d: &Deadline) -> Result<f64, ApiError> {
        self.plan
            .api_call(
                "commerce.salable_quantity",
                self.inner.salable_quantity(sku, stock_id, d),
            )
            .await
    }
    async fn source_items_page(
        &self,
        skus: Option<&[Sku]>,
        page: PageRequest,
        d: &Deadline,
    ) -> Result<SearchPage<SourceItem>, ApiError> {
        self.plan
            .api_call(
                "commerce.source_items_page",
                self.inner.source_items_page(skus, page, d),
            )
            .await
    }
    async fn stock_for_website(&self, website_code: &str, d: &Deadline) -> Result<Stock, ApiError> {
        self.plan
            .api_call(
                "commerce.stock_for_website",
                self.inner.stock_for_website(website_code, d),
            )
            .await
    }
    async fn legacy_stock_item(&self, sku: &Sku, d: &Deadline) -> Result<StockItem, ApiError> {
        self.plan
            .api_call("commerce.legacy_stock_item", self.inner.legacy_stock_item(sku, d))
            .await
    }
    async fn create_order_for(
        &self,
        po: &PurchaseOrder,
        placement: &OrderPlacement,
        d: &Deadline,
    ) -> Result<PlacedOrder, ApiError> {
        self.plan
            .api_call(
                "commerce.create_order_for",
                self.inner.create_order_for(po, placement, d),
            )
            .await
    }
    async fn orders_for_purchase_order(
        &self,
        po: &PurchaseOrderId,
        lookup: &OrderLookup,
        d: &Deadline,
    ) -> Result<Vec<Order>, ApiError> {
        self.plan
            .api_call(
                "commerce.orders_for_purchase_order",
                self.inner.orders_for_purchase_order(po, lookup, d),
            )
            .await
    }
    fn checks_passed(&self, check: &str) -> u64 {
        self.inner.checks_passed(check)
    }
    fn write_settle_time(&self) -> Duration {
        self.inner.write_settle_time()
    }
    async fn orders_page(
        &self,
        since: Timestamp,
        filter: &OrderFilter,
        page: PageRequest,
        d: &Deadline,
    ) -> Result<SearchPage<Order>, ApiError> {
        self.plan
            .api_call(
                "commerce.orders_page",
                self.inner.orders_page(since, filter, page, d),
            )
            .await
    }
    async fn get_order(&self, order_id: CommerceOrderId, d: &Deadline) -> Result<Order, ApiError> {
        self.plan
            .api_call("commerce.get_order", self.inner.get_order(order_id, d))
            .await
    }
    async fn add_order_comment(
        &self,
        order_id: CommerceOrderId,
        comment: &str,
        d: &Deadline,
    ) -> Result<(), ApiError> {
        self.plan
            .api_call(
                "commerce.add_order_comment",
                self.inner.add_order_comment(order_id, comment, d),
            )
            .await
    }
    async fn invoice_order(
        &self,
        order_id: CommerceOrderId,
        items: &[ItemQuantity],
        d: &Deadline,
    ) -> Result<u64, ApiError> {
        self.plan
            .api_call(
                "commerce.invoice_order",
                self.inner.invoice_order(order_id, items, d),
            )
            .await
    }
    async fn cancel_order(&self, order_id: CommerceOrderId, d: &Deadline) -> Result<bool, ApiError> {
        self.plan
            .api_call("commerce.cancel_order", self.inner.cancel_order(order_id, d))
            .await
    }
    async fn shipments_page(
        &self,
        since: Timestamp,
        page: PageRequest,
        d: &Deadline,
    ) -> Result<SearchPage<Shipment>, ApiError> {
        self.plan
            .api_call(
                "commerce.shipments_page",
                self.inner.shipments_page(since, page, d),
            )
            .await
    }
    async fn shipments_by_ids(&self, ids: &[u64], d: &Deadline) -> Result<Vec<Shipment>, ApiError> {
        self.plan
            .api_call("commerce.shipments_by_ids", self.inner.shipments_by_ids(ids, d))
            .await
    }
    async fn returns_supported(&self, d: &Deadline) -> Result<bool, ApiError> {
        self.plan
            .api_call("commerce.returns_supported", self.inner.returns_supported(d))
            .await
    }
    async fn request_return(
        &self,
        request: &ReturnRequest,
        d: &Deadline,
    ) -> Result<ReturnRecorded, ApiError> {
        self.plan
            .api_call("commerce.request_return", self.inner.request_return(request, d))
            .await
    }
    async fn returns_for_order(&self, order_id: CommerceOrderId, d: &Deadline) -> Result<Vec<Rma>, ApiError> {
        self.plan
            .api_call(
                "commerce.returns_for_order",
                self.inner.returns_for_order(order_id, d),
            )
            .await
    }
    async fn credit_memos_page(
        &self,
        since: Timestamp,
        page: PageRequest,
        d: &Deadline,
    ) -> Result<SearchPage<CreditMemo>, ApiError> {
        self.plan
            .api_call(
                "commerce.credit_memos_page",
                self.inner.credit_memos_page(since, page, d),
            )
            .await
    }
    async fn refund_order_offline(
        &self,
        order_id: CommerceOrderId,
        items: &[ItemQuantity],
        arguments: RefundArguments,
        comment: Option<&str>,
        d: &Deadline,
    ) -> Result<CreditMemoId, ApiError> {
        self.plan
            .api_call(
                "commerce.refund_order_offline",
                self.inner
                    .refund_order_offline(order_id, items, arguments, comment, d),
            )
            .await
    }
}
