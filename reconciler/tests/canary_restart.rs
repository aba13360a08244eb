//! Canary durability end to end: the reconciler is killed mid-rollout and started again
//! on the same state directory; the rollout resumes at the weight it reached (not Git's,
//! not 100%) and completes.
//!
//! Needs `meshcd-proxy` next to the `meshcd` binary (`cargo build --workspace --bins`).

mod local_support;
mod outcome_support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use meshcd::cli::local_mesh::LocalMesh;
use outcome_support::{
    Load, add_workloads, canary_file, eventually, mesh_files, meshcd_binary, rollout, status,
};

fn git(repo: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args([
            "-c",
            "user.name=operator",
            "-c",
            "user.email=op@example.com",
        ])
        .args(args)
        .current_dir(repo)
        .output()
        .expect("git runs");
    assert!(output.status.success(), "git {args:?}: {output:?}");
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

fn commit(repo: &Path, files: &[(String, String)], message: &str) {
    for (path, text) in files {
        std::fs::write(repo.join(path), text).unwrap();
    }
    git(repo, &["add", "."]);
    git(repo, &["commit", "-q", "-m", message]);
}

fn config_repo(dir: &Path) -> PathBuf {
    let repo = dir.join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    commit(&repo, &mesh_files(true), "api at 80/20");
    repo
}

async fn start(repo: &Path, state: &Path) -> (LocalMesh, Load) {
    let mut mesh = LocalMesh::start_with(&meshcd_binary(), repo, state, "1s")
        .await
        .expect("reconciler starts");
    let frontend = add_workloads(&mut mesh).await;
    (mesh, Load::start(frontend))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconciler_killed_mid_rollout_resumes_at_the_step_it_reached_and_completes() {
    let dir = tempfile::tempdir().unwrap();
    let repo = config_repo(dir.path());
    let state = dir.path().join("state");
    let (mesh, load) = start(&repo, &state).await;
    commit(
        &repo,
        &[canary_file(&[10, 20, 30, 40, 50], "2s")],
        "canary for api-v2",
    );

    // Step 3 of 5 reached, and saved.
    eventually("the canary at 30%", Duration::from_secs(30), || async {
        let status = status(&local_support::AdminApi::of(&mesh)).await?;
        let rollout = rollout(&status).ok_or_else(|| anyhow::anyhow!("no rollout yet"))?;
        anyhow::ensure!(rollout["canaryWeight"] == 30, "{rollout}");
        Ok(())
    })
    .await;
    let progress = state.join("canaries.json");
    eventually("the progress saved", Duration::from_secs(5), || async {
        let saved: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&progress)?)?;
        anyhow::ensure!(saved[0]["canaryWeight"] == 30, "{saved}");
        Ok(())
    })
    .await;
    // Killed, as a crash would (SIGKILL), with everything around it.
    load.stop().await;
    mesh.stop().await;

    let (mesh, load) = start(&repo, &state).await;
    let first = eventually(
        "the rollout after the restart",
        Duration::from_secs(20),
        || async {
            let status = status(&local_support::AdminApi::of(&mesh)).await?;
            rollout(&status).ok_or_else(|| anyhow::anyhow!("no rollout yet: {status}"))
        },
    )
    .await;
    assert_eq!(first["canaryWeight"], 30, "resumed at 30%: {first}");
    assert_eq!(first["step"], 2, "{first}");
    assert!(
        first["message"]
            .as_str()
            .is_some_and(|message| message.starts_with("resumed at 30% after a restart")),
        "{first}"
    );

    // It carries on from there, never below 30%, and is promoted.
    let seen = std::cell::RefCell::new(vec![30]);
    eventually("the promotion commit", Duration::from_secs(40), || async {
        if let Some(rollout) = rollout(&status(&local_support::AdminApi::of(&mesh)).await?)
            && let Some(weight) = rollout["canaryWeight"].as_u64()
            && seen.borrow().last() != Some(&weight)
        {
            seen.borrow_mut().push(weight);
        }
        let author = git(&repo, &["log", "-1", "--format=%an"]);
        anyhow::ensure!(author == "meshcd", "last commit by {author}");
        Ok(())
    })
    .await;
    load.stop().await;
    let seen = seen.into_inner();
    assert!(
        seen.iter().all(|weight| *weight >= 30),
        "weights after the restart: {seen:?}"
    );
    let message = git(&repo, &["log", "-1", "--format=%B"]);
    assert!(
        message.starts_with("meshcd: promote canary shop/api"),
        "{message}"
    );
    mesh.stop().await;
}
