//! Runs the canaries of the applied revision: owns their splits' weights while they
//! run, analyses each interval of client-side traffic, steps, and commits the outcome
//! (promotion or rollback) to the config repository.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

use super::rollout::{Phase, Rollout, Transition, judge, spec_hash};
use super::writeback::{self, FileEdit, ObjectRef};
use crate::control::mesh::Mesh;
use crate::control::traffic::BackendKey;
use crate::model::{Canary, Config, Located, TrafficSplit};

const TICK: Duration = Duration::from_millis(250);

/// Where outcomes are committed: a local repository with a working tree, on the branch
/// that is checked out. `None` when the source is pinned or remote-only.
#[derive(Debug, Clone)]
pub struct Writable {
    pub repository: PathBuf,
    /// The config folder inside the repository.
    pub subpath: Option<PathBuf>,
}

type Key = (String, String);

pub struct CanaryController {
    mesh: Arc<Mesh>,
    writable: Result<Writable, String>,
    rollouts: Mutex<BTreeMap<Key, Rollout>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Promote,
    Abort,
    Pause,
    Resume,
}

impl CanaryController {
    /// `writable` is `Err(reason)` when outcomes cannot be committed (a pinned tag or
    /// commit): such canaries stop at their last step and say why.
    pub fn new(mesh: Arc<Mesh>, writable: Result<Writable, String>) -> Arc<Self> {
        Arc::new(CanaryController {
            mesh,
            writable,
            rollouts: Mutex::new(BTreeMap::new()),
        })
    }

    pub async fn rollouts(&self) -> Vec<Rollout> {
        self.rollouts.lock().await.values().cloned().collect()
    }

    pub async fn run(self: Arc<Self>) {
        let mut ticker = tokio::time::interval(TICK);
        loop {
            ticker.tick().await;
            self.step(Instant::now()).await;
        }
    }

    pub async fn command(
        &self,
        namespace: &str,
        name: &str,
        command: Command,
    ) -> Result<String, String> {
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
                rollout.phase = Phase::Paused;
                rollout.message = format!("paused at {}% by an operator", rollout.canary_weight);
                return Ok(rollout.message.clone());
            }
            (Command::Resume, Phase::Paused) => {
                rollout.phase = Phase::Progressing;
                rollout.last_advance = Instant::now();
                rollout.message = "resumed by an operator".into();
                return Ok(rollout.message.clone());
            }
            (Command::Promote, Phase::Progressing | Phase::Paused) => rollout.force(true),
            (Command::Abort, Phase::Progressing | Phase::Paused) => rollout.force(false),
            (_, phase) => return Err(format!("canary {namespace}/{name} is {phase:?}")),
        };
        let rollout = rollout.clone();
        drop(rollouts);
        self.act(&applied.config, &key, rollout, transition).await;
        Ok(format!("{command:?} requested for {namespace}/{name}"))
    }

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
                    // The outcome landed: Git's weights are the truth again.
                    if rollouts.remove(&key).is_some() {
                        self.mesh
                            .set_split_weights(&canary.namespace, &canary.traffic_split, None)
                            .await;
                    }
                    continue;
                }
                let superseded = rollouts.get(&key).is_some_and(|r| r.spec_hash != hash);
                if superseded || !rollouts.contains_key(&key) {
                    let initial = split_of(&config, canary)
                        .map_or(0, |split| canary_percent(&split.value, canary));
                    tracing::info!(canary = %format!("{}/{}", key.0, key.1), superseded, "canary rollout starts");
                    rollouts.insert(key.clone(), Rollout::start(canary, initial, now));
                    self.mesh
                        .set_split_weights(&canary.namespace, &canary.traffic_split, None)
                        .await;
                }
                if let Some(rollout) = rollouts.get_mut(&key)
                    && rollout.due(canary, now)
                {
                    let traffic = self.mesh.traffic.since(
                        &BackendKey {
                            namespace: canary.namespace.clone(),
                            service: split_of(&config, canary)
                                .map(|s| s.value.service.clone())
                                .unwrap_or_default(),
                            backend: canary.canary.clone(),
                        },
                        rollout.last_analysis,
                    );
                    let verdict = judge(&canary.analysis, &traffic);
                    let transition = rollout.analyse(canary, verdict, now);
                    due.push((key.clone(), rollout.clone(), transition));
                }
            }
            // A Canary removed from Git stops, and its split goes back to Git's weights.
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
        for (key, rollout, transition) in due {
            self.act(&config, &key, rollout, transition).await;
        }
    }

    async fn act(&self, config: &Config, key: &Key, rollout: Rollout, transition: Transition) {
        let Some(canary) = config
            .canaries
            .iter()
            .find(|c| c.value.namespace == key.0 && c.value.name == key.1)
        else {
            return;
        };
        let Some(split) = split_of(config, &canary.value) else {
            return;
        };
        let weights = |canary_weight: u64| {
            BTreeMap::from([
                (canary.value.stable.clone(), 100 - canary_weight),
                (canary.value.canary.clone(), canary_weight),
            ])
        };
        match transition {
            Transition::Nothing => {}
            Transition::SetWeight(weight) => {
                tracing::info!(canary = %format!("{}/{}", key.0, key.1), weight, "canary steps");
                self.mesh
                    .set_split_weights(
                        &key.0,
                        &canary.value.traffic_split,
                        Some(weights(u64::from(weight))),
                    )
                    .await;
            }
            Transition::Promote | Transition::RollBack(_) => {
                let promoted = transition == Transition::Promote;
                let canary_weight = if promoted { 100 } else { 0 };
                self.mesh
                    .set_split_weights(
                        &key.0,
                        &canary.value.traffic_split,
                        Some(weights(canary_weight)),
                    )
                    .await;
                let result = self.write_outcome(canary, split, &rollout, promoted).await;
                let mut rollouts = self.rollouts.lock().await;
                if let Some(current) = rollouts.get_mut(key) {
                    match result {
                        Ok(commit) => {
                            current.phase = if promoted {
                                Phase::Promoted
                            } else {
                                Phase::RolledBack
                            };
                            current.message = format!(
                                "{} (commit {})",
                                current.message,
                                &commit[..12.min(commit.len())]
                            );
                            tracing::info!(canary = %format!("{}/{}", key.0, key.1), %commit, promoted, "canary outcome committed");
                        }
                        Err(reason) => {
                            current.message =
                                format!("{}; the outcome is not in Git: {reason}", current.message);
                            tracing::warn!(canary = %format!("{}/{}", key.0, key.1), %reason, "canary outcome not committed");
                        }
                    }
                }
            }
        }
    }

    async fn write_outcome(
        &self,
        canary: &Located<Canary>,
        split: &Located<TrafficSplit>,
        rollout: &Rollout,
        promoted: bool,
    ) -> Result<String, String> {
        let writable = self.writable.clone()?;
        let status = serde_json::json!({
            "phase": if promoted { "Promoted" } else { "RolledBack" },
            "observedSpec": rollout.spec_hash,
            "canaryWeight": if promoted { 100 } else { 0 },
            "message": rollout.message,
            "analysis": rollout.last_verdict,
            "lastTransitionTime": time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
        });
        let relative = |file: &std::path::Path| match &writable.subpath {
            Some(sub) => sub.join(file),
            None => file.to_path_buf(),
        };
        let (stable, canary_backend) = (canary.value.stable.clone(), canary.value.canary.clone());
        let split_ref = (split.value.namespace.clone(), split.value.name.clone());
        let canary_ref = (canary.value.namespace.clone(), canary.value.name.clone());
        let weights = if promoted { (0, 100) } else { (100, 0) };
        let split_file = relative(&split.origin.file);
        let canary_file = relative(&canary.origin.file);
        let message = format!(
            "meshcd: {} canary {}/{}\n\n{}",
            if promoted { "promote" } else { "roll back" },
            canary.value.namespace,
            canary.value.name,
            rollout.message
        );
        let repository = writable.repository.clone();
        tokio::task::spawn_blocking(move || {
            let split_edit = {
                let (namespace, name) = split_ref.clone();
                let (stable, canary_backend) = (stable.clone(), canary_backend.clone());
                move |text: &str| {
                    writeback::set_weights(
                        text,
                        &ObjectRef {
                            kind: "TrafficSplit",
                            namespace: &namespace,
                            name: &name,
                        },
                        &[
                            (stable.as_str(), weights.0),
                            (canary_backend.as_str(), weights.1),
                        ],
                    )
                }
            };
            let status_edit = {
                let (namespace, name) = canary_ref.clone();
                move |text: &str| {
                    writeback::set_status(
                        text,
                        &ObjectRef {
                            kind: "Canary",
                            namespace: &namespace,
                            name: &name,
                        },
                        &status,
                    )
                }
            };
            let edits = if split_file == canary_file {
                vec![FileEdit {
                    path: split_file,
                    edit: Box::new(move |text: &str| status_edit(&split_edit(text)?)),
                }]
            } else {
                vec![
                    FileEdit {
                        path: split_file,
                        edit: Box::new(split_edit),
                    },
                    FileEdit {
                        path: canary_file,
                        edit: Box::new(status_edit),
                    },
                ]
            };
            writeback::commit(&repository, edits, &message).map_err(|error| error.to_string())
        })
        .await
        .map_err(|error| error.to_string())?
    }
}

fn split_of<'c>(config: &'c Config, canary: &Canary) -> Option<&'c Located<TrafficSplit>> {
    config
        .traffic_splits
        .iter()
        .find(|s| s.value.namespace == canary.namespace && s.value.name == canary.traffic_split)
}

/// The canary backend's share of stable + canary in Git, in percent.
fn canary_percent(split: &TrafficSplit, canary: &Canary) -> u32 {
    let weight = |name: &str| {
        split
            .backends
            .iter()
            .find(|b| b.service == name)
            .map_or(0, |b| b.weight)
    };
    let (stable, canary_weight) = (weight(&canary.stable), weight(&canary.canary));
    (canary_weight * 100)
        .checked_div(stable + canary_weight)
        .map_or(0, |percent| percent as u32)
}

/// Whether Git already holds this spec's outcome (`status` written by meshcd).
fn outcome_in_git(canary: &Canary, hash: &str) -> bool {
    let Some(status) = &canary.status else {
        return false;
    };
    matches!(status["phase"].as_str(), Some("Promoted" | "RolledBack"))
        && status["observedSpec"].as_str() == Some(hash)
}
