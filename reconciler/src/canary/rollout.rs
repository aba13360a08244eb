//! One canary rollout as plain data: where it stands, and what an analysis verdict does
//! to it. No clocks or I/O here; the controller passes `now` in.

use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::control::traffic::Aggregate;
use crate::model::{Analysis, Canary, CanaryTarget};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Phase {
    Progressing,
    Paused,
    /// The outcome is decided and being committed.
    Promoting,
    RollingBack,
    /// Terminal: the outcome is in Git (or cannot be written, see `message`).
    Promoted,
    RolledBack,
}

/// What one interval's traffic says about the canary. Serialized as Kubernetes writes a
/// status (`{result: Pass, requests: 412, successRate: 100}`), not as a Rust enum.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "result", rename_all_fields = "camelCase")]
pub enum Verdict {
    /// Too little traffic to judge; the step waits.
    Wait { requests: u64, min_requests: u64 },
    Pass {
        requests: u64,
        success_rate: f64,
        p99_ms: Option<f64>,
    },
    Fail {
        metric: String,
        value: String,
        threshold: String,
    },
}

pub fn judge(analysis: &Analysis, traffic: &Aggregate) -> Verdict {
    if traffic.requests < analysis.min_requests.max(1) {
        return Verdict::Wait {
            requests: traffic.requests,
            min_requests: analysis.min_requests,
        };
    }
    let success_rate = traffic.success_rate().unwrap_or(0.0);
    if let Some(min) = analysis.success_rate_min
        && success_rate < min
    {
        return Verdict::Fail {
            metric: "successRate".into(),
            value: format!("{success_rate:.2}%"),
            threshold: format!(">= {min}%"),
        };
    }
    if let (Some(max), Some(p99)) = (analysis.latency_p99_max, traffic.p99_ms) {
        let max_ms = max.as_secs_f64() * 1000.0;
        if p99 > max_ms {
            return Verdict::Fail {
                metric: "latencyP99".into(),
                value: if p99.is_finite() {
                    format!("{p99:.0}ms")
                } else {
                    "above the largest bucket".into()
                },
                threshold: format!("<= {max_ms:.0}ms"),
            };
        }
    }
    Verdict::Pass {
        requests: traffic.requests,
        success_rate,
        p99_ms: traffic.p99_ms,
    }
}

/// A hash of what the rollout does, recorded in the outcome's status so that the same
/// canary is not run again until a commit changes it.
pub fn spec_hash(canary: &Canary) -> String {
    // A split's name alone, as before routes could be driven: the hashes in Git's
    // outcomes stay valid.
    let target = match &canary.target {
        CanaryTarget::TrafficSplit(split) => split.clone(),
        route => format!("{route:?}"),
    };
    let text = format!(
        "{}|{}|{}|{}|{:?}|{:?}|{:?}|{:?}",
        canary.namespace,
        canary.name,
        target,
        canary.stable,
        canary.weights,
        canary.interval,
        canary.progress_deadline,
        canary.analysis
    );
    hex::encode(&Sha256::digest(text.as_bytes())[..6]) + &format!("-{}", canary.canary)
}

/// One rollout as `GET /status` lists it (camelCase; the clocks stay in the process).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rollout {
    pub namespace: String,
    pub name: String,
    pub spec_hash: String,
    pub phase: Phase,
    /// Index into the schedule of the step in force; `None` before the first step.
    pub step: Option<usize>,
    /// The canary's weight in force (percent).
    pub canary_weight: u32,
    /// How many steps the schedule has (for "step n of m").
    #[serde(default)]
    pub steps: usize,
    pub failures: u32,
    /// Failed analyses that roll the canary back.
    #[serde(default)]
    pub failure_threshold: u32,
    pub last_verdict: Option<Verdict>,
    pub message: String,
    #[serde(skip, default = "Instant::now")]
    pub last_analysis: Instant,
    #[serde(skip, default = "Instant::now")]
    pub last_advance: Instant,
}

/// What the controller must do after an analysis.
#[derive(Debug, Clone, PartialEq)]
pub enum Transition {
    Nothing,
    /// Push this canary weight (percent) to the proxies.
    SetWeight(u32),
    Promote,
    RollBack(String),
}

impl Rollout {
    pub fn start(canary: &Canary, initial_canary_weight: u32, now: Instant) -> Rollout {
        Rollout {
            namespace: canary.namespace.clone(),
            name: canary.name.clone(),
            spec_hash: spec_hash(canary),
            phase: Phase::Progressing,
            step: None,
            canary_weight: initial_canary_weight,
            steps: canary.weights.len(),
            failures: 0,
            failure_threshold: canary.analysis.failure_threshold,
            last_verdict: None,
            message: "started from the weights in Git".into(),
            last_analysis: now,
            last_advance: now,
        }
    }

    /// Whether an interval has passed since the last analysis.
    pub fn due(&self, canary: &Canary, now: Instant) -> bool {
        self.phase == Phase::Progressing
            && now.duration_since(self.last_analysis) >= canary.interval
    }

    /// Applies one interval's verdict.
    pub fn analyse(&mut self, canary: &Canary, verdict: Verdict, now: Instant) -> Transition {
        self.last_analysis = now;
        self.last_verdict = Some(verdict.clone());
        match verdict {
            _ if self.step.is_none() && self.canary_weight == 0 => {
                // Git starts the canary at 0%: no traffic can reach it, so there is
                // nothing to judge and waiting would only end at the progressDeadline.
                // Whatever this first interval counted was served before 0% (a report
                // lands up to a second after the requests it counts), so it is no verdict
                // on the canary either way.
                self.advance(canary, "nothing to judge at 0%".into(), now)
            }
            Verdict::Wait {
                requests,
                min_requests,
            } => {
                let waited = now.duration_since(self.last_advance);
                if waited >= canary.progress_deadline {
                    return self.roll_back(format!(
                        "no step advanced for {} (progressDeadline): {requests} requests in the last interval, {min_requests} needed",
                        human(waited)
                    ));
                }
                self.message = format!(
                    "waiting for traffic: {requests} of {min_requests} requests in the last interval"
                );
                Transition::Nothing
            }
            Verdict::Fail {
                metric,
                value,
                threshold,
            } => {
                self.failures += 1;
                if self.failures >= canary.analysis.failure_threshold {
                    return self.roll_back(format!(
                        "{metric} {value} (threshold {threshold}), {} failed analyses",
                        self.failures
                    ));
                }
                self.message = format!(
                    "analysis failed ({metric} {value}, threshold {threshold}): {} of {}",
                    self.failures, canary.analysis.failure_threshold
                );
                Transition::Nothing
            }
            Verdict::Pass {
                success_rate,
                p99_ms,
                ..
            } => {
                let evidence = match p99_ms {
                    Some(p99) if p99.is_finite() => {
                        format!("success rate {success_rate:.2}%, p99 <= {p99:.0}ms")
                    }
                    _ => format!("success rate {success_rate:.2}%"),
                };
                self.advance(canary, evidence, now)
            }
        }
    }

    /// Moves to the next step, or promotes after the last one.
    fn advance(&mut self, canary: &Canary, evidence: String, now: Instant) -> Transition {
        let next = self.step.map_or(0, |step| step + 1);
        self.last_advance = now;
        match canary.weights.get(next) {
            Some(weight) => {
                self.step = Some(next);
                self.canary_weight = *weight;
                self.message = format!(
                    "step {} of {}: canary at {weight}% ({evidence})",
                    next + 1,
                    canary.weights.len()
                );
                Transition::SetWeight(*weight)
            }
            None => {
                self.phase = Phase::Promoting;
                self.canary_weight = 100;
                self.message =
                    format!("promoted after {} steps ({evidence})", canary.weights.len());
                Transition::Promote
            }
        }
    }

    /// An interval whose traffic could not be read (the metric source is down or
    /// answered with an error). It waits: it never passes, because nothing says the
    /// canary is healthy, and never counts as a failed analysis, because nothing says it
    /// is not. The progressDeadline still bounds the wait, so a long outage ends in a
    /// rollback to the stable backend rather than a split left half-way.
    pub fn unmeasured(&mut self, canary: &Canary, reason: &str, now: Instant) -> Transition {
        self.last_analysis = now;
        // Recorded as a wait with nothing counted, so metrics and logs classify it as one;
        // the message says why.
        self.last_verdict = Some(Verdict::Wait {
            requests: 0,
            min_requests: canary.analysis.min_requests,
        });
        let waited = now.duration_since(self.last_advance);
        if waited >= canary.progress_deadline {
            return self.roll_back(format!(
                "no step advanced for {} (progressDeadline): the metric source is unavailable: {reason}",
                human(waited)
            ));
        }
        self.message = format!("waiting: the metric source is unavailable: {reason}");
        Transition::Nothing
    }

    /// Holds the weights in force: no analysis until [`Rollout::resume`].
    pub fn pause(&mut self, message: String) {
        self.phase = Phase::Paused;
        self.message = message;
    }

    /// Runs again; the next step is an interval away from now.
    pub fn resume(&mut self, message: String) {
        self.phase = Phase::Progressing;
        self.last_advance = Instant::now();
        self.message = message;
    }

    /// An operator's `meshcd canary promote` / `abort`.
    pub fn force(&mut self, promote: bool) -> Transition {
        if promote {
            self.phase = Phase::Promoting;
            self.canary_weight = 100;
            self.message = "promoted by an operator".into();
            Transition::Promote
        } else {
            self.roll_back("aborted by an operator".into())
        }
    }

    fn roll_back(&mut self, reason: String) -> Transition {
        self.phase = Phase::RollingBack;
        self.canary_weight = 0;
        self.message = format!("rolled back: {reason}");
        Transition::RollBack(reason)
    }
}

fn human(duration: Duration) -> String {
    if duration >= Duration::from_secs(60) {
        format!("{}m{}s", duration.as_secs() / 60, duration.as_secs() % 60)
    } else {
        format!("{:.1}s", duration.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canary() -> Canary {
        let mut canary = Canary::example(&[10, 50]);
        canary.analysis.latency_p99_max = Some(Duration::from_millis(500));
        canary.analysis.failure_threshold = 2;
        canary
    }

    fn traffic(requests: u64, failures: u64, p99_ms: f64) -> Aggregate {
        Aggregate {
            requests,
            failures,
            p50_ms: None,
            p99_ms: Some(p99_ms),
        }
    }

    #[test]
    fn healthy_intervals_step_through_the_schedule_then_promote() {
        let canary = canary();
        let start = Instant::now();
        let mut rollout = Rollout::start(&canary, 10, start);
        let verdict = judge(&canary.analysis, &traffic(100, 0, 25.0));
        assert_eq!(
            rollout.analyse(&canary, verdict.clone(), start + canary.interval),
            Transition::SetWeight(10)
        );
        assert_eq!(
            rollout.analyse(&canary, verdict.clone(), start + canary.interval * 2),
            Transition::SetWeight(50)
        );
        assert_eq!(
            rollout.analyse(&canary, verdict, start + canary.interval * 3),
            Transition::Promote
        );
        assert_eq!(rollout.phase, Phase::Promoting);
    }

    #[test]
    fn failures_up_to_the_threshold_roll_back() {
        let canary = canary();
        let start = Instant::now();
        let mut rollout = Rollout::start(&canary, 10, start);
        let failing = judge(&canary.analysis, &traffic(100, 5, 25.0));
        assert!(matches!(failing, Verdict::Fail { ref metric, .. } if metric == "successRate"));
        assert_eq!(
            rollout.analyse(&canary, failing.clone(), start),
            Transition::Nothing
        );
        assert!(
            matches!(rollout.analyse(&canary, failing, start), Transition::RollBack(reason) if reason.contains("successRate 95.00%"))
        );
        assert_eq!(rollout.canary_weight, 0);
    }

    #[test]
    fn slow_responses_fail_the_latency_check() {
        let verdict = judge(&canary().analysis, &traffic(100, 0, 1000.0));
        assert!(matches!(verdict, Verdict::Fail { ref metric, .. } if metric == "latencyP99"));
    }

    #[test]
    fn too_little_traffic_waits_until_the_progress_deadline() {
        let canary = canary();
        let start = Instant::now();
        let mut rollout = Rollout::start(&canary, 10, start);
        let quiet = judge(&canary.analysis, &traffic(3, 0, 5.0));
        assert!(matches!(quiet, Verdict::Wait { .. }));
        assert_eq!(
            rollout.analyse(&canary, quiet.clone(), start + Duration::from_secs(30)),
            Transition::Nothing
        );
        assert!(
            matches!(rollout.analyse(&canary, quiet, start + Duration::from_secs(61)), Transition::RollBack(reason) if reason.contains("progressDeadline"))
        );
    }

    #[test]
    fn an_unreadable_metric_source_waits_without_failing_until_the_progress_deadline() {
        let canary = canary();
        let start = Instant::now();
        let mut rollout = Rollout::start(&canary, 10, start);
        let failing = judge(&canary.analysis, &traffic(100, 50, 25.0));
        assert_eq!(
            rollout.analyse(&canary, failing, start + Duration::from_secs(10)),
            Transition::Nothing
        );
        for seconds in [20, 30, 40, 50] {
            assert_eq!(
                rollout.unmeasured(
                    &canary,
                    "connection refused",
                    start + Duration::from_secs(seconds)
                ),
                Transition::Nothing
            );
        }
        assert_eq!(
            rollout.failures, 1,
            "an unreadable interval is no failed analysis"
        );
        assert_eq!(rollout.step, None, "nor a passed one");
        assert_eq!(
            rollout.message,
            "waiting: the metric source is unavailable: connection refused"
        );
        let deadline = rollout.unmeasured(
            &canary,
            "connection refused",
            start + Duration::from_secs(61),
        );
        assert!(
            matches!(&deadline, Transition::RollBack(reason) if reason.contains("progressDeadline") && reason.contains("connection refused")),
            "{deadline:?}"
        );
    }

    #[test]
    fn a_canary_at_zero_percent_in_git_takes_its_first_step_without_traffic() {
        let canary = canary();
        let start = Instant::now();
        let mut rollout = Rollout::start(&canary, 0, start);
        let quiet = judge(&canary.analysis, &traffic(0, 0, 0.0));
        assert_eq!(
            rollout.analyse(&canary, quiet.clone(), start + canary.interval),
            Transition::SetWeight(10)
        );
        assert_eq!(
            rollout.message,
            "step 1 of 2: canary at 10% (nothing to judge at 0%)"
        );
        // From there on, traffic is needed.
        assert_eq!(
            rollout.analyse(&canary, quiet, start + canary.interval * 2),
            Transition::Nothing
        );
        assert_eq!(rollout.step, Some(0));
    }

    #[test]
    fn a_changed_spec_has_another_hash() {
        let mut other = canary();
        other.weights = vec![5, 50];
        assert_ne!(spec_hash(&canary()), spec_hash(&other));
        assert_eq!(spec_hash(&canary()), spec_hash(&canary()));
    }
}
