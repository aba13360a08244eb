//! Calls out of the mesh (issue 20): OSM Egress policies.

use meshcd_support::Cidr;

use super::Identity;

/// An OSM `policy.openservicemesh.io/v1alpha1` Egress: the destinations outside the mesh
/// some service accounts may call.
#[derive(Debug, Clone, PartialEq)]
pub struct Egress {
    pub name: String,
    pub namespace: String,
    pub sources: Vec<Identity>,
    /// Lower case, without a trailing dot; `*.example.com` is every name below
    /// example.com.
    pub hosts: Vec<String>,
    pub ip_ranges: Vec<Cidr>,
    pub ports: Vec<EgressPort>,
    /// Names of HTTPRouteGroups of the Egress's namespace: HTTP calls must match one of
    /// their matches; empty: every call.
    pub route_groups: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct EgressPort {
    pub number: u16,
    pub protocol: EgressProtocol,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EgressProtocol {
    Http,
    /// TLS passed through; its SNI is checked against the hosts.
    Https,
    Tcp,
}

impl EgressProtocol {
    pub fn parse(word: &str) -> Option<Self> {
        match word {
            "http" => Some(EgressProtocol::Http),
            "https" => Some(EgressProtocol::Https),
            "tcp" => Some(EgressProtocol::Tcp),
            _ => None,
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            EgressProtocol::Http => "http",
            EgressProtocol::Https => "https",
            EgressProtocol::Tcp => "tcp",
        }
    }
}

impl Egress {
    /// Whether calls from `caller` follow this Egress.
    pub fn applies_to(&self, caller: &Identity) -> bool {
        self.sources.contains(caller)
    }

    /// The destinations as written: hosts, then CIDRs.
    pub fn destinations(&self) -> impl Iterator<Item = String> + '_ {
        self.hosts
            .iter()
            .cloned()
            .chain(self.ip_ranges.iter().map(Cidr::to_string))
    }
}
