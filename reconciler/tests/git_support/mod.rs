//! The world of the Git source tests: config repositories to push to, real Git servers
//! on 127.0.0.1 (git daemon, smart HTTP behind a CGI bridge, sshd), the built `meshcd`
//! reconciler following one of them, and waiting with a deadline.

// Each scenario uses part of the support.
#![allow(dead_code)]

pub mod eventually;
pub mod http_server;
pub mod reconciler;
pub mod servers;
pub mod upstream;

pub use eventually::{DEADLINE, eventually};
pub use reconciler::Reconciler;
pub use upstream::Upstream;

/// A free port on 127.0.0.1 for a server that binds by number (git daemon, sshd).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

/// Runs a program to completion, failing with its output.
pub fn run(program: &str, args: &[&str], directory: Option<&std::path::Path>) -> String {
    let mut command = std::process::Command::new(program);
    command.args(args);
    if let Some(directory) = directory {
        command.current_dir(directory);
    }
    let output = command
        .output()
        .unwrap_or_else(|error| panic!("{program}: {error}"));
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// Generates an ed25519 key pair without passphrase; returns the private key path and
/// the public key line.
pub fn ssh_keygen(path: &std::path::Path, comment: &str) -> String {
    let path_text = path.to_str().expect("UTF-8 path");
    run(
        "ssh-keygen",
        &[
            "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path_text,
        ],
        None,
    );
    std::fs::read_to_string(path.with_extension("pub"))
        .expect("public key")
        .trim()
        .to_string()
}
