//! Which destinations a diff expands: only those whose inbound rules or onboarded sources
//! differ between BASE and HEAD. A pull request usually edits a handful of policies;
//! expanding every destination made the whole diff take 12 s and 1.2 GiB on the
//! 10,000-service benchmark repository (`scripts/bench-diff.sh`).

use std::collections::{BTreeSet, HashMap};

use meshcd_schemas::proto;

use super::AccessSet;
use crate::compile::access::RuleIndex;
use crate::model::{Config, Identity, Origin, TrafficPolicy, TrafficTarget};

/// The two access sets worth comparing: BASE's and HEAD's, each restricted to the
/// destinations whose inbound rules (or onboarded sources) differ between the two. A pull
/// request usually edits a handful of policies; expanding the rules of every untouched
/// destination too would cost seconds and a gigabyte on a 10,000-service repository.
pub fn compared(base: &Config, head: &Config) -> (AccessSet, AccessSet) {
    let smi = |config: &Config| config.mesh.traffic_policy == TrafficPolicy::Deny;
    if !(smi(base) && smi(head)) {
        // Permissive on either side: its grants cover (or are covered by) every
        // destination, and the permissive side has no per-destination rules to skip.
        return (AccessSet::of(base, None), AccessSet::of(head, None));
    }
    let (base_index, head_index) = (RuleIndex::new(base), RuleIndex::new(head));
    let (base_targets, head_targets) = (targets_by_name(base), targets_by_name(head));
    let changed: BTreeSet<&Identity> = destinations(base)
        .union(&destinations(head))
        .copied()
        .filter(|destination| {
            inbound(base, &base_index, &base_targets, destination)
                != inbound(head, &head_index, &head_targets, destination)
        })
        .collect();
    (
        AccessSet::of(base, Some(&changed)),
        AccessSet::of(head, Some(&changed)),
    )
}

/// Destinations of TrafficTargets in onboarded namespaces: without a snapshot no workload
/// elsewhere enforces (or receives) anything.
pub(super) fn destinations(config: &Config) -> BTreeSet<&Identity> {
    config
        .traffic_targets
        .iter()
        .map(|t| &t.value.destination)
        .filter(|d| config.namespaces.contains(&d.namespace))
        .collect()
}

/// TrafficTargets by `namespace/name`, the compiled rules' reference to them.
pub(super) type TargetsByName<'c> = HashMap<String, (&'c TrafficTarget, &'c Origin)>;

pub(super) fn targets_by_name(config: &Config) -> TargetsByName<'_> {
    config
        .traffic_targets
        .iter()
        .map(|t| {
            let key = format!("{}/{}", t.value.namespace, t.value.name);
            (key, (&t.value, &t.origin))
        })
        .collect()
}

/// What decides one destination's grants: its compiled rules and which of their sources
/// are onboarded (nothing when its own namespace is not).
fn inbound<'c>(
    config: &'c Config,
    index: &RuleIndex<'_>,
    targets: &TargetsByName<'c>,
    destination: &Identity,
) -> Vec<(proto::InboundRule, Vec<&'c Identity>)> {
    if !config.namespaces.contains(&destination.namespace) {
        return Vec::new();
    }
    index
        .inbound_rules(destination)
        .into_iter()
        .map(|rule| {
            let sources = targets
                .get(&rule.traffic_target)
                .map(|(target, _)| {
                    target
                        .sources
                        .iter()
                        .filter(|s| config.namespaces.contains(&s.namespace))
                        .collect()
                })
                .unwrap_or_default();
            (rule, sources)
        })
        .collect()
}
