//! The reconciler's Prometheus metrics, served as text on the admin listener's `/metrics`.
//!
//! | metric | type | labels | meaning |
//! | --- | --- | --- | --- |
//! | `meshcd_reconcile_duration_seconds` | histogram | — | one reconcile: fetch, and for a new revision verify, check out, load, validate, apply |
//! | `meshcd_reconcile_failures_total` | counter | reason (`fetch`, `checkout`, `validate`, `signature`) | reconciles that left the applied revision in force because of a failure |
//! | `meshcd_source_revision_info` | gauge | state (`fetched`, `applied`), revision | 1 for the last fetched and the applied commit |
//! | `meshcd_commit_to_applied_seconds` | histogram | — | from a commit's committer time to its being applied |
//! | `meshcd_canary_weight` | gauge | namespace, canary | the canary backend's weight in force (percent) |
//! | `meshcd_canary_step` | gauge | namespace, canary | the step reached (1-based; 0 before the first) |
//! | `meshcd_canary_phase` | gauge | namespace, canary, phase | 1 for the rollout's phase, 0 for the others |
//! | `meshcd_canary_analyses_total` | counter | namespace, canary, result (`pass`, `fail`, `wait`) | interval analyses |
//! | `meshcd_canary_outcomes_total` | counter | namespace, canary, outcome (`promoted`, `rolledBack`, `notWritten`) | decided rollouts, by what reached Git |
//! | `meshcd_canary_webhook_deliveries_total` | counter | result (`delivered`, `failed`) | outcome notifications, `failed` after the last retry |
//! | `meshcd_listener_connections_refused_total` | counter | listener (`admin`, `control-plane`, `webhook`) | connections closed at once because the listener held `--max-connections` |
//! | `meshcd_admin_requests_refused_total` | counter | reason (`missing_token`, `malformed_token`, `wrong_token`, `forbidden`, `cross_origin`, `review_failed`) | admin API requests refused before reaching their route |

use std::sync::{Arc, Mutex};
use std::time::Duration;

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

use crate::canary::rollout::{Phase, Rollout, Verdict};
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

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CanaryLabels {
    namespace: String,
    canary: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PhaseLabels {
    namespace: String,
    canary: String,
    phase: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AnalysisLabels {
    namespace: String,
    canary: String,
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    namespace: String,
    canary: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DeliveryLabels {
    result: &'static str,
}

/// Every phase a rollout can be in, so that the phase gauge shows each at 0 or 1.
const CANARY_PHASES: [Phase; 6] = [
    Phase::Progressing,
    Phase::Paused,
    Phase::Promoting,
    Phase::RollingBack,
    Phase::Promoted,
    Phase::RolledBack,
];

fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::Progressing => "Progressing",
        Phase::Paused => "Paused",
        Phase::Promoting => "Promoting",
        Phase::RollingBack => "RollingBack",
        Phase::Promoted => "Promoted",
        Phase::RolledBack => "RolledBack",
    }
}

/// Handles the canary controller records into; cheap to clone.
#[derive(Clone, Default)]
pub struct CanaryMetrics {
    weight: Family<CanaryLabels, Gauge>,
    step: Family<CanaryLabels, Gauge>,
    phase: Family<PhaseLabels, Gauge>,
    analyses: Family<AnalysisLabels, Counter>,
    outcomes: Family<OutcomeLabels, Counter>,
    deliveries: Family<DeliveryLabels, Counter>,
}

impl CanaryMetrics {
    /// Replaces the gauges with the rollouts that run now: a rollout that ended (its
    /// outcome is in Git again) or left the repository disappears from them.
    pub fn publish(&self, rollouts: &[Rollout]) {
        self.weight.clear();
        self.step.clear();
        self.phase.clear();
        for rollout in rollouts {
            let labels = CanaryLabels {
                namespace: rollout.namespace.clone(),
                canary: rollout.name.clone(),
            };
            self.weight
                .get_or_create(&labels)
                .set(i64::from(rollout.canary_weight));
            self.step
                .get_or_create(&labels)
                .set(rollout.step.map_or(0, |step| step as i64 + 1));
            for phase in CANARY_PHASES {
                self.phase
                    .get_or_create(&PhaseLabels {
                        namespace: rollout.namespace.clone(),
                        canary: rollout.name.clone(),
                        phase: phase_name(phase),
                    })
                    .set(i64::from(rollout.phase == phase));
            }
        }
    }

    pub fn analysed(&self, rollout: &Rollout, verdict: &Verdict) {
        let result = match verdict {
            Verdict::Pass { .. } => "pass",
            Verdict::Fail { .. } => "fail",
            Verdict::Wait { .. } => "wait",
        };
        self.analyses
            .get_or_create(&AnalysisLabels {
                namespace: rollout.namespace.clone(),
                canary: rollout.name.clone(),
                result,
            })
            .inc();
    }

    /// `outcome` is `promoted`, `rolledBack` or `notWritten`.
    pub fn decided(&self, rollout: &Rollout, outcome: &'static str) {
        self.outcomes
            .get_or_create(&OutcomeLabels {
                namespace: rollout.namespace.clone(),
                canary: rollout.name.clone(),
                outcome,
            })
            .inc();
    }

    pub fn delivered(&self, delivered: bool) {
        self.deliveries
            .get_or_create(&DeliveryLabels {
                result: if delivered { "delivered" } else { "failed" },
            })
            .inc();
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RefusalLabels {
    reason: &'static str,
}

/// What the admin listener refused; cheap to clone.
#[derive(Clone, Default)]
pub struct AdminMetrics {
    refused: Family<RefusalLabels, Counter>,
}

impl AdminMetrics {
    pub fn refused(&self, reason: crate::admin::auth::Reason) {
        self.refused
            .get_or_create(&RefusalLabels {
                reason: reason.as_str(),
            })
            .inc();
    }
}

/// The registry behind `/metrics`.
pub struct Metrics {
    registry: Registry,
    pub reconcile: ReconcileMetrics,
    pub canary: CanaryMetrics,
    pub listeners: crate::accept::ListenerMetrics,
    pub admin: AdminMetrics,
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
        let canary = CanaryMetrics::default();
        for result in ["delivered", "failed"] {
            canary
                .deliveries
                .get_or_create_owned(&DeliveryLabels { result });
        }
        registry.register(
            "meshcd_canary_weight",
            "The canary backend's weight in force, in percent",
            canary.weight.clone(),
        );
        registry.register(
            "meshcd_canary_step",
            "The step a rollout reached (1-based; 0 before the first)",
            canary.step.clone(),
        );
        registry.register(
            "meshcd_canary_phase",
            "1 for the phase a rollout is in, 0 for the others",
            canary.phase.clone(),
        );
        registry.register(
            "meshcd_canary_analyses",
            "Interval analyses of canaries, by result",
            canary.analyses.clone(),
        );
        registry.register(
            "meshcd_canary_outcomes",
            "Decided rollouts, by what reached Git",
            canary.outcomes.clone(),
        );
        registry.register(
            "meshcd_canary_webhook_deliveries",
            "Outcome notifications to the canary webhook, failed after the last retry",
            canary.deliveries.clone(),
        );
        let listeners = crate::accept::ListenerMetrics::default();
        listeners.register(&mut registry, &["admin", "control-plane"]);
        let admin = AdminMetrics::default();
        for reason in crate::admin::auth::Reason::ALL {
            admin.refused.get_or_create_owned(&RefusalLabels {
                reason: reason.as_str(),
            });
        }
        registry.register(
            "meshcd_admin_requests_refused",
            "Admin API requests refused before reaching their route, by reason",
            admin.refused.clone(),
        );
        Metrics {
            registry,
            reconcile,
            canary,
            listeners,
            admin,
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

    fn rollout(phase: Phase, step: Option<usize>, weight: u32) -> Rollout {
        let canary = crate::model::Canary {
            interval: Duration::from_secs(1),
            ..crate::model::Canary::example(&[10, 20, 30, 40, 50])
        };
        let mut rollout = Rollout::start(&canary, 10, std::time::Instant::now());
        rollout.phase = phase;
        rollout.step = step;
        rollout.canary_weight = weight;
        rollout
    }

    #[test]
    fn canary_gauges_follow_the_running_rollouts_and_counters_accumulate() {
        let metrics = Metrics::new();
        let running = rollout(Phase::Progressing, Some(2), 30);
        metrics.canary.publish(std::slice::from_ref(&running));
        metrics.canary.analysed(
            &running,
            &Verdict::Pass {
                requests: 40,
                success_rate: 100.0,
                p99_ms: Some(5.0),
            },
        );
        metrics.canary.analysed(
            &running,
            &Verdict::Wait {
                requests: 3,
                min_requests: 20,
            },
        );
        let text = metrics.encode();
        for needle in [
            r#"meshcd_canary_weight{namespace="shop",canary="api"} 30"#,
            r#"meshcd_canary_step{namespace="shop",canary="api"} 3"#,
            r#"meshcd_canary_phase{namespace="shop",canary="api",phase="Progressing"} 1"#,
            r#"meshcd_canary_phase{namespace="shop",canary="api",phase="Promoted"} 0"#,
            r#"meshcd_canary_analyses_total{namespace="shop",canary="api",result="pass"} 1"#,
            r#"meshcd_canary_analyses_total{namespace="shop",canary="api",result="wait"} 1"#,
            r#"meshcd_canary_webhook_deliveries_total{result="failed"} 0"#,
        ] {
            assert!(text.contains(needle), "{needle} missing from\n{text}");
        }

        let done = rollout(Phase::Promoted, Some(4), 100);
        metrics.canary.decided(&done, "promoted");
        metrics.canary.publish(&[done]);
        let text = metrics.encode();
        assert!(
            text.contains(
                r#"meshcd_canary_phase{namespace="shop",canary="api",phase="Promoted"} 1"#
            )
        );
        assert!(text.contains(
            r#"meshcd_canary_phase{namespace="shop",canary="api",phase="Progressing"} 0"#
        ));
        assert!(text.contains(
            r#"meshcd_canary_outcomes_total{namespace="shop",canary="api",outcome="promoted"} 1"#
        ));

        metrics.canary.publish(&[]);
        assert!(!metrics.encode().contains("meshcd_canary_weight{"));
    }
}
