//! The reconcile loop: on every trigger, fetch and resolve the tracked revision; when it
//! changed, verify, check out, load and validate it, then apply it. A revision that fails
//! any step is never applied, not even partly: the last valid one stays in force and the
//! status says why. Fetch failures are retried with a capped exponential backoff.

mod evaluate;
pub mod metrics;
mod schedule;
mod status;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Mutex, mpsc};
use tokio::time::Instant;

pub use evaluate::Evaluation;
use evaluate::{Failure, Fetched, Outcome};
pub use schedule::Schedule;
pub use status::{FailureReason, Rejected, RotationHeld, SourceStatus};

use crate::control::mesh::Mesh;
use crate::identity::roots::RootStore;
use crate::model::Config;
use crate::source::credentials::Redactor;
use crate::source::git::Revision;
use metrics::ReconcileMetrics;

/// A fetch that takes longer than this is reported as failed; the loop moves on.
const FETCH_DEADLINE: Duration = Duration::from_secs(300);

pub use crate::source::Trigger;

/// A validated revision held back while suspended.
struct Pending {
    revision: Revision,
    config: Box<Config>,
    signed_by: Option<String>,
}

pub struct Reconciler {
    pub evaluation: Evaluation,
    pub mesh: Arc<Mesh>,
    /// The CAs behind the config's MeshRootCertificates.
    pub roots: Arc<RootStore>,
    pub status: Arc<Mutex<SourceStatus>>,
    pub metrics: ReconcileMetrics,
    pub redactor: Arc<Redactor>,
}

impl Reconciler {
    pub async fn run(self, mut triggers: mpsc::Receiver<Trigger>, schedule: Schedule) {
        let mut last_seen: Option<String> = None;
        let mut pending: Option<Pending> = None;
        // A revision whose roots wait for proxies (a rotation step): applied when they
        // have said enough, unless a newer revision replaces it first.
        let mut rotating: Option<Pending> = None;
        let mut progress = self.mesh.subscribe_rotation();
        let mut failures: u32 = 0;
        let mut started = false;
        let mut next = Instant::now();
        loop {
            let trigger = tokio::select! {
                _ = tokio::time::sleep_until(next) => match (started, failures) {
                    (false, _) => Trigger::Start,
                    (true, 0) => Trigger::Poll,
                    (true, _) => Trigger::Retry,
                },
                trigger = triggers.recv() => match trigger { Some(trigger) => trigger, None => return },
                Ok(()) = progress.changed(), if rotating.is_some() => {
                    if let Some(held) = rotating.take() {
                        rotating = self.apply(held).await;
                    }
                    continue;
                }
            };
            started = true;
            let suspended = self.status.lock().await.suspended;
            if matches!(trigger, Trigger::Resume) && !suspended {
                if let Some(pending) = pending.take() {
                    rotating = self.apply(pending).await;
                }
                continue;
            }
            let began = std::time::Instant::now();
            match self.evaluate(last_seen.clone()).await {
                Err(failure) => {
                    failures += 1;
                    let delay = schedule.retry_delay(failures);
                    next = Instant::now() + delay;
                    self.failed(trigger, failure, failures, delay).await;
                }
                Ok(outcome) => {
                    failures = 0;
                    next = Instant::now() + schedule.poll_delay();
                    let fetched = match &outcome {
                        Outcome::Unchanged(fetched)
                        | Outcome::Valid { fetched, .. }
                        | Outcome::Rejected { fetched, .. } => fetched.clone(),
                    };
                    self.fetched(&fetched).await;
                    match outcome {
                        Outcome::Unchanged(_) => {}
                        Outcome::Rejected {
                            fetched,
                            reason,
                            message,
                            errors,
                        } => {
                            last_seen = Some(fetched.revision.id.clone());
                            self.rejected(fetched, reason, message, errors).await;
                        }
                        Outcome::Valid {
                            fetched,
                            config,
                            warnings,
                            signed_by,
                        } => {
                            last_seen = Some(fetched.revision.id.clone());
                            let held = Pending {
                                revision: fetched.revision,
                                config,
                                signed_by,
                            };
                            // A newer revision replaces whatever waited.
                            (pending, rotating) = self.valid(held, warnings).await;
                        }
                    }
                }
            }
            self.metrics.observe_duration(began.elapsed());
        }
    }

    /// A new valid revision: held while suspended (the first of the pair), else applied
    /// (the second: given back while its roots wait for proxies).
    async fn valid(
        &self,
        held: Pending,
        warnings: Vec<crate::diagnostics::Diagnostic>,
    ) -> (Option<Pending>, Option<Pending>) {
        let mut status = self.status.lock().await;
        status.rejected = None;
        status.warnings = warnings;
        if status.suspended {
            tracing::info!(revision = %held.revision.id, "suspended: revision validated but not applied");
            status.rotation_waiting = None;
            return (Some(held), None);
        }
        drop(status);
        (None, self.apply(held).await)
    }

    async fn evaluate(&self, last_seen: Option<String>) -> Result<Outcome, Failure> {
        let evaluation = self.evaluation.clone();
        let task = tokio::task::spawn_blocking(move || evaluation.evaluate(last_seen.as_deref()));
        match tokio::time::timeout(FETCH_DEADLINE, task).await {
            Ok(Ok(result)) => result,
            Ok(Err(join)) => Err(Failure {
                reason: FailureReason::Fetch,
                message: format!("reconcile task failed: {join}"),
            }),
            Err(_) => Err(Failure {
                reason: FailureReason::Fetch,
                message: format!("no answer within {}s", FETCH_DEADLINE.as_secs()),
            }),
        }
    }

    async fn failed(&self, trigger: Trigger, failure: Failure, failures: u32, delay: Duration) {
        let message = self.redactor.scrub(&failure.message);
        tracing::warn!(
            ?trigger,
            reason = failure.reason.as_str(),
            error = %message,
            retry_in = ?delay,
            "reconcile failed; the applied revision stays in force"
        );
        self.metrics.failed(failure.reason);
        let mut status = self.status.lock().await;
        status.last_error = Some(message);
        status.last_error_reason = Some(failure.reason);
        status.consecutive_failures = failures;
        status.retry_in_seconds = Some(delay.as_secs_f64());
    }

    async fn fetched(&self, fetched: &Fetched) {
        self.metrics.fetched(&fetched.revision.id);
        let mut status = self.status.lock().await;
        status.last_fetched = Some(fetched.revision.clone());
        status.fetched_at = Some(status::now_seconds());
        status.followed.clone_from(&fetched.followed);
        status.last_error = None;
        status.last_error_reason = None;
        status.consecutive_failures = 0;
        status.retry_in_seconds = None;
    }

    async fn rejected(
        &self,
        fetched: Fetched,
        reason: FailureReason,
        message: String,
        errors: Vec<crate::diagnostics::Diagnostic>,
    ) {
        let message = self.redactor.scrub(&message);
        tracing::warn!(revision = %fetched.revision.id, reason = reason.as_str(), "{message}; the applied revision stays in force");
        for error in errors.iter().take(5) {
            tracing::warn!(
                "{}:{}:{}: {}",
                error.file.display(),
                error.line,
                error.column,
                error.message
            );
        }
        self.metrics.failed(reason);
        self.status.lock().await.rejected = Some(Rejected {
            revision: Some(fetched.revision),
            reason,
            message,
            errors,
        });
    }

    /// Applies a validated revision; gives it back when its roots wait for proxies.
    async fn apply(&self, pending: Pending) -> Option<Pending> {
        let trust = match self
            .roots
            .resolve(pending.config.roots.iter().map(|root| &root.value))
            .await
        {
            Ok(trust) => Arc::new(trust),
            Err(error) => {
                let message = meshcd_support::error_chain(&error);
                tracing::warn!(revision = %pending.revision.id, error = %message, "the revision's roots cannot be read; the applied revision stays in force");
                self.metrics.failed(FailureReason::Validate);
                let mut status = self.status.lock().await;
                status.rotation_waiting = None;
                status.rejected = Some(Rejected {
                    revision: Some(pending.revision),
                    reason: FailureReason::Validate,
                    message,
                    errors: Vec::new(),
                });
                return None;
            }
        };
        let applied = self
            .mesh
            .apply_with_trust(
                pending.revision.id.clone(),
                (*pending.config).clone(),
                trust,
            )
            .await;
        if let Err(wait) = applied {
            let mut status = self.status.lock().await;
            if status.rotation_waiting.as_ref().map(|held| &held.message) != Some(&wait.to_string())
            {
                tracing::info!(revision = %pending.revision.id, "{wait}; the applied revision stays in force until then");
            }
            status.rotation_waiting = Some(status::RotationHeld {
                revision: pending.revision.clone(),
                message: wait.to_string(),
            });
            return Some(pending);
        }
        let Pending {
            revision,
            config: _,
            signed_by,
        } = pending;
        tracing::info!(revision = %revision.id, summary = %revision.summary, "applied revision");
        self.metrics.applied(&revision.id, revision.time);
        let mut status = self.status.lock().await;
        status.rotation_waiting = None;
        status.applied = Some(revision);
        status.applied_at = Some(status::now_seconds());
        status.applied_signed_by = signed_by;
        None
    }
}
