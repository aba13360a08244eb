//! At rest, the mesh costs nothing: a reconciler following a local repository with
//! proxies joined, after traffic has stopped, uses next to no CPU — and still applies a
//! commit within a second of it landing, because it waits on the repository's events
//! rather than polling.

use std::time::{Duration, Instant};

use meshcd_e2e::config_repo::{CANARY_ROLLOUT, SIMPLE_ACCESS};
use meshcd_e2e::{LocalMesh, eventually};

const SIMPLE: &str = "osm-simple-app";
const VALUES: &str = "http://api.osm-simple-app/api/values";
/// How long nothing happens.
const IDLE: Duration = Duration::from_secs(10);
/// 2 % of one core over [`IDLE`]: generous, since a busy loop costs tens of percent.
const IDLE_CPU_BUDGET: Duration = Duration::from_millis(200);

#[tokio::test]
async fn an_idle_mesh_uses_almost_no_cpu_and_a_commit_still_lands_within_a_second()
-> anyhow::Result<()> {
    // An hour between polls: only the repository watch can notice the commit in time.
    // No Canary: a running rollout is work, not rest.
    let mesh = LocalMesh::start_polling_every(&[CANARY_ROLLOUT, SIMPLE_ACCESS], "1h").await?;
    let api = mesh.workload(SIMPLE, "api", &["api"]).await?;
    let frontend = mesh.workload(SIMPLE, "frontend", &["frontend"]).await?;
    mesh.await_in_sync(2).await?;
    // Some traffic first, so the proxies' traffic reports have run and gone quiet.
    for _ in 0..10 {
        let denied = frontend.proxy.client().get(VALUES).await?;
        assert_eq!(denied.status, 403, "{}", denied.text());
    }

    let cpu = || -> anyhow::Result<[Duration; 3]> {
        Ok([
            mesh.reconciler.cpu_time()?,
            api.proxy.cpu_time()?,
            frontend.proxy.cpu_time()?,
        ])
    };
    // The last traffic report goes out within a second and is judged; rest begins when
    // a whole second passes with (next to) no CPU used.
    eventually(Duration::from_secs(10), || async {
        let before = cpu()?;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let after = cpu()?;
        let busy = before
            .iter()
            .zip(after)
            .any(|(before, after)| after - *before > Duration::from_millis(10));
        anyhow::ensure!(!busy, "still busy: {before:?} → {after:?}");
        Ok(())
    })
    .await?;

    let before = cpu()?;
    let started = Instant::now();
    tokio::time::sleep(IDLE).await;
    let after = cpu()?;
    let elapsed = started.elapsed();
    for (name, (before, after)) in ["meshcd", "api's proxy", "frontend's proxy"]
        .iter()
        .zip(before.iter().zip(after))
    {
        let used = after - *before;
        eprintln!("{name}: {used:?} of CPU in {elapsed:?} at rest");
        assert!(
            used <= IDLE_CPU_BUDGET,
            "{name} used {used:?} of CPU in {elapsed:?} while nothing happened"
        );
    }

    let committed = Instant::now();
    let revision = mesh.repo.commit_from_examples(SIMPLE_ACCESS).await?;
    mesh.reconciler
        .await_applied_within(&revision, Duration::from_secs(1))
        .await?;
    eprintln!("commit → applied in {:?}", committed.elapsed());
    Ok(())
}
