//! `meshcd demo`: the Open Service Mesh walkthrough, live on this machine. It starts the
//! reconciler on a copy of `examples-repo/` without its policy files, the demo apps each
//! behind its own proxy, then commits the policies one by one and shows what a client sees;
//! last, the Canary takes api-v2 to 100% under load and meshcd commits the promotion.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

use super::local_mesh::{Joined, LocalMesh, Workload};

/// Policy files the demo commits itself, in order.
const SIMPLE_ACCESS: &str = "osm-simple-app/access.yaml";
const CANARY_ACCESS: &str = "osm-canary-deployment-sample-app/access.yaml";
const CANARY_SPLIT: &str = "osm-canary-deployment-sample-app/split.yaml";
pub(super) const CANARY_ROLLOUT: &str = "osm-canary-deployment-sample-app/canary.yaml";
const SIMPLE: &str = "osm-simple-app";
pub(super) const CANARY: &str = "osm-canary-deployment-sample-app";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Keep the demo's repository and state here instead of a temporary folder.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Requests sent to measure the split.
    #[arg(long, default_value_t = 1000)]
    pub requests: usize,
    /// The canary act's analysis interval (examples-repo's Canary says 30s).
    #[arg(long, default_value = "2s", value_parser = crate::validate::convert::units::parse_duration)]
    pub canary_interval: Duration,
    /// After the walkthrough, keep the mesh running (for `meshcd status` and `meshcd
    /// top`) until Ctrl-C or SIGTERM.
    #[arg(long)]
    pub keep_running: bool,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let finished = std::sync::atomic::AtomicBool::new(false);
    tokio::select! {
        result = demo(args, &finished) => result,
        // Dropping the demo kills every process it started (each is killed on drop) and
        // removes its temporary folder: nothing is left behind under PID 1.
        () = super::signal::shutdown_signal() => {
            if finished.load(std::sync::atomic::Ordering::SeqCst) {
                // `--keep-running` ends this way.
                say("stopped: the demo's reconciler, apps and proxies are gone");
                return Ok(());
            }
            bail!("interrupted: the demo's reconciler, apps and proxies are stopped; its temporary folder is removed")
        }
    }
}

async fn demo(args: Args, finished: &std::sync::atomic::AtomicBool) -> anyhow::Result<()> {
    let scratch = tempfile::tempdir()?;
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| scratch.path().to_path_buf());
    let (repo, examples) = prepare_repository(&dir)?;

    step("Start the reconciler on a config repository with two onboarded namespaces and no policy");
    let mut mesh = LocalMesh::start(&repo, &dir.join("state")).await?;
    say(&format!("config repository: {}", repo.display()));
    say(&format!("reconciler admin:  http://{}", mesh.admin));

    let (frontend, canary_frontend) = start_apps(&mut mesh).await?;

    let values = format!("http://api.{SIMPLE}/api/values");
    let other = format!("http://api.{SIMPLE}/api/other");
    step("frontend → api with no TrafficTarget: denied by default");
    show(&frontend, "GET", &values).await?;

    step(&format!(
        "Commit {SIMPLE_ACCESS}: frontend may GET /api/values"
    ));
    let revision = commit_file(&examples, &repo, SIMPLE_ACCESS)?;
    mesh.wait_in_sync(Some(&revision)).await?;
    say(&format!(
        "every proxy acknowledged revision {}",
        &revision[..12]
    ));
    show(&frontend, "GET", &values).await?;
    show(&frontend, "GET", &other).await?;
    show(&frontend, "POST", &values).await?;

    let root = format!("http://api.{CANARY}/");
    step(&format!(
        "Commit {CANARY_ACCESS}: frontend may call api (every version)"
    ));
    let revision = commit_file(&examples, &repo, CANARY_ACCESS)?;
    mesh.wait_in_sync(Some(&revision)).await?;
    distribution(&canary_frontend, &root, args.requests).await?;

    step(&format!(
        "Commit {CANARY_SPLIT}: api → api-v1 90 / api-v2 10"
    ));
    let revision = commit_file(&examples, &repo, CANARY_SPLIT)?;
    mesh.wait_in_sync(Some(&revision)).await?;
    distribution(&canary_frontend, &root, args.requests).await?;

    super::demo_canary::act(
        &mesh,
        &examples,
        &repo,
        &canary_frontend,
        args.canary_interval,
    )
    .await?;
    distribution(&canary_frontend, &root, args.requests).await?;

    step("Done");
    if !args.keep_running {
        // Every line true when it is read: the mesh is about to stop.
        say("the demo's mesh stops now; `meshcd demo --keep-running` leaves it up to explore with");
        say("`meshcd status` and `meshcd top`, and `meshcd up` runs a local mesh that stays");
        mesh.stop().await;
        return Ok(());
    }
    say_how_to_explore(&mesh, &dir.join("state"));
    finished.store(true, std::sync::atomic::Ordering::SeqCst);
    std::future::pending::<()>().await;
    Ok(())
}

/// The demo's config repository with the namespaces onboarded and no policy, and a
/// pristine copy of the examples beside it: the policies are committed from it one by one.
fn prepare_repository(dir: &Path) -> anyhow::Result<(PathBuf, PathBuf)> {
    let repo = dir.join("repo");
    if repo.exists() {
        bail!("{} already exists: give an empty --dir", repo.display());
    }
    let examples = dir.join("examples");
    super::run::write_examples(&examples)?;
    super::run::write_examples(&repo)?;
    for policy in [SIMPLE_ACCESS, CANARY_ACCESS, CANARY_SPLIT, CANARY_ROLLOUT] {
        std::fs::remove_file(repo.join(policy)).with_context(|| format!("removing {policy}"))?;
    }
    super::git::init_and_commit(&repo, "demo: onboard the namespaces, no policy yet")?;
    Ok((repo, examples))
}

/// The five apps, each behind its own proxy, joined and in sync; the two frontends.
async fn start_apps(mesh: &mut LocalMesh) -> anyhow::Result<(Joined, Joined)> {
    step(
        "Start the apps, each behind its own meshcd-proxy (frontend, api; frontend, api-v1, api-v2)",
    );
    let frontend = mesh
        .add(Workload::new(SIMPLE, "frontend", &["frontend"]))
        .await?;
    mesh.add(Workload::new(SIMPLE, "api", &["api"])).await?;
    let canary_frontend = mesh
        .add(Workload::new(CANARY, "frontend", &["frontend"]))
        .await?;
    mesh.add(Workload::new(CANARY, "api", &["api-v1", "api"]).named("api-v1"))
        .await?;
    mesh.add(Workload::new(CANARY, "api", &["api-v2", "api"]).named("api-v2"))
        .await?;
    mesh.wait_in_sync(None).await?;
    say(&format!(
        "{} proxies joined and acknowledged the config",
        mesh.proxy_count()
    ));
    Ok((frontend, canary_frontend))
}

/// A kept mesh: the commands that look at it. The CLI finds the admin token in the
/// demo's state directory, as in any other.
fn say_how_to_explore(mesh: &LocalMesh, state: &Path) {
    say(&format!(
        "`meshcd status --server http://{} --state-dir {}` shows the applied revision and every proxy's ACK",
        mesh.admin,
        state.display()
    ));
    say(&format!(
        "`meshcd top --server http://{} --state-dir {}` shows live traffic between the workloads",
        mesh.admin,
        state.display()
    ));
    say("the mesh keeps running until Ctrl-C");
}

pub(super) fn step(text: &str) {
    sayln!("\n==> {text}");
}

pub(super) fn say(text: &str) {
    sayln!("    {text}");
}

fn commit_file(examples: &Path, repo: &Path, relative: &str) -> anyhow::Result<String> {
    let target = repo.join(relative);
    std::fs::copy(examples.join(relative), &target)
        .with_context(|| format!("copying {relative}"))?;
    let revision = super::git::commit_paths(repo, &[&target], &format!("demo: add {relative}"))?;
    say(&format!(
        "committed {} \"demo: add {relative}\"",
        &revision[..12]
    ));
    Ok(revision)
}

async fn show(from: &super::local_mesh::Joined, method: &str, url: &str) -> anyhow::Result<()> {
    let (status, body) = from.request(method, url).await?;
    let body = body.lines().next().unwrap_or_default().to_string();
    say(&format!("{} {method} {url} → {status} {body}", from.label));
    Ok(())
}

async fn distribution(
    from: &super::local_mesh::Joined,
    url: &str,
    requests: usize,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for _ in 0..requests {
        let (status, body) = from.request("GET", url).await?;
        let app = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|value| value["app"].as_str().map(str::to_string))
            .unwrap_or_else(|| format!("HTTP {status}"));
        *counts.entry(app).or_default() += 1;
    }
    let elapsed = started.elapsed().max(Duration::from_millis(1));
    say(&format!(
        "{requests} requests from {} to {url} in {:.1}s:",
        from.label,
        elapsed.as_secs_f64()
    ));
    for (app, count) in counts {
        say(&format!(
            "  {app:<10} {count:>5}  {:>5.1}%",
            count as f64 * 100.0 / requests as f64
        ));
    }
    Ok(())
}
