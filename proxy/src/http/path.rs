//! Request paths in one normal form before routing, authorization and forwarding, so that
//! the SMI rules and the app read the same path (RFC 3986 §5.2.4 and §6.2.2; the choices
//! are Istio's `pathNormalization` options).
//!
//! A rule `/api/.*` matched against the raw `/api/../admin` admits a request the app, like
//! most frameworks, serves as `/admin` (the bug class of Envoy CVE-2019-9901). Normalising
//! first and forwarding the normalised path closes that gap: the policy decides on exactly
//! the path the app gets.

use std::borrow::Cow;
use std::fmt::Write;

use http::Method;

/// How request paths are normalised (`Mesh.spec.pathNormalization`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PathNormalization {
    /// Paths are matched and forwarded as sent. What an app could read differently from
    /// the rules (dot segments, literal or percent-encoded; a backslash; a
    /// percent-encoded slash or backslash) is refused instead of resolved.
    None,
    /// RFC 3986: percent-encoded unreserved characters decoded, other percent-encodings
    /// in upper case, dot segments removed, `\` read as `/`.
    #[default]
    Base,
    /// `Base`, then runs of `/` merged into one.
    MergeSlashes,
    /// `%2F` and `%5C` decoded to `/` too, then `MergeSlashes`.
    DecodeAndMergeSlashes,
}

/// Why a path is refused (400).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error(
        "the path has a percent-encoded slash or backslash (%2F or %5C), which this mesh's \
         path normalization does not decode"
    )]
    EncodedSlash,
    #[error("the path has a malformed percent-encoding")]
    MalformedPercent,
    #[error(
        "the path has dot segments or a backslash, which path normalization \"none\" does \
         not resolve"
    )]
    NotNormal,
    #[error(
        "the request path does not start with \"/\" (only OPTIONS may use \"*\", only \
         CONNECT an authority alone)"
    )]
    NotOriginForm,
}

/// The path `path` (of a `method` request, as `Uri::path` gives it) stands for under
/// `mode`: borrowed when it is already normal (the hot path: one scan of the bytes, no
/// allocation), owned when it was rewritten.
///
/// A path must start with `/` (origin-form, or absolute-form, whose path is at least `/`).
/// HTTP/2 lets a client send any `:path`, and `a/api/../../admin` would otherwise skip
/// every check here while the app resolves it to `/admin`; such a path is refused. The
/// two other request-target forms have no path to normalise and pass as they are: `*`
/// for OPTIONS (asterisk-form) and the empty path of CONNECT (authority-form).
#[inline]
pub fn normalize<'p>(
    method: &Method,
    path: &'p str,
    mode: PathNormalization,
) -> Result<Cow<'p, str>, PathError> {
    if !path.starts_with('/') {
        return other_form(method, path);
    }
    if is_plain(path.as_bytes()) {
        return Ok(Cow::Borrowed(path));
    }
    rewrite(path, mode)
}

/// Whether a `method` request's path is one [`normalize`] takes, without normalising it.
#[inline]
pub fn check_form(method: &Method, path: &str) -> Result<(), PathError> {
    if path.starts_with('/') {
        return Ok(());
    }
    other_form(method, path).map(drop)
}

/// A path that does not start with `/`: asterisk- or authority-form, else refused.
#[cold]
#[inline(never)]
fn other_form<'p>(method: &Method, path: &'p str) -> Result<Cow<'p, str>, PathError> {
    match (method, path) {
        (&Method::OPTIONS, "*") | (&Method::CONNECT, "") => Ok(Cow::Borrowed(path)),
        _ => Err(PathError::NotOriginForm),
    }
}

/// The slow path, kept out of line so the plain case stays small where it is inlined.
#[inline(never)]
fn rewrite(path: &str, mode: PathNormalization) -> Result<Cow<'_, str>, PathError> {
    if mode == PathNormalization::None {
        return check_unresolved(path).map(|()| Cow::Borrowed(path));
    }
    let decoded = decode(path, mode == PathNormalization::DecodeAndMergeSlashes)?;
    let mut normal = remove_dot_segments(&decoded);
    if mode != PathNormalization::Base {
        merge_slashes(&mut normal);
    }
    Ok(if normal == path {
        Cow::Borrowed(path)
    } else {
        Cow::Owned(normal)
    })
}

/// No `%`, no `\`, no `//` and no segment starting with a dot: normal in every mode.
/// (`/.well-known` takes the slow path and comes back unchanged.)
fn is_plain(path: &[u8]) -> bool {
    let mut previous = 0u8;
    for &byte in path {
        match byte {
            b'%' | b'\\' => return false,
            b'/' | b'.' if previous == b'/' => return false,
            _ => {}
        }
        previous = byte;
    }
    true
}

/// Mode `none`: the path stays as sent, so nothing an app would resolve may be in it.
fn check_unresolved(path: &str) -> Result<(), PathError> {
    if path.contains('\\') {
        return Err(PathError::NotNormal);
    }
    for segment in path.split('/') {
        let mut dots = 0;
        let mut other = false;
        let mut rest = segment.as_bytes();
        while let Some((&byte, tail)) = rest.split_first() {
            let decoded = if byte == b'%' {
                let value = percent_value(tail).ok_or(PathError::MalformedPercent)?;
                rest = &tail[2..];
                value
            } else {
                rest = tail;
                byte
            };
            match decoded {
                b'/' | b'\\' if byte == b'%' => return Err(PathError::EncodedSlash),
                b'.' => dots += 1,
                _ => other = true,
            }
        }
        if !other && (dots == 1 || dots == 2) {
            return Err(PathError::NotNormal);
        }
    }
    Ok(())
}

/// The byte `%XY` encodes, given the bytes after the `%`.
fn percent_value(after: &[u8]) -> Option<u8> {
    let hex = |byte: u8| char::from(byte).to_digit(16);
    match after {
        [high, low, ..] => Some((hex(*high)? * 16 + hex(*low)?) as u8),
        _ => None,
    }
}

fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
}

/// Percent-encoded unreserved characters decoded (RFC 3986 §6.2.2.2), other encodings in
/// upper case (§6.2.2.1), `\` as `/`; `%2F` and `%5C` decoded to `/` when `slashes`,
/// else refused.
fn decode(path: &str, slashes: bool) -> Result<String, PathError> {
    let mut out = String::with_capacity(path.len());
    let mut rest = path;
    while let Some(at) = rest.find(['%', '\\']) {
        out.push_str(&rest[..at]);
        let tail = &rest[at + 1..];
        if rest.as_bytes()[at] == b'\\' {
            out.push('/');
            rest = tail;
            continue;
        }
        let value = percent_value(tail.as_bytes()).ok_or(PathError::MalformedPercent)?;
        match value {
            b'/' | b'\\' if slashes => out.push('/'),
            b'/' | b'\\' => return Err(PathError::EncodedSlash),
            value if is_unreserved(value) => out.push(char::from(value)),
            value => {
                let _ = write!(out, "%{value:02X}");
            }
        }
        rest = &tail[2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// RFC 3986 §5.2.4, step by step as the RFC writes it.
fn remove_dot_segments(input: &str) -> String {
    let mut output = String::with_capacity(input.len());
    let mut rest = input;
    while !rest.is_empty() {
        if let Some(tail) = rest.strip_prefix("../") {
            rest = tail;
        } else if let Some(tail) = rest.strip_prefix("./") {
            rest = tail;
        } else if rest.starts_with("/./") {
            rest = &rest[2..];
        } else if rest == "/." {
            rest = "/";
        } else if rest.starts_with("/../") {
            rest = &rest[3..];
            pop_segment(&mut output);
        } else if rest == "/.." {
            rest = "/";
            pop_segment(&mut output);
        } else if rest == "." || rest == ".." {
            rest = "";
        } else {
            let start = usize::from(rest.starts_with('/'));
            let end = rest[start..].find('/').map_or(rest.len(), |at| at + start);
            output.push_str(&rest[..end]);
            rest = &rest[end..];
        }
    }
    output
}

/// Removes the last segment and its preceding `/` from the output buffer.
fn pop_segment(output: &mut String) {
    let cut = output.rfind('/').unwrap_or(0);
    output.truncate(cut);
}

fn merge_slashes(path: &mut String) {
    let mut previous_slash = false;
    path.retain(|c| {
        let keep = !(c == '/' && previous_slash);
        previous_slash = c == '/';
        keep
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use PathNormalization::{Base, DecodeAndMergeSlashes, MergeSlashes, None as Raw};

    fn normal(path: &str, mode: PathNormalization) -> Result<String, PathError> {
        normalize(&Method::GET, path, mode).map(Cow::into_owned)
    }

    #[test]
    fn dot_segments_are_removed_as_in_rfc_3986_section_5_4() {
        // The path parts of §5.4's examples, merged with the base path /b/c/d;p (§5.2.3).
        for (merged, expected) in [
            ("/b/c/g", "/b/c/g"),
            ("/b/c/./g", "/b/c/g"),
            ("/b/c/g/", "/b/c/g/"),
            ("/b/c/.", "/b/c/"),
            ("/b/c/./", "/b/c/"),
            ("/b/c/..", "/b/"),
            ("/b/c/../", "/b/"),
            ("/b/c/../g", "/b/g"),
            ("/b/c/../..", "/"),
            ("/b/c/../../", "/"),
            ("/b/c/../../g", "/g"),
            ("/b/c/../../../g", "/g"),
            ("/b/c/../../../../g", "/g"),
            ("/./g", "/g"),
            ("/../g", "/g"),
            ("/b/c/g.", "/b/c/g."),
            ("/b/c/.g", "/b/c/.g"),
            ("/b/c/g..", "/b/c/g.."),
            ("/b/c/..g", "/b/c/..g"),
            ("/b/c/./../g", "/b/g"),
            ("/b/c/./g/.", "/b/c/g/"),
            ("/b/c/g/./h", "/b/c/g/h"),
            ("/b/c/g/../h", "/b/c/h"),
            ("/b/c/g;x=1/./y", "/b/c/g;x=1/y"),
            ("/b/c/g;x=1/../y", "/b/c/y"),
            // §5.2.4's own walk-through.
            ("/a/b/c/./../../g", "/a/g"),
        ] {
            assert_eq!(normal(merged, Base).as_deref(), Ok(expected), "{merged}");
        }
    }

    #[test]
    fn the_attack_paths_resolve_outside_the_prefix_or_are_refused_in_every_mode() {
        for (path, base, merge, decode) in [
            ("/api/../admin", Ok("/admin"), Ok("/admin"), Ok("/admin")),
            (
                "/api/%2e%2e/admin",
                Ok("/admin"),
                Ok("/admin"),
                Ok("/admin"),
            ),
            (
                "/api/..%2Fadmin",
                Err(PathError::EncodedSlash),
                Err(PathError::EncodedSlash),
                Ok("/admin"),
            ),
            ("//admin", Ok("//admin"), Ok("/admin"), Ok("/admin")),
            ("/api/./../admin", Ok("/admin"), Ok("/admin"), Ok("/admin")),
            ("/api/..\\admin", Ok("/admin"), Ok("/admin"), Ok("/admin")),
        ] {
            let owned = |r: Result<&str, PathError>| r.map(str::to_owned);
            assert_eq!(normal(path, Base), owned(base), "{path} base");
            assert_eq!(normal(path, MergeSlashes), owned(merge), "{path} merge");
            assert_eq!(
                normal(path, DecodeAndMergeSlashes),
                owned(decode),
                "{path} decode"
            );
        }
    }

    #[test]
    fn mode_none_keeps_the_path_but_refuses_what_an_app_would_resolve() {
        assert_eq!(normal("/api/x", Raw).as_deref(), Ok("/api/x"));
        assert_eq!(normal("//admin", Raw).as_deref(), Ok("//admin"));
        assert_eq!(normal("/a/%41%2f", Raw), Err(PathError::EncodedSlash));
        assert_eq!(
            normal("/.well-known/x", Raw).as_deref(),
            Ok("/.well-known/x")
        );
        assert_eq!(normal("/api/%7euser", Raw).as_deref(), Ok("/api/%7euser"));
        for path in [
            "/api/../admin",
            "/api/%2e%2e/admin",
            "/api/./../admin",
            "/api/.%2E/admin",
            "/api/.",
            "/api/..\\admin",
        ] {
            assert_eq!(normal(path, Raw), Err(PathError::NotNormal), "{path}");
        }
        assert_eq!(normal("/api/..%2Fadmin", Raw), Err(PathError::EncodedSlash));
        assert_eq!(normal("/a/%zz", Raw), Err(PathError::MalformedPercent));
    }

    #[test]
    fn unreserved_characters_are_decoded_and_other_encodings_upper_cased() {
        assert_eq!(normal("/%7Euser/%61pi", Base).as_deref(), Ok("/~user/api"));
        assert_eq!(normal("/a%3ab%20c", Base).as_deref(), Ok("/a%3Ab%20c"));
        assert_eq!(normal("/a%25252e", Base).as_deref(), Ok("/a%25252e"));
        assert_eq!(normal("/a%2", Base), Err(PathError::MalformedPercent));
        assert_eq!(normal("/a%g0", Base), Err(PathError::MalformedPercent));
        assert_eq!(normal("/a%5cb", MergeSlashes), Err(PathError::EncodedSlash));
        assert_eq!(
            normal("/a%5cb%2F%2fc", DecodeAndMergeSlashes).as_deref(),
            Ok("/a/b/c")
        );
    }

    #[test]
    fn slashes_are_merged_only_in_the_merging_modes() {
        assert_eq!(normal("/a//b///c/", Base).as_deref(), Ok("/a//b///c/"));
        assert_eq!(normal("/a//b///c/", MergeSlashes).as_deref(), Ok("/a/b/c/"));
        assert_eq!(normal("/a//../b", MergeSlashes).as_deref(), Ok("/a/b"));
    }

    #[test]
    fn plain_paths_are_borrowed_without_a_copy() {
        for (method, path) in [
            (Method::GET, "/"),
            (Method::GET, "/api/values"),
            (Method::GET, "/a-b_c~d/e.f"),
            (Method::OPTIONS, "*"),
            (Method::CONNECT, ""),
        ] {
            for mode in [Raw, Base, MergeSlashes, DecodeAndMergeSlashes] {
                assert!(
                    matches!(normalize(&method, path, mode), Ok(Cow::Borrowed(p)) if p == path),
                    "{method} {path} {mode:?}"
                );
            }
        }
        assert!(matches!(
            normalize(&Method::GET, "/.well-known/x", Base),
            Ok(Cow::Borrowed(_))
        ));
    }

    #[test]
    fn a_path_without_a_leading_slash_is_refused_in_every_mode() {
        // HTTP/2 takes any :path; the app would resolve these to /admin.
        for path in [
            "a/public/../../admin",
            "public/../admin",
            "..",
            "../admin",
            "admin",
            "%2Fadmin",
            "\\admin",
            "*/../admin",
        ] {
            for method in [Method::GET, Method::POST, Method::OPTIONS, Method::CONNECT] {
                for mode in [Raw, Base, MergeSlashes, DecodeAndMergeSlashes] {
                    assert_eq!(
                        normalize(&method, path, mode),
                        Err(PathError::NotOriginForm),
                        "{method} {path} {mode:?}"
                    );
                }
            }
        }
        // Asterisk-form is OPTIONS's only, authority-form (no path) CONNECT's only.
        for (method, path) in [(Method::GET, "*"), (Method::POST, "*"), (Method::GET, "")] {
            assert_eq!(
                normalize(&method, path, Base),
                Err(PathError::NotOriginForm),
                "{method} {path:?}"
            );
        }
        // Absolute-form has a path starting with `/` (at least `/`): normalised as usual.
        let uri: http::Uri = "http://api.shop/public/../admin".parse().unwrap();
        assert_eq!(
            normalize(&Method::GET, uri.path(), Base).as_deref(),
            Ok("/admin")
        );
        let uri: http::Uri = "http://api.shop".parse().unwrap();
        assert_eq!(
            normalize(&Method::GET, uri.path(), Base).as_deref(),
            Ok("/")
        );
        assert_eq!(
            check_form(&Method::GET, "a/b"),
            Err(PathError::NotOriginForm)
        );
        assert_eq!(check_form(&Method::GET, "/a/../b"), Ok(()));
        assert_eq!(check_form(&Method::OPTIONS, "*"), Ok(()));
        let uri: http::Uri = "api.shop:443".parse().unwrap();
        assert_eq!(
            normalize(&Method::CONNECT, uri.path(), Base).as_deref(),
            Ok("")
        );
    }
}
