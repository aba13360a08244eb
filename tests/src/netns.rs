//! Network namespaces for transparent-mode scenarios: create one, run processes and test
//! clients inside it, set iptables rules in it, delete it afterwards.

use std::fs::File;
use std::future::Future;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, bail};
use nix::sched::CloneFlags;

/// Why transparent mode cannot be tested here, if it cannot: it needs root (to create
/// namespaces and set iptables rules), `ip` and `iptables`.
pub fn transparent_mode_prerequisites() -> Result<(), String> {
    prerequisites(&[
        ("ip", "-V", "iproute2"),
        ("iptables", "--version", "iptables"),
    ])
}

/// Why network namespaces cannot be made here, if they cannot: they need root and `ip`.
pub fn namespace_prerequisites() -> Result<(), String> {
    prerequisites(&[("ip", "-V", "iproute2")])
}

fn prerequisites(programs: &[(&str, &str, &str)]) -> Result<(), String> {
    if !nix::unistd::geteuid().is_root() {
        return Err("needs root to create network namespaces and iptables rules".to_owned());
    }
    for &(program, flag, package) in programs {
        let found = Command::new(program)
            .arg(flag)
            .output()
            .is_ok_and(|output| output.status.success());
        if !found {
            return Err(format!(
                "`{program}` is missing (Debian package {package}; scripts/install-test-deps.sh installs it)"
            ));
        }
    }
    Ok(())
}

/// A network namespace with its loopback up, deleted on drop (after the processes in it,
/// when it is declared before them).
pub struct NetworkNamespace {
    name: String,
}

impl NetworkNamespace {
    /// Creates `meshcd-e2e-<pid>-<n>`, unique per process and call.
    pub fn create() -> anyhow::Result<Self> {
        static CREATED: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "meshcd-e2e-{}-{}",
            std::process::id(),
            CREATED.fetch_add(1, Ordering::SeqCst)
        );
        run(Command::new("ip").args(["netns", "add", &name]))?;
        let namespace = Self { name };
        namespace.exec("ip", &["link", "set", "lo", "up"])?;
        Ok(namespace)
    }

    /// The namespace's name (`ip netns` name).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs `program args` inside the namespace and fails unless it succeeds.
    pub fn exec(&self, program: &str, arguments: &[&str]) -> anyhow::Result<()> {
        let mut command = self.command(Path::new(program));
        command.args(arguments);
        run(&mut command)
    }

    /// A command that runs `program` inside the namespace; `ip netns exec` replaces itself
    /// with the program, so killing the child kills the program.
    pub fn command(&self, program: &Path) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.name]).arg(program);
        command
    }

    /// Runs `work` on a thread that joined the namespace, on its own single-threaded
    /// runtime: its sockets are the namespace's. Other threads stay where they are.
    pub async fn run<F, Fut, T>(&self, work: F) -> anyhow::Result<T>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<T>>,
        T: Send + 'static,
    {
        let path = Path::new("/var/run/netns").join(&self.name);
        let (sender, receiver) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name(format!("in-{}", self.name))
            .spawn(move || {
                let outcome = (|| {
                    let file =
                        File::open(&path).with_context(|| format!("open {}", path.display()))?;
                    nix::sched::setns(&file, CloneFlags::CLONE_NEWNET).context("setns")?;
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .context("runtime")?;
                    runtime.block_on(work())
                })();
                let _ = sender.send(outcome);
            })
            .context("start namespace thread")?;
        receiver.await.context("namespace thread panicked")?
    }
}

impl Drop for NetworkNamespace {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}

fn run(command: &mut Command) -> anyhow::Result<()> {
    let output = command
        .output()
        .with_context(|| format!("run {command:?}"))?;
    if !output.status.success() {
        bail!(
            "{command:?} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}
