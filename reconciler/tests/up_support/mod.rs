//! `meshcd up` as a test starts it: the built binary on free ports, its stdout watched
//! until it listens, killed (and reaped) when the test is done with it.

// Each test crate compiles this module and uses only part of it.
#![allow(dead_code)]

use std::io::BufRead as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Up {
    child: Child,
    stderr: std::thread::JoinHandle<String>,
    /// The admin address from the "listening" log line.
    pub admin: String,
}

impl Up {
    /// Starts `binary up ARGS` in `folder`, with `configure` setting its environment,
    /// and waits (up to a minute) until it listens.
    pub fn start(
        binary: &Path,
        folder: &Path,
        args: &[&str],
        configure: impl FnOnce(&mut Command),
    ) -> Result<Up, String> {
        let mut command = Command::new(binary);
        command
            .args(["up", "--control-plane-addr", "127.0.0.1:0"])
            .args(["--admin-addr", "127.0.0.1:0"])
            .args(args)
            .current_dir(folder)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        configure(&mut command);
        let mut child = command.spawn().map_err(|error| error.to_string())?;
        let stdout = child.stdout.take().expect("piped stdout");
        // Drained all along, so that a chatty reconciler never blocks on a full pipe.
        let mut pipe = child.stderr.take().expect("piped stderr");
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut pipe, &mut text);
            text
        });
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                if line.contains("\"listening\"") {
                    let admin = serde_json::from_str::<serde_json::Value>(&line)
                        .ok()
                        .and_then(|event| event["admin"].as_str().map(str::to_string))
                        .unwrap_or_default();
                    let _ = sender.send(admin);
                }
            }
        });
        match receiver.recv_timeout(Duration::from_secs(60)) {
            Ok(admin) => Ok(Up {
                child,
                stderr,
                admin,
            }),
            Err(_) => Err(format!(
                "meshcd up did not listen: {}",
                Up {
                    child,
                    stderr,
                    admin: String::new()
                }
                .stop()
            )),
        }
    }

    /// The built `meshcd up ARGS` with `state` as its state directory (`MESHCD_STATE_DIR`),
    /// run in the folder that holds it.
    pub fn on_state(state: &Path, args: &[&str]) -> Up {
        Up::start(
            Path::new(env!("CARGO_BIN_EXE_meshcd")),
            state.parent().expect("a state directory has a parent"),
            args,
            |command| {
                command.env("MESHCD_STATE_DIR", state);
            },
        )
        .unwrap()
    }

    /// Kills it (and reaps it) and returns what it wrote on stderr.
    pub fn stop(mut self) -> String {
        self.child.kill().ok();
        self.child.wait().ok();
        self.stderr.join().unwrap_or_default()
    }
}

/// Calls `check` until it returns `Some`, for up to `deadline` (the workspace's one
/// `eventually`, blocking).
pub fn eventually<T>(deadline: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    meshcd_testkit::eventually_blocking(deadline, || {
        check().ok_or_else(|| anyhow::anyhow!("not yet"))
    })
    .ok()
}
