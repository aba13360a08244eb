//! Gateway API routes of a mesh (GAMMA): HTTPRoutes bound to a Service, and the
//! ReferenceGrants that let a route reach a backend in another namespace. Every CRD
//! default is applied by `validate` (a rule without matches matches every path, a
//! backendRef without a weight has weight 1, …), so what is here is what meshcd does; what
//! it does not implement yet is refused by `validate`, not modelled.

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

/// An HTTPRoute, or a GRPCRoute read as one: a gRPC call is an HTTP/2 POST of
/// `/service/method`, so its method match is a path match (see [`GrpcMethod`]).
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRoute {
    pub kind: GatewayRouteKind,
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
    /// `timeouts.request`: the whole exchange, retries included; `Some(ZERO)`: none;
    /// `None`: the Mesh's request timeout.
    pub request_timeout: Option<Duration>,
    /// `timeouts.backendRequest`: each attempt; `Some(ZERO)`: none.
    pub backend_timeout: Option<Duration>,
    pub retry: Option<Retry>,
}

/// A rule's `retry` (GEP-1731): which answers are retried, how often, how long apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retry {
    /// Status codes retried; connection failures and timed-out attempts always are.
    pub codes: Vec<u16>,
    /// Retries after the first attempt (`attempts`, 1 when unset).
    pub attempts: u32,
    /// The least wait before a retry (`backoff`); `None`: meshcd's own.
    pub backoff: Option<Duration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum GatewayRouteKind {
    Http,
    Grpc,
}

impl GatewayRouteKind {
    pub fn as_str(self) -> &'static str {
        match self {
            GatewayRouteKind::Http => "HTTPRoute",
            GatewayRouteKind::Grpc => "GRPCRoute",
        }
    }
}

/// A GRPCRoute's method match as written; the match's `path` says the same in paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrpcMethod {
    pub service: Option<String>,
    pub method: Option<String>,
    pub regex: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HttpRouteMatch {
    pub path: PathMatch,
    /// A GRPCRoute's match: its method match (`None`: every call).
    pub grpc: Option<GrpcMethod>,
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
    /// The proxy answers with a redirect instead of calling a backend.
    Redirect(Redirect),
    /// The request's host or path is rewritten before it is forwarded.
    Rewrite(Rewrite),
    /// A copy of the request goes to another Service too; its answer is dropped.
    Mirror(Mirror),
}

/// A RequestMirror filter.
#[derive(Debug, Clone, PartialEq)]
pub struct Mirror {
    pub namespace: String,
    pub name: String,
    pub port: u16,
    /// The share of requests mirrored, 0 to 1 (`percent` or `fraction`; all by default).
    pub fraction: f64,
}

/// A RequestRedirect filter: each part the filter leaves out is the request's own (the
/// port follows the scheme, see the proxy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    pub scheme: Option<String>,
    pub hostname: Option<String>,
    pub path: Option<PathModifier>,
    pub port: Option<u16>,
    /// 302 by default.
    pub status: u16,
}

/// A URLRewrite filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewrite {
    pub hostname: Option<String>,
    pub path: Option<PathModifier>,
}

/// How a redirect or rewrite changes the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathModifier {
    /// `ReplaceFullPath`: the whole path becomes this.
    Full(String),
    /// `ReplacePrefixMatch`: the prefix the rule's one PathPrefix match matched becomes
    /// this.
    Prefix(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HeaderModifier {
    pub set: Vec<(String, String)>,
    pub add: Vec<(String, String)>,
    pub remove: Vec<String>,
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

impl ReferenceGrant {
    /// Whether a route of `kind` in `from` may refer to Service `namespace`/`service`.
    pub fn allows(&self, kind: &str, from: &str, namespace: &str, service: &str) -> bool {
        self.namespace == namespace
            && self.from.iter().any(|(k, n)| k == kind && n == from)
            && self
                .to
                .iter()
                .any(|name| name.as_deref().is_none_or(|name| name == service))
    }
}
