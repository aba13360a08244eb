//! The effective difference between two validated configs, as a reviewer of a config-repo
//! pull request needs it: who may newly call whom (or no longer), which split weights
//! move, which namespaces join or leave, which canaries start, change or stop, which
//! mesh-wide settings, routes and policies change, and the risky patterns among them.
//!
//! Pure: `diff(&base, &head, &Options, live) -> ChangeSet`, where `live` is what a running
//! reconciler reported (plain data, see `live`). `meshcd diff` runs load → validate on both
//! revisions, reads the live context, and renders a `Report` (see `render`).

pub mod access;
mod access_rows;
mod faults;
#[cfg(test)]
mod ingress_tests;
pub mod live;
mod mesh;
pub mod policies;
pub mod render;
mod rollout;
pub mod routes;
mod rows;

pub use access_rows::{
    AccessChanges, AccessRow, GrantChange, HeaderMatch, Peer, Ports, Reach, Traffic,
};

use std::fmt;
use std::time::Duration;

use serde::Serialize;

use crate::diagnostics::Diagnostics;
use crate::model::{CanaryTarget, Config};

/// Thresholds of the risky-pattern warnings.
#[derive(Debug, Clone)]
pub struct Options {
    /// A canary whose shortest possible rollout is longer than this is flagged.
    pub max_rollout_duration: Duration,
    /// A destination that this many sources (or more) may send any request to is flagged.
    pub max_unrestricted_sources: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_rollout_duration: Duration::from_secs(3600),
            max_unrestricted_sources: 3,
        }
    }
}

/// Everything HEAD changes in effect relative to BASE.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeSet {
    pub access: AccessChanges,
    pub splits: Vec<SplitChange>,
    pub namespaces: NamespaceChanges,
    pub canaries: Vec<CanaryChange>,
    pub mesh: Vec<MeshChange>,
    /// Gateway API routes added, removed or changed (left out of JSON when none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<routes::RouteChange>,
    /// Retry, UpstreamTrafficSetting and Fault policies added, removed or changed (left
    /// out of JSON when none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<policies::PolicyChange>,
    /// Risky patterns HEAD introduces, located at the HEAD object that causes them.
    pub warnings: Diagnostics,
    /// What the running mesh says about HEAD, with `--status-url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live: Option<live::LiveFindings>,
}

impl ChangeSet {
    pub fn is_empty(&self) -> bool {
        self.access.is_empty()
            && self.splits.is_empty()
            && self.namespaces.joined.is_empty()
            && self.namespaces.left.is_empty()
            && self.canaries.is_empty()
            && self.mesh.is_empty()
            && self.routes.is_empty()
            && self.policies.is_empty()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Change {
    Added,
    Removed,
    Changed,
}

/// Every key of `before` or `after`, in order, with its value on each side and how it
/// changed; a key whose two values are `same` is left out.
fn keyed_changes<'m, K: Ord, V>(
    before: &'m std::collections::BTreeMap<K, V>,
    after: &'m std::collections::BTreeMap<K, V>,
    same: impl Fn(&V, &V) -> bool,
) -> Vec<(&'m K, Option<&'m V>, Option<&'m V>, Change)> {
    let keys: std::collections::BTreeSet<&K> = before.keys().chain(after.keys()).collect();
    keys.into_iter()
        .filter_map(|key| {
            let (old, new) = (before.get(key), after.get(key));
            let change = match (old, new) {
                (None, Some(_)) => Change::Added,
                (Some(_), None) => Change::Removed,
                (Some(old), Some(new)) if same(old, new) => return None,
                _ => Change::Changed,
            };
            Some((key, old, new, change))
        })
        .collect()
}

/// A root service whose split changes. Weights are shown as percentages of the split
/// total, so that 90/10 → 9/1 is no change and 90/10 → 80/20 moves 10 points.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SplitChange {
    pub namespace: String,
    /// The root service clients call.
    pub service: String,
    /// The TrafficSplit's name (HEAD's when it exists).
    pub name: String,
    pub change: Change,
    pub backends: Vec<BackendShare>,
    /// A/B: the HTTPRouteGroups whose requests are split (empty: every request).
    pub matches_before: Vec<String>,
    pub matches_after: Vec<String>,
    /// The Canary that owns these weights while it runs, in HEAD.
    pub canary: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackendShare {
    pub service: String,
    /// Percent of the split's requests; `None` when the backend is not listed.
    pub before: Option<f64>,
    pub after: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct NamespaceChanges {
    pub joined: Vec<String>,
    pub left: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum CanaryEvent {
    /// A new Canary: a rollout starts when HEAD is applied.
    Starts,
    /// The spec changed: the running rollout is superseded and starts over.
    Changes,
    /// The Canary left the repository: its rollout stops where it is.
    Stops,
    /// Only the status changed: meshcd recorded an outcome.
    Finishes,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CanaryChange {
    pub namespace: String,
    pub name: String,
    pub event: CanaryEvent,
    pub before: Option<CanarySummary>,
    pub after: Option<CanarySummary>,
    /// The spec fields that differ (camelCase, as written in the repository).
    pub fields: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CanarySummary {
    /// `trafficSplit: name`, or `httpRoute: {name, rule}` as the Canary writes it.
    #[serde(flatten)]
    pub target: CanaryTarget,
    pub stable: String,
    pub canary: String,
    /// The canary backend's percentage at each step; the last step promotes.
    pub weights: Vec<u32>,
    pub interval: String,
    pub progress_deadline: String,
    /// One interval of passing analysis per step and one for the promotion.
    pub minimum_duration: String,
    pub success_rate_min: Option<f64>,
    pub latency_p99_max: Option<String>,
    pub min_requests: u64,
    pub failure_threshold: u32,
    /// `status.phase` as meshcd recorded it (`Promoted`, `RolledBack`).
    pub phase: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MeshChange {
    /// The field of the Mesh's spec (`trafficPolicy`).
    pub setting: String,
    pub before: String,
    pub after: String,
    /// Why a reviewer should look twice, when they should.
    pub risk: Option<String>,
}

/// One side of the comparison, as `meshcd diff` read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Side {
    /// What the user named: a revision or a directory.
    pub label: String,
    /// The commit, when the side is a Git revision.
    pub commit: Option<String>,
    pub valid: bool,
    pub errors: usize,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let short = |commit: &str| commit.chars().take(7).collect::<String>();
        match &self.commit {
            // A commit named by its id reads best as the short id alone.
            Some(commit) if commit.starts_with(&self.label) => f.write_str(&short(commit)),
            Some(commit) => write!(f, "{} ({})", self.label, short(commit)),
            None => f.write_str(&self.label),
        }
    }
}

/// What `meshcd diff` reports: the change set when HEAD is valid, and HEAD's diagnostics
/// (all of them when it is invalid, its warnings otherwise).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub base: Side,
    pub head: Side,
    /// `None` when HEAD is invalid: nothing of it would be applied. When BASE is invalid
    /// the changes are against an empty mesh: an invalid revision has no effect of its own.
    pub changes: Option<ChangeSet>,
    pub diagnostics: Diagnostics,
}

/// HEAD compared with BASE, and with the running mesh when `live` is given.
pub fn diff(
    base: &Config,
    head: &Config,
    options: &Options,
    live: Option<&live::LiveContext>,
) -> ChangeSet {
    let mut warnings = Diagnostics::default();
    let (base_access, head_access) = access::compared(base, head);
    let access = access::changes(&base_access, &head_access);
    warnings.0.extend(access::unrestricted_warnings(
        &head_access,
        &access,
        options.max_unrestricted_sources,
    ));
    let live = live.map(|live| live::findings(head, &head_access, &access, live));
    let canaries = rollout::canaries(base, head);
    warnings
        .0
        .extend(rollout::long_rollout_warnings(head, &canaries, options));
    warnings.0.extend(faults::warnings(base, head));
    warnings.sort();
    ChangeSet {
        access: access.rows(&base_access, &head_access),
        splits: rollout::splits(base, head),
        namespaces: NamespaceChanges {
            joined: head
                .namespaces
                .difference(&base.namespaces)
                .cloned()
                .collect(),
            left: base
                .namespaces
                .difference(&head.namespaces)
                .cloned()
                .collect(),
        },
        canaries,
        mesh: mesh::changes(&base.mesh, &head.mesh),
        routes: routes::changes(base, head),
        policies: policies::changes(base, head),
        warnings,
        live,
    }
}

#[cfg(test)]
mod tests;
