//! A controller that does not lead stands down and follows the leader's weights.

use tokio::sync::watch;

use super::{CanaryController, weights};
use crate::canary::progress::Saved;
use crate::canary::rollout::spec_hash;

impl CanaryController {
    /// Leadership lost: another replica runs the canaries now. Forget every rollout.
    pub(super) async fn stand_down(&self) {
        let mut rollouts = self.rollouts.lock().await;
        if !rollouts.is_empty() {
            tracing::info!(
                rollouts = rollouts.len(),
                "not the leader: canaries are left to the leader"
            );
        }
        rollouts.clear();
        drop(rollouts);
        self.outcome_retries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        // Metrics show the rollouts this replica runs: none.
        self.observers.publish(&[]);
    }

    /// A follower's splits: the leader's weights for each rollout it runs (same spec),
    /// Git's for the others. A decided outcome holds 100 or 0 until it is in Git, when
    /// the leader drops its record.
    pub(super) async fn follow(&self, leader: &[Saved]) {
        let Some(applied) = self.mesh.applied().await else {
            return;
        };
        for canary in &applied.config.canaries {
            let canary = &canary.value;
            let hash = spec_hash(canary);
            let held = leader.iter().find(|saved| {
                saved.namespace == canary.namespace
                    && saved.name == canary.name
                    && saved.spec_hash == hash
            });
            let held = held.map(|saved| weights(canary, u64::from(saved.canary_weight)));
            self.mesh
                .set_canary_weights(&canary.namespace, &canary.target, held)
                .await;
        }
    }
}

/// Waits for a change of leadership; never returns without a leadership to follow.
pub(super) async fn leadership_changed(
    leading: &mut Option<watch::Receiver<bool>>,
) -> Result<(), watch::error::RecvError> {
    match leading {
        Some(leading) => leading.changed().await,
        None => std::future::pending().await,
    }
}
