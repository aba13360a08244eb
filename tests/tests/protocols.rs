//! What an app can speak through its proxy: HTTP/1.1 as an explicit proxy or by Host
//! header, h2c, WebSocket upgrades, raw TCP on a per-service port; and what a bad request
//! gets: 404 for an unknown host, 431 for oversized headers.

use std::time::Duration;

use meshcd_e2e::TestMesh;
use meshcd_e2e::http::{self, Client};
use meshcd_e2e::pki::spiffe_id;
use meshcd_e2e::proxy::Proxy;
use meshcd_e2e::snapshot::{SnapshotBuilder, allow_tcp, endpoints, tcp_service};
use meshcd_e2e::sockets::established_peers;
use meshcd_e2e::testapp::TestApp;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// api in shop admitting frontend to every HTTP request, and frontend's proxy.
async fn frontend_and_api(mesh: &TestMesh) -> anyhow::Result<(TestApp, Proxy, Proxy)> {
    let app = mesh.app("api").await?;
    let (api, frontend) = mesh.frontend_and_api(&app).await?;
    Ok((app, api, frontend))
}

#[tokio::test]
async fn request_routed_by_its_host_header_reaches_the_app() -> anyhow::Result<()> {
    let mesh = TestMesh::new()?;
    let (_app, _api, frontend) = frontend_and_api(&mesh).await?;
    let mut request = http::get("/api/values?page=2");
    request.headers_mut().insert("host", "api.shop".parse()?);

    let response = frontend.client().send(request).await?;

    assert_eq!(response.status, 200, "{}", response.text());
    let reply = response.app()?;
    assert_eq!(
        (
            reply.name.as_str(),
            reply.path.as_str(),
            reply.query.as_str()
        ),
        ("api", "/api/values", "page=2")
    );
    Ok(())
}

#[tokio::test]
async fn every_host_form_of_a_service_reaches_it() -> anyhow::Result<()> {
    let mesh = TestMesh::new()?;
    let (_app, _api, frontend) = frontend_and_api(&mesh).await?;

    for host in [
        "api",
        "api.shop",
        "api.shop.svc",
        "api.shop.svc.cluster.local",
        "api.shop.svc.cluster.local.",
        "api.shop:80",
        "API.Shop.svc.cluster.local.:80",
    ] {
        let response = frontend
            .client()
            .get(&format!("http://{host}/api/values"))
            .await?;
        assert_eq!(response.status, 200, "host {host}: {}", response.text());
        assert_eq!(response.app()?.name, "api", "host {host}");
    }
    Ok(())
}

#[tokio::test]
async fn unknown_host_gets_404_saying_so() -> anyhow::Result<()> {
    let mesh = TestMesh::new()?;
    let (_app, _api, frontend) = frontend_and_api(&mesh).await?;

    let response = frontend
        .client()
        .get("http://nowhere.shop/api/values")
        .await?;

    assert_eq!(response.status, 404, "{}", response.text());
    assert!(
        response.text().contains("nowhere.shop"),
        "the 404 names the host: {}",
        response.text()
    );
    Ok(())
}

#[tokio::test]
async fn h2c_request_from_the_app_reaches_the_service() -> anyhow::Result<()> {
    let mesh = TestMesh::new()?;
    let (_app, _api, frontend) = frontend_and_api(&mesh).await?;
    let mut connection = frontend.client().connect_h2c().await?;

    // Several requests on one connection: h2 multiplexing, not one request and done.
    for path in ["/api/values", "/api/other", "/status/201"] {
        let response = connection
            .send(http::get(&format!("http://api.shop{path}")))
            .await?;
        assert!(
            response.status.is_success(),
            "{path}: {} {}",
            response.status,
            response.text()
        );
        let reply = response.app()?;
        assert_eq!((reply.name.as_str(), reply.path.as_str()), ("api", path));
    }
    Ok(())
}

#[tokio::test]
async fn websocket_upgrade_passes_through_and_echoes_bytes() -> anyhow::Result<()> {
    let mesh = TestMesh::new()?;
    let (_app, _api, frontend) = frontend_and_api(&mesh).await?;
    let mut request = http::get("http://api.shop/chat");
    request
        .headers_mut()
        .insert("connection", "upgrade".parse()?);
    request
        .headers_mut()
        .insert("upgrade", "websocket".parse()?);

    let mut upgraded = frontend.client().upgrade(request).await?;
    upgraded.write_all(b"hello through the mesh").await?;
    let mut echoed = [0_u8; 22];
    tokio::time::timeout(Duration::from_secs(10), upgraded.read_exact(&mut echoed)).await??;

    assert_eq!(&echoed, b"hello through the mesh");
    Ok(())
}

#[tokio::test]
async fn tcp_passthrough_echoes_bytes_through_the_services_local_port() -> anyhow::Result<()> {
    let mesh = TestMesh::new()?;
    let echo = mesh.tcp_echo_app("echo").await?;
    let identity = mesh.identity("shop", "echo")?;
    let snapshot = SnapshotBuilder::new(&identity)
        .serves_tcp("echo", 7000, echo.address)
        .allow(allow_tcp(
            "shop/echo",
            &[&spiffe_id("shop", "frontend")],
            &[7000],
        ))
        .build();
    let server = mesh.start_proxy("echo", &identity, snapshot).await?;
    let identity = mesh.identity("shop", "frontend")?;
    let snapshot = SnapshotBuilder::new(&identity)
        .service(tcp_service("echo", "shop", 7000, endpoints(&[&server])))
        .build();
    let frontend = mesh.start_proxy("frontend", &identity, snapshot).await?;

    let local = frontend.tcp_port("echo.shop:7000")?;
    let mut stream = tokio::net::TcpStream::connect(local).await?;
    // Bigger than one TLS record, so the bytes are really streamed both ways.
    let sent: Vec<u8> = (0..64 * 1024).map(|index| (index % 251) as u8).collect();
    let (mut reader, mut writer) = stream.split();
    let (written, echoed) = tokio::time::timeout(Duration::from_secs(10), async {
        let written = async {
            writer.write_all(&sent).await?;
            writer.shutdown().await
        };
        let echoed = async {
            let mut echoed = vec![0_u8; sent.len()];
            reader.read_exact(&mut echoed).await.map(|_| echoed)
        };
        tokio::join!(written, echoed)
    })
    .await?;
    written?;

    assert!(echoed? == sent, "the echo differs from what was sent");
    Ok(())
}

#[tokio::test]
async fn tcp_from_an_unlisted_source_is_closed_without_reaching_the_app() -> anyhow::Result<()> {
    let mesh = TestMesh::new()?;
    let echo = mesh.tcp_echo_app("echo").await?;
    let identity = mesh.identity("shop", "echo")?;
    let snapshot = SnapshotBuilder::new(&identity)
        .serves_tcp("echo", 7000, echo.address)
        .allow(allow_tcp(
            "shop/echo",
            &[&spiffe_id("shop", "frontend")],
            &[7000],
        ))
        .build();
    let server = mesh.start_proxy("echo", &identity, snapshot).await?;
    let identity = mesh.identity("shop", "intruder")?;
    let snapshot = SnapshotBuilder::new(&identity)
        .service(tcp_service("echo", "shop", 7000, endpoints(&[&server])))
        .build();
    let intruder = mesh.start_proxy("intruder", &identity, snapshot).await?;

    let mut stream = tokio::net::TcpStream::connect(intruder.tcp_port("echo.shop:7000")?).await?;
    // A write may or may not fail depending on when the close arrives; the read decides.
    let _ = stream.write_all(b"let me in").await;
    let mut buffer = [0_u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buffer)).await?;

    assert!(
        matches!(read, Ok(0) | Err(_)),
        "got bytes back: {:?}",
        read.map(|n| String::from_utf8_lossy(&buffer[..n]).into_owned())
    );
    Ok(())
}

#[tokio::test]
async fn headers_too_large_get_431() -> anyhow::Result<()> {
    let mesh = TestMesh::new()?;
    let (_app, _api, frontend) = frontend_and_api(&mesh).await?;
    // 1 MiB of one header: beyond any sane limit (hyper's default is ~400 KiB, Envoy's 60 KiB).
    let mut request =
        b"GET http://api.shop/api/values HTTP/1.1\r\nhost: api.shop\r\nx-big: ".to_vec();
    request.extend(std::iter::repeat_n(b'a', 1024 * 1024));
    request.extend_from_slice(b"\r\n\r\n");

    let status_line = Client::new(frontend.outbound).send_raw(request).await?;

    assert!(
        status_line.starts_with("HTTP/1.1 431"),
        "got {status_line:?}"
    );
    Ok(())
}

#[tokio::test]
async fn malformed_request_gets_400() -> anyhow::Result<()> {
    let mesh = TestMesh::new()?;
    let (_app, _api, frontend) = frontend_and_api(&mesh).await?;

    let status_line = Client::new(frontend.outbound)
        .send_raw(
            b"GET /api/values HTTP/1.1\r\nhost: api.shop\r\nbroken header line\r\n\r\n".to_vec(),
        )
        .await?;

    assert!(
        status_line.starts_with("HTTP/1.1 400"),
        "got {status_line:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_share_a_multiplexed_connection_between_proxies() -> anyhow::Result<()>
{
    let mesh = TestMesh::new()?;
    let (_app, api, frontend) = frontend_and_api(&mesh).await?;
    let clients = 8;

    // Eight apps' connections, each with a request that stays in flight for a while, so
    // all eight are at the proxy at once.
    let requests: Vec<_> = (0..clients)
        .map(|_| {
            let client = frontend.client();
            tokio::spawn(async move { client.get("http://api.shop/slow?ms=300").await })
        })
        .collect();
    for request in requests {
        let response = request.await??;
        assert_eq!(response.status, 200, "{}", response.text());
    }
    let connections = established_peers(api.inbound)?;

    assert!(
        !connections.is_empty() && connections.len() < clients,
        "{} concurrent requests used {} connections between the proxies",
        clients,
        connections.len()
    );
    Ok(())
}
