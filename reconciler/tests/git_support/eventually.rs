//! Waiting for an effect with a deadline, never with a fixed sleep (the workspace's one
//! `eventually`, from `meshcd-testkit`).

use std::time::Duration;

pub use meshcd_testkit::eventually;

/// Generous: two cores may be busy building and running other suites. A passing check
/// returns at once.
pub const DEADLINE: Duration = Duration::from_secs(30);
