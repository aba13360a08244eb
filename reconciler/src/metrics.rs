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

use prometheus_client::registry::Registry;

use crate::accept::ListenerMetrics;
use crate::admin::metrics::AdminMetrics;
use crate::canary::metrics::CanaryMetrics;
use crate::reconcile::metrics::ReconcileMetrics;

/// The registry behind `/metrics`, and the handles each part records into. Each part
/// defines its own families; this module only puts them in one registry.
pub struct Metrics {
    registry: Registry,
    pub reconcile: ReconcileMetrics,
    pub canary: CanaryMetrics,
    pub listeners: ListenerMetrics,
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
        let reconcile = ReconcileMetrics::register(&mut registry);
        let canary = CanaryMetrics::register(&mut registry);
        let listeners = ListenerMetrics::default();
        listeners.register(&mut registry, &["admin", "control-plane"]);
        let admin = AdminMetrics::register(&mut registry);
        Metrics {
            registry,
            reconcile,
            canary,
            listeners,
            admin,
        }
    }

    /// The exposition as the admin API serves it, without knowing this registry.
    pub fn exposition(
        self: &std::sync::Arc<Self>,
    ) -> std::sync::Arc<dyn Fn() -> String + Send + Sync> {
        let metrics = self.clone();
        std::sync::Arc::new(move || metrics.encode())
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
    use crate::canary::rollout::{Phase, Rollout, Verdict};
    use crate::reconcile::FailureReason;
    use std::time::Duration;

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
