//! The filters of a route rule or of one of its backends, compiled once per snapshot:
//! header modifiers, URLRewrite (the request changed before it is forwarded) and
//! RequestRedirect (the proxy answers itself).

use std::fmt::Write as _;

use http::header::HOST;
use http::uri::PathAndQuery;
use http::{HeaderMap, HeaderName, HeaderValue, Request, StatusCode, Uri};
use meshcd_schemas::proto;

use super::routes::InvalidRoute;

/// What a rule or a backendRef does to the request it forwards and to the response.
#[derive(Debug, Default)]
pub struct Filters {
    request_headers: Option<HeaderModifier>,
    response_headers: Option<HeaderModifier>,
    rewrite: Option<Rewrite>,
}

impl Filters {
    pub fn compile(
        request_headers: Option<proto::HeaderModifier>,
        response_headers: Option<proto::HeaderModifier>,
        rewrite: Option<proto::Rewrite>,
        rule: &str,
    ) -> Result<Filters, InvalidRoute> {
        Ok(Filters {
            request_headers: HeaderModifier::compile(request_headers, rule)?,
            response_headers: HeaderModifier::compile(response_headers, rule)?,
            rewrite: rewrite.map(|r| Rewrite::compile(r, rule)).transpose()?,
        })
    }

    /// Header modifier, then rewrite. `path` is the request's path as it was matched
    /// (normalised); a rewrite replaces the request's path with it, changed.
    pub fn modify_request<B>(&self, request: &mut Request<B>, path: &str) {
        if let Some(modifier) = &self.request_headers {
            modifier.apply(request.headers_mut());
        }
        if let Some(rewrite) = &self.rewrite {
            rewrite.apply(request, path);
        }
    }

    pub fn modify_response(&self, headers: &mut HeaderMap) {
        if let Some(modifier) = &self.response_headers {
            modifier.apply(headers);
        }
    }

    /// Whether `modify_request` needs the matched path (it rewrites it).
    pub fn rewrites_path(&self) -> bool {
        self.rewrite.as_ref().is_some_and(|r| r.path.is_some())
    }
}

/// A RequestHeaderModifier or ResponseHeaderModifier filter, its names and values parsed.
#[derive(Debug)]
struct HeaderModifier {
    set: Vec<(HeaderName, HeaderValue)>,
    add: Vec<(HeaderName, HeaderValue)>,
    remove: Vec<HeaderName>,
}

impl HeaderModifier {
    /// Set (replacing every value of the name), then add, then remove.
    fn apply(&self, headers: &mut HeaderMap) {
        for (name, value) in &self.set {
            headers.insert(name, value.clone());
        }
        for (name, value) in &self.add {
            headers.append(name, value.clone());
        }
        for name in &self.remove {
            headers.remove(name);
        }
    }

    fn compile(
        modifier: Option<proto::HeaderModifier>,
        rule: &str,
    ) -> Result<Option<HeaderModifier>, InvalidRoute> {
        let Some(modifier) = modifier else {
            return Ok(None);
        };
        let invalid = |name: &str, value: &str| InvalidRoute::Header {
            rule: rule.to_string(),
            name: name.to_string(),
            value: value.to_string(),
        };
        let pairs = |headers: Vec<proto::Header>| {
            headers
                .into_iter()
                .map(|header| {
                    let name = HeaderName::from_bytes(header.name.as_bytes());
                    let value = HeaderValue::from_str(&header.value);
                    match (name, value) {
                        (Ok(name), Ok(value)) => Ok((name, value)),
                        _ => Err(invalid(&header.name, &header.value)),
                    }
                })
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(Some(HeaderModifier {
            set: pairs(modifier.set)?,
            add: pairs(modifier.add)?,
            remove: modifier
                .remove
                .iter()
                .map(|name| HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid(name, "")))
                .collect::<Result<_, _>>()?,
        }))
    }
}

/// How a redirect or a rewrite changes the path.
#[derive(Debug)]
enum PathModifier {
    Full(String),
    /// The rule's matched prefix (without a trailing `/`) and its replacement.
    Prefix {
        matched: String,
        replacement: String,
    },
}

impl PathModifier {
    fn compile(modifier: Option<proto::PathModifier>) -> Option<PathModifier> {
        let modifier = modifier?;
        Some(match proto::PathModifierKind::try_from(modifier.kind) {
            Ok(proto::PathModifierKind::Prefix) => PathModifier::Prefix {
                matched: modifier.matched_prefix,
                replacement: modifier.value,
            },
            _ => PathModifier::Full(modifier.value),
        })
    }

    fn apply(&self, path: &str) -> String {
        match self {
            PathModifier::Full(path) => path.clone(),
            PathModifier::Prefix {
                matched,
                replacement,
            } => replace_prefix(path, matched, replacement),
        }
    }
}

/// The Gateway API's ReplacePrefixMatch: `matched` (the prefix the rule matched, on whole
/// segments, without a trailing `/`) becomes `replacement`, and what followed it stays,
/// so that `/foo/bar` with `/foo` → `/xyz` is `/xyz/bar` and → `/` is `/bar`.
pub fn replace_prefix(path: &str, matched: &str, replacement: &str) -> String {
    let Some(rest) = path.strip_prefix(matched) else {
        return path.to_string();
    };
    let replaced = format!("{}{rest}", replacement.trim_end_matches('/'));
    if replaced.is_empty() {
        "/".to_string()
    } else {
        replaced
    }
}

/// A URLRewrite filter.
#[derive(Debug)]
struct Rewrite {
    hostname: Option<HeaderValue>,
    path: Option<PathModifier>,
}

impl Rewrite {
    fn compile(rewrite: proto::Rewrite, rule: &str) -> Result<Rewrite, InvalidRoute> {
        let hostname = match rewrite.hostname.as_str() {
            "" => None,
            name => Some(
                HeaderValue::from_str(name).map_err(|_| InvalidRoute::Header {
                    rule: rule.to_string(),
                    name: "host".into(),
                    value: name.to_string(),
                })?,
            ),
        };
        Ok(Rewrite {
            hostname,
            path: PathModifier::compile(rewrite.path),
        })
    }

    /// The Host (and the authority of an absolute-form URI) becomes the hostname; the path
    /// is changed, the query kept.
    fn apply<B>(&self, request: &mut Request<B>, path: &str) {
        if let Some(hostname) = &self.hostname {
            request.headers_mut().insert(HOST, hostname.clone());
        }
        let uri = request.uri();
        let authority = match (&self.hostname, uri.authority()) {
            (Some(hostname), Some(_)) => hostname.to_str().ok().and_then(|h| h.parse().ok()),
            (_, authority) => authority.cloned(),
        };
        let path_and_query = match &self.path {
            Some(modifier) => {
                let mut changed = modifier.apply(path);
                if let Some(query) = uri.query() {
                    changed.push('?');
                    changed.push_str(query);
                }
                // A path HTTP cannot carry leaves the request's own (validation refuses
                // such replacements; this is the proxy's guard).
                PathAndQuery::try_from(changed)
                    .ok()
                    .or_else(|| uri.path_and_query().cloned())
            }
            None => uri.path_and_query().cloned(),
        };
        let mut parts = http::uri::Parts::default();
        parts.scheme = uri.scheme().cloned();
        parts.authority = authority;
        parts.path_and_query = path_and_query;
        if let Ok(changed) = Uri::from_parts(parts) {
            *request.uri_mut() = changed;
        }
    }
}

/// A RequestRedirect filter.
#[derive(Debug)]
pub struct Redirect {
    scheme: Option<&'static str>,
    hostname: Option<String>,
    path: Option<PathModifier>,
    port: Option<u16>,
    pub status: StatusCode,
}

impl Redirect {
    pub fn compile(redirect: proto::Redirect, rule: &str) -> Result<Redirect, InvalidRoute> {
        let invalid = |what: String| InvalidRoute::Redirect {
            rule: rule.to_string(),
            what,
        };
        let scheme = match redirect.scheme.as_str() {
            "" => None,
            "http" => Some("http"),
            "https" => Some("https"),
            other => return Err(invalid(format!("scheme {other:?}"))),
        };
        let status = match redirect.status {
            301 | 302 | 303 | 307 | 308 => u16::try_from(redirect.status)
                .ok()
                .and_then(|code| StatusCode::from_u16(code).ok())
                .unwrap_or(StatusCode::FOUND),
            other => return Err(invalid(format!("status {other}"))),
        };
        Ok(Redirect {
            scheme,
            hostname: Some(redirect.hostname).filter(|h| !h.is_empty()),
            path: PathModifier::compile(redirect.path),
            port: u16::try_from(redirect.port).ok().filter(|p| *p != 0),
            status,
        })
    }

    /// The Location of a request to `host` (without a port), on service port `port`, with
    /// `path` (as matched) and `query`. What the filter leaves out is the request's own;
    /// without a port the scheme's well-known one when the filter sets the scheme, else the
    /// service port; a scheme's well-known port is left out.
    pub fn location(&self, host: &str, port: u16, path: &str, query: Option<&str>) -> String {
        // The outbound side only ever sees the app's plaintext.
        let scheme = self.scheme.unwrap_or("http");
        let host = self.hostname.as_deref().unwrap_or(host);
        let port = match (self.port, self.scheme) {
            (Some(port), _) => port,
            (None, Some("https")) => 443,
            (None, Some(_)) => 80,
            (None, None) => port,
        };
        let mut location = format!("{scheme}://{host}");
        if !matches!((scheme, port), ("http", 80) | ("https", 443)) {
            let _ = write!(location, ":{port}");
        }
        match &self.path {
            Some(modifier) => location.push_str(&modifier.apply(path)),
            None => location.push_str(path),
        }
        if let Some(query) = query {
            location.push('?');
            location.push_str(query);
        }
        location
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_prefix_follows_the_gateway_api_table() {
        // apis/v1/httproute_types.go (v1.6.1), the ReplacePrefixMatch examples (a matched
        // prefix with a trailing `/` reaches the proxy without it).
        let table = [
            ("/foo/bar", "/foo", "/xyz", "/xyz/bar"),
            ("/foo/bar", "/foo", "/xyz/", "/xyz/bar"),
            ("/foo", "/foo", "/xyz", "/xyz"),
            ("/foo/", "/foo", "/xyz", "/xyz/"),
            ("/foo/bar", "/foo", "", "/bar"),
            ("/foo/", "/foo", "", "/"),
            ("/foo", "/foo", "", "/"),
            ("/foo/", "/foo", "/", "/"),
            ("/foo", "/foo", "/", "/"),
            // The prefix `/` (compiled as ""): everything follows it.
            ("/a/b", "", "/x", "/x/a/b"),
        ];
        for (path, matched, replacement, expected) in table {
            assert_eq!(
                replace_prefix(path, matched, replacement),
                expected,
                "{path} {matched} {replacement}"
            );
        }
    }

    fn redirect(scheme: &str, hostname: &str, port: u32) -> Redirect {
        let proto = proto::Redirect {
            scheme: scheme.into(),
            hostname: hostname.into(),
            port,
            status: 302,
            path: None,
        };
        Redirect::compile(proto, "r").unwrap()
    }

    #[test]
    fn a_location_names_a_port_only_when_it_is_not_the_schemes_own() {
        let at = |r: &Redirect, port| r.location("echo", port, "/p", Some("a=1"));
        assert_eq!(at(&redirect("", "", 0), 80), "http://echo/p?a=1");
        assert_eq!(at(&redirect("", "", 0), 8080), "http://echo:8080/p?a=1");
        assert_eq!(
            at(&redirect("", "example.org", 8083), 80),
            "http://example.org:8083/p?a=1"
        );
        assert_eq!(at(&redirect("https", "", 0), 8080), "https://echo/p?a=1");
        assert_eq!(
            at(&redirect("https", "", 8443), 80),
            "https://echo:8443/p?a=1"
        );
        assert_eq!(at(&redirect("http", "", 0), 8080), "http://echo/p?a=1");
    }

    #[test]
    fn a_redirect_with_a_status_or_scheme_the_api_does_not_have_is_refused() {
        let bad_status = proto::Redirect {
            status: 200,
            ..Default::default()
        };
        assert!(Redirect::compile(bad_status, "r").is_err());
        let bad_scheme = proto::Redirect {
            scheme: "ftp".into(),
            status: 301,
            ..Default::default()
        };
        assert!(Redirect::compile(bad_scheme, "r").is_err());
    }

    #[test]
    fn a_rewrite_changes_host_and_path_and_keeps_the_query() {
        let rewrite = Rewrite::compile(
            proto::Rewrite {
                hostname: "internal.example".into(),
                path: Some(proto::PathModifier {
                    kind: proto::PathModifierKind::Prefix as i32,
                    value: "/one".into(),
                    matched_prefix: "/prefix/one".into(),
                }),
            },
            "r",
        )
        .unwrap();
        let mut request = Request::builder()
            .uri("http://echo/prefix/one/two?x=1")
            .header(HOST, "echo")
            .body(())
            .unwrap();
        rewrite.apply(&mut request, "/prefix/one/two");
        assert_eq!(request.uri(), "http://internal.example/one/two?x=1");
        assert_eq!(request.headers()[HOST], "internal.example");
    }
}
