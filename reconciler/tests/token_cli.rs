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
