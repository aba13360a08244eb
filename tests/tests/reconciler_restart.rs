//! Losing the control plane never stops traffic, and a restarted reconciler (same state
//! directory, same control-plane address) brings every proxy back in sync.

use std::sync::Arc;
use std::time::Instant;

use meshcd_e2e::config_repo::{CANARY_ACCESS, CANARY_ROLLOUT, CANARY_SPLIT, SIMPLE_ACCESS};
use meshcd_e2e::eventually::DEADLINE;
use meshcd_e2e::load::{Load, LoadReport};
use meshcd_e2e::{LocalMesh, eventually, http};

const SIMPLE: &str = "osm-simple-app";
const VALUES: &str = "http://api.osm-simple-app/api/values";

/// Requests the load must complete in each phase, so that every phase saw real traffic.
const REQUESTS_PER_PHASE: u64 = 200;

/// Waits until the load completed `more` requests after the `since` it had.
async fn until_more_requests(
    load: &Load,
    since: &LoadReport,
    more: u64,
) -> anyhow::Result<LoadReport> {
    let target = since.completed + more;
    eventually(DEADLINE, || async {
        let report = load.report();
        anyhow::ensure!(
            report.completed >= target,
            "{} requests completed, waiting for {target}",
            report.completed
        );
        Ok(report)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_reconciler_under_load_fails_no_request_and_its_restart_resyncs_every_proxy()
-> anyhow::Result<()> {
    // frontend may GET /api/values from the start.
    let mut mesh = LocalMesh::start(&[CANARY_ACCESS, CANARY_SPLIT, CANARY_ROLLOUT]).await?;
    let _api_1 = mesh.workload(SIMPLE, "api", &["api"]).await?;
    let _api_2 = mesh.workload(SIMPLE, "api", &["api"]).await?;
    let frontend = mesh.workload(SIMPLE, "frontend", &["frontend"]).await?;
    let revision = mesh.repo.head().await?;
    mesh.reconciler.await_in_sync(&revision, 3).await?;

    let load = Load::start(frontend.proxy.client(), Arc::new(|| http::get(VALUES)), 4);
    let warmed_up = until_more_requests(&load, &LoadReport::default(), REQUESTS_PER_PHASE).await?;

    mesh.reconciler.kill();
    let without_control_plane = until_more_requests(&load, &warmed_up, REQUESTS_PER_PHASE).await?;

    let restarted = Instant::now();
    mesh.reconciler.restart().await?;
    mesh.reconciler.await_in_sync(&revision, 3).await?;
    eprintln!("restart → every proxy in sync in {:?}", restarted.elapsed());
    until_more_requests(&load, &without_control_plane, REQUESTS_PER_PHASE).await?;

    let report = load.stop().await;
    eprintln!(
        "{} requests across the kill and the restart: {:?}",
        report.completed, report.statuses
    );
    assert_eq!(
        report.failures(),
        0,
        "requests failed: {:?} {:?}",
        report.statuses,
        report.error_messages
    );

    // The restarted reconciler still drives the proxies: a commit reaches them.
    let removing = mesh.repo.commit_removal(SIMPLE_ACCESS).await?;
    mesh.reconciler.await_in_sync(&removing, 3).await?;
    let denied = frontend.proxy.client().get(VALUES).await?;
    assert_eq!(denied.status, 403, "{}", denied.text());
    Ok(())
}
