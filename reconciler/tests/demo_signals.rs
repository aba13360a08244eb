//! `meshcd demo` stopped by a signal, as Ctrl-C or a process supervisor stops it: every
//! process it started (the reconciler, five apps, five proxies) is gone, and so is its
//! temporary folder with the CA key and the token store.
//!
//! Needs `meshcd-proxy` next to `meshcd` (`cargo build --workspace --bins`).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt as _, BufReader};

/// Every process below `pid`, from /proc's child lists.
fn descendants(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten();
    for task in tasks.flatten() {
        let children = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
        for child in children.split_whitespace().filter_map(|c| c.parse().ok()) {
            found.push(child);
            found.extend(descendants(child));
        }
    }
    found
}

/// Whether `pid` still runs (a zombie waiting for its reaper does not).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            stat.rsplit(')')
                .next()
                .map(|rest| rest.trim_start().to_owned())
        })
        .is_some_and(|rest| !rest.starts_with('Z'))
}

#[tokio::test]
async fn a_signal_stops_every_process_of_the_demo_and_removes_its_folder() {
    for signal in ["TERM", "INT"] {
        let mut demo = tokio::process::Command::new(env!("CARGO_BIN_EXE_meshcd"))
            .arg("demo")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("meshcd demo starts");
        let pid = demo.id().expect("a pid");
        let mut lines = BufReader::new(demo.stdout.take().unwrap()).lines();
        let mut repo: Option<PathBuf> = None;
        tokio::time::timeout(Duration::from_secs(180), async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if let Some(path) = line.trim().strip_prefix("config repository: ") {
                    repo = Some(PathBuf::from(path));
                }
                if line.contains("proxies joined") {
                    return;
                }
            }
            panic!("the demo ended before its proxies joined");
        })
        .await
        .expect("the demo's proxies join");
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let started = descendants(pid);
        assert!(
            started.len() >= 11,
            "reconciler, 5 apps, 5 proxies: {started:?}"
        );
        let folder = repo
            .expect("the demo names its repository")
            .parent()
            .map(Path::to_path_buf)
            .unwrap();
        assert!(folder.exists());

        let sent = std::process::Command::new("kill")
            .args([format!("-{signal}"), pid.to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let status = tokio::time::timeout(Duration::from_secs(30), demo.wait())
            .await
            .expect("the demo exits on the signal")
            .unwrap();
        assert!(!status.success(), "SIG{signal}: {status:?}");

        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left: Vec<u32> = started.iter().copied().filter(|p| alive(*p)).collect();
            if left.is_empty() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "SIG{signal} left {left:?} running"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(
            !folder.exists(),
            "SIG{signal} left {} behind",
            folder.display()
        );
    }
}

/// `--keep-running`: the closing lines point at a reconciler that is still there (`meshcd
/// status` answers), and Ctrl-C / SIGTERM then ends the demo cleanly and completely.
#[tokio::test]
async fn a_kept_mesh_answers_the_status_its_closing_lines_name_until_a_signal_stops_it() {
    let mut demo = tokio::process::Command::new(env!("CARGO_BIN_EXE_meshcd"))
        .args(["demo", "--keep-running", "--requests", "200"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("meshcd demo starts");
    let pid = demo.id().expect("a pid");
    let mut lines = BufReader::new(demo.stdout.take().unwrap()).lines();
    let mut status_command = None;
    tokio::time::timeout(Duration::from_secs(300), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(command) = line.trim().strip_prefix("`meshcd status ") {
                status_command = command.split('`').next().map(str::to_owned);
            }
            if line.contains("keeps running until Ctrl-C") {
                return;
            }
        }
        panic!("the demo ended before its closing lines");
    })
    .await
    .expect("the demo reaches its end");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let arguments: Vec<String> = status_command
        .expect("the closing lines name a status command")
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let status = tokio::process::Command::new(env!("CARGO_BIN_EXE_meshcd"))
        .arg("status")
        .args(&arguments)
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(
        status.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&status.stderr)
    );
    assert!(text.contains("proxies:  5"), "{text}");

    let started = descendants(pid);
    let sent = std::process::Command::new("kill")
        .args(["-TERM".to_string(), pid.to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let exit = tokio::time::timeout(Duration::from_secs(30), demo.wait())
        .await
        .expect("the demo exits on the signal")
        .unwrap();
    assert!(
        exit.success(),
        "a kept mesh ends with success on SIGTERM: {exit:?}"
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while started.iter().any(|p| alive(*p)) {
        assert!(Instant::now() < deadline, "processes left: {started:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
