//! `meshcd run` (the reconciler) and `meshcd up` (the embedded default: `run` on a local
//! repository, by default a scratch copy of `examples-repo/`).

mod canaries;
mod followed;
mod ground;
mod listeners;
mod source_flags;
pub(crate) mod state_lock;
mod trust;

pub use followed::followed_repository;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::sync::{Mutex, mpsc};

use super::cluster::{Cluster, ClusterArgs};
use crate::accept::Caps;
use crate::admin::{self, Admin, Webhook};
use crate::control::mesh::Mesh;
use crate::control::server::{self, ControlPlaneService};
use crate::defaults;
use crate::identity::roots::RootStore;
use crate::metrics::Metrics;
use crate::reconcile::{Evaluation, Reconciler, Schedule, SourceStatus};
use crate::source::git::{GitSource, Reference};
use source_flags::{SourceArgs, SourceSetup};

#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub state: crate::cli::state_dir::StateDirArg,
    /// Control plane gRPC (TLS) listen address; port 0 picks a free port.
    #[arg(long, default_value = defaults::CONTROL_PLANE_ADDR, env = "MESHCD_CONTROL_PLANE_ADDR")]
    pub control_plane_addr: SocketAddr,
    /// Admin HTTP listen address (status, sync, probes).
    #[arg(long, default_value = defaults::ADMIN_ADDR, env = "MESHCD_ADMIN_ADDR")]
    pub admin_addr: SocketAddr,
    /// How often to look for a new revision when no event arrives (jittered by ±10%;
    /// after a failure, retries back off from 1s to 60s instead).
    #[arg(long, default_value = "15s", value_parser = crate::validate::convert::units::parse_duration, env = "MESHCD_POLL_INTERVAL")]
    pub poll_interval: Duration,
    /// An operator-provided CA certificate (PEM); with --ca-key.
    #[arg(long, requires = "ca_key", env = "MESHCD_CA_CERT")]
    pub ca_cert: Option<PathBuf>,
    /// The key of --ca-cert (PEM). It must be private to its owner (mode 0600 or 0400;
    /// from a Kubernetes Secret volume, `defaultMode: 0400`), or meshcd refuses to start.
    #[arg(long, requires = "ca_cert", env = "MESHCD_CA_KEY")]
    pub ca_key: Option<PathBuf>,
    /// Extra DNS names or IPs for the control plane's serving certificate.
    #[arg(
        long = "server-name",
        env = "MESHCD_SERVER_NAMES",
        value_delimiter = ','
    )]
    pub server_names: Vec<String>,
    /// POST a JSON document here on each canary outcome (promoted, rolled back, or not
    /// written to Git): http:// or https://.
    #[arg(long, env = "MESHCD_CANARY_WEBHOOK", value_parser = crate::canary::notify::parse_url)]
    pub canary_webhook: Option<String>,
    /// CA bundle (PEM) that an https:// --canary-webhook is verified with instead of the
    /// system roots.
    #[arg(long, requires = "canary_webhook", env = "MESHCD_CANARY_WEBHOOK_CA")]
    pub canary_webhook_ca: Option<PathBuf>,
    /// Where canary analysis reads the canary backend's traffic: `proxies` (the proxies'
    /// reports over the control stream) or `prometheus=http://host:port[/prefix]` (PromQL
    /// over the `meshcd_proxy_*` metrics that Prometheus scrapes from the proxies).
    #[arg(long, default_value = "proxies", env = "MESHCD_CANARY_METRICS")]
    pub canary_metrics: crate::canary::metrics_source::MetricSourceFlag,
    /// With `--canary-metrics prometheus=…`: the least each analysis looks back, so that
    /// `increase()` sees two scrapes or more (make it at least twice the scrape interval).
    #[arg(long, default_value = "1m", value_parser = crate::validate::convert::units::parse_duration, env = "MESHCD_CANARY_PROMETHEUS_WINDOW")]
    pub canary_prometheus_window: Duration,
    /// The most connections each listener (control plane, admin) holds at once; past it a
    /// new connection is closed at once, counted in
    /// `meshcd_listener_connections_refused_total`. Keep it below the file-descriptor limit.
    #[arg(long, default_value_t = crate::accept::DEFAULT_MAX_CONNECTIONS, value_parser = parse_max_connections, env = "MESHCD_MAX_CONNECTIONS")]
    pub max_connections: usize,
}

fn parse_max_connections(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) | Err(_) => Err(format!(
            "{text:?}: expected a number of connections, at least 1"
        )),
        Ok(max) => Ok(max),
    }
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The config repository: a local path (read in place and watched), or a URL the
    /// reconciler clones under the state directory: file://, git://, http(s)://, ssh://.
    #[arg(long, env = "MESHCD_REPO")]
    pub repo: String,
    /// Follow this branch (default: the remote's HEAD, or the local checkout's branch).
    #[arg(long, conflicts_with_all = ["tag", "commit"], env = "MESHCD_BRANCH")]
    pub branch: Option<String>,
    /// Pin to this tag (canary outcomes are then not committed).
    #[arg(long, conflicts_with = "commit", env = "MESHCD_TAG")]
    pub tag: Option<String>,
    /// Pin to this commit (canary outcomes are then not committed).
    #[arg(long, env = "MESHCD_COMMIT")]
    pub commit: Option<String>,
    /// The folder of the repository that holds the config.
    #[arg(long, env = "MESHCD_PATH")]
    pub path: Option<PathBuf>,
    #[command(flatten)]
    pub source: Box<SourceArgs>,
    #[command(flatten)]
    pub serve: ServeArgs,
    #[command(flatten)]
    pub cluster: Box<ClusterArgs>,
}

#[derive(Debug, clap::Args)]
pub struct UpArgs {
    /// A local config repository (default: a copy of examples-repo/ under the state directory).
    pub dir: Option<PathBuf>,
    /// Run canaries as they appear instead of holding them paused until `meshcd canary
    /// resume`: a canary needs traffic, and with none it rolls back at its
    /// progressDeadline and commits the rollback to the repository.
    #[arg(long)]
    pub run_canaries: bool,
    #[command(flatten)]
    pub serve: ServeArgs,
}

pub async fn run(args: RunArgs) -> anyhow::Result<()> {
    let reference = match (&args.branch, &args.tag, &args.commit) {
        (Some(branch), _, _) => Reference::Branch(branch.clone()),
        (_, Some(tag), _) => Reference::Tag(tag.clone()),
        (_, _, Some(commit)) => Reference::Commit(commit.clone()),
        _ => Reference::Head,
    };
    let setup = match args
        .source
        .resolve(&args.repo, reference, &args.serve.state.locate().path)
    {
        Ok(setup) => setup,
        Err(problems) => {
            // Like clap's own usage errors: every problem at once, exit code 2.
            for problem in problems {
                eprintln!("error: {problem}");
            }
            eprintln!("\nFor more information, try '--help'.");
            std::process::exit(2);
        }
    };
    let cluster = args.cluster.kubernetes.then_some(*args.cluster);
    serve(setup, args.path, args.serve, cluster, false).await
}

pub async fn up(args: UpArgs) -> anyhow::Result<()> {
    let repo = match args.dir {
        Some(dir) => dir,
        None => {
            let repo = args.serve.state.for_serving()?.join("repo");
            if !repo.join(".git").exists() {
                write_examples(&repo)?;
                crate::cli::git::init_and_commit(&repo, "meshcd up: start from examples-repo")?;
                eprintln!(
                    "meshcd: created config repository {} from the examples-repo/ built into meshcd",
                    repo.display(),
                );
            }
            repo
        }
    };
    serve(
        SourceSetup::local(GitSource::new(repo, Reference::Head)),
        None,
        args.serve,
        None,
        !args.run_canaries,
    )
    .await
}

/// examples-repo/ as it was when this binary was built.
mod embedded {
    include!(concat!(env!("OUT_DIR"), "/examples.rs"));
}

/// Writes the examples-repo/ built into the binary to `to`.
pub fn write_examples(to: &Path) -> anyhow::Result<()> {
    for (relative, bytes) in embedded::FILES {
        let path = to.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// Assembles and runs a reconciler until SIGINT or SIGTERM, from the parts in `run/`:
/// the ground it stands on (state, trust, listeners), then the control plane, canaries,
/// the admin API, the cluster (if any) and the reconcile loop.
///
/// Long because it is the one place a reconciler is assembled: one statement per part,
/// in start order, each part built in `run/`; cutting it further would only pass the same
/// values through more signatures.
async fn serve(
    setup: SourceSetup,
    subpath: Option<PathBuf>,
    args: ServeArgs,
    cluster: Option<ClusterArgs>,
    hold_canaries: bool,
) -> anyhow::Result<()> {
    let judging = canaries::Judging::from_flags(&args)?;
    let ground = ground::prepare(&setup.source, subpath.as_deref(), &args, cluster).await?;
    let (trust, listeners, cluster) = (ground.trust, ground.listeners, ground.cluster);
    let (mesh, metrics) = (Arc::new(Mesh::default()), Arc::new(Metrics::new()));
    let caps = Caps {
        max_connections: args.max_connections,
        metrics: metrics.listeners.clone(),
    };
    let service = ControlPlaneService {
        mesh: mesh.clone(),
        tokens: trust.tokens,
        ca: trust.ca.clone(),
    };
    let acceptor = caps.acceptor(listeners.control, "control-plane");
    let (control, stop) = control_plane(acceptor, service, ground.server_certificate);
    let SourceSetup {
        source,
        signers,
        signer,
        webhook_secret,
        redactor,
    } = setup;
    let parts = canaries::Parts {
        source: &source,
        subpath: subpath.as_deref(),
        signer,
        verify_signatures: signers.is_some(),
        state_dir: &ground.state_dir,
        leadership: cluster.as_ref().map(Cluster::canary_leadership),
        hold_new: hold_canaries,
    };
    let (canaries, progress) =
        canaries::controller(judging, parts, mesh.clone(), metrics.canary.clone());
    let status = source_status(&source, &subpath, signers.is_some());
    let (triggers, trigger_receiver) = mpsc::channel(1);
    let admin_api = Admin {
        canaries: canaries.clone(),
        mesh: mesh.clone(),
        status: status.clone(),
        triggers: triggers.clone(),
        refusals: metrics.admin.clone(),
        exposition: metrics.exposition(),
        webhook: webhook_secret
            .map(|secret| Arc::new(Webhook::new(secret, source.reference().clone()))),
        kubernetes: cluster.as_ref().map(|cluster| cluster.status.clone()),
        authenticator: trust.authenticator,
        ca_not_after: trust
            .ca
            .not_after()
            .map(time::OffsetDateTime::unix_timestamp),
    };
    let admin_acceptor = caps.acceptor(listeners.admin, "admin");
    let mut tasks = vec![
        tokio::spawn(canaries.clone().run()),
        tokio::spawn(admin::serve(admin_acceptor, admin_api)),
    ];
    let _watcher = source
        .local_path()
        .and_then(|path| crate::source::watch::watch_repository(path, triggers.clone()));
    say_following(&source, signers.is_some());
    let trust_domain = crate::model::Mesh::default().trust_domain;
    let secrets = cluster.as_ref().map(|cluster| {
        Arc::new(cluster.root_keys(&trust_domain)) as Arc<dyn crate::identity::roots::SecretKeys>
    });
    let cluster = match cluster {
        Some(cluster) => Some(
            cluster
                .start(mesh.clone(), &caps, canaries, progress)
                .await?,
        ),
        None => None,
    };
    let roots = RootStore::new(
        trust.ca.clone(),
        ground.state_dir.clone(),
        &trust_domain,
        secrets,
    );
    let reconciler = Reconciler {
        evaluation: evaluation(source, subpath, &ground.state_dir, signers),
        mesh,
        roots: Arc::new(roots),
        status,
        metrics: metrics.reconcile.clone(),
        redactor,
    };
    let schedule = Schedule::new(args.poll_interval);
    tasks.push(tokio::spawn(reconciler.run(trigger_receiver, schedule)));
    listeners::announce(
        listeners.control_addr,
        listeners.admin_addr,
        &trust.bundle_path,
    );

    super::signal::shutdown_signal().await;
    eprintln!("meshcd: shutting down");
    let _ = stop.send(true);
    tasks.iter().for_each(tokio::task::JoinHandle::abort);
    if let Some(cluster) = cluster {
        cluster.stop().await;
    }
    let _ = tokio::time::timeout(Duration::from_secs(5), control).await;
    Ok(())
}

/// What the reconcile loop evaluates: the source's revisions, checked out under the
/// state directory, signatures checked when asked.
fn evaluation(
    source: crate::source::Source,
    subpath: Option<PathBuf>,
    state_dir: &Path,
    signers: Option<crate::source::signatures::AllowedSigners>,
) -> Evaluation {
    Evaluation {
        source: Arc::new(source),
        subpath,
        scratch: state_dir.join("checkouts"),
        signers: signers.map(Arc::new),
        written: Arc::default(),
    }
}

/// The control plane served until `stop` is sent.
fn control_plane(
    acceptor: crate::accept::Acceptor,
    service: ControlPlaneService,
    (cert_pem, key_pem): (String, String),
) -> (
    tokio::task::JoinHandle<Result<(), tonic::transport::Error>>,
    tokio::sync::watch::Sender<bool>,
) {
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let serving = server::serve(acceptor, service, cert_pem, key_pem, async move {
        let _ = stopped.changed().await;
    });
    (tokio::spawn(serving), stop)
}

/// The status the admin API reports, before the first reconcile fills it in.
fn source_status(
    source: &crate::source::Source,
    subpath: &Option<PathBuf>,
    verify_signatures: bool,
) -> Arc<Mutex<SourceStatus>> {
    Arc::new(Mutex::new(SourceStatus {
        repository: source.describe(),
        reference: source.reference().to_string(),
        path: subpath.clone(),
        verify_signatures,
        ..SourceStatus::default()
    }))
}

fn say_following(source: &crate::source::Source, signed_only: bool) {
    eprintln!(
        "meshcd: following {} ({}){}",
        source.describe(),
        source.reference(),
        if signed_only {
            ", signed commits only"
        } else {
            ""
        }
    );
}
