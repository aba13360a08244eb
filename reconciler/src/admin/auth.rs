//! Who may use the admin API: which routes are open, what each protected one asks for,
//! and the decisions on a request's `Origin` and bearer token, as plain functions.

use hyper::HeaderMap;
use hyper::header::{AUTHORIZATION, HOST, ORIGIN};
use subtle::ConstantTimeEq as _;

use super::token_file::AdminToken;

/// What a protected route does, in the attributes a Kubernetes SubjectAccessReview
/// takes (group [`API_GROUP`]); local mode only needs to know that it is protected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    pub verb: String,
    pub resource: &'static str,
    pub namespace: Option<String>,
    pub name: Option<String>,
}

/// The API group of the admin API's RBAC attributes (the group of meshcd's CRDs).
pub use crate::defaults::API_GROUP;

/// How a route is guarded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Guard {
    /// Probes and metrics: an orchestrator or Prometheus reads them without credentials.
    Open,
    /// `POST /webhook` proves itself with its HMAC signature instead.
    Signed,
    Protected(Action),
}

/// Paths anyone may reach: the probes and the metrics.
pub(super) const OPEN_PATHS: [&str; 4] = ["/healthz", "/livez", "/readyz", "/metrics"];
/// Paths that need a token whatever the method (besides `/canaries/…`).
pub(super) const PROTECTED_PATHS: [&str; 5] =
    ["/status", "/traffic", "/sync", "/suspend", "/resume"];

/// The segments after `/canaries/` (`<namespace>/<name>/<action>` when well formed).
pub(super) fn canary_segments(path: &str) -> Option<Vec<&str>> {
    path.starts_with("/canaries/")
        .then(|| path.trim_start_matches("/canaries/").split('/').collect())
}

/// Classifies a request by method and path. Unknown paths are open: they answer 404
/// (or 405) and do nothing.
pub fn guard(method: &hyper::Method, path: &str) -> Guard {
    use hyper::Method;
    let cluster = |verb: &str, resource| {
        Guard::Protected(Action {
            verb: verb.to_string(),
            resource,
            namespace: None,
            name: None,
        })
    };
    match (method, path) {
        (_, path) if OPEN_PATHS.contains(&path) => Guard::Open,
        (_, "/webhook") => Guard::Signed,
        (&Method::GET, "/status" | "/traffic") => cluster("get", "status"),
        (&Method::POST, "/sync") => cluster("sync", "sources"),
        (&Method::POST, "/suspend") => cluster("suspend", "sources"),
        (&Method::POST, "/resume") => cluster("resume", "sources"),
        (method, path) => match canary_segments(path) {
            Some(segments) if method == Method::POST => {
                // A malformed path still needs the verb: 404 is for those who may ask.
                let segment = |index: usize| segments.get(index).map(|s| s.to_string());
                Guard::Protected(Action {
                    verb: segment(2).unwrap_or_else(|| "update".to_string()),
                    resource: "canaries",
                    namespace: segment(0),
                    name: segment(1),
                })
            }
            // Every other method on a protected path is refused before it is told 405,
            // so that the listener does not tell strangers which routes exist.
            Some(_) => cluster("get", "status"),
            None if PROTECTED_PATHS.contains(&path) => cluster("get", "status"),
            None => Guard::Open,
        },
    }
}

/// Why a request was refused: the `reason` label of
/// `meshcd_admin_requests_refused_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// No `Authorization` header (401).
    MissingToken,
    /// An `Authorization` header that is not `Bearer <token>` (401).
    MalformedToken,
    /// A token that is not the admin token, or that the API server does not
    /// authenticate (403).
    WrongToken,
    /// An authenticated token whose user RBAC does not allow the action (403).
    Forbidden,
    /// A browser request from another origin (403).
    CrossOrigin,
    /// The API server could not be asked (503).
    ReviewFailed,
}

impl Reason {
    pub const ALL: [Reason; 6] = [
        Reason::MissingToken,
        Reason::MalformedToken,
        Reason::WrongToken,
        Reason::Forbidden,
        Reason::CrossOrigin,
        Reason::ReviewFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::MissingToken => "missing_token",
            Reason::MalformedToken => "malformed_token",
            Reason::WrongToken => "wrong_token",
            Reason::Forbidden => "forbidden",
            Reason::CrossOrigin => "cross_origin",
            Reason::ReviewFailed => "review_failed",
        }
    }
}

/// A refusal: its reason, and the sentence the caller reads (never the token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub reason: Reason,
    pub message: String,
}

impl Refusal {
    pub fn new(reason: Reason, message: impl Into<String>) -> Self {
        Refusal {
            reason,
            message: message.into(),
        }
    }
}

/// Refuses a request a browser sent on behalf of a page from another origin: a simple
/// cross-origin POST needs no preflight, so only the listener can stop it. Clients that
/// are not browsers send neither header.
pub fn same_origin(headers: &HeaderMap) -> Result<(), Refusal> {
    let refuse = |why: String| Err(Refusal::new(Reason::CrossOrigin, why));
    // `same-site` is refused too: a page on another port of localhost is the same site.
    if let Some(site) = headers.get("sec-fetch-site") {
        let site = site.to_str().unwrap_or("");
        if !site.eq_ignore_ascii_case("same-origin") && !site.eq_ignore_ascii_case("none") {
            return refuse(format!(
                "cross-origin request refused: Sec-Fetch-Site is {site}"
            ));
        }
    }
    let Some(origin) = headers.get(ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or("");
    let host = headers
        .get(HOST)
        .and_then(|host| host.to_str().ok())
        .unwrap_or("");
    // The listener speaks plain HTTP: its own origin is http://<Host>.
    match origin.strip_prefix("http://") {
        Some(authority) if !host.is_empty() && authority.eq_ignore_ascii_case(host) => Ok(()),
        _ => refuse(format!(
            "cross-origin request refused: Origin {origin} is not this listener (http://{host})"
        )),
    }
}

/// The token of `Authorization: Bearer <token>`.
pub fn bearer(headers: &HeaderMap) -> Result<&str, Refusal> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Err(Refusal::new(
            Reason::MissingToken,
            "missing bearer token: send Authorization: Bearer <admin token>",
        ));
    };
    let malformed = || {
        Refusal::new(
            Reason::MalformedToken,
            "malformed Authorization header: expected Bearer <admin token>",
        )
    };
    let value = value.to_str().map_err(|_| malformed())?;
    let (scheme, token) = value.split_once(' ').ok_or_else(malformed)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() || token.contains(' ') {
        return Err(malformed());
    }
    Ok(token)
}

/// Local mode: the presented token must be the one in the state directory, compared in
/// constant time so its bytes cannot be guessed from response times.
pub fn local(presented: &str, expected: &AdminToken) -> Result<(), Refusal> {
    if bool::from(presented.as_bytes().ct_eq(expected.expose().as_bytes())) {
        Ok(())
    } else {
        Err(Refusal::new(
            Reason::WrongToken,
            "wrong admin token: use the one meshcd wrote to <state-dir>/admin-token",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::Method;
    use hyper::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn probes_metrics_and_the_webhook_need_no_token_and_commands_do() {
        for path in ["/healthz", "/livez", "/readyz", "/metrics"] {
            assert_eq!(guard(&Method::GET, path), Guard::Open, "{path}");
        }
        assert_eq!(guard(&Method::POST, "/webhook"), Guard::Signed);
        assert_eq!(guard(&Method::GET, "/nothing-here"), Guard::Open);
        for (method, path) in [
            (Method::GET, "/status"),
            (Method::GET, "/traffic"),
            (Method::POST, "/sync"),
            (Method::POST, "/suspend"),
            (Method::POST, "/resume"),
            (Method::POST, "/canaries/shop/api/promote"),
            (Method::DELETE, "/suspend"),
            (Method::GET, "/canaries/shop/api/promote"),
        ] {
            assert!(
                matches!(guard(&method, path), Guard::Protected(_)),
                "{method} {path}"
            );
        }
    }

    #[test]
    fn a_canary_command_asks_for_its_verb_on_that_canary() {
        assert_eq!(
            guard(&Method::POST, "/canaries/shop/api/promote"),
            Guard::Protected(Action {
                verb: "promote".into(),
                resource: "canaries",
                namespace: Some("shop".into()),
                name: Some("api".into()),
            })
        );
    }

    #[test]
    fn missing_and_malformed_tokens_are_told_apart() {
        assert_eq!(
            bearer(&headers(&[])).unwrap_err().reason,
            Reason::MissingToken
        );
        for value in [
            "Basic dXNlcjpwYXNz",
            "Bearer",
            "Bearer ",
            "token",
            "Bearer a b",
        ] {
            let mut map = HeaderMap::new();
            map.insert(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
            assert_eq!(
                bearer(&map).unwrap_err().reason,
                Reason::MalformedToken,
                "{value}"
            );
        }
        assert_eq!(
            bearer(&headers(&[("authorization", "bearer abc")])).unwrap(),
            "abc"
        );
    }

    #[test]
    fn only_the_exact_admin_token_passes_and_the_refusal_does_not_echo_it() {
        let expected = AdminToken::from_text("mcda_right").unwrap();
        assert!(local("mcda_right", &expected).is_ok());
        for wrong in ["mcda_wrong", "mcda_righ", "mcda_right2", ""] {
            let refusal = local(wrong, &expected).unwrap_err();
            assert_eq!(refusal.reason, Reason::WrongToken);
            assert!(!refusal.message.contains("mcda_"), "{}", refusal.message);
        }
    }

    #[test]
    fn a_request_from_another_origin_is_refused_and_its_own_origin_passes() {
        assert!(same_origin(&headers(&[("host", "127.0.0.1:15014")])).is_ok());
        assert!(
            same_origin(&headers(&[
                ("host", "127.0.0.1:15014"),
                ("origin", "http://127.0.0.1:15014"),
                ("sec-fetch-site", "same-origin"),
            ]))
            .is_ok()
        );
        for refused in [
            headers(&[
                ("host", "127.0.0.1:15014"),
                ("origin", "http://evil.example"),
            ]),
            headers(&[("host", "127.0.0.1:15014"), ("origin", "null")]),
            headers(&[
                ("host", "127.0.0.1:15014"),
                ("origin", "https://127.0.0.1:15014"),
            ]),
            headers(&[
                ("host", "127.0.0.1:15014"),
                ("origin", "http://127.0.0.1:3000"),
            ]),
            headers(&[("origin", "http://127.0.0.1:15014")]),
            headers(&[
                ("host", "127.0.0.1:15014"),
                ("sec-fetch-site", "cross-site"),
            ]),
            headers(&[("host", "127.0.0.1:15014"), ("sec-fetch-site", "same-site")]),
        ] {
            assert_eq!(
                same_origin(&refused).unwrap_err().reason,
                Reason::CrossOrigin,
                "{refused:?}"
            );
        }
    }
}
