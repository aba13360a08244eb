//! An operator's commands on a rollout (promote, abort, pause, resume), and the hold
//! `meshcd up` puts on new rollouts.

use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Promote,
    Abort,
    Pause,
    Resume,
}

impl CanaryController {
    pub async fn command(
        &self,
        namespace: &str,
        name: &str,
        command: Command,
    ) -> Result<String, String> {
        if !self.is_leading() {
            return Err(
                "this replica is not the leader: the leader runs the canaries (retry, or ask the \
                 leader's admin address)"
                    .into(),
            );
        }
        let Some(applied) = self.mesh.applied().await else {
            return Err("no revision applied".into());
        };
        let key = (namespace.to_string(), name.to_string());
        let mut rollouts = self.rollouts.lock().await;
        let rollout = rollouts
            .get_mut(&key)
            .ok_or_else(|| format!("no running canary {namespace}/{name}"))?;
        let transition = match (command, rollout.phase) {
            (Command::Pause, Phase::Progressing) => {
                rollout.pause(format!(
                    "paused at {}% by an operator",
                    rollout.canary_weight
                ));
                return Ok(rollout.message.clone());
            }
            (Command::Resume, Phase::Paused) => {
                rollout.resume("resumed by an operator".into());
                self.wake.notify_one();
                return Ok(rollout.message.clone());
            }
            (Command::Promote, Phase::Progressing | Phase::Paused) => rollout.force(true),
            (Command::Abort, Phase::Progressing | Phase::Paused) => rollout.force(false),
            (_, phase) => return Err(format!("canary {namespace}/{name} is {phase:?}")),
        };
        let rollout = rollout.clone();
        drop(rollouts);
        self.act(&applied.config, &key, rollout, transition).await;
        self.wake.notify_one();
        Ok(format!("{command:?} requested for {namespace}/{name}"))
    }

    /// `meshcd up`'s calm default, also for a rollout resumed from saved progress: a
    /// running one is held (it would time out with no traffic), and without the hold a
    /// rollout held by an earlier run goes on.
    pub(super) fn apply_hold(&self, rollout: &mut Rollout) {
        if self.hold_new && rollout.phase == Phase::Progressing {
            rollout.pause(format!(
                "{HELD} {}%: `meshcd up` starts canaries paused; send traffic, then \
                 `meshcd canary resume {} -n {}`",
                rollout.canary_weight, rollout.name, rollout.namespace
            ));
            tracing::info!(canary = %format!("{}/{}", rollout.namespace, rollout.name), "canary held at its weights: `meshcd canary resume {} -n {}` runs it", rollout.name, rollout.namespace);
        } else if !self.hold_new
            && rollout.phase == Phase::Paused
            && rollout.message.starts_with(HELD)
        {
            rollout.resume("no longer held (canaries run as they appear)".into());
        }
    }
}
