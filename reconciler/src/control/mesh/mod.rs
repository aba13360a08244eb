//! The live mesh: the applied config, the inventory, and every connected proxy with the
//! version it was sent and the version it acknowledged.
//!
//! Any change (a new revision, a proxy joining or leaving) sends each proxy its snapshot
//! if its version changed. The mesh is compiled once per revision and per change of the
//! inventory or of a canary's weights, not per connection: a proxy that comes back with
//! the workload it had (a reconnect, a fleet re-syncing after a restart of this process)
//! is sent its part of the compilation already made.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use meshcd_schemas::proto;
use tokio::sync::{Mutex, mpsc, watch};

use crate::compile::{CompileWarning, Compiled, compile};
use crate::identity::roots::Trust;
use crate::inventory::{Inventory, Workload};
use crate::model::{CanaryTarget, Config, Identity, TrafficPolicy, WeightOverrides};

mod report;
mod rotation;
mod sessions;

pub use rotation::{RotationWait, TrustStatus};
use sessions::publish;

pub type ProxySender = mpsc::Sender<Result<proto::ControlMessage, tonic::Status>>;

/// How long after the first proxy connects to this process a proxy that comes back
/// already serving a snapshot keeps it until this process would send it the same one.
/// After a restart the inventory is re-derived from the proxies as they reconnect, each
/// after its own backoff (meshcd-proxy caps it at 5 s, ±20%); a snapshot compiled before
/// they all did would drop the endpoints of those still waiting, and their callers would
/// get 404s and 503s. Past this, whoever is still missing is taken as gone.
pub const RESYNC_GRACE: Duration = Duration::from_secs(7);

/// Joins and leaves this close together are compiled into the mesh once: a fleet that
/// (re)connects costs one compilation per burst rather than one per proxy, for at most
/// this much delay before a new workload gets its first snapshot.
pub const MEMBERSHIP_SETTLE: Duration = Duration::from_millis(50);

/// The most proxies one identity (namespace and service account) may have registered at
/// once. Each registration is a proxy and an endpoint, and each new one recompiles and
/// publishes the mesh, so one token must not add them without end; a Deployment's
/// replicas share one service account, so this is far above any real one.
pub const MAX_REGISTRATIONS_PER_IDENTITY: usize = 1_024;

/// A hello refused because its identity already holds its cap of registrations.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{namespace}/{service_account} already has {cap} proxies registered, the most one identity may have; \
     a proxy that reconnects with its own proxy id replaces its registration"
)]
pub struct TooManyRegistrations {
    pub namespace: String,
    pub service_account: String,
    pub cap: usize,
}

/// Why [`Mesh::connect`] did not register a proxy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectRefused {
    #[error(transparent)]
    TooMany(#[from] TooManyRegistrations),
    /// This replica stopped leading while the proxy said hello.
    #[error("{STANDBY}")]
    StandingBy,
}

/// A validated revision in force.
#[derive(Debug, Clone)]
pub struct Applied {
    pub revision: String,
    pub config: Arc<Config>,
    pub applied_at: SystemTime,
}

#[derive(Debug)]
struct Proxy {
    workload: Workload,
    sender: ProxySender,
    /// A connection generation, so a stale stream's goodbye does not drop its successor.
    connection: u64,
    sent: Option<Sent>,
    acked: Option<String>,
    acked_revision: Option<String>,
    /// Time from the revision being applied here to this proxy's ACK.
    last_ack_latency: Option<Duration>,
    nack: Option<(String, String)>,
    /// Reconnected within [`RESYNC_GRACE`] serving the snapshot `acked`: it gets nothing
    /// until that is what it would get, or the grace is over.
    held: bool,
    /// Fingerprints of the roots of the last snapshot it acknowledged.
    trusted: Arc<BTreeSet<String>>,
    /// Fingerprint of the root of the certificate it serves with, as it last said.
    certificate_root: Option<String>,
}

#[derive(Debug, Clone)]
struct Sent {
    version: String,
    revision: Option<String>,
    /// Fingerprints of the roots the snapshot carries.
    trusted: Arc<BTreeSet<String>>,
}

#[derive(Default)]
struct Inner {
    applied: Option<Applied>,
    /// Workloads of connected proxies, by what they said in their hello.
    inventory: Inventory,
    /// Workloads discovered from a cluster: in cluster mode the only inventory (a pod's
    /// Services are the cluster's to say, never its proxy's).
    discovered: Inventory,
    /// Whether discovery runs: then connected proxies add nothing to the inventory.
    cluster: bool,
    /// A cluster replica that does not lead stands by: it refuses proxies (they retry
    /// and reach the leader), so one replica sees every proxy's traffic and serves the
    /// canaries' weights.
    standby: bool,
    /// By registration key (the proxy id scoped by its identity).
    proxies: BTreeMap<String, Proxy>,
    /// How many of `proxies` each identity holds.
    registrations: BTreeMap<Identity, usize>,
    warnings: Vec<CompileWarning>,
    /// The compilation of the applied revision, inventory and overrides; `None` once any
    /// of them changed.
    compiled: Option<Arc<Compiled>>,
    /// The compilation last published: what proxies' lookups are answered from, so an
    /// answer matches the snapshots they hold.
    published: Option<Arc<Compiled>>,
    /// How many times the mesh was compiled.
    compilations: u64,
    /// A publish is due after [`MEMBERSHIP_SETTLE`].
    publish_scheduled: bool,
    /// The end of [`RESYNC_GRACE`] is scheduled.
    grace_timer: bool,
    next_connection: u64,
    /// When the first proxy connected to this process: the start of [`RESYNC_GRACE`].
    first_connection: Option<Instant>,
    /// Split weights a running canary owns, by (namespace, split) then backend: they
    /// replace the weights in Git until the rollout's outcome is committed.
    overrides: WeightOverrides,
    /// The roots in force (`None`: proxies trust the bundle they got with their
    /// certificate, and nothing is sent).
    trust: Option<Arc<Trust>>,
    /// Fingerprints of `trust`'s roots.
    trusted: Arc<BTreeSet<String>>,
    /// The last rotation step refused, while it waits.
    rotation_wait: Option<RotationWait>,
}

/// What `meshcd status` shows about one proxy.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProxyStatus {
    pub id: String,
    pub namespace: String,
    pub service_account: String,
    pub services: Vec<String>,
    pub inbound_address: String,
    pub sent_version: Option<String>,
    pub acked_version: Option<String>,
    /// The revision of the last acknowledged snapshot.
    pub acked_revision: Option<String>,
    pub in_sync: bool,
    pub last_ack_latency_ms: Option<u128>,
    pub nack: Option<String>,
    /// Fingerprint of the root of the certificate it serves with.
    pub certificate_root: Option<String>,
}

pub struct Mesh {
    inner: Mutex<Inner>,
    /// What the proxies report about their calls.
    pub traffic: super::traffic::Traffic,
    /// Counts applied revisions, for the consumers that follow them (the Kubernetes applier).
    revisions: watch::Sender<u64>,
    /// Counts what proxies say about their trust (ACKs, certificate roots) while a
    /// rotation step waits, so the reconcile loop checks it again then and only then.
    rotation_progress: watch::Sender<u64>,
    /// Registrations one identity may hold at once.
    max_registrations_per_identity: usize,
}

/// What a standing-by replica tells a proxy.
pub const STANDBY: &str = "this meshcd replica stands by: the leader serves proxies; retry";

impl Default for Mesh {
    fn default() -> Self {
        Mesh::with_max_registrations_per_identity(MAX_REGISTRATIONS_PER_IDENTITY)
    }
}

impl Mesh {
    /// A mesh whose identities may each hold at most `cap` registrations (tests use a
    /// small one; [`Mesh::default`] has [`MAX_REGISTRATIONS_PER_IDENTITY`]).
    pub fn with_max_registrations_per_identity(cap: usize) -> Self {
        Mesh {
            inner: Mutex::default(),
            traffic: super::traffic::Traffic::default(),
            revisions: watch::Sender::default(),
            rotation_progress: watch::Sender::default(),
            max_registrations_per_identity: cap,
        }
    }

    /// Puts a validated revision in force and pushes it to every proxy, with the roots
    /// in force kept.
    pub async fn apply(&self, revision: String, config: Config) {
        let mut inner = self.inner.lock().await;
        self.put_in_force(&mut inner, revision, config);
    }

    fn put_in_force(&self, inner: &mut Inner, revision: String, config: Config) {
        inner.applied = Some(Applied {
            revision,
            config: Arc::new(config),
            applied_at: SystemTime::now(),
        });
        inner.compiled = None;
        publish(inner, &self.traffic);
        self.revisions.send_modify(|count| *count += 1);
    }

    /// Changes whenever a revision is applied.
    pub fn subscribe_revisions(&self) -> watch::Receiver<u64> {
        self.revisions.subscribe()
    }

    /// Marks the inventory as the cluster's before discovery's first answer: a proxy
    /// that says hello meanwhile is told to retry (its pod is not known yet), not
    /// refused for good.
    pub async fn set_cluster(&self) {
        let mut inner = self.inner.lock().await;
        inner.cluster = true;
        inner.standby = true;
    }

    /// Whether this replica stands by (see [`Inner::standby`]).
    pub async fn standing_by(&self) -> bool {
        self.inner.lock().await.standby
    }

    /// Leads (serves proxies) or stands by; standing by ends every proxy's stream with
    /// Unavailable, and they reconnect to the leader.
    pub async fn set_standby(&self, standby: bool) {
        let mut inner = self.inner.lock().await;
        inner.standby = standby;
        if standby {
            for proxy in inner.proxies.values() {
                let _ = proxy
                    .sender
                    .try_send(Err(tonic::Status::unavailable(STANDBY)));
            }
        }
    }

    /// Replaces the workloads discovered from a cluster and pushes what changed.
    pub async fn set_discovered(&self, discovered: Inventory) {
        let mut inner = self.inner.lock().await;
        inner.cluster = true;
        if inner.discovered != discovered {
            inner.discovered = discovered;
            inner.compiled = None;
            publish(&mut inner, &self.traffic);
        }
    }

    /// Whether the inventory is the cluster's (discovery runs).
    pub async fn is_cluster(&self) -> bool {
        self.inner.lock().await.cluster
    }

    /// The workloads discovered from a cluster, for admitting a proxy's hello.
    pub async fn discovered(&self) -> Inventory {
        self.inner.lock().await.discovered.clone()
    }

    /// Sets (or, with `None`, releases) the weights a canary owns and pushes them.
    pub async fn set_canary_weights(
        &self,
        namespace: &str,
        target: &CanaryTarget,
        weights: Option<BTreeMap<String, u64>>,
    ) {
        let mut inner = self.inner.lock().await;
        let key = (namespace.to_string(), target.clone());
        let changed = match weights {
            Some(weights) => inner.overrides.insert(key, weights.clone()) != Some(weights),
            None => inner.overrides.remove(&key).is_some(),
        };
        if changed {
            inner.compiled = None;
            publish(&mut inner, &self.traffic);
        }
    }

    /// The weights running canaries hold, by (namespace, split or route) then backend.
    pub async fn canary_weights(&self) -> WeightOverrides {
        self.inner.lock().await.overrides.clone()
    }

    /// The compilation proxies are served from, while it is current.
    #[cfg(test)]
    pub async fn compilation(&self) -> Option<Arc<Compiled>> {
        self.inner.lock().await.compiled.clone()
    }

    pub async fn applied(&self) -> Option<Applied> {
        self.inner.lock().await.applied.clone()
    }

    /// The service a proxy of `namespace` asks for because its snapshot lacks it (it
    /// was scoped away, or is newer than the snapshot): `None` when no meshed service
    /// answers to the host or ClusterIP.
    pub async fn lookup(&self, namespace: &str, lookup: &proto::Lookup) -> proto::LookupResult {
        let published = self.inner.lock().await.published.clone();
        let original = lookup.original.parse().ok();
        proto::LookupResult {
            id: lookup.id,
            unavailable: published.is_none(),
            service: published
                .and_then(|compiled| compiled.lookup(namespace, &lookup.host, original).cloned()),
        }
    }
}
