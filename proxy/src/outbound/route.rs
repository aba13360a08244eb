//! Which meshed service and port a request from the local app is for: the original
//! destination's ClusterIP in transparent mode, else the Host (absolute-form URI,
//! `:authority` or `Host` header) in any of the forms of design §2.

use std::net::{IpAddr, SocketAddr};

use http::Request;
use http::header::HOST;

use crate::snapshot::{Protocol, Service, Snapshot, parse_authority};

#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    #[error("the request names no host (no absolute URI, :authority or Host header)")]
    MissingHost,
    #[error("no meshed service {0:?}")]
    Unknown(String),
    #[error("{service} port {port} is a TCP port; connect to its local TCP listener instead")]
    TcpPort { service: String, port: u16 },
}

/// The service and service port a request is for.
pub fn resolve<'s, B>(
    snapshot: &'s Snapshot,
    original: Option<SocketAddr>,
    request: &Request<B>,
) -> Result<(&'s Service, u16), RouteError> {
    if let Some(found) = original.and_then(|o| snapshot.service_by_cluster_ip(&o)) {
        return http_port(found.0, found.1);
    }
    let authority = match request.uri().authority() {
        Some(authority) => authority.as_str(),
        None => request
            .headers()
            .get(HOST)
            .and_then(|host| host.to_str().ok())
            .ok_or(RouteError::MissingHost)?,
    };
    let unknown = || RouteError::Unknown(authority.to_owned());
    let parsed = parse_authority(authority).ok_or_else(unknown)?;
    if let Some(service) = snapshot.service_by_host(&parsed.host) {
        let port = match parsed.port {
            Some(port) => port,
            None => service.default_http_port().ok_or_else(unknown)?,
        };
        return match service.port(port) {
            Some(_) => http_port(service, port),
            None => Err(unknown()),
        };
    }
    // An explicit-proxy request for a ClusterIP:port.
    if let (Ok(ip), Some(port)) = (parsed.host.parse::<IpAddr>(), parsed.port) {
        if let Some((service, port)) = snapshot.service_by_cluster_ip(&SocketAddr::new(ip, port)) {
            return http_port(service, port);
        }
    }
    Err(unknown())
}

fn http_port(service: &Service, port: u16) -> Result<(&Service, u16), RouteError> {
    match service.port(port).map(|p| p.protocol) {
        Some(Protocol::Http) => Ok((service, port)),
        Some(Protocol::Tcp) => Err(RouteError::TcpPort {
            service: service.name.to_string(),
            port,
        }),
        None => Err(RouteError::Unknown(format!("{}:{port}", service.name))),
    }
}
