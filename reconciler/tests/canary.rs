//! Canary rollouts end to end: a real reconciler on a real Git repository, real proxies
//! and apps; the canary is judged from the proxies' traffic reports and its outcome is a
//! commit by meshcd in the repository.
//!
//! Needs `meshcd-proxy` next to the `meshcd` binary (`cargo build --workspace --bins`).

mod canary_support;
mod local_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use canary_support::{canary_yaml, commit_by_meshcd, commit_canary};
use local_support::{NAMESPACE, config_repo, git, keep_calling, mesh_with};
use meshcd::cli::local_mesh::Joined;

async fn share_of(frontend: &Joined, app: &str, requests: usize) -> f64 {
    let mut hits = 0;
    for _ in 0..requests {
        let (_, body) = frontend
            .request("GET", &format!("http://api.{NAMESPACE}/"))
            .await
            .unwrap();
        if body.contains(&format!("\"app\":\"{app}\"")) {
            hits += 1;
        }
    }
    hits as f64 / requests as f64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_canary_is_rolled_back_and_the_rollback_is_committed_to_git() {
    let dir = tempfile::tempdir().unwrap();
    let repo = config_repo(dir.path());
    let (mesh, frontend) = mesh_with(&repo, &dir.path().join("state"), 500, &[]).await;
    let stop = Arc::new(AtomicBool::new(false));
    let load = keep_calling(frontend.clone(), stop.clone());

    commit_canary(&repo, &canary_yaml(&[50], "30s", 2), "canary for api-v2");

    let (_, message) = commit_by_meshcd(&repo, Duration::from_secs(60)).await;
    stop.store(true, Ordering::Relaxed);
    let _ = load.await;
    assert!(
        message.starts_with("meshcd: roll back canary shop/api"),
        "{message}"
    );
    assert!(
        message.contains("successRate"),
        "the commit names the failing metric: {message}"
    );
    let split = std::fs::read_to_string(repo.join("split.yaml")).unwrap();
    assert!(
        split.contains("weight: 100   # stable"),
        "stable back to 100, comment kept: {split}"
    );
    assert!(
        split.contains("- service: api-v2\n    weight: 0\n"),
        "{split}"
    );
    assert!(split.starts_with("# the api rollout\n"));
    let canary = std::fs::read_to_string(repo.join("canary.yaml")).unwrap();
    assert!(canary.contains("phase: RolledBack"), "{canary}");

    let revision = git(&repo, &["rev-parse", "HEAD"]);
    mesh.wait_in_sync(Some(&revision))
        .await
        .expect("the rollback commit is applied");
    assert_eq!(
        share_of(&frontend, "api-v1", 40).await,
        1.0,
        "after the rollback every request goes to api-v1"
    );
    mesh.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_canary_is_promoted_and_the_promotion_is_committed_to_git() {
    let dir = tempfile::tempdir().unwrap();
    let repo = config_repo(dir.path());
    let (mesh, frontend) = mesh_with(&repo, &dir.path().join("state"), 200, &[]).await;
    let stop = Arc::new(AtomicBool::new(false));
    let load = keep_calling(frontend.clone(), stop.clone());

    commit_canary(&repo, &canary_yaml(&[50], "30s", 2), "canary for api-v2");

    let (_, message) = commit_by_meshcd(&repo, Duration::from_secs(60)).await;
    stop.store(true, Ordering::Relaxed);
    let _ = load.await;
    assert!(
        message.starts_with("meshcd: promote canary shop/api"),
        "{message}"
    );
    let split = std::fs::read_to_string(repo.join("split.yaml")).unwrap();
    assert!(split.contains("weight: 0   # stable"), "{split}");
    assert!(
        split.contains("- service: api-v2\n    weight: 100\n"),
        "{split}"
    );
    let canary = std::fs::read_to_string(repo.join("canary.yaml")).unwrap();
    assert!(canary.contains("phase: Promoted"), "{canary}");

    let revision = git(&repo, &["rev-parse", "HEAD"]);
    mesh.wait_in_sync(Some(&revision))
        .await
        .expect("the promotion commit is applied");
    assert_eq!(
        share_of(&frontend, "api-v2", 40).await,
        1.0,
        "after the promotion every request goes to api-v2"
    );
    mesh.stop().await;
}
