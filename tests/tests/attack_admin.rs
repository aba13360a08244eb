//! Attacks on a proxy's admin listener. In a pod it is bound on every address (kubelet
//! probes `/ready` and `/live`, Prometheus scrapes `/metrics`), so anyone on the pod
//! network reaches it: `/config`, which lists the mesh's endpoints, identities and
//! authorization rules, must answer loopback clients only, and clients that connect and
//! say nothing must not keep the listener's connection slots from the probes.

use std::time::{Duration, Instant};

use anyhow::Context;
use meshcd_e2e::http::{self, Client};
use meshcd_e2e::netns::{self, NetworkNamespace};
use meshcd_e2e::snapshot::SnapshotBuilder;
use meshcd_e2e::{TestMesh, environment};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

/// A second address on the namespace's loopback device, outside 127.0.0.0/8: a client
/// connecting from it is what the proxy sees of a client on the pod network.
const POD_NETWORK_ADDRESS: &str = "198.51.100.10";
/// The header-read timeout of the proxy's listeners (`HEADER_READ_TIMEOUT`).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// GET `path` from `address`, status and body.
async fn get(address: std::net::SocketAddr, path: &str) -> anyhow::Result<(u16, String)> {
    let mut request = http::get(path);
    request
        .headers_mut()
        .insert(::http::header::HOST, "admin".parse()?);
    let response = Client::new(address).send(request).await?;
    Ok((response.status.as_u16(), response.text()))
}

#[tokio::test]
async fn config_answers_loopback_clients_only_and_probes_and_metrics_answer_everyone()
-> anyhow::Result<()> {
    if let Err(reason) = netns::namespace_prerequisites() {
        // CI runs as root with iproute2 (scripts/install-test-deps.sh).
        assert!(
            !environment::in_ci(),
            "the admin listener cannot be tested from a non-loopback address in CI: {reason}"
        );
        eprintln!("skipped: no network namespace for a non-loopback client: {reason}");
        return Ok(());
    }
    let mesh = TestMesh::new()?;
    let namespace = NetworkNamespace::create()?;
    namespace.exec(
        "ip",
        &[
            "addr",
            "add",
            &format!("{POD_NETWORK_ADDRESS}/32"),
            "dev",
            "lo",
        ],
    )?;
    let identity = mesh.identity("shop", "api")?;
    let snapshot = SnapshotBuilder::new(&identity).version("v1").build();
    let api = mesh
        .proxy("api", &identity, snapshot)?
        .in_namespace(&namespace)
        .admin("0.0.0.0:0")
        .start()
        .await?;
    let port = api.admin.port();

    let answers = namespace
        .run(move || async move {
            let mut answers = Vec::new();
            for source in [POD_NETWORK_ADDRESS, "127.0.0.1"] {
                let address = format!("{source}:{port}").parse()?;
                for path in ["/config", "/ready", "/live", "/metrics"] {
                    let (status, body) = get(address, path)
                        .await
                        .with_context(|| format!("{path} from {source}"))?;
                    answers.push((source, path, status, body));
                }
            }
            Ok(answers)
        })
        .await?;

    for (source, path, status, body) in &answers {
        let expected = if *source == POD_NETWORK_ADDRESS && *path == "/config" {
            403
        } else {
            200
        };
        assert_eq!(*status, expected, "{path} from {source}: {body}");
        if expected == 403 {
            assert!(
                body.contains("loopback clients only") && !body.contains("spiffe://"),
                "{body}"
            );
        }
        if *path == "/config" && expected == 200 {
            assert!(body.contains("\"version\":\"v1\""), "{body}");
        }
    }
    Ok(())
}

#[tokio::test]
async fn a_silent_connection_to_the_admin_port_is_closed_after_the_header_timeout()
-> anyhow::Result<()> {
    let mesh = TestMesh::new()?;
    let identity = mesh.identity("shop", "api")?;
    let snapshot = SnapshotBuilder::new(&identity).build();
    let api = mesh.start_proxy("api", &identity, snapshot).await?;

    let start = Instant::now();
    let mut silent = TcpStream::connect(api.admin).await?;
    let mut byte = [0_u8; 1];
    let read = tokio::time::timeout(HEADER_READ_TIMEOUT * 3, silent.read(&mut byte))
        .await
        .context("the admin listener kept a silent connection open")?;
    let elapsed = start.elapsed();
    assert!(
        matches!(read, Ok(0) | Err(_)),
        "the proxy sent bytes to a silent client: {read:?}"
    );
    assert!(
        elapsed >= HEADER_READ_TIMEOUT - Duration::from_millis(500),
        "closed after {elapsed:?}, before the timeout"
    );
    // Meanwhile and afterwards, probes are served.
    api.admin_get("/ready").await?;
    Ok(())
}
