//! A child process a scenario started: its "listening" line, its stderr in a file for
//! failure messages, and kill-on-drop so no test leaves processes behind.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::Value;

/// How much of a process's stderr failure messages quote.
const STDERR_TAIL_BYTES: usize = 6000;

/// A running child process, killed when dropped.
pub struct Process {
    name: String,
    child: Child,
    stderr_path: PathBuf,
    stdout_lines: Arc<Mutex<Vec<String>>>,
}

impl Process {
    /// Starts `command` (its stderr going to `<log_directory>/<name>.stderr`) and waits up
    /// to `deadline` for the first stdout line that is a JSON object with
    /// `"event": "listening"`, which it returns.
    pub async fn spawn(
        name: &str,
        mut command: Command,
        log_directory: &Path,
        deadline: Duration,
    ) -> anyhow::Result<(Self, Value)> {
        let stderr_path = log_directory.join(format!("{name}.stderr"));
        let stderr = File::create(&stderr_path)
            .with_context(|| format!("create {}", stderr_path.display()))?;
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr));
        let mut child = command
            .spawn()
            .with_context(|| format!("start {name}: {command:?}"))?;
        let stdout = child.stdout.take().context("child stdout")?;

        // A thread, not a task: it must keep draining stdout for the process's whole
        // life (a full pipe would block the child), whatever runtime the test uses.
        let stdout_lines = Arc::new(Mutex::new(Vec::new()));
        let (listening_sender, listening) = tokio::sync::oneshot::channel();
        {
            let stdout_lines = stdout_lines.clone();
            std::thread::Builder::new()
                .name(format!("{name}-stdout"))
                .spawn(move || {
                    let mut listening_sender = Some(listening_sender);
                    for line in BufReader::new(stdout).lines() {
                        let Ok(line) = line else { break };
                        if let Ok(value) = serde_json::from_str::<Value>(&line)
                            && value["event"] == "listening"
                            && let Some(sender) = listening_sender.take()
                        {
                            let _ = sender.send(value);
                        }
                        stdout_lines
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push(line);
                    }
                })
                .context("start stdout reader")?;
        }

        let mut process = Self {
            name: name.to_owned(),
            child,
            stderr_path,
            stdout_lines,
        };
        match tokio::time::timeout(deadline, listening).await {
            Ok(Ok(line)) => Ok((process, line)),
            Ok(Err(_)) => {
                let status = process.wait_for_exit(Duration::from_secs(2)).await;
                bail!(
                    "{name} exited before printing its listening line ({}); stderr:\n{}",
                    status.map_or_else(|| "still running".to_owned(), |s| s.to_string()),
                    process.stderr_tail()
                )
            }
            Err(_) => bail!(
                "{name} printed no listening line within {deadline:?}; stderr:\n{}",
                process.stderr_tail()
            ),
        }
    }

    /// The name the scenario gave this process.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The operating-system process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// CPU time (user + system) the process has used so far, from `/proc/<pid>/stat`.
    pub fn cpu_time(&self) -> anyhow::Result<Duration> {
        let path = format!("/proc/{}/stat", self.child.id());
        let stat = std::fs::read_to_string(&path).with_context(|| format!("read {path}"))?;
        // The command name (field 2) may hold spaces: count fields after its ')'.
        let after_name = stat
            .rsplit_once(')')
            .with_context(|| format!("{path}: {stat}"))?
            .1;
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        // utime and stime are fields 14 and 15 of stat(5), 12 and 13 after the name.
        let ticks = |index: usize| -> anyhow::Result<u64> {
            fields
                .get(index)
                .with_context(|| format!("{path}: field {index} missing"))?
                .parse::<u64>()
                .with_context(|| format!("{path}: field {index}"))
        };
        // /proc reports in USER_HZ, which the Linux ABI fixes at 100 per second.
        Ok(Duration::from_millis((ticks(11)? + ticks(12)?) * 10))
    }

    /// The last few kilobytes of the process's stderr, for failure messages.
    pub fn stderr_tail(&self) -> String {
        let text = std::fs::read(&self.stderr_path).unwrap_or_default();
        let start = text.len().saturating_sub(STDERR_TAIL_BYTES);
        String::from_utf8_lossy(&text[start..]).into_owned()
    }

    /// The whole stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// Every stdout line so far, the listening line included.
    pub fn stdout_lines(&self) -> Vec<String> {
        self.stdout_lines
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Whether the process has exited, and how.
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Asks the process to stop (SIGTERM), as an orchestrator does before a pod goes away.
    pub fn terminate(&self) -> anyhow::Result<()> {
        let pid = i32::try_from(self.child.id()).context("pid")?;
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGTERM,
        )
        .with_context(|| format!("SIGTERM to {}", self.name))
    }

    /// Waits up to `deadline` for the process to exit and returns how it did.
    pub async fn exited(&mut self, deadline: Duration) -> anyhow::Result<ExitStatus> {
        let name = self.name.clone();
        self.wait_for_exit(deadline)
            .await
            .with_context(|| format!("{name} still runs after {deadline:?}"))
    }

    /// Kills the process (SIGKILL: the way a crashed workload disappears) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    async fn wait_for_exit(&mut self, deadline: Duration) -> Option<ExitStatus> {
        crate::eventually(deadline, || {
            let status = self.child.try_wait().ok().flatten();
            async move { status.context("still running") }
        })
        .await
        .ok()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
        // A failing assertion unwinds through here: show what the process said.
        if std::thread::panicking() {
            eprintln!(
                "----- stderr of {} (pid {}) -----\n{}",
                self.name,
                self.id(),
                self.stderr_tail()
            );
        }
    }
}
