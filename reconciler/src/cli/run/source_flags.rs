//! The `meshcd run` flags that say how to reach and trust the config repository, and
//! their check at start-up: every bad value is reported at once, before anything starts.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::canary::signing::CommitSigner;
use crate::source::Source;
use crate::source::credentials::{GitCredentials, Redactor, Secret, SecretSource};
use crate::source::git::{GitSource, Reference};
use crate::source::known_hosts::KnownHosts;
use crate::source::location::{Location, RemoteUrl, Scheme};
use crate::source::mirror::Mirror;
use crate::source::signatures::AllowedSigners;

#[derive(Debug, Default, clap::Args)]
pub struct SourceArgs {
    /// User name for http(s) Basic auth (default with a token: "git") and for ssh://
    /// (default: the URL's user, else "git").
    #[arg(long, env = "MESHCD_GIT_USERNAME")]
    pub git_username: Option<String>,
    /// A file holding an access token for http(s) remotes, sent as the Basic auth
    /// password; read again at every fetch, so it can be rotated in place.
    #[arg(
        long,
        value_name = "FILE",
        env = "MESHCD_GIT_TOKEN_FILE",
        conflicts_with_all = ["git_token_env", "git_password_file", "git_password_env"]
    )]
    pub git_token_file: Option<PathBuf>,
    /// The name of an environment variable holding that token.
    #[arg(
        long,
        value_name = "NAME",
        env = "MESHCD_GIT_TOKEN_ENV",
        conflicts_with_all = ["git_password_file", "git_password_env"]
    )]
    pub git_token_env: Option<String>,
    /// A file holding the password of --git-username, or of the URL's user (http(s)
    /// Basic auth).
    #[arg(
        long,
        value_name = "FILE",
        env = "MESHCD_GIT_PASSWORD_FILE",
        conflicts_with = "git_password_env"
    )]
    pub git_password_file: Option<PathBuf>,
    /// The name of an environment variable holding that password.
    #[arg(long, value_name = "NAME", env = "MESHCD_GIT_PASSWORD_ENV")]
    pub git_password_env: Option<String>,
    /// The private key for ssh:// remotes (OpenSSH or PEM format, without passphrase).
    #[arg(long, value_name = "FILE", env = "MESHCD_SSH_KEY")]
    pub ssh_key: Option<PathBuf>,
    /// The known_hosts file ssh:// host keys are checked against (default:
    /// ~/.ssh/known_hosts). Unknown and changed host keys are refused.
    #[arg(long, value_name = "FILE", env = "MESHCD_SSH_KNOWN_HOSTS")]
    pub ssh_known_hosts: Option<PathBuf>,
    /// Apply only commits signed with a key of this allowed-signers file (git's
    /// gpg.format=ssh; ssh-keygen(1) ALLOWED SIGNERS format).
    #[arg(long, value_name = "ALLOWED_SIGNERS", env = "MESHCD_VERIFY_SIGNATURES")]
    pub verify_signatures: Option<PathBuf>,
    /// The OpenSSH private key (without passphrase) meshcd signs its own commits with
    /// (canary outcomes). With --verify-signatures its public key must be an allowed
    /// signer; without this flag, canaries cannot commit their outcome while
    /// verification is on (they hold their last step and the status says why).
    #[arg(long, value_name = "FILE", env = "MESHCD_SIGNING_KEY")]
    pub signing_key: Option<PathBuf>,
    /// A file holding the secret push webhooks are signed with; enables POST /webhook on
    /// the admin listener.
    #[arg(
        long,
        value_name = "FILE",
        env = "MESHCD_WEBHOOK_SECRET_FILE",
        conflicts_with = "webhook_secret_env"
    )]
    pub webhook_secret_file: Option<PathBuf>,
    /// The name of an environment variable holding that secret.
    #[arg(long, value_name = "NAME", env = "MESHCD_WEBHOOK_SECRET_ENV")]
    pub webhook_secret_env: Option<String>,
}

/// A remote source being set up.
struct Remote<'a> {
    url: RemoteUrl,
    reference: Reference,
    state_dir: &'a Path,
    redactor: &'a Arc<Redactor>,
}

/// Everything the reconciler needs to follow its source, checked.
pub struct SourceSetup {
    pub source: Source,
    pub signers: Option<AllowedSigners>,
    /// meshcd's own commit signer (`--signing-key`).
    pub signer: Option<Arc<CommitSigner>>,
    pub webhook_secret: Option<Secret>,
    pub redactor: Arc<Redactor>,
}

impl SourceSetup {
    /// A local repository with no verification and no webhook (`meshcd up`).
    pub fn local(source: GitSource) -> Self {
        SourceSetup {
            source: Source::Local(source),
            signers: None,
            signer: None,
            webhook_secret: None,
            redactor: Arc::default(),
        }
    }
}

impl SourceArgs {
    /// Checks every flag against `repo` and reads what can be read now. The error lists
    /// every problem found, one line each, none quoting a secret.
    pub fn resolve(
        &self,
        repo: &str,
        reference: Reference,
        state_dir: &Path,
    ) -> Result<SourceSetup, Vec<String>> {
        let mut problems = Vec::new();
        let redactor = Arc::new(Redactor::default());
        let token = secret_source(
            ("--git-token-file", &self.git_token_file),
            ("--git-token-env", &self.git_token_env),
            &mut problems,
        );
        let password = secret_source(
            ("--git-password-file", &self.git_password_file),
            ("--git-password-env", &self.git_password_env),
            &mut problems,
        );
        // Read once now so that a missing file is a usage error rather than a failed
        // fetch later; files are read again at every fetch.
        for source in token.iter().chain(password.iter()) {
            match source.read() {
                Ok(secret) => redactor.remember(&secret),
                Err(error) => problems.push(meshcd_support::error_chain(&error)),
            }
        }
        let webhook_secret = secret_source(
            ("--webhook-secret-file", &self.webhook_secret_file),
            ("--webhook-secret-env", &self.webhook_secret_env),
            &mut problems,
        )
        .and_then(|source| match source.read() {
            Ok(secret) => {
                redactor.remember(&secret);
                Some(secret)
            }
            Err(error) => {
                problems.push(meshcd_support::error_chain(&error));
                None
            }
        });
        let (signers, signer) = self.signing(&mut problems);
        let has_secret = token.is_some() || password.is_some();
        let source = match Location::parse(repo) {
            Err(error) => {
                problems.push(format!("--repo: {error}"));
                None
            }
            Ok(Location::Local(path)) => {
                Some(self.local_source(path, reference, has_secret, &mut problems))
            }
            Ok(Location::Remote(url)) => {
                let secrets = (token, password);
                let remote = Remote {
                    url,
                    reference,
                    state_dir,
                    redactor: &redactor,
                };
                Some(self.remote_source(remote, secrets, &mut problems))
            }
        };
        match source {
            Some(source) if problems.is_empty() => Ok(SourceSetup {
                source,
                signers,
                signer,
                webhook_secret,
                redactor,
            }),
            _ => Err(problems),
        }
    }

    /// `--verify-signatures` and `--signing-key`, read; a signing key the allowed signers
    /// would refuse is a problem (meshcd would refuse its own commits).
    fn signing(
        &self,
        problems: &mut Vec<String>,
    ) -> (Option<AllowedSigners>, Option<Arc<CommitSigner>>) {
        let signers = self.verify_signatures.as_ref().and_then(|path| {
            AllowedSigners::read(path)
                .map_err(|error| {
                    problems.push(format!(
                        "--verify-signatures: {}",
                        meshcd_support::error_chain(&error)
                    ))
                })
                .ok()
        });
        let signer = self.signing_key.as_ref().and_then(|path| {
        let signer = CommitSigner::read(path)
            .map_err(|error| problems.push(format!("--signing-key: {error}")))
            .ok()?;
        if let Some(signers) = &signers
            && let Err(error) = allowed(&signer, signers)
        {
            problems.push(format!(
                "--signing-key {}: {error}: meshcd would refuse its own commits; add its public key ({}) to the allowed signers",
                path.display(),
                signer.public_key()
            ));
        }
        Some(Arc::new(signer))
    });
        (signers, signer)
    }

    /// A repository folder on this machine: it must exist and be a Git repository, and
    /// takes no credentials.
    fn local_source(
        &self,
        path: PathBuf,
        reference: Reference,
        has_secret: bool,
        problems: &mut Vec<String>,
    ) -> Source {
        if has_secret || self.ssh_key.is_some() || self.ssh_known_hosts.is_some() {
            problems.push(format!(
                "--git-*/--ssh-* credentials apply to remote URLs; {} is a local path",
                path.display()
            ));
        }
        if !path.exists() {
            problems.push(format!(
                "--repo: config repository {} does not exist",
                path.display()
            ));
        } else if let Err(error) = git2::Repository::open(&path) {
            // Retrying would never help, and nothing has been applied.
            problems.push(format!(
                "--repo: {} is not a Git repository ({}): give a repository's \
                 folder (`git init` and commit the config) or a remote URL",
                path.display(),
                error.message()
            ));
        }
        Source::Local(GitSource::new(path, reference))
    }

    /// A remote URL, with the credentials its scheme takes (and no others).
    fn remote_source(
        &self,
        remote: Remote<'_>,
        (token, password): (Option<SecretSource>, Option<SecretSource>),
        problems: &mut Vec<String>,
    ) -> Source {
        let Remote {
            url,
            reference,
            state_dir,
            redactor,
        } = remote;
        let has_secret = token.is_some() || password.is_some();
        let mut credentials = GitCredentials {
            username: self.git_username.clone(),
            token,
            password,
            ssh_key: None,
            known_hosts: None,
        };
        match url.scheme() {
            Scheme::Ssh => {
                if has_secret {
                    problems.push("ssh:// remotes take --ssh-key, not a token or password".into());
                }
                credentials.ssh_key = self.ssh_key_file(problems);
                credentials.known_hosts = self.known_hosts(problems);
            }
            Scheme::Http | Scheme::Https => {
                if self.ssh_key.is_some() {
                    problems.push("--ssh-key applies to ssh:// remotes only".into());
                }
                if credentials.password.is_some()
                    && self.git_username.is_none()
                    && url.username().is_none()
                {
                    problems.push(
                        "a password needs a user: give --git-username or put the user in the URL"
                            .into(),
                    );
                }
                if url.scheme() == Scheme::Http && has_secret {
                    tracing::warn!(
                        "credentials go over plain http://; use https:// beyond a trusted network"
                    );
                }
            }
            Scheme::Git | Scheme::File => {
                if has_secret || self.ssh_key.is_some() {
                    problems.push("git:// and file:// remotes take no credentials".into());
                }
            }
        }
        Source::Remote(Mirror::new(
            url,
            reference,
            state_dir.join("source"),
            Arc::new(credentials),
            redactor.clone(),
        ))
    }

    fn ssh_key_file(&self, problems: &mut Vec<String>) -> Option<PathBuf> {
        let Some(key) = &self.ssh_key else {
            problems.push("ssh:// remotes need --ssh-key".into());
            return None;
        };
        // Only whether it can be opened: the key itself is read by libssh2 at each fetch.
        if let Err(error) = std::fs::File::open(key) {
            problems.push(format!("--ssh-key {}: {error}", key.display()));
        }
        Some(key.clone())
    }

    fn known_hosts(&self, problems: &mut Vec<String>) -> Option<KnownHosts> {
        let path = match &self.ssh_known_hosts {
            Some(path) => path.clone(),
            None => match std::env::var_os("HOME") {
                Some(home) => PathBuf::from(home).join(".ssh/known_hosts"),
                None => {
                    problems.push("ssh:// remotes need --ssh-known-hosts".into());
                    return None;
                }
            },
        };
        KnownHosts::read(&path)
            .map_err(|error| {
                problems.push(format!(
                    "--ssh-known-hosts: {}; host keys are always checked",
                    meshcd_support::error_chain(&error)
                ))
            })
            .ok()
    }
}

/// Whether `signers` accepts what `signer` signs: a probe signed and verified.
fn allowed(signer: &CommitSigner, signers: &AllowedSigners) -> Result<(), String> {
    let probe = b"meshcd signing key check";
    let signature = signer.sign(probe).map_err(|error| error.to_string())?;
    signers
        .verify(signature.as_bytes(), probe)
        .map(|_| ())
        .map_err(|error| error.to_string())
}

/// The file or the environment variable named for one secret (clap keeps them exclusive).
fn secret_source(
    file: (&'static str, &Option<PathBuf>),
    env: (&'static str, &Option<String>),
    problems: &mut Vec<String>,
) -> Option<SecretSource> {
    match (file.1, env.1) {
        (Some(path), _) => Some(SecretSource::from_file(file.0, path.clone())),
        (None, Some(name)) => SecretSource::from_env(env.0, name)
            .map_err(|error| problems.push(error.to_string()))
            .ok(),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(args: SourceArgs, repo: &str) -> Result<SourceSetup, Vec<String>> {
        let state = tempfile::tempdir().unwrap();
        args.resolve(repo, Reference::Head, state.path())
    }

    #[test]
    fn every_problem_is_reported_at_once_without_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let token = dir.path().join("token");
        std::fs::write(&token, "tok-123456\n").unwrap();
        let problems = resolve(
            SourceArgs {
                git_token_file: Some(token),
                verify_signatures: Some(dir.path().join("missing-signers")),
                webhook_secret_env: Some("MESHCD_TEST_SURELY_UNSET_WEBHOOK".into()),
                ..SourceArgs::default()
            },
            "ssh://git@example.com/config.git",
        )
        .err()
        .expect("problems");
        let text = problems.join("\n");
        for expected in [
            "MESHCD_TEST_SURELY_UNSET_WEBHOOK",
            "--verify-signatures",
            "ssh:// remotes take --ssh-key, not a token",
            "ssh:// remotes need --ssh-key",
        ] {
            assert!(text.contains(expected), "{expected} missing from:\n{text}");
        }
        assert!(!text.contains("tok-123456"));
    }

    #[test]
    fn a_password_in_the_url_is_refused_without_quoting_it() {
        let problems = resolve(
            SourceArgs::default(),
            "https://bob:hunter22@example.com/c.git",
        )
        .err()
        .expect("problems");
        assert!(problems[0].contains("carries a password"));
        assert!(!problems[0].contains("hunter22"));
    }

    #[test]
    fn a_signing_key_that_is_not_an_allowed_signer_is_refused_at_start_up() {
        let dir = tempfile::tempdir().unwrap();
        let (author, author_public) = crate::test_support::ssh_key(dir.path(), "author");
        let (meshcd, _) = crate::test_support::ssh_key(dir.path(), "meshcd");
        let allowed = dir.path().join("allowed_signers");
        std::fs::write(&allowed, format!("author@example.com {author_public}\n")).unwrap();
        let args = |key: &Path| SourceArgs {
            verify_signatures: Some(allowed.clone()),
            signing_key: Some(key.to_path_buf()),
            ..SourceArgs::default()
        };
        git2::Repository::init(dir.path()).unwrap();
        let repo = dir.path().to_str().unwrap();
        let problems = resolve(args(&meshcd), repo).err().expect("problems");
        assert!(
            problems[0].contains("meshcd would refuse its own commits"),
            "{problems:?}"
        );
        let Ok(setup) = resolve(args(&author), repo) else {
            panic!("an allowed key is accepted");
        };
        assert!(setup.signer.is_some());
    }

    #[test]
    fn a_folder_that_is_not_a_repository_is_a_problem_at_start_up() {
        let dir = tempfile::tempdir().unwrap();
        let problems = resolve(SourceArgs::default(), dir.path().to_str().unwrap())
            .err()
            .expect("problems");
        assert!(
            problems[0].contains("is not a Git repository"),
            "{problems:?}"
        );
    }

    #[test]
    fn a_plain_path_stays_a_local_source() {
        let dir = tempfile::tempdir().unwrap();
        git2::Repository::init(dir.path()).unwrap();
        let Ok(setup) = resolve(SourceArgs::default(), dir.path().to_str().unwrap()) else {
            panic!("a local path is valid");
        };
        assert!(setup.source.local_path().is_some());
    }
}
