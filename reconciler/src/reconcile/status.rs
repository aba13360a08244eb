//! What the reconciler reports about its source, for `GET /status` and `meshcd status`:
//! where it reads from, what it fetched and applied, and why anything was not applied.

use std::path::PathBuf;

use crate::diagnostics::Diagnostic;
use crate::source::git::Revision;

/// Why a reconcile left the applied revision in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailureReason {
    /// The remote could not be reached or refused us; the tracked ref does not exist.
    Fetch,
    /// The revision could not be read from the repository or written to scratch space.
    Checkout,
    /// The revision's config does not load or validate.
    Validate,
    /// `--verify-signatures` is on and the commit is not signed by an allowed key.
    Signature,
}

impl FailureReason {
    pub const ALL: [FailureReason; 4] = [
        FailureReason::Fetch,
        FailureReason::Checkout,
        FailureReason::Validate,
        FailureReason::Signature,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FailureReason::Fetch => "fetch",
            FailureReason::Checkout => "checkout",
            FailureReason::Validate => "validate",
            FailureReason::Signature => "signature",
        }
    }
}

/// A revision that was fetched and refused for good (it is not retried).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rejected {
    pub revision: Option<Revision>,
    pub reason: FailureReason,
    /// One line for people; validation details are in `errors`.
    pub message: String,
    /// For `validate`: every error, with file and line.
    pub errors: Vec<Diagnostic>,
}

/// The `source` of `GET /status` (camelCase, like the whole document).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SourceStatus {
    /// The local path or the remote URL, without credentials.
    pub repository: String,
    /// What `--branch`, `--tag`, `--commit` asked for (`HEAD` by default).
    pub reference: String,
    /// The full name of the ref followed, as learned from the last fetch.
    pub followed: Option<String>,
    pub path: Option<PathBuf>,
    pub verify_signatures: bool,
    pub last_fetched: Option<Revision>,
    /// When the source last answered, seconds since the epoch.
    pub fetched_at: Option<u64>,
    pub applied: Option<Revision>,
    pub applied_at: Option<u64>,
    /// The allowed signer of the applied commit, when signatures are verified.
    pub applied_signed_by: Option<String>,
    pub rejected: Option<Rejected>,
    /// The last failure to fetch or check out; cleared by the next success.
    pub last_error: Option<String>,
    pub last_error_reason: Option<FailureReason>,
    pub consecutive_failures: u32,
    /// After a failure: when the next attempt is due.
    pub retry_in_seconds: Option<f64>,
    pub suspended: bool,
    pub warnings: Vec<Diagnostic>,
    /// A valid revision held back because its roots of trust wait for proxies (a
    /// rotation step that would break connections now); applied once they have.
    pub rotation_waiting: Option<RotationHeld>,
}

/// A revision a rotation step holds back, and what it waits for.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RotationHeld {
    pub revision: Revision,
    pub message: String,
}

/// Seconds since the epoch, now.
pub fn now_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or_default()
}
