//! One look at the source, off the async runtime: fetch and resolve; for a new revision,
//! verify its signature, check it out, load and validate it. Nothing here applies
//! anything: the loop decides from the outcome.

use std::path::PathBuf;
use std::sync::Arc;

use super::status::FailureReason;
use crate::diagnostics::{Diagnostic, Severity};
use crate::load::load_path;
use crate::model::Config;
use crate::source::Source;
use crate::source::git::{Revision, Written};
use crate::source::signatures::{AllowedSigners, SignatureError};
use crate::validate::validate;

/// What the reconciler reads a revision with.
#[derive(Clone)]
pub struct Evaluation {
    pub source: Arc<Source>,
    pub subpath: Option<PathBuf>,
    /// Where revisions are checked out, one folder at a time.
    pub scratch: PathBuf,
    pub signers: Option<Arc<AllowedSigners>>,
    /// What the checkout folder holds, so the next revision rewrites only what changed;
    /// `None` until a checkout completed (and after one failed): then it is written whole.
    pub written: Arc<std::sync::Mutex<Option<Written>>>,
}

/// The revision the source points at, and the ref that led there.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub revision: Revision,
    pub followed: Option<String>,
}

pub enum Outcome {
    /// The revision seen last time: nothing more was read.
    Unchanged(Fetched),
    Valid {
        fetched: Fetched,
        config: Box<Config>,
        warnings: Vec<Diagnostic>,
        signed_by: Option<String>,
    },
    /// Refused for good: its content or its signature will not change.
    Rejected {
        fetched: Fetched,
        reason: FailureReason,
        message: String,
        errors: Vec<Diagnostic>,
    },
}

/// A failure worth retrying (the remote may come back, the disk may free up).
#[derive(Debug)]
pub struct Failure {
    pub reason: FailureReason,
    pub message: String,
}

impl Evaluation {
    pub fn evaluate(&self, last_seen: Option<&str>) -> Result<Outcome, Failure> {
        let revision = self.source.update().map_err(|error| Failure {
            reason: FailureReason::Fetch,
            message: error.to_string(),
        })?;
        let fetched = Fetched {
            followed: self.source.reference_name(),
            revision,
        };
        if last_seen == Some(fetched.revision.id.as_str()) {
            return Ok(Outcome::Unchanged(fetched));
        }
        let signed_by = match self.verify(&fetched.revision)? {
            Ok(signed_by) => signed_by,
            Err(error) => {
                return Ok(Outcome::Rejected {
                    message: format!(
                        "commit {} is not accepted: {error}",
                        short(&fetched.revision.id)
                    ),
                    fetched,
                    reason: FailureReason::Signature,
                    errors: Vec::new(),
                });
            }
        };
        self.read(&fetched, signed_by)
    }

    /// Checks `revision` out into the one checkout folder, rewriting only what changed
    /// since the last checkout there.
    fn checkout(&self, revision: &str, written: &mut Option<Written>) -> Result<PathBuf, Failure> {
        let checkout = self.scratch.join("tree");
        let previous = match written.take() {
            Some(previous) => previous,
            None => {
                // Whatever a failed or older checkout left there goes.
                let _ = std::fs::remove_dir_all(&checkout);
                Written::default()
            }
        };
        let now = self
            .source
            .update_checkout(revision, &checkout, &previous)
            .map_err(|error| Failure {
                reason: FailureReason::Checkout,
                message: error.to_string(),
            })?;
        *written = Some(now);
        Ok(checkout)
    }

    /// `Ok(Ok(signer))` when verified (or verification is off), `Ok(Err(why))` when the
    /// commit is refused, `Err` when the commit could not be read.
    fn verify(
        &self,
        revision: &Revision,
    ) -> Result<Result<Option<String>, SignatureError>, Failure> {
        let Some(signers) = &self.signers else {
            return Ok(Ok(None));
        };
        let signed = self
            .source
            .signature(&revision.id)
            .map_err(|error| Failure {
                reason: FailureReason::Checkout,
                message: error.to_string(),
            })?;
        Ok(match signed {
            None => Err(SignatureError::Unsigned),
            Some(signed) => signers
                .verify(&signed.signature, &signed.signed_data)
                .map(Some),
        })
    }

    fn read(&self, fetched: &Fetched, signed_by: Option<String>) -> Result<Outcome, Failure> {
        // Held until the files are read: nobody rewrites the folder meanwhile.
        let mut written = self.written.lock().unwrap_or_else(|e| e.into_inner());
        let checkout = self.checkout(&fetched.revision.id, &mut written)?;
        let root = match &self.subpath {
            Some(subpath) => checkout.join(subpath),
            None => checkout.to_path_buf(),
        };
        let loaded = match load_path(&root) {
            Ok(loaded) => loaded,
            Err(error) => {
                return Ok(rejected_for_validation(
                    fetched.clone(),
                    vec![Diagnostic {
                        severity: Severity::Error,
                        file: PathBuf::from("."),
                        line: 1,
                        column: 1,
                        object: None,
                        message: error.to_string(),
                        hint: None,
                    }],
                ));
            }
        };
        let validated = validate(&loaded);
        Ok(match validated.config {
            Some(config) => Outcome::Valid {
                fetched: fetched.clone(),
                config: Box::new(config),
                warnings: validated
                    .diagnostics
                    .0
                    .into_iter()
                    .filter(|d| d.severity == Severity::Warning)
                    .collect(),
                signed_by,
            },
            None => rejected_for_validation(
                fetched.clone(),
                validated.diagnostics.errors().cloned().collect(),
            ),
        })
    }
}

fn rejected_for_validation(fetched: Fetched, errors: Vec<Diagnostic>) -> Outcome {
    let message = match errors.first() {
        Some(first) => format!(
            "commit {} is invalid: {}:{}: {}{}",
            short(&fetched.revision.id),
            first.file.display(),
            first.line,
            first.message,
            match errors.len() {
                1 => String::new(),
                n => format!(" (and {} more)", n - 1),
            }
        ),
        None => format!("commit {} is invalid", short(&fetched.revision.id)),
    };
    Outcome::Rejected {
        fetched,
        reason: FailureReason::Validate,
        message,
        errors,
    }
}

fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}
