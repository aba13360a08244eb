//! Non-mesh callers let in by IngressBackends: a plaintext request whose TCP peer address
//! an IngressBackend names, or a TLS request whose verified client certificate carries one
//! of its AuthenticatedPrincipals, reaches that IngressBackend's service ports of this
//! workload (its `http` ones, its `https` ones) and nothing else. The address is the
//! socket's peer, never a header the caller wrote.

use std::fmt;
use std::sync::Arc;

use super::NonMesh;
use super::authorize::Denial;
use crate::snapshot::Workload;
use crate::snapshot::ingress::IngressRule;

/// The IngressBackend that lets `caller` (whose identity is `identity`: its principal when
/// it has one) reach `port` of `service`, or why none does.
pub fn authorize<'w>(
    workload: &'w Workload,
    (caller, identity): (NonMesh, &str),
    service: &Arc<str>,
    port: u16,
    call: impl FnOnce() -> String,
) -> Result<&'w IngressRule, IngressDenial> {
    let (tls, letting_in): (bool, &dyn Fn(&IngressRule) -> bool) = match caller {
        NonMesh::Plaintext(address) => (false, &move |rule| rule.lets_in(address)),
        NonMesh::Principal => (true, &|rule| {
            rule.principals.iter().any(|p| &**p == identity)
        }),
    };
    let mut opened = Vec::new();
    for rule in workload.ingress.iter().filter(|rule| letting_in(rule)) {
        if rule.opens(service, port, tls) {
            return Ok(rule);
        }
        let ports: Vec<String> = rule
            .backends
            .iter()
            .filter(|backend| backend.tls == tls)
            .map(|backend| format!("{} port {}", backend.service, backend.port))
            .collect();
        let ports = if ports.is_empty() {
            "nothing".to_string()
        } else {
            format!("only {}", ports.join(", "))
        };
        let protocol = if tls { "HTTPS" } else { "plaintext" };
        opened.push(format!(
            "IngressBackend {} opens {ports} to {protocol}",
            rule.name
        ));
    }
    Err(IngressDenial {
        caller: match caller {
            NonMesh::Plaintext(address) => format!("non-mesh client {address}"),
            NonMesh::Principal => format!("ingress principal {identity:?}"),
        },
        destination: workload.identity.clone(),
        call: format!("{} to {service} port {port}", call()),
        opened,
    })
}

/// Why a non-mesh caller's request was refused, in words for the 403 body and the log.
#[derive(Debug)]
pub struct IngressDenial {
    /// `non-mesh client 10.1.2.3`, `ingress principal "ingress.example.com"`.
    caller: String,
    destination: Arc<str>,
    call: String,
    /// What each IngressBackend that lets the caller in opens, in words.
    opened: Vec<String>,
}

impl fmt::Display for IngressDenial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "denied: {} may not send {} ({:?}): ",
            self.caller, self.call, self.destination
        )?;
        if self.opened.is_empty() {
            return f.write_str("no IngressBackend lets this caller in");
        }
        f.write_str(&self.opened.join("; "))
    }
}

/// Why an inbound request was refused: by the SMI rules, or as a non-mesh caller.
#[derive(Debug)]
pub enum Refusal {
    Rules(Denial),
    Ingress(IngressDenial),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Rules(denial) => denial.fmt(f),
            Refusal::Ingress(denial) => denial.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::compile_for_tests;
    use meshcd_schemas::proto;

    fn workload(rules: Vec<proto::IngressRule>) -> crate::snapshot::Snapshot {
        compile_for_tests(proto::Snapshot {
            version: "v1".into(),
            workload: Some(proto::Workload {
                namespace: "shop".into(),
                service_account: "api".into(),
                identity: "spiffe://cluster.local/ns/shop/sa/api".into(),
                services: vec!["api".into(), "admin".into()],
                ingress: rules,
                ..Default::default()
            }),
            mesh: Some(proto::MeshSettings::default()),
            ..Default::default()
        })
    }

    /// A rule opening `backends` (port numbers above 1000 are `https`) to `sources`
    /// (addresses, or else principals).
    fn rule(name: &str, backends: &[(&str, u32)], sources: &[&str]) -> proto::IngressRule {
        let (addresses, principals): (Vec<&str>, Vec<&str>) = sources
            .iter()
            .partition(|s| s.parse::<meshcd_support::Cidr>().is_ok());
        proto::IngressRule {
            ingress_backend: name.into(),
            backends: backends
                .iter()
                .map(|(service, port)| proto::IngressBackendPort {
                    service: (*service).into(),
                    port: *port,
                    protocol: if *port > 1000 {
                        proto::IngressProtocol::Https
                    } else {
                        proto::IngressProtocol::Http
                    } as i32,
                })
                .collect(),
            sources: addresses.iter().map(|s| (*s).into()).collect(),
            principals: principals.iter().map(|s| (*s).into()).collect(),
        }
    }

    fn decide(
        snapshot: &crate::snapshot::Snapshot,
        from: &str,
        service: &str,
        port: u16,
    ) -> Result<String, String> {
        let service: Arc<str> = Arc::from(service);
        let caller = match from.parse() {
            Ok(address) => NonMesh::Plaintext(address),
            Err(_) => NonMesh::Principal,
        };
        authorize(&snapshot.workload, (caller, from), &service, port, || {
            "GET /x".into()
        })
        .map(|rule| rule.name.to_string())
        .map_err(|denial| denial.to_string())
    }

    #[test]
    fn a_source_reaches_its_rules_backends_and_nothing_else() {
        let snapshot = workload(vec![
            rule("shop/edge", &[("api", 80)], &["10.0.0.0/8"]),
            rule("shop/ops", &[("admin", 90)], &["192.0.2.7/32"]),
        ]);
        assert!(snapshot.workload.lets_in("10.9.8.7".parse().unwrap()));
        assert!(!snapshot.workload.lets_in("11.0.0.1".parse().unwrap()));
        assert_eq!(
            decide(&snapshot, "10.9.8.7", "api.shop", 80),
            Ok("shop/edge".into())
        );
        assert_eq!(
            decide(&snapshot, "192.0.2.7", "admin.shop", 90),
            Ok("shop/ops".into())
        );
        // The other rule's backend, another port, another service: refused, saying why.
        let refused = decide(&snapshot, "10.9.8.7", "admin.shop", 90).unwrap_err();
        assert_eq!(
            refused,
            "denied: non-mesh client 10.9.8.7 may not send GET /x to admin.shop port 90 \
             (\"spiffe://cluster.local/ns/shop/sa/api\"): IngressBackend shop/edge opens only api.shop port 80 to plaintext"
        );
        assert!(decide(&snapshot, "10.9.8.7", "api.shop", 8080).is_err());
        let stranger = decide(&snapshot, "11.0.0.1", "api.shop", 80).unwrap_err();
        assert!(
            stranger.ends_with("no IngressBackend lets this caller in"),
            "{stranger}"
        );
    }

    #[test]
    fn an_ipv4_peer_on_a_dual_stack_listener_is_matched_as_ipv4() {
        let snapshot = workload(vec![rule("shop/edge", &[("api", 80)], &["127.0.0.2/32"])]);
        assert_eq!(
            decide(&snapshot, "::ffff:127.0.0.2", "api.shop", 80),
            Ok("shop/edge".into())
        );
        assert!(decide(&snapshot, "::ffff:127.0.0.3", "api.shop", 80).is_err());
    }

    #[test]
    fn a_principal_reaches_its_https_backends_and_an_address_never_does() {
        let snapshot = workload(vec![rule(
            "shop/edge",
            &[("api", 80), ("api", 8443)],
            &["10.0.0.0/8", "ingress.example.com"],
        )]);
        let names = [
            "other.example.com".to_string(),
            "ingress.example.com".to_string(),
        ];
        assert_eq!(
            snapshot.workload.principal_among(&names),
            Some("ingress.example.com")
        );
        assert_eq!(snapshot.workload.principal_among(&names[..1]), None);
        assert_eq!(
            decide(&snapshot, "ingress.example.com", "api.shop", 8443),
            Ok("shop/edge".into())
        );
        // The plaintext port is the address sources', the TLS one the principal's.
        let refused = decide(&snapshot, "ingress.example.com", "api.shop", 80).unwrap_err();
        assert!(
            refused.ends_with("IngressBackend shop/edge opens only api.shop port 8443 to HTTPS"),
            "{refused}"
        );
        assert!(decide(&snapshot, "10.1.1.1", "api.shop", 8443).is_err());
        assert!(decide(&snapshot, "other.example.com", "api.shop", 8443).is_err());
    }
}
