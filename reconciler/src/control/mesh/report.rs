//! What the mesh reports on itself: the proxies and their versions, who may call whom,
//! compile warnings, and workloads no policy reaches.

use super::*;

impl Mesh {
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
                certificate_root: proxy.certificate_root.clone(),
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
