//! `meshcd check` against a real local mesh: a healthy one passes with its proxies in
//! sync and its CA's expiry; a wrong admin token or a stopped reconciler fails with exit
//! 1, and the refused caller learns nothing about the mesh.

use std::process::Output;

use meshcd_e2e::LocalMesh;
use meshcd_e2e::config_repo::POLICY_FILES;

const SIMPLE: &str = "osm-simple-app";

async fn check(mesh: &LocalMesh, extra: &[&str]) -> anyhow::Result<Output> {
    Ok(
        tokio::process::Command::new(meshcd_e2e::binaries::meshcd()?)
            .arg("check")
            .args(["--server", &format!("http://{}", mesh.reconciler.admin)])
            .args(extra)
            .env_remove("MESHCD_STATE_DIR")
            .env_remove("MESHCD_ADMIN_TOKEN_FILE")
            .output()
            .await?,
    )
}

#[tokio::test]
async fn a_healthy_mesh_passes_and_intruders_or_a_stopped_reconciler_fail() -> anyhow::Result<()> {
    let mut mesh = LocalMesh::start(&POLICY_FILES).await?;
    let _frontend = mesh.workload(SIMPLE, "frontend", &["frontend"]).await?;
    mesh.await_in_sync(1).await?;
    let state = mesh
        .reconciler
        .state_directory()
        .to_str()
        .unwrap()
        .to_string();

    let healthy = check(&mesh, &["--state-dir", &state]).await?;
    let text = String::from_utf8_lossy(&healthy.stdout);
    assert_eq!(
        healthy.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&healthy.stderr)
    );
    assert!(text.contains("ok    1 proxy in sync with "), "{text}");
    assert!(text.contains("ok    mesh CA valid until "), "{text}");
    assert!(text.contains(", 0 failed"), "{text}");

    // A forged admin token: refused, and nothing about the mesh is printed.
    let forged = tempfile::NamedTempFile::new()?;
    std::fs::write(
        forged.path(),
        "meshcd-admin-0000000000000000000000000000000000000000000\n",
    )?;
    let refused = check(
        &mesh,
        &["--admin-token-file", forged.path().to_str().unwrap()],
    )
    .await?;
    let text = String::from_utf8_lossy(&refused.stdout);
    assert_eq!(refused.status.code(), Some(1), "{text}");
    assert!(text.contains("FAIL  reconciler at "), "{text}");
    assert!(text.contains("HTTP 403: wrong admin token"), "{text}");
    assert!(!text.contains("proxy") && !text.contains(SIMPLE), "{text}");

    mesh.reconciler.kill();
    let stopped = check(&mesh, &["--state-dir", &state]).await?;
    let text = String::from_utf8_lossy(&stopped.stdout);
    assert_eq!(stopped.status.code(), Some(1), "{text}");
    assert!(text.contains("is meshcd running?"), "{text}");
    Ok(())
}
