//! The shared fixture works: both sandboxes answer the channel's ports with the seeded catalog.

use std::sync::Arc;

use domain::{ChannelId, ChannelSettings, Gtin, ProductSelection, Timestamp};
use operations::testkit::{Sandboxes, seed_catalog};
use ports::commerce::ProductQuery;
use ports::{Clock, Deadline, ManualClock, PageRequest};

#[tokio::test]
async fn sandboxes_serve_the_seeded_catalog_through_the_ports() {
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::at(Timestamp::from_millis(1_800_000_000_000)));
    let sandboxes = Sandboxes::start_default(clock.clone()).await.unwrap();
    let seeded = seed_catalog(&sandboxes, "KIT-", 12, 5, 6).await;
    assert_eq!(seeded.bad_gtin.len(), 2);
    assert_eq!(seeded.unknown_on_walmart.len(), 2);
    let settings = ChannelSettings::with_defaults(ChannelId::new("main").unwrap());
    let (channel, _queues) = sandboxes.embedded_channel(settings.clone(), clock);
    let deadline = Deadline::none();
    let query = ProductQuery::Selected {
        selection: settings.selection.clone(),
        changed_since: None,
    };
    let page = channel
        .commerce
        .products_page(&query, PageRequest::first(100), &deadline)
        .await
        .unwrap();
    assert_eq!(page.total_count, 12);
    let matching = page.items.iter().find(|p| p.sku == seeded.matching[0]).unwrap();
    let gtin = Gtin::parse(matching.attribute("upc").unwrap()).unwrap();
    let found = channel
        .walmart
        .search_catalog_by_gtin(&gtin, &deadline)
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert!(matches!(settings.selection, ProductSelection::Attribute { .. }));
    sandboxes.shutdown().await;
}
