//! The harness reaches moto and the sandboxes, and Lambda dispatch refuses triggers an operation lacks.

use std::sync::Arc;

use domain::{ChannelId, ChannelSettings, Operation};
use e2e::World;
use ports::{Clock, SystemClock};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn world_starts_on_moto_and_dispatch_refuses_missing_triggers() {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let world = World::start(
        ChannelSettings::with_defaults(ChannelId::new("main").unwrap()),
        clock,
    )
    .await;
    assert_eq!(world.queue_urls.len(), ports::QueueName::ALL.len());
    for op in Operation::ALL {
        let handlers = operations::registry::handlers(op);
        if handlers.schedule.is_none() {
            let err = world.tick(op).await.unwrap_err();
            assert!(err.to_string().contains("no schedule trigger"), "{op:?}: {err}");
        }
        if handlers.queue.is_none() {
            let err = world.deliver(op, &["{}"]).await.unwrap_err();
            assert!(err.to_string().contains("no SQS trigger"), "{op:?}: {err}");
        }
    }
}
