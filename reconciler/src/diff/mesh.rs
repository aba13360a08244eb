//! Mesh-wide settings that change, with the risk a reviewer should weigh for each.

use super::MeshChange;
use crate::model::{Mesh, MtlsMode, PathNormalization, TrafficPolicy};
use crate::validate::convert::units::format_duration;

/// `egress` as written; unset, it follows the traffic policy (whose own row carries
/// the risk of opening the edge with it).
fn egress(mesh: &Mesh) -> &'static str {
    match mesh.egress {
        Some(true) => "allow",
        Some(false) => "deny",
        None => "as trafficPolicy",
    }
}

/// Long because it is a table: one row per setting, with the risk of its new value.
pub fn changes(base: &Mesh, head: &Mesh) -> Vec<MeshChange> {
    let policy = |policy: TrafficPolicy| match policy {
        TrafficPolicy::Deny => "deny",
        TrafficPolicy::Permissive => "permissive",
    };
    let mtls = |mode: MtlsMode| match mode {
        MtlsMode::Strict => "strict",
        MtlsMode::Permissive => "permissive",
    };
    let allowed = |allowed: bool| if allowed { "allowed" } else { "denied" };
    let settings: [(&str, String, String, Option<&str>); 11] = [
        ("name", base.name.clone(), head.name.clone(), None),
        (
            "trustDomain",
            base.trust_domain.clone(),
            head.trust_domain.clone(),
            Some(
                "every identity changes: certificates of the old trust domain no longer match \
                 any rule until the proxies rotate them",
            ),
        ),
        (
            "trafficPolicy",
            policy(base.traffic_policy).into(),
            policy(head.traffic_policy).into(),
            (head.traffic_policy == TrafficPolicy::Permissive).then_some(
                "every meshed workload may call every other: TrafficTargets no longer restrict anything",
            ),
        ),
        (
            "mtls",
            mtls(base.mtls).into(),
            mtls(head.mtls).into(),
            (head.mtls == MtlsMode::Permissive).then_some(
                "destinations accept plaintext from clients outside the mesh (identity \
                 \"unauthenticated\")",
            ),
        ),
        (
            "pathNormalization",
            base.path_normalization.as_str().into(),
            head.path_normalization.as_str().into(),
            (head.path_normalization == PathNormalization::None).then_some(
                "rules match paths as sent: a path an app resolves differently (encoded \
                 characters, repeated slashes) is judged on its raw form",
            ),
        ),
        (
            "egress",
            egress(base).into(),
            egress(head).into(),
            (head.egress == Some(true)).then_some(
                "every meshed workload may call any host outside the mesh: Egress policies no \
                 longer restrict anything",
            ),
        ),
        (
            "faultInjection",
            allowed(base.fault_injection).into(),
            allowed(head.fault_injection).into(),
            head.fault_injection.then_some(
                "Faults may be committed: a commit can make calls fail or slow down on purpose",
            ),
        ),
        (
            "retryBudget",
            format!(
                "{}% + {}/s",
                base.retry_budget_percent, base.retry_budget_min_per_second
            ),
            format!(
                "{}% + {}/s",
                head.retry_budget_percent, head.retry_budget_min_per_second
            ),
            None,
        ),
        (
            "certificateLifetime",
            format_duration(base.certificate_lifetime),
            format_duration(head.certificate_lifetime),
            None,
        ),
        (
            "canaryDefaults.interval",
            format_duration(base.canary_interval),
            format_duration(head.canary_interval),
            None,
        ),
        (
            "canaryDefaults.failureThreshold",
            base.canary_failure_threshold.to_string(),
            head.canary_failure_threshold.to_string(),
            None,
        ),
    ];
    settings
        .into_iter()
        .filter(|(_, before, after, _)| before != after)
        .map(|(setting, before, after, risk)| MeshChange {
            setting: setting.into(),
            before,
            after,
            risk: risk.map(str::to_string),
        })
        .collect()
}
