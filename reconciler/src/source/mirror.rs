//! The reconciler's own clone of a remote repository, under the state directory: fetched
//! with force refspecs (so force pushes are followed), resolved like a local repository,
//! and re-cloned from scratch when it turns out to be damaged.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use git2::{AutotagOption, ErrorClass, FetchOptions, FetchPrune, Repository};

use super::credentials::{GitCredentials, Redactor};
use super::git::{GitSource, Reference, Revision, SignedCommit, SourceError, Written};
use super::location::RemoteUrl;

/// The config key that records which URL a clone was made from.
const URL_KEY: &str = "meshcd.url";

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The remote could not be reached, refused us, or sent something unusable.
    #[error("fetching {url}: {message}")]
    Remote { url: String, message: String },
    #[error("preparing the clone in {path}: {message}")]
    Clone { path: PathBuf, message: String },
    #[error("a previous fetch from {url} is still running")]
    Busy { url: String },
    #[error(transparent)]
    Resolve(SourceError),
}

pub struct Mirror {
    url: RemoteUrl,
    reference: Reference,
    directory: PathBuf,
    credentials: Arc<GitCredentials>,
    redactor: Arc<Redactor>,
    /// Held for the whole of a fetch: a fetch that outlives its caller's deadline must
    /// not race the next one over the same files.
    busy: Mutex<()>,
}

impl Mirror {
    pub fn new(
        url: RemoteUrl,
        reference: Reference,
        directory: PathBuf,
        credentials: Arc<GitCredentials>,
        redactor: Arc<Redactor>,
    ) -> Self {
        Mirror {
            url,
            reference,
            directory,
            credentials,
            redactor,
            busy: Mutex::new(()),
        }
    }

    pub fn url(&self) -> &RemoteUrl {
        &self.url
    }

    pub fn reference(&self) -> &Reference {
        &self.reference
    }

    pub fn directory(&self) -> &Path {
        &self.directory
    }

    /// What the reconciler presents to the remote (canary outcomes are pushed with it).
    pub fn credentials(&self) -> &Arc<GitCredentials> {
        &self.credentials
    }

    pub fn redactor(&self) -> &Arc<Redactor> {
        &self.redactor
    }

    fn local(&self) -> GitSource {
        GitSource::new(self.directory.clone(), self.reference.clone())
    }

    /// Fetches the tracked reference and returns the commit it points at. A clone that
    /// cannot be opened, fetched into, or read is deleted and cloned again, once.
    pub fn update(&self) -> Result<Revision, FetchError> {
        let _busy = self.lock().ok_or_else(|| FetchError::Busy {
            url: self.url.to_string(),
        })?;
        let fresh = match self.open() {
            Ok(repository) => match self.fetch(&repository) {
                Ok(()) => false,
                Err(error) if !is_damage(&error) => return Err(self.remote_error(&error)),
                Err(error) => {
                    self.warn_damaged(&self.redactor.scrub(error.message()));
                    drop(repository);
                    self.reclone()?;
                    true
                }
            },
            Err(message) => {
                if self.directory.exists() {
                    self.warn_damaged(&message);
                }
                self.reclone()?;
                true
            }
        };
        match self.local().resolve() {
            Ok(revision) => Ok(revision),
            Err(error) if error.is_damage() && !fresh => {
                self.warn_damaged(&error.to_string());
                self.reclone()?;
                self.local().resolve().map_err(FetchError::Resolve)
            }
            Err(error) => Err(FetchError::Resolve(error)),
        }
    }

    /// See [`GitSource::update_checkout`]; a damaged mirror is cloned again and the
    /// checkout written whole.
    pub fn update_checkout(
        &self,
        revision: &str,
        target: &Path,
        previous: &Written,
    ) -> Result<Written, SourceError> {
        let _busy = self.lock().ok_or_else(|| SourceError::Read {
            revision: revision.to_string(),
            message: format!("a fetch from {} is still running", self.url),
        })?;
        match self.local().update_checkout(revision, target, previous) {
            Err(error) if error.is_damage() => {
                self.warn_damaged(&error.to_string());
                let _ = std::fs::remove_dir_all(target);
                self.reclone_now().map_err(|message| SourceError::Read {
                    revision: revision.to_string(),
                    message,
                })?;
                self.local()
                    .update_checkout(revision, target, &Written::default())
            }
            result => result,
        }
    }

    pub fn signature(&self, revision: &str) -> Result<Option<SignedCommit>, SourceError> {
        self.local().signature(revision)
    }

    /// The branch the remote's HEAD pointed at, or the tracked ref's full name.
    pub fn reference_name(&self) -> Option<String> {
        self.local().reference_name()
    }

    fn lock(&self) -> Option<std::sync::MutexGuard<'_, ()>> {
        match self.busy.try_lock() {
            Ok(guard) => Some(guard),
            // The lock guards no data: a panic while it was held changes nothing.
            Err(std::sync::TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => None,
        }
    }

    fn warn_damaged(&self, message: &str) {
        tracing::warn!(
            clone = %self.directory.display(),
            error = %message,
            "the clone is damaged; cloning again"
        );
    }

    /// Opens the clone; an error when it is missing, damaged or made from another URL.
    fn open(&self) -> Result<Repository, String> {
        let repository = Repository::open_bare(&self.directory).map_err(|e| e.to_string())?;
        let recorded = repository
            .config()
            .and_then(|config| config.get_string(URL_KEY))
            .map_err(|e| e.to_string())?;
        if recorded != self.url.without_credentials() {
            return Err(format!("the clone was made from {recorded}"));
        }
        Ok(repository)
    }

    fn reclone(&self) -> Result<(), FetchError> {
        self.reclone_now().map_err(|message| FetchError::Remote {
            url: self.url.to_string(),
            message,
        })
    }

    /// Deletes the clone and fetches everything again.
    fn reclone_now(&self) -> Result<(), String> {
        if self.directory.exists() {
            std::fs::remove_dir_all(&self.directory)
                .map_err(|error| format!("removing {}: {error}", self.directory.display()))?;
        }
        let repository = Repository::init_bare(&self.directory)
            .and_then(|repository| {
                repository
                    .config()?
                    .set_str(URL_KEY, &self.url.without_credentials())?;
                Ok(repository)
            })
            .map_err(|error| format!("creating {}: {error}", self.directory.display()))?;
        self.fetch(&repository)
            .map_err(|error| self.redactor.scrub(error.message()))
    }

    /// One fetch of the refs the tracked reference needs, with force refspecs.
    fn fetch(&self, repository: &Repository) -> Result<(), git2::Error> {
        let refspecs: Vec<String> = match &self.reference {
            Reference::Branch(name) => vec![format!("+refs/heads/{name}:refs/heads/{name}")],
            Reference::Tag(name) => vec![format!("+refs/tags/{name}:refs/tags/{name}")],
            Reference::Head | Reference::Commit(_) => vec![
                "+refs/heads/*:refs/heads/*".to_string(),
                "+refs/tags/*:refs/tags/*".to_string(),
            ],
        };
        let remote = fetch_refs(
            repository,
            &self.url,
            &self.credentials,
            &self.redactor,
            &refspecs,
            FetchPrune::On,
        )?;
        if self.reference == Reference::Head {
            // Follow the branch the remote's HEAD names, as `git clone` does.
            let head = remote
                .list()?
                .iter()
                .find(|head| head.name() == "HEAD")
                .map(|head| (head.symref_target().map(str::to_string), head.oid()));
            match head {
                Some((Some(target), _)) => repository.set_head(&target)?,
                Some((None, oid)) => repository.set_head_detached(oid)?,
                None => {
                    return Err(git2::Error::new(
                        git2::ErrorCode::NotFound,
                        ErrorClass::Invalid,
                        "the remote advertises no HEAD: give --branch",
                    ));
                }
            }
        }
        Ok(())
    }

    fn remote_error(&self, error: &git2::Error) -> FetchError {
        FetchError::Remote {
            url: self.url.to_string(),
            message: self.redactor.scrub(error.message()),
        }
    }
}

/// Fetches `refspecs` from `url` with `credentials` (no tags, no FETCH_HEAD) and returns
/// the remote, whose advertised heads stay readable. A host key the known_hosts check
/// refused is reported with its reason, which libgit2 would replace with a generic one.
pub fn fetch_refs<'r>(
    repository: &'r Repository,
    url: &RemoteUrl,
    credentials: &GitCredentials,
    redactor: &Redactor,
    refspecs: &[String],
    prune: FetchPrune,
) -> Result<git2::Remote<'r>, git2::Error> {
    let refusal = std::cell::RefCell::new(None);
    let callbacks = remote_callbacks(credentials, url, redactor, &refusal)?;
    let mut options = FetchOptions::new();
    options
        .remote_callbacks(callbacks)
        .download_tags(AutotagOption::None)
        .prune(prune)
        .update_fetchhead(false);
    let mut remote = repository.remote_anonymous(&url.without_credentials())?;
    remote
        .fetch(refspecs, Some(&mut options), None)
        .map_err(|error| with_refusal(error, &refusal))?;
    drop(options);
    Ok(remote)
}

/// The credentials' callbacks for one exchange with `url`; reading a secret that fails
/// is an authentication error of the remote's, not damage to the clone.
pub fn remote_callbacks<'a>(
    credentials: &'a GitCredentials,
    url: &'a RemoteUrl,
    redactor: &Redactor,
    refusal: &'a std::cell::RefCell<Option<String>>,
) -> Result<git2::RemoteCallbacks<'a>, git2::Error> {
    credentials
        .callbacks(url, redactor, refusal)
        .map_err(|error| {
            git2::Error::new(
                git2::ErrorCode::Auth,
                ErrorClass::Callback,
                error.to_string(),
            )
        })
}

/// `error`, or the reason the host key was refused when there is one.
pub fn with_refusal(
    error: git2::Error,
    refusal: &std::cell::RefCell<Option<String>>,
) -> git2::Error {
    match refusal.borrow_mut().take() {
        Some(reason) => git2::Error::new(git2::ErrorCode::Certificate, ErrorClass::Ssh, reason),
        None => error,
    }
}

/// Errors from reaching or talking to the remote are the remote's; the rest (objects,
/// packs, refs, files of the clone) mean the clone needs to be made again.
fn is_damage(error: &git2::Error) -> bool {
    !matches!(
        error.class(),
        ErrorClass::None
            | ErrorClass::Net
            | ErrorClass::Ssh
            | ErrorClass::Http
            | ErrorClass::Ssl
            | ErrorClass::Callback
            | ErrorClass::Invalid
    ) && error.code() != git2::ErrorCode::Auth
        && error.code() != git2::ErrorCode::Certificate
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::git;

    /// A repository to fetch from over file://, with one commit on `branch`.
    fn upstream(dir: &Path, branch: &str) -> PathBuf {
        let path = dir.join("upstream");
        std::fs::create_dir_all(&path).unwrap();
        git(&path, &["init", "-q", "-b", branch]);
        commit(&path, "mesh.yaml", "first");
        path
    }

    fn commit(repo: &Path, file: &str, message: &str) -> String {
        std::fs::write(repo.join(file), format!("# {message}\n")).unwrap();
        git(repo, &["add", "."]);
        git(repo, &["commit", "-q", "-m", message]);
        git(repo, &["rev-parse", "HEAD"])
    }

    fn mirror(dir: &Path, upstream: &Path, reference: Reference) -> Mirror {
        let url = RemoteUrl::parse(&format!("file://{}", upstream.display())).unwrap();
        Mirror::new(
            url,
            reference,
            dir.join("state/source"),
            Arc::default(),
            Arc::default(),
        )
    }

    #[test]
    fn a_force_push_is_followed() {
        let dir = tempfile::tempdir().unwrap();
        let upstream = upstream(dir.path(), "main");
        let second = commit(&upstream, "mesh.yaml", "second");
        let mirror = mirror(dir.path(), &upstream, Reference::Branch("main".into()));
        assert_eq!(mirror.update().unwrap().id, second);

        git(&upstream, &["reset", "-q", "--hard", "HEAD~1"]);
        let rewritten = commit(&upstream, "other.yaml", "rewritten");
        assert_eq!(mirror.update().unwrap().id, rewritten);
    }

    #[test]
    fn without_a_reference_the_remote_head_branch_is_followed() {
        let dir = tempfile::tempdir().unwrap();
        let upstream = upstream(dir.path(), "trunk");
        let tip = git(&upstream, &["rev-parse", "HEAD"]);
        git(&upstream, &["branch", "-q", "other"]);
        let mirror = mirror(dir.path(), &upstream, Reference::Head);
        assert_eq!(mirror.update().unwrap().id, tip);
        assert_eq!(mirror.reference_name().as_deref(), Some("refs/heads/trunk"));
    }

    #[test]
    fn a_tag_and_a_pinned_commit_are_resolved_from_the_remote() {
        let dir = tempfile::tempdir().unwrap();
        let upstream = upstream(dir.path(), "main");
        let first = git(&upstream, &["rev-parse", "HEAD"]);
        git(&upstream, &["tag", "-a", "-m", "release", "v1"]);
        commit(&upstream, "mesh.yaml", "after the tag");

        let tagged = mirror(dir.path(), &upstream, Reference::Tag("v1".into()));
        assert_eq!(tagged.update().unwrap().id, first);
        let pinned = Mirror::new(
            RemoteUrl::parse(&format!("file://{}", upstream.display())).unwrap(),
            Reference::Commit(first[..10].to_string()),
            dir.path().join("pinned"),
            Arc::default(),
            Arc::default(),
        );
        assert_eq!(pinned.update().unwrap().id, first);
    }

    #[test]
    fn a_missing_branch_is_reported_and_the_clone_kept() {
        let dir = tempfile::tempdir().unwrap();
        let upstream = upstream(dir.path(), "main");
        let mirror = mirror(dir.path(), &upstream, Reference::Branch("nope".into()));
        let error = mirror.update().unwrap_err().to_string();
        assert!(error.contains("branch nope"), "{error}");
        assert!(mirror.directory().join("HEAD").exists());
    }

    #[test]
    fn an_unreachable_remote_is_a_fetch_error() {
        let dir = tempfile::tempdir().unwrap();
        let mirror = mirror(
            dir.path(),
            &dir.path().join("gone"),
            Reference::Branch("main".into()),
        );
        assert!(matches!(mirror.update(), Err(FetchError::Remote { .. })));
    }

    #[test]
    fn a_clone_whose_objects_were_corrupted_is_cloned_again() {
        let dir = tempfile::tempdir().unwrap();
        let upstream = upstream(dir.path(), "main");
        let mirror = mirror(dir.path(), &upstream, Reference::Branch("main".into()));
        mirror.update().unwrap();
        corrupt_objects(&mirror.directory().join("objects"));

        let next = commit(&upstream, "next.yaml", "next");
        let revision = mirror.update().unwrap();
        assert_eq!(revision.id, next);
        let out = dir.path().join("out");
        mirror
            .update_checkout(&revision.id, &out, &Written::default())
            .unwrap();
        assert_eq!(
            std::fs::read_to_string(out.join("mesh.yaml")).unwrap(),
            "# first\n"
        );
    }

    fn corrupt_objects(folder: &Path) {
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                corrupt_objects(&path);
            } else {
                use std::os::unix::fs::PermissionsExt as _;
                // Git writes objects read-only.
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
                let length = std::fs::metadata(&path).unwrap().len() as usize;
                std::fs::write(&path, vec![0xA5; length]).unwrap();
            }
        }
    }
}
