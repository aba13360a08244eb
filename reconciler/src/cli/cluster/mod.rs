//! `meshcd run --kubernetes`: the parts of the reconciler that only run in a cluster —
//! CA in a Secret, TokenReview, workload discovery, leader-gated apply, the sidecar
//! injection webhook — started beside the local-mode ones.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
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
use crate::kubernetes::inject::NativeSidecars;
use crate::kubernetes::leader::Election;
use crate::kubernetes::sync::{KubernetesStatus, Sync};
use crate::kubernetes::{ca_secret, canary_status, discovery};

mod handover;
mod injection;

use handover::{Handover, hand_over};

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

    /// Where the roots of MeshRootCertificates keep their keys: the cluster's Secrets.
    pub fn root_keys(&self, trust_domain: &str) -> ca_secret::ClusterRootKeys {
        ca_secret::ClusterRootKeys {
            client: self.client.clone(),
            trust_domain: trust_domain.to_string(),
        }
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
        // Every replica discovers workloads: a standby takes over ready to serve proxies.
        let mut tasks = discover(&client, &mesh).await;

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
        let handover = Handover {
            client: client.clone(),
            mesh: mesh.clone(),
            canaries,
            canary_leading,
            followed,
            namespace: namespace.clone(),
            pod: args.pod_name.clone(),
        };
        tasks.push(tokio::spawn(hand_over(handover, leader.clone())));
        let sync = Sync {
            client: client.clone(),
            applier: Applier::new(client.clone()).with_ca_bundle(ca.bundle_pem()),
            mesh: mesh.clone(),
            resync: args.resync,
            leader,
            status: status.clone(),
            instance: identity.clone(),
        };
        tasks.push(tokio::spawn(sync.run()));
        let sidecars =
            injection::start(&args, &client, &ca, &mesh, &status, caps, &mut tasks).await?;
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

/// Workload discovery, and the discovered inventory handed to the mesh as it changes.
async fn discover(client: &kube::Client, mesh: &Arc<Mesh>) -> Vec<JoinHandle<()>> {
    mesh.set_cluster().await;
    let (inventory_sender, mut inventory) = watch::channel(Inventory::default());
    let discovered_mesh = mesh.clone();
    vec![
        tokio::spawn(discovery::run(client.clone(), inventory_sender)),
        tokio::spawn(async move {
            while inventory.changed().await.is_ok() {
                let current = inventory.borrow_and_update().clone();
                discovered_mesh.set_discovered(current).await;
            }
        }),
    ]
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

fn service_names(service: &str, namespace: &str) -> Vec<String> {
    vec![
        format!("{service}.{namespace}.svc"),
        format!("{service}.{namespace}.svc.cluster.local"),
    ]
}
