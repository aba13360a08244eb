//! `meshcd demo` stopped by a signal, as Ctrl-C or a process supervisor stops it: every
//! process it started (the reconciler, five apps, five proxies) is gone, and so is its
//! temporary folder with the CA key and the token store.
//!
//! Needs `meshcd-proxy` next to `meshcd` (`cargo build --workspace --bins`).

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
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

/// A running `meshcd demo` and the processes it had started when it was looked at.
struct Demo {
    child: tokio::process::Child,
    pid: u32,
    started: Vec<u32>,
    /// The stdout lines read up to the marker.
    lines: Vec<String>,
}

impl Demo {
    /// Starts `meshcd demo ARGS` and reads its output until a line contains `marker`.
    async fn until(args: &[&str], marker: &str) -> Demo {
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_meshcd"))
            .arg("demo")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("meshcd demo starts");
        let pid = child.id().expect("a pid");
        let mut output = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut lines = Vec::new();
        tokio::time::timeout(Duration::from_secs(300), async {
            while let Some(line) = output.next_line().await.unwrap() {
                let done = line.contains(marker);
                lines.push(line);
                if done {
                    return;
                }
            }
            panic!("the demo ended before printing {marker:?}: {lines:?}");
        })
        .await
        .expect("the demo gets there in time");
        tokio::spawn(async move { while let Ok(Some(_)) = output.next_line().await {} });
        let started = descendants(pid);
        assert!(
            started.len() >= 11,
            "reconciler, 5 apps, 5 proxies: {started:?}"
        );
        Demo {
            child,
            pid,
            started,
            lines,
        }
    }

    /// The text after `prefix` on the first line read that has it.
    fn after(&self, prefix: &str) -> Option<String> {
        self.lines
            .iter()
            .find_map(|line| line.trim().strip_prefix(prefix).map(str::to_owned))
    }

    /// Sends SIG`signal`, waits for the demo to exit and for everything it started to
    /// be gone; its exit status.
    async fn stop(mut self, signal: &str) -> ExitStatus {
        let sent = std::process::Command::new("kill")
            .args([format!("-{signal}"), self.pid.to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let status = tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("the demo exits on the signal")
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left: Vec<u32> = self.started.iter().copied().filter(|p| alive(*p)).collect();
            if left.is_empty() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "SIG{signal} left {left:?} running"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[tokio::test]
async fn a_signal_stops_every_process_of_the_demo_and_removes_its_folder() {
    for signal in ["TERM", "INT"] {
        let demo = Demo::until(&[], "proxies joined").await;
        let folder = demo
            .after("config repository: ")
            .map(PathBuf::from)
            .expect("the demo names its repository")
            .parent()
            .map(Path::to_path_buf)
            .unwrap();
        assert!(folder.exists());
        let status = demo.stop(signal).await;
        assert!(!status.success(), "SIG{signal}: {status:?}");
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
    let demo = Demo::until(
        &["--keep-running", "--requests", "200"],
        "keeps running until Ctrl-C",
    )
    .await;
    let arguments: Vec<String> = demo
        .after("`meshcd status ")
        .and_then(|command| command.split('`').next().map(str::to_owned))
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

    // Each canary line's observation is of the weight the traffic ran at, not of the new
    // weight printed beside it: "observed at 20% since the last line: api-v1 80.1% ·
    // api-v2 19.9% of 2140".
    let observations: Vec<(f64, f64)> = demo
        .lines
        .iter()
        .filter_map(|line| {
            let rest = line.trim().strip_prefix("observed at ")?;
            let (weight, rest) = rest.split_once("% since the last line: ")?;
            let share = rest
                .split("api-v2 ")
                .nth(1)
                .map_or(Some(0.0), |tail| tail.split('%').next()?.parse().ok())?;
            let total: f64 = rest.rsplit(" of ").next()?.parse().ok()?;
            (total >= 200.0).then_some((weight.parse().ok()?, share))
        })
        .collect();
    assert!(observations.len() >= 3, "{:#?}", demo.lines);
    for (weight, share) in &observations {
        assert!(
            (weight - share).abs() <= 8.0,
            "observed api-v2 {share}% labelled as {weight}%: {:#?}",
            demo.lines
        );
    }

    let exit = demo.stop("TERM").await;
    assert!(
        exit.success(),
        "a kept mesh ends with success on SIGTERM: {exit:?}"
    );
}
