//! Canary outcomes for a remote config repository, end to end: real Git servers (`git
//! daemon`, smart HTTP with a token, sshd with a key) serving a bare repository, a
//! reconciler following it, real proxies and apps. The promotion commit must land in the
//! remote (comments intact), on top of whatever a teammate pushed meanwhile, signed when
//! signature verification is on.
//!
//! Needs `meshcd-proxy` next to the `meshcd` binary (`cargo build --workspace --bins`).

// Only part of the Git source tests' world is used here.
#[allow(unused_imports)]
mod git_support;
mod local_support;
mod outcome_support;

use std::path::Path;
use std::time::{Duration, Instant};

use git_support::Upstream;
use git_support::http_server::HttpGitServer;
use git_support::servers::{GitDaemon, SshServer};
use outcome_support::{Load, canary_file, eventually, mesh_files, rollout, start_mesh, status};

const OUTCOME_DEADLINE: Duration = Duration::from_secs(60);

/// `git` on the bare repository the daemon serves.
fn bare(upstream: &Upstream, args: &[&str]) -> String {
    let git_dir = format!("--git-dir={}", upstream.bare.display());
    let mut full = vec![git_dir.as_str()];
    full.extend_from_slice(args);
    git_support::run("git", &full, None)
}

/// Waits until the remote's `main` is a commit by meshcd; returns its id.
async fn eventually_outcome_in_remote(upstream: &Upstream) -> String {
    eventually(
        "an outcome commit by meshcd in the remote",
        OUTCOME_DEADLINE,
        || async {
            let author = bare(upstream, &["log", "-1", "--format=%an", "main"]);
            anyhow::ensure!(author == "meshcd", "main is by {author}");
            Ok(bare(upstream, &["rev-parse", "main"]))
        },
    )
    .await
}

/// The promotion's edits, as a user reads them in the remote.
fn assert_promoted_in_place(upstream: &Upstream) {
    let message = bare(upstream, &["log", "-1", "--format=%B", "main"]);
    assert!(
        message.starts_with("meshcd: promote canary shop/api"),
        "{message}"
    );
    let split = bare(upstream, &["show", "main:split.yaml"]);
    assert!(split.starts_with("# the api rollout\n"), "{split}");
    assert!(split.contains("    weight: 0   # stable\n"), "{split}");
    assert!(
        split.contains("- service: api-v2\n    weight: 100"),
        "{split}"
    );
    let canary = bare(upstream, &["show", "main:canary.yaml"]);
    assert!(
        canary.starts_with("# api-v2 goes out gradually\n"),
        "{canary}"
    );
    assert!(canary.contains("  canary: api-v2   # the new version\n"));
    assert!(canary.contains("\n  phase: Promoted"), "{canary}");
    assert!(canary.contains("  observedSpec: "), "{canary}");
    // Kubernetes' shape of a status, not a Rust enum's (`Pass: {requests: …}`).
    assert!(canary.contains("\n    result: Pass\n"), "{canary}");
    assert!(!canary.contains("Pass:"), "{canary}");
}

/// A served bare repository `config.git` holding the mesh, and the daemon serving it.
async fn remote(dir: &Path) -> (Upstream, GitDaemon) {
    let served = dir.join("served");
    let (upstream, _) = Upstream::create(&served, dir, "config");
    upstream.commit(&mesh_files(false), "the api split at 80/20");
    let daemon = GitDaemon::start(&served).await.expect("git daemon starts");
    (upstream, daemon)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_promotion_is_pushed_to_the_remote_with_comments_intact_and_is_not_run_again() {
    let dir = tempfile::tempdir().unwrap();
    let (upstream, daemon) = remote(dir.path()).await;
    let (mesh, frontend) = start_mesh(&daemon.url("config"), &dir.path().join("state"), &[]).await;
    mesh.wait_in_sync(Some(&upstream.head())).await.unwrap();
    let load = Load::start(frontend);

    let canary_commit = upstream.commit(&[canary_file(&[50], "1s")], "canary for api-v2");
    let outcome = eventually_outcome_in_remote(&upstream).await;
    load.stop().await;
    assert_eq!(
        bare(&upstream, &["rev-parse", "main^"]),
        canary_commit,
        "the outcome sits on the commit that started the canary"
    );
    assert_eq!(
        bare(&upstream, &["log", "-1", "--format=%cn <%ce>", "main"]),
        "meshcd <meshcd@localhost>"
    );
    assert_promoted_in_place(&upstream);

    // The reconciler applies its own commit, recognises the outcome and stops there.
    mesh.wait_in_sync(Some(&outcome)).await.unwrap();
    eventually(
        "the rollout ends once its outcome is in Git",
        OUTCOME_DEADLINE,
        || async {
            let status = status(&local_support::AdminApi::of(&mesh)).await?;
            anyhow::ensure!(rollout(&status).is_none(), "{status}");
            Ok(())
        },
    )
    .await;
    // Several intervals later, nothing started again and nothing more was pushed.
    let watch = Instant::now();
    while watch.elapsed() < Duration::from_secs(3) {
        let status = status(&local_support::AdminApi::of(&mesh)).await.unwrap();
        assert!(
            rollout(&status).is_none(),
            "a rollout started again: {status}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(bare(&upstream, &["rev-parse", "main"]), outcome);
    mesh.stop().await;
}

/// A pre-receive hook that, at meshcd's first push, lands a teammate's commit (another
/// file) on `main` and refuses meshcd's push, as if the teammate had pushed first.
fn teammate_pushes_first(upstream: &Upstream, dir: &Path) {
    let hook = upstream.bare.join("hooks/pre-receive");
    std::fs::write(
        &hook,
        format!(
            r#"#!/bin/sh
read old new ref
[ "$(git log -1 --format=%an "$new")" = meshcd ] || exit 0
[ -e {marker} ] && exit 0
touch {marker}
# The teammate's commit is written outside the push's quarantine.
unset GIT_QUARANTINE_PATH GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES
export GIT_INDEX_FILE={index}
git read-tree refs/heads/main
blob=$(printf 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team\n' | git hash-object -w --stdin)
git update-index --add --cacheinfo 100644,$blob,namespaces/team.yaml
tree=$(git write-tree)
commit=$(GIT_AUTHOR_NAME=teammate GIT_AUTHOR_EMAIL=t@example.com GIT_COMMITTER_NAME=teammate GIT_COMMITTER_EMAIL=t@example.com git commit-tree $tree -p refs/heads/main -m 'onboard team')
git update-ref refs/heads/main $commit
echo "a teammate pushed first" >&2
exit 1
"#,
            marker = dir.join("raced").display(),
            index = dir.join("race-index").display(),
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_refused_because_a_teammate_pushed_first_is_redone_on_top_of_their_commit() {
    let dir = tempfile::tempdir().unwrap();
    let (upstream, daemon) = remote(dir.path()).await;
    let (mesh, frontend) = start_mesh(&daemon.url("config"), &dir.path().join("state"), &[]).await;
    let load = Load::start(frontend);
    upstream.commit(&[canary_file(&[50], "1s")], "canary for api-v2");
    teammate_pushes_first(&upstream, dir.path());

    let outcome = eventually_outcome_in_remote(&upstream).await;
    load.stop().await;
    assert!(
        dir.path().join("raced").exists(),
        "the first push was refused"
    );
    assert_eq!(
        bare(&upstream, &["log", "-2", "--format=%an", "main"]),
        "meshcd\nteammate",
        "the outcome lands on top of the teammate's commit"
    );
    assert_eq!(
        bare(&upstream, &["show", "main:namespaces/team.yaml"]),
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team"
    );
    assert_promoted_in_place(&upstream);
    mesh.wait_in_sync(Some(&outcome)).await.unwrap();
    mesh.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_signature_verification_the_outcome_is_signed_and_the_reconciler_accepts_it() {
    let dir = tempfile::tempdir().unwrap();
    let author_key = dir.path().join("author_ed25519");
    let author_public = git_support::ssh_keygen(&author_key, "author");
    let meshcd_key = dir.path().join("meshcd_ed25519");
    let meshcd_public = git_support::ssh_keygen(&meshcd_key, "meshcd");
    let allowed = dir.path().join("allowed_signers");
    std::fs::write(
        &allowed,
        format!("author@example.com {author_public}\nmeshcd@localhost {meshcd_public}\n"),
    )
    .unwrap();

    let served = dir.path().join("served");
    let (upstream, _) = Upstream::create(&served, dir.path(), "config");
    upstream.commit_signed(&mesh_files(false), "the api split", &author_key);
    let daemon = GitDaemon::start(&served).await.expect("git daemon starts");
    let (mesh, frontend) = start_mesh(
        &daemon.url("config"),
        &dir.path().join("state"),
        &[
            "--verify-signatures",
            allowed.to_str().unwrap(),
            "--signing-key",
            meshcd_key.to_str().unwrap(),
        ],
    )
    .await;
    mesh.wait_in_sync(Some(&upstream.head())).await.unwrap();
    let load = Load::start(frontend);
    upstream.commit_signed(
        &[canary_file(&[50], "1s")],
        "canary for api-v2",
        &author_key,
    );

    let outcome = eventually_outcome_in_remote(&upstream).await;
    load.stop().await;
    let signers = format!("gpg.ssh.allowedSignersFile={}", allowed.display());
    let verified = std::process::Command::new("git")
        .args(["-c", &signers, "--git-dir"])
        .arg(&upstream.bare)
        .args(["verify-commit", "-v", &outcome])
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&verified.stderr);
    assert!(verified.status.success(), "git verify-commit: {report}");
    assert!(
        report.contains("Good \"git\" signature for meshcd@localhost"),
        "{report}"
    );
    // The reconciler's own verification accepts its commit: it is applied.
    mesh.wait_in_sync(Some(&outcome)).await.unwrap();
    mesh.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_http_with_a_token_the_outcome_is_pushed_with_the_reconcilers_token() {
    const TOKEN: &str = "tok-canary-7c1d";
    let dir = tempfile::tempdir().unwrap();
    let served = dir.path().join("served");
    let (upstream, _) = Upstream::create(&served, dir.path(), "config");
    upstream.commit(&mesh_files(false), "the api split at 80/20");
    let server = HttpGitServer::start(&served, &[("git", TOKEN)])
        .await
        .expect("http server starts");
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, format!("{TOKEN}\n")).unwrap();
    let (mesh, frontend) = start_mesh(
        &server.url("config"),
        &dir.path().join("state"),
        &["--git-token-file", token_file.to_str().unwrap()],
    )
    .await;
    let load = Load::start(frontend);
    upstream.commit(&[canary_file(&[50], "1s")], "canary for api-v2");

    let outcome = eventually_outcome_in_remote(&upstream).await;
    load.stop().await;
    assert_promoted_in_place(&upstream);
    assert!(
        server.seen().iter().any(|seen| seen.method == "POST"
            && seen.path.ends_with("/git-receive-pack")
            && seen.status == 200),
        "pushed over smart HTTP: {:?}",
        server.seen()
    );
    mesh.wait_in_sync(Some(&outcome)).await.unwrap();
    let status = status(&local_support::AdminApi::of(&mesh))
        .await
        .unwrap()
        .to_string();
    assert!(!status.contains(TOKEN), "the token shows in the status");
    mesh.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_ssh_the_outcome_is_pushed_with_the_reconcilers_key() {
    let dir = tempfile::tempdir().unwrap();
    let Some(sshd) = SshServer::start(&dir.path().join("sshd"))
        .await
        .expect("sshd starts")
    else {
        return;
    };
    let served = dir.path().join("served");
    let (upstream, _) = Upstream::create(&served, dir.path(), "config");
    upstream.commit(&mesh_files(false), "the api split at 80/20");
    let known_hosts = dir.path().join("known_hosts");
    std::fs::write(&known_hosts, sshd.known_hosts_line(&sshd.host_key)).unwrap();
    let (mesh, frontend) = start_mesh(
        &sshd.url(&upstream.bare),
        &dir.path().join("state"),
        &[
            "--branch",
            "main",
            "--ssh-known-hosts",
            known_hosts.to_str().unwrap(),
            "--ssh-key",
            sshd.client_key.to_str().unwrap(),
        ],
    )
    .await;
    let load = Load::start(frontend);
    upstream.commit(&[canary_file(&[50], "1s")], "canary for api-v2");

    let outcome = eventually_outcome_in_remote(&upstream).await;
    load.stop().await;
    assert_promoted_in_place(&upstream);
    mesh.wait_in_sync(Some(&outcome)).await.unwrap();
    mesh.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_signature_verification_and_no_signing_key_the_canary_holds_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let author_key = dir.path().join("author_ed25519");
    let author_public = git_support::ssh_keygen(&author_key, "author");
    let allowed = dir.path().join("allowed_signers");
    std::fs::write(&allowed, format!("author@example.com {author_public}\n")).unwrap();
    let served = dir.path().join("served");
    let (upstream, _) = Upstream::create(&served, dir.path(), "config");
    upstream.commit_signed(&mesh_files(false), "the api split", &author_key);
    let daemon = GitDaemon::start(&served).await.expect("git daemon starts");
    let (mesh, frontend) = start_mesh(
        &daemon.url("config"),
        &dir.path().join("state"),
        &["--verify-signatures", allowed.to_str().unwrap()],
    )
    .await;
    let load = Load::start(frontend);
    let canary_commit = upstream.commit_signed(
        &[canary_file(&[50], "1s")],
        "canary for api-v2",
        &author_key,
    );

    let held = eventually(
        "the canary holding its outcome",
        OUTCOME_DEADLINE,
        || async {
            let status = status(&local_support::AdminApi::of(&mesh)).await?;
            let rollout =
                rollout(&status).ok_or_else(|| anyhow::anyhow!("no rollout: {status}"))?;
            anyhow::ensure!(rollout["phase"] == "Promoting", "{rollout}");
            anyhow::ensure!(
                rollout["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains("not in Git")
            );
            Ok(rollout)
        },
    )
    .await;
    load.stop().await;
    let message = held["message"].as_str().unwrap_or_default();
    assert!(message.contains("no --signing-key"), "{message}");
    assert_eq!(held["canaryWeight"], 100, "{held}");
    assert_eq!(
        bare(&upstream, &["rev-parse", "main"]),
        canary_commit,
        "nothing pushed"
    );
    mesh.stop().await;
}
