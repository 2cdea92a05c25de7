//! `walmart-sandbox [--port N] [--host ADDR] [--scale X] [--no-rate-limits] [--store-not-live]`
//!
//! Serves the Walmart sandbox until ctrl-c. `--scale X` runs the sandbox clock X times faster than
//! the wall clock (token expiry, feed processing, rate-limit refills), for compressed local days.

use std::sync::Arc;

use ports::{Clock, ScaledClock, SystemClock};
use walmart_sandbox::{SandboxSettings, WalmartSandbox};

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let mut settings = SandboxSettings::default();
    let mut scale: Option<f64> = None;
    let mut listen_args = Vec::new();
    let mut args = std::env::args();
    let program = args.next().unwrap_or_else(|| "walmart-sandbox".to_owned());
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--no-rate-limits" => settings.rate_limits = false,
            "--store-not-live" => settings.store_live = false,
            "--scale" => match args
                .next()
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|s| *s >= 1.0)
            {
                Some(s) => scale = Some(s),
                None => {
                    eprintln!("--scale needs a number >= 1");
                    return std::process::ExitCode::from(2);
                }
            },
            _ => listen_args.push(arg),
        }
    }
    let addr = match sandbox_kit::parse_listen_args_from(&program, listen_args, 8081) {
        Ok(addr) => addr,
        Err(usage) => {
            eprintln!("{usage}\n  [--scale X] [--no-rate-limits] [--store-not-live]");
            return std::process::ExitCode::from(2);
        }
    };
    let clock: Arc<dyn Clock> = match scale {
        Some(s) => Arc::new(ScaledClock::new(SystemClock.now(), s)),
        None => Arc::new(SystemClock),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        match WalmartSandbox::start(settings, clock, addr).await {
            Ok(sandbox) => {
                tracing::info!(base_url = %sandbox.base_url(), "Walmart sandbox ready");
                sandbox.wait().await;
                std::process::ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("cannot listen on {addr}: {e}");
                std::process::ExitCode::FAILURE
            }
        }
    })
}
