//! Gateway API routes of a mesh (GAMMA): HTTPRoute and GRPCRoute bound to a Service, and the
//! ReferenceGrants that let a route reach a backend in another namespace. Every CRD default
//! is applied by `validate` (a rule without matches matches every path, a backendRef without
//! a weight has weight 1, …), so what is here is what meshcd does.

use std::time::Duration;

/// A Service a route is bound to (`parentRefs[]` with `kind: Service`): all of its ports,
/// or one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentService {
    /// Its index in `parentRefs`, for diagnostics.
    pub position: usize,
    pub namespace: String,
    pub name: String,
    pub port: Option<u16>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HttpRoute {
    pub namespace: String,
    pub name: String,
    pub parents: Vec<ParentService>,
    pub rules: Vec<HttpRouteRule>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HttpRouteRule {
    /// `rules[].name`, when the route names it.
    pub name: Option<String>,
    /// At least one: the default is one match of every path (`PathPrefix /`).
    pub matches: Vec<HttpRouteMatch>,
    pub filters: Vec<HttpFilter>,
    pub backends: Vec<BackendRef>,
    pub timeouts: Timeouts,
    pub retry: Option<Retry>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HttpRouteMatch {
    pub path: PathMatch,
    pub headers: Vec<ValueMatch>,
    pub query_params: Vec<ValueMatch>,
    /// Upper case, as HTTP methods are written; `None`: any method.
    pub method: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathMatch {
    Exact(String),
    Prefix(String),
    Regex(String),
}

/// A header or query parameter: its name and an exact value or a regex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueMatch {
    pub name: String,
    pub value: String,
    pub regex: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum HttpFilter {
    RequestHeaders(HeaderModifier),
    ResponseHeaders(HeaderModifier),
    Redirect(Redirect),
    Rewrite(Rewrite),
    Mirror(Mirror),
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HeaderModifier {
    pub set: Vec<(String, String)>,
    pub add: Vec<(String, String)>,
    pub remove: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathModifier {
    Full(String),
    /// Replaces the rule's one `PathPrefix` match.
    Prefix(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    pub scheme: Option<String>,
    pub hostname: Option<String>,
    pub path: Option<PathModifier>,
    pub port: Option<u16>,
    /// 301, 302 (the default), 303, 307 or 308.
    pub status: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewrite {
    pub hostname: Option<String>,
    pub path: Option<PathModifier>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Mirror {
    pub backend: BackendRef,
    /// The share of requests mirrored, as numerator / denominator (100 / 100 by default).
    pub numerator: u32,
    pub denominator: u32,
}

/// A Service a rule sends to (`backendRefs[]`), in the route's namespace unless it says.
#[derive(Debug, Clone, PartialEq)]
pub struct BackendRef {
    pub namespace: String,
    pub name: String,
    pub port: u16,
    /// 1 by default; 0 sends nothing.
    pub weight: u32,
    pub filters: Vec<HttpFilter>,
}

/// GEP-1742: `request` bounds the whole exchange (retries included), `backend_request` one
/// try; `Some(ZERO)` disables the bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timeouts {
    pub request: Option<Duration>,
    pub backend_request: Option<Duration>,
}

/// GEP-1731 (experimental, the one experimental field meshcd reads).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retry {
    pub codes: Vec<u16>,
    pub attempts: Option<u32>,
    pub backoff: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GrpcRoute {
    pub namespace: String,
    pub name: String,
    pub parents: Vec<ParentService>,
    pub rules: Vec<GrpcRouteRule>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GrpcRouteRule {
    pub name: Option<String>,
    /// At least one: the default matches every method.
    pub matches: Vec<GrpcRouteMatch>,
    pub filters: Vec<HttpFilter>,
    pub backends: Vec<BackendRef>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrpcRouteMatch {
    pub service: Option<String>,
    pub method: Option<String>,
    /// `type: RegularExpression` (service and method are regexes).
    pub regex: bool,
    pub headers: Vec<ValueMatch>,
}

/// Lets routes of `from` namespaces reach Services of this grant's namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceGrant {
    pub namespace: String,
    pub name: String,
    /// (kind, namespace) of the routes allowed: `HTTPRoute` or `GRPCRoute`.
    pub from: Vec<(String, String)>,
    /// Services allowed: `None` for every Service of the namespace.
    pub to: Vec<Option<String>>,
}
