//! An HTTP request to a host outside the mesh: allowed by an Egress (or the Mesh's
//! default) on its host and port, then sent over a pooled plain connection to the host
//! as the proxy resolves it.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use http::uri::{Authority, PathAndQuery, Scheme};
use http::{Request, Response, StatusCode, Uri};
use hyper::body::Incoming;

use super::{EgressClient, count};
use crate::http::headers;
use crate::http::respond::{self, ResponseBody};
use crate::metrics::Metrics;
use crate::snapshot::Snapshot;
use crate::snapshot::egress::{Destination, EgressProtocol};

/// Sends `request` out of the mesh, or answers 403 naming why not. `host` and `port` are
/// what the request names (`port` `None`: 80), `original` a redirected connection's
/// destination.
pub async fn forward(
    client: &EgressClient,
    (snapshot, metrics): (&Snapshot, &Metrics),
    (host, port): (&str, Option<u16>),
    original: Option<SocketAddr>,
    mut request: Request<Incoming>,
    timeout: Duration,
) -> Response<ResponseBody> {
    let ip = host.parse::<IpAddr>().ok();
    // A redirected connection keeps the port it was made to; its Host names the server.
    let port = original.map_or(port.unwrap_or(80), |o| o.port());
    let destination = Destination {
        host: Some(host),
        ip,
        port,
    };
    let asked = (request.method(), request.uri().path(), request.headers());
    let decision = snapshot.egress.http(&destination, asked);
    count(metrics, EgressProtocol::Http, &decision);
    if let Err(denied) = decision {
        return respond::text(StatusCode::FORBIDDEN, denied.to_string());
    }
    let authority = match ip {
        Some(IpAddr::V6(ip)) => format!("[{ip}]:{port}"),
        _ => format!("{host}:{port}"),
    };
    if let Err(error) = retarget(&mut request, &authority) {
        return respond::text(StatusCode::BAD_REQUEST, error);
    }
    headers::strip_hop_by_hop(request.headers_mut());
    match tokio::time::timeout(timeout, client.http.request(request)).await {
        Ok(Ok(mut response)) => {
            headers::strip_hop_by_hop(response.headers_mut());
            respond::relayed(response)
        }
        Ok(Err(error)) => respond::text(
            StatusCode::BAD_GATEWAY,
            format!(
                "egress to {authority}: {}",
                meshcd_support::error_chain(&error)
            ),
        ),
        Err(_) => respond::text(
            StatusCode::GATEWAY_TIMEOUT,
            format!("egress to {authority} did not answer within {timeout:?}"),
        ),
    }
}

/// Makes the request's URI absolute for the client (`http://authority/path?query`);
/// the Host header the app sent is kept, or set from the URI it named.
fn retarget<B>(request: &mut Request<B>, authority: &str) -> Result<(), String> {
    let named = request.uri().authority().cloned();
    let path = request
        .uri()
        .path_and_query()
        .cloned()
        .unwrap_or_else(|| PathAndQuery::from_static("/"));
    let authority: Authority = authority
        .parse()
        .map_err(|_| format!("{authority:?} is not a host and port"))?;
    let mut parts = http::uri::Parts::default();
    parts.scheme = Some(Scheme::HTTP);
    parts.authority = Some(authority);
    parts.path_and_query = Some(path);
    *request.uri_mut() = Uri::from_parts(parts).map_err(|error| error.to_string())?;
    if let Some(named) = named
        && !request.headers().contains_key(http::header::HOST)
        && let Ok(value) = http::HeaderValue::from_str(named.as_str())
    {
        request.headers_mut().insert(http::header::HOST, value);
    }
    *request.version_mut() = http::Version::HTTP_11;
    Ok(())
}
