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
