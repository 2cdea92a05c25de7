//! `cargo run -p commerce-sandbox -- --port 8082 [--host 127.0.0.1]`
//!
//! Serves the Commerce sandbox with default settings (MSI and RMA on, pageSize cap 300, store code
//! `default`, the well-known sandbox Integration credentials) on the system clock.

use std::sync::Arc;

use commerce_sandbox::{CommerceSandbox, OAuthCredentials, SandboxSettings};

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let addr = match sandbox_kit::parse_listen_args(8082) {
        Ok(addr) => addr,
        Err(usage) => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    };
    let settings = SandboxSettings::default();
    match CommerceSandbox::start(settings, Arc::new(ports::SystemClock), addr).await {
        Ok(sandbox) => {
            let creds = OAuthCredentials::sandbox();
            println!("commerce-sandbox listening on {}", sandbox.base_url());
            println!(
                "OAuth consumer key {:?}, secret {:?}, access token {:?}, token secret {:?}",
                creds.consumer_key, creds.consumer_secret, creds.access_token, creds.access_token_secret
            );
            sandbox.wait().await;
        }
        Err(error) => {
            eprintln!("commerce-sandbox could not listen on {addr}: {error}");
            std::process::exit(1);
        }
    }
}
