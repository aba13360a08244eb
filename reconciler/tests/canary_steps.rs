//! Canary rollouts step by step, end to end: real reconciler, proxies and demo apps under
//! steady load, 1 s intervals. What the frontend's responses show at each weight `/status`
//! reports, how many failed analyses a rollback takes, what an idle canary does, and the
//! operator's `meshcd canary abort|promote`.
//!
//! Needs `meshcd-proxy` next to the `meshcd` binary (`cargo build --workspace --bins`).

mod canary_support;
mod local_support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use canary_support::{
    Load, Watcher, canary_yaml, commit_by_meshcd, commit_canary, rollout, share, stretches,
};
use local_support::{NAMESPACE, config_repo, eventually, git, mesh_with};
use meshcd::cli::local_mesh::LocalMesh;

/// Callers sending at once: enough responses in each one-second step to tell weights
/// 25 points apart.
const CALLERS: usize = 6;

/// Time the proxies get to apply a weight `/status` already shows, and how late a 25 ms
/// poll can see the next change.
const SETTLE: Duration = Duration::from_millis(150);
const EARLY: Duration = Duration::from_millis(60);

/// Each test runs a mesh of several processes and measures observed weights; on two cores,
/// five at once starve each other and blur the steps, so they take turns.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_canary_serves_each_step_at_its_weight_without_a_failed_request() {
    let _one_at_a_time = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let repo = config_repo(dir.path());
    let (mesh, frontend) = mesh_with(&repo, &dir.path().join("state"), 200, &[]).await;
    let watcher = Watcher::start(local_support::AdminApi::of(&mesh));
    let load = Load::start(&frontend, CALLERS);

    // Git starts it at 20%; 45, 70 and 95 are the steps, then 100 on promotion.
    commit_canary(
        &repo,
        &canary_yaml(&[45, 70, 95], "30s", 2),
        "canary for api-v2",
    );
    let (promotion, message) = commit_by_meshcd(&repo, Duration::from_secs(30)).await;
    assert!(
        message.starts_with("meshcd: promote canary shop/api"),
        "{message}"
    );
    mesh.wait_in_sync(Some(&promotion))
        .await
        .expect("the promotion commit is applied");
    // Keep calling a while at 100%, from Git's weights now, and long enough after 100% was
    // first seen (and had settled) to judge that stretch, however soon after it the
    // promotion was applied.
    let applied = load.responses().len();
    eventually(Duration::from_secs(10), || async {
        let since_applied = load.responses().len() - applied;
        let promoted = watcher
            .sightings()
            .iter()
            .find(|s| s.rollout["canaryWeight"].as_u64() == Some(100))
            .map(|s| s.at + SETTLE);
        let Some(from) = promoted else {
            return Err("100% not seen yet".to_string());
        };
        let since_seen = load.responses().iter().filter(|r| r.sent >= from).count();
        if since_applied >= 300 && since_seen >= 300 {
            Ok(())
        } else {
            Err(format!(
                "{since_applied} responses since the promotion was applied, {since_seen} since 100% was seen"
            ))
        }
    })
    .await;
    let sightings = watcher.stop().await;
    let responses = load.stop().await;

    let failed: Vec<_> = responses.iter().filter(|r| r.status != Some(200)).collect();
    assert!(
        failed.is_empty(),
        "{} of {} requests failed while the weights moved: {:?}",
        failed.len(),
        responses.len(),
        &failed[..failed.len().min(5)]
    );

    let stretches = stretches(&sightings);
    let weights: Vec<u64> = stretches.iter().map(|s| s.weight).collect();
    assert_eq!(
        weights,
        [20, 45, 70, 95, 100],
        "every step in order, then the promotion: {stretches:?}"
    );
    // Half the smallest gap between scheduled weights (25 points) less a margin: a
    // neighbouring weight cannot land within it.
    const TOLERANCE: f64 = 0.11;
    let mut observed = Vec::new();
    for (index, stretch) in stretches.iter().enumerate() {
        // The last stretch (100%) lasts: Git says 100% once the promotion is applied.
        let until = match stretches.get(index + 1) {
            Some(next) => next.from - EARLY,
            None => responses.iter().map(|r| r.received).max().unwrap(),
        };
        let (canary_share, count) = share(&responses, "api-v2", stretch.from + SETTLE, until);
        observed.push(format!(
            "{}%: {:.1}% of {count}",
            stretch.weight,
            canary_share * 100.0
        ));
        assert!(
            count >= 100,
            "too few responses at {}% to judge: {count} ({observed:?})",
            stretch.weight
        );
        let expected = stretch.weight as f64 / 100.0;
        if stretch.weight == 100 {
            assert_eq!(canary_share, 1.0, "{observed:?}");
        } else {
            assert!(
                (canary_share - expected).abs() <= TOLERANCE,
                "at {}% the canary answered {:.1}% ({observed:?})",
                stretch.weight,
                canary_share * 100.0
            );
        }
    }
    eprintln!(
        "observed canary shares: {observed:?}; {} requests, none failed",
        responses.len()
    );

    let canary = std::fs::read_to_string(repo.join("canary.yaml")).unwrap();
    assert!(canary.contains("phase: Promoted"), "{canary}");
    assert!(canary.starts_with("# the api-v2 rollout\n"), "{canary}");
    mesh.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_canary_is_rolled_back_after_exactly_failure_threshold_failed_analyses() {
    let _one_at_a_time = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let repo = config_repo(dir.path());
    let (mesh, frontend) = mesh_with(&repo, &dir.path().join("state"), 500, &[]).await;
    let watcher = Watcher::start(local_support::AdminApi::of(&mesh));
    let load = Load::start(&frontend, 2);

    commit_canary(&repo, &canary_yaml(&[50], "30s", 3), "canary for api-v2");
    let (rollback, message) = commit_by_meshcd(&repo, Duration::from_secs(30)).await;
    mesh.wait_in_sync(Some(&rollback))
        .await
        .expect("the rollback commit is applied");
    let sightings = watcher.stop().await;
    let responses = load.stop().await;

    assert!(
        message.starts_with("meshcd: roll back canary shop/api"),
        "{message}"
    );
    assert!(message.contains("3 failed analyses"), "{message}");
    // What /status said, in order: one more failed analysis each interval, never a step.
    let mut counts: Vec<u64> = sightings
        .iter()
        .map(|s| s.rollout["failures"].as_u64().unwrap())
        .collect();
    counts.dedup();
    assert_eq!(
        counts,
        [0, 1, 2, 3],
        "failed analyses as /status showed them"
    );
    assert!(
        sightings
            .iter()
            .all(|s| s.rollout["step"].is_null() && s.rollout["failureThreshold"] == 3),
        "no step was taken"
    );
    let last = &sightings.last().unwrap().rollout;
    // The rollout leaves /status once its rollback commit is applied, which can happen
    // between two polls: the last sighting is the decided rollback, written or not yet.
    assert!(
        last["phase"] == "RolledBack" || last["phase"] == "RollingBack",
        "{last:#}"
    );
    assert_eq!(last["canaryWeight"], 0);
    let progressing_messages: Vec<&str> = sightings
        .iter()
        .filter_map(|s| s.rollout["message"].as_str())
        .filter(|m| m.starts_with("analysis failed"))
        .collect();
    assert!(
        progressing_messages
            .iter()
            .any(|m| m.ends_with("threshold >= 99%): 2 of 3")),
        "{progressing_messages:?}"
    );

    // The rollback commit's status says the same.
    let canary = std::fs::read_to_string(repo.join("canary.yaml")).unwrap();
    assert!(canary.contains("phase: RolledBack"), "{canary}");
    assert!(canary.contains("3 failed analyses"), "{canary}");
    let split = std::fs::read_to_string(repo.join("split.yaml")).unwrap();
    assert!(
        split.contains("- service: api-v2\n    weight: 0\n"),
        "{split}"
    );
    // Only the canary app's own errors: api-v1 never failed.
    let stable_failures = responses
        .iter()
        .filter(|r| r.app.as_deref() != Some("api-v2") && r.status != Some(200))
        .count();
    assert_eq!(stable_failures, 0, "requests failed outside the canary app");
    mesh.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_canary_waits_and_is_rolled_back_at_its_progress_deadline() {
    let _one_at_a_time = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let repo = config_repo(dir.path());
    let (mesh, _frontend) = mesh_with(&repo, &dir.path().join("state"), 200, &[]).await;
    let watcher = Watcher::start(local_support::AdminApi::of(&mesh));

    let committed = Instant::now();
    commit_canary(&repo, &canary_yaml(&[50], "4s", 2), "canary for api-v2");
    let (rollback, message) = commit_by_meshcd(&repo, Duration::from_secs(30)).await;
    let waited = committed.elapsed();
    mesh.wait_in_sync(Some(&rollback))
        .await
        .expect("the rollback commit is applied");
    let sightings = watcher.stop().await;

    assert!(
        message.starts_with("meshcd: roll back canary shop/api"),
        "{message}"
    );
    assert!(
        message.contains("(progressDeadline)") && message.contains("0 requests"),
        "{message}"
    );
    assert!(
        waited >= Duration::from_secs(4),
        "rolled back after {waited:?}, before its 4s progressDeadline"
    );
    assert!(
        sightings
            .iter()
            .any(|s| s.rollout["message"]
                == "waiting for traffic: 0 of 5 requests in the last interval"),
        "/status said it waited for traffic"
    );
    assert!(
        sightings
            .iter()
            .all(|s| s.rollout["failures"] == 0 && s.rollout["step"].is_null()),
        "waiting is neither a failed analysis nor a step"
    );
    let canary = std::fs::read_to_string(repo.join("canary.yaml")).unwrap();
    assert!(canary.contains("phase: RolledBack"), "{canary}");
    assert!(canary.contains("progressDeadline"), "{canary}");
    mesh.stop().await;
}

/// `meshcd canary ACTION api -n shop` against the reconciler's admin listener.
fn meshcd_canary(mesh: &LocalMesh, action: &str) -> String {
    let output = std::process::Command::new(PathBuf::from(env!("CARGO_BIN_EXE_meshcd")))
        .args(["canary", action, "api", "-n", NAMESPACE, "--server"])
        .arg(format!("http://{}", mesh.admin))
        .arg("--admin-token-file")
        .arg(mesh.admin_token_file())
        .output()
        .expect("meshcd runs");
    assert!(
        output.status.success(),
        "meshcd canary {action}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_aborts_one_rollout_and_promotes_the_next_and_both_commits_land() {
    let _one_at_a_time = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let repo = config_repo(dir.path());
    let (mesh, _frontend) = mesh_with(&repo, &dir.path().join("state"), 200, &[]).await;
    let admin = local_support::AdminApi::of(&mesh);

    // No traffic and a long deadline: the rollout waits for the operator.
    commit_canary(&repo, &canary_yaml(&[50], "5m", 2), "canary for api-v2");
    eventually(Duration::from_secs(15), || async {
        match rollout(&admin).await {
            Some(r) if r["phase"] == "Progressing" => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    let said = meshcd_canary(&mesh, "abort");
    assert!(said.contains("Abort requested for shop/api"), "{said}");
    let (aborted, message) = commit_by_meshcd(&repo, Duration::from_secs(15)).await;
    assert!(
        message.starts_with("meshcd: roll back canary shop/api")
            && message.contains("aborted by an operator"),
        "{message}"
    );
    mesh.wait_in_sync(Some(&aborted))
        .await
        .expect("the rollback commit is applied");
    let canary = std::fs::read_to_string(repo.join("canary.yaml")).unwrap();
    assert!(canary.contains("phase: RolledBack"), "{canary}");

    // A changed Canary is a new rollout; this one the operator promotes.
    commit_canary(
        &repo,
        &canary_yaml(&[30, 60], "5m", 2),
        "canary for api-v2, again",
    );
    eventually(Duration::from_secs(15), || async {
        match rollout(&admin).await {
            Some(r) if r["phase"] == "Progressing" => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    let said = meshcd_canary(&mesh, "promote");
    assert!(said.contains("Promote requested for shop/api"), "{said}");
    let promoted = eventually(Duration::from_secs(15), || async {
        let message = git(&repo, &["log", "-1", "--format=%an %B"]);
        if message.starts_with("meshcd meshcd: promote canary shop/api") {
            Ok(git(&repo, &["rev-parse", "HEAD"]))
        } else {
            Err(message)
        }
    })
    .await;
    assert!(
        git(&repo, &["log", "-1", "--format=%B"]).contains("promoted by an operator"),
        "the commit says who decided"
    );
    mesh.wait_in_sync(Some(&promoted))
        .await
        .expect("the promotion commit is applied");
    let split = std::fs::read_to_string(repo.join("split.yaml")).unwrap();
    assert!(
        split.contains("- service: api-v2\n    weight: 100\n"),
        "{split}"
    );
    // Both outcomes are in the history, the abort before the promotion.
    let outcomes = git(&repo, &["log", "--author=meshcd", "--format=%s"]);
    assert_eq!(
        outcomes,
        "meshcd: promote canary shop/api\nmeshcd: roll back canary shop/api"
    );
    mesh.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_canary_that_git_starts_at_zero_percent_takes_its_first_step_and_is_promoted() {
    let _one_at_a_time = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let repo = config_repo(dir.path());
    let (mesh, frontend) = mesh_with(&repo, &dir.path().join("state"), 200, &[]).await;
    let watcher = Watcher::start(local_support::AdminApi::of(&mesh));
    let load = Load::start(&frontend, 2);

    // The usual way in: the new version deployed at 0%, then its Canary.
    let split = std::fs::read_to_string(repo.join("split.yaml")).unwrap();
    std::fs::write(
        repo.join("split.yaml"),
        split
            .replace("weight: 80", "weight: 100")
            .replace("weight: 20", "weight: 0"),
    )
    .unwrap();
    git(&repo, &["commit", "-q", "-am", "api-v2 deployed at 0%"]);
    let deployed = git(&repo, &["rev-parse", "HEAD"]);
    mesh.wait_in_sync(Some(&deployed))
        .await
        .expect("the 0% split is applied");
    commit_canary(&repo, &canary_yaml(&[50], "30s", 2), "canary for api-v2");
    let (promotion, message) = commit_by_meshcd(&repo, Duration::from_secs(30)).await;
    mesh.wait_in_sync(Some(&promotion))
        .await
        .expect("the promotion commit is applied");
    let sightings = watcher.stop().await;
    let responses = load.stop().await;

    assert!(
        message.starts_with("meshcd: promote canary shop/api"),
        "{message}"
    );
    let weights: Vec<u64> = stretches(&sightings).iter().map(|s| s.weight).collect();
    // The watcher may first see the rollout after it left 0%; it must never see another weight.
    let expected: &[u64] = if weights.first() == Some(&0) {
        &[0, 50, 100]
    } else {
        &[50, 100]
    };
    assert_eq!(weights, expected);
    assert!(
        sightings
            .iter()
            .any(|s| s.rollout["message"] == "step 1 of 1: canary at 50% (nothing to judge at 0%)"),
        "the first step says why it was taken without analysis: {:?}",
        sightings
            .iter()
            .filter_map(|s| s.rollout["message"].as_str())
            .collect::<std::collections::BTreeSet<_>>()
    );
    assert!(responses.iter().all(|r| r.status == Some(200)));
    mesh.stop().await;
}
