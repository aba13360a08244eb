//! Proxies' sessions with the mesh: connect (within the per-identity cap), disconnect,
//! ACK and NACK, and each proxy sent its snapshot when it changed, from one compilation.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use meshcd_schemas::proto;

use super::*;

impl Mesh {
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
                trusted: Arc::default(),
                certificate_root: None,
            },
        );
        match (inner.compiled.clone(), inner.applied.clone()) {
            // The workload is already compiled in: its snapshot goes out now, and
            // nobody else's changed.
            (Some(compiled), Some(applied)) => {
                let trusted = inner.trusted.clone();
                if let Some(proxy) = inner.proxies.get_mut(&key) {
                    send_to(proxy, &applied, &compiled, &trusted);
                }
            }
            _ => self.publish_soon(&mut inner),
        }
        Ok(connection)
    }

    /// Publishes after [`MEMBERSHIP_SETTLE`], once for every change until then.
    pub(super) fn publish_soon(self: &Arc<Self>, inner: &mut Inner) {
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

    /// A proxy serves `version`, with a certificate of `certificate_root` when it says.
    pub async fn ack(&self, id: &str, version: String, certificate_root: Option<String>) {
        let mut inner = self.inner.lock().await;
        let applied_at = inner.applied.as_ref().map(|applied| applied.applied_at);
        if let Some(proxy) = inner.proxies.get_mut(id) {
            if let Some(sent) = proxy.sent.as_ref().filter(|sent| sent.version == version) {
                if proxy.acked.as_ref() != Some(&version) {
                    proxy.last_ack_latency = applied_at.and_then(|at| at.elapsed().ok());
                }
                proxy.acked_revision = sent.revision.clone();
                proxy.trusted = sent.trusted.clone();
            }
            if certificate_root.is_some() {
                proxy.certificate_root = certificate_root;
            }
            proxy.acked = Some(version);
            proxy.nack = None;
        }
        self.rotation_progressed(&inner);
    }

    /// A proxy said (in its hello) which root its certificate chains to.
    pub async fn certificate_root(&self, id: &str, root: String) {
        let mut inner = self.inner.lock().await;
        if let Some(proxy) = inner.proxies.get_mut(id) {
            proxy.certificate_root = Some(root);
        }
        self.rotation_progressed(&inner);
    }

    pub async fn nack(&self, id: &str, version: String, error: String) {
        let mut inner = self.inner.lock().await;
        if let Some(proxy) = inner.proxies.get_mut(id) {
            tracing::warn!(proxy = id, %version, %error, "proxy rejected a snapshot");
            proxy.nack = Some((version, error));
        }
    }
}

pub(super) fn publish(inner: &mut Inner, traffic: &crate::control::traffic::Traffic) {
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
            // The weights running canaries own in place of Git's.
            let config = applied.config.with_weights(&inner.overrides);
            let mut compiled = compile(&config, inventory);
            if let Some(trust) = &inner.trust {
                compiled = compiled.with_trust(trust.message());
            }
            let compiled = Arc::new(compiled);
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

/// Sends every proxy whose snapshot version changed its new snapshot.
fn send_changed(inner: &mut Inner, applied: &Applied, compiled: &Compiled) {
    let trusted = inner.trusted.clone();
    for proxy in inner.proxies.values_mut() {
        send_to(proxy, applied, compiled, &trusted);
    }
}

/// Sends `proxy` its snapshot of `compiled` if its version changed.
fn send_to(
    proxy: &mut Proxy,
    applied: &Applied,
    compiled: &Compiled,
    trusted: &Arc<BTreeSet<String>>,
) {
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
                trusted: trusted.clone(),
            });
            proxy.acked_revision = Some(applied.revision.clone());
            proxy.trusted = trusted.clone();
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
            trusted: trusted.clone(),
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
