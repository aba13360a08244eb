//! `meshcd namespace add|remove|list`: the GitOps twin of `osm namespace add`. It edits
//! the config repository and commits with the user's Git identity; the reconciler does
//! the rest.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use serde_json::Value;

use crate::load::{Loaded, load_path};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Onboard a namespace: write namespaces/NAME.yaml and commit it.
    Add {
        /// The namespace to onboard (a DNS label).
        name: String,
        #[command(flatten)]
        repo: RepoArg,
    },
    /// Offboard a namespace: remove its Namespace manifest and commit.
    Remove {
        /// The namespace to offboard.
        name: String,
        #[command(flatten)]
        repo: RepoArg,
    },
    /// List onboarded namespaces.
    List {
        #[command(flatten)]
        repo: RepoArg,
    },
}

#[derive(Debug, clap::Args)]
pub struct RepoArg {
    /// The config repository's working tree (default: the one the local reconciler
    /// follows, else the Git repository around the working directory).
    #[arg(long, env = "MESHCD_REPO", value_name = "DIR")]
    repo: Option<PathBuf>,
    #[command(flatten)]
    state: super::state_dir::StateDirArg,
}

impl RepoArg {
    /// `--repo`, else the local reconciler's repository (`meshcd run` records it in its
    /// state directory), else the Git repository around the working directory; said on
    /// stderr when not named, since a commit is about to land in it.
    fn resolve(&self) -> anyhow::Result<PathBuf> {
        resolve_repository(self.repo.as_deref(), &self.state)
    }
}

/// [`RepoArg::resolve`] for commands that take the state directory with other flags.
pub(crate) fn resolve_repository(
    repo: Option<&Path>,
    state: &super::state_dir::StateDirArg,
) -> anyhow::Result<PathBuf> {
    if let Some(repo) = repo {
        return in_git(repo);
    }
    let state = state.locate().path;
    if let Some(followed) = crate::cli::run::followed_repository(&state) {
        eprintln!(
            "meshcd: using {}, the repository the reconciler of {} follows (--repo names another)",
            followed.display(),
            state.display()
        );
        return in_git(&followed);
    }
    let here = std::env::current_dir()?;
    // The working directory itself (a config folder inside a larger repository is
    // where its files go), once it is inside a Git working tree.
    match git2::Repository::discover(&here)
        .ok()
        .filter(|repository| repository.workdir().is_some())
    {
        Some(_) => {
            eprintln!(
                "meshcd: using {}, in a Git repository (--repo names another)",
                here.display()
            );
            Ok(here)
        }
        None => bail!(
            "no config repository: {} is not in a Git repository and no local reconciler \
                 runs on {}; pass --repo DIR (or MESHCD_REPO)",
            here.display(),
            state.display()
        ),
    }
}

/// The repository folder, once it is known to be in a Git working tree: checked before
/// any file is written, so a refusal leaves nothing behind.
fn in_git(repo: &Path) -> anyhow::Result<PathBuf> {
    let text = repo.to_string_lossy();
    if text.contains("://") || text.starts_with("git@") {
        // MESHCD_REPO may hold the URL `meshcd run` follows.
        bail!(
            "{text} is a URL (from --repo or MESHCD_REPO): meshcd namespace commits to a local \
             clone of the config repository; pass --repo DIR and push the commit"
        );
    }
    if !repo.is_dir() {
        bail!(
            "config repository {} does not exist (from --repo or MESHCD_REPO)",
            repo.display()
        );
    }
    match git2::Repository::discover(repo) {
        Ok(repository) if repository.workdir().is_some() => Ok(repo.to_path_buf()),
        Ok(_) => bail!(
            "{} is a bare Git repository: meshcd namespace commits to a working tree (clone it)",
            repo.display()
        ),
        Err(_) => bail!(
            "{} is not in a Git repository: meshcd namespace commits its change there (git init, \
             or pass --repo naming the config repository's clone)",
            repo.display()
        ),
    }
}

pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Add { name, repo } => add(&repo.resolve()?, &name),
        Command::Remove { name, repo } => remove(&repo.resolve()?, &name),
        Command::List { repo } => {
            let repo = repo.resolve()?;
            for (name, _) in namespaces(&load(&repo)?) {
                outln!("{name}");
            }
            Ok(())
        }
    }
}

fn load(repo: &Path) -> anyhow::Result<Loaded> {
    load_path(repo).with_context(|| format!("reading {}", repo.display()))
}

/// Namespaces declared in the tree, with the file that declares each.
fn namespaces(loaded: &Loaded) -> Vec<(String, PathBuf)> {
    loaded
        .documents
        .iter()
        .filter(|d| {
            d.value().get("kind").and_then(Value::as_str) == Some("Namespace")
                && d.value().get("apiVersion").and_then(Value::as_str) == Some("v1")
        })
        .filter_map(|d| {
            Some((
                d.value().pointer("/metadata/name")?.as_str()?.to_string(),
                loaded.path(d.file).to_path_buf(),
            ))
        })
        .collect()
}

fn is_dns_label(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

fn add(repo: &Path, name: &str) -> anyhow::Result<()> {
    if !is_dns_label(name) {
        bail!("{name:?} is not a namespace name (lower-case letters, digits and '-', at most 63)");
    }
    let loaded = load(repo)?;
    if let Some((_, file)) = namespaces(&loaded)
        .into_iter()
        .find(|(existing, _)| existing == name)
    {
        bail!("namespace {name} is already onboarded ({})", file.display());
    }
    let path = repo.join("namespaces").join(format!("{name}.yaml"));
    std::fs::create_dir_all(path.parent().context("a file has a folder")?)?;
    std::fs::write(
        &path,
        format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n"),
    )
    .with_context(|| format!("writing {}", path.display()))?;
    let commit =
        super::git::commit_paths(repo, &[&path], &format!("meshcd: onboard namespace {name}"))?;
    outln!(
        "onboarded namespace {name}: {} (commit {})",
        path.display(),
        &commit[..12]
    );
    Ok(())
}

fn remove(repo: &Path, name: &str) -> anyhow::Result<()> {
    let loaded = load(repo)?;
    let Some((_, file)) = namespaces(&loaded)
        .into_iter()
        .find(|(existing, _)| existing == name)
    else {
        bail!("namespace {name} is not onboarded in {}", repo.display());
    };
    let users: Vec<String> = loaded
        .documents
        .iter()
        .filter(|d| {
            d.value()
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                == Some(name)
        })
        .map(|d| {
            format!(
                "{} {} ({})",
                d.value()["kind"].as_str().unwrap_or("?"),
                d.value()
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or("?"),
                loaded.path(d.file).display()
            )
        })
        .collect();
    if !users.is_empty() {
        bail!(
            "namespace {name} still holds objects, so the commit would be rejected:\n  {}\nremove them first",
            users.join("\n  ")
        );
    }
    let documents_in_file = loaded
        .documents
        .iter()
        .filter(|d| loaded.path(d.file) == file)
        .count();
    if documents_in_file > 1 {
        bail!(
            "{} declares other objects beside namespace {name}: edit it by hand",
            file.display()
        );
    }
    let path = repo.join(&file);
    std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
    let commit = super::git::commit_paths(
        repo,
        &[&path],
        &format!("meshcd: offboard namespace {name}"),
    )?;
    outln!(
        "offboarded namespace {name}: removed {} (commit {})",
        path.display(),
        &commit[..12]
    );
    Ok(())
}
