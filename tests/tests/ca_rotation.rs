//! Replacing the mesh's root CA from Git without a failed request: the new root is
//! trusted first, then issues, then the old one is dropped; each step is held until the
//! proxies are ready for it. Afterwards every proxy serves a certificate of the new root
//! and a certificate of the old one opens no door.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use meshcd_e2e::config_repo::{CANARY_ROLLOUT, CANARY_SPLIT, SIMPLE_ACCESS};
use meshcd_e2e::eventually::DEADLINE;
use meshcd_e2e::load::Load;
use meshcd_e2e::tls::{self, Outcome};
use meshcd_e2e::{LocalMesh, eventually, http};
use serde_json::Value;

const CANARY: &str = "osm-canary-deployment-sample-app";
/// Three services, each a workload of the identity `api` that frontend may call.
const SERVICES: [&str; 3] = ["alpha", "beta", "gamma"];
const ROOTS_FILE: &str = "osm-canary-deployment-sample-app/roots.yaml";
/// The folder of the state directory where the reconciler keeps the new root.
const NEW_ROOT_FOLDER: &str = "roots/root-2027";

/// Both roots: the one the mesh started with (meshcd's own CA, `meshcd-ca`) and a new
/// one meshcd makes, each with its role.
fn roots(old: &str, new: &str) -> String {
    format!(
        "apiVersion: config.openservicemesh.io/v1alpha2
kind: MeshRootCertificate
metadata: {{name: root-2026, namespace: {CANARY}}}
spec:
  role: {old}
  provider:
    tresor:
      ca:
        secretRef: {{name: meshcd-ca, namespace: {CANARY}}}
---
apiVersion: config.openservicemesh.io/v1alpha2
kind: MeshRootCertificate
metadata: {{name: root-2027, namespace: {CANARY}}}
spec:
  role: {new}
  provider:
    tresor:
      ca:
        secretRef: {{name: root-2027, namespace: {CANARY}}}
"
    )
}

/// Requests the load must complete after each step, so that every phase saw traffic.
const REQUESTS_PER_PHASE: u64 = 300;

/// Commits a step, waits until it is applied, then until the load completed
/// [`REQUESTS_PER_PHASE`] more requests in the new phase.
async fn step(mesh: &LocalMesh, load: &Load, name: &str, text: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    let revision = mesh.repo.commit_file(ROOTS_FILE, text).await?;
    mesh.reconciler.await_applied(&revision).await?;
    eprintln!("{name}: applied after {:?}", started.elapsed());
    let target = load.report().completed + REQUESTS_PER_PHASE;
    eventually(DEADLINE, || async {
        let completed = load.report().completed;
        anyhow::ensure!(
            completed >= target,
            "{completed} requests, waiting for {target}"
        );
        Ok(())
    })
    .await
}

/// `status.trust`, once every proxy's certificate is from the issuing root and the
/// phase is `phase`.
async fn await_trust(mesh: &LocalMesh, phase: &str) -> anyhow::Result<Value> {
    eventually(DEADLINE, || async {
        let status = mesh.reconciler.status().await?;
        let trust = status["trust"].clone();
        anyhow::ensure!(trust["phase"] == phase, "trust: {trust:#}");
        Ok(trust)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_root_rotation_under_load_fails_no_request_and_leaves_the_old_root_trusted_by_no_one()
-> anyhow::Result<()> {
    let mesh = LocalMesh::start(&[SIMPLE_ACCESS, CANARY_SPLIT, CANARY_ROLLOUT]).await?;
    let mut workloads = Vec::new();
    for service in SERVICES {
        workloads.push(mesh.workload(CANARY, "api", &[service]).await?);
    }
    let frontend = mesh.workload(CANARY, "frontend", &["frontend"]).await?;
    mesh.await_in_sync(4).await?;
    // A genuine member of the mesh before the rotation: signed by the root it started with.
    let old_member = mesh.reconciler.mesh_certificate(CANARY, "frontend")?;
    let api_inbound = workloads[0].proxy.inbound;
    assert!(
        matches!(
            tls::probe(api_inbound, Some(&old_member)).await?,
            Outcome::Answered(_)
        ),
        "a certificate of the mesh's root is accepted before the rotation"
    );

    let next = Arc::new(AtomicUsize::new(0));
    let load = Load::start(
        frontend.proxy.client(),
        Arc::new(move || {
            let service = SERVICES[next.fetch_add(1, Ordering::Relaxed) % SERVICES.len()];
            http::get(&format!("http://{service}.{CANARY}/"))
        }),
        8,
    );
    let began = Instant::now();

    step(
        &mesh,
        &load,
        "add (new root trusted only)",
        &roots("active", "passive"),
    )
    .await?;
    await_trust(&mesh, "reissued").await?;
    // New handshakes with a certificate of either root are taken while both are trusted.
    let new_member = mesh
        .reconciler
        .certificate_signed_in(NEW_ROOT_FOLDER, CANARY, "frontend")?;
    for member in [&old_member, &new_member] {
        let outcome = tls::probe(api_inbound, Some(member)).await?;
        assert!(matches!(outcome, Outcome::Answered(_)), "{outcome:?}");
    }
    step(
        &mesh,
        &load,
        "switch (new root issues)",
        &roots("passive", "active"),
    )
    .await?;
    let reissued = await_trust(&mesh, "reissued").await?;
    eprintln!("every proxy on the new root: {reissued:#}");
    for member in [&old_member, &new_member] {
        let outcome = tls::probe(api_inbound, Some(member)).await?;
        assert!(matches!(outcome, Outcome::Answered(_)), "{outcome:?}");
    }
    step(
        &mesh,
        &load,
        "remove (old root gone)",
        &roots("inactive", "active"),
    )
    .await?;
    let after = await_trust(&mesh, "single-root").await?;

    let report = load.stop().await;
    let elapsed = began.elapsed();
    let rate = report.completed as f64 / elapsed.as_secs_f64();
    eprintln!(
        "{} requests in {elapsed:?} ({rate:.0}/s) across the rotation: {:?}",
        report.completed, report.statuses
    );
    assert_eq!(
        report.failures(),
        0,
        "requests failed: {:?} {:?}",
        report.statuses,
        report.error_messages
    );
    assert!(rate >= 200.0, "the load ran at {rate:.0} requests/s");
    for service in SERVICES {
        assert!(
            report.by_app.get(service).copied().unwrap_or(0) > 0,
            "{service} served nothing: {:?}",
            report.by_app
        );
    }

    // Every proxy says its certificate is from the new root …
    let new_root = &after["roots"][0];
    let prefix = new_root
        .as_str()
        .and_then(|root| root.rsplit_once('(')?.1.strip_suffix(')'))
        .unwrap_or_default()
        .to_owned();
    assert!(
        new_root.as_str().unwrap_or_default().contains("root-2027"),
        "{after:#}"
    );
    let status = mesh.reconciler.status().await?;
    for proxy in status["proxies"].as_array().into_iter().flatten() {
        let root = proxy["certificateRoot"].as_str().unwrap_or_default();
        assert!(root.starts_with(&prefix), "{proxy:#} not on {prefix}");
    }
    // … and what each presents in a handshake chains to the new root, not the old one.
    let new_root_pem = std::fs::read_to_string(
        mesh.reconciler
            .state_directory()
            .join(NEW_ROOT_FOLDER)
            .join("ca.crt"),
    )?;
    let old_root_pem = std::fs::read_to_string(mesh.reconciler.state_directory().join("ca.crt"))?;
    for proxy in workloads.iter().map(|w| &w.proxy).chain([&frontend.proxy]) {
        let chain = tls::presented_chain(proxy.inbound).await?;
        assert!(
            tls::chains_to(&chain, &new_root_pem)?,
            "{} presents a certificate of another root",
            proxy.inbound
        );
        assert!(!tls::chains_to(&chain, &old_root_pem)?);
    }

    // The attack: a certificate of the old root, for an identity api admits, gets nothing.
    let refused = tls::probe(api_inbound, Some(&old_member)).await?;
    assert!(
        matches!(refused, Outcome::Refused(_)),
        "a certificate of the dropped root still opens api: {refused:?}"
    );
    // While the same identity with a certificate of the new root is answered.
    assert!(matches!(
        tls::probe(api_inbound, Some(&new_member)).await?,
        Outcome::Answered(_)
    ));
    Ok(())
}

#[tokio::test]
async fn a_switch_to_a_root_no_proxy_trusts_yet_is_held_and_the_old_root_keeps_issuing()
-> anyhow::Result<()> {
    let mesh = LocalMesh::start(&[SIMPLE_ACCESS, CANARY_SPLIT, CANARY_ROLLOUT]).await?;
    let api = mesh.workload(CANARY, "api", &["api"]).await?;
    mesh.await_in_sync(1).await?;
    let before = mesh.repo.head().await?;

    // Skipping the first step: the new root would issue before anyone trusts it.
    let skipping = mesh
        .repo
        .commit_file(ROOTS_FILE, &roots("passive", "active"))
        .await?;

    let waiting = eventually(DEADLINE, || async {
        let status = mesh.reconciler.status().await?;
        let waiting = status["source"]["rotationWaiting"].clone();
        anyhow::ensure!(waiting["revision"]["id"] == skipping.as_str(), "{status:#}");
        Ok(status)
    })
    .await?;
    let message = waiting["source"]["rotationWaiting"]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(
        message.contains("root-2027 cannot issue yet") && message.contains("have not acknowledged"),
        "{message}"
    );
    assert_eq!(waiting["source"]["applied"]["id"], before.as_str());
    // The old root still issues: api presents a certificate of the root it started with.
    let old_root_pem = std::fs::read_to_string(mesh.reconciler.state_directory().join("ca.crt"))?;
    let chain = tls::presented_chain(api.proxy.inbound).await?;
    assert!(tls::chains_to(&chain, &old_root_pem)?);

    // The step in order is applied, replacing the held one.
    let adding = mesh
        .repo
        .commit_file(ROOTS_FILE, &roots("active", "passive"))
        .await?;
    mesh.reconciler.await_in_sync(&adding, 1).await?;
    let status = mesh.reconciler.status().await?;
    assert!(status["source"]["rotationWaiting"].is_null(), "{status:#}");
    Ok(())
}

#[tokio::test]
async fn meshcd_ca_rotate_writes_the_three_steps_and_waits_for_the_proxies_between_them()
-> anyhow::Result<()> {
    let mesh = LocalMesh::start(&[SIMPLE_ACCESS, CANARY_SPLIT, CANARY_ROLLOUT]).await?;
    let api = mesh.workload(CANARY, "api", &["api"]).await?;
    let frontend = mesh.workload(CANARY, "frontend", &["frontend"]).await?;
    mesh.await_in_sync(2).await?;

    let state = mesh.reconciler.state_directory();
    let output = tokio::process::Command::new(meshcd_e2e::binaries::meshcd()?)
        .args(["ca", "rotate", "--to", "root-2027", "--namespace", CANARY])
        .arg("--repo")
        .arg(mesh.repo.path())
        .arg("--state-dir")
        .arg(state)
        .args(["--server", &format!("http://{}", mesh.reconciler.admin)])
        .args(["--step-timeout", "60s"])
        .env_remove("MESHCD_ADMIN_TOKEN_FILE")
        .output()
        .await?;
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("rotated: root-2027 issues"), "{stdout}");
    assert_eq!(
        mesh.repo.subjects(3).await?,
        [
            "meshcd ca rotate: remove (meshcd-ca → root-2027)",
            "meshcd ca rotate: switch (meshcd-ca → root-2027)",
            "meshcd ca rotate: add (meshcd-ca → root-2027)",
        ]
    );

    let trust = await_trust(&mesh, "single-root").await?;
    assert!(
        trust["issuing"]
            .as_str()
            .unwrap_or_default()
            .ends_with("/root-2027"),
        "{trust:#}"
    );
    let new_root_pem = std::fs::read_to_string(state.join(NEW_ROOT_FOLDER).join("ca.crt"))?;
    for proxy in [&api.proxy, &frontend.proxy] {
        assert!(tls::chains_to(
            &tls::presented_chain(proxy.inbound).await?,
            &new_root_pem
        )?);
    }
    let response = frontend
        .proxy
        .client()
        .get(&format!("http://api.{CANARY}/"))
        .await?;
    assert_eq!(response.status, 200, "{}", response.text());
    Ok(())
}
