//! Services the snapshot lacks, asked of the control plane when a call first needs one.
//!
//! Under deny policy a joined proxy is sent only the services its identity may call. A
//! call to any other meshed service must still get the answer it always got (the
//! destination's 403 naming the reason, its 503 when it has no endpoints), so the proxy
//! asks for the service (`Lookup` on its stream), adds the answer to the snapshot in
//! force until the next one arrives, and routes the call as before. A host no meshed
//! service answers to is remembered until the next snapshot, so an app retrying an
//! unknown host costs the control plane one question per snapshot.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use meshcd_schemas::proto;
use tokio::sync::{mpsc, oneshot};

use crate::metrics::Metrics;
use crate::snapshot::{CompileContext, Snapshot, SnapshotStore};

use super::endpoint::EndpointRegistry;

/// How long a call waits for the control plane's answer before it is told the host is
/// unknown (404).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(2);
/// The most unknown hosts remembered per snapshot.
const MAX_REMEMBERED: usize = 4096;

/// The proxy's side of `Lookup`: the stream to ask on and the questions in flight.
#[derive(Default)]
pub struct Lookups {
    outgoing: Mutex<Option<mpsc::Sender<proto::ProxyMessage>>>,
    pending: Mutex<HashMap<u64, oneshot::Sender<Option<proto::Service>>>>,
    next: AtomicU64,
}

impl Lookups {
    /// Questions go on this stream from now on (a new session after a reconnect).
    pub fn attach(&self, outgoing: mpsc::Sender<proto::ProxyMessage>) {
        *lock(&self.outgoing) = Some(outgoing);
    }

    /// The control plane's answer to one question.
    pub fn answer(&self, result: proto::LookupResult) {
        if let Some(waiting) = lock(&self.pending).remove(&result.id) {
            let _ = waiting.send(result.service);
        }
    }

    /// The service `host` or `original` names, if the control plane knows one; `None`
    /// too when it cannot be asked (no stream) or does not answer in time.
    async fn ask(&self, host: &str, original: Option<SocketAddr>) -> Option<proto::Service> {
        let outgoing = lock(&self.outgoing).clone()?;
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (sender, receiver) = oneshot::channel();
        lock(&self.pending).insert(id, sender);
        let question = proto::ProxyMessage {
            message: Some(proto::proxy_message::Message::Lookup(proto::Lookup {
                id,
                host: host.to_owned(),
                original: original.map(|o| o.to_string()).unwrap_or_default(),
            })),
        };
        let answer = async {
            outgoing.send(question).await.ok()?;
            receiver.await.ok().flatten()
        };
        let answer = tokio::time::timeout(ANSWER_TIMEOUT, answer)
            .await
            .ok()
            .flatten();
        lock(&self.pending).remove(&id);
        answer
    }
}

/// Completes the snapshot in force with services looked up on demand.
pub struct OnDemand {
    pub lookups: Arc<Lookups>,
    pub endpoints: Arc<EndpointRegistry>,
    pub metrics: Arc<Metrics>,
    /// Questions that found no service, and the snapshot version they were asked under.
    unknown: Mutex<(Arc<str>, HashSet<String>)>,
}

impl OnDemand {
    pub fn new(
        lookups: Arc<Lookups>,
        endpoints: Arc<EndpointRegistry>,
        metrics: Arc<Metrics>,
    ) -> Self {
        OnDemand {
            lookups,
            endpoints,
            metrics,
            unknown: Mutex::new((Arc::from(""), HashSet::new())),
        }
    }

    /// `snapshot` with the service `host` or `original` names added, when the control
    /// plane knows one; `None` when none answers to it (the caller's 404 stands).
    pub async fn complete(
        &self,
        store: &SnapshotStore,
        snapshot: &Arc<Snapshot>,
        host: &str,
        original: Option<SocketAddr>,
    ) -> Option<Arc<Snapshot>> {
        let key = format!("{host} {original:?}");
        if self.known_unknown(&snapshot.version, &key) {
            return None;
        }
        let Some(service) = self.lookups.ask(host, original).await else {
            self.remember_unknown(&snapshot.version, key);
            return None;
        };
        let context = CompileContext {
            endpoints: &self.endpoints,
            metrics: &self.metrics,
        };
        match store.extend(&snapshot.version, service, &context) {
            Ok(extended) => extended,
            Err(error) => {
                tracing::warn!(%error, host, "a looked-up service does not compile");
                None
            }
        }
    }

    fn known_unknown(&self, version: &Arc<str>, key: &str) -> bool {
        let unknown = lock(&self.unknown);
        unknown.0 == *version && unknown.1.contains(key)
    }

    fn remember_unknown(&self, version: &Arc<str>, key: String) {
        let mut unknown = lock(&self.unknown);
        if unknown.0 != *version {
            *unknown = (version.clone(), HashSet::new());
        }
        if unknown.1.len() < MAX_REMEMBERED {
            unknown.1.insert(key);
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
