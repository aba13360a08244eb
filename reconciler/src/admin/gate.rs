//! The admission of one request to a protected route: its origin, its bearer token, and
//! whether that token may do what the route does; a refusal is answered and counted.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{HeaderMap, Response, StatusCode};

use super::auth::{self, Action, Reason, Refusal};
use super::cluster_auth::ClusterAuthorizer;
use super::token_file::AdminToken;

/// Who decides on a token.
#[derive(Clone)]
pub enum Authenticator {
    /// Local mode: the token meshcd keeps in its state directory.
    Local(Arc<AdminToken>),
    /// Kubernetes mode: TokenReview, then RBAC through a SubjectAccessReview.
    Cluster(ClusterAuthorizer),
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Authenticator::Local(_) => "Authenticator::Local",
            Authenticator::Cluster(_) => "Authenticator::Cluster",
        })
    }
}

impl Authenticator {
    /// The origin is checked first: a browser's cross-origin request is refused
    /// whatever credentials it carries.
    pub async fn admit(&self, headers: &HeaderMap, action: &Action) -> Result<(), Refusal> {
        auth::same_origin(headers)?;
        let token = auth::bearer(headers)?;
        match self {
            Authenticator::Local(expected) => auth::local(token, expected),
            Authenticator::Cluster(authorizer) => authorizer.authorize(token, action).await,
        }
    }
}

/// 401 (with `WWW-Authenticate`) for a missing or malformed token, 403 for a wrong or
/// unauthorised one and for another origin, 503 when the API server could not be asked.
pub fn refused(refusal: &Refusal) -> Response<Full<Bytes>> {
    let status = match refusal.reason {
        Reason::MissingToken | Reason::MalformedToken => StatusCode::UNAUTHORIZED,
        Reason::WrongToken | Reason::Forbidden | Reason::CrossOrigin => StatusCode::FORBIDDEN,
        Reason::ReviewFailed => StatusCode::SERVICE_UNAVAILABLE,
    };
    let mut response = super::text(status, format!("{}\n", refusal.message));
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            hyper::header::WWW_AUTHENTICATE,
            hyper::header::HeaderValue::from_static("Bearer realm=\"meshcd\""),
        );
    }
    response
}
