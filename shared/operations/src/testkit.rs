//! The one fixture for operation tests, end-to-end tests, benchmarks and the local runner: both
//! sandboxes on free loopback ports, the channel's credentials for them, a seeded catalog, and a
//! [`Channel`] on the embedded adapters.
#![allow(clippy::expect_used)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use adapters_embedded::{EmbeddedQueues, EmbeddedStore};
use domain::{ChannelSettings, Money};
use ports::{Clock, QueueName, QueueSettings, StateStore, WorkQueue};

use crate::Channel;

pub mod crash;
use crate::wiring::{self, ChannelSecrets, CommerceCredentials, Endpoints, WalmartCredentials};

/// The sandbox crates, for tests that drive them beyond this fixture (their control clients' types).
pub use {commerce_sandbox, walmart_sandbox};

pub use commerce_sandbox::SandboxSettings as CommerceSandboxSettings;
pub use walmart_sandbox::SandboxSettings as WalmartSandboxSettings;

/// Both sandboxes, serving on loopback.
pub struct Sandboxes {
    pub walmart: walmart_sandbox::RunningSandbox,
    pub commerce: commerce_sandbox::RunningSandbox,
}

fn any_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

impl Sandboxes {
    /// Starts both sandboxes on free ports, on `clock`'s time.
    pub async fn start(
        clock: Arc<dyn Clock>,
        walmart: WalmartSandboxSettings,
        commerce: CommerceSandboxSettings,
    ) -> std::io::Result<Self> {
        Ok(Self {
            walmart: walmart_sandbox::WalmartSandbox::start(walmart, clock.clone(), any_port()).await?,
            commerce: commerce_sandbox::CommerceSandbox::start(commerce, clock, any_port()).await?,
        })
    }

    /// With default settings, except feeds that finish within a minute of sandbox time.
    pub async fn start_default(clock: Arc<dyn Clock>) -> std::io::Result<Self> {
        let walmart = WalmartSandboxSettings {
            feed_received_secs: 10,
            feed_processing_secs: 50,
            ..Default::default()
        };
        Self::start(
            clock,
            walmart,
            CommerceSandboxSettings::default().with_purchase_order(),
        )
        .await
    }

    pub fn endpoints(&self, store_code: &str) -> Endpoints {
        Endpoints {
            walmart_base_url: self.walmart.base_url(),
            commerce_base_url: self.commerce.base_url(),
            store_code: store_code.to_owned(),
        }
    }

    /// The credentials both sandboxes accept by default.
    pub fn secrets(&self) -> ChannelSecrets {
        let oauth = commerce_sandbox::OAuthCredentials::sandbox();
        ChannelSecrets {
            walmart: WalmartCredentials {
                client_id: walmart_sandbox::DEFAULT_CLIENT_ID.to_owned(),
                client_secret: walmart_sandbox::DEFAULT_CLIENT_SECRET.to_owned(),
            },
            commerce: CommerceCredentials::OAuth1 {
                consumer_key: oauth.consumer_key,
                consumer_secret: oauth.consumer_secret,
                access_token: oauth.access_token,
                access_token_secret: oauth.access_token_secret,
            },
            walmart_events: None,
        }
    }

    pub fn walmart_control(&self) -> walmart_sandbox::ControlClient {
        self.walmart.control()
    }

    pub fn commerce_control(&self) -> commerce_sandbox::ControlClient {
        self.commerce.control()
    }

    /// A channel talking to these sandboxes through the real HTTP clients, keeping its state in
    /// `store` and `queues`.
    pub fn channel(
        &self,
        settings: ChannelSettings,
        store: Arc<dyn StateStore>,
        queues: Arc<dyn WorkQueue>,
        clock: Arc<dyn Clock>,
    ) -> Channel {
        let apis = wiring::connect(
            &self.endpoints(&settings.store_code),
            &self.secrets(),
            clock.clone(),
        )
        .expect("the sandboxes' endpoints and credentials are valid");
        Channel {
            settings,
            store,
            queues,
            walmart: apis.walmart,
            commerce: apis.commerce,
            clock,
        }
    }

    /// A channel on a fresh in-memory embedded store and queues.
    pub fn embedded_channel(
        &self,
        settings: ChannelSettings,
        clock: Arc<dyn Clock>,
    ) -> (Channel, Arc<EmbeddedQueues>) {
        let queues = Arc::new(EmbeddedQueues::in_memory(queue_settings(), clock.clone()));
        let channel = self.channel(
            settings,
            Arc::new(EmbeddedStore::in_memory()),
            queues.clone(),
            clock,
        );
        (channel, queues)
    }

    pub async fn shutdown(self) {
        self.walmart.shutdown().await;
        self.commerce.shutdown().await;
    }
}

/// Queue settings as the SAM template has them (visibility timeout, receives before the DLQ).
pub fn queue_settings() -> HashMap<QueueName, QueueSettings> {
    QueueName::ALL
        .into_iter()
        .map(|q| {
            (
                q,
                QueueSettings {
                    visibility_timeout: Duration::from_secs(180),
                    max_receives: 5,
                },
            )
        })
        .collect()
}

/// What [`seed_catalog`] made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeededCatalog {
    /// SKUs whose UPC is in Walmart's catalog: they match.
    pub matching: Vec<String>,
    /// SKUs with an invalid UPC (bad check digit): listing errors.
    pub bad_gtin: Vec<String>,
    /// SKUs with a valid UPC Walmart does not know: Walmart rejects the match.
    pub unknown_on_walmart: Vec<String>,
}

/// Seeds `count` simple products selected for Walmart (`walmart_enabled` = 1), priced 19.99 with 10
/// units at the default source, and the matching items in Walmart's catalog. Every `bad_every`-th
/// product (0: none) has a bad check digit and every `unknown_every`-th (0: none) a UPC Walmart's
/// catalog lacks. SKUs are `{prefix}{n:05}`.
pub async fn seed_catalog(
    sandboxes: &Sandboxes,
    prefix: &str,
    count: usize,
    bad_every: usize,
    unknown_every: usize,
) -> SeededCatalog {
    let mut seeded = SeededCatalog {
        matching: Vec::new(),
        bad_gtin: Vec::new(),
        unknown_on_walmart: Vec::new(),
    };
    let mut products = Vec::with_capacity(count);
    let mut walmart_items = Vec::new();
    for n in 0..count {
        let sku = format!("{prefix}{n:05}");
        // Distinct UPCs per prefix, so several seeded catalogs can share one sandbox.
        let base = u64::from(
            prefix
                .bytes()
                .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
                % 9000,
        );
        let valid = commerce_sandbox::upc_for(base * 100_000 + n as u64);
        let upc = if bad_every > 0 && n % bad_every == bad_every - 1 {
            seeded.bad_gtin.push(sku.clone());
            corrupt_check_digit(&valid)
        } else if unknown_every > 0 && n % unknown_every == unknown_every - 1 {
            seeded.unknown_on_walmart.push(sku.clone());
            valid
        } else {
            seeded.matching.push(sku.clone());
            walmart_items.push(walmart_sandbox::CatalogItemSpec {
                gtin: valid.clone(),
                product_name: format!("Walmart item {sku}"),
                brand: None,
                product_type: None,
                price: Some(Money::from_cents(1999)),
                wpid: None,
            });
            valid
        };
        products.push(commerce_sandbox::ProductSeed {
            sku,
            name: Some(format!("Product {n}")),
            price: Some(19.99),
            weight: Some(1.0),
            upc: Some(upc),
            walmart_enabled: Some(true),
            stock: [("default".to_owned(), 10.0)].into(),
            ..Default::default()
        });
    }
    for chunk in products.chunks(2_000) {
        sandboxes
            .commerce_control()
            .seed_products(chunk)
            .await
            .expect("seed Commerce products");
    }
    for chunk in walmart_items.chunks(2_000) {
        sandboxes
            .walmart_control()
            .add_catalog_items(chunk)
            .await
            .expect("seed Walmart catalog");
    }
    seeded
}

fn corrupt_check_digit(upc: &str) -> String {
    let (body, check) = upc.split_at(upc.len() - 1);
    let wrong = (check.bytes().next().map_or(0, |b| b - b'0') + 1) % 10;
    format!("{body}{wrong}")
}

/// Plays `operation`'s queue on `channel`'s queues as Lambda's event source mapping would: receives
/// batches of up to 10, runs the registry's handler on each message (concurrently, as the glue
/// does), deletes the messages that succeeded and makes failed ones visible again. Stops when the
/// queue is empty or a batch had no success. Returns (handled, failed).
pub async fn drain(channel: &Arc<Channel>, operation: domain::Operation) -> (usize, usize) {
    let (queue, handle) = crate::registry::handlers(operation)
        .queue
        .expect("the operation consumes a queue");
    let (mut handled, mut failed) = (0, 0);
    loop {
        let batch = channel
            .queues
            .receive(queue, 10, Duration::ZERO)
            .await
            .expect("receive");
        if batch.is_empty() {
            return (handled, failed);
        }
        let runs = batch.iter().map(|delivery| {
            let message = crate::registry::Message {
                message_id: delivery.message_id.clone(),
                body: delivery.body.clone(),
                receive_count: delivery.receive_count,
            };
            handle(
                channel.clone(),
                message,
                ports::Deadline::after(Duration::from_secs(300)),
            )
        });
        let outcomes = futures::future::join_all(runs).await;
        let mut progress = false;
        for (delivery, outcome) in batch.iter().zip(outcomes) {
            match outcome {
                Ok(()) => {
                    progress = true;
                    handled += 1;
                    channel
                        .queues
                        .delete(queue, &delivery.receipt)
                        .await
                        .expect("delete");
                }
                Err(e) => {
                    tracing::warn!(error = %e, "message failed");
                    failed += 1;
                    let _ = channel
                        .queues
                        .change_visibility(queue, &delivery.receipt, Duration::ZERO)
                        .await;
                }
            }
        }
        if !progress {
            return (handled, failed);
        }
    }
}

/// Makes seeded SKUs live listings at once, as if imported, matched and synced: seller items on
/// Walmart with `quantity` units at the seeded price (19.99), Match listings from the Commerce
/// products, and offers recording that quantity and price as sent. For tests of what follows
/// matching (inventory, prices, orders) without waiting for feeds.
pub async fn seed_live_listings(sandboxes: &Sandboxes, channel: &Channel, skus: &[String], quantity: u32) {
    use ports::Records;
    let deadline = ports::Deadline::none();
    let sku_ids: Vec<domain::Sku> = skus
        .iter()
        .map(|s| domain::Sku::new(s.as_str()).expect("valid sku"))
        .collect();
    let products = channel
        .commerce
        .products_by_skus(&sku_ids, &deadline)
        .await
        .expect("seeded products");
    let price = Money::from_cents(1999);
    let specs: Vec<walmart_sandbox::SellerItemSpec> = products
        .iter()
        .map(|p| walmart_sandbox::SellerItemSpec {
            sku: p.sku.clone(),
            gtin: p
                .attribute(&channel.settings.gtin_attribute)
                .expect("seeded UPC")
                .to_owned(),
            price: Some(price),
            quantity: Some(quantity),
        })
        .collect();
    for chunk in specs.chunks(2_000) {
        sandboxes
            .walmart_control()
            .add_seller_items(chunk)
            .await
            .expect("seller items");
    }
    let now = channel.clock.now();
    // From the sandbox's control API: asking the channel's client would remember the store's
    // set-up before the test under way changes it.
    let config = sandboxes
        .commerce_control()
        .store_config()
        .await
        .expect("store config");
    let zone = domain::StoreTimeZone::named(config["timezone"].as_str().unwrap_or("UTC"))
        .expect("the sandbox's time zone");
    let feed = domain::FeedId::new("seeded").expect("feed id");
    let mut listings = Vec::new();
    let mut offers = Vec::new();
    let control = sandboxes.walmart_control();
    let wpids: HashMap<String, domain::Wpid> = {
        use futures::StreamExt;
        futures::stream::iter(products.iter())
            .map(|product| {
                let control = control.clone();
                async move {
                    let item = control.seller_item(&product.sku).await.expect("seller item");
                    let wpid = domain::Wpid::new(item["wpid"].as_str().expect("wpid")).expect("valid wpid");
                    (product.sku.clone(), wpid)
                }
            })
            .buffer_unordered(16)
            .collect()
            .await
    };
    for product in &products {
        let sku = domain::Sku::new(product.sku.as_str()).expect("valid sku");
        let wpid = wpids[&product.sku].clone();
        let mut listing = domain::Listing::import(
            channel.settings.id.clone(),
            sku.clone(),
            product.to_snapshot(&channel.settings.gtin_attribute, &zone),
            now,
        );
        listing.submitted(feed.clone(), now).expect("draft");
        listing
            .matched(wpid, channel.settings.walmart_store_live, now)
            .expect("processing");
        listings.push(listing);
        let mut offer = domain::OfferState::new(channel.settings.id.clone(), sku);
        offer.quantity_sent(quantity, domain::SentVia::Single, now);
        offer.price_sent(price, domain::SentVia::Single, now);
        offers.push(offer);
    }
    channel.store.save_all(&listings).await.expect("listings");
    channel.store.save_all(&offers).await.expect("offers");
}
