//! Where revisions come from: Git repositories (read in place or cloned from a remote),
//! the events that say one changed, and the checks a revision passes before it is read.

use std::path::Path;

pub mod credentials;
pub mod git;
pub mod known_hosts;
pub mod location;
pub mod mirror;
pub mod signatures;
pub mod watch;
pub mod webhook;

use git::{GitSource, Reference, Revision, SignedCommit, SourceError};
use mirror::{FetchError, Mirror};

/// The config repository the reconciler follows.
pub enum Source {
    /// A repository on this machine: read directly, watched with `notify`.
    Local(GitSource),
    /// A remote: fetched into the reconciler's own clone.
    Remote(Mirror),
}

impl Source {
    /// The path or URL, never with credentials.
    pub fn describe(&self) -> String {
        match self {
            Source::Local(source) => source.path().display().to_string(),
            Source::Remote(mirror) => mirror.url().to_string(),
        }
    }

    pub fn reference(&self) -> &Reference {
        match self {
            Source::Local(source) => source.reference(),
            Source::Remote(mirror) => mirror.reference(),
        }
    }

    /// The repository to watch for changes, for a local source.
    pub fn local_path(&self) -> Option<&Path> {
        match self {
            Source::Local(source) => Some(source.path()),
            Source::Remote(_) => None,
        }
    }

    /// Fetches (for a remote) and resolves the tracked reference.
    pub fn update(&self) -> Result<Revision, FetchError> {
        match self {
            Source::Local(source) => source.resolve().map_err(FetchError::Resolve),
            Source::Remote(mirror) => mirror.update(),
        }
    }

    /// The full name of the reference followed (`refs/heads/main`), when there is one.
    pub fn reference_name(&self) -> Option<String> {
        match self {
            Source::Local(source) => source.reference_name(),
            Source::Remote(mirror) => mirror.reference_name(),
        }
    }

    /// See [`git::GitSource::update_checkout`].
    pub fn update_checkout(
        &self,
        revision: &str,
        target: &Path,
        previous: &git::Written,
    ) -> Result<git::Written, SourceError> {
        match self {
            Source::Local(source) => source.update_checkout(revision, target, previous),
            Source::Remote(mirror) => mirror.update_checkout(revision, target, previous),
        }
    }

    pub fn signature(&self, revision: &str) -> Result<Option<SignedCommit>, SourceError> {
        match self {
            Source::Local(source) => source.signature(revision),
            Source::Remote(mirror) => mirror.signature(revision),
        }
    }
}

/// Why the source is looked at (a reconcile runs); shown in logs. Defined with the
/// source so that its watchers need nothing from the layers above.
#[derive(Debug, Clone, Copy)]
pub enum Trigger {
    Start,
    Poll,
    /// The next attempt after a failure.
    Retry,
    Watch,
    Webhook,
    Sync,
    Resume,
}
