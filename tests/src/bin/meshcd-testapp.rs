//! The application end-to-end tests put behind meshcd proxies: it echoes every request as
//! JSON (HTTP/1.1 and h2c), can be slow or fail on demand, echoes upgraded connections,
//! in `--tcp-echo` mode echoes raw TCP, in `--grpc` mode answers every gRPC call with a
//! real gRPC echo (`meshcd_e2e::grpc_echo`), and in `--naive` mode writes like most apps
//! people put behind a sidecar (below).
//!
//! Requests: any path → 200 with `{name, method, path, query, headers, connection,
//! version, body_bytes}`; `/slow?ms=N` answers after N ms; `/status/NNN` answers with
//! status NNN; `/flaky?key=K&fail=N&status=S` answers S (500 by default) to the first N
//! requests with key K, then as any path (`every=N` instead of `fail=N`: requests 1, N + 1,
//! 2N + 1, … with key K fail); `/seen?key=K` answers how many requests with
//! `key=K` in their query the app got before (as text); `/fails-as?name=N` answers 500
//! from the app named N (`&hang=MS`: answers MS late instead) and 200 from the others; `Connection: upgrade` + `Upgrade: websocket` →
//! 101, then raw bytes echoed.

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use clap::Parser;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};

/// Failures `/flaky` answered so far, by key (one app per process).
static FLAKY: LazyLock<Mutex<HashMap<String, u32>>> = LazyLock::new(Mutex::default);

/// Requests seen so far, by the `key` of their query (one app per process).
static SEEN: LazyLock<Mutex<HashMap<String, u64>>> = LazyLock::new(Mutex::default);

/// Longest `/slow` delay honoured, so a typo cannot hang a test run.
const MAX_DELAY: Duration = Duration::from_secs(60);

#[derive(Parser)]
#[command(about = "meshcd end-to-end test app")]
struct Arguments {
    /// Address to listen on (port 0: a free port, printed).
    #[arg(long)]
    listen: SocketAddr,
    /// Name put in every reply.
    #[arg(long, default_value = "testapp")]
    name: String,
    /// Echo raw TCP instead of serving HTTP.
    #[arg(long)]
    tcp_echo: bool,
    /// Serve keep-alive HTTP/1.1 the way Python's http.server does: no `TCP_NODELAY`,
    /// the response head and its body (the app's name) in two writes.
    #[arg(long)]
    naive: bool,
    /// Serve gRPC (h2c): every method of every service echoes.
    #[arg(long)]
    grpc: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let arguments = Arguments::parse();
    let listener = TcpListener::bind(arguments.listen)
        .await
        .with_context(|| format!("listen on {}", arguments.listen))?;
    let address = listener.local_addr()?;
    println!(
        "{}",
        serde_json::json!({ "event": "listening", "address": address.to_string() })
    );
    if arguments.tcp_echo {
        serve_tcp_echo(listener).await
    } else if arguments.naive {
        serve_naive(listener, Arc::from(arguments.name)).await
    } else if arguments.grpc {
        serve_grpc(listener, Arc::from(arguments.name)).await
    } else {
        serve_http(listener, Arc::from(arguments.name)).await
    }
}

async fn serve_tcp_echo(listener: TcpListener) -> anyhow::Result<()> {
    loop {
        let (stream, _) = listener.accept().await.context("accept")?;
        tokio::spawn(async move {
            let (mut reader, mut writer) = stream.into_split();
            let _ = tokio::io::copy(&mut reader, &mut writer).await;
        });
    }
}

async fn serve_naive(listener: TcpListener, name: Arc<str>) -> anyhow::Result<()> {
    loop {
        let (stream, _) = listener.accept().await.context("accept")?;
        let name = name.clone();
        tokio::spawn(async move {
            let _ = serve_naive_connection(stream, &name).await;
        });
    }
}

/// Request after request on one connection, each read whole (head and `Content-Length`
/// body), each answered in two writes with Nagle's algorithm left on.
async fn serve_naive_connection(mut stream: TcpStream, name: &str) -> std::io::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let head_end = loop {
            if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
            let read = stream.read(&mut chunk).await?;
            if read == 0 {
                return Ok(());
            }
            buffer.extend_from_slice(&chunk[..read]);
        };
        let head = String::from_utf8_lossy(&buffer[..head_end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length:"))
            .and_then(|value| value.trim().parse().ok())
            .unwrap_or(0);
        while buffer.len() < head_end + length {
            let read = stream.read(&mut chunk).await?;
            if read == 0 {
                return Ok(());
            }
            buffer.extend_from_slice(&chunk[..read]);
        }
        buffer.drain(..head_end + length);
        let response_head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n\r\n",
            name.len()
        );
        stream.write_all(response_head.as_bytes()).await?;
        stream.write_all(name.as_bytes()).await?;
    }
}

async fn serve_grpc(listener: TcpListener, name: Arc<str>) -> anyhow::Result<()> {
    loop {
        let (stream, _) = listener.accept().await.context("accept")?;
        let _ = stream.set_nodelay(true);
        let name = name.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let name = name.clone();
                async move { Ok::<_, Infallible>(meshcd_e2e::grpc_echo::serve(name, request).await) }
            });
            let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn serve_http(listener: TcpListener, name: Arc<str>) -> anyhow::Result<()> {
    let connections = AtomicU64::new(0);
    loop {
        let (stream, _) = listener.accept().await.context("accept")?;
        let connection = connections.fetch_add(1, Ordering::SeqCst) + 1;
        tokio::spawn(serve_connection(stream, name.clone(), connection));
    }
}

async fn serve_connection(stream: TcpStream, name: Arc<str>, connection: u64) {
    let _ = stream.set_nodelay(true);
    let service = service_fn(move |request| respond(request, name.clone(), connection));
    // Errors on one connection (a client that went away) concern that connection only.
    let _ = auto::Builder::new(TokioExecutor::new())
        .serve_connection_with_upgrades(TokioIo::new(stream), service)
        .await;
}

async fn respond(
    mut request: Request<Incoming>,
    name: Arc<str>,
    connection: u64,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if is_websocket_upgrade(&request) {
        return Ok(upgrade(&mut request));
    }
    let method = request.method().to_string();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or_default().to_owned();
    let version = format!("{:?}", request.version());
    let mut headers = BTreeMap::<String, String>::new();
    for (header_name, value) in request.headers() {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        headers
            .entry(header_name.as_str().to_owned())
            .and_modify(|existing| {
                existing.push_str(", ");
                existing.push_str(&value);
            })
            .or_insert(value);
    }
    let body_bytes = match request.into_body().collect().await {
        Ok(body) => body.to_bytes().len(),
        Err(error) => {
            return Ok(plain(
                StatusCode::BAD_REQUEST,
                format!("reading body: {error}"),
            ));
        }
    };

    if let Some(count) = seen(&path, &query) {
        return Ok(plain(StatusCode::OK, count.to_string()));
    }
    if path == "/slow" {
        tokio::time::sleep(requested_delay(&query).min(MAX_DELAY)).await;
    }
    if path == "/flaky"
        && let Some(status) = flaky(&query)
    {
        return Ok(plain(status, format!("{name}: flaky failure")));
    }
    // `/fails-as?name=N`: 500 from the app named N, 200 from the others (one bad
    // endpoint among good ones).
    if path == "/fails-as" && query_value(&query, "name") == Some(&*name) {
        // `hang=N`: answer N ms late instead (a hung endpoint).
        if query_value(&query, "hang").is_some() {
            let hang = query_value(&query, "hang").and_then(|ms| ms.parse().ok());
            tokio::time::sleep(Duration::from_millis(hang.unwrap_or(0)).min(MAX_DELAY)).await;
        } else {
            return Ok(plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("{name}: failing"),
            ));
        }
    }
    let status = path
        .strip_prefix("/status/")
        .and_then(status_code)
        .unwrap_or(StatusCode::OK);

    let body = serde_json::json!({
        "name": &*name,
        "method": method,
        "path": path,
        "query": query,
        "headers": headers,
        "connection": connection,
        "version": version,
        "body_bytes": body_bytes,
    });
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

/// The failure `/flaky?key=K&fail=N&status=S` still owes key K, counting it; `None` once
/// it failed N times.
fn flaky(query: &str) -> Option<StatusCode> {
    let value = |name: &str| query_value(query, name);
    let key = value("key").unwrap_or_default().to_owned();
    let status = value("status")
        .and_then(status_code)
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut counts = FLAKY
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(every) = value("every").and_then(|n| n.parse::<u32>().ok()) {
        // Requests 1, 1 + every, 1 + 2·every, … fail.
        let seen = counts.entry(format!("every:{key}")).or_default();
        *seen += 1;
        return (every > 0 && *seen % every == 1 % every).then_some(status);
    }
    let fail: u32 = value("fail")?.parse().ok()?;
    let failed = counts.entry(key).or_default();
    (*failed < fail).then(|| {
        *failed += 1;
        status
    })
}

/// Counts a request with `key=K` in its query; for `/seen?key=K`, the count so far.
fn seen(path: &str, query: &str) -> Option<u64> {
    let key = query_value(query, "key")?.to_owned();
    let mut seen = SEEN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if path == "/seen" {
        return Some(seen.get(&key).copied().unwrap_or(0));
    }
    *seen.entry(key).or_default() += 1;
    None
}

/// The value of parameter `name` in `query`.
fn query_value<'q>(query: &'q str, name: &str) -> Option<&'q str> {
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
}

/// `ms=N` from a query string; no delay when absent or malformed.
fn requested_delay(query: &str) -> Duration {
    query_value(query, "ms")
        .and_then(|milliseconds| milliseconds.parse().ok())
        .map(Duration::from_millis)
        .unwrap_or_default()
}

/// A status code written in a path or query (`503`).
fn status_code(text: &str) -> Option<StatusCode> {
    StatusCode::from_u16(text.parse().ok()?).ok()
}

fn is_websocket_upgrade(request: &Request<Incoming>) -> bool {
    let connection_upgrade = request
        .headers()
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|token| token.trim().eq_ignore_ascii_case("upgrade"));
    let websocket = request
        .headers()
        .get(header::UPGRADE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.eq_ignore_ascii_case("websocket"));
    connection_upgrade && websocket
}

/// Switches protocols and echoes whatever bytes arrive on the upgraded connection: enough
/// to prove a proxy passes an upgrade through, without a WebSocket framing library.
fn upgrade(request: &mut Request<Incoming>) -> Response<Full<Bytes>> {
    let on_upgrade = hyper::upgrade::on(request);
    tokio::spawn(async move {
        if let Ok(upgraded) = on_upgrade.await {
            let (mut reader, mut writer) = tokio::io::split(TokioIo::new(upgraded));
            let _ = tokio::io::copy(&mut reader, &mut writer).await;
        }
    });
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    response
        .headers_mut()
        .insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    response
}

fn plain(status: StatusCode, text: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(text)));
    *response.status_mut() = status;
    response
}
