//! `meshcd run --kubernetes`: the parts of the reconciler that only run in a cluster —
//! CA in a Secret, TokenReview, workload discovery, leader-gated apply, the sidecar
//! injection webhook — started beside the local-mode ones.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use meshcd_support::Backoff;
use serde_json::{Value, json};
use tokio::sync::{Mutex, watch};
use tokio::task::JoinHandle;

use crate::canary::controller::{CanaryController, Leadership};
use crate::canary::progress::Saved;
use crate::control::mesh::Mesh;
use crate::identity::ca::CertificateAuthority;
use crate::identity::token_review::{AUDIENCE, TokenReviewer};
use crate::identity::verifier::Verifier;
use crate::inventory::Inventory;
use crate::kubernetes::apply::Applier;
use crate::kubernetes::inject::{NativeSidecars, Settings, sidecar_mode};
use crate::kubernetes::leader::Election;
use crate::kubernetes::manifests::LEADER_LABEL;
use crate::kubernetes::sync::{KubernetesStatus, Sync};
use crate::kubernetes::{ca_secret, canary_status, discovery, webhook};

/// The default image of the injected proxy: the one built from this source tree.
pub const PROXY_IMAGE: &str = concat!("meshcd/meshcd-proxy:", env!("CARGO_PKG_VERSION"));

#[derive(Debug, Clone, clap::Args)]
pub struct ClusterArgs {
    /// Run in a Kubernetes cluster: apply the repository to it, discover workloads from
    /// it, inject proxies into its pods (credentials: in-cluster, or KUBECONFIG).
    #[arg(long, env = "MESHCD_KUBERNETES")]
    pub kubernetes: bool,
    /// The namespace meshcd runs in: its CA Secret, leader Lease and Services.
    #[arg(
        long = "kubernetes-namespace",
        env = "MESHCD_NAMESPACE",
        default_value = "meshcd-system"
    )]
    pub namespace: String,
    /// This replica's name in leader election and Events (the pod's name).
    #[arg(long, env = "MESHCD_POD_NAME")]
    pub pod_name: Option<String>,
    /// The sidecar injection webhook's HTTPS listen address.
    #[arg(long, env = "MESHCD_WEBHOOK_ADDR", default_value = "0.0.0.0:15017")]
    pub webhook_addr: SocketAddr,
    /// The MutatingWebhookConfiguration whose caBundle meshcd keeps set to the mesh CA.
    #[arg(
        long,
        env = "MESHCD_WEBHOOK_CONFIGURATION",
        default_value = "meshcd-meshcd"
    )]
    pub webhook_configuration: String,
    /// The image of the injected proxy (and its iptables init container).
    #[arg(long, env = "MESHCD_PROXY_IMAGE", default_value = PROXY_IMAGE)]
    pub proxy_image: String,
    /// Inject the proxy as a native sidecar (an init container that keeps running):
    /// `auto` when the API server is Kubernetes 1.29 or later, where the feature is on by
    /// default; `always` for 1.28 with the SidecarContainers gate; `never` for an
    /// ordinary container started before the app's.
    #[arg(
        long,
        env = "MESHCD_NATIVE_SIDECARS",
        value_enum,
        default_value = "auto"
    )]
    pub native_sidecars: NativeSidecars,
    /// How often the leader re-applies the revision in force, correcting drift.
    #[arg(long, env = "MESHCD_RESYNC_INTERVAL", default_value = "60s", value_parser = crate::validate::convert::units::parse_duration)]
    pub resync: Duration,
}

/// Whether `meshcd install` ran: the Canary kind is served and meshcd's namespace
/// exists. Otherwise the error names the fix instead of the API's 404.
async fn installed(client: &kube::Client, namespace: &str) -> anyhow::Result<()> {
    let fix = format!(
        "run `meshcd install --repo URL --namespace {namespace} | kubectl apply --server-side -f -` first"
    );
    match client.list_api_group_resources("meshcd.dev/v1alpha1").await {
        Ok(_) => {}
        Err(kube::Error::Api(status)) if status.code == 404 => {
            anyhow::bail!(
                "meshcd is not installed in this cluster (no meshcd.dev/v1alpha1 API): {fix}"
            )
        }
        Err(error) => {
            return Err(
                anyhow::Error::new(error).context("asking the API server for meshcd.dev/v1alpha1")
            );
        }
    }
    // In the cluster meshcd may not read namespaces (403): its own exists, it runs there.
    let namespaces: kube::Api<k8s_openapi::api::core::v1::Namespace> =
        kube::Api::all(client.clone());
    if let Ok(None) = namespaces.get_opt(namespace).await {
        anyhow::bail!("namespace {namespace} does not exist: {fix}");
    }
    Ok(())
}

/// `major.minor` of the API server; a minor such as `28+` (managed clusters) counts as 28.
async fn server_version(client: &kube::Client) -> Option<(u32, u32)> {
    // Every replica must inject alike: a passing API error is not "unknown version".
    let mut info = None;
    for attempt in 1..=5 {
        match client.apiserver_version().await {
            Ok(answer) => {
                info = Some(answer);
                break;
            }
            Err(error) => {
                tracing::warn!(%error, attempt, "asking the API server for its version");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
    let info = info?;
    let number = |text: &str| -> Option<u32> {
        text.trim_end_matches(|c: char| !c.is_ascii_digit())
            .parse()
            .ok()
    };
    Some((number(&info.major)?, number(&info.minor)?))
}

/// A connected cluster and the mesh CA kept in it.
pub struct Cluster {
    args: ClusterArgs,
    client: kube::Client,
    /// The canary controller's view of leadership, given to it before the election runs.
    canary_leading: watch::Sender<bool>,
    canary_followed: watch::Sender<Vec<Saved>>,
    pub ca: Arc<CertificateAuthority>,
    /// What the leader applied; shown by `meshcd status`.
    pub status: Arc<Mutex<KubernetesStatus>>,
}

/// The cluster-mode tasks, stopped by [`Running::stop`].
pub struct Running {
    tasks: Vec<JoinHandle<()>>,
    election: Election,
    client: kube::Client,
}

impl ClusterArgs {
    fn identity(&self) -> String {
        self.pod_name
            .clone()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .unwrap_or_else(|| format!("meshcd-{}", std::process::id()))
    }
}

impl Cluster {
    /// Connects and loads (or creates) the CA Secret shared by every replica.
    pub async fn connect(args: ClusterArgs, trust_domain: &str) -> anyhow::Result<Cluster> {
        let client = kube::Client::try_default()
            .await
            .context("connecting to the Kubernetes API (in-cluster config or KUBECONFIG)")?;
        installed(&client, &args.namespace).await?;
        let ca = ca_secret::load_or_create(
            &client,
            &args.namespace,
            ca_secret::DEFAULT_SECRET,
            trust_domain,
        )
        .await
        .context("loading the mesh CA")?;
        Ok(Cluster {
            args,
            client,
            canary_leading: watch::Sender::new(false),
            canary_followed: watch::Sender::new(Vec::new()),
            ca: Arc::new(ca),
            status: Arc::default(),
        })
    }

    /// Proxies in a cluster prove themselves with their projected service-account token.
    /// Decides on admin API tokens with TokenReview and SubjectAccessReview.
    pub fn admin_authorizer(&self) -> crate::admin::cluster_auth::ClusterAuthorizer {
        crate::admin::cluster_auth::ClusterAuthorizer::new(self.client.clone())
    }

    /// What the canary controller needs in a cluster: only the leader runs canaries;
    /// the others follow its weights.
    pub fn canary_leadership(&self) -> Leadership {
        Leadership {
            leading: self.canary_leading.subscribe(),
            followed: self.canary_followed.subscribe(),
        }
    }

    pub fn verifier(&self) -> Verifier {
        TokenReviewer::new(self.client.clone(), AUDIENCE).into()
    }

    /// The control plane's DNS names, for its serving certificate.
    pub fn control_plane_names(&self) -> Vec<String> {
        service_names("meshcd-control-plane", &self.args.namespace)
    }

    /// Starts discovery, leader election, the leader-gated applier and the webhook.
    pub async fn start(
        self,
        mesh: Arc<Mesh>,
        caps: &crate::accept::Caps,
        canaries: Arc<CanaryController>,
        progress: watch::Receiver<Vec<Saved>>,
    ) -> anyhow::Result<Running> {
        let Cluster {
            args,
            client,
            canary_leading,
            canary_followed,
            ca,
            status,
        } = self;
        let namespace = args.namespace.clone();
        let identity = args.identity();
        let mut tasks = Vec::new();

        // Every replica discovers workloads: a standby takes over ready to serve proxies.
        mesh.set_cluster().await;
        let (inventory_sender, mut inventory) = watch::channel(Inventory::default());
        tasks.push(tokio::spawn(discovery::run(
            client.clone(),
            inventory_sender,
        )));
        let discovered_mesh = mesh.clone();
        tasks.push(tokio::spawn(async move {
            while inventory.changed().await.is_ok() {
                let current = inventory.borrow_and_update().clone();
                discovered_mesh.set_discovered(current).await;
            }
        }));

        let election = Election::new(&namespace, "meshcd-leader", &identity);
        let (leader_sender, leader) = watch::channel(false);
        tasks.push(tokio::spawn(
            election.clone().run(client.clone(), leader_sender),
        ));
        // Canaries: progress goes to the Canaries' status, where every replica reads it;
        // a new leader resumes from there before it is told it leads.
        tasks.push(tokio::spawn(canary_status::write(
            client.clone(),
            progress,
            leader.clone(),
        )));
        let followed = canary_followed.subscribe();
        tasks.push(tokio::spawn(canary_status::watch_progress(
            client.clone(),
            canary_followed,
        )));
        tasks.push(tokio::spawn(hand_over(
            Handover {
                client: client.clone(),
                mesh: mesh.clone(),
                canaries,
                canary_leading,
                followed,
                namespace: namespace.clone(),
                pod: args.pod_name.clone(),
            },
            leader.clone(),
        )));
        tasks.push(tokio::spawn(
            Sync {
                client: client.clone(),
                applier: Applier::new(client.clone()).with_ca_bundle(ca.bundle_pem()),
                mesh: mesh.clone(),
                resync: args.resync,
                leader,
                status: status.clone(),
                instance: identity.clone(),
            }
            .run(),
        ));

        // The webhook: a serving certificate from the mesh CA, which the API server trusts
        // through the configuration's caBundle.
        let names = service_names("meshcd-webhook", &namespace);
        let (cert, key) = ca.issue_server(&names, Duration::from_secs(365 * 24 * 3600))?;
        let acceptor = webhook::acceptor(&cert, &key)?;
        let listener = tokio::net::TcpListener::bind(args.webhook_addr)
            .await
            .with_context(|| format!("binding the webhook to {}", args.webhook_addr))?;
        if let Err(error) =
            webhook::patch_ca_bundle(&client, &args.webhook_configuration, ca.bundle_pem()).await
        {
            tracing::warn!(error = %meshcd_support::error_chain(&error), "the API server may not trust the webhook yet");
        }
        let (onboarded_sender, onboarded) = watch::channel(BTreeSet::new());
        let revisions_mesh = mesh.clone();
        tasks.push(tokio::spawn(async move {
            let mut revisions = revisions_mesh.subscribe_revisions();
            loop {
                if let Some(applied) = revisions_mesh.applied().await {
                    onboarded_sender.send_replace(applied.config.namespaces.clone());
                }
                if revisions.changed().await.is_err() {
                    return;
                }
            }
        }));
        let version = server_version(&client).await;
        let (native_sidecars, sidecars) = sidecar_mode(args.native_sidecars, version);
        status.lock().await.sidecars = Some(sidecars.clone());
        let settings = Settings {
            native_sidecars,
            proxy_image: args.proxy_image.clone(),
            control_plane: format!("meshcd-control-plane.{namespace}.svc:15012"),
            control_plane_name: format!("meshcd-control-plane.{namespace}.svc"),
        };
        tasks.push(tokio::spawn(webhook::serve(
            caps.acceptor(listener, "webhook"),
            acceptor,
            settings,
            onboarded,
        )));
        eprintln!(
            "meshcd: Kubernetes mode in namespace {namespace} as {identity}; webhook on {}; \
             injecting {sidecars}",
            args.webhook_addr
        );
        Ok(Running {
            tasks,
            election,
            client,
        })
    }
}

impl Running {
    /// Stops the tasks and hands the lease over at once.
    pub async fn stop(self) {
        for task in &self.tasks {
            task.abort();
        }
        if let Err(error) = self.election.release(self.client.clone()).await {
            tracing::warn!(%error, "releasing the leader lease failed; it expires on its own");
        }
    }
}

/// What changes hands with leadership.
struct Handover {
    client: kube::Client,
    mesh: Arc<Mesh>,
    canaries: Arc<CanaryController>,
    canary_leading: watch::Sender<bool>,
    /// What the Canaries' status held when last watched.
    followed: watch::Receiver<Vec<Saved>>,
    namespace: String,
    /// This replica's pod, labelled while it leads: the control-plane Service selects
    /// the leader only.
    pod: Option<String>,
}

/// The leader serves proxies and runs canaries; the others stand by. A new leader is
/// seeded with the progress the Canaries' status holds before it runs them.
async fn hand_over(handover: Handover, mut leader: watch::Receiver<bool>) {
    let Handover {
        client,
        mesh,
        canaries,
        canary_leading,
        followed,
        namespace,
        pod,
    } = handover;
    'transitions: loop {
        let leading = *leader.borrow_and_update();
        if leading && !*canary_leading.borrow() {
            let saved = match progress(&client).await {
                Some(saved) => saved,
                // What the status watch last saw: better than starting over.
                None => followed.borrow().clone(),
            };
            if !saved.is_empty() {
                tracing::info!(
                    rollouts = saved.len(),
                    "leading: canaries resume from their status"
                );
            }
            canaries.seed_progress(saved);
        }
        canary_leading.send_replace(leading);
        mesh.set_standby(!leading).await;
        // The Service sends proxies to the labelled pod: without the label no proxy
        // reaches the leader, so it is retried until it holds or leadership changes.
        if let Some(pod) = &pod {
            let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(30));
            while !label(&client, &namespace, pod, leading).await {
                tokio::select! {
                    () = tokio::time::sleep(backoff.next_delay()) => {}
                    changed = leader.changed() => {
                        if changed.is_err() {
                            return;
                        }
                        continue 'transitions;
                    }
                }
            }
        }
        if leader.changed().await.is_err() {
            return;
        }
    }
}

/// The Canaries' progress, read a few times before giving up.
async fn progress(client: &kube::Client) -> Option<Vec<Saved>> {
    for attempt in 1..=5 {
        match canary_status::load(client).await {
            Ok(saved) => return Some(saved),
            Err(error) => {
                tracing::warn!(%error, attempt, "reading canary progress from the Canaries' status");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
    None
}

/// Puts (or takes off) the leader label on this replica's pod; whether it holds.
async fn label(client: &kube::Client, namespace: &str, pod: &str, leading: bool) -> bool {
    let value = if leading { json!("true") } else { Value::Null };
    let patch = json!({"metadata": {"labels": {LEADER_LABEL: value}}});
    let pods: kube::Api<k8s_openapi::api::core::v1::Pod> =
        kube::Api::namespaced(client.clone(), namespace);
    match pods
        .patch(
            pod,
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(&patch),
        )
        .await
    {
        Ok(_) => true,
        Err(error) => {
            tracing::warn!(%error, pod, leading, "labelling this replica's pod failed; retrying");
            false
        }
    }
}

fn service_names(service: &str, namespace: &str) -> Vec<String> {
    vec![
        format!("{service}.{namespace}.svc"),
        format!("{service}.{namespace}.svc.cluster.local"),
    ]
}
