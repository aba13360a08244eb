//! An operator brings an intermediate CA of their own PKI (certificate, key and the chain
//! to their root, as files on the reconciler's host) instead of meshcd's self-signed
//! root: workload certificates chain to the operator's root, and peers verify them.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use anyhow::Context as _;
use meshcd_e2e::config_repo::{CANARY_ROLLOUT, CANARY_SPLIT, SIMPLE_ACCESS};
use meshcd_e2e::{LocalMesh, tls};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType, IsCa, KeyPair,
    KeyUsagePurpose,
};

const CANARY: &str = "osm-canary-deployment-sample-app";

fn ca_params(name: &str, constraint: BasicConstraints) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut subject = DistinguishedName::new();
    subject.push(DnType::CommonName, name);
    subject.push(DnType::OrganizationName, "Example Corp");
    params.distinguished_name = subject;
    params.is_ca = IsCa::Ca(constraint);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
}

/// The operator's PKI: a root (whose key stays with the operator) and an intermediate
/// for the mesh, written as `intermediate.crt`, `intermediate.key` (0600) and `chain.pem`
/// (the root). Returns the root's PEM.
fn operator_pki(directory: &Path) -> anyhow::Result<String> {
    std::fs::create_dir_all(directory)?;
    let root = CertifiedIssuer::self_signed(
        ca_params("Example Corp Root CA", BasicConstraints::Unconstrained),
        KeyPair::generate()?,
    )
    .context("the operator's root")?;
    let key = KeyPair::generate()?;
    let intermediate = ca_params(
        "Example Corp mesh intermediate",
        BasicConstraints::Constrained(0),
    )
    .signed_by(&key, &root)
    .context("the intermediate")?;
    std::fs::write(directory.join("intermediate.crt"), intermediate.pem())?;
    let key_path = directory.join("intermediate.key");
    std::fs::write(&key_path, key.serialize_pem())?;
    std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o600))?;
    std::fs::write(directory.join("chain.pem"), root.pem())?;
    Ok(root.pem())
}

#[tokio::test]
async fn workload_certificates_of_an_operators_intermediate_chain_to_the_operators_root_and_peers_verify_them()
-> anyhow::Result<()> {
    let mesh = LocalMesh::start(&[SIMPLE_ACCESS, CANARY_SPLIT, CANARY_ROLLOUT]).await?;
    let pki = mesh.test_mesh().path().join("operator-pki");
    let operator_root = operator_pki(&pki)?;
    let file = |name: &str| pki.join(name).display().to_string();
    // No proxy has joined yet, so the mesh may take the intermediate at once.
    let revision = mesh
        .repo
        .commit_file(
            "osm-canary-deployment-sample-app/roots.yaml",
            &format!(
                "apiVersion: config.openservicemesh.io/v1alpha2
kind: MeshRootCertificate
metadata: {{name: example-corp, namespace: {CANARY}}}
spec:
  role: active
  provider:
    intermediate:
      certificateFile: {}
      keyFile: {}
      chainFile: {}
",
                file("intermediate.crt"),
                file("intermediate.key"),
                file("chain.pem")
            ),
        )
        .await?;
    mesh.reconciler.await_applied(&revision).await?;

    let api = mesh.workload(CANARY, "api", &["api"]).await?;
    let frontend = mesh.workload(CANARY, "frontend", &["frontend"]).await?;
    mesh.await_in_sync(2).await?;

    // Peers verify each other: frontend's proxy checks api's chain and api's checks
    // frontend's, both against the operator's root alone.
    let response = frontend
        .proxy
        .client()
        .get(&format!("http://api.{CANARY}/"))
        .await?;
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.app()?.name, "api");

    let meshcd_root = std::fs::read_to_string(mesh.reconciler.state_directory().join("ca.crt"))?;
    for proxy in [&api.proxy, &frontend.proxy] {
        let chain = tls::presented_chain(proxy.inbound).await?;
        assert_eq!(chain.len(), 2, "leaf and intermediate");
        assert!(tls::chains_to(&chain, &operator_root)?);
        assert!(!tls::chains_to(&chain, &meshcd_root)?);
    }
    // meshcd's own root opens nothing now: a certificate it signed is refused.
    let outsider = mesh.reconciler.mesh_certificate(CANARY, "frontend")?;
    assert!(matches!(
        tls::probe(api.proxy.inbound, Some(&outsider)).await?,
        tls::Outcome::Refused(_)
    ));
    Ok(())
}
