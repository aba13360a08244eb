//! Outcome commits for a remote repository: made in a bare clone the reconciler owns
//! under the state directory (apart from the read-only mirror, whose fetches must not
//! race a push), on top of the followed branch's tip, and pushed with the reconciler's
//! credentials. A rejected push (someone pushed first) is retried on the new tip: the
//! edit is a pure function of the file text, so rebasing is redoing it.

use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use git2::{FetchPrune, Index, PushOptions, Repository, Signature};

use super::signing::CommitSigner;
use super::writeback::{
    AUTHOR_EMAIL, AUTHOR_NAME, CanaryGuard, FileEdit, WriteError, create_commit, short,
};
use meshcd_support::Backoff;

use crate::source::credentials::{GitCredentials, Redactor};
use crate::source::location::RemoteUrl;
use crate::source::mirror;

/// Pushes tried before giving up (each after a fresh fetch and a redone edit).
const ATTEMPTS: u32 = 5;
/// The waits between them double from 200 ms.
const BACKOFF: Backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(5));
/// The local reference the outcome commit is pushed from.
const OUTCOME_REF: &str = "refs/meshcd/outcome";

pub struct RemoteTarget {
    url: RemoteUrl,
    /// `None`: the branch the remote's HEAD names.
    branch: Option<String>,
    directory: PathBuf,
    credentials: Arc<GitCredentials>,
    redactor: Arc<Redactor>,
    /// One outcome at a time through the clone.
    busy: Mutex<()>,
}

impl std::fmt::Debug for RemoteTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteTarget")
            .field("url", &self.url.to_string())
            .field("branch", &self.branch)
            .finish_non_exhaustive()
    }
}

/// Why one attempt did not land; every kind is worth another fetch and try.
struct Attempt(String);

impl RemoteTarget {
    pub fn new(
        url: RemoteUrl,
        branch: Option<String>,
        directory: PathBuf,
        credentials: Arc<GitCredentials>,
        redactor: Arc<Redactor>,
    ) -> Self {
        RemoteTarget {
            url,
            branch,
            directory,
            credentials,
            redactor,
            busy: Mutex::new(()),
        }
    }

    pub fn publish(
        &self,
        edits: &[FileEdit<'_>],
        message: &str,
        guard: &CanaryGuard,
        signer: Option<&CommitSigner>,
    ) -> Result<String, WriteError> {
        let _busy = self.busy.lock().unwrap_or_else(|p| p.into_inner());
        let repository = self.open()?;
        let mut backoff = BACKOFF;
        let mut last = String::new();
        for attempt in 1..=ATTEMPTS {
            match self.attempt(&repository, edits, message, guard, signer) {
                Ok(Ok(id)) => return Ok(id),
                Ok(Err(Attempt(reason))) => {
                    tracing::info!(
                        remote = %self.url,
                        attempt,
                        %reason,
                        "the outcome push did not land; fetching and trying again"
                    );
                    last = reason;
                }
                Err(error) => return Err(error),
            }
            if attempt < ATTEMPTS {
                std::thread::sleep(backoff.next_delay());
            }
        }
        Err(WriteError::Push {
            url: self.url.to_string(),
            attempts: ATTEMPTS,
            message: last,
        })
    }

    /// One fetch, edit, commit and push. The outer error ends the publication (the
    /// edit no longer applies, the Canary changed); the inner one is retried.
    fn attempt(
        &self,
        repository: &Repository,
        edits: &[FileEdit<'_>],
        message: &str,
        guard: &CanaryGuard,
        signer: Option<&CommitSigner>,
    ) -> Result<Result<String, Attempt>, WriteError> {
        let branch = match self.fetch(repository) {
            Ok(branch) => branch,
            Err(error) => return Ok(Err(Attempt(self.scrub(&error)))),
        };
        let tip = repository
            .find_reference(&format!("refs/remotes/origin/{branch}"))?
            .peel_to_commit()?;
        guard.check(repository, &tip)?;

        // The edit redone on the tip's files, in an index that never touches a worktree.
        let mut index = Index::new()?;
        index.read_tree(&tip.tree()?)?;
        for edit in edits {
            let mut entry = index
                .get_path(&edit.path, 0)
                .ok_or_else(|| WriteError::Edit {
                    path: edit.path.clone(),
                    message: format!("not in {}", short(&tip.id().to_string())),
                })?;
            let blob = repository.find_blob(entry.id)?;
            let text = std::str::from_utf8(blob.content()).map_err(|_| WriteError::Edit {
                path: edit.path.clone(),
                message: "not UTF-8".into(),
            })?;
            let edited = (edit.edit)(text).map_err(|message| WriteError::Edit {
                path: edit.path.clone(),
                message,
            })?;
            entry.id = repository.blob(edited.as_bytes())?;
            entry.file_size = edited.len() as u32;
            index.add(&entry)?;
        }
        let tree = repository.find_tree(index.write_tree_to(repository)?)?;
        let author = Signature::now(AUTHOR_NAME, AUTHOR_EMAIL)?;
        let id = create_commit(repository, &author, message, &tree, &[&tip], signer)?;
        repository.reference(OUTCOME_REF, id, true, "meshcd outcome")?;
        Ok(self
            .push(repository, &branch)
            .map(|()| id.to_string())
            .map_err(|error| Attempt(self.scrub(&error))))
    }

    fn scrub(&self, error: &git2::Error) -> String {
        self.redactor.scrub(error.message())
    }

    /// The clone, created on first use. Its objects are a cache: a damaged one is made
    /// again.
    fn open(&self) -> Result<Repository, WriteError> {
        if let Ok(repository) = Repository::open_bare(&self.directory) {
            return Ok(repository);
        }
        if self.directory.exists() {
            std::fs::remove_dir_all(&self.directory).map_err(|source| WriteError::Io {
                path: self.directory.clone(),
                source,
            })?;
        }
        Ok(Repository::init_bare(&self.directory)?)
    }

    /// Fetches the followed branch into `refs/remotes/origin/`; returns its name.
    fn fetch(&self, repository: &Repository) -> Result<String, git2::Error> {
        let refspec = match &self.branch {
            Some(branch) => format!("+refs/heads/{branch}:refs/remotes/origin/{branch}"),
            None => "+refs/heads/*:refs/remotes/origin/*".to_string(),
        };
        let remote = mirror::fetch_refs(
            repository,
            &self.url,
            &self.credentials,
            &self.redactor,
            &[refspec],
            FetchPrune::Unspecified,
        )?;
        if let Some(branch) = &self.branch {
            return Ok(branch.clone());
        }
        remote
            .list()?
            .iter()
            .find(|head| head.name() == "HEAD")
            .and_then(|head| head.symref_target())
            .and_then(|target| target.strip_prefix("refs/heads/"))
            .map(str::to_string)
            .ok_or_else(|| git2::Error::from_str("the remote's HEAD names no branch"))
    }

    /// Pushes the outcome reference to the branch, without force: a push that is not a
    /// fast-forward is refused, here or by the server.
    fn push(&self, repository: &Repository, branch: &str) -> Result<(), git2::Error> {
        let refusal = RefCell::new(None);
        let rejected = RefCell::new(None);
        let mut callbacks =
            mirror::remote_callbacks(&self.credentials, &self.url, &self.redactor, &refusal)?;
        callbacks.push_update_reference(|reference, status| {
            if let Some(status) = status {
                *rejected.borrow_mut() = Some(format!("{reference} rejected: {status}"));
            }
            Ok(())
        });
        let mut options = PushOptions::new();
        options.remote_callbacks(callbacks);
        let mut remote = repository.remote_anonymous(&self.url.without_credentials())?;
        remote
            .push(
                &[format!("{OUTCOME_REF}:refs/heads/{branch}")],
                Some(&mut options),
            )
            .map_err(|error| mirror::with_refusal(error, &refusal))?;
        drop(options);
        match rejected.into_inner() {
            Some(reason) => Err(git2::Error::from_str(&reason)),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::git;
    use std::path::Path;

    const CANARY: &str = "# keep me\napiVersion: meshcd.dev/v1alpha1\nkind: Canary\nmetadata: {name: api, namespace: shop}\nspec:\n  interval: 1s\n";

    /// A bare remote whose `main` has `canary.yaml`, and a clone that pushes to it.
    fn remote(dir: &Path) -> (PathBuf, PathBuf, String) {
        let bare = dir.join("remote.git");
        std::fs::create_dir_all(&bare).unwrap();
        git(&bare, &["init", "-q", "--bare", "-b", "main"]);
        let work = dir.join("work");
        git(dir, &["clone", "-q", bare.to_str().unwrap(), "work"]);
        git(&work, &["checkout", "-q", "-b", "main"]);
        let base = user_commit(&work, "canary.yaml", CANARY);
        (bare, work, base)
    }

    fn user_commit(work: &Path, file: &str, text: &str) -> String {
        std::fs::write(work.join(file), text).unwrap();
        git(work, &["add", "."]);
        git(work, &["commit", "-q", "-m", file]);
        git(work, &["push", "-q", "origin", "main"]);
        git(work, &["rev-parse", "HEAD"])
    }

    fn target(dir: &Path, bare: &Path) -> RemoteTarget {
        RemoteTarget::new(
            RemoteUrl::parse(&format!("file://{}", bare.display())).unwrap(),
            Some("main".into()),
            dir.join("state/outcomes"),
            Arc::default(),
            Arc::default(),
        )
    }

    fn guard(base: &str) -> CanaryGuard {
        CanaryGuard {
            file: PathBuf::from("canary.yaml"),
            namespace: "shop".into(),
            name: "api".into(),
            base: base.into(),
        }
    }

    fn mark_promoted() -> Vec<FileEdit<'static>> {
        vec![FileEdit {
            path: PathBuf::from("canary.yaml"),
            edit: Box::new(|text: &str| Ok(format!("{text}status: {{phase: Promoted}}\n"))),
        }]
    }

    #[test]
    fn the_outcome_lands_on_a_tip_that_moved_with_another_file() {
        let dir = tempfile::tempdir().unwrap();
        let (bare, work, base) = remote(dir.path());
        let teammate = user_commit(&work, "other.yaml", "# another file\n");
        let id = target(dir.path(), &bare)
            .publish(&mark_promoted(), "meshcd: promote", &guard(&base), None)
            .unwrap();
        assert_eq!(git(&bare, &["rev-parse", "main"]), id);
        assert_eq!(git(&bare, &["rev-parse", "main^"]), teammate);
        assert_eq!(git(&bare, &["log", "-1", "--format=%an", "main"]), "meshcd");
        let canary = git(&bare, &["show", "main:canary.yaml"]);
        assert!(canary.starts_with("# keep me\n") && canary.ends_with("status: {phase: Promoted}"));
    }

    #[test]
    fn a_canary_changed_upstream_supersedes_the_outcome() {
        let dir = tempfile::tempdir().unwrap();
        let (bare, work, base) = remote(dir.path());
        let changed = user_commit(&work, "canary.yaml", &CANARY.replace("1s", "5s"));
        let error = target(dir.path(), &bare)
            .publish(&mark_promoted(), "meshcd: promote", &guard(&base), None)
            .unwrap_err();
        assert!(matches!(error, WriteError::Superseded(_)), "{error}");
        assert_eq!(
            git(&bare, &["rev-parse", "main"]),
            changed,
            "nothing pushed"
        );
    }
}
