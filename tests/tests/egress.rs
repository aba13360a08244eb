//! Calls out of the mesh end to end (issue 20): under deny, a workload's calls to servers
//! outside the mesh are refused until an OSM Egress committed to Git names them, and only
//! for the workloads it names. Real reconciler, proxies and "external" servers on
//! loopback: plain HTTP by Host header, HTTPS through `CONNECT` (let through on its SNI),
//! and TCP through `CONNECT` by CIDR. Names resolve through the proxy's own resolver
//! (`localhost`, from /etc/hosts).

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use meshcd_e2e::LocalMesh;
use meshcd_e2e::config_repo::{CANARY_ROLLOUT, CANARY_SPLIT, examples_repo};
use meshcd_e2e::http::Client;
use meshcd_e2e::local_mesh::Workload;
use meshcd_e2e::prometheus::sum;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const CANARY: &str = "osm-canary-deployment-sample-app";

/// frontend may call `localhost` over HTTP on `http` and over TLS on `https`, and any
/// loopback address over TCP on `tcp`.
fn egress_policies(http: u16, https: u16, tcp: u16) -> String {
    format!(
        "apiVersion: policy.openservicemesh.io/v1alpha1
kind: Egress
metadata: {{name: external-web, namespace: {CANARY}}}
spec:
  sources: [{{kind: ServiceAccount, name: frontend, namespace: {CANARY}}}]
  hosts: [localhost]
  ports: [{{number: {http}, protocol: http}}, {{number: {https}, protocol: https}}]
---
apiVersion: policy.openservicemesh.io/v1alpha1
kind: Egress
metadata: {{name: loopback-tcp, namespace: {CANARY}}}
spec:
  sources: [{{kind: ServiceAccount, name: frontend, namespace: {CANARY}}}]
  ipAddresses: [127.0.0.0/8]
  ports: [{{number: {tcp}, protocol: tcp}}]
"
    )
}

/// An HTTPS server for `localhost` (a certificate of its own, outside the mesh's CA):
/// answers every request with 200 "external-tls". Returns its address and certificate.
async fn tls_server() -> anyhow::Result<(SocketAddr, CertificateDer<'static>)> {
    let key = rcgen::KeyPair::generate()?;
    let params = rcgen::CertificateParams::new(vec!["localhost".to_string()])?;
    let certificate = params.self_signed(&key)?;
    let der = certificate.der().clone();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(
        vec![der.clone()],
        PrivateKeyDer::try_from(key.serialize_der()).map_err(anyhow::Error::msg)?,
    )?;
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(stream).await else {
                    return;
                };
                let mut head = [0u8; 1024];
                let _ = tls.read(&mut head).await;
                let body = "external-tls";
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(answer.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    Ok((address, der))
}

/// A TCP server that echoes what it reads.
async fn echo_server() -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (mut reader, mut writer) = stream.split();
                let _ = tokio::io::copy(&mut reader, &mut writer).await;
            });
        }
    });
    Ok(address)
}

/// Sends `CONNECT target` to the proxy: the status and, on 200, the tunnel.
async fn connect(proxy: SocketAddr, target: &str) -> anyhow::Result<(u16, Option<TcpStream>)> {
    let mut stream = TcpStream::connect(proxy).await?;
    let request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    // Read the response head byte by byte: whatever follows it is the tunnel's.
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        if stream.read(&mut byte).await? == 0 {
            anyhow::bail!("closed after {:?}", String::from_utf8_lossy(&head));
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("status line of {head:?}"))?;
    Ok((status, (status == 200).then_some(stream)))
}

/// A TLS GET over `tunnel` with server name `sni`, trusting `certificate`: the body.
async fn tls_get(
    tunnel: TcpStream,
    sni: &str,
    certificate: &CertificateDer<'static>,
) -> anyhow::Result<String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(certificate.clone())?;
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let name = ServerName::try_from(sni.to_string())?;
    let mut tls = connector
        .connect(name, tunnel)
        .await
        .context("TLS handshake")?;
    tls.write_all(format!("GET / HTTP/1.1\r\nHost: {sni}\r\n\r\n").as_bytes())
        .await?;
    let mut answer = String::new();
    tls.read_to_string(&mut answer).await?;
    Ok(answer)
}

async fn status_of(client: &Client, uri: &str) -> anyhow::Result<(u16, String)> {
    let response = client.get(uri).await?;
    Ok((response.status.as_u16(), response.text()))
}

#[tokio::test]
async fn egress_opens_chosen_hosts_to_chosen_workloads_and_nothing_else() -> anyhow::Result<()> {
    let mesh = LocalMesh::start(&[CANARY_SPLIT, CANARY_ROLLOUT]).await?;
    let frontend = mesh.workload(CANARY, "frontend", &["frontend"]).await?;
    let api: Workload = mesh.workload(CANARY, "api", &["api-v1", "api"]).await?;
    mesh.await_in_sync(2).await?;
    let external = mesh.app("external").await?;
    let web = external.address.port();
    let (tls_address, certificate) = tls_server().await?;
    let tcp = echo_server().await?;
    let (client, proxy) = (frontend.proxy.client(), frontend.proxy.client().address());
    let outside = format!("http://localhost:{web}/");

    // Under deny nothing leaves the mesh: 403 naming why, CONNECTs refused.
    let (status, body) = status_of(&client, &outside).await?;
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains(&format!("egress to localhost:{web} (http) denied")),
        "{body}"
    );
    assert!(body.contains("no Egress policy allows it"), "{body}");
    let https = format!("localhost:{}", tls_address.port());
    assert_eq!(connect(proxy, &https).await?.0, 403);
    assert_eq!(connect(proxy, &tcp.to_string()).await?.0, 403);

    let revision = mesh
        .repo
        .commit_file(
            &format!("{CANARY}/egress.yaml"),
            &egress_policies(web, tls_address.port(), tcp.port()),
        )
        .await?;
    mesh.reconciler.await_in_sync(&revision, 2).await?;

    // HTTP by name: frontend reaches the server, api (not a source) still gets 403, and
    // the address is not the name.
    let response = client.get(&outside).await?;
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.app()?.name, "external");
    let (status, body) = status_of(&api.proxy.client(), &outside).await?;
    assert_eq!(status, 403, "api is no source of the Egress: {body}");
    let (status, _) = status_of(&client, &format!("http://127.0.0.1:{web}/")).await?;
    assert_eq!(status, 403, "an address is not the host named");

    // HTTPS through CONNECT: through when the SNI is an allowed host, cut when a tunnel
    // to an allowed host carries TLS for another name.
    let (status, tunnel) = connect(proxy, &https).await?;
    assert_eq!(status, 200);
    let answer = tls_get(tunnel.context("tunnel")?, "localhost", &certificate).await?;
    assert!(answer.ends_with("external-tls"), "{answer}");
    let (_, smuggling) = connect(proxy, &https).await?;
    let smuggled = tls_get(smuggling.context("tunnel")?, "evil.example", &certificate).await;
    assert!(
        smuggled.is_err(),
        "TLS for another name got through: {smuggled:?}"
    );
    assert_eq!(
        connect(proxy, &format!("evil.example:{}", tls_address.port()))
            .await?
            .0,
        403
    );
    let (status, _) = connect(api.proxy.client().address(), &https).await?;
    assert_eq!(status, 403, "api may not tunnel either");

    // TCP by CIDR: any loopback address on the allowed port, no other port.
    let (status, tunnel) = connect(proxy, &tcp.to_string()).await?;
    assert_eq!(status, 200);
    let mut tunnel = tunnel.context("tunnel")?;
    tunnel.write_all(b"ping").await?;
    let mut echoed = [0u8; 4];
    tunnel.read_exact(&mut echoed).await?;
    assert_eq!(&echoed, b"ping");
    assert_eq!(connect(proxy, &format!("127.0.0.1:{web}")).await?.0, 403);

    let metrics = frontend.proxy.metrics().await?;
    let count = |protocol: &str, result: &str| {
        sum(
            &metrics,
            "meshcd_proxy_egress_total",
            &[("protocol", protocol), ("result", result)],
        )
    };
    eprintln!(
        "frontend's egress: http {} allowed / {} denied, https {} / {}, tcp {} / {}",
        count("http", "allowed"),
        count("http", "denied"),
        count("https", "allowed"),
        count("https", "denied"),
        count("tcp", "allowed"),
        count("tcp", "denied"),
    );
    assert_eq!(count("https", "denied"), 1.0, "the smuggled SNI is counted");
    assert_eq!(count("https", "allowed"), 1.0);
    assert!(count("http", "allowed") >= 1.0);

    // The Mesh's `egress: allow` opens the edge to every workload, no Egress needed.
    let mesh_yaml = std::fs::read_to_string(examples_repo().join("mesh.yaml"))?;
    let allow = mesh_yaml.replace("spec:\n", "spec:\n  egress: allow\n");
    assert_ne!(allow, mesh_yaml, "examples-repo/mesh.yaml has a spec");
    let revision = mesh.repo.commit_file("mesh.yaml", &allow).await?;
    mesh.reconciler.await_in_sync(&revision, 2).await?;
    let (status, body) = status_of(&api.proxy.client(), &outside).await?;
    assert_eq!(status, 200, "egress: allow: {body}");
    Ok(())
}
