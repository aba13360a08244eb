//! A connection flood against a proxy's inbound listener (issue 13, door 5): an attacker
//! opens far more connections than the listener's cap and holds them. The caller whose
//! connection was established before keeps getting 200s, connections past the cap are
//! closed at once and counted, and once the flood lets go the proxy serves new callers.

use std::io::{ErrorKind, Read};

use anyhow::Context;
use meshcd_e2e::TestMesh;
use meshcd_e2e::eventually::{DEADLINE, eventually};
use meshcd_e2e::pki::spiffe_id;
use meshcd_e2e::prometheus;
use meshcd_e2e::proxy::Proxy;
use meshcd_e2e::snapshot::{SnapshotBuilder, allow_all_http, endpoints, http_service};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const CAP: u32 = 20;
/// Connections the attacker opens: three times the cap.
const FLOOD: usize = 60;
const VALUES: &str = "http://api.shop/api/values";

/// A caller of `api` whose proxy knows it at `api`'s inbound address.
async fn caller(mesh: &TestMesh, name: &str, api: &Proxy) -> anyhow::Result<Proxy> {
    let identity = mesh.identity("shop", name)?;
    let snapshot = SnapshotBuilder::new(&identity)
        .service(http_service("api", "shop", endpoints(&[api])))
        .build();
    mesh.start_proxy(name, &identity, snapshot).await
}

async fn inbound_metric(api: &Proxy, name: &str) -> anyhow::Result<f64> {
    let text = api.metrics().await?;
    Ok(prometheus::sum(&text, name, &[("listener", "inbound")]))
}

/// Whether the proxy closes a new connection to `address` (reset while connecting, end of
/// file or reset on the first read) rather than serving it.
async fn closed_by_the_proxy(address: std::net::SocketAddr) -> anyhow::Result<bool> {
    let mut stream = match TcpStream::connect(address).await {
        Ok(stream) => stream,
        Err(error) if error.kind() == ErrorKind::ConnectionReset => return Ok(true),
        Err(error) => return Err(error.into()),
    };
    let mut byte = [0u8; 1];
    let read = tokio::time::timeout(DEADLINE, stream.read(&mut byte))
        .await
        .context("the proxy neither served nor closed the connection")?;
    Ok(matches!(read, Ok(0) | Err(_)))
}

#[tokio::test]
async fn a_flood_past_the_connection_cap_is_shed_while_established_callers_keep_getting_200s()
-> anyhow::Result<()> {
    let mesh = TestMesh::new()?;
    let app = mesh.app("api").await?;
    let identity = mesh.identity("shop", "api")?;
    let snapshot = SnapshotBuilder::new(&identity)
        .serves_http("api", app.address)
        .allow(allow_all_http(
            "shop/api",
            &[&spiffe_id("shop", "frontend"), &spiffe_id("shop", "late")],
        ))
        .build();
    let api = mesh
        .proxy("api", &identity, snapshot)?
        .max_connections(CAP)
        .start()
        .await?;
    let frontend = caller(&mesh, "frontend", &api).await?;
    // The frontend's proxy keeps one pooled mTLS connection to api: established now.
    let response = frontend.client().get(VALUES).await?;
    assert_eq!(response.status, 200, "{}", response.text());

    // The attacker opens connections and sends nothing, holding what it gets.
    let mut flood = Vec::with_capacity(FLOOD);
    let mut reset_while_connecting = 0;
    for _ in 0..FLOOD {
        match TcpStream::connect(api.inbound).await {
            Ok(stream) => flood.push(stream),
            // Accepted and reset by the proxy before the connect call returned.
            Err(error) if error.kind() == ErrorKind::ConnectionReset => reset_while_connecting += 1,
            Err(error) => return Err(error.into()),
        }
    }
    let refused_by_the_flood = eventually(DEADLINE, || async {
        let open = inbound_metric(&api, "meshcd_proxy_connections_open").await?;
        let refused = inbound_metric(&api, "meshcd_proxy_connections_refused_total").await?;
        anyhow::ensure!(
            open == f64::from(CAP) && refused >= (FLOOD + 1 - CAP as usize) as f64,
            "open {open}, refused {refused}"
        );
        Ok(refused)
    })
    .await?;
    assert_eq!(
        refused_by_the_flood,
        (FLOOD + 1 - CAP as usize) as f64,
        "every flood connection past the cap, and none other, is counted as refused"
    );

    // At the cap (the proxy closes a silent connection after its 10 s handshake timeout,
    // so this part runs while the flood holds its slots): a new connection is closed at
    // once, and the established caller is served.
    assert!(closed_by_the_proxy(api.inbound).await?);
    assert_eq!(
        inbound_metric(&api, "meshcd_proxy_connections_refused_total").await?,
        refused_by_the_flood + 1.0
    );
    for _ in 0..20 {
        let response = frontend.client().get(VALUES).await?;
        assert_eq!(response.status, 200, "{}", response.text());
    }
    let mut shed = reset_while_connecting;
    let mut held = 0;
    for stream in flood.drain(..) {
        // A read straight on the socket: end of file or a reset means the proxy closed it.
        let mut stream = stream.into_std()?;
        let mut byte = [0u8; 1];
        match stream.read(&mut byte) {
            Err(error) if error.kind() == ErrorKind::WouldBlock => held += 1,
            Ok(0) | Err(_) => shed += 1,
            Ok(_) => anyhow::bail!("the proxy sent data on a flood connection"),
        }
    }
    assert_eq!(
        (held, shed),
        (CAP as usize - 1, FLOOD + 1 - CAP as usize),
        "flood connections held and shed"
    );

    // The flood lets go: slots free up and a caller with a new connection is served.
    eventually(DEADLINE, || async {
        let open = inbound_metric(&api, "meshcd_proxy_connections_open").await?;
        anyhow::ensure!(open <= 1.0, "{open} connections still open");
        Ok(())
    })
    .await?;
    let late = caller(&mesh, "late", &api).await?;
    let response = late.client().get(VALUES).await?;
    assert_eq!(response.status, 200, "{}", response.text());
    let response = frontend.client().get(VALUES).await?;
    assert_eq!(response.status, 200, "{}", response.text());
    Ok(())
}

#[tokio::test]
async fn upgraded_streams_keep_their_place_under_the_cap_until_they_end() -> anyhow::Result<()> {
    // An upgrade outlives its HTTP connection: were its slot given back at the hand-over,
    // a caller could hold any number of WebSocket streams past the cap.
    let mesh = TestMesh::new()?;
    let app = mesh.app("api").await?;
    let identity = mesh.identity("shop", "api")?;
    let snapshot = SnapshotBuilder::new(&identity)
        .serves_http("api", app.address)
        .allow(allow_all_http(
            "shop/api",
            &[&spiffe_id("shop", "frontend")],
        ))
        .build();
    let api = mesh
        .proxy("api", &identity, snapshot)?
        .max_connections(3)
        .start()
        .await?;
    let frontend = caller(&mesh, "frontend", &api).await?;
    let response = frontend.client().get(VALUES).await?;
    assert_eq!(response.status, 200, "{}", response.text());

    // Each upgrade takes a connection of its own to api's inbound listener: 1 + 2 = 3.
    let mut streams = Vec::new();
    for _ in 0..2 {
        let mut request = meshcd_e2e::http::get("http://api.shop/chat");
        request
            .headers_mut()
            .insert("connection", "upgrade".parse()?);
        request
            .headers_mut()
            .insert("upgrade", "websocket".parse()?);
        let mut upgraded = frontend.client().upgrade(request).await?;
        upgraded.write_all(b"ping").await?;
        let mut echoed = [0u8; 4];
        tokio::time::timeout(DEADLINE, upgraded.read_exact(&mut echoed)).await??;
        streams.push(upgraded);
    }
    let open = inbound_metric(&api, "meshcd_proxy_connections_open").await?;
    assert_eq!(open, 3.0, "the upgraded streams hold their slots");
    assert!(closed_by_the_proxy(api.inbound).await?);

    drop(streams);
    eventually(DEADLINE, || async {
        let open = inbound_metric(&api, "meshcd_proxy_connections_open").await?;
        anyhow::ensure!(open <= 1.0, "{open} connections still open");
        Ok(())
    })
    .await?;
    Ok(())
}
