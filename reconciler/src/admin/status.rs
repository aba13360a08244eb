//! `GET /status`: one typed document of what the reconciler follows, applied and pushed,
//! the proxies that acknowledged it, the canaries, and (in Kubernetes mode) the cluster.

use serde::{Deserialize, Serialize};

use super::Admin;
use crate::canary::rollout::Rollout;
use crate::control::mesh::{ProxyStatus, TrustStatus};
use crate::kubernetes::sync::KubernetesStatus;
use crate::reconcile::SourceStatus;

/// The document `meshcd status --format json` prints, and the CLI reads back: every key
/// camelCase, at every level.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusDocument {
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub commit: String,
    pub source: SourceStatus,
    #[serde(default)]
    pub proxies: Vec<ProxyStatus>,
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Workloads that no TrafficTarget names as destination.
    #[serde(default)]
    pub workloads_without_policy: Vec<String>,
    #[serde(default)]
    pub canaries: Vec<Rollout>,
    /// `null` in local mode.
    pub kubernetes: Option<KubernetesStatus>,
    /// When the mesh CA's certificate expires, seconds since the epoch.
    #[serde(default)]
    pub ca_not_after: Option<i64>,
    /// The roots of trust in force and the rotation's phase.
    #[serde(default)]
    pub trust: Option<TrustStatus>,
}

/// Gathers the document from the reconciler's shared state.
pub async fn status_document(admin: &Admin) -> StatusDocument {
    let source = admin.status.lock().await.clone();
    let kubernetes = match &admin.kubernetes {
        Some(status) => Some(status.lock().await.clone()),
        None => None,
    };
    StatusDocument {
        version: crate::VERSION.to_string(),
        commit: crate::GIT_COMMIT.to_string(),
        source,
        proxies: admin.mesh.proxies().await,
        warnings: admin.mesh.warnings().await,
        workloads_without_policy: admin.mesh.unreachable_workloads().await,
        canaries: admin.canaries.rollouts().await,
        kubernetes,
        ca_not_after: admin.ca_not_after,
        trust: admin.mesh.trust_status().await,
    }
}
