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
use crate::inventory::{Inventory, Workload};
use crate::model::{Config, Identity, TrafficPolicy};

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
}

#[derive(Debug, Clone)]
struct Sent {
    version: String,
    revision: Option<String>,
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
    overrides: BTreeMap<(String, String), BTreeMap<String, u64>>,
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
}

pub struct Mesh {
    inner: Mutex<Inner>,
    /// What the proxies report about their calls.
    pub traffic: super::traffic::Traffic,
    /// Counts applied revisions, for the consumers that follow them (the Kubernetes applier).
    revisions: watch::Sender<u64>,
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
            max_registrations_per_identity: cap,
        }
    }

    /// Puts a validated revision in force and pushes it to every proxy.
    pub async fn apply(&self, revision: String, config: Config) {
        let mut inner = self.inner.lock().await;
        inner.applied = Some(Applied {
            revision,
            config: Arc::new(config),
            applied_at: SystemTime::now(),
        });
        inner.compiled = None;
        publish(&mut inner, &self.traffic);
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
    pub async fn set_split_weights(
        &self,
        namespace: &str,
        split: &str,
        weights: Option<BTreeMap<String, u64>>,
    ) {
        let mut inner = self.inner.lock().await;
        let key = (namespace.to_string(), split.to_string());
        let changed = match weights {
            Some(weights) => inner.overrides.insert(key, weights.clone()) != Some(weights),
            None => inner.overrides.remove(&key).is_some(),
        };
        if changed {
            inner.compiled = None;
            publish(&mut inner, &self.traffic);
        }
    }

    /// The weights running canaries hold, by (namespace, split) then backend.
    pub async fn split_weights(&self) -> BTreeMap<(String, String), BTreeMap<String, u64>> {
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

    /// Registers a proxy's admitted workload under its registration `key` and returns its
    /// connection generation; a registration under the same key (the same identity's
    /// proxy) is replaced. `serving` is the version the proxy says it already serves (it
    /// reconnected), if any. In cluster mode `workload` is its discovered pod, which is
    /// already in the inventory. A new key of an identity that already holds its cap of
    /// registrations is refused, and nothing changes.
    pub async fn connect(
        self: &Arc<Self>,
        key: String,
        workload: Workload,
        serving: Option<String>,
        sender: ProxySender,
    ) -> Result<u64, ConnectRefused> {
        let mut inner = self.inner.lock().await;
        if inner.standby {
            return Err(ConnectRefused::StandingBy);
        }
        if !inner.proxies.contains_key(&key) {
            let held = inner
                .registrations
                .get(&workload.identity)
                .copied()
                .unwrap_or(0);
            if held >= self.max_registrations_per_identity {
                return Err(TooManyRegistrations {
                    namespace: workload.identity.namespace,
                    service_account: workload.identity.service_account,
                    cap: self.max_registrations_per_identity,
                }
                .into());
            }
        }
        inner.next_connection += 1;
        let connection = inner.next_connection;
        let first_connection = *inner.first_connection.get_or_insert_with(Instant::now);
        let grace_left = RESYNC_GRACE.saturating_sub(first_connection.elapsed());
        let held = serving.is_some() && !grace_left.is_zero();
        if held && !inner.grace_timer {
            // One timer for the whole grace, however many proxies come back in it.
            inner.grace_timer = true;
            let mesh = self.clone();
            tokio::spawn(async move {
                tokio::time::sleep(grace_left).await;
                let mut inner = mesh.inner.lock().await;
                for proxy in inner.proxies.values_mut() {
                    proxy.held = false;
                }
                publish(&mut inner, &mesh.traffic);
            });
        }
        if !inner.cluster && inner.inventory.insert(workload.clone()) {
            inner.compiled = None;
        }
        if !inner.proxies.contains_key(&key) {
            *inner
                .registrations
                .entry(workload.identity.clone())
                .or_default() += 1;
        }
        inner.proxies.insert(
            key.clone(),
            Proxy {
                workload,
                sender,
                connection,
                sent: None,
                acked: serving,
                acked_revision: None,
                last_ack_latency: None,
                nack: None,
                held,
            },
        );
        match (inner.compiled.clone(), inner.applied.clone()) {
            // The workload is already compiled in: its snapshot goes out now, and
            // nobody else's changed.
            (Some(compiled), Some(applied)) => {
                if let Some(proxy) = inner.proxies.get_mut(&key) {
                    send_to(proxy, &applied, &compiled);
                }
            }
            _ => self.publish_soon(&mut inner),
        }
        Ok(connection)
    }

    /// Publishes after [`MEMBERSHIP_SETTLE`], once for every change until then.
    fn publish_soon(self: &Arc<Self>, inner: &mut Inner) {
        if inner.publish_scheduled {
            return;
        }
        inner.publish_scheduled = true;
        let mesh = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(MEMBERSHIP_SETTLE).await;
            let mut inner = mesh.inner.lock().await;
            inner.publish_scheduled = false;
            publish(&mut inner, &mesh.traffic);
        });
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

    /// How many times the mesh has been compiled since this process started.
    #[cfg(test)]
    pub async fn compilations(&self) -> u64 {
        self.inner.lock().await.compilations
    }

    pub async fn disconnect(self: &Arc<Self>, id: &str, connection: u64) {
        let mut inner = self.inner.lock().await;
        // A stale stream's goodbye must not drop its successor.
        if inner
            .proxies
            .get(id)
            .is_none_or(|proxy| proxy.connection != connection)
        {
            return;
        }
        let Some(proxy) = inner.proxies.remove(id) else {
            return;
        };
        let identity = &proxy.workload.identity;
        if let Some(count) = inner.registrations.get_mut(identity) {
            *count -= 1;
            if *count == 0 {
                inner.registrations.remove(identity);
            }
        }
        // Only a workload leaving the inventory changes anyone's snapshot.
        if !inner.cluster && inner.inventory.remove(&proxy.workload.id).is_some() {
            inner.compiled = None;
            self.publish_soon(&mut inner);
        }
    }

    pub async fn ack(&self, id: &str, version: String) {
        let mut inner = self.inner.lock().await;
        let applied_at = inner.applied.as_ref().map(|applied| applied.applied_at);
        if let Some(proxy) = inner.proxies.get_mut(id) {
            if let Some(sent) = proxy.sent.as_ref().filter(|sent| sent.version == version) {
                proxy.acked_revision = sent.revision.clone();
                proxy.last_ack_latency = applied_at.and_then(|at| at.elapsed().ok());
            }
            proxy.acked = Some(version);
            proxy.nack = None;
        }
    }

    pub async fn nack(&self, id: &str, version: String, error: String) {
        let mut inner = self.inner.lock().await;
        if let Some(proxy) = inner.proxies.get_mut(id) {
            tracing::warn!(proxy = id, %version, %error, "proxy rejected a snapshot");
            proxy.nack = Some((version, error));
        }
    }

    pub async fn proxies(&self) -> Vec<ProxyStatus> {
        let inner = self.inner.lock().await;
        inner
            .proxies
            .iter()
            .map(|(id, proxy)| ProxyStatus {
                id: id.clone(),
                namespace: proxy.workload.identity.namespace.clone(),
                service_account: proxy.workload.identity.service_account.clone(),
                services: proxy.workload.services.clone(),
                inbound_address: proxy.workload.inbound_address.clone(),
                sent_version: proxy.sent.as_ref().map(|sent| sent.version.clone()),
                acked_version: proxy.acked.clone(),
                acked_revision: proxy.acked_revision.clone(),
                in_sync: proxy.sent.as_ref().map(|sent| &sent.version) == proxy.acked.as_ref(),
                last_ack_latency_ms: proxy.last_ack_latency.map(|latency| latency.as_millis()),
                nack: proxy
                    .nack
                    .as_ref()
                    .map(|(version, error)| format!("{version}: {error}")),
            })
            .collect()
    }

    /// The identities allowed to call `service` in `namespace`: the sources of every
    /// TrafficTarget whose destination is an identity serving it; `None` when the policy
    /// is permissive (anyone may).
    pub async fn allowed_callers(
        &self,
        namespace: &str,
        service: &str,
    ) -> Option<BTreeSet<Identity>> {
        let inner = self.inner.lock().await;
        let applied = inner.applied.as_ref()?;
        if applied.config.mesh.traffic_policy == TrafficPolicy::Permissive {
            return None;
        }
        let inventory = if inner.cluster {
            &inner.discovered
        } else {
            &inner.inventory
        };
        let serving: BTreeSet<&Identity> = inventory
            .workloads
            .values()
            .filter(|w| {
                w.identity.namespace == namespace && w.services.iter().any(|s| s == service)
            })
            .map(|w| &w.identity)
            .collect();
        Some(
            applied
                .config
                .traffic_targets
                .iter()
                .filter(|target| serving.contains(&target.value.destination))
                .flat_map(|target| target.value.sources.iter().cloned())
                .collect(),
        )
    }

    pub async fn warnings(&self) -> Vec<String> {
        self.inner
            .lock()
            .await
            .warnings
            .iter()
            .map(|w| w.message.clone())
            .collect()
    }

    /// Services of connected workloads that no TrafficTarget names as a destination
    /// identity: in deny mode nobody can call them.
    pub async fn unreachable_workloads(&self) -> Vec<String> {
        let inner = self.inner.lock().await;
        let Some(applied) = &inner.applied else {
            return Vec::new();
        };
        let targets = &applied.config.traffic_targets;
        let inventory = if inner.cluster {
            &inner.discovered
        } else {
            &inner.inventory
        };
        inventory
            .workloads
            .values()
            .filter(|workload| {
                !targets
                    .iter()
                    .any(|t| t.value.destination == workload.identity)
            })
            .map(|workload| {
                format!(
                    "{}/{} ({})",
                    workload.identity.namespace,
                    workload.services.join(","),
                    workload.identity.service_account
                )
            })
            .collect()
    }
}

fn publish(inner: &mut Inner, traffic: &super::traffic::Traffic) {
    let Some(applied) = inner.applied.clone() else {
        return;
    };
    // Never a merge: in a cluster a proxy's own word adds nothing to any Service.
    let inventory = if inner.cluster {
        &inner.discovered
    } else {
        &inner.inventory
    };
    let compiled = match &inner.compiled {
        Some(compiled) => compiled.clone(),
        None => {
            let compiled = Arc::new(compile_with_overrides(
                &applied.config,
                inventory,
                &inner.overrides,
            ));
            inner.warnings = compiled.warnings.clone();
            traffic.set_known(known_services(&compiled.services));
            inner.compiled = Some(compiled.clone());
            inner.compilations += 1;
            compiled
        }
    };
    inner.published = Some(compiled.clone());
    send_changed(inner, &applied, &compiled);
}

/// The mesh with the weights running canaries own in place of Git's.
fn compile_with_overrides(
    config: &Config,
    inventory: &Inventory,
    overrides: &BTreeMap<(String, String), BTreeMap<String, u64>>,
) -> Compiled {
    if overrides.is_empty() {
        compile(config, inventory)
    } else {
        let mut config = config.clone();
        for split in &mut config.traffic_splits {
            let key = (split.value.namespace.clone(), split.value.name.clone());
            if let Some(weights) = overrides.get(&key) {
                for backend in &mut split.value.backends {
                    if let Some(weight) = weights.get(&backend.service) {
                        backend.weight = *weight;
                    }
                }
            }
        }
        compile(&config, inventory)
    }
}

/// Sends every proxy whose snapshot version changed its new snapshot.
fn send_changed(inner: &mut Inner, applied: &Applied, compiled: &Compiled) {
    for proxy in inner.proxies.values_mut() {
        send_to(proxy, applied, compiled);
    }
}

/// Sends `proxy` its snapshot of `compiled` if its version changed.
fn send_to(proxy: &mut Proxy, applied: &Applied, compiled: &Compiled) {
    let id = &proxy.workload.id;
    let Some(version) = compiled.version(id) else {
        return;
    };
    if proxy.held {
        if proxy.acked.as_deref() == Some(version) {
            // Back with exactly what it would be sent: in sync, nothing to send.
            proxy.held = false;
            proxy.sent = Some(Sent {
                version: version.to_string(),
                revision: Some(applied.revision.clone()),
            });
            proxy.acked_revision = Some(applied.revision.clone());
        }
        return;
    }
    if let Some(sent) = proxy.sent.as_mut().filter(|sent| sent.version == version) {
        // The revision changed nothing for this proxy: it is at the new revision
        // with the version it already has.
        sent.revision = Some(applied.revision.clone());
        if proxy.acked.as_deref() == Some(version) {
            proxy.acked_revision = Some(applied.revision.clone());
        }
        return;
    }
    let Some(snapshot) = compiled.snapshot(id) else {
        return;
    };
    let version = snapshot.version.clone();
    let message = proto::ControlMessage {
        message: Some(proto::control_message::Message::Snapshot(snapshot)),
    };
    // A proxy that cannot keep up gets the newest snapshot on its next change; a
    // full channel never blocks the mesh.
    if proxy.sender.try_send(Ok(message)).is_ok() {
        proxy.sent = Some(Sent {
            version,
            revision: Some(applied.revision.clone()),
        });
    }
}

/// (namespace, name) of every service and split backend a snapshot names: the only ones
/// traffic reports may name.
fn known_services(services: &[proto::Service]) -> BTreeSet<(String, String)> {
    let mut known = BTreeSet::new();
    for service in services {
        known.insert((service.namespace.clone(), service.name.clone()));
        for backend in service.split.iter().flat_map(|split| &split.backends) {
            known.insert((service.namespace.clone(), backend.service.clone()));
        }
    }
    known
}
