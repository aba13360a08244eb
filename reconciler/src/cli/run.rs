//! `meshcd run` (the reconciler) and `meshcd up` (the embedded default: `run` on a local
//! repository, by default a scratch copy of `examples-repo/`).

mod source_flags;
pub(crate) mod state_lock;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use tokio::sync::{Mutex, mpsc};

use super::cluster::{Cluster, ClusterArgs};
use crate::accept::Caps;
use crate::admin::{self, Admin, Webhook};
use crate::control::mesh::Mesh;
use crate::control::server::{self, ControlPlaneService};
use crate::defaults;
use crate::identity::ca::CertificateAuthority;
use crate::identity::tokens::TokenStore;
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
    #[arg(long, default_value = "15s", value_parser = parse_duration, env = "MESHCD_POLL_INTERVAL")]
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
    #[arg(long, default_value = "1m", value_parser = parse_duration, env = "MESHCD_CANARY_PROMETHEUS_WINDOW")]
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

pub fn parse_duration(text: &str) -> Result<Duration, String> {
    crate::validate::convert::units::parse_duration(text)
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

/// Binds `address`; an address in use names the flag that moves it.
async fn bind(
    what: &str,
    address: SocketAddr,
    flag: &str,
) -> anyhow::Result<tokio::net::TcpListener> {
    match tokio::net::TcpListener::bind(address).await {
        Ok(listener) => Ok(listener),
        Err(error) if error.kind() == std::io::ErrorKind::AddrInUse => bail!(
            "binding {what} to {address}: the address is in use (another meshcd?): \
             choose another with {flag} (port 0 picks a free one, e.g. {flag} {}:0)",
            address.ip()
        ),
        Err(error) => Err(error).with_context(|| format!("binding {what} to {address} ({flag})")),
    }
}

async fn serve(
    setup: SourceSetup,
    subpath: Option<PathBuf>,
    args: ServeArgs,
    cluster: Option<ClusterArgs>,
    hold_canaries: bool,
) -> anyhow::Result<()> {
    let SourceSetup {
        source,
        signers,
        signer,
        webhook_secret,
        redactor,
    } = setup;
    if let Some(path) = source.local_path()
        && !path.exists()
    {
        bail!("config repository {} does not exist", path.display());
    }
    let canary_webhook = match &args.canary_webhook {
        Some(url) => Some(Arc::new(
            crate::canary::notify::Webhook::new(url, args.canary_webhook_ca.as_deref())
                .context("--canary-webhook")?,
        )),
        None => None,
    };
    let state_dir = args.state.for_serving()?;
    let _state_lock = state_lock::lock(&state_dir)?;
    // Only a checked-out HEAD can take a commit where this reconciler reads; the folder
    // is the one it reads (--path).
    let followed = source
        .local_path()
        .filter(|_| matches!(source.reference(), Reference::Head))
        .map(|root| match &subpath {
            Some(sub) => root.join(sub),
            None => root.to_path_buf(),
        });
    record_followed_repository(&state_dir, followed.as_deref())?;
    // In a cluster the CA lives in a Secret, shared by every replica.
    let trust_domain = crate::model::Mesh::default().trust_domain;
    let cluster = match cluster {
        Some(args) => Some(Cluster::connect(args, &trust_domain).await?),
        None => None,
    };
    let ca = match (&args.ca_cert, &args.ca_key, &cluster) {
        (Some(cert), Some(key), _) => Arc::new(CertificateAuthority::from_files(cert, key)?),
        (_, _, Some(cluster)) => cluster.ca.clone(),
        _ => Arc::new(CertificateAuthority::load_or_create(
            &state_dir,
            &trust_domain,
        )?),
    };
    let tokens = match &cluster {
        Some(cluster) => cluster.verifier(),
        None => {
            let store = TokenStore::new(&state_dir);
            store.ensure_private()?;
            store.into()
        }
    };
    let authenticator = admin_authenticator(&state_dir, cluster.as_ref())?;
    let bundle_path = state_dir.join("ca-bundle.pem");
    std::fs::write(&bundle_path, ca.bundle_pem())
        .with_context(|| format!("writing {}", bundle_path.display()))?;

    let control_listener = bind(
        "the control plane",
        args.control_plane_addr,
        "--control-plane-addr",
    )
    .await?;
    let admin_listener = bind("the admin listener", args.admin_addr, "--admin-addr").await?;
    let control_addr = control_listener.local_addr()?;
    let admin_addr = admin_listener.local_addr()?;

    let mut names = vec![
        "localhost".to_string(),
        "meshcd-control-plane".to_string(),
        control_addr.ip().to_string(),
    ];
    names.extend(args.server_names.iter().cloned());
    names.extend(cluster.iter().flat_map(Cluster::control_plane_names));
    // The serving certificate is re-issued at every start; it never leaves this process.
    let (cert_pem, key_pem) = ca.issue_server(&names, Duration::from_secs(365 * 24 * 3600))?;

    let mesh = Arc::new(Mesh::default());
    let status = Arc::new(Mutex::new(SourceStatus {
        repository: source.describe(),
        reference: source.reference().to_string(),
        path: subpath.clone(),
        verify_signatures: signers.is_some(),
        ..SourceStatus::default()
    }));
    let metrics = Arc::new(Metrics::new());
    let caps = Caps {
        max_connections: args.max_connections,
        metrics: metrics.listeners.clone(),
    };
    let webhook =
        webhook_secret.map(|secret| Arc::new(Webhook::new(secret, source.reference().clone())));
    let (triggers, trigger_receiver) = mpsc::channel(1);

    let service = ControlPlaneService {
        mesh: mesh.clone(),
        tokens,
        ca: ca.clone(),
    };
    let (stop_sender, stop) = tokio::sync::watch::channel(false);
    let mut control_stop = stop.clone();
    let control = tokio::spawn(server::serve(
        caps.acceptor(control_listener, "control-plane"),
        service,
        cert_pem,
        key_pem,
        async move {
            let _ = control_stop.changed().await;
        },
    ));
    let writable = canary_writable(
        &source,
        subpath.as_deref(),
        signer,
        signers.is_some(),
        &state_dir,
    );
    if let Err(reason) = &writable {
        tracing::info!(%reason, "canary outcomes cannot be committed: canaries hold their last step");
    }
    // In a cluster, progress also goes to the Canaries' status (see Cluster::start).
    let (progress_sender, progress) = tokio::sync::watch::channel(Vec::new());
    let canaries = crate::canary::controller::CanaryController::new(
        mesh.clone(),
        crate::canary::controller::Settings {
            writable,
            progress: crate::canary::progress::ProgressStore::open(&state_dir)
                .unwrap_or_else(|error| {
                    tracing::warn!(error = %meshcd_support::error_chain(&error), "canary progress unreadable; running canaries start over");
                    crate::canary::progress::ProgressStore::empty(&state_dir)
                })
                .mirror_to(progress_sender),
            leadership: cluster.as_ref().map(Cluster::canary_leadership),
            hold_new: hold_canaries,
            metric_source: crate::canary::metrics_source::MetricSource::from_flag(
                &args.canary_metrics,
                args.canary_prometheus_window,
            )
            .context("--canary-metrics")?,
            observers: crate::canary::notify::Observers {
                metrics: metrics.canary.clone(),
                webhook: canary_webhook,
            },
        },
    );
    let canary_task = tokio::spawn(canaries.clone().run());
    let canaries_for_cluster = canaries.clone();
    let admin = tokio::spawn(admin::serve(
        caps.acceptor(admin_listener, "admin"),
        Admin {
            canaries,
            mesh: mesh.clone(),
            status: status.clone(),
            triggers: triggers.clone(),
            refusals: metrics.admin.clone(),
            exposition: metrics.exposition(),
            webhook,
            kubernetes: cluster.as_ref().map(|cluster| cluster.status.clone()),
            authenticator,
            ca_not_after: ca.not_after().map(time::OffsetDateTime::unix_timestamp),
        },
    ));
    let _watcher = source
        .local_path()
        .and_then(|path| crate::source::watch::watch_repository(path, triggers.clone()));
    eprintln!(
        "meshcd: following {} ({}){}",
        source.describe(),
        source.reference(),
        if signers.is_some() {
            ", signed commits only"
        } else {
            ""
        }
    );
    let cluster = match cluster {
        Some(cluster) => Some(
            cluster
                .start(mesh.clone(), &caps, canaries_for_cluster, progress)
                .await?,
        ),
        None => None,
    };
    let reconciler = tokio::spawn(
        Reconciler {
            evaluation: Evaluation {
                source: Arc::new(source),
                subpath,
                scratch: state_dir.join("checkouts"),
                signers: signers.map(Arc::new),
                written: Arc::default(),
            },
            mesh,
            status,
            metrics: metrics.reconcile.clone(),
            redactor,
        }
        .run(trigger_receiver, Schedule::new(args.poll_interval)),
    );

    sayln!(
        "{}",
        serde_json::json!({
            "event": "listening",
            "controlPlane": control_addr.to_string(),
            "admin": admin_addr.to_string(),
            "caBundle": bundle_path.display().to_string(),
        })
    );
    eprintln!(
        "meshcd: control plane on {control_addr} (TLS, CA bundle {}), admin on http://{admin_addr}",
        bundle_path.display()
    );

    shutdown_signal().await;
    eprintln!("meshcd: shutting down");
    let _ = stop_sender.send(true);
    reconciler.abort();
    admin.abort();
    canary_task.abort();
    if let Some(cluster) = cluster {
        cluster.stop().await;
    }
    let _ = tokio::time::timeout(Duration::from_secs(5), control).await;
    drop(triggers);
    Ok(())
}

/// Kubernetes mode asks the API server about each token; local mode keeps its own in
/// the state directory, where the CLI finds it.
fn admin_authenticator(
    state_dir: &Path,
    cluster: Option<&Cluster>,
) -> anyhow::Result<admin::Authenticator> {
    if let Some(cluster) = cluster {
        return Ok(admin::Authenticator::Cluster(cluster.admin_authorizer()));
    }
    let (token, origin) = admin::token_file::load_or_create(state_dir)?;
    let file = admin::token_file::path(state_dir);
    match origin {
        admin::token_file::Origin::Reused => {
            tracing::info!(file = %file.display(), "admin token kept from the last start")
        }
        admin::token_file::Origin::Created => {
            tracing::info!(file = %file.display(), "admin token written")
        }
        admin::token_file::Origin::Replaced => tracing::warn!(
            file = %file.display(),
            "the admin token file was readable by others or not meshcd's own; a new token replaces it"
        ),
    }
    Ok(admin::Authenticator::Local(Arc::new(token)))
}

/// SIGINT (Ctrl-C) or SIGTERM (a supervisor, `kill`).
pub(super) async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
}

/// Where canary outcomes can be committed: a local repository on its checked-out branch,
/// or a remote's followed branch (through a clone of meshcd's own under the state
/// directory). With signature verification on, outcome commits must be signed: without
/// a signing key, canaries hold their last step and say why rather than push commits
/// the reconciler itself would refuse.
fn canary_writable(
    source: &crate::source::Source,
    subpath: Option<&Path>,
    signer: Option<Arc<crate::canary::signing::CommitSigner>>,
    verify_signatures: bool,
    state_dir: &Path,
) -> Result<crate::canary::controller::Writable, String> {
    use crate::canary::writeback::Target;
    if verify_signatures && signer.is_none() {
        return Err("signature verification is on and no --signing-key is given: meshcd cannot sign its outcome commit".into());
    }
    let branch = match source.reference() {
        Reference::Head => None,
        Reference::Branch(branch) => Some(branch.clone()),
        pinned => {
            return Err(format!(
                "the source is pinned to {pinned}: nothing can be committed"
            ));
        }
    };
    let target = match source {
        crate::source::Source::Local(local) => {
            let path = local.path();
            if let Some(branch) = &branch {
                let head = git2::Repository::open(path)
                    .ok()
                    .and_then(|repository| repository.head().ok()?.shorthand().map(str::to_string));
                if head.as_deref() != Some(branch.as_str()) {
                    return Err(format!(
                        "branch {branch} is not checked out in {}",
                        path.display()
                    ));
                }
            }
            Target::Local(path.to_path_buf())
        }
        crate::source::Source::Remote(mirror) => {
            Target::Remote(Arc::new(crate::canary::push::RemoteTarget::new(
                mirror.url().clone(),
                branch,
                state_dir.join("outcomes"),
                mirror.credentials().clone(),
                mirror.redactor().clone(),
            )))
        }
    };
    Ok(crate::canary::controller::Writable {
        target,
        subpath: subpath.map(Path::to_path_buf),
        signer,
    })
}

/// The file in a state directory naming the local repository its reconciler follows, so
/// `meshcd namespace add` commits where the reconciler looks.
const FOLLOWED_REPOSITORY: &str = "repository";

fn record_followed_repository(state_dir: &Path, local: Option<&Path>) -> anyhow::Result<()> {
    let file = state_dir.join(FOLLOWED_REPOSITORY);
    // A folder that cannot be resolved (a --path not created yet) is not recorded.
    match local.and_then(|path| path.canonicalize().ok()) {
        Some(absolute) => std::fs::write(&file, absolute.as_os_str().as_encoded_bytes()),
        // A remote, or a pinned reference, has no working tree here to commit to.
        None => match std::fs::remove_file(&file) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error),
            _ => Ok(()),
        },
    }
    .with_context(|| format!("writing {}", file.display()))
}

/// The local repository folder the reconciler of `state_dir` follows, while it runs.
pub fn followed_repository(state_dir: &Path) -> Option<PathBuf> {
    if !state_lock::is_held(state_dir) {
        return None;
    }
    let text = std::fs::read_to_string(state_dir.join(FOLLOWED_REPOSITORY)).ok()?;
    let path = PathBuf::from(text.trim_end_matches('\n'));
    path.is_dir().then_some(path)
}
