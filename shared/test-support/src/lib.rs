//! Test harness: a moto server (a real AWS API on loopback) and SDK configuration for it.
//!
//! `tests/run.sh` starts one moto server for the whole run and exports `MOTO_ENDPOINT`. When a test
//! binary runs without it (plain `cargo test`), the first test starts its own moto server the same
//! way (`tests/moto_serialized.py`, DynamoDB requests serialized per table, with the project venv's
//! Python; see [`moto_python`]) on a free port; a watchdog stops it when the test process exits. No moto at all is a clear failure, never a silent skip.
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

/// The Python that runs the moto launcher: `MOTO_PYTHON`, else the one beside `MOTO_SERVER`, else the
/// project's venv (`.venv/bin/python3`).
pub fn moto_python() -> PathBuf {
    if let Ok(python) = std::env::var("MOTO_PYTHON") {
        return PathBuf::from(python);
    }
    let venv_bin = std::env::var("MOTO_SERVER")
        .ok()
        .and_then(|server| PathBuf::from(server).parent().map(PathBuf::from))
        .unwrap_or_else(|| workspace_root().join(".venv/bin"));
    let python = venv_bin.join("python3");
    if !python.exists() {
        panic!(
            "moto is needed for the AWS adapter tests but {} does not exist. Run the tests through \
             `tests/run.sh` (it creates the venv and starts moto), or set MOTO_ENDPOINT to a running \
             moto server, or MOTO_PYTHON to a Python with moto[server] (MOTO_SERVER: its moto_server).",
            python.display()
        );
    }
    python
}

/// The launcher `tests/run.sh` starts: moto with DynamoDB's per-table atomicity
/// (`tests/moto_serialized.py`).
pub fn moto_launcher() -> PathBuf {
    workspace_root().join("tests/moto_serialized.py")
}

fn wait_listening(port: u16) -> String {
    let endpoint = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if started.elapsed() > Duration::from_secs(30) {
            panic!("moto did not start listening on {endpoint} within 30 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    endpoint
}

fn start_moto() -> String {
    let python = moto_python();
    let port = free_port();
    // The shell watches this test process and stops moto when it goes away.
    let script = format!(
        "\"{}\" \"{}\" -H 127.0.0.1 -p {port} >/dev/null 2>&1 & m=$!; while kill -0 {} 2>/dev/null; do sleep 1; done; kill $m",
        python.display(),
        moto_launcher().display(),
        std::process::id()
    );
    let watchdog = Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::null())
        .spawn()
        .expect("cannot start moto");
    // Reaped by the OS: the watchdog outlives every test in this process by design.
    std::mem::forget(watchdog);
    wait_listening(port)
}

/// A moto server of one test's own, started through the launcher with extra options
/// (`--unserialized`, `--hold-check-window SECONDS`), stopped when dropped.
pub struct OwnMoto {
    child: std::process::Child,
    endpoint: String,
}

impl OwnMoto {
    pub fn start(options: &[&str]) -> Self {
        let port = free_port();
        let child = Command::new(moto_python())
            .arg(moto_launcher())
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .args(options)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot start the moto launcher");
        let mut moto = Self {
            child,
            endpoint: String::new(),
        };
        moto.endpoint = wait_listening(port);
        moto
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// SDK configuration pointing at this server.
    pub async fn sdk_config(&self) -> SdkConfig {
        sdk_config_for(&self.endpoint).await
    }
}

impl Drop for OwnMoto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
    sdk_config_for(&moto_endpoint()).await
}

async fn sdk_config_for(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
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
