//! The effective access set of a config — every (source, destination, port, request) its
//! proxies admit, with TrafficTarget rules expanded over HTTPRouteGroup matches and
//! TCPRoute ports by the compiler's own `RuleIndex` — and the difference of two such sets.
//!
//! A permission is split into grants of one method on one port, so that a difference is
//! exact where it can be: `[GET]` → `[GET, POST]` newly allows POST and nothing else. A grant
//! of BASE that HEAD still covers with a wider one (any method, any path, fewer headers,
//! any port) is not reported as denied.

mod egress;
mod ingress;
mod scope;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use meshcd_schemas::proto;
use regex::Regex;

use super::Peer;
use crate::compile::access::RuleIndex;
use crate::diagnostics::{Diagnostic, ObjectId, Severity};
use crate::model::{Config, Identity, MtlsMode, Origin, TrafficPolicy};
pub use scope::compared;
use scope::{destinations, targets_by_name};

/// One indivisible permission.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Grant {
    pub source: Peer,
    pub destination: Peer,
    /// `None`: every port.
    pub port: Option<u16>,
    pub request: Request,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Request {
    Tcp,
    /// A TLS stream out of the mesh, let through on its server name.
    Tls,
    Http {
        /// `None`: every method.
        method: Option<String>,
        /// Full-match regex; `None`: every path.
        path: Option<String>,
        headers: Vec<(String, String)>,
    },
}

impl Request {
    fn any_http() -> Self {
        Request::Http {
            method: None,
            path: None,
            headers: Vec::new(),
        }
    }

    /// Any method, any path, no header condition.
    fn is_unrestricted_http(&self) -> bool {
        match self {
            Request::Http {
                method: None,
                path,
                headers,
            } => any_path(path.as_deref()) && headers.is_empty(),
            _ => false,
        }
    }
}

/// Where a grant comes from.
#[derive(Debug, Clone, Default)]
pub struct Attribution {
    pub traffic_targets: BTreeSet<String>,
    pub routes: BTreeSet<String>,
    /// The IngressBackends (`namespace/name`) that grant it.
    pub ingress_backends: BTreeSet<String>,
    /// The Egresses (`namespace/name`) that grant it.
    pub egresses: BTreeSet<String>,
    /// The first TrafficTarget that grants it, for warnings.
    pub origin: Option<(Origin, ObjectId)>,
}

/// What one config admits.
#[derive(Debug, Default)]
pub struct AccessSet {
    grants: BTreeMap<Grant, Attribution>,
    /// Grants between two service accounts, by (source, destination): the candidates
    /// that can cover a grant between the same two.
    by_pair: HashMap<(Peer, Peer), Vec<Grant>>,
    /// Grants from or to "any": they can cover every grant.
    universal: Vec<Grant>,
    regexes: RefCell<HashMap<String, Option<Regex>>>,
}

impl AccessSet {
    /// Every grant of `config`, or only those to `destinations`.
    pub fn of(config: &Config, only: Option<&BTreeSet<&Identity>>) -> AccessSet {
        let mut set = AccessSet::default();
        // IngressBackends are few, and grant the same under either traffic policy.
        set.insert_ingress(config);
        if config.mesh.traffic_policy == TrafficPolicy::Permissive {
            // The proxies allow every peer; with permissive mTLS also plaintext clients.
            let source = match config.mesh.mtls {
                MtlsMode::Permissive => Peer::AnyClient,
                MtlsMode::Strict => Peer::AnyMeshedWorkload,
            };
            for request in [Request::Tcp, Request::any_http()] {
                let grant = Grant {
                    source: source.clone(),
                    destination: Peer::AnyMeshedWorkload,
                    port: None,
                    request,
                };
                set.insert(grant, None, None, None);
            }
            egress::add(&mut set, config);
            return set;
        }
        let onboarded = |namespace: &str| config.namespaces.contains(namespace);
        let targets = targets_by_name(config);
        let destinations: BTreeSet<&Identity> = destinations(config)
            .into_iter()
            .filter(|d| only.is_none_or(|only| only.contains(d)))
            .collect();
        let index = RuleIndex::new(config);
        for destination in destinations {
            for rule in index.inbound_rules(destination) {
                let Some((target, origin)) = targets.get(&rule.traffic_target) else {
                    continue;
                };
                let (ports, requests) = expand(&rule);
                let object = ObjectId {
                    kind: "TrafficTarget".into(),
                    namespace: Some(target.namespace.clone()),
                    name: target.name.clone(),
                };
                for source in target.sources.iter().filter(|s| onboarded(&s.namespace)) {
                    for port in &ports {
                        for (request, route) in &requests {
                            let grant = Grant {
                                source: source.into(),
                                destination: destination.into(),
                                port: *port,
                                request: request.clone(),
                            };
                            set.insert(
                                grant,
                                Some(&rule.traffic_target),
                                *route,
                                Some((origin, &object)),
                            );
                        }
                    }
                }
            }
        }
        egress::add(&mut set, config);
        set
    }

    fn insert(
        &mut self,
        grant: Grant,
        traffic_target: Option<&str>,
        route: Option<&str>,
        origin: Option<(&Origin, &ObjectId)>,
    ) {
        let attribution = match self.grants.get_mut(&grant) {
            Some(attribution) => attribution,
            None => {
                match (&grant.source, &grant.destination) {
                    (Peer::ServiceAccount { .. }, Peer::ServiceAccount { .. }) => self
                        .by_pair
                        .entry((grant.source.clone(), grant.destination.clone()))
                        .or_default()
                        .push(grant.clone()),
                    _ => self.universal.push(grant.clone()),
                }
                self.grants.entry(grant).or_default()
            }
        };
        attribution
            .traffic_targets
            .extend(traffic_target.map(str::to_string));
        attribution.routes.extend(route.map(str::to_string));
        if attribution.origin.is_none() {
            attribution.origin = origin.map(|(origin, object)| (origin.clone(), object.clone()));
        }
    }

    pub fn grants(&self) -> impl Iterator<Item = (&Grant, &Attribution)> {
        self.grants.iter()
    }

    /// Whether this set admits everything `grant` admits.
    pub fn covers(&self, grant: &Grant) -> bool {
        if self.grants.contains_key(grant) {
            return true;
        }
        let pair = (grant.source.clone(), grant.destination.clone());
        self.universal
            .iter()
            .chain(self.by_pair.get(&pair).into_iter().flatten())
            .any(|wider| self.grant_covers(wider, grant))
    }

    fn grant_covers(&self, wider: &Grant, grant: &Grant) -> bool {
        peer_covers(&wider.source, &grant.source)
            && peer_covers(&wider.destination, &grant.destination)
            && (wider.port.is_none() || wider.port == grant.port)
            && match (&wider.request, &grant.request) {
                (Request::Tcp, Request::Tcp) | (Request::Tls, Request::Tls) => true,
                (
                    Request::Http {
                        method: wider_method,
                        path: wider_path,
                        headers: wider_headers,
                    },
                    Request::Http {
                        method,
                        path,
                        headers,
                    },
                ) => {
                    (wider_method.is_none() || wider_method == method)
                        && wider_headers.iter().all(|h| headers.contains(h))
                        && self.path_covers(wider_path.as_deref(), path.as_deref())
                }
                _ => false,
            }
    }

    /// Sound but not complete: any-path regexes cover everything, and a regex covers a
    /// literal path it matches; other pairs of regexes count as different.
    fn path_covers(&self, wider: Option<&str>, path: Option<&str>) -> bool {
        if any_path(wider) || wider == path {
            return true;
        }
        let (Some(wider), Some(path)) = (wider, path) else {
            return false;
        };
        if path.chars().any(regex_syntax::is_meta_character) {
            return false;
        }
        let mut regexes = self.regexes.borrow_mut();
        regexes
            .entry(wider.to_string())
            .or_insert_with(|| Regex::new(&format!("^(?:{wider})$")).ok())
            .as_ref()
            .is_some_and(|regex| regex.is_match(path))
    }
}

/// A request a rule admits, with the route match (`group/match`) that admits it.
type RouteRequest<'r> = (Request, Option<&'r str>);

/// The ports (`None`: every port) and requests one compiled rule admits, each request
/// with the route match that admits it. This is the proxy's reading of a rule
/// (`inbound/authorize.rs`): a port limit (TCPRoute) admits TCP streams on its ports as
/// well as HTTP; without one, HTTP on every port and no TCP.
fn expand(rule: &proto::InboundRule) -> (Vec<Option<u16>>, Vec<RouteRequest<'_>>) {
    let ports: Vec<Option<u16>> = match &rule.ports {
        Some(list) if !list.ports.is_empty() => list
            .ports
            .iter()
            .filter_map(|port| u16::try_from(*port).ok().map(Some))
            .collect(),
        _ => vec![None],
    };
    let mut requests = Vec::new();
    if rule.ports.is_some() {
        requests.push((Request::Tcp, None));
    }
    let Some(http) = &rule.http else {
        requests.push((Request::any_http(), None));
        return (ports, requests);
    };
    for item in &http.matches {
        let path = (!item.path_regex.is_empty()).then(|| item.path_regex.clone());
        let headers: Vec<(String, String)> = item
            .headers
            .iter()
            .map(|h| (h.name.clone(), h.value_regex.clone()))
            .collect();
        let every_method = item.methods.is_empty() || item.methods.iter().any(|m| m == "*");
        let methods: Vec<Option<String>> = if every_method {
            vec![None]
        } else {
            item.methods.iter().cloned().map(Some).collect()
        };
        for method in methods {
            let request = Request::Http {
                method,
                path: path.clone(),
                headers: headers.clone(),
            };
            requests.push((request, Some(item.name.as_str())));
        }
    }
    (ports, requests)
}

/// Every path: no regex, or one that matches any path (paths start with `/`).
pub(super) fn any_path(path: Option<&str>) -> bool {
    matches!(path, None | Some("") | Some(".*") | Some("/.*"))
}

pub(super) fn peer_covers(wider: &Peer, peer: &Peer) -> bool {
    match wider {
        Peer::AnyClient => true,
        // A Service is served by meshed workloads; non-mesh sources and hosts outside the
        // mesh are not meshed workloads.
        Peer::AnyMeshedWorkload => matches!(
            peer,
            Peer::AnyMeshedWorkload | Peer::ServiceAccount { .. } | Peer::Service { .. }
        ),
        Peer::AnyExternal => matches!(peer, Peer::AnyExternal | Peer::External { .. }),
        Peer::ServiceAccount { .. }
        | Peer::External { .. }
        | Peer::NonMesh { .. }
        | Peer::Service { .. } => wider == peer,
    }
}

/// The grants that differ, with where each comes from.
#[derive(Debug, Default)]
pub struct GrantChanges {
    pub allowed: Vec<(Grant, Attribution)>,
    pub denied: Vec<(Grant, Attribution)>,
}

pub fn changes(base: &AccessSet, head: &AccessSet) -> GrantChanges {
    let uncovered = |from: &AccessSet, by: &AccessSet| -> Vec<(Grant, Attribution)> {
        from.grants()
            .filter(|(grant, _)| !by.covers(grant))
            .map(|(grant, attribution)| (grant.clone(), attribution.clone()))
            .collect()
    };
    GrantChanges {
        allowed: uncovered(head, base),
        denied: uncovered(base, head),
    }
}

/// A destination that at least `threshold` sources may send any request to (any method,
/// any path), when HEAD newly allows one of them: such a grant is usually meant narrower.
pub fn unrestricted_warnings(
    head: &AccessSet,
    changes: &GrantChanges,
    threshold: usize,
) -> Vec<Diagnostic> {
    let mut newly: BTreeMap<&Peer, &Attribution> = BTreeMap::new();
    for (grant, attribution) in &changes.allowed {
        if matches!(grant.destination, Peer::ServiceAccount { .. })
            && grant.request.is_unrestricted_http()
        {
            newly.entry(&grant.destination).or_insert(attribution);
        }
    }
    let mut warnings = Vec::new();
    for (destination, attribution) in newly {
        let sources: BTreeSet<&Peer> = head
            .grants()
            .filter(|(grant, _)| {
                &grant.destination == destination && grant.request.is_unrestricted_http()
            })
            .map(|(grant, _)| &grant.source)
            .collect();
        if sources.len() < threshold {
            continue;
        }
        let Some((origin, object)) = &attribution.origin else {
            continue;
        };
        let names: Vec<String> = sources.iter().map(|s| s.to_string()).collect();
        warnings.push(Diagnostic {
            severity: Severity::Warning,
            file: origin.file.clone(),
            line: origin.line,
            column: 1,
            object: Some(object.clone()),
            message: format!(
                "{} sources may send any request to any path of {destination}: {}",
                sources.len(),
                names.join(", ")
            ),
            hint: Some(format!(
                "grant only the routes each source needs (this warning starts at {threshold} \
                 sources; --max-unrestricted-sources)"
            )),
        });
    }
    warnings
}
