//! The effective difference between two validated configs, as a reviewer of a config-repo
//! pull request needs it: who may newly call whom (or no longer), which split weights
//! move, which namespaces join or leave, which canaries start, change or stop, which
//! mesh-wide settings change, and the risky patterns among them.
//!
//! Pure: `diff(&base, &head, &Options, live) -> ChangeSet`, where `live` is what a running
//! reconciler reported (plain data, see `live`). `meshcd diff` runs load → validate on both
//! revisions, reads the live context, and renders a `Report` (see `render`).

pub mod access;
pub mod live;
mod mesh;
pub mod render;
mod rollout;
mod rows;

use std::fmt;
use std::time::Duration;

use serde::{Serialize, Serializer};

use crate::diagnostics::Diagnostics;
use crate::model::{Config, Identity};

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
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AccessChanges {
    /// What HEAD admits that BASE did not, exactly (one row per kind of request).
    pub allowed: Vec<AccessRow>,
    /// What BASE admitted that HEAD does not, exactly.
    pub denied: Vec<AccessRow>,
    /// The rows above between a source and a destination connected on both sides, seen
    /// as one change of that grant: as it was and as it becomes.
    pub changed: Vec<GrantChange>,
}

impl AccessChanges {
    pub fn is_empty(&self) -> bool {
        self.allowed.is_empty() && self.denied.is_empty() && self.changed.is_empty()
    }

    /// Allowed rows between a source and a destination BASE did not connect at all.
    pub fn newly_allowed(&self) -> Vec<&AccessRow> {
        rows_where(&self.allowed, |row| !self.regrouped(row))
    }

    /// Denied rows between a source and a destination HEAD no longer connects at all.
    pub fn newly_denied(&self) -> Vec<&AccessRow> {
        rows_where(&self.denied, |row| !self.regrouped(row))
    }

    /// The exact requests a changed grant gains and loses.
    pub fn gained_and_lost(&self, change: &GrantChange) -> (Vec<&AccessRow>, Vec<&AccessRow>) {
        (
            rows_where(&self.allowed, |row| change.pairs(row)),
            rows_where(&self.denied, |row| change.pairs(row)),
        )
    }

    fn regrouped(&self, row: &AccessRow) -> bool {
        self.changed.iter().any(|change| change.pairs(row))
    }
}

fn rows_where(rows: &[AccessRow], keep: impl Fn(&AccessRow) -> bool) -> Vec<&AccessRow> {
    rows.iter().filter(|row| keep(row)).collect()
}

/// Everything one source may send one destination, before and after.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantChange {
    pub source: Peer,
    pub destination: Peer,
    pub reach: Reach,
    pub before: Vec<AccessRow>,
    pub after: Vec<AccessRow>,
}

impl GrantChange {
    /// Whether `row` is between this change's source and destination.
    fn pairs(&self, row: &AccessRow) -> bool {
        row.source == self.source && row.destination == self.destination
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Reach {
    /// HEAD admits more and nothing less.
    Widened,
    /// HEAD admits less and nothing more.
    Narrowed,
    /// Some requests gained, others lost.
    Reshaped,
}

impl fmt::Display for Reach {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Reach::Widened => "widened",
            Reach::Narrowed => "narrowed",
            Reach::Reshaped => "reshaped",
        })
    }
}

/// Calls from one source to one destination, on some ports, of one kind of traffic.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessRow {
    pub destination: Peer,
    pub source: Peer,
    pub traffic: Traffic,
    pub ports: Ports,
    /// The TrafficTargets (`namespace/name`) that grant it, on the side that grants it.
    pub traffic_targets: Vec<String>,
    /// The HTTPRouteGroup matches (`group/match`) that grant it.
    pub routes: Vec<String>,
}

/// The caller or callee of an access row.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Peer {
    ServiceAccount {
        namespace: String,
        name: String,
    },
    /// Any workload with a mesh identity (permissive traffic policy).
    AnyMeshedWorkload,
    /// Any client, including plaintext ones from outside the mesh (permissive traffic
    /// policy and permissive mTLS).
    AnyClient,
}

impl From<&Identity> for Peer {
    fn from(identity: &Identity) -> Self {
        Peer::ServiceAccount {
            namespace: identity.namespace.clone(),
            name: identity.service_account.clone(),
        }
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Peer::ServiceAccount { namespace, name } => write!(f, "{namespace}/{name}"),
            Peer::AnyMeshedWorkload => f.write_str("any meshed workload"),
            Peer::AnyClient => f.write_str("any client, plaintext included"),
        }
    }
}

/// What an access row admits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "protocol", rename_all = "camelCase")]
pub enum Traffic {
    /// TCP streams and every HTTP request.
    All,
    Tcp,
    Http {
        /// Upper-case methods; `["*"]` is every method.
        methods: Vec<String>,
        /// Full-match path regex; `None` is every path.
        path: Option<String>,
        /// All required.
        headers: Vec<HeaderMatch>,
    },
}

/// A header condition of an HTTP route match.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HeaderMatch {
    /// Lower case.
    pub name: String,
    /// Full match of the value.
    pub value_regex: String,
}

impl fmt::Display for Traffic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Traffic::All => f.write_str("all traffic (TCP and any HTTP request)"),
            Traffic::Tcp => f.write_str("TCP streams"),
            Traffic::Http {
                methods,
                path,
                headers,
            } => {
                let methods = if methods.iter().any(|m| m == "*") {
                    "any method".to_string()
                } else {
                    methods.join(",")
                };
                write!(
                    f,
                    "HTTP {methods} {}",
                    path.as_deref().unwrap_or("any path")
                )?;
                for header in headers {
                    write!(f, " [{}: {}]", header.name, header.value_regex)?;
                }
                Ok(())
            }
        }
    }
}

/// The destination's service ports a row applies to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Ports {
    Any,
    Only(Vec<u16>),
}

impl fmt::Display for Ports {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ports::Any => f.write_str("any port"),
            Ports::Only(ports) => {
                let list: Vec<String> = ports.iter().map(u16::to_string).collect();
                write!(
                    f,
                    "port{} {}",
                    if ports.len() > 1 { "s" } else { "" },
                    list.join(",")
                )
            }
        }
    }
}

/// `"any"` or a list of port numbers.
impl Serialize for Ports {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Ports::Any => serializer.serialize_str("any"),
            Ports::Only(ports) => ports.serialize(serializer),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Change {
    Added,
    Removed,
    Changed,
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
    pub traffic_split: String,
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
        warnings,
        live,
    }
}

#[cfg(test)]
mod tests;
