//! `meshcd diff BASE HEAD`: the effective change between two revisions of a config
//! repository (or two directories), through the same load → validate the reconciler runs.

use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};

use crate::diagnostics::Severity;
use crate::diff::render::{self, Format};
use crate::diff::{self, Options, Report, Side};
use crate::load::{self, Loaded};
use crate::model::Config;
use crate::source::git::{GitSource, Reference};
use crate::validate::convert::units::parse_duration;
use crate::validate::validate;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The revision the change starts from: a commit, branch or tag of --repo (e.g. the
    /// pull request's base), or a directory.
    base: String,
    /// The revision with the change (a commit, branch or tag, or a directory).
    head: String,
    /// The Git repository the revisions belong to. Without it, two existing directories
    /// are compared as they are; otherwise the revisions are read from the current directory.
    #[arg(long)]
    repo: Option<PathBuf>,
    /// The config tree's folder inside each revision (relative).
    #[arg(long)]
    path: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text, env = "MESHCD_FORMAT")]
    format: Format,
    /// Warn about a canary whose shortest rollout (steps × interval) is longer than this.
    #[arg(long, default_value = "1h", value_parser = duration)]
    max_rollout_duration: Duration,
    /// Warn when this many sources (or more) may send any request to one destination.
    #[arg(long, default_value_t = 3)]
    max_unrestricted_sources: usize,
}

fn duration(text: &str) -> Result<Duration, String> {
    parse_duration(text)
}

/// Exit codes: 0 HEAD is valid (whatever changed), 1 HEAD is invalid, 2 the revisions
/// could not be read (usage).
pub fn run(args: Args) -> ExitCode {
    let options = Options {
        max_rollout_duration: args.max_rollout_duration,
        max_unrestricted_sources: args.max_unrestricted_sources,
    };
    match read_both(&args) {
        Ok((base, head)) => {
            let (report, head) = compare(base, head, &options);
            let output = render::render(&report, args.format, &|path, line| {
                let relative = path.strip_prefix(&head.prefix).unwrap_or(path);
                head.loaded.source_line(relative, line)
            });
            print!("{output}");
            if report.head.valid {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// One side, loaded.
struct Tree {
    label: String,
    commit: Option<String>,
    loaded: Loaded,
    /// What diagnostics' paths are shown under, so that editors and CI annotations open
    /// the right file: the folder inside the repository, or the directory as named.
    prefix: PathBuf,
}

fn read_both(args: &Args) -> anyhow::Result<(Tree, Tree)> {
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
    if directories {
        let read = |label: &str| -> anyhow::Result<Tree> {
            let root = Path::new(label).join(&folder);
            let loaded = load::load_path(&root).with_context(|| format!("reading {label}"))?;
            Ok(Tree {
                label: label.to_string(),
                commit: None,
                loaded,
                prefix: root,
            })
        };
        return Ok((read(&args.base)?, read(&args.head)?));
    }
    let repo = args.repo.clone().unwrap_or_else(|| PathBuf::from("."));
    let scratch = tempfile::tempdir().context("creating a scratch folder")?;
    let read = |label: &str, side: &str| -> anyhow::Result<Tree> {
        let source = GitSource::new(repo.clone(), Reference::Commit(label.to_string()));
        let revision = source
            .resolve()
            .with_context(|| format!("reading {side} revision {label:?} of {}", repo.display()))?;
        let checkout = scratch.path().join(side);
        source.checkout(&revision.id, &checkout)?;
        let root = checkout.join(&folder);
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
            prefix: folder.clone(),
        })
    };
    Ok((read(&args.base, "base")?, read(&args.head, "head")?))
}

fn compare(base: Tree, head: Tree, options: &Options) -> (Report, Tree) {
    let base_validated = validate(&base.loaded);
    let head_validated = validate(&head.loaded);
    let side = |tree: &Tree, config: &Option<Config>, errors: usize| Side {
        label: tree.label.clone(),
        commit: tree.commit.clone(),
        valid: config.is_some(),
        errors,
    };
    let base_side = side(
        &base,
        &base_validated.config,
        base_validated.diagnostics.count(Severity::Error),
    );
    let head_side = side(
        &head,
        &head_validated.config,
        head_validated.diagnostics.count(Severity::Error),
    );
    let (changes, mut diagnostics) = match &head_validated.config {
        Some(head_config) => {
            let empty = Config::default();
            let base_config = base_validated.config.as_ref().unwrap_or(&empty);
            let mut changes = diff::diff(base_config, head_config, options);
            for warning in &mut changes.warnings.0 {
                warning.file = head.prefix.join(&warning.file);
            }
            let mut warnings = head_validated.diagnostics.clone();
            warnings.0.retain(|d| d.severity == Severity::Warning);
            (Some(changes), warnings)
        }
        None => (None, head_validated.diagnostics.clone()),
    };
    for diagnostic in &mut diagnostics.0 {
        diagnostic.file = head.prefix.join(&diagnostic.file);
    }
    let report = Report {
        base: base_side,
        head: head_side,
        changes,
        diagnostics,
    };
    (report, head)
}
