//! The Lambda binaries are real: `order-import` and `order-create` run under `cargo lambda watch` (a
//! local Lambda Runtime API), configured exactly as the template configures them, against moto
//! (DynamoDB, SQS, Secrets Manager created from the template's own definitions) and the Walmart and
//! Commerce sandboxes. A buyer orders on Walmart; `order-import`, given the template's schedule input,
//! records the order and queues it; `order-create` gets that message from the real queue in a batch
//! with a malformed one, must create exactly one Commerce order and report exactly the malformed
//! message as a batch item failure. Each must cold-start (config, secret, SDK), log JSON and never a
//! credential. `walmart-events` answers a signed and a forged Walmart delivery, sent with
//! `cargo lambda invoke --data-file` as Function URL events: the first queued, the second refused.
//!
//! Needs cargo-lambda (`CARGO_LAMBDA`, else `<workspace>/.venv/bin/cargo-lambda`, else PATH) and moto
//! (see `test-support`); `tests/run.sh` installs both. Builds the two functions in debug for the host,
//! in the same feature resolution as the workspace's tests so that CI reuses that build (see `build`).
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use serde_json::{Value, json};
use tokio::process::{Child, Command};

use domain::Operation;
use infra_checks::eval::{Bindings, Evaluator};
use infra_checks::model::{FunctionSpec, Stack};
use infra_checks::topology::queue_logical_id;
use infra_checks::{load_stack, workspace_root};
use ports::{QueueName, SystemClock};

const REGION: &str = "us-east-1";
/// How long an invoke waits for the function (its cold start included) before watch answers 408.
const INVOKE_TIMEOUT_SECS: u64 = 60;
/// The HMAC key Walmart signs notifications with (the secret's `walmart_events.secret`).
const WALMART_EVENTS_SECRET: &str = "invoke-test-walmart-events-key";

fn cargo_lambda() -> PathBuf {
    if let Ok(path) = std::env::var("CARGO_LAMBDA") {
        return PathBuf::from(path);
    }
    let venv = workspace_root().join(".venv/bin/cargo-lambda");
    if venv.exists() {
        return venv;
    }
    std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("cargo-lambda"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .find(|p| p.exists())
        .unwrap_or_else(|| {
            panic!(
                "cargo-lambda is needed: {} does not exist and none is on PATH. Run tests/run.sh \
                 (it installs cargo-lambda into the venv) or set CARGO_LAMBDA.",
                venv.display()
            )
        })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free port")
}

async fn sdk(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("test", "test", None, None, "infra-checks"))
        .load()
        .await
}

/// Physical names of what the test created from the template, bound for evaluation.
struct Created {
    bindings: Bindings,
    queue_urls: BTreeMap<QueueName, String>,
    queue_arns: BTreeMap<QueueName, String>,
    /// Credential values put into the secret: they must never appear in the logs.
    credential_values: Vec<String>,
}

/// Creates the state table, the queues with their dead-letter queues and the secret in moto, each
/// from the template's own properties.
async fn create_resources(stack: &Stack, sdk: &SdkConfig, run: &str, commerce_url: &str) -> Created {
    let template = &stack.template;
    let mut bindings = Bindings::with_defaults(template, &[("CommerceBaseUrl", commerce_url)]);

    // The table.
    let table = template.resource("StateTable").expect("StateTable")["Properties"].clone();
    let ddb = aws_sdk_dynamodb::Client::new(sdk);
    let table_name = format!("cm-invoke-{run}");
    let attr = |a: &Value| {
        AttributeDefinition::builder()
            .attribute_name(a["AttributeName"].as_str().unwrap())
            .attribute_type(ScalarAttributeType::from(a["AttributeType"].as_str().unwrap()))
            .build()
            .unwrap()
    };
    let key = |k: &Value| {
        KeySchemaElement::builder()
            .attribute_name(k["AttributeName"].as_str().unwrap())
            .key_type(KeyType::from(k["KeyType"].as_str().unwrap()))
            .build()
            .unwrap()
    };
    let mut create = ddb
        .create_table()
        .table_name(&table_name)
        .billing_mode(BillingMode::from(table["BillingMode"].as_str().unwrap()))
        .set_attribute_definitions(Some(
            table["AttributeDefinitions"]
                .as_array()
                .unwrap()
                .iter()
                .map(attr)
                .collect(),
        ))
        .set_key_schema(Some(
            table["KeySchema"].as_array().unwrap().iter().map(key).collect(),
        ));
    for gsi in table["GlobalSecondaryIndexes"].as_array().unwrap() {
        create = create.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(gsi["IndexName"].as_str().unwrap())
                .set_key_schema(Some(
                    gsi["KeySchema"].as_array().unwrap().iter().map(key).collect(),
                ))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::from(
                            gsi["Projection"]["ProjectionType"].as_str().unwrap(),
                        ))
                        .set_non_key_attributes(
                            gsi["Projection"]["NonKeyAttributes"]
                                .as_array()
                                .map(|names| names.iter().map(|n| n.as_str().unwrap().to_owned()).collect()),
                        )
                        .build(),
                )
                .build()
                .unwrap(),
        );
    }
    create.send().await.expect("create table in moto");
    let ttl = &table["TimeToLiveSpecification"];
    ddb.update_time_to_live()
        .table_name(&table_name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name(ttl["AttributeName"].as_str().unwrap())
                .enabled(ttl["Enabled"].as_bool().unwrap())
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("enable TTL in moto");
    bindings.bind_ref("StateTable", &table_name);

    // The queues, each dead-letter queue first.
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let mut queue_urls = BTreeMap::new();
    let mut queue_arns = BTreeMap::new();
    for queue in QueueName::ALL {
        let id = queue_logical_id(queue);
        let spec = stack.queue(&id).expect("queue in template");
        let redrive = spec.redrive.as_ref().expect("redrive policy");
        let dlq_id = redrive.dead_letter_queue.as_deref().expect("dead-letter queue");
        let dlq_url = sqs
            .create_queue()
            .queue_name(format!("{}-dlq-{run}", queue.as_str()))
            .send()
            .await
            .expect("create dead-letter queue")
            .queue_url
            .expect("dlq url");
        let dlq_arn = queue_arn(&sqs, &dlq_url).await;
        let policy = json!({
            "deadLetterTargetArn": dlq_arn,
            "maxReceiveCount": redrive.max_receive_count.expect("maxReceiveCount"),
        });
        let url = sqs
            .create_queue()
            .queue_name(format!("{}-{run}", queue.as_str()))
            .attributes(
                QueueAttributeName::VisibilityTimeout,
                spec.visibility_timeout.as_secs().to_string(),
            )
            .attributes(QueueAttributeName::RedrivePolicy, policy.to_string())
            .send()
            .await
            .expect("create queue")
            .queue_url
            .expect("queue url");
        let arn = queue_arn(&sqs, &url).await;
        bindings.bind_ref(&id, &url).bind_attribute(&id, "Arn", &arn);
        bindings
            .bind_ref(dlq_id, &dlq_url)
            .bind_attribute(dlq_id, "Arn", &dlq_arn);
        queue_urls.insert(queue, url);
        queue_arns.insert(queue, arn);
    }

    // The secret: the template's own shape, every value filled in with the sandboxes' credentials.
    let shape =
        template.resource("CredentialsSecret").expect("CredentialsSecret")["Properties"]["SecretString"]
            .as_str()
            .expect("SecretString")
            .to_owned();
    let mut secret: Value = serde_json::from_str(&shape).expect("SecretString is JSON");
    let walmart = walmart_sandbox::SandboxSettings::default();
    let commerce = commerce_sandbox::OAuthCredentials::sandbox();
    let values = [
        ("walmart", "client_id", walmart.client_id.clone()),
        ("walmart", "client_secret", walmart.client_secret.clone()),
        ("commerce", "consumer_key", commerce.consumer_key.clone()),
        ("commerce", "consumer_secret", commerce.consumer_secret.clone()),
        ("commerce", "access_token", commerce.access_token.clone()),
        ("walmart_events", "secret", WALMART_EVENTS_SECRET.to_owned()),
        (
            "commerce",
            "access_token_secret",
            commerce.access_token_secret.clone(),
        ),
    ];
    for (section, field, value) in &values {
        let slot = secret
            .get_mut(*section)
            .and_then(|s| s.get_mut(*field))
            .unwrap_or_else(|| panic!("the template's secret has no {section}.{field}"));
        *slot = Value::String(value.clone());
    }
    let secret_arn = aws_sdk_secretsmanager::Client::new(sdk)
        .create_secret()
        .name(format!("cm-invoke-{run}"))
        .secret_string(secret.to_string())
        .send()
        .await
        .expect("create secret in moto")
        .arn
        .expect("secret arn");
    bindings.bind_ref("CredentialsSecret", &secret_arn);
    // The receiver's Function URL, which order-import subscribes Walmart to.
    bindings.bind_attribute(
        "WalmartEventsFunctionUrl",
        "FunctionUrl",
        "https://events.invalid/",
    );

    Created {
        bindings,
        queue_urls,
        queue_arns,
        credential_values: values
            .iter()
            .filter(|(_, field, _)| field.contains("secret"))
            .map(|(_, _, v)| v.clone())
            .collect(),
    }
}

async fn queue_arn(sqs: &aws_sdk_sqs::Client, url: &str) -> String {
    sqs.get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("queue attributes")
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn))
        .cloned()
        .expect("queue arn")
}

/// The function's environment as the deployed stack would give it: the template's variables
/// evaluated, the Walmart URL pointed at the sandbox, and what Lambda adds for `LoggingConfig`.
fn function_environment(
    stack: &Stack,
    function: &FunctionSpec,
    created: &Created,
    walmart_url: &str,
) -> BTreeMap<String, String> {
    let evaluator = Evaluator::new(&stack.template, &created.bindings);
    let mut env: BTreeMap<String, String> = function
        .environment
        .iter()
        .map(|(name, value)| {
            let value = evaluator
                .string(value)
                .unwrap_or_else(|e| panic!("{}: {name} does not evaluate: {e}", function.logical_id));
            (name.clone(), value)
        })
        .collect();
    // The template maps WalmartEnvironment to Walmart's real hosts; here the sandbox stands in.
    env.insert("WALMART_BASE_URL".into(), walmart_url.to_owned());
    let logging = function.logging_config.clone().expect("LoggingConfig");
    env.insert(
        "AWS_LAMBDA_LOG_FORMAT".into(),
        logging["LogFormat"].as_str().expect("LogFormat").to_owned(),
    );
    env.insert(
        "AWS_LAMBDA_LOG_LEVEL".into(),
        evaluator
            .string(&logging["ApplicationLogLevel"])
            .expect("log level"),
    );
    env
}

/// `cargo lambda watch` serving one function: watch runs the Lambda Runtime and Invoke APIs
/// (`--only-lambda-apis`) and the test starts the function binary against them, with exactly the
/// variables watch would give it. Watch would start it with `cargo run --bin NAME` instead, which
/// resolves features for that function alone and rebuilds nearly every dependency (see [`build`]).
/// Both run in process groups of their own, stopped with the `Watch`.
struct Watch {
    server: Child,
    function: Child,
    port: u16,
    log: PathBuf,
}

impl Watch {
    async fn start(
        root: &Path,
        env: &BTreeMap<String, String>,
        moto: &str,
        (function, binary): (&str, &Path),
        log: PathBuf,
    ) -> Self {
        let port = free_port();
        let log_file = std::fs::File::create(&log).expect("watch log file");
        let server = Command::new(cargo_lambda())
            .args([
                "lambda",
                "watch",
                "--only-lambda-apis",
                "--ignore-changes",
                "--quiet",
            ])
            .args(["-A", "127.0.0.1", "-P", &port.to_string()])
            .args(["--timeout", &INVOKE_TIMEOUT_SECS.to_string()])
            .current_dir(root)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("log handle"))
            .stderr(log_file.try_clone().expect("log handle"))
            .process_group(0)
            .spawn()
            .expect("start cargo lambda watch");
        let started = Instant::now();
        while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "cargo lambda watch did not listen on {port} within 60 s:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let function = Command::new(binary)
            .current_dir(root)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("log handle"))
            .stderr(log_file)
            .process_group(0)
            // Whatever AWS settings the developer has must not leak into the function.
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN")
            .env("AWS_ENDPOINT_URL", moto)
            .env("AWS_REGION", REGION)
            .env("AWS_DEFAULT_REGION", REGION)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .envs(env)
            // What watch sets for the functions it starts (cargo-lambda 1.9, scheduler and watcher).
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "4096")
            .env(
                "AWS_LAMBDA_RUNTIME_API",
                format!("http://127.0.0.1:{port}/.rt/{function}"),
            )
            .env("AWS_LAMBDA_FUNCTION_NAME", function)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", binary.display()));
        Self {
            server,
            function,
            port,
            log,
        }
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Invokes through the Lambda Invoke API the watch server emulates (what `cargo lambda invoke`
    /// and the AWS SDK call): the status and the JSON answer.
    async fn invoke(&self, function: &str, payload: &Value) -> (u16, Value) {
        let url = format!(
            "http://127.0.0.1:{}/2015-03-31/functions/{function}/invocations",
            self.port
        );
        let response = reqwest::Client::new()
            .post(&url)
            .json(payload)
            .timeout(Duration::from_secs(INVOKE_TIMEOUT_SECS + 30))
            .send()
            .await
            .unwrap_or_else(|e| panic!("invoke {function}: {e}\n{}", self.output()));
        let status = response.status().as_u16();
        let body = response.text().await.unwrap_or_default();
        let value = serde_json::from_str(&body).unwrap_or(Value::String(body));
        (status, value)
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        for child in [&self.function, &self.server] {
            if let Some(pid) = child.id() {
                // The whole group this test created.
                let _ = std::process::Command::new("kill")
                    .args(["-TERM", "--", &format!("-{pid}")])
                    .status();
            }
        }
    }
}

/// Builds the functions in the same build as the workspace's tests: `--workspace --tests` resolves
/// features as `cargo test --workspace` (CI) does, so every dependency comes from that build. A
/// plain `cargo build --bin NAME` (or watch's `cargo run --bin NAME`) resolves them for the function
/// alone, where tokio, serde, hyper and others lack features the tests enable, and rebuilds nearly
/// every dependency (minutes of CI). The binaries' paths, by name.
async fn build(root: &Path, binaries: &[&str]) -> BTreeMap<String, PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .args([
            "build",
            "--workspace",
            "--tests",
            "--message-format=json-render-diagnostics",
        ])
        .current_dir(root)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit());
    for binary in binaries {
        command.args(["--bin", binary]);
    }
    let output = command.output().await.expect("run cargo build");
    assert!(output.status.success(), "cargo build of {binaries:?} failed");
    let built: BTreeMap<String, PathBuf> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|m| {
            m["reason"] == "compiler-artifact"
                && m["profile"]["test"] == false
                && m["target"]["kind"]
                    .as_array()
                    .is_some_and(|kinds| kinds.contains(&json!("bin")))
        })
        .filter_map(|m| {
            let name = m["target"]["name"].as_str()?.to_owned();
            let executable = PathBuf::from(m["executable"].as_str()?);
            binaries.contains(&name.as_str()).then_some((name, executable))
        })
        .collect();
    assert_eq!(
        built.len(),
        binaries.len(),
        "cargo build of {binaries:?} named {built:?}"
    );
    built
}

/// A function's answer is its handler's: a result, or an error with a type and message. A 408 means
/// the function never reached its handler (failed cold start): the watch log says why.
fn assert_answered_from_handler(function: &str, status: u16, answer: &Value, watch: &Watch) {
    assert_ne!(
        status,
        408,
        "{function} never answered: its cold start failed (config, secret or SDK)?\n{}",
        watch.output()
    );
    if status != 200 {
        let error_type = answer
            .get("errorType")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let message = answer
            .get("errorMessage")
            .and_then(Value::as_str)
            .unwrap_or_default();
        assert!(
            !error_type.is_empty() && !message.is_empty(),
            "{function} answered {status} without a typed error: {answer}\n{}",
            watch.output()
        );
        println!("{function} answered {status}: {error_type}: {message}");
    } else {
        println!("{function} answered: {answer}");
    }
}

/// The function logged JSON (LoggingConfig JSON) and no credential.
fn assert_logs(function: &str, watch: &Watch, credentials: &[String]) {
    let output = watch.output();
    let json_lines = output
        .lines()
        .filter(|l| serde_json::from_str::<Value>(l).is_ok_and(|v| v.is_object()))
        .count();
    assert!(json_lines > 0, "{function} logged no JSON line:\n{output}");
    for secret in credentials {
        assert!(
            !output.contains(secret.as_str()),
            "{function} logged a credential:\n{output}"
        );
    }
}

/// The schedule's Input as EventBridge Scheduler fills it in.
fn schedule_event(function: &FunctionSpec) -> Value {
    let input = function
        .schedules
        .first()
        .and_then(|s| s.input.clone())
        .expect("schedule Input");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let filled = input
        .replace("<aws.scheduler.execution-id>", &uuid::Uuid::new_v4().to_string())
        .replace("<aws.scheduler.scheduled-time>", &rfc3339(now))
        .replace(
            "<aws.scheduler.schedule-arn>",
            "arn:aws:scheduler:us-east-1:123456789012:schedule/default/order-import",
        )
        .replace("<aws.scheduler.attempt-number>", "1");
    serde_json::from_str(&filled).expect("the schedule Input is JSON once filled in")
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (civil-from-days, proleptic Gregorian).
fn rfc3339(epoch_secs: u64) -> String {
    let days = (epoch_secs / 86_400) as i64;
    let secs = epoch_secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

/// Sends `bodies` to the queue and receives them back, as the event source mapping would, into an
/// SQS event for Lambda.
/// Sends `bodies` to the queue, then receives `expected` messages (those plus any already queued) as
/// Lambda's event source mapping would deliver them.
async fn sqs_event(
    sdk: &SdkConfig,
    url: &str,
    arn: &str,
    bodies: &[&str],
    expected: usize,
) -> (Value, Vec<(String, String)>) {
    let sqs = aws_sdk_sqs::Client::new(sdk);
    for body in bodies {
        sqs.send_message()
            .queue_url(url)
            .message_body(*body)
            .send()
            .await
            .expect("send");
    }
    let mut records = Vec::new();
    let started = Instant::now();
    while records.len() < expected {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "messages did not come back from moto"
        );
        let out = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .expect("receive");
        for m in out.messages() {
            let attributes: BTreeMap<String, String> = m
                .attributes()
                .map(|a| {
                    a.iter()
                        .map(|(k, v)| (k.as_str().to_owned(), v.clone()))
                        .collect()
                })
                .unwrap_or_default();
            records.push(json!({
                "messageId": m.message_id(),
                "receiptHandle": m.receipt_handle(),
                "body": m.body(),
                "attributes": attributes,
                "messageAttributes": {},
                "md5OfBody": m.md5_of_body(),
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": REGION,
            }));
        }
    }
    let ids = records
        .iter()
        .map(|r| {
            let id = r["messageId"].as_str().expect("message id").to_owned();
            (id, r["body"].as_str().unwrap_or_default().to_owned())
        })
        .collect();
    (json!({ "Records": records }), ids)
}

#[tokio::test(flavor = "multi_thread")]
async fn order_import_and_order_create_answer_under_cargo_lambda_watch() {
    let root = workspace_root();
    let stack = load_stack().expect("template");
    let moto = test_support::moto_endpoint();
    let sdk = sdk(&moto).await;
    let clock = Arc::new(SystemClock);
    let any_port: SocketAddr = "127.0.0.1:0".parse().expect("addr");
    let walmart = walmart_sandbox::WalmartSandbox::start(
        walmart_sandbox::SandboxSettings::default(),
        clock.clone(),
        any_port,
    )
    .await
    .expect("walmart sandbox");
    let commerce = commerce_sandbox::CommerceSandbox::start(
        commerce_sandbox::SandboxSettings::default().with_purchase_order(),
        clock,
        any_port,
    )
    .await
    .expect("commerce sandbox");

    let run = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
    let created = create_resources(&stack, &sdk, &run, &commerce.base_url()).await;
    let logs = std::env::temp_dir().join(format!("infra-checks-invoke-{run}"));
    std::fs::create_dir_all(&logs).expect("log dir");

    let import = stack
        .function_for_binary(Operation::OrderImport.function_name())
        .expect("order-import");
    let create = stack
        .function_for_binary(Operation::OrderCreate.function_name())
        .expect("order-create");
    let binaries = build(
        &root,
        &[
            Operation::OrderImport.function_name(),
            Operation::OrderCreate.function_name(),
        ],
    )
    .await;
    let serve = |operation: Operation| {
        let name = operation.function_name();
        (name, binaries[name].as_path())
    };

    // A buyer orders on Walmart an item the store sells.
    let sku = format!("INV-{run}");
    let upc = commerce_sandbox::upc_for(42);
    commerce
        .control()
        .seed_products(&[commerce_sandbox::ProductSeed {
            sku: sku.clone(),
            price: Some(12.5),
            upc: Some(upc.clone()),
            walmart_enabled: Some(true),
            stock: [("default".to_owned(), 5.0)].into(),
            ..Default::default()
        }])
        .await
        .expect("seed product");
    let walmart_control = walmart.control();
    walmart_control
        .add_catalog_items(&[walmart_sandbox::CatalogItemSpec {
            gtin: upc.clone(),
            product_name: "Invoke test item".into(),
            brand: None,
            product_type: None,
            price: None,
            wpid: None,
        }])
        .await
        .expect("catalog item");
    walmart_control
        .add_seller_items(&[walmart_sandbox::SellerItemSpec {
            sku: sku.clone(),
            gtin: upc,
            price: None,
            quantity: Some(5),
        }])
        .await
        .expect("seller item");
    let po = walmart_control
        .create_order(&walmart_sandbox::NewOrder {
            lines: vec![walmart_sandbox::NewOrderLine {
                sku: sku.clone(),
                quantity: 1,
                unit_price: domain::Money::from_cents(1250),
                tax: domain::Money::ZERO,
                shipping: domain::Money::ZERO,
                product_name: None,
            }],
            ship_to: walmart_sandbox::ShipToSpec::default(),
            method_code: "Standard".into(),
            order_date: None,
            purchase_order_id: None,
        })
        .await
        .expect("buyer order")
        .purchase_order_id;

    // order-import on its schedule: records the order and queues it for creation.
    let env = function_environment(&stack, import, &created, &walmart.base_url());
    let watch = Watch::start(
        &root,
        &env,
        &moto,
        serve(Operation::OrderImport),
        logs.join("order-import.log"),
    )
    .await;
    let (status, answer) = watch.invoke("order-import", &schedule_event(import)).await;
    assert_answered_from_handler("order-import", status, &answer, &watch);
    assert_eq!(status, 200, "order-import failed: {answer}\n{}", watch.output());
    assert_eq!(answer["counts"]["orders_imported"], 1, "{answer}");
    assert_eq!(answer["counts"]["orders_queued"], 1, "{answer}");
    assert_logs("order-import", &watch, &created.credential_values);
    drop(watch);

    // order-create on a batch from its queue: the message order-import queued, and a malformed one.
    let env = function_environment(&stack, create, &created, &walmart.base_url());
    let (event, messages) = sqs_event(
        &sdk,
        &created.queue_urls[&QueueName::OrderCreate],
        &created.queue_arns[&QueueName::OrderCreate],
        &["this is not a message"],
        2,
    )
    .await;
    let watch = Watch::start(
        &root,
        &env,
        &moto,
        serve(Operation::OrderCreate),
        logs.join("order-create.log"),
    )
    .await;
    let (status, answer) = watch.invoke("order-create", &event).await;
    assert_answered_from_handler("order-create", status, &answer, &watch);
    assert_eq!(status, 200, "order-create failed: {answer}\n{}", watch.output());
    // A partial batch response naming exactly the malformed message.
    let failed: Vec<&str> = answer["batchItemFailures"]
        .as_array()
        .unwrap_or_else(|| panic!("order-create answered without batchItemFailures: {answer}"))
        .iter()
        .map(|f| f["itemIdentifier"].as_str().expect("itemIdentifier"))
        .collect();
    let malformed: Vec<&str> = messages
        .iter()
        .filter(|(_, body)| body == "this is not a message")
        .map(|(id, _)| id.as_str())
        .collect();
    assert_eq!(failed, malformed, "{answer}\n{}", watch.output());
    // Exactly one Commerce order carries the Walmart purchase order.
    let orders = commerce.control().orders().await.expect("orders");
    let placed = orders
        .iter()
        .filter(|o| o["payment"]["po_number"] == po.as_str())
        .count();
    assert_eq!(placed, 1, "Commerce orders for {po}: {orders:?}");
    assert_logs("order-create", &watch, &created.credential_values);
    drop(watch);

    let _ = std::fs::remove_dir_all(&logs);
}

/// A Function URL event carrying one Walmart delivery, as Lambda hands it to the function.
fn function_url_event(body: &str, signature: &str) -> Value {
    json!({
        "version": "2.0",
        "rawPath": "/",
        "rawQueryString": "",
        "headers": {"content-type": "application/json", "x-walmart-signature": signature, "user-agent": "Walmart"},
        "requestContext": {
            "accountId": "anonymous", "apiId": "invoke", "domainName": "invoke.lambda-url.us-east-1.on.aws",
            "domainPrefix": "invoke", "requestId": "invoke-request", "routeKey": "$default", "stage": "$default",
            "time": "06/Dec/2026:10:00:00 +0000", "timeEpoch": 1_796_000_000_000i64,
            "http": {"method": "POST", "path": "/", "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7", "userAgent": "Walmart"}
        },
        "body": body,
        "isBase64Encoded": false
    })
}

/// `cargo lambda invoke --data-file` against the watch server: the function's JSON answer.
async fn cargo_lambda_invoke(
    watch: &Watch,
    function: &str,
    payload: &Value,
    dir: &Path,
    name: &str,
) -> Value {
    let file = dir.join(format!("{name}.json"));
    std::fs::write(&file, payload.to_string()).expect("payload file");
    let output = Command::new(cargo_lambda())
        .args(["lambda", "invoke", function])
        .args([
            "--invoke-address",
            "127.0.0.1",
            "--invoke-port",
            &watch.port.to_string(),
        ])
        .arg("--data-file")
        .arg(&file)
        .args(["--output-format", "json"])
        .stdin(Stdio::null())
        .output()
        .await
        .expect("run cargo lambda invoke");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "cargo lambda invoke {name} failed: {}\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr),
        watch.output()
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{name}: not JSON ({e}): {stdout}"))
}

async fn queued(sdk: &SdkConfig, url: &str) -> usize {
    let attributes = aws_sdk_sqs::Client::new(sdk)
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .expect("queue attributes");
    attributes
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::ApproximateNumberOfMessages))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn walmart_events_queues_a_signed_delivery_and_refuses_a_forged_one_under_cargo_lambda_invoke() {
    let root = workspace_root();
    let stack = load_stack().expect("template");
    let moto = test_support::moto_endpoint();
    let sdk = sdk(&moto).await;
    let run = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
    let created = create_resources(&stack, &sdk, &run, "https://shop.invalid").await;
    let logs = std::env::temp_dir().join(format!("infra-checks-events-{run}"));
    std::fs::create_dir_all(&logs).expect("log dir");
    let receiver = stack
        .function_for_binary("walmart-events")
        .expect("walmart-events");
    let binaries = build(&root, &["walmart-events"]).await;
    let env = function_environment(&stack, receiver, &created, "https://walmart.invalid");
    let watch = Watch::start(
        &root,
        &env,
        &moto,
        ("walmart-events", binaries["walmart-events"].as_path()),
        logs.join("walmart-events.log"),
    )
    .await;
    let orders_queue = &created.queue_urls[&QueueName::WalmartOrderEvents];
    let body = json!({
        "source": {"eventType": "ORDER_UPDATES", "eventFilters": null, "eventTime": "2026-12-06T10:00:00.000Z", "eventId": format!("invoke-{run}")},
        "payload": {"subEventType": "PO_CREATED", "order": {"purchaseOrderId": "1796000000042"}},
        "meta": {}
    })
    .to_string();

    let signature = operations::walmart_events::hmac_signature(WALMART_EVENTS_SECRET, body.as_bytes());
    let signed = cargo_lambda_invoke(
        &watch,
        "walmart-events",
        &function_url_event(&body, &signature),
        &logs,
        "signed",
    )
    .await;
    assert_eq!(signed["statusCode"], 200, "{signed}\n{}", watch.output());
    assert_eq!(queued(&sdk, orders_queue).await, 1, "one SQS send");

    let forged_signature = operations::walmart_events::hmac_signature("not-the-key", body.as_bytes());
    let forged = cargo_lambda_invoke(
        &watch,
        "walmart-events",
        &function_url_event(&body, &forged_signature),
        &logs,
        "forged",
    )
    .await;
    assert_eq!(forged["statusCode"], 401, "{forged}\n{}", watch.output());
    assert_eq!(
        queued(&sdk, orders_queue).await,
        1,
        "the forged delivery queued nothing"
    );
    assert_logs("walmart-events", &watch, &[WALMART_EVENTS_SECRET.to_owned()]);
    drop(watch);
    let _ = std::fs::remove_dir_all(&logs);
}
