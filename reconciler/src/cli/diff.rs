//! `meshcd diff BASE HEAD`: the effective change between two revisions of a config
//! repository (or two directories), through the same load → validate the reconciler runs.

mod revisions;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};

use crate::diagnostics::Severity;
use crate::diff::live::LiveContext;
use crate::diff::render::{self, Format};
use crate::diff::{self, Options, Report, Side};
use crate::model::Config;
use crate::validate::Validated;
use crate::validate::convert::units::parse_duration;
use revisions::{Tree, read_both};

/// How long the running reconciler has to answer `--status-url`: a CI job should fail
/// quickly when it cannot be reached, not hang until the job's own timeout.
const STATUS_TIMEOUT: Duration = Duration::from_secs(10);
/// The admin listener keeps ten minutes of traffic reports.
const TRAFFIC_WINDOW_MAX: Duration = Duration::from_secs(600);

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
    /// text for a terminal, json, markdown (a pull-request comment), github (annotations).
    #[arg(long, value_enum, default_value_t = Format::Text, env = "MESHCD_FORMAT")]
    format: Format,
    /// Warn about a canary whose shortest rollout (steps × interval) is longer than this.
    #[arg(long, default_value = "1h", value_parser = duration)]
    max_rollout_duration: Duration,
    /// Warn when this many sources (or more) may send any request to one destination.
    #[arg(long, default_value_t = 3)]
    max_unrestricted_sources: usize,
    /// The admin URL of a running reconciler (e.g. http://127.0.0.1:15014). The diff then
    /// also warns about access HEAD removes while live traffic uses it (with the observed
    /// rate) and about split backends with weight that no running workload serves. When
    /// the URL cannot be read within 10 s, diff fails with exit code 2 rather than
    /// report "no live traffic cut" without having looked; drop the flag (or leave the
    /// variable empty) to diff offline.
    #[arg(long, env = "MESHCD_STATUS_URL")]
    status_url: Option<String>,
    /// How much recent traffic counts as live (whole seconds, at most 10m).
    #[arg(long, default_value = "60s", value_parser = traffic_window)]
    traffic_window: Duration,
    /// The admin token for --status-url.
    #[command(flatten)]
    token: super::admin_token::TokenArgs,
}

fn duration(text: &str) -> Result<Duration, String> {
    parse_duration(text)
}

fn traffic_window(text: &str) -> Result<Duration, String> {
    let window = parse_duration(text)?;
    if window.subsec_nanos() != 0 || window.is_zero() || window > TRAFFIC_WINDOW_MAX {
        return Err("the window is whole seconds between 1s and 10m".into());
    }
    Ok(window)
}

/// Exit codes: 0 HEAD is valid (whatever changed, live risks included), 1 HEAD is
/// invalid, 2 the revisions or the `--status-url` could not be read (usage).
pub fn run(args: Args) -> ExitCode {
    let options = Options {
        max_rollout_duration: args.max_rollout_duration,
        max_unrestricted_sources: args.max_unrestricted_sources,
    };
    // First, so that an unreachable reconciler fails the check before the long part.
    // An empty MESHCD_STATUS_URL (a workflow variable that is not set) means offline.
    let live = match args.status_url.as_deref().filter(|url| !url.is_empty()) {
        Some(url) => match read_live(url, args.traffic_window, &args.token) {
            Ok(live) => Some(live),
            Err(error) => {
                eprintln!("error: {error:#} (without --status-url, diff runs offline)");
                return ExitCode::from(2);
            }
        },
        None => None,
    };
    match read_both(&args) {
        Ok((base, head)) => {
            let (report, head) = compare(base, head, &options, live.as_ref());
            let output = render::render(&report, args.format, &|path, line| {
                let relative = path.strip_prefix(&head.prefix).unwrap_or(path);
                head.loaded.source_line(relative, line)
            });
            out!("{output}");
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

/// `GET /status` and `GET /traffic` of a running reconciler's admin listener.
fn read_live(
    url: &str,
    window: Duration,
    token: &super::admin_token::TokenArgs,
) -> anyhow::Result<LiveContext> {
    let base = url.trim_end_matches('/');
    let credentials = &token.credentials()?;
    let get = |path: String| async move {
        let url = format!("{base}{path}");
        let call = super::http::call("GET", &url, credentials);
        let (status, body) = tokio::time::timeout(STATUS_TIMEOUT, call)
            .await
            .map_err(|_| anyhow::anyhow!("no answer within {STATUS_TIMEOUT:?}"))
            .and_then(|result| result)
            .with_context(|| format!("reading live context from {url}"))?;
        if status != 200 {
            bail!(
                "reading live context from {url}: HTTP {status}: {}",
                body.trim()
            );
        }
        Ok(body)
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting an async runtime")?;
    // One after the other, so that an unreachable reconciler is always reported the same way.
    let (status, traffic) = runtime.block_on(async {
        let status = get("/status".to_string()).await?;
        let traffic = get(format!("/traffic?window={}", window.as_secs())).await?;
        anyhow::Ok((status, traffic))
    })?;
    LiveContext::from_documents(base, &status, &traffic)
        .with_context(|| format!("reading live context from {base}"))
}

fn compare(
    (base, base_validated): (Tree, Validated),
    (head, head_validated): (Tree, Validated),
    options: &Options,
    live: Option<&LiveContext>,
) -> (Report, Tree) {
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
            let mut changes = diff::diff(base_config, head_config, options, live);
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
