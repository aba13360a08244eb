//! `meshcd.dev/v1alpha1` Mesh and Canary → model.

use std::time::Duration;

use serde_json::Value;

use super::{array, duration, string};
use crate::model::{
    Abort, Analysis, Canary, CanaryTarget, Delay, Fault, Identity, Mesh, MtlsMode,
    PathNormalization, RouteKind, Rule, TrafficPolicy,
};
use crate::validate::report::{Object, Reporter};

const DEFAULT_PROGRESS_DEADLINE: Duration = Duration::from_secs(600);
const DEFAULT_MIN_REQUESTS: u64 = 20;

pub fn mesh(object: &Object<'_>, reporter: &mut Reporter<'_>) -> Option<Mesh> {
    let value = &object.value;
    let mut mesh = Mesh {
        name: object.id.name.clone(),
        ..Mesh::default()
    };
    if let Some(domain) = string(value, "/spec/trustDomain") {
        mesh.trust_domain = domain;
    }
    mesh.traffic_policy = match string(value, "/spec/trafficPolicy").as_deref() {
        Some("permissive") => TrafficPolicy::Permissive,
        _ => TrafficPolicy::Deny,
    };
    mesh.mtls = match string(value, "/spec/mtls").as_deref() {
        Some("permissive") => MtlsMode::Permissive,
        _ => MtlsMode::Strict,
    };
    if let Some(mode) = string(value, "/spec/pathNormalization") {
        // The schema has already refused any other value, with its file and line.
        mesh.path_normalization = PathNormalization::parse(&mode).unwrap_or_default();
    }
    if let Some(lifetime) = duration(object, reporter, "/spec/certificateLifetime")? {
        if lifetime < Duration::from_secs(300) {
            reporter
                .error(
                    object,
                    "/spec/certificateLifetime",
                    "certificate lifetime is shorter than 5m",
                )
                .hint("workload certificates rotate at two thirds of their life; use 1h or more");
            return None;
        }
        mesh.certificate_lifetime = lifetime;
    }
    mesh.fault_injection = string(value, "/spec/faultInjection").as_deref() == Some("allowed");
    mesh.egress = string(value, "/spec/egress").map(|word| word == "allow");
    if let Some(percent) = value
        .pointer("/spec/retryBudget/percent")
        .and_then(Value::as_f64)
    {
        mesh.retry_budget_percent = percent;
    }
    if let Some(per_second) = value
        .pointer("/spec/retryBudget/minRetriesPerSecond")
        .and_then(Value::as_u64)
    {
        mesh.retry_budget_min_per_second = u32::try_from(per_second).unwrap_or(u32::MAX);
    }
    if let Some(interval) = duration(object, reporter, "/spec/canaryDefaults/interval")? {
        mesh.canary_interval = interval;
    }
    if let Some(threshold) = value
        .pointer("/spec/canaryDefaults/failureThreshold")
        .and_then(Value::as_u64)
    {
        mesh.canary_failure_threshold = threshold as u32;
    }
    Some(mesh)
}

/// A Fault; whether the Mesh allows it is checked across documents (`semantic`).
pub fn fault(object: &Object<'_>, reporter: &mut Reporter<'_>) -> Option<Fault> {
    let value = &object.value;
    let namespace = object.id.namespace.clone().unwrap_or_default();
    let abort = value.pointer("/spec/abort").map(|abort| Abort {
        percent: abort["percent"].as_f64().unwrap_or_default(),
        status: abort["httpStatus"]
            .as_u64()
            .and_then(|status| u16::try_from(status).ok())
            .unwrap_or_default(),
    });
    let delay = duration(object, reporter, "/spec/delay/fixedDelay")?.map(|duration| Delay {
        percent: value
            .pointer("/spec/delay/percent")
            .and_then(Value::as_f64)
            .unwrap_or_default(),
        duration,
    });
    if abort.is_none() && delay.is_none() {
        reporter
            .error(object, "/spec", "the Fault injects nothing: give `abort`, `delay` or both")
            .hint("`abort: {percent: 10, httpStatus: 503}` or `delay: {percent: 50, fixedDelay: 200ms}`");
        return None;
    }
    let sources = value
        .pointer("/spec/sources")
        .and_then(Value::as_array)
        .map(|sources| {
            sources
                .iter()
                .map(|source| Identity {
                    namespace: source["namespace"]
                        .as_str()
                        .map_or_else(|| namespace.clone(), str::to_string),
                    service_account: source["name"].as_str().unwrap_or_default().to_string(),
                })
                .collect()
        })
        .unwrap_or_default();
    let routes = array(value, "/spec/routes")
        .iter()
        .map(|route| Rule {
            kind: RouteKind::Http,
            name: route["name"].as_str().unwrap_or_default().to_string(),
            matches: route["matches"].as_array().map(|names| {
                names
                    .iter()
                    .filter_map(|name| name.as_str().map(str::to_string))
                    .collect()
            }),
        })
        .collect();
    Some(Fault {
        name: object.id.name.clone(),
        destination: string(value, "/spec/destination/name").unwrap_or_default(),
        namespace,
        sources,
        routes,
        abort,
        delay,
    })
}

/// A Canary before the Mesh's canary defaults are known.
#[derive(Debug, Clone)]
pub struct CanaryDraft {
    pub canary: Canary,
    pub interval: Option<Duration>,
    pub failure_threshold: Option<u32>,
}

impl CanaryDraft {
    pub fn finish(self, mesh: &Mesh) -> Canary {
        let mut canary = self.canary;
        canary.interval = self.interval.unwrap_or(mesh.canary_interval);
        canary.analysis.failure_threshold = self
            .failure_threshold
            .unwrap_or(mesh.canary_failure_threshold);
        canary
    }
}

pub fn canary(object: &Object<'_>, reporter: &mut Reporter<'_>) -> Option<CanaryDraft> {
    let value = &object.value;
    let target = target(object, reporter)?;
    let weights = schedule(object, reporter)?;
    let interval = duration(object, reporter, "/spec/interval")?;
    if interval == Some(Duration::ZERO) {
        reporter.error(
            object,
            "/spec/interval",
            "interval must be longer than zero",
        );
        return None;
    }
    let progress_deadline =
        duration(object, reporter, "/spec/progressDeadline")?.unwrap_or(DEFAULT_PROGRESS_DEADLINE);
    if let Some(interval) = interval
        && progress_deadline < interval
    {
        reporter
            .error(
                object,
                "/spec/progressDeadline",
                "progressDeadline is shorter than one interval, so no step could ever advance",
            )
            .hint("make progressDeadline several intervals long");
        return None;
    }
    let success_rate_min = value
        .pointer("/spec/analysis/successRate/min")
        .and_then(Value::as_f64);
    if success_rate_min.is_some_and(|min| !(0.0..=100.0).contains(&min)) {
        reporter.error(
            object,
            "/spec/analysis/successRate/min",
            "successRate.min is a percentage between 0 and 100",
        );
        return None;
    }
    let latency_p99_max = duration(object, reporter, "/spec/analysis/latencyP99/max")?;
    let failure_threshold = value
        .pointer("/spec/analysis/failureThreshold")
        .and_then(Value::as_u64)
        .map(|threshold| threshold as u32);
    if failure_threshold == Some(0) {
        reporter.error(
            object,
            "/spec/analysis/failureThreshold",
            "failureThreshold must be at least 1",
        );
        return None;
    }
    let canary = Canary {
        name: object.id.name.clone(),
        namespace: object.id.namespace.clone().unwrap_or_default(),
        target,
        stable: string(value, "/spec/stable").unwrap_or_default(),
        canary: string(value, "/spec/canary").unwrap_or_default(),
        weights,
        interval: Duration::ZERO,
        progress_deadline,
        analysis: Analysis {
            success_rate_min,
            latency_p99_max,
            min_requests: value
                .pointer("/spec/analysis/minRequests")
                .and_then(Value::as_u64)
                .unwrap_or(DEFAULT_MIN_REQUESTS),
            failure_threshold: 0,
        },
        status: value
            .get("status")
            .filter(|status| !status.is_null())
            .cloned(),
    };
    Some(CanaryDraft {
        canary,
        interval,
        failure_threshold,
    })
}

/// What the Canary drives: exactly one of `trafficSplit` and `httpRoute`.
fn target(object: &Object<'_>, reporter: &mut Reporter<'_>) -> Option<CanaryTarget> {
    let value = &object.value;
    match (
        string(value, "/spec/trafficSplit"),
        value.pointer("/spec/httpRoute"),
    ) {
        (Some(split), None) => Some(CanaryTarget::TrafficSplit(split)),
        (None, Some(route)) => Some(CanaryTarget::HttpRoute {
            name: string(route, "/name").unwrap_or_default(),
            rule: string(route, "/rule"),
        }),
        (Some(_), Some(_)) => {
            reporter
                .error(
                    object,
                    "/spec/httpRoute",
                    "a Canary drives either a trafficSplit or an httpRoute, not both",
                )
                .hint("keep the one whose weights the rollout should shift");
            None
        }
        (None, None) => {
            reporter
                .error(object, "/spec", "the Canary names neither a trafficSplit nor an httpRoute")
                .hint("`trafficSplit: api`, or `httpRoute: {name: api}` for an HTTPRoute's weighted backendRefs");
            None
        }
    }
}

/// The canary weight at each step: `{stepWeight, maxWeight}` or an explicit `weights` list.
///
/// Long because each way the two forms can be wrong gets its own diagnostic, pointing at
/// the field to fix.
fn schedule(object: &Object<'_>, reporter: &mut Reporter<'_>) -> Option<Vec<u32>> {
    let value = &object.value;
    let steps = value.pointer("/spec/steps");
    let listed = steps
        .and_then(|steps| steps.get("weights"))
        .or_else(|| value.pointer("/spec/weights"));
    let step_weight = steps
        .and_then(|steps| steps.get("stepWeight"))
        .and_then(Value::as_i64);
    let max_weight = steps
        .and_then(|steps| steps.get("maxWeight"))
        .and_then(Value::as_i64);
    let pointer_of_list = if steps.and_then(|steps| steps.get("weights")).is_some() {
        "/spec/steps/weights"
    } else {
        "/spec/weights"
    };

    if listed.is_some() && (step_weight.is_some() || max_weight.is_some()) {
        reporter
            .error(object, "/spec/steps", "give either stepWeight/maxWeight or a weights list, not both")
            .hint("`steps: { stepWeight: 10, maxWeight: 50 }` or `steps: { weights: [5, 10, 25, 50] }`");
        return None;
    }
    if let Some(list) = listed {
        let weights: Vec<i64> = list
            .as_array()
            .map(|items| items.iter().filter_map(Value::as_i64).collect())
            .unwrap_or_default();
        if weights.is_empty() {
            reporter
                .error(object, pointer_of_list, "the weights list is empty")
                .hint("list the canary weight of each step, e.g. [5, 10, 25, 50]");
            return None;
        }
        for (index, pair) in weights.windows(2).enumerate() {
            if pair[1] <= pair[0] {
                reporter
                    .error(
                        object,
                        &format!("{pointer_of_list}/{}", index + 1),
                        format!(
                            "step weights must increase, but {} follows {}",
                            pair[1], pair[0]
                        ),
                    )
                    .hint("each step sends more traffic to the canary than the one before");
                return None;
            }
        }
        if let Some((index, weight)) = weights
            .iter()
            .enumerate()
            .find(|(_, weight)| !(1..=100).contains(*weight))
        {
            reporter.error(
                object,
                &format!("{pointer_of_list}/{index}"),
                format!("step weight {weight} is outside 1..=100 (a percentage)"),
            );
            return None;
        }
        return Some(weights.into_iter().map(|weight| weight as u32).collect());
    }
    match (step_weight, max_weight) {
        (Some(step), Some(max)) => {
            if !(1..=100).contains(&step) {
                reporter.error(
                    object,
                    "/spec/steps/stepWeight",
                    format!("stepWeight {step} is outside 1..=100 (a percentage)"),
                );
                return None;
            }
            if !(1..=100).contains(&max) || max < step {
                reporter
                    .error(object, "/spec/steps/maxWeight", format!("maxWeight {max} must be between stepWeight ({step}) and 100"))
                    .hint("the canary goes stepWeight, 2×stepWeight, … up to maxWeight, then promotes");
                return None;
            }
            let mut weights: Vec<u32> = (1..)
                .map(|n| (n * step) as u32)
                .take_while(|w| *w as i64 <= max)
                .collect();
            if weights.last().copied() != Some(max as u32) {
                weights.push(max as u32);
            }
            Some(weights)
        }
        _ => {
            reporter
                .error(object, "/spec/steps", "the canary has no schedule")
                .hint("add `steps: { stepWeight: 10, maxWeight: 50 }` or `steps: { weights: [5, 10, 25, 50] }`");
            None
        }
    }
}
