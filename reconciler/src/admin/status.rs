//! `GET /status`: one typed document of what the reconciler follows, applied and pushed,
//! the proxies that acknowledged it, the canaries, and (in Kubernetes mode) the cluster.

use serde::Serialize;

use super::Admin;
use crate::canary::rollout::Rollout;
use crate::control::mesh::ProxyStatus;
use crate::kubernetes::sync::KubernetesStatus;
use crate::reconcile::SourceStatus;

/// The document `meshcd status --format json` prints; its top-level keys are camelCase.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusDocument {
    pub version: &'static str,
    pub commit: &'static str,
    pub source: SourceStatus,
    pub proxies: Vec<ProxyStatus>,
    pub warnings: Vec<String>,
    /// Workloads that no TrafficTarget names as destination.
    pub workloads_without_policy: Vec<String>,
    pub canaries: Vec<Rollout>,
    /// `null` in local mode.
    pub kubernetes: Option<KubernetesStatus>,
}

/// Gathers the document from the reconciler's shared state.
pub async fn status_document(admin: &Admin) -> StatusDocument {
    let source = admin.status.lock().await.clone();
    let kubernetes = match &admin.kubernetes {
        Some(status) => Some(status.lock().await.clone()),
        None => None,
    };
    StatusDocument {
        version: crate::VERSION,
        commit: crate::GIT_COMMIT,
        source,
        proxies: admin.mesh.proxies().await,
        warnings: admin.mesh.warnings().await,
        workloads_without_policy: admin.mesh.unreachable_workloads().await,
        canaries: admin.canaries.rollouts().await,
        kubernetes,
    }
}
