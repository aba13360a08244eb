//! The reconcile loop's Prometheus families (see `crate::metrics` for the catalogue).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

use super::FailureReason;

impl EncodeLabelValue for FailureReason {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        EncodeLabelValue::encode(&self.as_str(), encoder)
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FailureLabels {
    reason: FailureReason,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RevisionLabels {
    state: &'static str,
    revision: String,
}

/// Handles the reconcile loop records into; cheap to clone.
#[derive(Clone)]
pub struct ReconcileMetrics {
    duration: Histogram,
    failures: Family<FailureLabels, Counter>,
    revisions: Family<RevisionLabels, Gauge>,
    /// (fetched, applied): the info family is rebuilt from these on every change.
    current: Arc<Mutex<(Option<String>, Option<String>)>>,
    commit_to_applied: Histogram,
}

impl ReconcileMetrics {
    pub fn observe_duration(&self, duration: Duration) {
        self.duration.observe(duration.as_secs_f64());
    }

    pub fn failed(&self, reason: FailureReason) {
        self.failures.get_or_create(&FailureLabels { reason }).inc();
    }

    pub fn fetched(&self, revision: &str) {
        self.set(|current| current.0 = Some(revision.to_string()));
    }

    /// `commit_time` is the commit's committer time, seconds since the epoch.
    pub fn applied(&self, revision: &str, commit_time: i64) {
        self.set(|current| current.1 = Some(revision.to_string()));
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64();
        // A committer clock ahead of ours would give a negative lag.
        self.commit_to_applied
            .observe((now - commit_time as f64).max(0.0));
    }

    fn set(&self, change: impl FnOnce(&mut (Option<String>, Option<String>))) {
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        change(&mut current);
        self.revisions.clear();
        for (state, revision) in [("fetched", &current.0), ("applied", &current.1)] {
            if let Some(revision) = revision {
                self.revisions
                    .get_or_create(&RevisionLabels {
                        state,
                        revision: revision.clone(),
                    })
                    .set(1);
            }
        }
    }

    /// The families, registered in `registry`.
    pub fn register(registry: &mut Registry) -> Self {
        let reconcile = ReconcileMetrics {
            // 5 ms to about 80 s.
            duration: Histogram::new(exponential_buckets(0.005, 2.0, 15)),
            failures: Family::default(),
            revisions: Family::default(),
            current: Arc::default(),
            // 0.25 s to about 2.3 h: pushes land in seconds, but a commit may sit
            // unpushed for a while.
            commit_to_applied: Histogram::new(exponential_buckets(0.25, 2.0, 16)),
        };
        // Every reason is shown from the start, at zero, so rates need no special case.
        for reason in FailureReason::ALL {
            reconcile
                .failures
                .get_or_create_owned(&FailureLabels { reason });
        }
        registry.register_with_unit(
            "meshcd_reconcile_duration",
            "One reconcile: fetch, and for a new revision verify, check out, load, validate and apply",
            Unit::Seconds,
            reconcile.duration.clone(),
        );
        registry.register(
            "meshcd_reconcile_failures",
            "Reconciles that left the applied revision in force, by reason",
            reconcile.failures.clone(),
        );
        registry.register(
            "meshcd_source_revision_info",
            "1 for the last fetched and the applied commit",
            reconcile.revisions.clone(),
        );
        registry.register_with_unit(
            "meshcd_commit_to_applied",
            "From a commit's committer time to its being applied",
            Unit::Seconds,
            reconcile.commit_to_applied.clone(),
        );
        reconcile
    }
}
