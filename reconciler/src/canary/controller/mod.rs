//! Runs the canaries of the applied revision: owns their splits' (or routes') weights
//! while they run, analyses each interval of client-side traffic, steps, and commits the outcome
//! (promotion or rollback) to the config repository.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Mutex, watch};

use super::metrics_source::MetricSource;
use super::notify::Observers;
use super::progress::{ProgressStore, Resume};
use super::rollout::{Phase, Rollout, Transition, judge, spec_hash};
use crate::control::mesh::Mesh;
use crate::control::traffic::BackendKey;
use crate::model::{Canary, Config};

mod commands;
mod leadership;
mod outcome;
mod target;

pub use commands::Command;

use leadership::leadership_changed;
use outcome::outcome_in_git;
use target::Target;

const TICK: Duration = Duration::from_millis(250);
/// How long after a failed outcome commit (remote unreachable, pushes refused every
/// time) it is tried again.
const OUTCOME_RETRY: Duration = Duration::from_secs(30);
/// How a held rollout's message starts.
const HELD: &str = "held at";
/// What an outcome's failure adds to the rollout's message.
const NOT_IN_GIT: &str = "; the outcome is not in Git: ";

/// Where outcomes are committed: a local repository's checked-out branch, or a remote's
/// followed branch.
pub use super::writeback::Writable;

type Key = (String, String);

/// Why an outcome is not in Git, and whether it is worth another try: a refused push or
/// an unreachable remote may pass; a pinned source or a superseded Canary will not.
#[derive(Debug, Clone)]
struct Unwritten {
    reason: String,
    retry: bool,
}

pub struct CanaryController {
    mesh: Arc<Mesh>,
    writable: Result<Writable, String>,
    rollouts: Mutex<BTreeMap<Key, Rollout>>,
    observers: Observers,
    progress: ProgressStore,
    /// Outcomes whose commit failed for a reason that may pass, and when to try again.
    outcome_retries: std::sync::Mutex<BTreeMap<Key, Instant>>,
    metric_source: MetricSource,
    /// An operator's command: a paused rollout may run again.
    wake: tokio::sync::Notify,
    /// In a cluster only the leader runs canaries; `None`: always.
    leadership: Option<Leadership>,
    /// New rollouts wait for `meshcd canary resume` (`meshcd up`'s calm default).
    hold_new: bool,
}

/// A replica's part in a cluster's canaries.
#[derive(Clone)]
pub struct Leadership {
    /// Whether this replica leads: only the leader analyses, steps and commits.
    pub leading: watch::Receiver<bool>,
    /// The leader's progress as the cluster holds it (the Canaries' status): a
    /// follower serves its proxies the leader's weights.
    pub followed: watch::Receiver<Vec<super::progress::Saved>>,
}

/// What `meshcd run` gives the controller.
pub struct Settings {
    /// `Err(reason)` when outcomes cannot be committed (a pinned tag or commit, no
    /// signing key): such canaries stop at their last step and say why.
    pub writable: Result<Writable, String>,
    /// Progress in the state directory: resumed at start, saved on every change.
    pub progress: ProgressStore,
    /// Where traffic is read from (`--canary-metrics`).
    pub metric_source: MetricSource,
    /// Metrics and the outcome webhook.
    pub observers: Observers,
    /// In a cluster, whether this replica leads; the others hold no rollout and follow
    /// the leader's weights. `None` (local mode): always leads.
    pub leadership: Option<Leadership>,
    /// Start every new rollout paused, at Git's weights: where no traffic flows unless
    /// the user sends it, a running canary could only time out and commit a rollback.
    pub hold_new: bool,
}

impl CanaryController {
    pub fn new(mesh: Arc<Mesh>, settings: Settings) -> Arc<Self> {
        Arc::new(CanaryController {
            mesh,
            writable: settings.writable,
            rollouts: Mutex::new(BTreeMap::new()),
            observers: settings.observers,
            progress: settings.progress,
            outcome_retries: std::sync::Mutex::default(),
            metric_source: settings.metric_source,
            wake: tokio::sync::Notify::new(),
            leadership: settings.leadership,
            hold_new: settings.hold_new,
        })
    }

    /// Progress another replica saved (in the Canaries' status), resumed by this one
    /// when it leads. Call before telling it that it leads.
    pub fn seed_progress(&self, saved: Vec<super::progress::Saved>) {
        self.progress.seed(saved);
    }

    fn is_leading(&self) -> bool {
        self.leadership
            .as_ref()
            .is_none_or(|leadership| *leadership.leading.borrow())
    }

    async fn save_progress(&self) {
        let rollouts = self.rollouts.lock().await;
        if let Err(error) = self.progress.save(rollouts.values(), Instant::now()) {
            tracing::warn!(error = %meshcd_support::error_chain(&error), "canary progress not saved");
        }
    }

    pub async fn rollouts(&self) -> Vec<Rollout> {
        self.rollouts.lock().await.values().cloned().collect()
    }

    pub async fn run(self: Arc<Self>) {
        let mut revisions = self.mesh.subscribe_revisions();
        let mut leadership = self.leadership.clone();
        let mut leading = leadership.as_ref().map(|l| l.leading.clone());
        let mut ticker = tokio::time::interval(TICK);
        loop {
            if let Some(Leadership {
                leading: is_leading,
                followed,
            }) = &mut leadership
                && !*is_leading.borrow_and_update()
            {
                self.stand_down().await;
                // A follower wakes for nothing but leadership and the leader's progress.
                loop {
                    let records = followed.borrow_and_update().clone();
                    self.follow(&records).await;
                    tokio::select! {
                        changed = is_leading.changed() => if changed.is_err() { return },
                        changed = followed.changed() => if changed.is_err() { return },
                        changed = revisions.changed() => if changed.is_err() { return },
                    }
                    if *is_leading.borrow_and_update() {
                        break;
                    }
                }
                // The leader starts from the progress seeded before it was told; the
                // weights it followed stay until its first step sets them (no flap to
                // Git's weights in between).
                ticker.reset_immediately();
            }
            ticker.tick().await;
            self.step(Instant::now()).await;
            self.save_progress().await;
            self.observers.publish(&self.rollouts().await);
            if self.at_rest().await {
                // Nothing to judge or to write: no tick until a revision brings a canary
                // or an operator resumes one.
                tokio::select! {
                    changed = revisions.changed() => if changed.is_err() { return },
                    () = self.wake.notified() => {}
                    changed = leadership_changed(&mut leading) => if changed.is_err() { return },
                }
                ticker.reset_immediately();
            }
        }
    }

    /// No rollout progresses and no outcome commit waits for another try. (A decided
    /// outcome is written within the step that decided it; one that cannot be written
    /// for good waits for nothing.)
    async fn at_rest(&self) -> bool {
        let retries_pending = !self
            .outcome_retries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_empty();
        !retries_pending
            && self
                .rollouts
                .lock()
                .await
                .values()
                .all(|rollout| rollout.phase != Phase::Progressing)
    }

    /// One pass over the applied Canaries: settle those whose outcome is in Git, start or
    /// resume the others, analyse those due, then act on every transition decided.
    async fn step(&self, now: Instant) {
        let Some(applied) = self.mesh.applied().await else {
            return;
        };
        let config = applied.config.clone();
        let mut due = Vec::new();
        {
            let mut rollouts = self.rollouts.lock().await;
            let mut seen = Vec::new();
            for canary in &config.canaries {
                let canary = &canary.value;
                let key = (canary.namespace.clone(), canary.name.clone());
                seen.push(key.clone());
                let hash = spec_hash(canary);
                if outcome_in_git(canary, &hash) {
                    self.settled(&mut rollouts, &key, canary).await;
                    continue;
                }
                if let Some(resumed) = self.track(&mut rollouts, &config, canary, &hash, now).await
                {
                    due.push((key.clone(), resumed.0, resumed.1));
                }
                if let Some(rollout) = rollouts.get(&key)
                    && self.outcome_retry_due(&key, now)
                {
                    let transition = match rollout.phase {
                        Phase::Promoting => Transition::Promote,
                        _ => Transition::RollBack(rollout.message.clone()),
                    };
                    due.push((key.clone(), rollout.clone(), transition));
                }
                if let Some(rollout) = rollouts.get_mut(&key)
                    && rollout.due(canary, now)
                {
                    let transition = self.analyse(&config, canary, rollout, now).await;
                    due.push((key.clone(), rollout.clone(), transition));
                }
            }
            self.progress.forget_absent(&seen);
            forget_removed(&mut rollouts, &seen);
        }
        for (key, rollout, transition) in due {
            self.act(&config, &key, rollout, transition).await;
        }
    }

    /// The outcome landed: the rollout is over, and Git's weights are the truth again
    /// (also for weights followed from a former leader).
    async fn settled(&self, rollouts: &mut BTreeMap<Key, Rollout>, key: &Key, canary: &Canary) {
        self.progress.forget(key);
        rollouts.remove(key);
        self.mesh
            .set_canary_weights(&canary.namespace, &canary.target, None)
            .await;
    }

    /// A rollout for `canary`: resumed from saved progress after a restart, started when
    /// new or when its spec changed, else the one running. A resumed rollout whose outcome
    /// was decided but maybe not written is returned, to be written now.
    async fn track(
        &self,
        rollouts: &mut BTreeMap<Key, Rollout>,
        config: &Config,
        canary: &Canary,
        hash: &str,
        now: Instant,
    ) -> Option<(Rollout, Transition)> {
        let key = (canary.namespace.clone(), canary.name.clone());
        let superseded = rollouts.get(&key).is_some_and(|r| r.spec_hash != hash);
        let resumed = if rollouts.contains_key(&key) {
            None
        } else {
            saved_rollout(&self.progress, canary, hash, now)
        };
        if let Some(mut rollout) = resumed {
            self.apply_hold(&mut rollout);
            // Back at the weight reached before the restart, not Git's.
            self.mesh
                .set_canary_weights(
                    &canary.namespace,
                    &canary.target,
                    Some(weights(canary, u64::from(rollout.canary_weight))),
                )
                .await;
            let pending = match rollout.phase {
                Phase::Promoting => Some((rollout.clone(), Transition::Promote)),
                Phase::RollingBack => Some((
                    rollout.clone(),
                    Transition::RollBack(rollout.message.clone()),
                )),
                _ => None,
            };
            rollouts.insert(key, rollout);
            return pending;
        }
        if superseded || !rollouts.contains_key(&key) {
            let initial =
                Target::of(config, canary).map_or(0, |target| target.canary_percent(canary));
            let mut rollout = Rollout::start(canary, initial, now);
            self.apply_hold(&mut rollout);
            if !self.hold_new {
                tracing::info!(canary = %format!("{}/{}", key.0, key.1), superseded, "canary rollout starts");
            }
            rollouts.insert(key, rollout);
            self.mesh
                .set_canary_weights(&canary.namespace, &canary.target, None)
                .await;
        }
        None
    }

    /// The analysis of a due step, on the canary backend's traffic since the last one.
    async fn analyse(
        &self,
        config: &Config,
        canary: &Canary,
        rollout: &mut Rollout,
        now: Instant,
    ) -> Transition {
        let backend = BackendKey {
            namespace: canary.namespace.clone(),
            service: Target::of(config, canary)
                .map(|target| target.service().to_string())
                .unwrap_or_default(),
            backend: canary.canary.clone(),
        };
        let traffic = self
            .metric_source
            .traffic(&self.mesh, &backend, rollout.last_analysis, now)
            .await;
        // An unreadable source waits the interval out (rollout.rs says why).
        let transition = match traffic {
            Ok(traffic) => rollout.analyse(canary, judge(&canary.analysis, &traffic), now),
            Err(reason) => {
                let reason = meshcd_support::error_chain(&reason);
                rollout.unmeasured(canary, &reason, now)
            }
        };
        self.observers.analysed(rollout);
        transition
    }
}

/// The split's weights with `canary_weight` percent on the canary backend.
pub fn weights(canary: &Canary, canary_weight: u64) -> BTreeMap<String, u64> {
    BTreeMap::from([
        (canary.stable.clone(), 100 - canary_weight),
        (canary.canary.clone(), canary_weight),
    ])
}

/// A Canary removed from Git stops (its split went back to Git's weights with it).
fn forget_removed(rollouts: &mut BTreeMap<Key, Rollout>, seen: &[Key]) {
    let gone: Vec<Key> = rollouts
        .keys()
        .filter(|key| !seen.contains(key))
        .cloned()
        .collect();
    for key in gone {
        if let Some(rollout) = rollouts.remove(&key) {
            tracing::info!(canary = %format!("{}/{}", key.0, key.1), phase = ?rollout.phase, "canary removed from the repository");
        }
    }
}

/// Saved progress for a Canary without a rollout in memory, when its spec is unchanged.
fn saved_rollout(
    store: &ProgressStore,
    canary: &Canary,
    hash: &str,
    now: Instant,
) -> Option<Rollout> {
    let name = format!("{}/{}", canary.namespace, canary.name);
    match store.resume(canary, hash, now) {
        Resume::Resumed(rollout) => {
            tracing::info!(canary = %name, weight = rollout.canary_weight, step = ?rollout.step, phase = ?rollout.phase, "canary rollout resumes where it stood before the restart");
            Some(*rollout)
        }
        Resume::Stale { saved_hash } => {
            tracing::info!(canary = %name, %saved_hash, %hash, "canary rollout starts over: the Canary changed while meshcd was down");
            None
        }
        Resume::Fresh => None,
    }
}

#[cfg(test)]
mod leadership_tests;
