//! The reconciler's Prometheus metrics, served as text on the admin listener's `/metrics`.
//!
//! | metric | type | labels | meaning |
//! | --- | --- | --- | --- |
//! | `meshcd_reconcile_duration_seconds` | histogram | — | one reconcile: fetch, and for a new revision verify, check out, load, validate, apply |
//! | `meshcd_reconcile_failures_total` | counter | reason (`fetch`, `checkout`, `validate`, `signature`) | reconciles that left the applied revision in force because of a failure |
//! | `meshcd_source_revision_info` | gauge | state (`fetched`, `applied`), revision | 1 for the last fetched and the applied commit |
//! | `meshcd_commit_to_applied_seconds` | histogram | — | from a commit's committer time to its being applied |

use std::sync::{Arc, Mutex};
use std::time::Duration;

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

use crate::reconcile::FailureReason;

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
}

/// The registry behind `/metrics`.
pub struct Metrics {
    registry: Registry,
    pub reconcile: ReconcileMetrics,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::default();
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
        Metrics {
            registry,
            reconcile,
        }
    }

    /// The OpenMetrics text exposition.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_is_exposed_with_failures_at_zero() {
        let metrics = Metrics::new();
        let text = metrics.encode();
        for needle in [
            "meshcd_reconcile_duration_seconds_bucket",
            "meshcd_reconcile_failures_total{reason=\"signature\"} 0",
            "meshcd_commit_to_applied_seconds_count 0",
        ] {
            assert!(text.contains(needle), "{needle} missing from\n{text}");
        }
    }

    #[test]
    fn revision_info_follows_the_fetched_and_applied_commits() {
        let metrics = Metrics::new();
        metrics.reconcile.fetched("aaa");
        metrics.reconcile.applied("aaa", 0);
        metrics.reconcile.fetched("bbb");
        metrics.reconcile.failed(FailureReason::Validate);
        let text = metrics.encode();
        assert!(text.contains(r#"meshcd_source_revision_info{state="fetched",revision="bbb"} 1"#));
        assert!(text.contains(r#"meshcd_source_revision_info{state="applied",revision="aaa"} 1"#));
        assert!(!text.contains(r#"revision="aaa",state="fetched""#));
        assert!(!text.contains(r#"{state="fetched",revision="aaa"}"#));
        assert!(text.contains(r#"meshcd_reconcile_failures_total{reason="validate"} 1"#));
    }
}
