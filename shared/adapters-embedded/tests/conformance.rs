//! The shared adapter conformance suite, run against the embedded adapters.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use adapters_embedded::{EmbeddedQueues, EmbeddedStore};
use ports::{QueueName, QueueSettings, SystemClock, conformance};

fn queue_settings() -> HashMap<QueueName, QueueSettings> {
    QueueName::ALL
        .into_iter()
        .map(|q| {
            (
                q,
                QueueSettings {
                    visibility_timeout: Duration::from_secs(30),
                    max_receives: 3,
                },
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn embedded_store_in_memory_conforms() {
    conformance::state_store(Arc::new(EmbeddedStore::in_memory())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn embedded_store_on_disk_conforms() {
    let dir = tempdir("store-conformance");
    conformance::state_store(Arc::new(EmbeddedStore::open(&dir).unwrap())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn embedded_queues_conform() {
    conformance::work_queue(Arc::new(EmbeddedQueues::in_memory(
        queue_settings(),
        Arc::new(SystemClock),
    )))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn embedded_queues_on_disk_conform() {
    let dir = tempdir("queue-conformance");
    let queues = EmbeddedQueues::open(&dir, queue_settings(), Arc::new(SystemClock)).unwrap();
    conformance::work_queue(Arc::new(queues)).await;
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("cm-{name}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
