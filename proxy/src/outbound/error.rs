//! Why an outbound request failed, classified once into the response the app gets:
//! 404 unknown host, 503 nothing reachable, 502 the peer failed, 504 too slow.

use std::sync::Arc;
use std::time::Duration;

use http::{Response, StatusCode};

use super::pool::ConnectError;
use super::route::RouteError;
use crate::http::respond::{self, ResponseBody};

#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    #[error("meshcd-proxy has no snapshot loaded yet")]
    NoSnapshot,
    #[error(transparent)]
    Route(#[from] RouteError),
    #[error("backend {backend:?} has no endpoints")]
    NoEndpoints { backend: Arc<str> },
    #[error("backend {backend:?}")]
    Connect {
        backend: Arc<str>,
        source: ConnectError,
    },
    #[error("backend {backend:?} at {endpoint}: {message}")]
    Upstream {
        backend: Arc<str>,
        endpoint: Arc<str>,
        message: String,
    },
    #[error("backend {backend:?} did not answer within {timeout:?}")]
    Timeout {
        backend: Arc<str>,
        timeout: Duration,
    },
    #[error("CONNECT is only proxied to TCP service ports; {0}")]
    ConnectMethod(String),
    #[error(transparent)]
    Path(#[from] crate::http::path::PathError),
    #[error("no rule of the routes of {service} port {port} matches {method} {path}")]
    NoRule {
        service: Arc<str>,
        port: u16,
        method: http::Method,
        path: String,
        /// The routes are GRPCRoutes: answered UNIMPLEMENTED.
        grpc: bool,
    },
    #[error("route rule {rule:?} has no backend with a positive weight")]
    NoWeightedBackend {
        rule: Arc<str>,
        /// A GRPCRoute's rule: answered UNAVAILABLE.
        grpc: bool,
    },
    #[error("the redirect location {0:?} is not a valid header value")]
    Location(String),
    #[error("reading the request body: {0}")]
    RequestBody(String),
    #[error(
        "call to {backend} refused: {max} connections at once is the {limit} of UpstreamTrafficSetting {setting}"
    )]
    Overflow {
        backend: Arc<str>,
        setting: Arc<str>,
        limit: &'static str,
        max: u32,
    },
}

impl ForwardError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NoSnapshot
            | Self::NoEndpoints { .. }
            | Self::Connect { .. }
            | Self::Overflow { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Route(RouteError::MissingHost) | Self::Path(_) | Self::RequestBody(_) => {
                StatusCode::BAD_REQUEST
            }
            Self::Route(_) => StatusCode::NOT_FOUND,
            Self::Upstream { .. } => StatusCode::BAD_GATEWAY,
            Self::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
            Self::ConnectMethod(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::NoRule { .. } => StatusCode::NOT_FOUND,
            Self::NoWeightedBackend { .. } | Self::Location(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn into_response(self) -> Response<ResponseBody> {
        let message = meshcd_support::error_chain(&self);
        match self {
            Self::NoRule { grpc: true, .. } => respond::grpc(respond::GRPC_UNIMPLEMENTED, &message),
            Self::NoWeightedBackend { grpc: true, .. } => {
                respond::grpc(respond::GRPC_UNAVAILABLE, &message)
            }
            _ => respond::text(self.status(), message),
        }
    }
}
