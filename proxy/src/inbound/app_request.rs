//! The request as the app gets it: origin-form path on HTTP/1.1, the app's address as
//! authority on HTTP/2, and the caller's Host kept either way.

use http::header::{HOST, HeaderValue};
use http::uri::{PathAndQuery, Scheme};
use http::{Request, Uri, Version};
use hyper::body::Incoming;

use crate::snapshot::InboundPort;

/// The request as the app gets it: origin-form path on the app's address, the caller's
/// Host kept (taken from `:authority` when the caller spoke HTTP/2).
pub(super) fn for_app(app: &InboundPort, http2: bool, request: &mut Request<Incoming>) {
    keep_host(request);
    let path = request
        .uri()
        .path_and_query()
        .cloned()
        .unwrap_or_else(|| PathAndQuery::from_static("/"));
    let mut parts = http::uri::Parts::default();
    parts.scheme = Some(Scheme::HTTP);
    parts.authority = Some(app.app_authority.clone());
    parts.path_and_query = Some(path);
    if let Ok(uri) = Uri::from_parts(parts) {
        *request.uri_mut() = uri;
    }
    *request.version_mut() = if http2 {
        Version::HTTP_2
    } else {
        Version::HTTP_11
    };
}

/// An HTTP/2 caller names the host in `:authority` only; the app gets it as `Host`.
pub(super) fn keep_host<B>(request: &mut Request<B>) {
    if !request.headers().contains_key(HOST)
        && let Some(authority) = request.uri().authority()
        && let Ok(host) = HeaderValue::from_str(authority.as_str())
    {
        request.headers_mut().insert(HOST, host);
    }
}

/// The request as the app gets it over HTTP/1.1: origin-form path, and the caller's Host
/// (from `:authority` when the caller spoke HTTP/2; the app's address when it named none).
pub(super) fn origin_form(app: &InboundPort, request: &mut Request<Incoming>) {
    keep_host(request);
    if !request.headers().contains_key(HOST)
        && let Ok(host) = HeaderValue::from_str(app.app_authority.as_str())
    {
        request.headers_mut().insert(HOST, host);
    }
    let path = request
        .uri()
        .path_and_query()
        .cloned()
        .unwrap_or_else(|| PathAndQuery::from_static("/"));
    *request.uri_mut() = Uri::from(path);
    *request.version_mut() = Version::HTTP_11;
}
