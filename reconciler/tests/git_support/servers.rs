//! Real Git servers on 127.0.0.1, started and stopped by the tests: `git daemon` for
//! git:// (fetch and push) and OpenSSH's sshd (own host key, one authorized key) for ssh://.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncReadExt as _;
use tokio::process::{Child, Command};

use super::{eventually, free_port, ssh_keygen};

/// Waits until `port` accepts connections and, when given, greets with `banner`.
async fn wait_listening(port: u16, banner: Option<&'static [u8]>) -> anyhow::Result<()> {
    eventually(Duration::from_secs(15), || async move {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        if let Some(banner) = banner {
            let mut buffer = vec![0; banner.len()];
            stream.read_exact(&mut buffer).await?;
            anyhow::ensure!(buffer == banner, "unexpected greeting");
        }
        Ok(())
    })
    .await
}

/// `git daemon --export-all` serving the bare repositories under a folder.
pub struct GitDaemon {
    root: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl GitDaemon {
    pub async fn start(root: &Path) -> anyhow::Result<Self> {
        let mut daemon = GitDaemon {
            root: root.to_path_buf(),
            port: free_port(),
            child: None,
        };
        daemon.restart().await?;
        Ok(daemon)
    }

    /// The URL of `<root>/<name>.git`.
    pub fn url(&self, name: &str) -> String {
        format!("git://127.0.0.1:{}/{name}.git", self.port)
    }

    /// Stops the server: fetches fail with a refused connection until [`restart`].
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    /// Starts (again) on the same port.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        self.stop().await;
        // The daemon itself, not `git daemon`: `git` would run it as a child process
        // that outlives a kill of its parent.
        let exec_path = super::run("git", &["--exec-path"], None);
        let child = Command::new(Path::new(&exec_path).join("git-daemon"))
            .arg("--export-all")
            // Canary outcomes are pushed back.
            .arg("--enable=receive-pack")
            .arg("--reuseaddr")
            .arg(format!("--base-path={}", self.root.display()))
            .arg(format!("--port={}", self.port))
            .arg("--listen=127.0.0.1")
            .arg(&self.root)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()?;
        self.child = Some(child);
        wait_listening(self.port, None).await
    }
}

/// OpenSSH's sshd on loopback: its own host key, public key logins for one client key.
pub struct SshServer {
    port: u16,
    user: String,
    /// The server's host public key, as known_hosts lists it.
    pub host_key: String,
    /// The private key allowed to log in.
    pub client_key: PathBuf,
    _child: Child,
}

const SSHD: &str = "/usr/sbin/sshd";

impl SshServer {
    /// `None`, with the reason printed, when sshd cannot run on this machine
    /// (scripts/install-test-deps.sh installs it).
    pub async fn start(directory: &Path) -> anyhow::Result<Option<Self>> {
        if !Path::new(SSHD).exists() {
            eprintln!("SKIPPED: {SSHD} is not installed (openssh-server)");
            return Ok(None);
        }
        // sshd insists on its privilege separation folder even when not switching users.
        let privsep = Path::new("/run/sshd");
        if !privsep.exists() && std::fs::create_dir_all(privsep).is_err() {
            eprintln!(
                "SKIPPED: sshd needs {} and it cannot be created",
                privsep.display()
            );
            return Ok(None);
        }
        std::fs::create_dir_all(directory)?;
        let host_key_path = directory.join("host_ed25519");
        let host_key = ssh_keygen(&host_key_path, "test-host");
        let client_key = directory.join("client_ed25519");
        let client_public = ssh_keygen(&client_key, "meshcd-test");
        let authorized = directory.join("authorized_keys");
        std::fs::write(&authorized, format!("{client_public}\n"))?;
        let user = super::run("id", &["-un"], None);
        let port = free_port();
        let config = directory.join("sshd_config");
        std::fs::write(
            &config,
            format!(
                "ListenAddress 127.0.0.1\n\
                 HostKey {host}\n\
                 PidFile {pid}\n\
                 AuthorizedKeysFile {authorized}\n\
                 PubkeyAuthentication yes\n\
                 PasswordAuthentication no\n\
                 KbdInteractiveAuthentication no\n\
                 PermitRootLogin prohibit-password\n\
                 AllowUsers {user}\n\
                 StrictModes no\n\
                 UsePAM no\n\
                 LogLevel ERROR\n",
                host = host_key_path.display(),
                pid = directory.join("sshd.pid").display(),
                authorized = authorized.display(),
            ),
        )?;
        let child = Command::new(SSHD)
            .arg("-D")
            .arg("-e")
            .arg("-f")
            .arg(&config)
            .arg("-p")
            .arg(port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()?;
        wait_listening(port, Some(b"SSH-2.0")).await?;
        Ok(Some(SshServer {
            port,
            user,
            host_key,
            client_key,
            _child: child,
        }))
    }

    /// The ssh:// URL of a bare repository on this machine.
    pub fn url(&self, bare: &Path) -> String {
        format!(
            "ssh://{}@127.0.0.1:{}{}",
            self.user,
            self.port,
            bare.display()
        )
    }

    /// A known_hosts line for this server with `key` (its own, or another to refuse).
    pub fn known_hosts_line(&self, key: &str) -> String {
        format!("[127.0.0.1]:{} {key}\n", self.port)
    }
}
