//! Git credentials named on the command line: where each secret is read from, the
//! libgit2 callbacks that hand them over (and check the server's host key), and the
//! redactor that keeps every secret out of logs, errors and the status.

use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;
use std::path::PathBuf;
use std::sync::RwLock;

use git2::{CertificateCheckStatus, Cred, CredentialType, RemoteCallbacks};

use super::known_hosts::KnownHosts;
use super::location::{RemoteUrl, Scheme};

#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("reading {what} from {path}")]
    File {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{what}: environment variable {name} is not set")]
    Env { what: &'static str, name: String },
    #[error("{what} is empty")]
    Empty { what: &'static str },
}

/// A secret value. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// Where a secret comes from: a file (read again at every use, so a rotated token is
/// picked up) or an environment variable named on the command line (read once).
#[derive(Debug, Clone)]
pub enum SecretSource {
    File { what: &'static str, path: PathBuf },
    Env { what: &'static str, value: Secret },
}

impl SecretSource {
    /// Reads the variable now; `what` names the flag for messages.
    pub fn from_env(what: &'static str, name: &str) -> Result<Self, CredentialError> {
        match std::env::var(name) {
            Ok(value) => Ok(SecretSource::Env {
                what,
                value: Secret(trimmed(value, what)?),
            }),
            Err(_) => Err(CredentialError::Env {
                what,
                name: name.to_string(),
            }),
        }
    }

    pub fn from_file(what: &'static str, path: PathBuf) -> Self {
        SecretSource::File { what, path }
    }

    pub fn read(&self) -> Result<Secret, CredentialError> {
        match self {
            SecretSource::Env { value, .. } => Ok(value.clone()),
            SecretSource::File { what, path } => {
                let text =
                    std::fs::read_to_string(path).map_err(|source| CredentialError::File {
                        what,
                        path: path.clone(),
                        source,
                    })?;
                Ok(Secret(trimmed(text, what)?))
            }
        }
    }
}

/// Files and variables usually end with a newline that is not part of the secret.
fn trimmed(text: String, what: &'static str) -> Result<String, CredentialError> {
    let secret = text.trim_end_matches(['\r', '\n']).to_string();
    if secret.is_empty() {
        return Err(CredentialError::Empty { what });
    }
    Ok(secret)
}

/// Remembers every secret it was shown and removes them, and any URL user information,
/// from text before it is logged or shown.
#[derive(Default)]
pub struct Redactor {
    secrets: RwLock<Vec<String>>,
}

impl Redactor {
    pub fn remember(&self, secret: &Secret) {
        let mut secrets = self.secrets.write().unwrap_or_else(|p| p.into_inner());
        if !secrets.iter().any(|known| known == secret.expose()) {
            secrets.push(secret.expose().to_string());
        }
    }

    pub fn scrub(&self, text: &str) -> String {
        let mut text = super::location::strip_userinfo(text);
        for secret in self
            .secrets
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            text = text.replace(secret.as_str(), "[redacted]");
        }
        text
    }
}

/// Everything the reconciler may present to a remote.
#[derive(Debug, Default)]
pub struct GitCredentials {
    /// For http(s) Basic auth and ssh; the URL's own user name wins for ssh.
    pub username: Option<String>,
    /// An access token (http(s)): sent as the password of Basic auth.
    pub token: Option<SecretSource>,
    pub password: Option<SecretSource>,
    /// A private key file for ssh:// (OpenSSH or PEM format, without passphrase).
    pub ssh_key: Option<PathBuf>,
    pub known_hosts: Option<KnownHosts>,
}

/// The user name sent with a token when none is given: hosts that take tokens accept
/// any user name with them.
const TOKEN_USERNAME: &str = "git";
/// The user name for ssh:// when neither the URL nor --git-username gives one.
const SSH_USERNAME: &str = "git";

impl GitCredentials {
    /// The callbacks for one fetch from `url`. Secrets are read here, once per fetch, and
    /// handed to `redactor`. Why a host key was refused goes to `refusal`: libgit2
    /// replaces the callback's own message with a generic one.
    pub fn callbacks<'a>(
        &'a self,
        url: &'a RemoteUrl,
        redactor: &Redactor,
        refusal: &'a RefCell<Option<String>>,
    ) -> Result<RemoteCallbacks<'a>, CredentialError> {
        let secret = match (&self.token, &self.password) {
            (Some(token), _) => Some(token.read()?),
            (None, Some(password)) => Some(password.read()?),
            (None, None) => None,
        };
        if let Some(secret) = &secret {
            redactor.remember(secret);
        }
        let http_username = self
            .username
            .clone()
            .or_else(|| url.username().map(str::to_string))
            .unwrap_or_else(|| TOKEN_USERNAME.to_string());
        let ssh_username = url
            .username()
            .map(str::to_string)
            .or_else(|| self.username.clone())
            .unwrap_or_else(|| SSH_USERNAME.to_string());
        let mut tried: HashSet<u32> = HashSet::new();
        let mut callbacks = RemoteCallbacks::new();
        callbacks.credentials(move |_url, _username, allowed| {
            // libgit2 asks again after the server refused what it got; answering with the
            // same credentials forever would loop, so each kind is offered once.
            let kind = if allowed.contains(CredentialType::USERNAME) {
                CredentialType::USERNAME
            } else if allowed.contains(CredentialType::SSH_KEY) && self.ssh_key.is_some() {
                CredentialType::SSH_KEY
            } else if allowed.contains(CredentialType::USER_PASS_PLAINTEXT) && secret.is_some() {
                CredentialType::USER_PASS_PLAINTEXT
            } else {
                return Err(git2::Error::from_str(&missing_credentials(allowed)));
            };
            if !tried.insert(kind.bits()) {
                return Err(git2::Error::from_str(
                    "authentication failed: the server refused the credentials",
                ));
            }
            match (kind, &self.ssh_key, &secret) {
                (CredentialType::USERNAME, _, _) => Cred::username(&ssh_username),
                (CredentialType::SSH_KEY, Some(key), _) => {
                    Cred::ssh_key(&ssh_username, None, key, None)
                }
                (_, _, Some(secret)) => Cred::userpass_plaintext(&http_username, secret.expose()),
                _ => Err(git2::Error::from_str(&missing_credentials(allowed))),
            }
        });
        let port = url.port();
        let host = url.host().to_string();
        let is_ssh = url.scheme() == Scheme::Ssh;
        callbacks.certificate_check(move |certificate, _| {
            let Some(hostkey) = certificate.as_hostkey() else {
                // TLS: OpenSSL has verified the chain and name against the system roots.
                return Ok(CertificateCheckStatus::CertificatePassthrough);
            };
            if !is_ssh {
                return Ok(CertificateCheckStatus::CertificatePassthrough);
            }
            let (Some(known_hosts), Some(key)) = (&self.known_hosts, hostkey.hostkey()) else {
                return Err(git2::Error::from_str(
                    "no known_hosts to check the server's host key against",
                ));
            };
            known_hosts
                .check(&host, port, key)
                .map(|()| CertificateCheckStatus::CertificateOk)
                .map_err(|error| {
                    *refusal.borrow_mut() = Some(error.to_string());
                    git2::Error::from_str(&error.to_string())
                })
        });
        Ok(callbacks)
    }
}

fn missing_credentials(allowed: CredentialType) -> String {
    let hint = if allowed.contains(CredentialType::SSH_KEY) {
        "give --ssh-key"
    } else {
        "give --git-token-file/--git-token-env or --git-username with --git-password-file/--git-password-env"
    };
    format!("the remote asks for credentials and none fit: {hint}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_file_is_read_at_each_use_without_its_newline() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "first-token\n").unwrap();
        let source = SecretSource::from_file("--git-token-file", path.clone());
        assert_eq!(source.read().unwrap().expose(), "first-token");
        std::fs::write(&path, "rotated-token\n").unwrap();
        assert_eq!(source.read().unwrap().expose(), "rotated-token");
    }

    #[test]
    fn an_empty_or_missing_secret_is_an_error_that_names_the_flag() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "\n").unwrap();
        let error = SecretSource::from_file("--git-token-file", path)
            .read()
            .unwrap_err();
        assert_eq!(error.to_string(), "--git-token-file is empty");
        let error = SecretSource::from_env("--git-token-env", "MESHCD_TEST_SURELY_UNSET_VARIABLE")
            .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("MESHCD_TEST_SURELY_UNSET_VARIABLE")
        );
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let secret = Secret("hunter22".into());
        assert!(!format!("{secret:?}").contains("hunter22"));
    }

    #[test]
    fn the_redactor_removes_remembered_secrets_and_url_user_information() {
        let redactor = Redactor::default();
        redactor.remember(&Secret("hunter22".into()));
        let text = redactor.scrub("auth for https://bob@example.com/x failed with hunter22");
        assert_eq!(
            text,
            "auth for https://example.com/x failed with [redacted]"
        );
    }
}
