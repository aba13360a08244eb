//! OSM IngressBackends end to end (issue 20): under strict mTLS and deny policy a client
//! from outside the mesh speaks plaintext HTTP straight to a workload's inbound listener,
//! as an ingress controller does. It is refused until an IngressBackend committed to Git
//! names its address; then it reaches that backend's port and nothing else, and a client
//! at any other address is still refused, whatever headers it sends. Real reconciler,
//! proxies, apps and Git repository; clients bind other loopback addresses (127.0.0.2,
//! 127.0.0.3) to stand for other hosts. An ingress presenting a certificate is tested on
//! a proxy given its snapshot, with certificates of the test CA.

use std::net::{IpAddr, SocketAddr};

use meshcd_e2e::eventually::{DEADLINE, eventually};
use meshcd_e2e::http::{self, Client};
use meshcd_e2e::local_mesh::Workload;
use meshcd_e2e::snapshot::SnapshotBuilder;
use meshcd_e2e::{LocalMesh, TestMesh, tls};
use meshcd_schemas::proto;

const SIMPLE: &str = "osm-simple-app";
/// The ingress's host, and another one.
const INGRESS: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 2));
const ELSEWHERE: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 3));

/// An IngressBackend opening port 80 of `api` to `sources` (YAML flow sequence items).
fn ingress_backend(sources: &str) -> String {
    format!(
        "apiVersion: policy.openservicemesh.io/v1alpha1
kind: IngressBackend
metadata: {{name: edge, namespace: {SIMPLE}}}
spec:
  backends:
  - name: api
    port: {{number: 80, protocol: http}}
  sources: [{sources}]
"
    )
}

/// `api` serving HTTP on service ports 80 and 8080 (two apps), and `web` on port 80.
async fn mesh() -> anyhow::Result<(LocalMesh, Workload, meshcd_e2e::testapp::TestApp, Workload)> {
    let mesh = LocalMesh::start(&[]).await?;
    let api_app = mesh.app("api").await?;
    let admin_app = mesh.app("api-admin").await?;
    let proxy = mesh
        .join(SIMPLE, "api")
        .service("api")
        .serves_http(api_app.address)
        .serves_http_on(8080, admin_app.address)
        .start()
        .await?;
    let api = Workload {
        app: api_app,
        proxy,
    };
    let web = mesh.workload(SIMPLE, "web", &["web"]).await?;
    mesh.await_in_sync(2).await?;
    Ok((mesh, api, admin_app, web))
}

/// A GET of `path` with the Host of `api` on `port`, as an ingress controller sends it.
fn to_api(
    path: &str,
    port: u16,
) -> anyhow::Result<::http::Request<http_body_util::Full<bytes::Bytes>>> {
    let mut request = http::get(path);
    request
        .headers_mut()
        .insert("host", format!("api.{SIMPLE}:{port}").parse()?);
    Ok(request)
}

fn from(address: IpAddr, inbound: SocketAddr) -> Client {
    Client::new(inbound).from_address(address)
}

#[tokio::test]
async fn an_ingress_backend_lets_its_address_range_reach_its_backend_port_and_nothing_else()
-> anyhow::Result<()> {
    let (mesh, api, _admin_app, web) = mesh().await?;
    let ingress = from(INGRESS, api.proxy.inbound);

    // Strict mTLS: plaintext is refused before any IngressBackend.
    let before = ingress.send(to_api("/orders", 80)?).await;
    assert!(
        before.is_err(),
        "plaintext served under strict mTLS: {:?}",
        before.map(|r| r.status)
    );

    let revision = mesh
        .repo
        .commit_file(
            "osm-simple-app/ingress.yaml",
            &ingress_backend("{kind: IPRange, name: 127.0.0.2/32}"),
        )
        .await?;
    mesh.reconciler.await_in_sync(&revision, 2).await?;

    // The named backend and port: any path, no TrafficTarget needed.
    let served = ingress.send(to_api("/orders?page=2", 80)?).await?;
    assert_eq!(served.status, 200, "{}", served.text());
    assert_eq!(served.app()?.name, "api");
    // Another port of the same workload: 403 naming the IngressBackend and what it opens.
    let other_port = ingress.send(to_api("/admin", 8080)?).await?;
    assert_eq!(other_port.status, 403, "{}", other_port.text());
    let body = other_port.text();
    assert!(
        body.contains("IngressBackend osm-simple-app/edge opens only api.osm-simple-app port 80"),
        "{body}"
    );
    // Another service's workload: no IngressBackend names it, so plaintext is refused.
    let other_service = from(INGRESS, web.proxy.inbound).send(http::get("/")).await;
    assert!(
        other_service.is_err(),
        "web served the ingress: {:?}",
        other_service.map(|r| (r.status, r.text()))
    );
    Ok(())
}

#[tokio::test]
async fn a_client_outside_the_range_gets_nothing_whatever_it_claims() -> anyhow::Result<()> {
    let (mesh, api, _admin_app, _web) = mesh().await?;
    let revision = mesh
        .repo
        .commit_file(
            "osm-simple-app/ingress.yaml",
            &ingress_backend("{kind: IPRange, name: 127.0.0.2/32}"),
        )
        .await?;
    mesh.reconciler.await_in_sync(&revision, 2).await?;
    assert_eq!(
        from(INGRESS, api.proxy.inbound)
            .send(to_api("/", 80)?)
            .await?
            .status,
        200
    );

    // The attacker at 127.0.0.3 claims to be the ingress in every header a proxy might
    // trust: the address that counts is its socket's.
    let attacker = from(ELSEWHERE, api.proxy.inbound);
    let mut request = to_api("/", 80)?;
    for header in ["x-forwarded-for", "x-real-ip", "forwarded"] {
        request
            .headers_mut()
            .insert(header, INGRESS.to_string().parse()?);
    }
    request
        .headers_mut()
        .insert("x-meshcd-destination", "api.osm-simple-app:80".parse()?);
    let refused = attacker.send(request).await;
    assert!(
        refused.is_err(),
        "127.0.0.3 was served: {:?}",
        refused.map(|r| (r.status, r.text()))
    );
    // Nor does the raw byte stream of a request get an answer.
    let raw = attacker
        .send_raw(b"GET / HTTP/1.1\r\nHost: api.osm-simple-app\r\n\r\n".to_vec())
        .await;
    assert!(raw.is_err(), "127.0.0.3 got {raw:?}");
    Ok(())
}

#[tokio::test]
async fn a_service_source_lets_in_the_addresses_of_that_services_workloads() -> anyhow::Result<()> {
    let (mesh, api, _admin_app, _web) = mesh().await?;
    // The ingress controller is a workload of the mesh (Service `gateway`) that calls its
    // backends without a mesh certificate; in local mode its address is its proxy's host.
    let gateway = mesh.workload(SIMPLE, "gateway", &["gateway"]).await?;
    let revision = mesh
        .repo
        .commit_file(
            "osm-simple-app/ingress.yaml",
            &ingress_backend("{kind: Service, name: gateway, namespace: osm-simple-app}"),
        )
        .await?;
    mesh.reconciler.await_in_sync(&revision, 3).await?;
    let host = gateway.proxy.inbound.ip();
    let served = from(host, api.proxy.inbound).send(to_api("/", 80)?).await?;
    assert_eq!(served.status, 200, "{}", served.text());
    let refused = from(ELSEWHERE, api.proxy.inbound)
        .send(to_api("/", 80)?)
        .await;
    assert!(
        refused.is_err(),
        "127.0.0.3 was served: {:?}",
        refused.map(|r| r.status)
    );
    Ok(())
}

/// An ingress that presents a certificate: an IngressBackend's `https` backend with an
/// `AuthenticatedPrincipal` source, as the backend's proxy gets it in its snapshot.
#[tokio::test]
async fn an_authenticated_principal_reaches_its_https_backend_and_no_other_name_does()
-> anyhow::Result<()> {
    let mesh = TestMesh::new()?;
    let app = mesh.app("api").await?;
    let admin = mesh.app("api-admin").await?;
    let identity = mesh.identity("shop", "api")?;
    let mut snapshot = SnapshotBuilder::new(&identity)
        .serves_http("api", app.address)
        .build();
    let workload = snapshot.workload.as_mut().expect("a workload");
    workload.ports.push(proto::InboundPort {
        service_port: 8080,
        app_address: admin.address.to_string(),
        protocol: proto::Protocol::Http as i32,
    });
    workload.ingress.push(proto::IngressRule {
        ingress_backend: "shop/edge".into(),
        backends: vec![proto::IngressBackendPort {
            service: "api".into(),
            port: 80,
            protocol: proto::IngressProtocol::Https as i32,
        }],
        sources: Vec::new(),
        principals: vec!["ingress.example.com".into()],
    });
    let api = mesh.start_proxy("api", &identity, snapshot).await?;

    // The ingress's certificate: the mesh's CA, no SPIFFE identity, the principal's name.
    let ingress = mesh.pki().issue_dns("ingress.example.com")?;
    let served = tls::exchange(api.inbound, Some(&ingress), &get("api.shop")).await?;
    assert!(answered(&served).starts_with("HTTP/1.1 200"), "{served:?}");
    // Its other port: 403 naming what the IngressBackend opens.
    let other_port = tls::exchange(api.inbound, Some(&ingress), &get("api.shop:8080")).await?;
    let text = answered(&other_port);
    assert!(text.starts_with("HTTP/1.1 403"), "{text}");
    assert!(
        text.contains("IngressBackend shop/edge opens only api.shop port 80 to HTTPS"),
        "{text}"
    );

    // Attacks: another name from the same CA, the right name from another CA, no
    // certificate, and the principal's name over plaintext: none gets a byte.
    let impostor = mesh.pki().issue_dns("other.example.com")?;
    let forged = mesh.foreign_pki()?.issue_dns("ingress.example.com")?;
    for (who, client) in [
        ("another name", Some(&impostor)),
        ("a foreign CA", Some(&forged)),
        ("no certificate", None),
    ] {
        let outcome = tls::exchange(api.inbound, client, &get("api.shop")).await?;
        assert!(
            matches!(outcome, tls::Outcome::Refused(_)),
            "{who} was served: {outcome:?}"
        );
    }
    let plaintext = Client::new(api.inbound).send(to_api("/", 80)?).await;
    assert!(
        plaintext.is_err(),
        "plaintext was served: {:?}",
        plaintext.map(|r| r.status)
    );
    Ok(())
}

/// A raw GET of `/` with `host`.
fn get(host: &str) -> Vec<u8> {
    format!("GET / HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n\r\n").into_bytes()
}

fn answered(outcome: &tls::Outcome) -> String {
    match outcome {
        tls::Outcome::Answered(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        tls::Outcome::Refused(error) => format!("refused: {error}"),
    }
}

#[tokio::test]
async fn an_invalid_ingress_backend_opens_nothing_and_a_removed_one_closes_again()
-> anyhow::Result<()> {
    let (mesh, api, _admin_app, _web) = mesh().await?;
    let file = "osm-simple-app/ingress.yaml";
    let applied = mesh
        .repo
        .commit_file(
            file,
            &ingress_backend("{kind: IPRange, name: 127.0.0.2/32}"),
        )
        .await?;
    mesh.reconciler.await_in_sync(&applied, 2).await?;

    // A commit that would open all of 127/8, with one source malformed: rejected whole.
    let invalid = mesh
        .repo
        .commit_file(
            file,
            &ingress_backend(
                "{kind: IPRange, name: 127.0.0.0/8}, {kind: IPRange, name: 127.0.0.2/33}",
            ),
        )
        .await?;
    let status = eventually(DEADLINE, || async {
        let status = mesh.reconciler.status().await?;
        let rejected = &status["source"]["rejected"];
        anyhow::ensure!(
            rejected["revision"]["id"] == invalid.as_str(),
            "not rejected yet: {rejected}"
        );
        Ok(status)
    })
    .await?;
    let errors = status["source"]["rejected"]["errors"].to_string();
    assert!(
        errors.contains(
            "IPRange \\\"127.0.0.2/33\\\": prefix length \\\"33\\\" is not a number from 0 to 32"
        ) && errors.contains("ingress.yaml"),
        "{errors}"
    );
    assert_eq!(status["source"]["applied"]["id"], applied.as_str());
    let attacker = from(ELSEWHERE, api.proxy.inbound)
        .send(to_api("/", 80)?)
        .await;
    assert!(
        attacker.is_err(),
        "the rejected range was applied: {:?}",
        attacker.map(|r| r.status)
    );
    let ingress = from(INGRESS, api.proxy.inbound);
    assert_eq!(ingress.send(to_api("/", 80)?).await?.status, 200);

    // Removed from Git: plaintext is refused again.
    let removed = mesh.repo.commit_removal(file).await?;
    mesh.reconciler.await_in_sync(&removed, 2).await?;
    let after = ingress.send(to_api("/", 80)?).await;
    assert!(
        after.is_err(),
        "still served: {:?}",
        after.map(|r| r.status)
    );
    Ok(())
}

#[tokio::test]
async fn an_ingress_with_the_mesh_cas_certificate_reaches_an_https_backend_committed_to_git()
-> anyhow::Result<()> {
    let (mesh, api, _admin_app, _web) = mesh().await?;
    let ingress = mesh.reconciler.ingress_certificate("ingress.example.com")?;
    let before = tls::exchange(
        api.proxy.inbound,
        Some(&ingress),
        &get("api.osm-simple-app"),
    )
    .await?;
    assert!(
        matches!(before, tls::Outcome::Refused(_)),
        "served before any IngressBackend: {before:?}"
    );

    let revision = mesh
        .repo
        .commit_file(
            "osm-simple-app/ingress.yaml",
            &format!(
                "apiVersion: policy.openservicemesh.io/v1alpha1
kind: IngressBackend
metadata: {{name: edge-tls, namespace: {SIMPLE}}}
spec:
  backends:
  - name: api
    port: {{number: 80, protocol: https}}
    tls: {{skipClientCertValidation: false}}
  sources: [{{kind: AuthenticatedPrincipal, name: ingress.example.com}}]
"
            ),
        )
        .await?;
    mesh.reconciler.await_in_sync(&revision, 2).await?;
    let served = tls::exchange(
        api.proxy.inbound,
        Some(&ingress),
        &get("api.osm-simple-app"),
    )
    .await?;
    assert!(answered(&served).starts_with("HTTP/1.1 200"), "{served:?}");
    let other_port = tls::exchange(
        api.proxy.inbound,
        Some(&ingress),
        &get("api.osm-simple-app:8080"),
    )
    .await?;
    assert!(
        answered(&other_port).starts_with("HTTP/1.1 403"),
        "{other_port:?}"
    );
    // The same CA, another name: refused.
    let impostor = mesh.reconciler.ingress_certificate("evil.example.com")?;
    let refused = tls::exchange(
        api.proxy.inbound,
        Some(&impostor),
        &get("api.osm-simple-app"),
    )
    .await?;
    assert!(matches!(refused, tls::Outcome::Refused(_)), "{refused:?}");
    Ok(())
}

/// Permissive mTLS already serves plaintext: an IngressBackend then opens its port to its
/// sources without a TrafficTarget, and the SMI rules judge everything else as
/// `unauthenticated` (none here: 403).
#[tokio::test]
async fn under_permissive_mtls_the_smi_rules_judge_what_no_ingress_backend_opens()
-> anyhow::Result<()> {
    let mesh = TestMesh::new()?;
    let app = mesh.app("api").await?;
    let admin = mesh.app("api-admin").await?;
    let identity = mesh.identity("shop", "api")?;
    let mut snapshot = SnapshotBuilder::new(&identity)
        .serves_http("api", app.address)
        .permissive_mtls()
        .build();
    let workload = snapshot.workload.as_mut().expect("a workload");
    workload.ports.push(proto::InboundPort {
        service_port: 8080,
        app_address: admin.address.to_string(),
        protocol: proto::Protocol::Http as i32,
    });
    workload.ingress.push(proto::IngressRule {
        ingress_backend: "shop/edge".into(),
        backends: vec![proto::IngressBackendPort {
            service: "api".into(),
            port: 80,
            protocol: proto::IngressProtocol::Http as i32,
        }],
        sources: vec!["127.0.0.2/32".into()],
        principals: Vec::new(),
    });
    let api = mesh.start_proxy("api", &identity, snapshot).await?;
    let host = |port: u16| -> anyhow::Result<_> {
        let mut request = http::get("/");
        request
            .headers_mut()
            .insert("host", format!("api.shop:{port}").parse()?);
        Ok(request)
    };

    let opened = from(INGRESS, api.inbound).send(host(80)?).await?;
    assert_eq!(opened.status, 200, "{}", opened.text());
    let other_port = from(INGRESS, api.inbound).send(host(8080)?).await?;
    assert_eq!(other_port.status, 403, "{}", other_port.text());
    assert!(
        other_port
            .text()
            .contains("no traffic target allows this source"),
        "{}",
        other_port.text()
    );
    let stranger = from(ELSEWHERE, api.inbound).send(host(80)?).await?;
    assert_eq!(stranger.status, 403, "{}", stranger.text());
    Ok(())
}
