//! Who may join and who a peer is: a proxy proves its identity with its own bootstrap
//! token and trusts only the mesh CA, and on the wire an identity is the one in the
//! certificate, on either side of a call.

use meshcd_e2e::LocalMesh;
use meshcd_e2e::config_repo::{CANARY_ROLLOUT, CANARY_SPLIT, POLICY_FILES, SIMPLE_ACCESS};
use meshcd_e2e::control_plane::proxy_list;
use meshcd_e2e::pki::spiffe_id;
use meshcd_e2e::snapshot::SnapshotBuilder;
use meshcd_e2e::tls::{self, Outcome};

const SIMPLE: &str = "osm-simple-app";
const CANARY: &str = "osm-canary-deployment-sample-app";

/// Policy in force for these scenarios: in the canary namespace, frontend may call api
/// (every path); nothing else is allowed.
const ALL_BUT_CANARY_ACCESS: [&str; 3] = [SIMPLE_ACCESS, CANARY_SPLIT, CANARY_ROLLOUT];

/// The `namespace/service_account` of every proxy the status lists.
async fn listed_identities(mesh: &LocalMesh) -> anyhow::Result<Vec<String>> {
    let status = mesh.reconciler.status().await?;
    Ok(proxy_list(&status)
        .iter()
        .map(|proxy| {
            format!(
                "{}/{}",
                proxy["namespace"].as_str().unwrap_or_default(),
                proxy["serviceAccount"].as_str().unwrap_or_default()
            )
        })
        .collect())
}

#[tokio::test]
async fn proxy_with_a_token_for_another_identity_gets_no_certificate_and_no_snapshot()
-> anyhow::Result<()> {
    let mesh = LocalMesh::start(&POLICY_FILES).await?;
    let api = mesh.workload(SIMPLE, "api", &["api"]).await?;
    mesh.await_in_sync(1).await?;

    // api's own token, presented by a workload that says it is frontend.
    let refusal = mesh
        .join(SIMPLE, "frontend")
        .service("frontend")
        .token(&api.proxy.token)
        .refused()
        .await?;

    refusal.assert_says("refused");
    refusal.assert_says(&format!("the token is for {SIMPLE}/api"));
    assert_eq!(listed_identities(&mesh).await?, [format!("{SIMPLE}/api")]);
    Ok(())
}

#[tokio::test]
async fn revoked_token_is_refused() -> anyhow::Result<()> {
    let mesh = LocalMesh::start(&POLICY_FILES).await?;
    let frontend = mesh.workload(SIMPLE, "frontend", &["frontend"]).await?;
    mesh.await_in_sync(1).await?;

    mesh.reconciler.revoke_token(&frontend.proxy.token).await?;
    // The same token that let the first replica in.
    let refusal = mesh
        .join(SIMPLE, "frontend")
        .service("frontend")
        .token(&frontend.proxy.token)
        .refused()
        .await?;

    refusal.assert_says("invalid or revoked bootstrap token");
    assert_eq!(
        listed_identities(&mesh).await?,
        [format!("{SIMPLE}/frontend")]
    );
    Ok(())
}

#[tokio::test]
async fn proxy_given_the_wrong_ca_bundle_refuses_the_control_plane() -> anyhow::Result<()> {
    let mesh = LocalMesh::start(&POLICY_FILES).await?;
    let foreign = mesh.test_mesh().foreign_pki()?;

    let refusal = mesh
        .join(SIMPLE, "frontend")
        .service("frontend")
        .ca_bundle(foreign.ca_bundle())
        .refused()
        .await?;

    // The proxy judges the control plane's certificate before it sends its token.
    refusal.assert_says("control plane");
    refusal.assert_says("UnknownIssuer");
    // Which file is wrong, and where the right one is.
    refusal.assert_says("does not hold the CA that signed the control plane's certificate");
    refusal.assert_says("ca-bundle.pem in its state directory");
    assert!(listed_identities(&mesh).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn mesh_certificate_for_an_unlisted_identity_gets_403_where_the_listed_one_gets_200()
-> anyhow::Result<()> {
    let mesh = LocalMesh::start(&ALL_BUT_CANARY_ACCESS).await?;
    let api = mesh.workload(CANARY, "api", &["api"]).await?;
    mesh.await_in_sync(1).await?;
    // Both signed by the mesh CA itself: genuine members, told apart only by the identity
    // their certificate carries.
    let frontend = mesh.reconciler.mesh_certificate(CANARY, "frontend")?;
    let intruder = mesh.reconciler.mesh_certificate(CANARY, "intruder")?;

    let as_frontend = tls::probe(api.proxy.inbound, Some(&frontend)).await?;
    let as_intruder = tls::probe(api.proxy.inbound, Some(&intruder)).await?;

    let status_line = |outcome: &Outcome| match outcome {
        Outcome::Answered(bytes) => String::from_utf8_lossy(bytes)
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned(),
        Outcome::Refused(error) => format!("refused: {error}"),
    };
    assert_eq!(
        status_line(&as_frontend),
        "HTTP/1.1 200 OK",
        "{as_frontend:?}"
    );
    assert_eq!(
        status_line(&as_intruder),
        "HTTP/1.1 403 Forbidden",
        "{as_intruder:?}"
    );
    Ok(())
}

#[tokio::test]
async fn client_proxy_refuses_an_endpoint_that_presents_another_identity() -> anyhow::Result<()> {
    let mesh = LocalMesh::start(&ALL_BUT_CANARY_ACCESS).await?;
    // An impostor with a genuine mesh certificate, for intruder, that would admit anyone.
    let impostor_app = mesh.app("impostor").await?;
    let intruder = mesh.reconciler.mesh_certificate(CANARY, "intruder")?;
    let impostor_snapshot = SnapshotBuilder::new(&intruder)
        .serves_http("api", impostor_app.address)
        .permissive()
        .build();
    let impostor = mesh
        .test_mesh()
        .start_proxy("impostor", &intruder, impostor_snapshot)
        .await?;
    // api joins properly but tells the control plane to send its callers to the impostor.
    let api_app = mesh.app("api").await?;
    let _api = mesh
        .join(CANARY, "api")
        .service("api")
        .serves_http(api_app.address)
        .advertise(impostor.inbound)
        .start()
        .await?;
    let frontend = mesh.workload(CANARY, "frontend", &["frontend"]).await?;
    mesh.await_in_sync(2).await?;
    let config = frontend.proxy.config().await?;
    let (address, identity) = (impostor.inbound.to_string(), spiffe_id(CANARY, "api"));
    let services = config["snapshot"]["services"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        services.iter().any(|service| service["name"] == "api"
            && service["endpoints"].as_array().is_some_and(|endpoints| {
                endpoints
                    .iter()
                    .any(|e| e["address"] == *address && e["identity"] == *identity)
            })),
        "frontend was not told to dial the impostor as api: {config:#}"
    );

    let response = frontend
        .proxy
        .client()
        .get(&format!("http://api.{CANARY}/"))
        .await?;

    assert!(
        response.status.is_server_error(),
        "got {}: {}",
        response.status,
        response.text()
    );
    assert!(
        response.app().is_err(),
        "an app answered: {}",
        response.text()
    );
    assert!(
        response.text().contains(&spiffe_id(CANARY, "api")),
        "the error does not name the identity the endpoint should have had: {}",
        response.text()
    );
    Ok(())
}
