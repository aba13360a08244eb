//! The canary controller's Prometheus families (see `crate::metrics` for the catalogue).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::rollout::{Phase, Rollout, Verdict};

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

    /// The families, registered in `registry`.
    pub fn register(registry: &mut Registry) -> Self {
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
        canary
    }
}
