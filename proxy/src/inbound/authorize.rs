//! Inbound authorization by the SMI semantics of design §2, as flattened into
//! `InboundRule`s (mesh.proto): a call is allowed when one rule lists the caller as a
//! source, admits the service port, and (for HTTP) has a match the request satisfies.
//! In permissive traffic policy every mesh peer is allowed, and so is a plaintext client
//! that permissive mTLS let in (its identity is `unauthenticated`).

use std::fmt;
use std::sync::Arc;

use http::{HeaderMap, Method};

use crate::snapshot::{Rule, Snapshot, TrafficPolicy};

/// The identity of a plaintext client in permissive mTLS mode; a rule may name it.
pub const UNAUTHENTICATED: &str = "unauthenticated";

/// What is being authorized.
pub enum Call<'a> {
    Http {
        port: u16,
        method: &'a Method,
        path: &'a str,
        headers: &'a HeaderMap,
    },
    Tcp {
        port: u16,
    },
}

#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    /// Allowed; `route` is the HTTP match that admitted the request, if any.
    Allow {
        route: Option<Arc<str>>,
    },
    Deny(Denial),
}

/// Why a call was refused, in words for the 403 body and the log.
#[derive(Debug, PartialEq, Eq)]
pub struct Denial {
    pub source: String,
    pub destination: String,
    /// What was asked: `GET /path on port 80` or `a TCP stream to port 5432`.
    pub call: String,
    /// The traffic targets that name the source (none: no target names it at all).
    pub checked: Vec<Arc<str>>,
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "denied: {:?} may not send {} to {:?}: ",
            self.source, self.call, self.destination
        )?;
        if self.checked.is_empty() {
            write!(f, "no traffic target allows this source")
        } else {
            let names: Vec<&str> = self.checked.iter().map(|name| &**name).collect();
            write!(
                f,
                "no rule of traffic target(s) {} matches",
                names.join(", ")
            )
        }
    }
}

pub fn authorize(snapshot: &Snapshot, source: &str, call: &Call<'_>) -> Decision {
    if snapshot.mesh.traffic_policy == TrafficPolicy::Permissive {
        return Decision::Allow { route: None };
    }
    let mut checked = Vec::new();
    for rule in snapshot.rules.iter().filter(|rule| names(rule, source)) {
        if let Some(route) = admits(rule, call) {
            return Decision::Allow { route };
        }
        if !checked.contains(&rule.traffic_target) {
            checked.push(rule.traffic_target.clone());
        }
    }
    Decision::Deny(Denial {
        source: source.to_owned(),
        destination: snapshot.workload.identity.to_string(),
        call: match call {
            Call::Http {
                port, method, path, ..
            } => format!("{method} {path} on port {port}"),
            Call::Tcp { port } => format!("a TCP stream to port {port}"),
        },
        checked,
    })
}

fn names(rule: &Rule, source: &str) -> bool {
    rule.sources.iter().any(|s| &**s == source)
}

/// `Some(route)` when the rule admits the call.
fn admits(rule: &Rule, call: &Call<'_>) -> Option<Option<Arc<str>>> {
    let port = match call {
        Call::Http { port, .. } | Call::Tcp { port } => *port,
    };
    match &rule.ports {
        // No TCPRoute: HTTP on every port, no TCP.
        None if matches!(call, Call::Tcp { .. }) => return None,
        None => {}
        Some(ports) if !ports.is_empty() && !ports.contains(&port) => return None,
        Some(_) => {}
    }
    match call {
        Call::Tcp { .. } => Some(None),
        Call::Http {
            method,
            path,
            headers,
            ..
        } => match &rule.http {
            None => Some(None),
            Some(matches) => matches
                .iter()
                .find(|m| m.matches(method, path, headers))
                .map(|m| Some(m.name.clone())),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::compile_for_tests;
    use meshcd_schemas::proto;

    const WEB: &str = "spiffe://cluster.local/ns/shop/sa/web";
    const OTHER: &str = "spiffe://cluster.local/ns/shop/sa/other";

    fn http_match(name: &str, path: &str, methods: &[&str]) -> proto::HttpMatch {
        proto::HttpMatch {
            name: name.into(),
            path_regex: path.into(),
            methods: methods.iter().map(|m| m.to_string()).collect(),
            headers: vec![],
        }
    }

    fn snapshot(rules: Vec<proto::InboundRule>, policy: proto::TrafficPolicy) -> Snapshot {
        let snapshot = proto::Snapshot {
            version: "v1".into(),
            workload: Some(proto::Workload {
                namespace: "shop".into(),
                service_account: "api".into(),
                identity: "spiffe://cluster.local/ns/shop/sa/api".into(),
                services: vec!["api".into()],
                ports: vec![],
                rate_limits: Vec::new(),
                ingress: Vec::new(),
            }),
            mesh: Some(proto::MeshSettings {
                traffic_policy: policy as i32,
                ..Default::default()
            }),
            inbound_rules: rules,
            ..Default::default()
        };
        compile_for_tests(snapshot)
    }

    fn rule(
        target: &str,
        sources: &[&str],
        ports: Option<&[u32]>,
        http: Option<Vec<proto::HttpMatch>>,
    ) -> proto::InboundRule {
        proto::InboundRule {
            traffic_target: target.into(),
            sources: sources.iter().map(|s| s.to_string()).collect(),
            ports: ports.map(|p| proto::PortMatch { ports: p.to_vec() }),
            http: http.map(|matches| proto::HttpMatches { matches }),
        }
    }

    fn http(snapshot: &Snapshot, source: &str, method: Method, path: &str, port: u16) -> Decision {
        authorize(
            snapshot,
            source,
            &Call::Http {
                port,
                method: &method,
                path,
                headers: &HeaderMap::new(),
            },
        )
    }

    fn allowed(decision: &Decision) -> bool {
        matches!(decision, Decision::Allow { .. })
    }

    #[test]
    fn a_listed_source_is_allowed_the_matching_route_only() {
        let snapshot = snapshot(
            vec![rule(
                "shop/web-to-api",
                &[WEB],
                None,
                Some(vec![http_match(
                    "api-routes/values",
                    "/api/values",
                    &["GET"],
                )]),
            )],
            proto::TrafficPolicy::Deny,
        );
        assert_eq!(
            http(&snapshot, WEB, Method::GET, "/api/values", 80),
            Decision::Allow {
                route: Some("api-routes/values".into())
            }
        );
        assert!(!allowed(&http(
            &snapshot,
            WEB,
            Method::GET,
            "/api/other",
            80
        )));
        assert!(!allowed(&http(
            &snapshot,
            WEB,
            Method::POST,
            "/api/values",
            80
        )));
        assert!(!allowed(&http(
            &snapshot,
            OTHER,
            Method::GET,
            "/api/values",
            80
        )));
    }

    #[test]
    fn denials_name_the_source_and_the_traffic_targets_checked() {
        let snapshot = snapshot(
            vec![rule(
                "shop/web-to-api",
                &[WEB],
                None,
                Some(vec![http_match("r/m", "/a", &[])]),
            )],
            proto::TrafficPolicy::Deny,
        );
        let Decision::Deny(denial) = http(&snapshot, WEB, Method::GET, "/b", 80) else {
            panic!("allowed");
        };
        let text = denial.to_string();
        assert!(
            text.contains(WEB) && text.contains("shop/web-to-api"),
            "{text}"
        );
        assert!(text.contains("GET /b on port 80"), "{text}");
        let Decision::Deny(denial) = http(&snapshot, OTHER, Method::GET, "/a", 80) else {
            panic!("allowed");
        };
        assert!(
            denial.to_string().contains("no traffic target allows"),
            "{denial}"
        );
    }

    #[test]
    fn a_tcp_route_without_ports_admits_everything_http_included() {
        let snapshot = snapshot(
            vec![rule("shop/all", &[WEB], Some(&[]), None)],
            proto::TrafficPolicy::Deny,
        );
        assert!(allowed(&http(
            &snapshot,
            WEB,
            Method::DELETE,
            "/anything",
            8080
        )));
        assert!(allowed(&authorize(
            &snapshot,
            WEB,
            &Call::Tcp { port: 5432 }
        )));
    }

    #[test]
    fn tcp_route_ports_limit_http_and_tcp_and_http_matches_limit_requests_on_them() {
        let snapshot = snapshot(
            vec![rule(
                "shop/limited",
                &[WEB],
                Some(&[8080]),
                Some(vec![http_match("r/get", "/.*", &["GET"])]),
            )],
            proto::TrafficPolicy::Deny,
        );
        assert!(allowed(&http(&snapshot, WEB, Method::GET, "/x", 8080)));
        assert!(!allowed(&http(&snapshot, WEB, Method::GET, "/x", 80)));
        assert!(!allowed(&http(&snapshot, WEB, Method::POST, "/x", 8080)));
        assert!(allowed(&authorize(
            &snapshot,
            WEB,
            &Call::Tcp { port: 8080 }
        )));
        assert!(!allowed(&authorize(
            &snapshot,
            WEB,
            &Call::Tcp { port: 9090 }
        )));
    }

    #[test]
    fn an_http_only_target_never_admits_tcp() {
        let snapshot = snapshot(
            vec![rule("shop/http", &[WEB], None, None)],
            proto::TrafficPolicy::Deny,
        );
        assert!(allowed(&http(&snapshot, WEB, Method::GET, "/", 80)));
        assert!(!allowed(&authorize(
            &snapshot,
            WEB,
            &Call::Tcp { port: 80 }
        )));
    }

    #[test]
    fn one_admitting_rule_among_several_is_enough() {
        let snapshot = snapshot(
            vec![
                rule(
                    "shop/a",
                    &[WEB],
                    None,
                    Some(vec![http_match("r/a", "/a", &[])]),
                ),
                rule(
                    "shop/b",
                    &[OTHER, WEB],
                    None,
                    Some(vec![http_match("r/b", "/b", &[])]),
                ),
            ],
            proto::TrafficPolicy::Deny,
        );
        assert!(allowed(&http(&snapshot, WEB, Method::GET, "/b", 80)));
        assert!(!allowed(&http(&snapshot, OTHER, Method::GET, "/a", 80)));
    }

    #[test]
    fn permissive_policy_admits_every_peer_without_rules() {
        let snapshot = snapshot(vec![], proto::TrafficPolicy::Permissive);
        assert!(allowed(&http(&snapshot, OTHER, Method::POST, "/x", 80)));
        assert!(allowed(&authorize(
            &snapshot,
            UNAUTHENTICATED,
            &Call::Tcp { port: 1 }
        )));
    }

    #[test]
    fn deny_policy_without_rules_denies_everyone() {
        let snapshot = snapshot(vec![], proto::TrafficPolicy::Deny);
        assert!(!allowed(&http(&snapshot, WEB, Method::GET, "/", 80)));
    }
}
