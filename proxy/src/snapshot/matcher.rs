//! One HTTPRouteGroup match compiled for the hot path: full-match regexes built once per
//! snapshot, methods parsed, header names normalised.

use std::sync::Arc;

use http::{HeaderMap, HeaderName, Method};
use meshcd_schemas::proto;
use regex::Regex;

#[derive(Debug, thiserror::Error)]
pub enum InvalidMatch {
    #[error("match {name:?}: path regex {regex:?}")]
    PathRegex {
        name: String,
        regex: String,
        source: regex::Error,
    },
    #[error("match {name:?}: header {header:?}: value regex {regex:?}")]
    HeaderRegex {
        name: String,
        header: String,
        regex: String,
        source: regex::Error,
    },
    #[error("match {name:?}: {header:?} is not a header name")]
    HeaderName { name: String, header: String },
    #[error("match {name:?}: {method:?} is not an HTTP method")]
    Method { name: String, method: String },
}

/// A request matches when its path, method and every listed header match.
#[derive(Debug, Clone)]
pub struct HttpMatch {
    /// `group/match`, reported in metrics and 403 bodies.
    pub name: Arc<str>,
    /// `None`: any path. Anchored at both ends (design §2: full match, no query).
    path: Option<Regex>,
    /// `None`: any method (empty list or `*`).
    methods: Option<Vec<Method>>,
    headers: Vec<(HeaderName, Regex)>,
}

impl HttpMatch {
    pub fn matches(&self, method: &Method, path: &str, headers: &HeaderMap) -> bool {
        if let Some(regex) = &self.path
            && !regex.is_match(path)
        {
            return false;
        }
        if let Some(methods) = &self.methods
            && !methods.contains(method)
        {
            return false;
        }
        self.headers.iter().all(|(name, regex)| {
            headers
                .get_all(name)
                .iter()
                .any(|value| value.to_str().is_ok_and(|text| regex.is_match(text)))
        })
    }
}

/// `^(?:re)$`: a regex that must match the whole text.
pub(super) fn full_match(regex: &str) -> Result<Regex, regex::Error> {
    Regex::new(&format!("^(?:{regex})$"))
}

impl TryFrom<proto::HttpMatch> for HttpMatch {
    type Error = InvalidMatch;

    fn try_from(value: proto::HttpMatch) -> Result<Self, Self::Error> {
        let name = value.name;
        let path = if value.path_regex.is_empty() {
            None
        } else {
            Some(
                full_match(&value.path_regex).map_err(|source| InvalidMatch::PathRegex {
                    name: name.clone(),
                    regex: value.path_regex.clone(),
                    source,
                })?,
            )
        };
        let methods = if value.methods.is_empty() || value.methods.iter().any(|m| m == "*") {
            None
        } else {
            let mut methods = Vec::with_capacity(value.methods.len());
            for method in &value.methods {
                methods.push(Method::from_bytes(method.as_bytes()).map_err(|_| {
                    InvalidMatch::Method {
                        name: name.clone(),
                        method: method.clone(),
                    }
                })?);
            }
            Some(methods)
        };
        let mut headers = Vec::with_capacity(value.headers.len());
        for header in value.headers {
            let header_name = HeaderName::from_bytes(header.name.to_ascii_lowercase().as_bytes())
                .map_err(|_| InvalidMatch::HeaderName {
                name: name.clone(),
                header: header.name.clone(),
            })?;
            let regex =
                full_match(&header.value_regex).map_err(|source| InvalidMatch::HeaderRegex {
                    name: name.clone(),
                    header: header.name.clone(),
                    regex: header.value_regex.clone(),
                    source,
                })?;
            headers.push((header_name, regex));
        }
        Ok(Self {
            name: name.into(),
            path,
            methods,
            headers,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compiled(path: &str, methods: &[&str], headers: &[(&str, &str)]) -> HttpMatch {
        HttpMatch::try_from(proto::HttpMatch {
            name: "routes/m".into(),
            path_regex: path.into(),
            methods: methods.iter().map(|m| m.to_string()).collect(),
            headers: headers
                .iter()
                .map(|(name, value)| proto::HeaderMatch {
                    name: name.to_string(),
                    value_regex: value.to_string(),
                })
                .collect(),
        })
        .unwrap()
    }

    fn header_map(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        map
    }

    #[test]
    fn path_regex_must_match_the_whole_path() {
        let m = compiled("/api/values", &[], &[]);
        assert!(m.matches(&Method::GET, "/api/values", &HeaderMap::new()));
        assert!(!m.matches(&Method::GET, "/api/values/1", &HeaderMap::new()));
        assert!(!m.matches(&Method::GET, "/x/api/values", &HeaderMap::new()));
        let prefix = compiled("/api/.*", &[], &[]);
        assert!(prefix.matches(&Method::GET, "/api/values/1", &HeaderMap::new()));
        assert!(!prefix.matches(&Method::GET, "/apix", &HeaderMap::new()));
    }

    #[test]
    fn alternation_is_anchored_as_a_whole() {
        let m = compiled("/a|/b", &[], &[]);
        assert!(m.matches(&Method::GET, "/a", &HeaderMap::new()));
        assert!(m.matches(&Method::GET, "/b", &HeaderMap::new()));
        assert!(!m.matches(&Method::GET, "/a/x", &HeaderMap::new()));
        assert!(!m.matches(&Method::GET, "/x/b", &HeaderMap::new()));
    }

    #[test]
    fn methods_are_listed_or_wildcarded() {
        let get_only = compiled("", &["GET"], &[]);
        assert!(get_only.matches(&Method::GET, "/", &HeaderMap::new()));
        assert!(!get_only.matches(&Method::POST, "/", &HeaderMap::new()));
        let star = compiled("", &["GET", "*"], &[]);
        assert!(star.matches(&Method::DELETE, "/", &HeaderMap::new()));
        let none = compiled("", &[], &[]);
        assert!(none.matches(&Method::PATCH, "/", &HeaderMap::new()));
    }

    #[test]
    fn header_names_are_case_insensitive_and_values_fully_matched() {
        let m = compiled("", &[], &[("X-Canary", "true|yes")]);
        assert!(m.matches(&Method::GET, "/", &header_map(&[("x-canary", "yes")])));
        assert!(!m.matches(
            &Method::GET,
            "/",
            &header_map(&[("x-canary", "yes-please")])
        ));
        assert!(!m.matches(&Method::GET, "/", &HeaderMap::new()));
        assert!(m.matches(
            &Method::GET,
            "/",
            &header_map(&[("x-canary", "no"), ("x-canary", "true")])
        ));
    }

    #[test]
    fn invalid_regexes_are_reported_with_the_match_name() {
        let error = HttpMatch::try_from(proto::HttpMatch {
            name: "routes/bad".into(),
            path_regex: "(".into(),
            ..Default::default()
        })
        .unwrap_err();
        assert!(error.to_string().contains("routes/bad"), "{error}");
    }
}
