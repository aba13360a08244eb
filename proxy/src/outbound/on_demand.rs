//! Services the snapshot lacks, asked of the control plane when a call first needs one.
//!
//! Under deny policy a joined proxy is sent only the services its identity may call. A
//! call to any other meshed service must still get the answer it always got (the
//! destination's 403 naming the reason, its 503 when it has no endpoints), so the proxy
//! asks for the service (`Lookup` on its stream), adds the answer to the snapshot in
//! force (for 30 s, or until the next snapshot: its endpoints may change meanwhile) and
//! routes the call as before. A host the control plane says no meshed service answers to
//! is believed for 5 s (or until the next snapshot), so an app retrying an unknown host
//! costs the control plane one question per 5 s; concurrent calls for one host share
//! one question.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use meshcd_schemas::proto;
use tokio::sync::{mpsc, oneshot};

use crate::metrics::Metrics;
use crate::snapshot::{CompileContext, Snapshot, SnapshotStore};

use crate::upstream::endpoint::EndpointRegistry;

/// How long a call waits for the control plane's answer before it is told the host is
/// unknown (404); nothing is remembered then.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a looked-up service stays in the snapshot: its endpoints change without
/// this proxy's snapshot changing (it is not in its scope), so it is asked for again.
const SERVICE_TTL: Duration = Duration::from_secs(30);
/// How long "no such service" is believed: the service may be deployed meanwhile.
const UNKNOWN_TTL: Duration = Duration::from_secs(5);
/// The most unknown hosts remembered at once.
const MAX_REMEMBERED: usize = 4096;

/// What the control plane said.
enum Answer {
    Found(Box<proto::Service>),
    /// No meshed service answers to it.
    Unknown,
    /// No answer (no stream, timeout, or a control plane with nothing compiled yet).
    None,
}

type Waiters = Vec<oneshot::Sender<Option<proto::LookupResult>>>;

/// The proxy's side of `Lookup`: the stream to ask on and the questions in flight, one
/// per host however many calls wait for it.
#[derive(Default)]
pub struct Lookups {
    outgoing: Mutex<Option<mpsc::Sender<proto::ProxyMessage>>>,
    /// By question: its id, when it was asked, and the calls waiting for the answer.
    in_flight: Mutex<HashMap<String, (u64, Instant, Waiters)>>,
    next: AtomicU64,
}

impl Lookups {
    /// Questions go on this stream from now on (a new session after a reconnect).
    pub fn attach(&self, outgoing: mpsc::Sender<proto::ProxyMessage>) {
        *lock(&self.outgoing) = Some(outgoing);
    }

    /// The control plane's answer to one question.
    pub fn answer(&self, result: proto::LookupResult) {
        let mut in_flight = lock(&self.in_flight);
        let Some(key) = in_flight
            .iter()
            .find_map(|(key, (id, _, _))| (*id == result.id).then(|| key.clone()))
        else {
            return;
        };
        if let Some((_, _, waiters)) = in_flight.remove(&key) {
            for waiter in waiters {
                let _ = waiter.send(Some(result.clone()));
            }
        }
    }

    async fn ask(&self, host: &str, original: Option<SocketAddr>) -> Answer {
        let key = format!("{host} {original:?}");
        let (sender, receiver) = oneshot::channel();
        let question = {
            let mut in_flight = lock(&self.in_flight);
            // Questions whose askers all gave up and that were never answered.
            in_flight.retain(|_, (_, asked, _)| asked.elapsed() < ANSWER_TIMEOUT * 2);
            match in_flight.get_mut(&key) {
                Some((_, _, waiters)) => {
                    waiters.push(sender);
                    None
                }
                None => {
                    let id = self.next.fetch_add(1, Ordering::Relaxed);
                    in_flight.insert(key.clone(), (id, Instant::now(), vec![sender]));
                    Some(id)
                }
            }
        };
        if let Some(id) = question {
            let Some(outgoing) = lock(&self.outgoing).clone() else {
                lock(&self.in_flight).remove(&key);
                return Answer::None;
            };
            let message = proto::ProxyMessage {
                message: Some(proto::proxy_message::Message::Lookup(proto::Lookup {
                    id,
                    host: host.to_owned(),
                    original: original.map(|o| o.to_string()).unwrap_or_default(),
                })),
            };
            // Never waits on a full stream: then there is no answer.
            if outgoing.try_send(message).is_err() {
                lock(&self.in_flight).remove(&key);
                return Answer::None;
            }
        }
        match tokio::time::timeout(ANSWER_TIMEOUT, receiver).await {
            Ok(Ok(Some(result))) if !result.unavailable => match result.service {
                Some(service) => Answer::Found(Box::new(service)),
                None => Answer::Unknown,
            },
            _ => Answer::None,
        }
    }
}

/// Completes the snapshot in force with services looked up on demand.
pub struct OnDemand {
    pub lookups: Arc<Lookups>,
    pub endpoints: Arc<EndpointRegistry>,
    pub metrics: Arc<Metrics>,
    /// Questions the control plane said no service answers to: the snapshot version
    /// and when they were first remembered, then the questions.
    unknown: Mutex<(Arc<str>, Instant, std::collections::HashSet<String>)>,
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
            unknown: Mutex::new((Arc::from(""), Instant::now(), Default::default())),
        }
    }

    /// `snapshot` with the service `host` or `original` names added, when the control
    /// plane knows one; `None` when none answers to it (the caller's 404 stands).
    pub async fn complete(
        self: &Arc<Self>,
        store: &Arc<SnapshotStore>,
        snapshot: &Arc<Snapshot>,
        host: &str,
        original: Option<SocketAddr>,
    ) -> Option<Arc<Snapshot>> {
        let key = format!("{host} {original:?}");
        if self.known_unknown(&snapshot.version, &key) {
            return None;
        }
        let service = match self.lookups.ask(host, original).await {
            Answer::Found(service) => service,
            Answer::Unknown => {
                self.remember_unknown(&snapshot.version, key);
                return None;
            }
            Answer::None => return None,
        };
        let context = CompileContext {
            endpoints: &self.endpoints,
            metrics: &self.metrics,
        };
        match store.extend(&snapshot.version, *service, &context) {
            Ok(extended) => {
                self.forget_later(store.clone(), snapshot.version.clone());
                extended
            }
            Err(error) => {
                tracing::warn!(error = %meshcd_support::error_chain(&error), host, "a looked-up service does not compile");
                None
            }
        }
    }

    /// After [`SERVICE_TTL`], drops the looked-up services (one timer, not a loop).
    fn forget_later(self: &Arc<Self>, store: Arc<SnapshotStore>, version: Arc<str>) {
        let on_demand = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(SERVICE_TTL).await;
            let context = CompileContext {
                endpoints: &on_demand.endpoints,
                metrics: &on_demand.metrics,
            };
            store.forget_extensions(&version, &context);
        });
    }

    fn known_unknown(&self, version: &Arc<str>, key: &str) -> bool {
        let unknown = lock(&self.unknown);
        unknown.0 == *version && unknown.1.elapsed() < UNKNOWN_TTL && unknown.2.contains(key)
    }

    fn remember_unknown(&self, version: &Arc<str>, key: String) {
        let mut unknown = lock(&self.unknown);
        if unknown.0 != *version || unknown.1.elapsed() >= UNKNOWN_TTL {
            *unknown = (version.clone(), Instant::now(), Default::default());
        }
        if unknown.2.len() < MAX_REMEMBERED {
            unknown.2.insert(key);
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
