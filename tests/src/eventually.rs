//! Waiting for an effect with a deadline, never with a fixed sleep (the workspace's one
//! `eventually`, from `meshcd-testkit`).

use std::time::Duration;

pub use meshcd_testkit::eventually;

/// How long scenarios wait for an effect unless they say otherwise. Generous, because
/// two cores may be busy building and running other suites; a passing check returns at
/// once.
pub const DEADLINE: Duration = Duration::from_secs(20);
