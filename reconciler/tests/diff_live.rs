//! `meshcd diff --status-url` against a running local mesh: a real reconciler, real
//! proxies and apps, and a client under steady load; a pull request that removes the
//! TrafficTarget the load uses is flagged with the observed rate, one that removes an
//! idle TrafficTarget is not.
//!
//! Needs `meshcd-proxy` next to the `meshcd` binary (`cargo build --workspace --bins`).

mod local_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use local_support::{NAMESPACE, eventually, git, keep_calling};
use meshcd::cli::local_mesh::{LocalMesh, Workload};

fn target(name: &str, source: &str, destination: &str) -> String {
    format!(
        r#"apiVersion: access.smi-spec.io/v1alpha3
kind: TrafficTarget
metadata: {{name: {name}, namespace: {NAMESPACE}}}
spec:
  destination: {{kind: ServiceAccount, name: {destination}}}
  rules: [{{kind: HTTPRouteGroup, name: everything}}]
  sources: [{{kind: ServiceAccount, name: {source}}}]
"#
    )
}

/// frontend may call api, admin may call billing; one file per TrafficTarget.
fn config_repo(dir: &Path) -> PathBuf {
    let repo = dir.join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::write(
        repo.join("mesh.yaml"),
        format!(
            r#"apiVersion: v1
kind: Namespace
metadata: {{name: {NAMESPACE}}}
---
apiVersion: specs.smi-spec.io/v1alpha4
kind: HTTPRouteGroup
metadata: {{name: everything, namespace: {NAMESPACE}}}
spec:
  matches: [{{name: all, pathRegex: /.*}}]
"#
        ),
    )
    .unwrap();
    std::fs::write(
        repo.join("frontend-to-api.yaml"),
        target("frontend-to-api", "frontend", "api"),
    )
    .unwrap();
    std::fs::write(
        repo.join("admin-to-billing.yaml"),
        target("admin-to-billing", "admin", "billing"),
    )
    .unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "."]);
    git(
        &repo,
        &["commit", "-q", "-m", "frontend → api, admin → billing"],
    );
    repo
}

/// A pull request in a clone of the config repository: a branch that deletes `file`. The
/// running reconciler follows `main` of the original and never sees it.
fn pull_request(dir: &Path, repo: &Path, branch: &str, file: &str) -> PathBuf {
    let clone = dir.join(branch);
    git(
        dir,
        &[
            "clone",
            "-q",
            repo.to_str().unwrap(),
            clone.to_str().unwrap(),
        ],
    );
    git(&clone, &["checkout", "-q", "-b", branch]);
    git(&clone, &["rm", "-q", file]);
    git(&clone, &["commit", "-q", "-m", &format!("remove {file}")]);
    clone
}

fn diff(clone: &Path, branch: &str, mesh: &LocalMesh, format: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_meshcd"))
        .args(["diff", "main", branch, "--repo"])
        .arg(clone)
        .args(["--status-url", &format!("http://{}", mesh.admin)])
        .arg("--admin-token-file")
        .arg(mesh.admin_token_file())
        .args(["--format", format])
        .output()
        .expect("meshcd runs")
}

fn json_of(output: &Output) -> serde_json::Value {
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("diff --format json is JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_a_target_in_use_is_flagged_as_cutting_live_traffic_and_an_idle_one_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let repo = config_repo(dir.path());
    let meshcd = PathBuf::from(env!("CARGO_BIN_EXE_meshcd"));
    let mut mesh = LocalMesh::start_with(&meshcd, &repo, &dir.path().join("state"), "1s")
        .await
        .expect("reconciler starts");
    let frontend = Arc::new(
        mesh.add(Workload::new(NAMESPACE, "frontend", &["frontend"]))
            .await
            .expect("frontend joins"),
    );
    mesh.add(Workload::new(NAMESPACE, "api", &["api"]))
        .await
        .expect("api joins");
    mesh.add(Workload::new(NAMESPACE, "admin", &["admin"]))
        .await
        .expect("admin joins");
    mesh.add(Workload::new(NAMESPACE, "billing", &["billing"]))
        .await
        .expect("billing joins");
    mesh.wait_in_sync(None).await.expect("proxies in sync");
    let (status, _) = frontend
        .request("GET", &format!("http://api.{NAMESPACE}/"))
        .await
        .expect("frontend reaches api");
    assert_eq!(status, 200, "frontend-to-api admits the load");
    let stop = Arc::new(AtomicBool::new(false));
    let load = keep_calling(frontend.clone(), stop.clone());

    let in_use = pull_request(dir.path(), &repo, "remove-api", "frontend-to-api.yaml");
    let idle = pull_request(dir.path(), &repo, "remove-billing", "admin-to-billing.yaml");

    // The proxies report each second; the cut shows once a report of the load arrived.
    let cut = eventually(Duration::from_secs(30), || {
        let report = json_of(&diff(&in_use, "remove-api", &mesh, "json"));
        let cut = report["changes"]["live"]["cutTraffic"][0].clone();
        let flagged = cut["requestsPerSecond"].as_f64().unwrap_or(0.0) > 0.0;
        std::future::ready(if flagged {
            Ok(cut)
        } else {
            Err(format!("the cut traffic is not flagged yet: {report}"))
        })
    })
    .await;
    assert_eq!(cut["source"]["name"], "frontend");
    assert_eq!(cut["destination"]["name"], "api");
    assert_eq!(cut["services"], serde_json::json!(["shop/api"]));
    assert_eq!(cut["partly"], false);
    assert_eq!(
        cut["trafficTargets"],
        serde_json::json!(["shop/frontend-to-api"])
    );
    assert!(cut["requests"].as_u64().unwrap_or(0) > 0, "{cut}");

    let text = diff(&in_use, "remove-api", &mesh, "text");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("! shop/frontend → shop/api: HEAD cuts live traffic: "),
        "{text}"
    );
    assert!(text.contains("1 path of live traffic cut"), "{text}");
    let github = diff(&in_use, "remove-api", &mesh, "github");
    let github = String::from_utf8_lossy(&github.stdout);
    assert!(
        github.contains("::warning title=meshcd diff: live traffic::shop/frontend → shop/api"),
        "{github}"
    );

    let report = json_of(&diff(&idle, "remove-billing", &mesh, "json"));
    stop.store(true, Ordering::Relaxed);
    let _ = load.await;
    assert_eq!(
        report["changes"]["access"]["denied"][0]["source"]["name"], "admin",
        "the idle pull request does deny admin → billing: {report}"
    );
    assert_eq!(
        report["changes"]["live"]["cutTraffic"],
        serde_json::json!([]),
        "admin → billing carries no traffic: {report}"
    );
    assert_eq!(
        report["changes"]["live"]["unservedBackends"],
        serde_json::json!([])
    );
    mesh.stop().await;
}
