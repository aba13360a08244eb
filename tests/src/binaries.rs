//! Finds the workspace binaries the scenarios run, building each once per test process.
//!
//! Integration tests only get `CARGO_BIN_EXE_*` for their own package, and the proxy and
//! the reconciler live in other ones. So the harness locates binaries in the profile
//! directory the test executable itself was built into (`<target>/<profile>/deps/<test>` →
//! `<target>/<profile>/`).
//! Other packages' binaries are first built there with `cargo build -p <package> --bin
//! <bin>` (unless `MESHCD_E2E_SKIP_BUILD=1`), so `cargo test -p meshcd-e2e` never runs a
//! stale proxy; cargo test holds no lock on the target dir while tests run.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use anyhow::{Context, bail};

use crate::environment;

/// Whether the harness builds a binary before using it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Build {
    /// Once per test process: binaries of other packages, which `cargo test -p meshcd-e2e`
    /// does not build.
    Always,
    /// Only when it is missing: this package's own binaries, which cargo builds for its
    /// integration tests (with the test build's features; rebuilding them with
    /// `cargo build`'s would relink them on every run).
    IfMissing,
}

/// The sidecar proxy under test.
pub fn proxy() -> anyhow::Result<PathBuf> {
    workspace_binary("meshcd-proxy", "meshcd-proxy", Build::Always)
}

/// The reconciler (`meshcd run`, `meshcd token`), from the `meshcd` package.
pub fn meshcd() -> anyhow::Result<PathBuf> {
    workspace_binary("meshcd", "meshcd", Build::Always)
}

/// The app the scenarios put behind proxies (this crate's `src/bin/meshcd-testapp.rs`).
pub fn testapp() -> anyhow::Result<PathBuf> {
    workspace_binary("meshcd-e2e", "meshcd-testapp", Build::IfMissing)
}

/// The path of `binary` from workspace package `package`, built as `build` says in the
/// profile the tests run in.
pub fn workspace_binary(package: &str, binary: &str, build: Build) -> anyhow::Result<PathBuf> {
    // One build per binary and process; a failed build is remembered so every test of
    // the process reports the same compiler error instead of rebuilding.
    static BUILT: OnceLock<Mutex<HashMap<String, Result<PathBuf, String>>>> = OnceLock::new();
    let built = BUILT.get_or_init(Default::default);
    let mut built = built
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let outcome = built.entry(binary.to_owned()).or_insert_with(|| {
        locate_or_build(package, binary, build).map_err(|error| format!("{error:#}"))
    });
    outcome.clone().map_err(anyhow::Error::msg)
}

fn locate_or_build(package: &str, binary: &str, build_mode: Build) -> anyhow::Result<PathBuf> {
    let profile_directory = profile_directory()?;
    let path = profile_directory.join(binary);
    let wanted = match build_mode {
        Build::Always => !environment::skip_build(),
        Build::IfMissing => !path.is_file(),
    };
    if wanted {
        build(package, binary, &profile_directory)?;
    }
    if !path.is_file() {
        bail!(
            "{} does not exist; build it with `cargo build -p {package} --bin {binary}`",
            path.display()
        );
    }
    Ok(path)
}

/// `<target>/<profile>` of the running test executable.
fn profile_directory() -> anyhow::Result<PathBuf> {
    let executable = std::env::current_exe().context("find the test executable")?;
    let mut directory = executable
        .parent()
        .context("test executable has no folder")?;
    if directory.file_name().is_some_and(|name| name == "deps") {
        directory = directory.parent().context("deps folder has no parent")?;
    }
    Ok(directory.to_owned())
}

fn build(package: &str, binary: &str, profile_directory: &Path) -> anyhow::Result<()> {
    let target_directory = profile_directory
        .parent()
        .context("profile folder has no parent")?;
    let profile = profile_directory
        .file_name()
        .and_then(|name| name.to_str())
        .context("profile folder name")?;
    let mut command = Command::new(environment::cargo());
    command
        .args(["build", "--quiet", "--package", package, "--bin", binary])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("CARGO_TARGET_DIR", target_directory);
    // Cargo gives the test process variables describing this package; passed on, they
    // make build scripts that watch them (ring's watches CARGO_MANIFEST_DIR) rerun, and
    // every other build of the shared target dir then rebuilds half the tree again.
    for (name, _) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        if is_set_by_cargo_for_tests(name) {
            command.env_remove(name);
        }
    }
    match profile {
        "debug" => {}
        "release" => {
            command.arg("--release");
        }
        other => {
            command.args(["--profile", other]);
        }
    }
    let output = command
        .output()
        .with_context(|| format!("run {command:?}"))?;
    if !output.status.success() {
        bail!(
            "`cargo build -p {package} --bin {binary}` failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

/// Variables cargo sets for the process it tests (not the user's own configuration,
/// such as CARGO_HOME or CARGO_TARGET_DIR, which the build must keep).
fn is_set_by_cargo_for_tests(name: &str) -> bool {
    const EXACT: [&str; 8] = [
        "CARGO_MANIFEST_DIR",
        "CARGO_MANIFEST_PATH",
        "CARGO_CRATE_NAME",
        "CARGO_BIN_NAME",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_TMPDIR",
        "CARGO_RUSTC_CURRENT_DIR",
        "OUT_DIR",
    ];
    EXACT.contains(&name) || name.starts_with("CARGO_PKG_") || name.starts_with("CARGO_BIN_EXE_")
}
