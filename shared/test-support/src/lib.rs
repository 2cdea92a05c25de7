//! Test harness: a moto server (a real AWS API on loopback) and SDK configuration for it.
//!
//! `tests/run.sh` starts one moto server for the whole run and exports `MOTO_ENDPOINT`. When a test
//! binary runs without it (plain `cargo test`), the first test starts its own moto server from the
//! project's venv (`.venv/bin/moto_server`, or `MOTO_SERVER` if set) on a free port; a watchdog
//! stops it when the test process exits. No moto at all is a clear failure, never a silent skip.
#![allow(clippy::expect_used, clippy::panic)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;

static ENDPOINT: OnceLock<String> = OnceLock::new();

/// The workspace root (the directory holding the workspace Cargo.toml).
pub fn workspace_root() -> PathBuf {
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    while !dir.join("Cargo.lock").exists() && dir.pop() {}
    dir
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free port")
}

fn start_moto() -> String {
    let bin = std::env::var("MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|_| workspace_root().join(".venv/bin/moto_server"));
    if !bin.exists() {
        panic!(
            "moto is needed for the AWS adapter tests but {} does not exist. Run the tests through \
             `tests/run.sh` (it creates the venv and starts moto), or set MOTO_ENDPOINT to a running \
             moto server, or MOTO_SERVER to a moto_server binary.",
            bin.display()
        );
    }
    let port = free_port();
    // The shell watches this test process and stops moto when it goes away.
    let script = format!(
        "\"{}\" -H 127.0.0.1 -p {port} >/dev/null 2>&1 & m=$!; while kill -0 {} 2>/dev/null; do sleep 1; done; kill $m",
        bin.display(),
        std::process::id()
    );
    let watchdog = Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::null())
        .spawn()
        .expect("cannot start moto_server");
    // Reaped by the OS: the watchdog outlives every test in this process by design.
    std::mem::forget(watchdog);
    let endpoint = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if started.elapsed() > Duration::from_secs(30) {
            panic!("moto_server did not start listening on {endpoint} within 30 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    endpoint
}

/// The moto endpoint for this test process, starting a server if none was given.
pub fn moto_endpoint() -> String {
    ENDPOINT
        .get_or_init(|| match std::env::var("MOTO_ENDPOINT") {
            Ok(e) if !e.is_empty() => e,
            _ => start_moto(),
        })
        .clone()
}

/// SDK configuration pointing at moto, with test credentials.
pub async fn moto_sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(moto_endpoint())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test-support"))
        .load()
        .await
}

/// A name no other test uses, for tables and queues on a shared server.
pub fn unique_name(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{prefix}-{}-{nanos:x}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}
