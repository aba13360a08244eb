//! Access changes as a reviewer reads them: rows of (source, destination, traffic, ports,
//! granted by), newly allowed or denied, and grants whose reach changed.

use std::fmt;

use serde::{Serialize, Serializer};

use crate::model::Identity;

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
    /// The IngressBackends (`namespace/name`) that grant it, to a non-mesh source.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ingress_backends: Vec<String>,
    /// The Egresses (`namespace/name`) that grant it, to a destination outside the mesh.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub egresses: Vec<String>,
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
    /// A destination outside the mesh an Egress names: a host (`*.` for every name
    /// below one) or an address range.
    External {
        host: String,
    },
    /// Any destination outside the mesh (the Mesh's `egress: allow`).
    AnyExternal,
    /// Plaintext callers from outside the mesh that an IngressBackend lets in: an address
    /// range (`10.0.0.0/8`) or the endpoints of a Service (`Service ingress/nginx`).
    NonMesh {
        source: String,
    },
    /// A Service an IngressBackend opens (ingress is granted per Service, not per
    /// service account).
    Service {
        namespace: String,
        name: String,
    },
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
            Peer::External { host } => write!(f, "external {host}"),
            Peer::AnyExternal => f.write_str("any host outside the mesh"),
            Peer::NonMesh { source } => write!(f, "non-mesh {source}"),
            Peer::Service { namespace, name } => write!(f, "service {namespace}/{name}"),
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
    /// TLS streams out of the mesh, let through on their server name (SNI).
    Tls,
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
            Traffic::Tls => f.write_str("TLS streams (by server name)"),
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
