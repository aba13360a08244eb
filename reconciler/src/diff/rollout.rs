//! Traffic that moves: TrafficSplit weights (as percentages per backend) and Canaries
//! that start, change, stop or finish.

use std::collections::BTreeMap;

use super::{
    BackendShare, CanaryChange, CanaryEvent, CanarySummary, Options, SplitChange, keyed_changes,
};
use crate::diagnostics::{Diagnostic, ObjectId, Severity};
use crate::model::{Canary, CanaryTarget, Config, Located, TrafficSplit};
use crate::validate::convert::units::format_duration;

/// Splits by root service: two splits for one root are a validation error, so the root
/// is what clients see change, whatever the split is called.
pub fn splits(base: &Config, head: &Config) -> Vec<SplitChange> {
    fn by_root(config: &Config) -> BTreeMap<(String, String), &TrafficSplit> {
        config
            .traffic_splits
            .iter()
            .map(|s| {
                let key = (s.value.namespace.clone(), s.value.service.clone());
                (key, &s.value)
            })
            .collect()
    }
    let before = by_root(base);
    let after = by_root(head);
    let mut changes = Vec::new();
    for (root, old, new, change) in keyed_changes(&before, &after, |old, new| same_effect(old, new))
    {
        let (old, new) = (old.copied(), new.copied());
        let shares = |split: Option<&TrafficSplit>| -> Vec<(String, f64)> {
            split.map(percentages).unwrap_or_default()
        };
        let (old_shares, new_shares) = (shares(old), shares(new));
        let mut backends: Vec<BackendShare> = new_shares
            .iter()
            .map(|(service, after)| BackendShare {
                service: service.clone(),
                before: lookup(&old_shares, service),
                after: Some(*after),
            })
            .collect();
        for (service, before) in &old_shares {
            if lookup(&new_shares, service).is_none() {
                backends.push(BackendShare {
                    service: service.clone(),
                    before: Some(*before),
                    after: None,
                });
            }
        }
        let name = new.or(old).map(|s| s.name.clone()).unwrap_or_default();
        let canary = head
            .canaries
            .iter()
            .find(|c| {
                c.value.namespace == root.0
                    && c.value.target == CanaryTarget::TrafficSplit(name.clone())
            })
            .map(|c| c.value.name.clone());
        changes.push(SplitChange {
            namespace: root.0.clone(),
            service: root.1.clone(),
            name,
            change,
            backends,
            matches_before: old.map(|s| s.matches.clone()).unwrap_or_default(),
            matches_after: new.map(|s| s.matches.clone()).unwrap_or_default(),
            canary,
        });
    }
    changes
}

fn lookup(shares: &[(String, f64)], service: &str) -> Option<f64> {
    shares.iter().find(|(s, _)| s == service).map(|(_, p)| *p)
}

/// Same backends with the same proportions (compared exactly, not as rounded
/// percentages), and the same A/B matches.
fn same_effect(old: &TrafficSplit, new: &TrafficSplit) -> bool {
    let total = |split: &TrafficSplit| -> u128 {
        split.backends.iter().map(|b| u128::from(b.weight)).sum()
    };
    let (old_total, new_total) = (total(old), total(new));
    let mut old_matches = old.matches.clone();
    let mut new_matches = new.matches.clone();
    old_matches.sort();
    new_matches.sort();
    old.backends.len() == new.backends.len()
        && old_matches == new_matches
        && old.backends.iter().all(|o| {
            new.backends.iter().any(|n| {
                n.service == o.service
                    && u128::from(o.weight) * new_total == u128::from(n.weight) * old_total
            })
        })
}

/// Each backend's share of the split, in percent rounded to two decimals.
fn percentages(split: &TrafficSplit) -> Vec<(String, f64)> {
    let total: u64 = split.backends.iter().map(|b| b.weight).sum();
    split
        .backends
        .iter()
        .map(|b| {
            let percent = if total == 0 {
                0.0
            } else {
                b.weight as f64 * 100.0 / total as f64
            };
            (b.service.clone(), (percent * 100.0).round() / 100.0)
        })
        .collect()
}

pub fn canaries(base: &Config, head: &Config) -> Vec<CanaryChange> {
    let by_name = |config: &Config| -> BTreeMap<(String, String), Canary> {
        config
            .canaries
            .iter()
            .map(|c| {
                (
                    (c.value.namespace.clone(), c.value.name.clone()),
                    c.value.clone(),
                )
            })
            .collect()
    };
    let before = by_name(base);
    let after = by_name(head);
    let mut keys: Vec<&(String, String)> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut changes = Vec::new();
    for key in keys {
        let (old, new) = (before.get(key), after.get(key));
        let (event, fields) = match (old, new) {
            (None, Some(_)) => (CanaryEvent::Starts, Vec::new()),
            (Some(_), None) => (CanaryEvent::Stops, Vec::new()),
            (Some(old), Some(new)) => {
                let fields = changed_fields(old, new);
                if !fields.is_empty() {
                    (CanaryEvent::Changes, fields)
                } else if old.status != new.status {
                    (CanaryEvent::Finishes, vec!["status".into()])
                } else {
                    continue;
                }
            }
            (None, None) => continue,
        };
        changes.push(CanaryChange {
            namespace: key.0.clone(),
            name: key.1.clone(),
            event,
            before: old.map(summary),
            after: new.map(summary),
            fields,
        });
    }
    changes
}

fn changed_fields(old: &Canary, new: &Canary) -> Vec<String> {
    let mut fields = Vec::new();
    let mut check = |name: &str, differs: bool| {
        if differs {
            fields.push(name.to_string());
        }
    };
    check(
        match new.target {
            CanaryTarget::TrafficSplit(_) => "trafficSplit",
            CanaryTarget::HttpRoute { .. } => "httpRoute",
        },
        old.target != new.target,
    );
    check("stable", old.stable != new.stable);
    check("canary", old.canary != new.canary);
    check("steps", old.weights != new.weights);
    check("interval", old.interval != new.interval);
    check(
        "progressDeadline",
        old.progress_deadline != new.progress_deadline,
    );
    check("analysis", old.analysis != new.analysis);
    fields
}

fn summary(canary: &Canary) -> CanarySummary {
    CanarySummary {
        target: canary.target.clone(),
        stable: canary.stable.clone(),
        canary: canary.canary.clone(),
        weights: canary.weights.clone(),
        interval: format_duration(canary.interval),
        progress_deadline: format_duration(canary.progress_deadline),
        minimum_duration: format_duration(minimum_duration(canary)),
        success_rate_min: canary.analysis.success_rate_min,
        latency_p99_max: canary.analysis.latency_p99_max.map(format_duration),
        min_requests: canary.analysis.min_requests,
        failure_threshold: canary.analysis.failure_threshold,
        phase: canary
            .status
            .as_ref()
            .and_then(|status| status.get("phase"))
            .and_then(|phase| phase.as_str())
            .map(str::to_string),
    }
}

/// The controller (`canary::rollout`) moves one step per interval of passing analysis:
/// from the split's own weights to the first step, through every step, and from the last
/// to the promotion. So no rollout is shorter than (steps + 1) intervals.
fn minimum_intervals(canary: &Canary) -> u32 {
    u32::try_from(canary.weights.len()).map_or(u32::MAX, |steps| steps.saturating_add(1))
}

fn minimum_duration(canary: &Canary) -> std::time::Duration {
    canary.interval * minimum_intervals(canary)
}

/// A Canary that starts or changes in HEAD and cannot finish within the limit.
pub fn long_rollout_warnings(
    head: &Config,
    changes: &[CanaryChange],
    options: &Options,
) -> Vec<Diagnostic> {
    let mut warnings = Vec::new();
    for change in changes {
        if !matches!(change.event, CanaryEvent::Starts | CanaryEvent::Changes) {
            continue;
        }
        let Some(Located { origin, value }) = head
            .canaries
            .iter()
            .find(|c| c.value.namespace == change.namespace && c.value.name == change.name)
        else {
            continue;
        };
        let minimum = minimum_duration(value);
        if minimum <= options.max_rollout_duration {
            continue;
        }
        warnings.push(Diagnostic {
            severity: Severity::Warning,
            file: origin.file.clone(),
            line: origin.line,
            column: 1,
            object: Some(ObjectId {
                kind: "Canary".into(),
                namespace: Some(value.namespace.clone()),
                name: value.name.clone(),
            }),
            message: format!(
                "the rollout takes at least {} ({} intervals of {}: {} steps and the promotion), longer than {}",
                format_duration(minimum),
                minimum_intervals(value),
                format_duration(value.interval),
                value.weights.len(),
                format_duration(options.max_rollout_duration)
            ),
            hint: Some(
                "use fewer or larger steps, or a shorter interval (--max-rollout-duration sets the limit)"
                    .into(),
            ),
        });
    }
    warnings
}
