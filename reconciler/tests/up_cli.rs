//! `meshcd up` on the embedded examples is calm: the example Canary waits, paused at Git's
//! weights, until the user resumes it (a canary with no traffic could only time out and
//! commit a rollback into the user's copy); `--run-canaries` runs it at once.

mod up_support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use up_support::{Up, eventually};

const CANARY: &str = "osm-canary-deployment-sample-app/api";

/// The example canary's line in `meshcd status`, once it is there.
fn canary_status(up: &Up, state: &Path) -> Option<String> {
    let output = Command::new(env!("CARGO_BIN_EXE_meshcd"))
        .args(["status", "--server", &format!("http://{}", up.admin)])
        .env("MESHCD_STATE_DIR", state)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let at = text.find(CANARY)?;
    Some(text[at..].lines().take(3).collect::<Vec<_>>().join("\n"))
}

fn head_summary(repo: &Path) -> String {
    let repository = git2::Repository::open(repo).unwrap();
    let commit = repository.head().unwrap().peel_to_commit().unwrap();
    commit.summary().unwrap_or_default().to_string()
}

#[test]
fn up_holds_the_example_canary_until_the_user_resumes_it() {
    let world = tempfile::tempdir().unwrap();
    let state = world.path().join("state");
    let up = Up::on_state(&state, &[]);
    let held = eventually(Duration::from_secs(30), || {
        canary_status(&up, &state).filter(|text| text.contains("Paused"))
    });
    let resumed = Command::new(env!("CARGO_BIN_EXE_meshcd"))
        .args([
            "canary",
            "resume",
            "api",
            "-n",
            "osm-canary-deployment-sample-app",
        ])
        .args(["--server", &format!("http://{}", up.admin)])
        .env("MESHCD_STATE_DIR", &state)
        .output()
        .unwrap();
    let progressing = eventually(Duration::from_secs(30), || {
        canary_status(&up, &state).filter(|text| text.contains("Progressing"))
    });
    let said = up.stop();
    let held = held.unwrap_or_else(|| panic!("the canary was never held: {said}"));
    assert!(held.contains("meshcd canary resume api"), "{held}");
    assert!(said.contains("canary held at its weights"), "{said}");
    assert!(resumed.status.success(), "{resumed:?}");
    assert!(progressing.is_some(), "resume runs it: {said}");
    assert_eq!(
        head_summary(&state.join("repo")),
        "meshcd up: start from examples-repo",
        "nothing was committed behind the user's back"
    );
}

#[test]
fn run_canaries_starts_the_example_canary_at_once() {
    let world = tempfile::tempdir().unwrap();
    let state = world.path().join("state");
    let up = Up::on_state(&state, &["--run-canaries"]);
    let progressing = eventually(Duration::from_secs(30), || {
        canary_status(&up, &state).filter(|text| text.contains("Progressing"))
    });
    let json = Command::new(env!("CARGO_BIN_EXE_meshcd"))
        .args([
            "status",
            "--format",
            "json",
            "--server",
            &format!("http://{}", up.admin),
        ])
        .env("MESHCD_STATE_DIR", &state)
        .output()
        .unwrap();
    let said = up.stop();
    assert!(progressing.is_some(), "{said}");
    let document: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let mut keys = Vec::new();
    collect_keys(&document, &mut keys);
    let odd: Vec<&String> = keys
        .iter()
        .filter(|key| key.contains('_') || key.starts_with(char::is_uppercase))
        .collect();
    assert!(odd.is_empty(), "keys not in camelCase: {odd:?}");
    assert!(keys.iter().any(|key| key == "canaryWeight"), "{keys:?}");
}

/// Every object key in a JSON document, at any depth.
fn collect_keys(value: &serde_json::Value, keys: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, value) in map {
                keys.push(key.clone());
                collect_keys(value, keys);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|item| collect_keys(item, keys)),
        _ => {}
    }
}

/// A rollout saved running by `up --run-canaries` is held when a plain `up` resumes it:
/// restored progress is no way around the calm default.
#[test]
fn a_rollout_resumed_from_saved_progress_is_held_too() {
    let world = tempfile::tempdir().unwrap();
    let state = world.path().join("state");
    let running = Up::on_state(&state, &["--run-canaries"]);
    let progressing = eventually(Duration::from_secs(30), || {
        canary_status(&running, &state).filter(|text| text.contains("Progressing"))
    });
    running.stop();
    assert!(progressing.is_some());
    let calm = Up::on_state(&state, &[]);
    let held = eventually(Duration::from_secs(30), || {
        canary_status(&calm, &state).filter(|text| text.contains("Paused"))
    });
    let said = calm.stop();
    let held = held.unwrap_or_else(|| panic!("the resumed rollout was not held: {said}"));
    assert!(held.contains("held at"), "{held}");
}
