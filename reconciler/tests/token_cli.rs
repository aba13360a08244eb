//! `meshcd token create|list` as an operator runs them: a token names the services its
//! holder may serve and when it expires.

use std::path::Path;
use std::process::{Command, Output};

fn meshcd(state: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_meshcd"))
        .args(args)
        .arg("--state-dir")
        .arg(state)
        .env_remove("MESHCD_STATE_DIR")
        .output()
        .expect("meshcd runs")
}

#[test]
fn a_token_without_a_service_is_a_usage_error_exiting_two() {
    let state = tempfile::tempdir().unwrap();
    let output = meshcd(
        state.path(),
        &[
            "token",
            "create",
            "--namespace",
            "shop",
            "--service-account",
            "api",
        ],
    );
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("--service"),
        "{output:?}"
    );
    assert!(!state.path().join("tokens.json").exists());
}

#[test]
fn token_list_shows_each_tokens_services_and_expiry() {
    let state = tempfile::tempdir().unwrap();
    let created = meshcd(
        state.path(),
        &[
            "token",
            "create",
            "--namespace",
            "shop",
            "--service-account",
            "api",
            "--service",
            "api",
            "--service",
            "api-v1",
            "--ttl",
            "30m",
        ],
    );
    assert!(created.status.success(), "{created:?}");
    let token = String::from_utf8_lossy(&created.stdout).trim().to_string();
    let id = token.split('_').nth(1).unwrap();

    let listed = meshcd(state.path(), &["token", "list"]);
    let text = String::from_utf8_lossy(&listed.stdout).to_string();
    let line = text.lines().find(|line| line.starts_with(id)).unwrap();
    let columns: Vec<&str> = line.split('\t').collect();
    assert_eq!(&columns[..3], [id, "shop/api", "api,api-v1"], "{line}");
    assert!(
        columns[3].contains('T') && columns[3].ends_with('Z'),
        "{line}"
    );
    assert!(!text.contains(token.rsplit('_').next().unwrap()));
}

/// Runs `meshcd` in `folder` as a user whose home is `home`, with no state named.
fn meshcd_found(folder: &Path, home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_meshcd"))
        .args(args)
        .current_dir(folder)
        .env("HOME", home)
        .env_remove("XDG_STATE_HOME")
        .env_remove("MESHCD_STATE_DIR")
        .output()
        .expect("meshcd runs")
}

const CREATE: [&str; 6] = ["token", "create", "--namespace", "shop", "--service", "api"];

/// With no reconciler's state anywhere, a token would be one nobody accepts: refuse,
/// say where the CLI looked, and create nothing.
#[test]
fn a_token_with_no_state_to_go_to_is_refused_and_nothing_is_created() {
    let world = tempfile::tempdir().unwrap();
    let home = world.path().join("home");
    let output = meshcd_found(world.path(), &home, &CREATE);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("no meshcd state found"), "{said}");
    assert!(
        said.contains(&home.join(".local/state/meshcd").display().to_string()),
        "{said}"
    );
    assert!(said.contains("--state-dir"), "{said}");
    assert!(output.stdout.is_empty());
    assert!(!world.path().join(".meshcd").exists());
    assert!(!home.exists());
}

/// The nearest `.meshcd` above the working directory is the state, as git finds `.git`.
#[test]
fn a_token_goes_to_the_nearest_state_directory_above() {
    let world = tempfile::tempdir().unwrap();
    std::fs::create_dir(world.path().join(".meshcd")).unwrap();
    let deep = world.path().join("services/api");
    std::fs::create_dir_all(&deep).unwrap();
    let output = meshcd_found(&deep, &world.path().join("home"), &CREATE);
    assert!(output.status.success(), "{output:?}");
    let id = String::from_utf8_lossy(&output.stdout)
        .split('_')
        .nth(1)
        .unwrap()
        .to_string();
    let listed = meshcd_found(world.path(), &world.path().join("home"), &["token", "list"]);
    assert!(
        String::from_utf8_lossy(&listed.stdout).starts_with(&id),
        "{listed:?}"
    );
    assert!(!deep.join(".meshcd").exists());
}
