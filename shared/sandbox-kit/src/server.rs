//! Serving a sandbox on a loopback port, and the command line of the sandbox binaries.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// How long [`RunningServer::shutdown`] lets in-flight requests finish (e.g. an injected hang) before it
/// drops them.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A sandbox serving in a background tokio task.
///
/// Dropping the handle does not stop the server (it stops with its runtime, e.g. at the end of a
/// `#[tokio::test]`); call [`RunningServer::shutdown`] to stop it earlier.
#[derive(Debug)]
pub struct RunningServer {
    local_addr: SocketAddr,
    stop: Arc<Notify>,
    task: JoinHandle<std::io::Result<()>>,
}

/// Binds `addr` (port 0 = a free port), serves `router` in a tokio task, returns a handle.
pub async fn serve(router: Router, addr: SocketAddr) -> std::io::Result<RunningServer> {
    let listener = TcpListener::bind(addr).await?;
    let local_addr = listener.local_addr()?;
    let stop = Arc::new(Notify::new());
    let stop_signal = Arc::clone(&stop);
    let task = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move { stop_signal.notified().await })
            .await
    });
    tracing::info!(%local_addr, "sandbox listening");
    Ok(RunningServer {
        local_addr,
        stop,
        task,
    })
}

impl RunningServer {
    /// `http://127.0.0.1:PORT` (or the bound address when it is not a wildcard).
    pub fn base_url(&self) -> String {
        let ip = match self.local_addr.ip() {
            ip if ip.is_unspecified() && ip.is_ipv4() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            ip if ip.is_unspecified() => IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        format!("http://{}", SocketAddr::new(ip, self.local_addr.port()))
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Graceful: stops accepting, lets in-flight requests finish for up to [`SHUTDOWN_GRACE`], then drops
    /// whatever is left.
    pub async fn shutdown(self) {
        // `notify_one` stores a permit, so this works even if the server task has not polled yet.
        self.stop.notify_one();
        let mut task = self.task;
        match tokio::time::timeout(SHUTDOWN_GRACE, &mut task).await {
            Ok(outcome) => log_outcome(outcome),
            Err(_) => {
                tracing::warn!(local_addr = %self.local_addr, "sandbox requests still running at shutdown; dropped");
                task.abort();
            }
        }
    }

    /// For binaries: serves until ctrl-c (or SIGTERM), then shuts down gracefully; returns early if the
    /// server itself stops.
    pub async fn wait(self) {
        let local_addr = self.local_addr;
        let stop = Arc::clone(&self.stop);
        let mut task = self.task;
        tokio::select! {
            outcome = &mut task => {
                log_outcome(outcome);
                return;
            }
            () = termination_signal() => {
                tracing::info!(%local_addr, "sandbox stopping");
            }
        }
        RunningServer {
            local_addr,
            stop,
            task,
        }
        .shutdown()
        .await;
    }
}

fn log_outcome(outcome: Result<std::io::Result<()>, tokio::task::JoinError>) {
    match outcome {
        Ok(Ok(())) => tracing::info!("sandbox stopped"),
        Ok(Err(error)) => tracing::error!(%error, "sandbox server failed"),
        Err(error) => tracing::error!(%error, "sandbox server task failed"),
    }
}

async fn termination_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM; ctrl-c only");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Small helper for the sandbox binaries: parses `--port N` (default `default_port`; 0 = any free port)
/// and `--host H` (default 127.0.0.1; `localhost` allowed) from `std::env::args`. The error is a usage
/// message to print.
pub fn parse_listen_args(default_port: u16) -> Result<SocketAddr, String> {
    let mut args = std::env::args();
    let program = args.next().unwrap_or_else(|| "sandbox".to_owned());
    parse_listen_args_from(&program, args, default_port)
}

/// [`parse_listen_args`] over explicit arguments (without the program name).
pub fn parse_listen_args_from(
    program: &str,
    args: impl IntoIterator<Item = String>,
    default_port: u16,
) -> Result<SocketAddr, String> {
    let usage = format!("usage: {program} [--host ADDR] [--port N]   (defaults: 127.0.0.1, {default_port})");
    let mut host = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let mut port = default_port;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline_value) = match arg.split_once('=') {
            Some((flag, value)) => (flag.to_owned(), Some(value.to_owned())),
            None => (arg.clone(), None),
        };
        match flag.as_str() {
            "--help" | "-h" => return Err(usage),
            "--port" | "--host" => {
                let value = inline_value
                    .or_else(|| args.next())
                    .ok_or_else(|| format!("{flag} needs a value\n{usage}"))?;
                if flag == "--port" {
                    port = value
                        .parse()
                        .map_err(|_| format!("--port: not a port number: {value:?}\n{usage}"))?;
                } else if value.eq_ignore_ascii_case("localhost") {
                    host = IpAddr::V4(Ipv4Addr::LOCALHOST);
                } else {
                    host = value
                        .parse()
                        .map_err(|_| format!("--host: not an IP address: {value:?}\n{usage}"))?;
                }
            }
            _ => return Err(format!("unknown argument {arg:?}\n{usage}")),
        }
    }
    Ok(SocketAddr::new(host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<SocketAddr, String> {
        parse_listen_args_from("sandbox", args.iter().map(|arg| (*arg).to_owned()), 8080)
    }

    #[test]
    fn listen_args() {
        assert_eq!(parse(&[]).unwrap(), "127.0.0.1:8080".parse().unwrap());
        assert_eq!(parse(&["--port", "0"]).unwrap(), "127.0.0.1:0".parse().unwrap());
        assert_eq!(
            parse(&["--port=9", "--host", "0.0.0.0"]).unwrap(),
            "0.0.0.0:9".parse().unwrap()
        );
        assert_eq!(
            parse(&["--host=localhost"]).unwrap(),
            "127.0.0.1:8080".parse().unwrap()
        );
        assert!(parse(&["--port"]).unwrap_err().contains("needs a value"));
        assert!(parse(&["--port", "x"]).unwrap_err().contains("usage:"));
        assert!(parse(&["--verbose"]).unwrap_err().contains("unknown argument"));
        assert!(parse(&["--help"]).unwrap_err().starts_with("usage:"));
    }
}
