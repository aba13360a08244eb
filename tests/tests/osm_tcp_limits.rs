//! UpstreamTrafficSetting limits on TCP (issue 19), in the proxies' snapshots as the
//! reconciler compiles them: `tcp.maxConnections` closes the caller's connections over
//! the limit at once (the app never holds more), and `rateLimit.local.tcp` closes the
//! serving side's connections over the rate.

use std::time::Duration;

use meshcd_e2e::TestMesh;
use meshcd_e2e::pki::spiffe_id;
use meshcd_e2e::prometheus::sum;
use meshcd_e2e::proxy::Proxy;
use meshcd_e2e::snapshot::{SnapshotBuilder, allow_tcp, endpoints, tcp_service};
use meshcd_e2e::sockets::established_peers;
use meshcd_e2e::testapp::TestApp;
use meshcd_schemas::proto;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const SETTING: &str = "shop/echo-limits";

/// An echo app behind its proxy (with `rate_limits`), and frontend's proxy calling it
/// (with `limits` on its calls).
async fn echo_and_frontend(
    mesh: &TestMesh,
    rate_limits: Vec<proto::RateLimit>,
    limits: Option<proto::Limits>,
) -> anyhow::Result<(TestApp, Proxy, Proxy)> {
    let echo = mesh.tcp_echo_app("echo").await?;
    let identity = mesh.identity("shop", "echo")?;
    let mut snapshot = SnapshotBuilder::new(&identity)
        .serves_tcp("echo", 7000, echo.address)
        .allow(allow_tcp(
            "shop/echo",
            &[&spiffe_id("shop", "frontend")],
            &[7000],
        ))
        .build();
    snapshot.workload.as_mut().unwrap().rate_limits = rate_limits;
    let server = mesh.start_proxy("echo", &identity, snapshot).await?;
    let identity = mesh.identity("shop", "frontend")?;
    let mut snapshot = SnapshotBuilder::new(&identity)
        .service(tcp_service("echo", "shop", 7000, endpoints(&[&server])))
        .build();
    snapshot.client_policies = vec![proto::ClientPolicy {
        namespace: "shop".into(),
        service: "echo".into(),
        limits,
        ..Default::default()
    }];
    let frontend = mesh.start_proxy("frontend", &identity, snapshot).await?;
    Ok((echo, server, frontend))
}

/// A connection through frontend's proxy, and whether it echoes (false: closed on us).
async fn echoes(frontend: &Proxy) -> anyhow::Result<(TcpStream, bool)> {
    let mut stream = TcpStream::connect(frontend.tcp_port("echo.shop:7000")?).await?;
    // A refused connection may be closed before the write lands.
    let _ = stream.write_all(b"ping").await;
    let mut echoed = [0_u8; 4];
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_exact(&mut echoed)).await?;
    Ok((stream, read.is_ok() && &echoed == b"ping"))
}

#[tokio::test]
async fn connections_over_max_connections_are_closed_at_once() -> anyhow::Result<()> {
    let mesh = TestMesh::new()?;
    let limits = proto::Limits {
        name: SETTING.into(),
        max_connections: Some(2),
        ..Default::default()
    };
    let (echo, _server, frontend) = echo_and_frontend(&mesh, Vec::new(), Some(limits)).await?;
    let (first, first_ok) = echoes(&frontend).await?;
    let (_second, second_ok) = echoes(&frontend).await?;
    let (_third, third_ok) = echoes(&frontend).await?;
    assert_eq!((first_ok, second_ok, third_ok), (true, true, false));
    assert_eq!(
        established_peers(echo.address)?.len(),
        2,
        "the app holds two"
    );
    drop(first);
    // The slot comes back once the proxy sees the connection end.
    meshcd_e2e::eventually(Duration::from_secs(10), || async {
        let (_fourth, ok) = echoes(&frontend).await?;
        anyhow::ensure!(ok, "no slot yet");
        Ok(())
    })
    .await?;
    let refused = sum(
        &frontend.metrics().await?,
        "meshcd_proxy_overflows_total",
        &[("limit", "maxConnections")],
    );
    assert!(refused >= 1.0, "{refused}");
    Ok(())
}

#[tokio::test]
async fn connections_over_the_local_tcp_rate_are_closed_by_the_serving_proxy() -> anyhow::Result<()>
{
    let mesh = TestMesh::new()?;
    let rate = proto::RateLimit {
        service: "echo".into(),
        setting: SETTING.into(),
        requests: 2,
        fill_interval_ms: 3_600_000,
        scope: proto::RateLimitScope::Tcp.into(),
        ..Default::default()
    };
    let (_echo, server, frontend) = echo_and_frontend(&mesh, vec![rate], None).await?;
    let mut outcomes = Vec::new();
    for _ in 0..4 {
        let (stream, ok) = echoes(&frontend).await?;
        drop(stream);
        outcomes.push(ok);
    }
    assert_eq!(outcomes, [true, true, false, false]);
    let limited = sum(
        &server.metrics().await?,
        "meshcd_proxy_rate_limited_total",
        &[],
    );
    assert_eq!(limited, 2.0);
    Ok(())
}
