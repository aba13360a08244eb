//! Acting on a rollout's transitions: the split's (or route's) weights in the mesh, and
//! an outcome (promotion or rollback) committed to Git, in place, in the TrafficSplit's
//! or HTTPRoute's file and the Canary's; a failed commit retried later.

use std::time::Instant;

use super::target::Target;
use super::{CanaryController, Key, NOT_IN_GIT, OUTCOME_RETRY, Unwritten, weights};
use crate::canary::rollout::{Phase, Rollout, Transition};
use crate::canary::writeback::{self, FileEdit, ObjectRef, WriteError};
use crate::model::{Canary, CanaryTarget, Config, Located};

impl CanaryController {
    /// Whether a failed outcome commit of `key` is due another try (and forgets it).
    pub(super) fn outcome_retry_due(&self, key: &Key, now: Instant) -> bool {
        let mut retries = self
            .outcome_retries
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let due = retries.get(key).is_some_and(|at| *at <= now);
        if due {
            retries.remove(key);
        }
        due
    }

    pub(super) async fn act(
        &self,
        config: &Config,
        key: &Key,
        rollout: Rollout,
        transition: Transition,
    ) {
        // A step that began before leadership was lost decides nothing: the new leader
        // resumes from the status and acts (one outcome commit, not two).
        if !self.is_leading() {
            return;
        }
        let Some(canary) = config
            .canaries
            .iter()
            .find(|c| c.value.namespace == key.0 && c.value.name == key.1)
        else {
            return;
        };
        let Some(target) = Target::of(config, &canary.value) else {
            return;
        };
        match transition {
            Transition::Nothing => {}
            Transition::SetWeight(weight) => {
                tracing::info!(canary = %format!("{}/{}", key.0, key.1), weight, "canary steps");
                self.mesh
                    .set_canary_weights(
                        &key.0,
                        &canary.value.target,
                        Some(weights(&canary.value, u64::from(weight))),
                    )
                    .await;
            }
            Transition::Promote | Transition::RollBack(_) => {
                let promoted = transition == Transition::Promote;
                let canary_weight = if promoted { 100 } else { 0 };
                self.mesh
                    .set_canary_weights(
                        &key.0,
                        &canary.value.target,
                        Some(weights(&canary.value, canary_weight)),
                    )
                    .await;
                let result = self
                    .write_outcome(canary, &target, &rollout, promoted)
                    .await;
                let written = result.clone().map_err(|unwritten| unwritten.reason);
                self.observers.decided(&rollout, promoted, &written);
                let mut rollouts = self.rollouts.lock().await;
                if let Some(current) = rollouts.get_mut(key) {
                    match result {
                        Ok(commit) => {
                            current.phase = if promoted {
                                Phase::Promoted
                            } else {
                                Phase::RolledBack
                            };
                            current.message = format!(
                                "{} (commit {})",
                                current.message,
                                writeback::short(&commit)
                            );
                            tracing::info!(canary = %format!("{}/{}", key.0, key.1), %commit, promoted, "canary outcome committed");
                        }
                        Err(Unwritten { reason, retry }) => {
                            if retry {
                                self.outcome_retries
                                    .lock()
                                    .unwrap_or_else(|p| p.into_inner())
                                    .insert(key.clone(), Instant::now() + OUTCOME_RETRY);
                            }
                            let decided = current
                                .message
                                .split(NOT_IN_GIT)
                                .next()
                                .unwrap_or_default()
                                .to_string();
                            current.message = format!("{decided}{NOT_IN_GIT}{reason}");
                            tracing::warn!(canary = %format!("{}/{}", key.0, key.1), %reason, "canary outcome not committed");
                        }
                    }
                }
            }
        }
    }

    async fn write_outcome(
        &self,
        canary: &Located<Canary>,
        target: &Target<'_>,
        rollout: &Rollout,
        promoted: bool,
    ) -> Result<String, Unwritten> {
        let writable = self.writable.clone().map_err(|reason| Unwritten {
            reason,
            retry: false,
        })?;
        // Without what an earlier failed attempt added.
        let decided = rollout.message.split(NOT_IN_GIT).next().unwrap_or_default();
        let relative = |file: &std::path::Path| match &writable.subpath {
            Some(sub) => sub.join(file),
            None => file.to_path_buf(),
        };
        let outcome = Outcome {
            target_file: relative(&target.origin().file),
            canary_file: relative(&canary.origin.file),
            target: canary.value.target.clone(),
            canary: (canary.value.namespace.clone(), canary.value.name.clone()),
            stable: canary.value.stable.clone(),
            canary_backend: canary.value.canary.clone(),
            weights: if promoted { (0, 100) } else { (100, 0) },
            status: outcome_status(rollout, promoted, decided),
        };
        let message = format!(
            "meshcd: {} canary {}/{}\n\n{}",
            if promoted { "promote" } else { "roll back" },
            canary.value.namespace,
            canary.value.name,
            decided
        );
        let guard = writeback::CanaryGuard {
            file: outcome.canary_file.clone(),
            namespace: canary.value.namespace.clone(),
            name: canary.value.name.clone(),
            base: self
                .mesh
                .applied()
                .await
                .map(|applied| applied.revision)
                .unwrap_or_default(),
        };
        tokio::task::spawn_blocking(move || {
            writable
                .publish(&outcome.edits(), &message, &guard)
                .map_err(|error| Unwritten {
                    // A newer commit changed the Canary: nothing to retry.
                    retry: !matches!(error, WriteError::Superseded(_)),
                    reason: meshcd_support::error_chain(&error),
                })
        })
        .await
        .map_err(|error| Unwritten {
            reason: error.to_string(),
            retry: true,
        })?
    }
}

/// The Canary's `status` that records an outcome in Git.
fn outcome_status(rollout: &Rollout, promoted: bool, decided: &str) -> serde_json::Value {
    serde_json::json!({
        "phase": if promoted { "Promoted" } else { "RolledBack" },
        "observedSpec": rollout.spec_hash,
        "canaryWeight": if promoted { 100 } else { 0 },
        "message": decided,
        "analysis": rollout.last_verdict,
        "lastTransitionTime": time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
    })
}

/// An outcome to commit: the split's (or route rules') final weights and the Canary's
/// status, each edited in place in its file (one edit when both are in one file).
struct Outcome {
    target_file: std::path::PathBuf,
    canary_file: std::path::PathBuf,
    /// In the Canary's namespace.
    target: CanaryTarget,
    canary: Key,
    stable: String,
    canary_backend: String,
    /// (stable, canary) weights.
    weights: (u64, u64),
    status: serde_json::Value,
}

impl Outcome {
    fn edits(self) -> Vec<FileEdit<'static>> {
        let Outcome {
            target_file,
            canary_file,
            target,
            canary,
            stable,
            canary_backend,
            weights,
            status,
        } = self;
        let namespace = canary.0.clone();
        let target_edit = move |text: &str| {
            let weights = [
                (stable.as_str(), weights.0),
                (canary_backend.as_str(), weights.1),
            ];
            let object = ObjectRef {
                kind: target.kind(),
                namespace: &namespace,
                name: target.name(),
            };
            match &target {
                CanaryTarget::TrafficSplit(_) => writeback::set_weights(text, &object, &weights),
                CanaryTarget::HttpRoute { rule, .. } => {
                    writeback::set_route_weights(text, &object, rule.as_deref(), &weights)
                }
            }
        };
        let status_edit = move |text: &str| {
            writeback::set_status(
                text,
                &ObjectRef {
                    kind: "Canary",
                    namespace: &canary.0,
                    name: &canary.1,
                },
                &status,
            )
        };
        if target_file == canary_file {
            vec![FileEdit {
                path: target_file,
                edit: Box::new(move |text: &str| status_edit(&target_edit(text)?)),
            }]
        } else {
            vec![
                FileEdit {
                    path: target_file,
                    edit: Box::new(target_edit),
                },
                FileEdit {
                    path: canary_file,
                    edit: Box::new(status_edit),
                },
            ]
        }
    }
}

/// Whether Git already holds this spec's outcome (`status` written by meshcd).
pub(super) fn outcome_in_git(canary: &Canary, hash: &str) -> bool {
    let Some(status) = &canary.status else {
        return false;
    };
    matches!(status["phase"].as_str(), Some("Promoted" | "RolledBack"))
        && status["observedSpec"].as_str() == Some(hash)
}
