//! Canaries on an HTTPRoute (issue 18), end to end: the Canary names an HTTPRoute instead
//! of a TrafficSplit, meshcd shifts the weights of the route rule that holds both
//! backendRefs, judges api-v2 from the proxies' reports, and commits the outcome in place
//! in the route's file — pushed to a real Git server for the promotion, on a local
//! repository's branch for the rollback. A rule that does not hold both backends keeps
//! its own weights throughout.
//!
//! Needs `meshcd-proxy` next to the `meshcd` binary (`cargo build --workspace --bins`).

// Only part of the Git source tests' world is used here.
#[allow(unused_imports)]
mod git_support;
mod local_support;
mod outcome_support;

use std::time::Duration;

use git_support::Upstream;
use git_support::servers::GitDaemon;
use local_support::{NAMESPACE, git, mesh_with};
use meshcd::cli::local_mesh::Joined;
use outcome_support::{Load, eventually, mesh_files, start_mesh};

const OUTCOME_DEADLINE: Duration = Duration::from_secs(60);

/// `route.yaml`: `/v1` pinned to api-v1; everything else 80/20 between api-v1 and api-v2.
fn route_file() -> (String, String) {
    (
        "route.yaml".into(),
        format!(
            r#"# api's routing, Gateway API style
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: api, namespace: {NAMESPACE}}}
spec:
  parentRefs:
  - {{group: '', kind: Service, name: api, port: 80}}
  rules:
  - name: pinned
    matches:
    - path: {{type: PathPrefix, value: /v1}}
    backendRefs:
    - {{name: api-v1, port: 80, weight: 3}}
  - name: rollout
    backendRefs:
    - name: api-v1
      port: 80
      weight: 80   # stable
    - {{name: api-v2, port: 80, weight: 20}}
"#
        ),
    )
}

/// `canary.yaml`: api-v2 through 50 % to promotion, on the route's rules that hold both.
fn canary_file() -> (String, String) {
    (
        "canary.yaml".into(),
        format!(
            r#"apiVersion: meshcd.dev/v1alpha1
kind: Canary
metadata: {{name: api, namespace: {NAMESPACE}}}
spec:
  httpRoute: {{name: api}}
  stable: api-v1
  canary: api-v2   # the new version
  steps: {{weights: [50]}}
  interval: 1s
  progressDeadline: 60s
  analysis:
    successRate: {{min: 99}}
    minRequests: 5
    failureThreshold: 2
"#
        ),
    )
}

/// The mesh's access (no TrafficSplit: `api` is routed) and the route.
fn routed_files() -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = mesh_files(false)
        .into_iter()
        .filter(|(name, _)| name != "split.yaml")
        .collect();
    files.push(route_file());
    files
}

/// Which app answered each of `requests` GETs of `path`, counted by app.
async fn answers(frontend: &Joined, path: &str, requests: usize) -> Vec<(String, usize)> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for _ in 0..requests {
        let (status, body) = frontend
            .request("GET", &format!("http://api.{NAMESPACE}{path}"))
            .await
            .unwrap();
        let app = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["app"].as_str().map(str::to_string))
            .unwrap_or_else(|| format!("status {status}"));
        match counts.iter_mut().find(|(known, _)| *known == app) {
            Some((_, count)) => *count += 1,
            None => counts.push((app, 1)),
        }
    }
    counts
}

fn only(app: &str, requests: usize) -> Vec<(String, usize)> {
    vec![(app.to_string(), requests)]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_canary_on_an_httproute_is_promoted_in_the_route_file_of_the_remote() {
    let dir = tempfile::tempdir().unwrap();
    let served = dir.path().join("served");
    let (upstream, _) = Upstream::create(&served, dir.path(), "config");
    upstream.commit(&routed_files(), "api routed 80/20");
    let daemon = GitDaemon::start(&served).await.expect("git daemon starts");
    let (mesh, frontend) = start_mesh(&daemon.url("config"), &dir.path().join("state"), &[]).await;
    mesh.wait_in_sync(Some(&upstream.head())).await.unwrap();
    let load = Load::start(frontend.clone());

    let canary_commit = upstream.commit(&[canary_file()], "canary for api-v2 on the route");
    let bare = |args: &[&str]| {
        let git_dir = format!("--git-dir={}", upstream.bare.display());
        let mut full = vec![git_dir.as_str()];
        full.extend_from_slice(args);
        git_support::run("git", &full, None)
    };
    let outcome = eventually(
        "an outcome commit by meshcd in the remote",
        OUTCOME_DEADLINE,
        || async {
            let author = bare(&["log", "-1", "--format=%an", "main"]);
            anyhow::ensure!(author == "meshcd", "main is by {author}");
            Ok(bare(&["rev-parse", "main"]))
        },
    )
    .await;
    load.stop().await;
    assert_eq!(bare(&["rev-parse", "main^"]), canary_commit);
    let message = bare(&["log", "-1", "--format=%B", "main"]);
    assert!(
        message.starts_with("meshcd: promote canary shop/api"),
        "{message}"
    );
    let route = bare(&["show", "main:route.yaml"]);
    assert!(
        route.starts_with("# api's routing, Gateway API style\n"),
        "{route}"
    );
    assert!(route.contains("      weight: 0   # stable\n"), "{route}");
    // (The last line: `git show` output comes trimmed.)
    assert!(
        route.ends_with("- {name: api-v2, port: 80, weight: 100}"),
        "{route}"
    );
    assert!(
        route.contains("- {name: api-v1, port: 80, weight: 3}\n"),
        "the pinned rule is not the canary's: {route}"
    );
    let canary = bare(&["show", "main:canary.yaml"]);
    assert!(canary.contains("\n  phase: Promoted"), "{canary}");
    assert!(canary.contains("  canary: api-v2   # the new version\n"));

    mesh.wait_in_sync(Some(&outcome)).await.unwrap();
    assert_eq!(answers(&frontend, "/", 40).await, only("api-v2", 40));
    assert_eq!(
        answers(&frontend, "/v1/orders", 20).await,
        only("api-v1", 20)
    );
    mesh.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_canary_on_an_httproute_is_rolled_back_in_the_route_file() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    let namespace = format!("apiVersion: v1\nkind: Namespace\nmetadata: {{name: {NAMESPACE}}}\n");
    for (name, text) in routed_files()
        .into_iter()
        .chain([("namespace.yaml".to_string(), namespace)])
    {
        std::fs::write(repo.join(name), text).unwrap();
    }
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "api routed 80/20"]);
    // api-v2 answers 500: the canary fails its analyses.
    let (mesh, frontend) = mesh_with(&repo, &dir.path().join("state"), 500, &[]).await;
    let load = Load::start(frontend.clone());

    let (name, text) = canary_file();
    std::fs::write(repo.join(&name), text).unwrap();
    git(&repo, &["add", &name]);
    git(
        &repo,
        &["commit", "-q", "-m", "canary for api-v2 on the route"],
    );

    let message = eventually("a commit by meshcd", OUTCOME_DEADLINE, || async {
        let author = git(&repo, &["log", "-1", "--format=%an"]);
        anyhow::ensure!(author == "meshcd", "HEAD is by {author}");
        Ok(git(&repo, &["log", "-1", "--format=%B"]))
    })
    .await;
    load.stop().await;
    assert!(
        message.starts_with("meshcd: roll back canary shop/api"),
        "{message}"
    );
    assert!(message.contains("successRate"), "{message}");
    let route = std::fs::read_to_string(repo.join("route.yaml")).unwrap();
    assert!(route.contains("      weight: 100   # stable\n"), "{route}");
    assert!(
        route.contains("- {name: api-v2, port: 80, weight: 0}\n"),
        "{route}"
    );
    let canary = std::fs::read_to_string(repo.join("canary.yaml")).unwrap();
    assert!(canary.contains("phase: RolledBack"), "{canary}");

    let revision = git(&repo, &["rev-parse", "HEAD"]);
    mesh.wait_in_sync(Some(&revision))
        .await
        .expect("the rollback commit is applied");
    assert_eq!(answers(&frontend, "/", 40).await, only("api-v1", 40));
    mesh.stop().await;
}
