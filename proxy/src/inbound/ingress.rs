//! Non-mesh callers let in by IngressBackends: a plaintext request whose TCP peer address
//! an IngressBackend names reaches that IngressBackend's service ports of this workload,
//! and nothing else. The address is the socket's peer, never a header the caller wrote.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use super::authorize::Denial;
use crate::snapshot::Workload;
use crate::snapshot::ingress::IngressRule;

/// The IngressBackend that lets a caller at `address` reach `port` of `service`, or why
/// none does.
pub fn authorize<'w>(
    workload: &'w Workload,
    address: IpAddr,
    service: &Arc<str>,
    port: u16,
    call: impl FnOnce() -> String,
) -> Result<&'w IngressRule, IngressDenial> {
    let mut opened = Vec::new();
    for rule in workload.ingress.iter().filter(|rule| rule.lets_in(address)) {
        if rule.opens(service, port) {
            return Ok(rule);
        }
        let ports: Vec<String> = rule
            .backends
            .iter()
            .map(|(service, port)| format!("{service} port {port}"))
            .collect();
        opened.push(format!(
            "IngressBackend {} opens only {}",
            rule.name,
            ports.join(", ")
        ));
    }
    Err(IngressDenial {
        address,
        destination: workload.identity.clone(),
        call: format!("{} to {service} port {port}", call()),
        opened,
    })
}

/// Why a non-mesh caller's request was refused, in words for the 403 body and the log.
#[derive(Debug)]
pub struct IngressDenial {
    address: IpAddr,
    destination: Arc<str>,
    call: String,
    /// What each IngressBackend that lets the address in opens, in words.
    opened: Vec<String>,
}

impl fmt::Display for IngressDenial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "denied: non-mesh client {} may not send {} ({:?}): ",
            self.address, self.call, self.destination
        )?;
        if self.opened.is_empty() {
            return f.write_str("no IngressBackend lets this address in");
        }
        f.write_str(&self.opened.join("; "))?;
        Ok(())
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

    fn rule(name: &str, backends: &[(&str, u32)], sources: &[&str]) -> proto::IngressRule {
        proto::IngressRule {
            ingress_backend: name.into(),
            backends: backends
                .iter()
                .map(|(service, port)| proto::IngressBackendPort {
                    service: (*service).into(),
                    port: *port,
                })
                .collect(),
            sources: sources.iter().map(|s| (*s).into()).collect(),
        }
    }

    fn decide(
        snapshot: &crate::snapshot::Snapshot,
        from: &str,
        service: &str,
        port: u16,
    ) -> Result<String, String> {
        let service: Arc<str> = Arc::from(service);
        authorize(
            &snapshot.workload,
            from.parse().unwrap(),
            &service,
            port,
            || "GET /x".into(),
        )
        .map(|rule| rule.name.to_string())
        .map_err(|denial| denial.to_string())
    }

    #[test]
    fn a_source_reaches_its_rules_backends_and_nothing_else() {
        let snapshot = workload(vec![
            rule("shop/edge", &[("api", 80)], &["10.0.0.0/8"]),
            rule("shop/ops", &[("admin", 9090)], &["192.0.2.7/32"]),
        ]);
        assert!(snapshot.workload.lets_in("10.9.8.7".parse().unwrap()));
        assert!(!snapshot.workload.lets_in("11.0.0.1".parse().unwrap()));
        assert_eq!(
            decide(&snapshot, "10.9.8.7", "api.shop", 80),
            Ok("shop/edge".into())
        );
        assert_eq!(
            decide(&snapshot, "192.0.2.7", "admin.shop", 9090),
            Ok("shop/ops".into())
        );
        // The other rule's backend, another port, another service: refused, saying why.
        let refused = decide(&snapshot, "10.9.8.7", "admin.shop", 9090).unwrap_err();
        assert_eq!(
            refused,
            "denied: non-mesh client 10.9.8.7 may not send GET /x to admin.shop port 9090 \
             (\"spiffe://cluster.local/ns/shop/sa/api\"): IngressBackend shop/edge opens only api.shop port 80"
        );
        assert!(decide(&snapshot, "10.9.8.7", "api.shop", 8080).is_err());
        let stranger = decide(&snapshot, "11.0.0.1", "api.shop", 80).unwrap_err();
        assert!(
            stranger.ends_with("no IngressBackend lets this address in"),
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
}
