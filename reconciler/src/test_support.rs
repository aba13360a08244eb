//! Helpers the crate's unit tests share: a config (or its diagnostics) from YAML text,
//! the `git` command line in a directory, and an OpenSSH key pair made by `ssh-keygen`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::load::load_files;
use crate::model::Config;
use crate::validate::validate;

/// The validated config of one YAML file; panics with the diagnostics when it is invalid.
pub fn config(yaml: &str) -> Config {
    let loaded = load_files(vec![("repo.yaml".into(), yaml.to_string())]);
    let validated = validate(&loaded);
    validated
        .config
        .unwrap_or_else(|| panic!("invalid config: {:#?}", validated.diagnostics))
}

/// The diagnostics of one YAML file `repo.yaml`, as `line: message`.
pub fn diagnostics(yaml: &str) -> Vec<String> {
    let loaded = load_files(vec![("repo.yaml".into(), yaml.to_string())]);
    validate(&loaded)
        .diagnostics
        .iter()
        .map(|d| format!("{}: {}", d.line, d.message))
        .collect()
}

/// Runs `git ARGS` in `dir` as a test author; returns its trimmed standard output.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(output.status.success(), "git {args:?}: {output:?}");
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

/// A fresh ed25519 key pair in `dir`; returns the private key's path and the public key.
pub fn ssh_key(dir: &Path, name: &str) -> (PathBuf, String) {
    let path = dir.join(name);
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success());
    let public = std::fs::read_to_string(path.with_extension("pub")).unwrap();
    (path, public.trim().to_string())
}
