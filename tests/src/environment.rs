//! Every environment variable the harness reads, in one place.
//!
//! The harness only reads the environment; scenarios get their configuration injected.

/// Set to `true` by CI. There, a missing prerequisite (iptables, root) fails a test
/// instead of skipping it, so the transparent-mode scenario cannot silently stop running.
pub const CI: &str = "CI";

/// Set to `1` when the binaries were built beforehand (`cargo build --workspace --bins`);
/// the harness then uses them as they are instead of running `cargo build` once per
/// test process.
pub const SKIP_BUILD: &str = "MESHCD_E2E_SKIP_BUILD";

/// The cargo that runs the tests; cargo sets it for test processes.
pub const CARGO: &str = "CARGO";

/// Whether the tests run in CI.
pub fn in_ci() -> bool {
    std::env::var(CI).is_ok_and(|value| value == "true" || value == "1")
}

/// Whether the harness must not build binaries itself.
pub fn skip_build() -> bool {
    std::env::var(SKIP_BUILD).is_ok_and(|value| value == "1" || value == "true")
}

/// Program to run for `cargo build`.
pub fn cargo() -> String {
    std::env::var(CARGO).unwrap_or_else(|_| "cargo".to_owned())
}
