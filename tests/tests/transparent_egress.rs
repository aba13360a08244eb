//! Egress for transparent callers (issue 20): inside a network namespace an iptables
//! REDIRECT sends the app's connections to addresses outside the mesh into the proxy,
//! which lets through what an Egress allows (TCP by CIDR, HTTP by its Host), answers a
//! denied HTTP request 403 and closes a denied stream. The app's sockets carry a mark the
//! REDIRECT matches, as a pod's rules exclude the proxy's own connections by its user.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use meshcd_e2e::netns::{self, NetworkNamespace};
use meshcd_e2e::snapshot::SnapshotBuilder;
use meshcd_e2e::{TestMesh, environment};
use meshcd_schemas::proto;
use nix::sys::socket::{setsockopt, sockopt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

/// The "outside world": routed to loopback in the namespace, one address of it assigned.
const EXTERNAL_RANGE: &str = "10.97.0.0/16";
const EXTERNAL_IP: &str = "10.97.0.5";
const OUTBOUND_PORT: &str = "15001";
/// The mark of the app's sockets, which the REDIRECT matches.
const APP_MARK: u32 = 7;

fn rule(
    name: &str,
    ranges: &[&str],
    port: u32,
    protocol: proto::EgressProtocol,
) -> proto::EgressRule {
    proto::EgressRule {
        name: name.into(),
        ip_ranges: ranges.iter().map(|r| r.to_string()).collect(),
        ports: vec![proto::EgressPort {
            number: port,
            protocol: protocol as i32,
        }],
        ..Default::default()
    }
}

/// A connection made as the app makes it: marked, so the namespace redirects it.
async fn app_connect(address: SocketAddr) -> anyhow::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    setsockopt(&socket, sockopt::Mark, &APP_MARK).context("SO_MARK")?;
    let stream = tokio::time::timeout(Duration::from_secs(10), socket.connect(address))
        .await
        .context("connect timed out")??;
    Ok(stream)
}

/// What the server sends back before closing, or what it sent until the deadline.
async fn exchange(address: SocketAddr, send: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut stream = app_connect(address).await?;
    stream.write_all(send).await?;
    let mut received = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut received)).await;
    Ok(received)
}

/// `exchange` on a connection the namespace does not redirect.
async fn exchange_plain(address: SocketAddr, send: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut stream = TcpStream::connect(address).await?;
    stream.write_all(send).await?;
    let mut received = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut received)).await??;
    Ok(received)
}

/// Serves `listener` forever: echoes, or answers one HTTP request naming `name`.
fn serve(listener: TcpListener, http: Option<&'static str>) {
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buffer = [0u8; 4096];
                let Ok(n) = stream.read(&mut buffer).await else {
                    return;
                };
                match http {
                    Some(name) => {
                        let answer = format!(
                            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{name}",
                            name.len()
                        );
                        let _ = stream.write_all(answer.as_bytes()).await;
                    }
                    None => {
                        let _ = stream.write_all(&buffer[..n]).await;
                    }
                }
            });
        }
    });
}

#[tokio::test]
async fn redirected_calls_out_of_the_mesh_pass_where_an_egress_allows_and_nowhere_else()
-> anyhow::Result<()> {
    if let Err(reason) = netns::transparent_mode_prerequisites() {
        assert!(
            !environment::in_ci(),
            "transparent mode cannot be tested in CI: {reason}"
        );
        eprintln!("skipped: transparent mode cannot be tested here: {reason}");
        return Ok(());
    }
    let mesh = TestMesh::new()?;
    let namespace = NetworkNamespace::create()?;
    namespace.exec(
        "ip",
        &["addr", "add", &format!("{EXTERNAL_IP}/32"), "dev", "lo"],
    )?;
    let mark = APP_MARK.to_string();
    namespace.exec(
        "iptables",
        &[
            "-t",
            "nat",
            "-A",
            "OUTPUT",
            "-p",
            "tcp",
            "-d",
            EXTERNAL_RANGE,
            "-m",
            "mark",
            "--mark",
            &mark,
            "-j",
            "REDIRECT",
            "--to-ports",
            OUTBOUND_PORT,
        ],
    )?;
    let identity = mesh.identity("shop", "frontend")?;
    let mut snapshot = SnapshotBuilder::new(&identity).build();
    snapshot.egress = vec![
        rule(
            "shop/tcp",
            &[EXTERNAL_RANGE],
            7000,
            proto::EgressProtocol::Tcp,
        ),
        rule(
            "shop/web",
            &[EXTERNAL_RANGE],
            80,
            proto::EgressProtocol::Http,
        ),
    ];
    let frontend = mesh
        .proxy("frontend", &identity, snapshot)?
        .in_namespace(&namespace)
        .outbound(&format!("127.0.0.1:{OUTBOUND_PORT}"))
        .start()
        .await?;

    let at = |port: u16| -> SocketAddr { format!("{EXTERNAL_IP}:{port}").parse().unwrap() };
    let admin = frontend.admin;
    let (echoed, web, denied_web, denied_stream, metrics) = namespace
        .run(move || async move {
            for (port, http) in [
                (7000, None),
                (7001, None),
                (80, Some("external-web")),
                (8080, Some("hidden")),
            ] {
                serve(TcpListener::bind(at(port)).await?, http);
            }
            let echoed = exchange(at(7000), b"ping").await;
            let get = format!("GET / HTTP/1.1\r\nHost: {EXTERNAL_IP}\r\nConnection: close\r\n\r\n");
            let web = exchange(at(80), get.as_bytes()).await?;
            let denied_web = exchange(at(8080), get.as_bytes()).await?;
            // A stream no Egress allows: the proxy closes it, nothing reaches the server.
            let denied_stream = exchange(at(7001), b"\x00secret").await?;
            // The admin listener is the namespace's too.
            let metrics = exchange_plain(
                admin,
                b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
            )
            .await?;
            Ok((echoed, web, denied_web, denied_stream, metrics))
        })
        .await?;
    // The echo answers only when the proxy connects it; a closed tunnel reads nothing.
    let echoed = echoed?;
    assert_eq!(
        &echoed[..echoed.len().min(4)],
        b"ping",
        "TCP by CIDR: {echoed:?}"
    );
    let web = String::from_utf8_lossy(&web);
    assert!(web.starts_with("HTTP/1.1 200"), "{web}");
    assert!(web.ends_with("external-web"), "{web}");
    let denied_web = String::from_utf8_lossy(&denied_web);
    assert!(denied_web.starts_with("HTTP/1.1 403"), "{denied_web}");
    assert!(
        denied_web.contains(&format!("egress to {EXTERNAL_IP}:8080 (http) denied")),
        "{denied_web}"
    );
    assert!(!denied_web.contains("hidden"), "{denied_web}");
    assert!(
        denied_stream.is_empty(),
        "denied stream got {denied_stream:?}"
    );

    let metrics = String::from_utf8_lossy(&metrics);
    assert!(
        metrics.contains(
            "meshcd_proxy_egress_total{protocol=\"tcp\",result=\"denied\",policy=\"\"} 1"
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            "meshcd_proxy_egress_total{protocol=\"tcp\",result=\"allowed\",policy=\"shop/tcp\"} 1"
        ),
        "{metrics}"
    );
    Ok(())
}
