//! Where the config repository lives — a local path read in place, or a remote URL the
//! reconciler clones — and how a URL is shown: never with its user information.

use std::fmt;
use std::path::PathBuf;
use std::sync::LazyLock;

use regex::Regex;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LocationError {
    #[error("unsupported URL scheme {0:?}: use file://, git://, http://, https:// or ssh://")]
    Scheme(String),
    #[error("{url} has no host")]
    NoHost { url: String },
    #[error("{url} has an invalid port")]
    Port { url: String },
    // The message never repeats the URL: it carries the password.
    #[error(
        "the repository URL carries a password: give it with --git-password-file, --git-password-env, --git-token-file or --git-token-env instead"
    )]
    PasswordInUrl,
}

/// The config repository named by `--repo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A repository on this machine, read directly and watched for changes.
    Local(PathBuf),
    /// A repository the reconciler clones and fetches.
    Remote(RemoteUrl),
}

impl Location {
    /// Anything with a `scheme://` prefix is a remote URL (including `file://`, which
    /// gets its own clone like any remote); everything else is a local path.
    pub fn parse(text: &str) -> Result<Location, LocationError> {
        match text.split_once("://") {
            Some(_) => RemoteUrl::parse(text).map(Location::Remote),
            None => Ok(Location::Local(PathBuf::from(text))),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    File,
    Git,
    Http,
    Https,
    Ssh,
}

/// A remote repository URL, split so that user information never travels with it: the
/// user name is handed to libgit2 through the credentials callback, so no URL libgit2
/// sees (and repeats in its errors) carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteUrl {
    scheme: Scheme,
    username: Option<String>,
    host: String,
    port: Option<u16>,
    /// Everything after the authority, starting with `/` (empty for a bare host).
    path: String,
}

impl RemoteUrl {
    pub fn parse(text: &str) -> Result<RemoteUrl, LocationError> {
        let (scheme, rest) = text
            .split_once("://")
            .ok_or_else(|| LocationError::Scheme(String::new()))?;
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "file" => Scheme::File,
            "git" => Scheme::Git,
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            "ssh" => Scheme::Ssh,
            other => return Err(LocationError::Scheme(other.to_string())),
        };
        if scheme == Scheme::File {
            return Ok(RemoteUrl {
                scheme,
                username: None,
                host: String::new(),
                port: None,
                path: rest.to_string(),
            });
        }
        let (authority, path) = match rest.find('/') {
            Some(slash) => rest.split_at(slash),
            None => (rest, ""),
        };
        let (userinfo, host_port) = match authority.rsplit_once('@') {
            Some((userinfo, host_port)) => (Some(userinfo), host_port),
            None => (None, authority),
        };
        let username = match userinfo {
            Some(userinfo) if userinfo.contains(':') => return Err(LocationError::PasswordInUrl),
            Some(userinfo) if !userinfo.is_empty() => Some(userinfo.to_string()),
            _ => None,
        };
        let redacted = || format!("{}://{host_port}{path}", scheme.as_str());
        let (host, port) =
            split_host_port(host_port).ok_or_else(|| LocationError::Port { url: redacted() })?;
        if host.is_empty() {
            return Err(LocationError::NoHost { url: redacted() });
        }
        Ok(RemoteUrl {
            scheme,
            username,
            host: host.to_string(),
            port,
            path: path.to_string(),
        })
    }

    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The user name the URL carried (`ssh://git@host/...`), if any.
    pub fn username(&self) -> Option<&str> {
        self.username.as_deref()
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port, or the scheme's default.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.scheme {
            Scheme::Ssh => 22,
            Scheme::Git => 9418,
            Scheme::Http => 80,
            Scheme::Https => 443,
            Scheme::File => 0,
        })
    }

    /// The URL without user information: what libgit2 is given and what people see.
    pub fn without_credentials(&self) -> String {
        self.to_string()
    }
}

impl Scheme {
    fn as_str(self) -> &'static str {
        match self {
            Scheme::File => "file",
            Scheme::Git => "git",
            Scheme::Http => "http",
            Scheme::Https => "https",
            Scheme::Ssh => "ssh",
        }
    }
}

impl fmt::Display for RemoteUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme.as_str(), self.host)?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        f.write_str(&self.path)
    }
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`; `None` when the port is not a number.
fn split_host_port(text: &str) -> Option<(&str, Option<u16>)> {
    if let Some(bracketed) = text.strip_prefix('[') {
        let (host, rest) = bracketed.split_once(']')?;
        return match rest.strip_prefix(':') {
            Some(port) => Some((host, Some(port.parse().ok()?))),
            None if rest.is_empty() => Some((host, None)),
            None => None,
        };
    }
    match text.rsplit_once(':') {
        Some((host, port)) => Some((host, Some(port.parse().ok()?))),
        None => Some((text, None)),
    }
}

/// Removes the user information (`user:secret@`) of every URL in `text`: errors from
/// lower layers may quote a URL, and none of it may reach a log or the status.
pub fn strip_userinfo(text: &str) -> String {
    static USERINFO: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/\s@'\x22<>]*@").expect("a valid pattern")
    });
    USERINFO.replace_all(text, "$1").into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_path_is_local_and_a_scheme_makes_it_remote() {
        assert_eq!(
            Location::parse("./config").unwrap(),
            Location::Local(PathBuf::from("./config"))
        );
        assert!(matches!(
            Location::parse("file:///srv/config.git").unwrap(),
            Location::Remote(_)
        ));
    }

    #[test]
    fn the_user_name_is_kept_apart_from_the_url_everyone_sees() {
        let url = RemoteUrl::parse("ssh://git@example.com:2222/org/config.git").unwrap();
        assert_eq!(url.username(), Some("git"));
        assert_eq!(url.host(), "example.com");
        assert_eq!(url.port(), 2222);
        assert_eq!(url.to_string(), "ssh://example.com:2222/org/config.git");
    }

    #[test]
    fn default_ports_follow_the_scheme() {
        assert_eq!(RemoteUrl::parse("ssh://h/x").unwrap().port(), 22);
        assert_eq!(RemoteUrl::parse("git://h/x").unwrap().port(), 9418);
        assert_eq!(RemoteUrl::parse("https://h/x").unwrap().port(), 443);
    }

    #[test]
    fn a_password_in_the_url_is_refused_without_repeating_it() {
        let error = RemoteUrl::parse("https://bob:hunter22@example.com/c.git").unwrap_err();
        assert_eq!(error, LocationError::PasswordInUrl);
        assert!(!error.to_string().contains("hunter22"));
    }

    #[test]
    fn ipv6_hosts_and_file_urls_parse() {
        let url = RemoteUrl::parse("git://[::1]:9418/c.git").unwrap();
        assert_eq!(url.host(), "::1");
        assert_eq!(url.port(), 9418);
        let file = RemoteUrl::parse("file:///srv/c.git").unwrap();
        assert_eq!(file.to_string(), "file:///srv/c.git");
    }

    #[test]
    fn unknown_schemes_and_bad_ports_are_errors() {
        assert!(matches!(
            RemoteUrl::parse("ftp://h/x"),
            Err(LocationError::Scheme(_))
        ));
        assert!(matches!(
            RemoteUrl::parse("ssh://h:port/x"),
            Err(LocationError::Port { .. })
        ));
    }

    #[test]
    fn user_information_is_stripped_from_any_text() {
        let text =
            "failed to fetch 'https://bob:hunter22@example.com/c.git': 401; also ssh://git@h/x";
        let stripped = strip_userinfo(text);
        assert!(!stripped.contains("hunter22"), "{stripped}");
        assert!(!stripped.contains("bob"), "{stripped}");
        assert!(
            stripped.contains("https://example.com/c.git") && stripped.contains("ssh://h/x"),
            "{stripped}"
        );
    }
}
