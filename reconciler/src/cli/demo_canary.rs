//! The demo's canary act: commits the Canary of `examples-repo/` (with a short interval),
//! keeps the frontend calling api, shows each analysis as it happens with the split the
//! frontend actually saw, and ends with meshcd's promotion commit.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

use super::demo::{CANARY, CANARY_ROLLOUT, say, step};
use super::local_mesh::{Joined, LocalMesh};
use super::status::verdict_summary;
use crate::canary::rollout::Phase;

/// Clients calling at once: enough that a 10% canary gets its `minRequests` per interval.
const CALLERS: usize = 4;
const POLL: Duration = Duration::from_millis(200);

/// Responses per app seen by the callers since the last look.
#[derive(Default)]
struct Observed {
    by_app: BTreeMap<String, u64>,
}

/// The frontend calling api without pause until stopped.
struct Load {
    stop: Arc<AtomicBool>,
    observed: Arc<Mutex<Observed>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    fn start(from: &Joined, url: &str) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let observed = Arc::new(Mutex::new(Observed::default()));
        let tasks = (0..CALLERS)
            .map(|_| {
                let from = from.clone();
                let (stop, observed, url) = (stop.clone(), observed.clone(), url.to_string());
                tokio::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        let app = match from.request("GET", &url).await {
                            Ok((status, body)) => serde_json::from_str::<serde_json::Value>(&body)
                                .ok()
                                .and_then(|value| value["app"].as_str().map(str::to_string))
                                .unwrap_or_else(|| format!("HTTP {status}")),
                            Err(_) => "error".into(),
                        };
                        let mut observed = observed.lock().unwrap_or_else(|e| e.into_inner());
                        *observed.by_app.entry(app).or_default() += 1;
                    }
                })
            })
            .collect();
        Load {
            stop,
            observed,
            tasks,
        }
    }

    /// "api-v1 89.8% · api-v2 10.2% of 2140": what the callers saw since the last call.
    fn take(&self) -> String {
        let by_app = std::mem::take(
            &mut self
                .observed
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .by_app,
        );
        let total: u64 = by_app.values().sum();
        if total == 0 {
            return "no responses".into();
        }
        let shares: Vec<String> = by_app
            .iter()
            .map(|(app, count)| format!("{app} {:.1}%", *count as f64 * 100.0 / total as f64))
            .collect();
        format!("{} of {total}", shares.join(" · "))
    }

    async fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// The example's Canary with its interval replaced: the only change the demo makes.
fn demo_canary(examples: &Path, interval: Duration) -> anyhow::Result<(String, String)> {
    let text = std::fs::read_to_string(examples.join(CANARY_ROLLOUT))
        .with_context(|| format!("reading {CANARY_ROLLOUT}"))?;
    let original = text
        .lines()
        .find_map(|line| line.trim().strip_prefix("interval:"))
        .map(|value| value.trim().to_string())
        .context("the example Canary has no interval")?;
    let short = format!("{}s", interval.as_secs_f64());
    let text = text.replacen(
        &format!("interval: {original}"),
        &format!("interval: {short}"),
        1,
    );
    Ok((text, original))
}

pub async fn act(
    mesh: &LocalMesh,
    examples: &Path,
    repo: &Path,
    frontend: &Joined,
    interval: Duration,
) -> anyhow::Result<()> {
    let (text, original) = demo_canary(examples, interval)?;
    step(&format!(
        "Commit {CANARY_ROLLOUT}: api-v2 +10 points per healthy interval up to 50%, then promoted"
    ));
    say(&format!(
        "the demo's copy analyses every {}s instead of every {original} (--canary-interval)",
        interval.as_secs_f64()
    ));
    let load = Load::start(frontend, &format!("http://api.{CANARY}/"));
    let target = repo.join(CANARY_ROLLOUT);
    std::fs::write(&target, text).with_context(|| format!("writing {CANARY_ROLLOUT}"))?;
    let message = format!("demo: add {CANARY_ROLLOUT}");
    let revision = super::git::commit_paths(repo, &[&target], &message)?;
    say(&format!("committed {} \"{message}\"", &revision[..12]));
    mesh.wait_in_sync(Some(&revision)).await?;
    say(&format!(
        "{} frontend callers keep calling api; each line is one analysis, with the split they saw since the previous one",
        CALLERS
    ));
    let watched = watch(mesh, &load, repo, interval).await;
    load.stop().await;
    let promotion = watched?;
    step("meshcd committed the promotion to the config repository");
    let commit = show_commit(repo, &promotion)?;
    super::stdout::write(
        format_args!("{commit}"),
        false,
        super::stdout::OnClosed::Ignore,
    );
    mesh.wait_in_sync(Some(&promotion)).await?;
    say(&format!(
        "every proxy acknowledged revision {}: api → api-v2 100%",
        &promotion[..12]
    ));
    Ok(())
}

/// Prints each change of the rollout until meshcd's outcome commit lands; returns its id.
async fn watch(
    mesh: &LocalMesh,
    load: &Load,
    repo: &Path,
    interval: Duration,
) -> anyhow::Result<String> {
    // Six analyses (five steps and the promotion), with room for waits and a slow machine.
    let deadline = interval * 6 + Duration::from_secs(90);
    let started = Instant::now();
    let mut last_shown = None;
    // The weight the load ran at since the last line: a line's observation belongs to
    // the weight before its step, not the new one printed beside it.
    let mut weight_observed: Option<u32> = None;
    loop {
        let status = mesh.status().await?;
        let rollout = status
            .canaries
            .iter()
            .find(|c| c.namespace == CANARY && c.name == "api")
            .cloned();
        if let Some(rollout) = &rollout {
            let observed_at = *weight_observed.get_or_insert(rollout.canary_weight);
            let shown = (
                rollout.phase,
                rollout.step,
                rollout.canary_weight,
                rollout.last_verdict.clone(),
                rollout.message.clone(),
            );
            if last_shown.as_ref() != Some(&shown) && rollout.last_verdict.is_some() {
                let step = match rollout.step {
                    Some(step) => format!("step {} of {}", step + 1, rollout.steps),
                    None => "before step 1".into(),
                };
                say(&format!(
                    "[{:>5.1}s] {:<11} {step}  canary {:>3}%  {}",
                    started.elapsed().as_secs_f64(),
                    format!("{:?}", rollout.phase),
                    rollout.canary_weight,
                    verdict_summary(rollout.last_verdict.as_ref()),
                ));
                say(&format!(
                    "          observed at {observed_at}% since the last line: {}",
                    load.take()
                ));
                weight_observed = Some(rollout.canary_weight);
                last_shown = Some(shown);
            }
            let message = &rollout.message;
            if rollout.phase == Phase::RolledBack {
                bail!("the canary was rolled back: {message}");
            }
            if message.contains("not in Git") {
                bail!("the outcome could not be committed: {message}");
            }
        }
        let head = head_by_meshcd(repo)?;
        // The rollout leaves /status once its outcome is applied from Git.
        if let Some(head) = head
            && rollout.is_none_or(|r| r.phase == Phase::Promoted)
        {
            return Ok(head);
        }
        if started.elapsed() > deadline {
            bail!(
                "the canary did not finish within {deadline:?}: {}",
                serde_json::to_string(&status).unwrap_or_default()
            );
        }
        tokio::time::sleep(POLL).await;
    }
}

/// HEAD's id when meshcd wrote it.
fn head_by_meshcd(repo: &Path) -> anyhow::Result<Option<String>> {
    let repository = git2::Repository::open(repo)?;
    let head = repository.head()?.peel_to_commit()?;
    Ok((head.author().name() == Some("meshcd")).then(|| head.id().to_string()))
}

/// `git log -1 --stat` of one commit.
fn show_commit(repo: &Path, id: &str) -> anyhow::Result<String> {
    let repository = git2::Repository::open(repo)?;
    let commit = repository.find_commit(git2::Oid::from_str(id)?)?;
    let author = commit.author();
    let when = time::OffsetDateTime::from_unix_timestamp(author.when().seconds())?
        .format(&time::format_description::well_known::Rfc2822)?;
    let mut out = format!(
        "commit {id}\nAuthor: {} <{}>\nDate:   {when}\n\n",
        author.name().unwrap_or_default(),
        author.email().unwrap_or_default()
    );
    for line in commit.message().unwrap_or_default().trim_end().lines() {
        out.push_str(&format!("    {line}\n").replace("    \n", "\n"));
    }
    let parent = commit.parent(0)?.tree()?;
    let diff = repository.diff_tree_to_tree(Some(&parent), Some(&commit.tree()?), None)?;
    let stats = diff.stats()?.to_buf(git2::DiffStatsFormat::FULL, 80)?;
    out.push('\n');
    out.push_str(stats.as_str().unwrap_or_default());
    Ok(out)
}
