//! Reads revisions of a Git repository with git2: resolves the tracked ref to a commit
//! and writes that commit's tree to a scratch folder, without touching the repository's
//! own working tree.

use std::path::{Path, PathBuf};

use git2::{ObjectType, Repository, TreeWalkMode, TreeWalkResult};

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("opening repository {path}: {message}")]
    Open { path: PathBuf, message: String },
    #[error("resolving {reference}: {message}")]
    Resolve {
        reference: String,
        message: String,
        /// The reference exists but what it points at cannot be read.
        damaged: bool,
    },
    #[error("reading commit {revision}: {message}")]
    Read { revision: String, message: String },
    #[error("writing checkout to {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl SourceError {
    /// Whether the repository itself looks damaged (unreadable objects or refs), as
    /// opposed to a reference that does not exist: a clone that is damaged is re-cloned.
    pub fn is_damage(&self) -> bool {
        match self {
            SourceError::Open { .. } | SourceError::Read { .. } => true,
            SourceError::Resolve { damaged, .. } => *damaged,
            SourceError::Write { .. } => false,
        }
    }
}

/// A commit's signature and the bytes it signs, as stored in the commit object.
#[derive(Debug, Clone)]
pub struct SignedCommit {
    pub signature: Vec<u8>,
    pub signed_data: Vec<u8>,
}

/// What the reconciler follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    /// The repository's HEAD.
    Head,
    Branch(String),
    Tag(String),
    Commit(String),
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reference::Head => f.write_str("HEAD"),
            Reference::Branch(name) => write!(f, "branch {name}"),
            Reference::Tag(name) => write!(f, "tag {name}"),
            Reference::Commit(id) => write!(f, "commit {id}"),
        }
    }
}

/// One commit of the config repository.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Revision {
    pub id: String,
    pub summary: String,
    pub author: String,
    /// Commit time, seconds since the epoch.
    pub time: i64,
}

pub struct GitSource {
    path: PathBuf,
    reference: Reference,
}

impl GitSource {
    pub fn new(path: PathBuf, reference: Reference) -> Self {
        GitSource { path, reference }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn reference(&self) -> &Reference {
        &self.reference
    }

    fn open(&self) -> Result<Repository, SourceError> {
        Repository::open(&self.path).map_err(|error| SourceError::Open {
            path: self.path.clone(),
            message: error.message().to_string(),
        })
    }

    /// The commit the tracked reference points at now.
    pub fn resolve(&self) -> Result<Revision, SourceError> {
        let repository = self.open()?;
        let error = |damaged: bool| {
            move |error: git2::Error| SourceError::Resolve {
                reference: self.reference.to_string(),
                message: error.message().to_string(),
                damaged,
            }
        };
        let commit = match &self.reference {
            Reference::Commit(id) => {
                // revparse takes abbreviated ids too.
                let object = repository.revparse_single(id).map_err(|e| {
                    let missing = matches!(
                        e.code(),
                        git2::ErrorCode::NotFound | git2::ErrorCode::Ambiguous
                    ) || e.class() == git2::ErrorClass::Invalid;
                    error(!missing)(e)
                })?;
                object.peel_to_commit().map_err(error(false))?
            }
            reference => {
                let name = match reference {
                    Reference::Branch(name) => format!("refs/heads/{name}"),
                    Reference::Tag(name) => format!("refs/tags/{name}"),
                    _ => "HEAD".to_string(),
                };
                // A missing name is the user's problem; a name that exists but cannot be
                // followed to a commit is the repository's.
                let found = repository.find_reference(&name).map_err(|e| {
                    let missing = e.code() == git2::ErrorCode::NotFound
                        || e.code() == git2::ErrorCode::UnbornBranch;
                    error(!missing)(e)
                })?;
                let resolved = found.resolve().map_err(|e| {
                    let missing = e.code() == git2::ErrorCode::NotFound;
                    error(!missing)(e)
                })?;
                resolved.peel_to_commit().map_err(error(true))?
            }
        };
        Ok(Revision {
            id: commit.id().to_string(),
            summary: commit.summary().unwrap_or_default().to_string(),
            author: commit.author().name().unwrap_or_default().to_string(),
            time: commit.time().seconds(),
        })
    }

    /// The full name of the reference followed: `refs/heads/main` for a branch, or the
    /// branch HEAD points at; `None` for a commit or a detached HEAD.
    pub fn reference_name(&self) -> Option<String> {
        match &self.reference {
            Reference::Branch(name) => Some(format!("refs/heads/{name}")),
            Reference::Tag(name) => Some(format!("refs/tags/{name}")),
            Reference::Commit(_) => None,
            Reference::Head => {
                let repository = self.open().ok()?;
                let head = repository.find_reference("HEAD").ok()?;
                head.symbolic_target().map(str::to_string)
            }
        }
    }

    /// The signature of commit `revision`, or `None` when it is not signed.
    pub fn signature(&self, revision: &str) -> Result<Option<SignedCommit>, SourceError> {
        let repository = self.open()?;
        let read_error = |error: git2::Error| SourceError::Read {
            revision: revision.to_string(),
            message: error.message().to_string(),
        };
        let oid = git2::Oid::from_str(revision).map_err(read_error)?;
        match repository.extract_signature(&oid, None) {
            Ok((signature, signed_data)) => Ok(Some(SignedCommit {
                signature: signature.to_vec(),
                signed_data: signed_data.to_vec(),
            })),
            Err(error) if error.code() == git2::ErrorCode::NotFound => {
                // Not found is also what a missing commit gives: tell them apart.
                repository.find_commit(oid).map_err(read_error)?;
                Ok(None)
            }
            Err(error) => Err(read_error(error)),
        }
    }

    /// Makes `target`, which holds the checkout `previous` describes, the tree of
    /// `revision`: only files whose content changed are written and only files that are
    /// gone are removed, so a one-file commit to a repository of 10,000 files costs one
    /// write, not 10,000 file creations. Returns what `target` now holds.
    pub fn update_checkout(
        &self,
        revision: &str,
        target: &Path,
        previous: &Written,
    ) -> Result<Written, SourceError> {
        let repository = self.open()?;
        let read_error = |error: git2::Error| SourceError::Read {
            revision: revision.to_string(),
            message: error.message().to_string(),
        };
        let oid = git2::Oid::from_str(revision).map_err(read_error)?;
        let tree = repository
            .find_commit(oid)
            .and_then(|c| c.tree())
            .map_err(read_error)?;
        let write_error = |path: &Path| {
            let path = path.to_path_buf();
            move |source| SourceError::Write { path, source }
        };
        std::fs::create_dir_all(target).map_err(write_error(target))?;
        let mut written = Written::default();
        tree.walk(TreeWalkMode::PreOrder, |folder, entry| {
            // Symlinks (mode 120000) could point outside the checkout: skipped.
            if entry.kind() == Some(ObjectType::Blob)
                && entry.filemode() != 0o120000
                && let Some(name) = entry.name()
            {
                written.0.insert(Path::new(folder).join(name), entry.id());
            }
            TreeWalkResult::Ok
        })
        .map_err(read_error)?;
        // What is gone goes first, with the folders it leaves empty: a path may turn
        // from file to folder or back, and a removed folder (a `--subpath`) must not
        // stay behind as an empty config.
        for gone in previous
            .0
            .keys()
            .filter(|path| !written.0.contains_key(*path))
        {
            let path = target.join(gone);
            match std::fs::remove_file(&path) {
                Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                    return Err(write_error(&path)(error));
                }
                _ => {}
            }
            for folder in gone
                .ancestors()
                .skip(1)
                .filter(|f| !f.as_os_str().is_empty())
            {
                // Fails (and stops) at the first folder that still holds something.
                if std::fs::remove_dir(target.join(folder)).is_err() {
                    break;
                }
            }
        }
        for (relative, id) in &written.0 {
            if previous.0.get(relative) == Some(id) {
                continue;
            }
            let path = target.join(relative);
            let blob = repository.find_blob(*id).map_err(read_error)?;
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(write_error(parent))?;
            }
            std::fs::write(&path, blob.content()).map_err(write_error(&path))?;
        }
        Ok(written)
    }
}

/// What a checkout folder holds: each file (relative path) and the blob written there.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Written(std::collections::HashMap<PathBuf, git2::Oid>);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::git;

    #[test]
    fn checkout_writes_the_committed_tree_not_the_working_tree() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        std::fs::create_dir_all(repo.join("sub")).unwrap();
        git(&repo, &["init", "-q", "-b", "main"]);
        std::fs::write(repo.join("sub/a.yaml"), "kind: A\n").unwrap();
        git(&repo, &["add", "."]);
        git(&repo, &["commit", "-q", "-m", "first"]);
        std::fs::write(repo.join("sub/a.yaml"), "kind: Uncommitted\n").unwrap();

        let source = GitSource::new(repo.clone(), Reference::Branch("main".into()));
        let revision = source.resolve().unwrap();
        assert_eq!(revision.summary, "first");
        let out = dir.path().join("out");
        source
            .update_checkout(&revision.id, &out, &Written::default())
            .unwrap();
        assert_eq!(
            std::fs::read_to_string(out.join("sub/a.yaml")).unwrap(),
            "kind: A\n"
        );
    }

    #[test]
    fn an_updated_checkout_holds_exactly_the_new_tree_and_rewrites_only_what_changed() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        std::fs::create_dir_all(repo.join("sub")).unwrap();
        git(&repo, &["init", "-q", "-b", "main"]);
        for (name, text) in [
            ("same.yaml", "kind: Same\n"),
            ("sub/edited.yaml", "kind: Old\n"),
            ("gone.yaml", "kind: Gone\n"),
        ] {
            std::fs::write(repo.join(name), text).unwrap();
        }
        git(&repo, &["add", "."]);
        git(&repo, &["commit", "-q", "-m", "first"]);
        let source = GitSource::new(repo.clone(), Reference::Branch("main".into()));
        let out = dir.path().join("out");
        let first = source
            .update_checkout(&source.resolve().unwrap().id, &out, &Written::default())
            .unwrap();
        // Marks the file Git does not change: written again, it would lose the mark.
        std::fs::write(out.join("same.yaml"), "kind: Marked\n").unwrap();

        std::fs::write(repo.join("sub/edited.yaml"), "kind: New\n").unwrap();
        std::fs::write(repo.join("added.yaml"), "kind: Added\n").unwrap();
        git(&repo, &["rm", "-q", "gone.yaml"]);
        git(&repo, &["add", "."]);
        git(&repo, &["commit", "-q", "-m", "second"]);
        let second = source
            .update_checkout(&source.resolve().unwrap().id, &out, &first)
            .unwrap();
        let read = |name: &str| std::fs::read_to_string(out.join(name)).ok();
        assert_eq!(read("sub/edited.yaml").as_deref(), Some("kind: New\n"));
        assert_eq!(read("added.yaml").as_deref(), Some("kind: Added\n"));
        assert_eq!(
            read("gone.yaml"),
            None,
            "a file removed in Git leaves the checkout"
        );
        assert_eq!(
            read("same.yaml").as_deref(),
            Some("kind: Marked\n"),
            "an unchanged file is not written again"
        );
        assert_eq!(second.0.len(), 3);

        // A folder removed in Git (a `--subpath`) leaves nothing behind, and a file may
        // become a folder.
        git(&repo, &["rm", "-q", "-r", "sub", "added.yaml"]);
        std::fs::create_dir_all(repo.join("added.yaml")).unwrap();
        std::fs::write(repo.join("added.yaml/inner.yaml"), "kind: Inner\n").unwrap();
        git(&repo, &["add", "."]);
        git(&repo, &["commit", "-q", "-m", "third"]);
        source
            .update_checkout(&source.resolve().unwrap().id, &out, &second)
            .unwrap();
        assert!(!out.join("sub").exists(), "the removed folder stays");
        assert_eq!(
            read("added.yaml/inner.yaml").as_deref(),
            Some("kind: Inner\n")
        );
    }

    #[test]
    fn a_missing_branch_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        git(dir.path(), &["init", "-q", "-b", "main"]);
        let source = GitSource::new(dir.path().to_path_buf(), Reference::Branch("nope".into()));
        let error = source.resolve().unwrap_err().to_string();
        assert!(error.contains("branch nope"), "{error}");
    }
}
