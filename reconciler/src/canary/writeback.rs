//! Writes a rollout's outcome to the config repository: the TrafficSplit's (or the
//! HTTPRoute's) weights and the Canary's `status`, edited in place so comments and layout survive, committed as
//! `meshcd` (signed when a signing key is given). A local repository gets the commit on
//! its checked-out branch (files with uncommitted changes are never touched); a remote
//! gets it pushed (`push.rs`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use git2::{Commit, Oid, Repository, Signature, Status, Tree};

use super::push::RemoteTarget;
use super::signing::{CommitSigner, SigningError};
use super::yaml_edit::find_document;
pub use super::yaml_edit::{ObjectRef, set_route_weights, set_status, set_weights};
use crate::load::yaml::{Node, parse_stream};

/// The name and address outcome commits are made under.
pub const AUTHOR_NAME: &str = "meshcd";
pub const AUTHOR_EMAIL: &str = "meshcd@localhost";

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{0}")]
    Git(String),
    #[error("reading or writing {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} has uncommitted changes; meshcd does not overwrite them")]
    Dirty { path: PathBuf },
    #[error("{path}: {message}")]
    Edit { path: PathBuf, message: String },
    /// A newer commit changed the Canary: it supersedes this rollout's outcome.
    #[error("superseded: {0}")]
    Superseded(String),
    #[error(transparent)]
    Signing(#[from] SigningError),
    #[error("pushing to {url} failed {attempts} times; last: {message}")]
    Push {
        url: String,
        attempts: u32,
        message: String,
    },
}

impl From<git2::Error> for WriteError {
    fn from(error: git2::Error) -> Self {
        WriteError::Git(error.message().to_string())
    }
}

/// Where outcomes are committed, and how they are signed.
#[derive(Debug, Clone)]
pub struct Writable {
    pub target: Target,
    /// The config folder inside the repository.
    pub subpath: Option<PathBuf>,
    pub signer: Option<Arc<CommitSigner>>,
}

#[derive(Debug, Clone)]
pub enum Target {
    /// A local repository with a working tree, on the branch that is checked out.
    Local(PathBuf),
    /// A remote branch, written through the reconciler's own clone and pushed.
    Remote(Arc<RemoteTarget>),
}

impl Writable {
    /// Applies the edits on top of the branch's tip, commits and (for a remote) pushes.
    /// Returns the commit id. Blocking: run it off the async executor.
    pub fn publish(
        &self,
        edits: &[FileEdit<'_>],
        message: &str,
        guard: &CanaryGuard,
    ) -> Result<String, WriteError> {
        match &self.target {
            Target::Local(repository) => {
                commit(repository, edits, message, guard, self.signer.as_deref())
            }
            Target::Remote(remote) => remote.publish(edits, message, guard, self.signer.as_deref()),
        }
    }
}

/// Checks that the Canary a rollout ran is still the Canary on the branch: when a newer
/// commit changed its spec, that commit supersedes the rollout and no outcome is written.
pub struct CanaryGuard {
    /// The file holding the Canary, relative to the repository root.
    pub file: PathBuf,
    pub namespace: String,
    pub name: String,
    /// The revision the rollout's Canary was read from.
    pub base: String,
}

impl CanaryGuard {
    pub fn check(&self, repository: &Repository, tip: &Commit<'_>) -> Result<(), WriteError> {
        if tip.id().to_string() == self.base {
            return Ok(());
        }
        let base = repository
            .revparse_single(&self.base)
            .and_then(|object| object.peel_to_commit())
            .map_err(|_| {
                WriteError::Superseded(format!(
                    "revision {} the rollout ran from is no longer on the branch",
                    short(&self.base)
                ))
            })?;
        if self.spec_at(repository, &base) != self.spec_at(repository, tip) {
            return Err(WriteError::Superseded(format!(
                "the Canary {}/{} changed in {} since {}",
                self.namespace,
                self.name,
                short(&tip.id().to_string()),
                short(&self.base)
            )));
        }
        Ok(())
    }

    /// The Canary's `spec` in `commit`, or `None` when it is not there.
    fn spec_at(&self, repository: &Repository, commit: &Commit<'_>) -> Option<serde_json::Value> {
        let entry = commit.tree().ok()?.get_path(&self.file).ok()?;
        let blob = repository.find_blob(entry.id()).ok()?;
        let documents = parse_stream(std::str::from_utf8(blob.content()).ok()?).ok()?;
        let object = ObjectRef {
            kind: "Canary",
            namespace: &self.namespace,
            name: &self.name,
        };
        let (_, document) = find_document(&documents, &object)?;
        Some(
            document
                .get("/spec")
                .map_or(serde_json::Value::Null, Node::to_json),
        )
    }
}

pub fn short(id: &str) -> &str {
    &id[..12.min(id.len())]
}

/// Writes a commit of `tree` with `parents`, signed when `signer` is given, without
/// moving any reference.
pub fn create_commit(
    repository: &Repository,
    author: &Signature<'_>,
    message: &str,
    tree: &Tree<'_>,
    parents: &[&Commit<'_>],
    signer: Option<&CommitSigner>,
) -> Result<Oid, WriteError> {
    let Some(signer) = signer else {
        return Ok(repository.commit(None, author, author, message, tree, parents)?);
    };
    let buffer = repository.commit_create_buffer(author, author, message, tree, parents)?;
    let content = std::str::from_utf8(&buffer)
        .map_err(|_| WriteError::Git("the commit is not UTF-8".into()))?;
    let signature = signer.sign(content.as_bytes())?;
    Ok(repository.commit_signed(content, &signature, None)?)
}

/// Commits `tree` on HEAD (its commit as the parent, none on an unborn branch) and moves
/// the branch HEAD names, only if nobody moved it meanwhile.
pub fn commit_on_head(
    repository: &Repository,
    tree: &Tree<'_>,
    author: &Signature<'_>,
    message: &str,
    signer: Option<&CommitSigner>,
) -> Result<Oid, WriteError> {
    let parent = repository
        .head()
        .ok()
        .and_then(|head| head.peel_to_commit().ok());
    let parents: Vec<&Commit<'_>> = parent.iter().collect();
    let id = create_commit(repository, author, message, tree, &parents, signer)?;
    let summary = format!("commit: {}", message.lines().next().unwrap_or_default());
    let head = repository.find_reference("HEAD")?;
    match (head.symbolic_target(), &parent) {
        (Some(branch), Some(parent)) => {
            repository.reference_matching(branch, id, true, parent.id(), &summary)?;
        }
        (Some(branch), None) => {
            repository.reference(branch, id, false, &summary)?;
        }
        (None, _) => repository.set_head_detached(id)?,
    }
    Ok(id)
}

/// Turns a file's text into its edited text, or says why it cannot.
pub type Edit<'a> = Box<dyn Fn(&str) -> Result<String, String> + 'a>;

/// A file edit: path relative to the repository's working tree, and the edit to make.
pub struct FileEdit<'a> {
    pub path: PathBuf,
    pub edit: Edit<'a>,
}

/// Applies the edits to the working tree of a local repository and commits them as
/// meshcd on the checked-out branch. Returns the commit id.
pub fn commit(
    repository_path: &Path,
    edits: &[FileEdit<'_>],
    message: &str,
    guard: &CanaryGuard,
    signer: Option<&CommitSigner>,
) -> Result<String, WriteError> {
    let repository = Repository::open(repository_path)?;
    let workdir = repository
        .workdir()
        .ok_or_else(|| WriteError::Git("the repository is bare: nothing to edit in place".into()))?
        .to_path_buf();
    guard.check(&repository, &repository.head()?.peel_to_commit()?)?;
    for edit in edits {
        let status = repository.status_file(&edit.path)?;
        if status != Status::CURRENT {
            return Err(WriteError::Dirty {
                path: edit.path.clone(),
            });
        }
    }
    let mut index = repository.index()?;
    for edit in edits {
        let full = workdir.join(&edit.path);
        let text = std::fs::read_to_string(&full).map_err(|source| WriteError::Io {
            path: full.clone(),
            source,
        })?;
        let edited = (edit.edit)(&text).map_err(|message| WriteError::Edit {
            path: edit.path.clone(),
            message,
        })?;
        std::fs::write(&full, edited).map_err(|source| WriteError::Io {
            path: full.clone(),
            source,
        })?;
        index.add_path(&edit.path)?;
    }
    index.write()?;
    let tree = repository.find_tree(index.write_tree()?)?;
    let author = Signature::now(AUTHOR_NAME, AUTHOR_EMAIL)?;
    let id = commit_on_head(&repository, &tree, &author, message, signer)?;
    Ok(id.to_string())
}
