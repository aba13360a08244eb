//! Calls out of the mesh (OSM Egress): which destinations outside the mesh this proxy's
//! workload may call, compiled once per snapshot.
//!
//! A destination is a host name (an HTTP Host, a CONNECT's host, a TLS SNI) or an IP
//! address (an IP Host or CONNECT, a redirected connection's original destination) and
//! a port. Names match a rule's `hosts`, addresses its `ip_ranges`. HTTP needs an `http`
//! port and one of the rule's matches; a stream needs a `tcp` port, or an `https` one
//! and then an SNI among the hosts (checked on the ClientHello, see [`Egress::tls`]).

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use http::{HeaderMap, Method};
use meshcd_schemas::proto;
use meshcd_support::Cidr;

use super::matcher::{HttpMatch, InvalidMatch};

#[derive(Debug, thiserror::Error)]
pub enum InvalidEgress {
    #[error("egress {rule:?}: {range:?} is not a CIDR")]
    Range { rule: String, range: String },
    #[error("egress {rule:?}: port {port} is not between 1 and 65535")]
    Port { rule: String, port: u32 },
    #[error("egress {rule:?}: unknown protocol {value}")]
    Protocol { rule: String, value: i32 },
    #[error("egress {rule:?}")]
    Match {
        rule: String,
        source: Box<InvalidMatch>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EgressProtocol {
    Http,
    Https,
    Tcp,
}

impl EgressProtocol {
    pub fn word(self) -> &'static str {
        match self {
            EgressProtocol::Http => "http",
            EgressProtocol::Https => "https",
            EgressProtocol::Tcp => "tcp",
        }
    }
}

/// Where a call out of the mesh is going, as far as the proxy knows it.
#[derive(Debug, Clone, Copy)]
pub struct Destination<'a> {
    /// Lower case, no port or trailing dot; `None` when only the address is known.
    pub host: Option<&'a str>,
    pub ip: Option<IpAddr>,
    pub port: u16,
}

impl fmt::Display for Destination<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.host, self.ip) {
            (Some(host), _) => write!(f, "{host}:{}", self.port),
            (None, Some(IpAddr::V6(ip))) => write!(f, "[{ip}]:{}", self.port),
            (None, Some(ip)) => write!(f, "{ip}:{}", self.port),
            (None, None) => write!(f, "?:{}", self.port),
        }
    }
}

/// Why a call out of the mesh was refused; its `Display` is the 403 body and log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    pub destination: String,
    pub protocol: EgressProtocol,
    pub why: String,
}

impl fmt::Display for Denied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "egress to {} ({}) denied: {}",
            self.destination,
            self.protocol.word(),
            self.why
        )
    }
}

/// The Egress (`namespace/name`) that allowed a call; empty: the Mesh's default.
pub type Allowed = Arc<str>;

/// What a stream out of the mesh may be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamVerdict {
    /// Bytes passed through (a `tcp` port, or the Mesh's default).
    Pass(Allowed),
    /// TLS passed through once its ClientHello names an allowed SNI ([`Egress::tls`]).
    Tls,
}

#[derive(Debug)]
struct Rule {
    name: Arc<str>,
    /// Exact names, and `*.` suffixes kept as ".example.com".
    hosts: Vec<Box<str>>,
    ranges: Vec<Cidr>,
    ports: Vec<(u16, EgressProtocol)>,
    matches: Vec<HttpMatch>,
}

impl Rule {
    fn port(&self, port: u16, protocol: EgressProtocol) -> bool {
        self.ports.contains(&(port, protocol))
    }

    fn names(&self, host: &str) -> bool {
        self.hosts
            .iter()
            .any(|pattern| match pattern.strip_prefix('*') {
                Some(suffix) => host.len() > suffix.len() && host.ends_with(suffix),
                None => **pattern == *host,
            })
    }

    fn reaches(&self, destination: &Destination<'_>) -> bool {
        let ip = destination
            .ip
            .or_else(|| destination.host?.parse::<IpAddr>().ok());
        match ip {
            Some(ip) if destination.host.is_none_or(|h| h.parse::<IpAddr>().is_ok()) => {
                self.ranges.iter().any(|range| range.contains(ip))
            }
            _ => destination.host.is_some_and(|host| self.names(host)),
        }
    }
}

/// The Egress rules of one proxy's identity and the Mesh's default.
#[derive(Debug, Default)]
pub struct Egress {
    /// Calls no rule allows are forwarded (`egress: allow`).
    pub allow_all: bool,
    rules: Vec<Rule>,
}

const MESH_DEFAULT: &str = "";

impl Egress {
    pub fn compile(allow_all: bool, rules: Vec<proto::EgressRule>) -> Result<Self, InvalidEgress> {
        let rules = rules
            .into_iter()
            .map(compile_rule)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Egress { allow_all, rules })
    }

    /// An HTTP request to `destination`.
    pub fn http(
        &self,
        destination: &Destination<'_>,
        (method, path, headers): (&Method, &str, &HeaderMap),
    ) -> Result<Allowed, Denied> {
        let mut unmatched = None;
        for rule in &self.rules {
            if !rule.port(destination.port, EgressProtocol::Http) || !rule.reaches(destination) {
                continue;
            }
            if rule.matches.is_empty()
                || rule
                    .matches
                    .iter()
                    .any(|m| m.matches(method, path, headers))
            {
                return Ok(rule.name.clone());
            }
            unmatched.get_or_insert(&rule.name);
        }
        let why = match unmatched {
            Some(rule) if !self.allow_all => format!(
                "Egress {rule} allows only requests matching its HTTPRouteGroups, and {method} {path} matches none"
            ),
            _ => return self.default(destination, EgressProtocol::Http),
        };
        Err(self.denied(destination, EgressProtocol::Http, why))
    }

    /// A stream (a CONNECT tunnel or a redirected connection) to `destination`: passed
    /// through by a `tcp` port, or checked on its TLS ClientHello first by an `https`
    /// one. A redirected connection (no host known) may be TLS to any of the hosts.
    pub fn stream(&self, destination: &Destination<'_>) -> Result<StreamVerdict, Denied> {
        if let Some(rule) = self
            .rules
            .iter()
            .find(|r| r.port(destination.port, EgressProtocol::Tcp) && r.reaches(destination))
        {
            return Ok(StreamVerdict::Pass(rule.name.clone()));
        }
        let tls = self.rules.iter().any(|rule| {
            rule.port(destination.port, EgressProtocol::Https)
                && (destination.host.is_none() || rule.reaches(destination))
        });
        if tls {
            return Ok(StreamVerdict::Tls);
        }
        self.default(destination, EgressProtocol::Tcp)
            .map(StreamVerdict::Pass)
    }

    /// A TLS stream whose ClientHello named `sni` (lower case), to `destination` (the
    /// CONNECT's host, or the redirected connection's address).
    pub fn tls(&self, destination: &Destination<'_>, sni: Option<&str>) -> Result<Allowed, Denied> {
        let https = |rule: &&Rule| rule.port(destination.port, EgressProtocol::Https);
        let reached = |rule: &&Rule| destination.host.is_none() || rule.reaches(destination);
        let found = match sni {
            Some(sni) => self
                .rules
                .iter()
                .filter(https)
                .filter(reached)
                .find(|rule| rule.names(sni)),
            // No SNI: only an address range can allow it.
            None => self.rules.iter().filter(https).find(|rule| {
                destination
                    .ip
                    .is_some_and(|ip| rule.ranges.iter().any(|range| range.contains(ip)))
            }),
        };
        if let Some(rule) = found {
            return Ok(rule.name.clone());
        }
        let why = match sni {
            Some(sni) => format!(
                "the TLS server name {sni:?} is not among the hosts of an Egress on port {}",
                destination.port
            ),
            None => "the TLS ClientHello names no server (SNI), and no Egress allows its address"
                .to_string(),
        };
        Err(self.denied(destination, EgressProtocol::Https, why))
    }

    fn default(
        &self,
        destination: &Destination<'_>,
        protocol: EgressProtocol,
    ) -> Result<Allowed, Denied> {
        if self.allow_all {
            return Ok(MESH_DEFAULT.into());
        }
        let why = "no Egress policy allows it and the mesh's egress is deny".to_string();
        Err(self.denied(destination, protocol, why))
    }

    fn denied(
        &self,
        destination: &Destination<'_>,
        protocol: EgressProtocol,
        why: String,
    ) -> Denied {
        Denied {
            destination: destination.to_string(),
            protocol,
            why,
        }
    }
}

fn compile_rule(rule: proto::EgressRule) -> Result<Rule, InvalidEgress> {
    let name = rule.name;
    let mut ranges = Vec::with_capacity(rule.ip_ranges.len());
    for range in rule.ip_ranges {
        match range.parse::<Cidr>() {
            Ok(net) => ranges.push(net),
            Err(_) => {
                return Err(InvalidEgress::Range { rule: name, range });
            }
        }
    }
    let mut ports = Vec::with_capacity(rule.ports.len());
    for port in rule.ports {
        let Ok(number) = u16::try_from(port.number) else {
            return Err(InvalidEgress::Port {
                rule: name,
                port: port.number,
            });
        };
        let protocol = match proto::EgressProtocol::try_from(port.protocol) {
            Ok(proto::EgressProtocol::Http) => EgressProtocol::Http,
            Ok(proto::EgressProtocol::Https) => EgressProtocol::Https,
            Ok(proto::EgressProtocol::Tcp) => EgressProtocol::Tcp,
            Err(_) => {
                return Err(InvalidEgress::Protocol {
                    rule: name,
                    value: port.protocol,
                });
            }
        };
        ports.push((number, protocol));
    }
    let matches = rule
        .matches
        .into_iter()
        .map(HttpMatch::try_from)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| InvalidEgress::Match {
            rule: name.clone(),
            source: Box::new(source),
        })?;
    let hosts = rule
        .hosts
        .iter()
        .map(|host| {
            host.trim_end_matches('.')
                .to_ascii_lowercase()
                .into_boxed_str()
        })
        .collect();
    Ok(Rule {
        name: name.into(),
        hosts,
        ranges,
        ports,
        matches,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn egress(allow_all: bool) -> Egress {
        let port = |number, protocol: proto::EgressProtocol| proto::EgressPort {
            number,
            protocol: protocol as i32,
        };
        Egress::compile(
            allow_all,
            vec![
                proto::EgressRule {
                    name: "shop/payments".into(),
                    hosts: vec!["api.pay.example".into(), "*.cdn.example".into()],
                    ports: vec![
                        port(80, proto::EgressProtocol::Http),
                        port(443, proto::EgressProtocol::Https),
                    ],
                    matches: vec![proto::HttpMatch {
                        name: "reads/get".into(),
                        methods: vec!["GET".into()],
                        ..Default::default()
                    }],
                    ..Default::default()
                },
                proto::EgressRule {
                    name: "shop/db".into(),
                    ip_ranges: vec!["203.0.113.0/24".into()],
                    ports: vec![port(5432, proto::EgressProtocol::Tcp)],
                    ..Default::default()
                },
            ],
        )
        .unwrap()
    }

    fn to(host: Option<&str>, ip: Option<&str>, port: u16) -> Destination<'static> {
        let host = host.map(|h| &*Box::leak(h.to_string().into_boxed_str()));
        Destination {
            host,
            ip: ip.map(|ip| ip.parse().unwrap()),
            port,
        }
    }

    fn get(
        egress: &Egress,
        destination: Destination<'_>,
        method: Method,
    ) -> Result<Allowed, String> {
        egress
            .http(&destination, (&method, "/x", &HeaderMap::new()))
            .map_err(|denied| denied.to_string())
    }

    #[test]
    fn http_needs_a_named_host_an_http_port_and_a_match() {
        let egress = egress(false);
        let ok = get(&egress, to(Some("api.pay.example"), None, 80), Method::GET);
        assert_eq!(ok.as_deref(), Ok("shop/payments"));
        let wildcard = get(&egress, to(Some("img.cdn.example"), None, 80), Method::GET);
        assert_eq!(wildcard.as_deref(), Ok("shop/payments"));
        for (host, port) in [
            ("cdn.example", 80),
            ("api.pay.example", 8080),
            ("evil.example", 80),
        ] {
            let denied = get(&egress, to(Some(host), None, port), Method::GET).unwrap_err();
            assert!(
                denied.contains("no Egress policy allows it"),
                "{host}:{port}: {denied}"
            );
        }
        let post = get(&egress, to(Some("api.pay.example"), None, 80), Method::POST);
        assert!(post.unwrap_err().contains("allows only requests matching"));
    }

    #[test]
    fn addresses_match_ranges_and_names_never_do() {
        let egress = egress(false);
        let stream = |host, ip, port| egress.stream(&to(host, ip, port));
        assert_eq!(
            stream(None, Some("203.0.113.9"), 5432),
            Ok(StreamVerdict::Pass("shop/db".into()))
        );
        assert_eq!(
            stream(Some("203.0.113.9"), None, 5432),
            Ok(StreamVerdict::Pass("shop/db".into()))
        );
        assert!(stream(None, Some("198.51.100.1"), 5432).is_err());
        // A name that resolves into the range is not the range.
        assert!(stream(Some("db.example"), Some("203.0.113.9"), 5432).is_err());
    }

    #[test]
    fn tls_is_allowed_by_its_server_name() {
        let egress = egress(false);
        let connect = to(Some("api.pay.example"), None, 443);
        assert_eq!(egress.stream(&connect), Ok(StreamVerdict::Tls));
        assert!(egress.tls(&connect, Some("api.pay.example")).is_ok());
        let smuggled = egress.tls(&connect, Some("evil.example")).unwrap_err();
        assert!(
            smuggled
                .to_string()
                .contains("\"evil.example\" is not among the hosts")
        );
        assert!(egress.tls(&connect, None).is_err());
        assert!(egress.stream(&to(Some("evil.example"), None, 443)).is_err());
        // A redirected connection: the SNI alone decides.
        let redirected = to(None, Some("192.0.2.1"), 443);
        assert_eq!(egress.stream(&redirected), Ok(StreamVerdict::Tls));
        assert!(egress.tls(&redirected, Some("x.cdn.example")).is_ok());
        assert!(egress.tls(&redirected, Some("evil.example")).is_err());
    }

    #[test]
    fn the_mesh_default_allows_what_no_rule_does() {
        let egress = egress(true);
        assert_eq!(
            get(&egress, to(Some("evil.example"), None, 80), Method::GET).as_deref(),
            Ok("")
        );
        assert_eq!(
            egress.stream(&to(Some("evil.example"), None, 22)),
            Ok(StreamVerdict::Pass("".into()))
        );
        // Rules only ever add to what the default allows.
        let post = get(&egress, to(Some("api.pay.example"), None, 80), Method::POST);
        assert_eq!(post.as_deref(), Ok(""));
    }
}
