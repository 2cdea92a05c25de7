//! The shared adapter conformance suite, run against DynamoDB and SQS through the real AWS SDK on a
//! moto server.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use adapters_aws::{DynamoDbStore, SqsQueues, create_queue_with_dlq, create_table};
use ports::{QueueName, QueueSettings, conformance};
use test_support::{moto_sdk_config, unique_name};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dynamodb_store_conforms() {
    let config = moto_sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let table = unique_name("cm-state");
    create_table(&client, &table).await.unwrap();
    conformance::state_store(Arc::new(DynamoDbStore::new(client, table))).await;
}

/// The racing checks alone: what the stress run in `docs/reliability.md` ("moto under load") repeats.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dynamodb_store_concurrency_conforms() {
    let config = moto_sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let table = unique_name("cm-state");
    create_table(&client, &table).await.unwrap();
    conformance::state_store_concurrency(Arc::new(DynamoDbStore::new(client, table))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqs_queues_conform() {
    let config = moto_sdk_config().await;
    let client = aws_sdk_sqs::Client::new(&config);
    let settings = QueueSettings {
        visibility_timeout: Duration::from_secs(30),
        max_receives: 2,
    };
    let mut urls = BTreeMap::new();
    for q in QueueName::ALL {
        let url = create_queue_with_dlq(&client, &unique_name(q.as_str()), settings)
            .await
            .unwrap();
        urls.insert(q, url);
    }
    conformance::work_queue(Arc::new(SqsQueues::new(client, urls))).await;
}
