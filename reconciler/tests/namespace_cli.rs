//! `meshcd namespace add|list` as an operator runs them: into the repository the local
//! reconciler follows when none is named, and a clear refusal (nothing written) where
//! there is no Git repository to commit to.

mod up_support;

use std::path::Path;
use std::process::{Command, Output};

/// Runs `meshcd` in `folder` with `state` as its state directory and no repository named.
fn meshcd(folder: &Path, state: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_meshcd"))
        .args(args)
        .current_dir(folder)
        .env("MESHCD_STATE_DIR", state)
        .env_remove("MESHCD_REPO")
        .output()
        .expect("meshcd runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn without_a_repository_anywhere_add_refuses_and_writes_nothing() {
    let world = tempfile::tempdir().unwrap();
    let output = meshcd(
        world.path(),
        &world.path().join("state"),
        &["namespace", "add", "shop"],
    );
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(
        stderr(&output).contains("no config repository"),
        "{output:?}"
    );
    assert!(stderr(&output).contains("--repo"), "{output:?}");
    assert!(!world.path().join("namespaces").exists());
}

#[test]
fn a_named_folder_outside_git_is_refused_before_any_file_is_written() {
    let world = tempfile::tempdir().unwrap();
    let output = meshcd(
        world.path(),
        &world.path().join("state"),
        &["namespace", "add", "shop", "--repo", "."],
    );
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let said = stderr(&output);
    assert!(said.contains("is not in a Git repository"), "{said}");
    assert!(!said.contains("code="), "no raw libgit2 codes: {said}");
    assert!(!world.path().join("namespaces").exists());
}

/// `meshcd up`, then `meshcd namespace add` from another folder: the commit lands in
/// the repository that reconciler follows, and `namespace list` there shows it.
#[test]
fn add_commits_to_the_repository_the_local_reconciler_follows() {
    let world = tempfile::tempdir().unwrap();
    let state = world.path().join("state");
    let up = up_support::Up::on_state(&state, &[]);
    let elsewhere = tempfile::tempdir().unwrap();
    let added = meshcd(elsewhere.path(), &state, &["namespace", "add", "payments"]);
    let listed = meshcd(elsewhere.path(), &state, &["namespace", "list"]);
    up.stop();
    assert!(added.status.success(), "{added:?}");
    let repo = state.join("repo").canonicalize().unwrap();
    assert!(
        stderr(&added).contains(&format!("using {}", repo.display())),
        "{added:?}"
    );
    let repository = git2::Repository::open(&repo).unwrap();
    let head = repository.head().unwrap().peel_to_commit().unwrap();
    assert_eq!(
        head.summary(),
        Some("meshcd: onboard namespace payments"),
        "the commit landed in the followed repository"
    );
    assert!(
        String::from_utf8_lossy(&listed.stdout)
            .lines()
            .any(|line| line == "payments"),
        "{listed:?}"
    );
    assert!(!elsewhere.path().join("namespaces").exists());
}

/// Once the reconciler stops, the repository it followed is no default any more: a
/// commit would land where nothing reads it.
#[test]
fn a_stopped_reconciler_s_repository_is_not_used() {
    let world = tempfile::tempdir().unwrap();
    let state = world.path().join("state");
    let up = up_support::Up::on_state(&state, &[]);
    up.stop();
    let elsewhere = tempfile::tempdir().unwrap();
    let added = meshcd(elsewhere.path(), &state, &["namespace", "add", "payments"]);
    assert_eq!(added.status.code(), Some(1), "{added:?}");
    assert!(stderr(&added).contains("no config repository"), "{added:?}");
}

/// `MESHCD_REPO` may hold the URL a reconciler follows: `namespace` says it needs a clone.
#[test]
fn a_repository_url_is_refused_with_what_to_pass_instead() {
    let world = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_meshcd"))
        .args(["namespace", "add", "shop"])
        .current_dir(world.path())
        .env("MESHCD_STATE_DIR", world.path().join("state"))
        .env(
            "MESHCD_REPO",
            "https://git.example.com/platform/mesh-config.git",
        )
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(stderr(&output).contains("is a URL"), "{output:?}");
    assert!(stderr(&output).contains("local clone"), "{output:?}");
}
