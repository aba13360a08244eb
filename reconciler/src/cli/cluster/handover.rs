//! What changes hands with leadership: the leader serves proxies and runs canaries (from
//! the progress the Canaries' status holds), and its pod carries the label the
//! control-plane Service selects; the others stand by.

use std::sync::Arc;
use std::time::Duration;

use meshcd_support::Backoff;
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::canary::controller::CanaryController;
use crate::canary::progress::Saved;
use crate::control::mesh::Mesh;
use crate::kubernetes::canary_status;
use crate::kubernetes::manifests::LEADER_LABEL;

/// What changes hands with leadership.
pub struct Handover {
    pub client: kube::Client,
    pub mesh: Arc<Mesh>,
    pub canaries: Arc<CanaryController>,
    pub canary_leading: watch::Sender<bool>,
    /// What the Canaries' status held when last watched.
    pub followed: watch::Receiver<Vec<Saved>>,
    pub namespace: String,
    /// This replica's pod, labelled while it leads: the control-plane Service selects
    /// the leader only.
    pub pod: Option<String>,
}

/// The leader serves proxies and runs canaries; the others stand by. A new leader is
/// seeded with the progress the Canaries' status holds before it runs them.
pub async fn hand_over(handover: Handover, mut leader: watch::Receiver<bool>) {
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
    let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(1));
    for attempt in 1..=5 {
        match canary_status::load(client).await {
            Ok(saved) => return Some(saved),
            Err(error) => {
                tracing::warn!(%error, attempt, "reading canary progress from the Canaries' status");
                tokio::time::sleep(backoff.next_delay()).await;
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
