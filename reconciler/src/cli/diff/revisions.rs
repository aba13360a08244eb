//! The two sides of `meshcd diff`, read and validated on two threads: revisions of a Git
//! repository (from its objects, or through a checkout when only the directory walker
//! reads them right) or two directories.

use std::path::{Component, Path, PathBuf};

use anyhow::{Context, bail};

use super::Args;
use crate::load::{self, Loaded};
use crate::source::git::{GitSource, Reference, Written};
use crate::validate::{Validated, validate};

/// One side, loaded.
pub(super) struct Tree {
    pub label: String,
    pub commit: Option<String>,
    pub loaded: Loaded,
    /// What diagnostics' paths are shown under, so that editors and CI annotations open
    /// the right file: the folder inside the repository, or the directory as named.
    pub prefix: PathBuf,
}

/// Reads and validates BASE and HEAD, each on its own thread: the two pipelines share
/// nothing, and on a large repository each takes about as long as `meshcd validate`.
pub(super) fn read_both(args: &Args) -> anyhow::Result<((Tree, Validated), (Tree, Validated))> {
    let folder = match &args.path {
        Some(path)
            if path.is_absolute() || path.components().any(|c| c == Component::ParentDir) =>
        {
            bail!(
                "--path must be a folder inside the revision, not {}",
                path.display()
            )
        }
        Some(path) => path.clone(),
        None => PathBuf::new(),
    };
    let directories =
        args.repo.is_none() && Path::new(&args.base).is_dir() && Path::new(&args.head).is_dir();
    let repo = args.repo.clone().unwrap_or_else(|| PathBuf::from("."));
    let scratch = tempfile::tempdir().context("creating a scratch folder")?;
    let read = |label: &str, side: &str| -> anyhow::Result<(Tree, Validated)> {
        let tree = if directories {
            read_directory(label, &folder)?
        } else {
            read_revision(&repo, scratch.path(), &folder, label, side)?
        };
        let validated = validate(&tree.loaded);
        Ok((tree, validated))
    };
    std::thread::scope(|scope| {
        let base = scope.spawn(|| read(&args.base, "base"));
        let head = read(&args.head, "head");
        let base = base
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        Ok((base?, head?))
    })
}

fn read_directory(label: &str, folder: &Path) -> anyhow::Result<Tree> {
    let root = Path::new(label).join(folder);
    let loaded = load::load_path(&root).with_context(|| format!("reading {label}"))?;
    Ok(Tree {
        label: label.to_string(),
        commit: None,
        loaded,
        prefix: root,
    })
}

fn read_revision(
    repo: &Path,
    scratch: &Path,
    folder: &Path,
    label: &str,
    side: &str,
) -> anyhow::Result<Tree> {
    let source = GitSource::new(repo.to_path_buf(), Reference::Commit(label.to_string()));
    let revision = source
        .resolve()
        .with_context(|| format!("reading {side} revision {label:?} of {}", repo.display()))?;
    if let Some(files) = read_in_memory(repo, &revision.id, folder) {
        return Ok(Tree {
            label: label.to_string(),
            commit: Some(revision.id),
            loaded: load::load_files(files),
            prefix: folder.to_path_buf(),
        });
    }
    let checkout = scratch.join(side);
    source.update_checkout(&revision.id, &checkout, &Written::default())?;
    let root = checkout.join(folder);
    let loaded = if root.exists() {
        load::load_path(&root)?
    } else if side == "base" {
        // The pull request that adds the config folder: BASE is an empty mesh.
        Loaded::default()
    } else {
        bail!("HEAD {label:?} has no folder {}", folder.display())
    };
    Ok(Tree {
        label: label.to_string(),
        commit: Some(revision.id),
        loaded,
        prefix: folder.to_path_buf(),
    })
}

/// The config files of `folder` in commit `id`, read from Git's objects: what `checkout`
/// then `load_path` read (YAML files, hidden entries and symlinks skipped), without
/// writing every file to disk first; on a 10,000-service repository the two checkouts took
/// a third of the diff's time, most of it in the file system. `None` sends the caller down
/// the checkout path, which knows every case: a `.meshcdignore` (whose patterns only the
/// directory walker applies), a file that is not UTF-8, a missing folder, a Git error.
fn read_in_memory(repo: &Path, id: &str, folder: &Path) -> Option<Vec<(PathBuf, String)>> {
    let repository = git2::Repository::open(repo).ok()?;
    let commit = repository.find_commit(git2::Oid::from_str(id).ok()?).ok()?;
    let mut tree = commit.tree().ok()?;
    if !folder.as_os_str().is_empty() {
        tree = tree
            .get_path(folder)
            .ok()?
            .to_object(&repository)
            .ok()?
            .into_tree()
            .ok()?;
    }
    let mut files = Vec::new();
    let mut complete = true;
    let walked = tree.walk(git2::TreeWalkMode::PreOrder, |parent, entry| {
        use git2::TreeWalkResult::{Abort, Ok as Next, Skip};
        let Some(name) = entry.name() else {
            complete = false;
            return Abort;
        };
        if name == load::IGNORE_FILE {
            complete = false;
            return Abort;
        }
        if name.starts_with('.') {
            return Skip;
        }
        let path = Path::new(parent).join(name);
        // Symlinks (mode 120000) are skipped, as the checkout skips them.
        if entry.kind() != Some(git2::ObjectType::Blob)
            || entry.filemode() == 0o120000
            || !load::is_yaml(&path)
        {
            return Next;
        }
        let text = entry
            .to_object(&repository)
            .ok()
            .and_then(|object| object.into_blob().ok())
            .and_then(|blob| String::from_utf8(blob.content().to_vec()).ok());
        match text {
            Some(text) => {
                files.push((path, text));
                Next
            }
            None => {
                complete = false;
                Abort
            }
        }
    });
    (walked.is_ok() && complete).then_some(files)
}
