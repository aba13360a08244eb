//! The harness checked against the test app alone, without a proxy in between: what the
//! proxy scenarios assume about their clients and their app holds.

use std::time::{Duration, Instant};

use meshcd_e2e::TestMesh;
use meshcd_e2e::http::{self, Client};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn app_echoes_a_request_as_json_and_counts_connections() -> anyhow::Result<()> {
    let mesh = TestMesh::new()?;
    let app = mesh.app("echo-me").await?;
    let client = Client::new(app.address);
    let mut request = http::request(http::Method::PUT, "http://api.shop/some/path?x=1");
    request.headers_mut().insert("x-trace", "abc".parse()?);

    let first = client.send(request).await?.app()?;
    let second = client.get("http://api.shop/").await?.app()?;

    assert_eq!(
        (first.name.as_str(), first.method.as_str()),
        ("echo-me", "PUT")
    );
    assert_eq!(
        (first.path.as_str(), first.query.as_str()),
        ("/some/path", "x=1")
    );
    assert_eq!(
        first.headers.get("x-trace").map(String::as_str),
        Some("abc")
    );
    assert_eq!(
        first.headers.get("host").map(String::as_str),
        Some("api.shop")
    );
    assert_eq!((first.connection, second.connection), (1, 2));
    Ok(())
}

#[tokio::test]
async fn app_answers_with_the_status_asked_for_and_after_the_delay_asked_for() -> anyhow::Result<()>
{
    let mesh = TestMesh::new()?;
    let app = mesh.app("api").await?;
    let client = Client::new(app.address);

    let teapot = client.get("http://api.shop/status/418").await?;
    let started = Instant::now();
    let slow = client.get("http://api.shop/slow?ms=300").await?;

    assert_eq!(teapot.status, 418);
    assert_eq!(slow.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    Ok(())
}

#[tokio::test]
async fn app_speaks_h2c_on_the_same_port() -> anyhow::Result<()> {
    let mesh = TestMesh::new()?;
    let app = mesh.app("api").await?;
    let mut connection = Client::new(app.address).connect_h2c().await?;

    let reply = connection
        .send(http::get("http://api.shop/h2"))
        .await?
        .app()?;

    assert_eq!(
        (reply.version.as_str(), reply.path.as_str()),
        ("HTTP/2.0", "/h2")
    );
    Ok(())
}

#[tokio::test]
async fn app_echoes_bytes_after_a_websocket_upgrade() -> anyhow::Result<()> {
    let mesh = TestMesh::new()?;
    let app = mesh.app("api").await?;
    let mut request = http::get("/chat");
    request.headers_mut().insert("host", "api.shop".parse()?);
    request
        .headers_mut()
        .insert("connection", "upgrade".parse()?);
    request
        .headers_mut()
        .insert("upgrade", "websocket".parse()?);

    let mut upgraded = Client::new(app.address).upgrade(request).await?;
    upgraded.write_all(b"ping").await?;
    let mut echoed = [0_u8; 4];
    upgraded.read_exact(&mut echoed).await?;

    assert_eq!(&echoed, b"ping");
    Ok(())
}

#[tokio::test]
async fn tcp_echo_app_echoes_bytes() -> anyhow::Result<()> {
    let mesh = TestMesh::new()?;
    let app = mesh.tcp_echo_app("echo").await?;
    let mut stream = tokio::net::TcpStream::connect(app.address).await?;

    stream.write_all(b"hello").await?;
    let mut echoed = [0_u8; 5];
    stream.read_exact(&mut echoed).await?;

    assert_eq!(&echoed, b"hello");
    Ok(())
}

#[tokio::test]
async fn raw_client_hears_a_431_from_a_server_that_stops_reading() -> anyhow::Result<()> {
    // hyper (the app's server) refuses a 1 MiB header with 431 long before it has read
    // it all; the raw client must still see that status line.
    let mesh = TestMesh::new()?;
    let app = mesh.app("api").await?;
    let mut request = b"GET / HTTP/1.1\r\nhost: api.shop\r\nx-big: ".to_vec();
    request.extend(std::iter::repeat_n(b'a', 1024 * 1024));
    request.extend_from_slice(b"\r\n\r\n");

    let status_line = Client::new(app.address).send_raw(request).await?;

    assert!(
        status_line.starts_with("HTTP/1.1 431"),
        "got {status_line:?}"
    );
    Ok(())
}
