//! A loopback server that answers every request with the same raw bytes, for testing how a client
//! takes answers no sandbox sends: redirects, endless or oversized bodies.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A running canned server. It stops when dropped.
pub struct CannedServer {
    base_url: String,
    requests: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl CannedServer {
    /// Serves `response` (a whole HTTP/1.1 response: status line, headers, body) to every request,
    /// on a free loopback port, closing the connection after each.
    pub async fn start(response: Vec<u8>) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let requests = Arc::new(AtomicUsize::new(0));
        let counted = requests.clone();
        let response = Arc::new(response);
        let task = tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let counted = counted.clone();
                let response = response.clone();
                tokio::spawn(async move {
                    if read_request(&mut socket).await.is_ok() {
                        counted.fetch_add(1, Ordering::SeqCst);
                        // The client may hang up mid-body (that is what a size limit does).
                        let _ = socket.write_all(&response).await;
                        let _ = socket.shutdown().await;
                    }
                });
            }
        });
        Ok(Self {
            base_url,
            requests,
            task,
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Requests answered so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for CannedServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads one request: headers, then as many body bytes as `Content-Length` says.
async fn read_request(socket: &mut tokio::net::TcpStream) -> std::io::Result<()> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let header_end = loop {
        let n = socket.read(&mut buf).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        seen.extend_from_slice(&buf[..n]);
        if let Some(pos) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
    };
    let headers = String::from_utf8_lossy(&seen[..header_end]).to_ascii_lowercase();
    let length = headers
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = seen.len() - header_end;
    while body < length {
        let n = socket.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        body += n;
    }
    Ok(())
}

/// A `200` with `body` as JSON.
pub fn json_response(body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A redirect (`status`, e.g. 307) to `location`.
pub fn redirect_response(status: u16, location: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status} Redirect\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .into_bytes()
}

/// A `200` JSON answer of `size` bytes; with `announced`, its `Content-Length` says so, otherwise
/// it is sent chunked with no length known in advance.
pub fn large_json_response(size: usize, announced: bool) -> Vec<u8> {
    let mut body = b"{\"pad\":\"".to_vec();
    body.resize(size.saturating_sub(2).max(body.len()), b'x');
    body.extend_from_slice(b"\"}");
    let mut out = if announced {
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes()
    } else {
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            .to_vec()
    };
    if announced {
        out.extend_from_slice(&body);
    } else {
        for chunk in body.chunks(64 * 1024) {
            out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            out.extend_from_slice(chunk);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"0\r\n\r\n");
    }
    out
}
