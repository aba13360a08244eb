//! Apps that write a message in two small pieces without `TCP_NODELAY` (Python's
//! http.server, many Node and Java servers) must not meet Nagle's algorithm and delayed
//! ACKs in the mesh: each such exchange would stall for about 40 ms. Fifty calls in a
//! row must take well under 50 × 40 ms, in both directions.

use std::time::{Duration, Instant};

use meshcd_e2e::TestMesh;
use meshcd_e2e::http;
use meshcd_e2e::proxy::Proxy;
use meshcd_e2e::testapp::TestApp;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const CALLS: u32 = 50;
/// Half of one stall per call on average: a mesh that stalls even every other call fails.
const BUDGET: Duration = Duration::from_millis(50 * 20);

/// A naive app as api, admitting frontend to everything, and frontend's proxy.
async fn frontend_and_naive_api(mesh: &TestMesh) -> anyhow::Result<(TestApp, Proxy, Proxy)> {
    let app = mesh.naive_app("api").await?;
    let (api, frontend) = mesh.frontend_and_api(&app).await?;
    Ok((app, api, frontend))
}

#[tokio::test]
async fn fifty_calls_to_an_app_that_writes_head_and_body_apart_take_no_stall_each()
-> anyhow::Result<()> {
    let mesh = TestMesh::new()?;
    let (_app, _api, frontend) = frontend_and_naive_api(&mesh).await?;
    let client = frontend.client();
    // The first call opens the connections; stalls show on kept-alive ones.
    assert_eq!(client.get("http://api.shop/").await?.status, 200);

    for method in [::http::Method::GET, ::http::Method::POST] {
        let started = Instant::now();
        for _ in 0..CALLS {
            let mut request = http::request(method.clone(), "http://api.shop/");
            if method == ::http::Method::POST {
                *request.body_mut() = "a small body".into();
            }
            let response = client.send(request).await?;
            assert_eq!(response.status, 200, "{}", response.text());
            assert_eq!(response.text(), "api");
        }
        let elapsed = started.elapsed();
        eprintln!("{CALLS} × {method} through the mesh to a naive app: {elapsed:?}");
        assert!(
            elapsed < BUDGET,
            "{CALLS} {method} calls took {elapsed:?}: the mesh stalls on the app's second write"
        );
    }
    Ok(())
}

#[tokio::test]
async fn fifty_requests_from_an_app_that_writes_head_and_body_apart_take_no_stall_each()
-> anyhow::Result<()> {
    let mesh = TestMesh::new()?;
    let (_app, _api, frontend) = frontend_and_naive_api(&mesh).await?;
    // One keep-alive connection, Nagle left on, the head and the body in two writes.
    let mut app = TcpStream::connect(frontend.outbound).await?;
    let body = "a small body";
    let head = format!(
        "POST / HTTP/1.1\r\nhost: api.shop\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    let mut exchange = async || -> anyhow::Result<String> {
        app.write_all(head.as_bytes()).await?;
        app.write_all(body.as_bytes()).await?;
        read_response(&mut app).await
    };
    exchange().await?;

    let started = Instant::now();
    for _ in 0..CALLS {
        let response = exchange().await?;
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        assert!(response.ends_with("\r\n\r\napi"), "{response}");
    }
    let elapsed = started.elapsed();
    eprintln!("{CALLS} POSTs written in two pieces into the mesh: {elapsed:?}");
    assert!(
        elapsed < BUDGET,
        "{CALLS} calls took {elapsed:?}: the mesh stalls on the app's second write"
    );
    Ok(())
}

/// One HTTP/1.1 response with a `content-length` body, whole.
async fn read_response(stream: &mut TcpStream) -> anyhow::Result<String> {
    let mut received = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&received[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .and_then(|value| value.trim().parse().ok())
                .unwrap_or(0);
            if received.len() >= end + 4 + length {
                return Ok(String::from_utf8_lossy(&received).into_owned());
            }
        }
        let read = stream.read(&mut chunk).await?;
        anyhow::ensure!(
            read > 0,
            "closed mid-response: {}",
            String::from_utf8_lossy(&received)
        );
        received.extend_from_slice(&chunk[..read]);
    }
}
