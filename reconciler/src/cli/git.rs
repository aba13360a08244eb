//! Commits on behalf of the user (`meshcd namespace`, `meshcd up`), with git2.

use std::path::Path;

use anyhow::Context as _;
use git2::{IndexAddOption, Repository, Signature};

/// The user's Git identity, or meshcd's when none is configured.
fn signature(repository: &Repository) -> anyhow::Result<Signature<'static>> {
    match repository.signature() {
        Ok(signature) => Ok(signature.to_owned()),
        Err(_) => Ok(Signature::now(
            crate::canary::writeback::AUTHOR_NAME,
            crate::canary::writeback::AUTHOR_EMAIL,
        )?),
    }
}

/// `git init` + commit everything.
pub fn init_and_commit(path: &Path, message: &str) -> anyhow::Result<String> {
    let repository =
        Repository::init(path).with_context(|| format!("git init {}", path.display()))?;
    commit_all(&repository, message)
}

/// Stages every change of the working tree (additions and deletions) and commits it.
pub fn commit_paths(path: &Path, paths: &[&Path], message: &str) -> anyhow::Result<String> {
    let repository = Repository::discover(path)
        .with_context(|| format!("{} is not in a Git repository", path.display()))?;
    let workdir = repository
        .workdir()
        .context("the repository is bare")?
        .to_path_buf();
    let mut index = repository.index()?;
    for changed in paths {
        let absolute = if changed.is_absolute() {
            changed.to_path_buf()
        } else {
            std::env::current_dir()?.join(changed)
        };
        let canonical_workdir = workdir.canonicalize()?;
        let parent = absolute.parent().context("a file has a parent")?;
        let canonical = parent
            .canonicalize()?
            .join(absolute.file_name().context("a file has a name")?);
        let relative = canonical
            .strip_prefix(&canonical_workdir)
            .context("the file is outside the repository")?;
        if canonical.exists() {
            index.add_path(relative)?;
        } else {
            index.remove_path(relative)?;
        }
    }
    index.write()?;
    write_commit(&repository, &mut index, message)
}

fn commit_all(repository: &Repository, message: &str) -> anyhow::Result<String> {
    let mut index = repository.index()?;
    index.add_all(["*"], IndexAddOption::DEFAULT, None)?;
    index.write()?;
    write_commit(repository, &mut index, message)
}

/// Commits the index on HEAD, with the helper canary outcomes use too.
fn write_commit(
    repository: &Repository,
    index: &mut git2::Index,
    message: &str,
) -> anyhow::Result<String> {
    let tree = repository.find_tree(index.write_tree()?)?;
    let id = crate::canary::writeback::commit_on_head(
        repository,
        &tree,
        &signature(repository)?,
        message,
        None,
    )?;
    Ok(id.to_string())
}
