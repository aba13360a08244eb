//! Rollout progress kept in the state directory (`canaries.json`), so that a restarted
//! reconciler resumes each rollout at the step it reached instead of starting over or
//! jumping to the end. Written atomically (temporary file, then rename) on every change.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::rollout::{Phase, Rollout};
use crate::model::Canary;

const FILE: &str = "canaries.json";

/// One rollout as persisted. Times are wall-clock milliseconds since the Unix epoch:
/// `Instant`s mean nothing to another process.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Saved {
    pub namespace: String,
    pub name: String,
    pub spec_hash: String,
    pub phase: Phase,
    pub step: Option<usize>,
    pub canary_weight: u32,
    pub failures: u32,
    pub message: String,
    pub last_analysis_ms: u64,
    pub last_advance_ms: u64,
    pub saved_ms: u64,
}

/// What to do with a Canary that has no rollout in memory.
#[derive(Debug)]
pub enum Resume {
    /// Nothing was saved for it: start from Git's weights.
    Fresh,
    /// Saved progress for the same spec: carry on from there.
    Resumed(Box<Rollout>),
    /// Saved progress for another spec: start from Git's weights, and say why.
    Stale { saved_hash: String },
}

pub struct ProgressStore {
    path: PathBuf,
    /// Read at start-up; each entry is used at most once.
    saved: Mutex<BTreeMap<(String, String), Saved>>,
    /// What was last written, so unchanged progress costs no write.
    written: Mutex<Option<Vec<Saved>>>,
    /// Also told every change (in a cluster: written to the Canaries' status).
    mirror: Option<tokio::sync::watch::Sender<Vec<Saved>>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ProgressError {
    #[error("reading {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not canary progress: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("writing {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl ProgressStore {
    /// No saved progress; writes `STATE/canaries.json` (over an unreadable one).
    pub fn empty(state_dir: &Path) -> Self {
        ProgressStore {
            path: state_dir.join(FILE),
            saved: Mutex::default(),
            written: Mutex::default(),
            mirror: None,
        }
    }

    /// Every change is also sent to `mirror`.
    pub fn mirror_to(mut self, mirror: tokio::sync::watch::Sender<Vec<Saved>>) -> Self {
        self.mirror = Some(mirror);
        self
    }

    /// Progress saved elsewhere (another replica's, in the cluster): it replaces what was
    /// read from the file for the same Canaries.
    pub fn seed(&self, saved: Vec<Saved>) {
        let mut held = lock(&self.saved);
        for saved in saved {
            held.insert((saved.namespace.clone(), saved.name.clone()), saved);
        }
    }

    /// Reads `STATE/canaries.json` when it exists.
    pub fn open(state_dir: &Path) -> Result<Self, ProgressError> {
        let path = state_dir.join(FILE);
        let saved: Vec<Saved> = match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map_err(|error| ProgressError::Parse {
                path: path.clone(),
                message: error.to_string(),
            })?,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(source) => return Err(ProgressError::Read { path, source }),
        };
        Ok(ProgressStore {
            written: Mutex::new(Some(saved.clone())),
            saved: Mutex::new(
                saved
                    .into_iter()
                    .map(|saved| ((saved.namespace.clone(), saved.name.clone()), saved))
                    .collect(),
            ),
            path,
            mirror: None,
        })
    }

    /// Takes what was saved for `canary` (whose spec hashes to `hash`).
    pub fn resume(&self, canary: &Canary, hash: &str, now: Instant) -> Resume {
        let key = (canary.namespace.clone(), canary.name.clone());
        let Some(saved) = lock(&self.saved).remove(&key) else {
            return Resume::Fresh;
        };
        if saved.spec_hash != hash {
            return Resume::Stale {
                saved_hash: saved.spec_hash,
            };
        }
        Resume::Resumed(Box::new(restore(canary, &saved, now, SystemTime::now())))
    }

    /// Drops saved progress of a Canary whose outcome is in Git.
    pub fn forget(&self, key: &(String, String)) {
        lock(&self.saved).remove(key);
    }

    /// Drops saved progress of Canaries that the applied revision no longer has.
    pub fn forget_absent(&self, present: &[(String, String)]) {
        lock(&self.saved).retain(|key, saved| {
            let keep = present.contains(key);
            if !keep {
                tracing::info!(canary = %format!("{}/{}", key.0, key.1), weight = saved.canary_weight, "saved canary progress dropped: the Canary is no longer in the repository");
            }
            keep
        });
    }

    /// Writes the rollouts when they differ from what was last written.
    pub fn save<'r>(
        &self,
        rollouts: impl IntoIterator<Item = &'r Rollout>,
        now: Instant,
    ) -> Result<(), ProgressError> {
        let path = &self.path;
        let wall = SystemTime::now();
        let mut records: Vec<Saved> = rollouts
            .into_iter()
            .map(|rollout| record(rollout, now, wall))
            .collect();
        // Progress not yet claimed (no revision applied since the start) is kept: a
        // second crash before then must not lose it.
        records.extend(lock(&self.saved).values().cloned());
        let mut written = lock(&self.written);
        let unchanged = written.as_ref().is_some_and(|previous| {
            previous.len() == records.len() && previous.iter().zip(&records).all(same)
        });
        if unchanged {
            return Ok(());
        }
        if let Some(mirror) = &self.mirror {
            mirror.send_replace(records.clone());
        }
        let text = serde_json::to_string_pretty(&records).unwrap_or_default();
        let temporary = path.with_extension("json.tmp");
        let write = |source| ProgressError::Write {
            path: path.clone(),
            source,
        };
        std::fs::write(&temporary, text).map_err(write)?;
        std::fs::File::open(&temporary)
            .and_then(|file| file.sync_all())
            .map_err(write)?;
        std::fs::rename(&temporary, path).map_err(write)?;
        *written = Some(records);
        Ok(())
    }
}

/// Equal but for when it was saved; times mapped to the wall clock jitter by a few ms.
fn same((a, b): (&Saved, &Saved)) -> bool {
    let timeless = |saved: &Saved| Saved {
        saved_ms: 0,
        last_analysis_ms: 0,
        last_advance_ms: 0,
        ..saved.clone()
    };
    timeless(a) == timeless(b)
        && a.last_analysis_ms.abs_diff(b.last_analysis_ms) < 50
        && a.last_advance_ms.abs_diff(b.last_advance_ms) < 50
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn millis(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as u64)
}

/// `instant` on the wall clock, given that `now` is `wall`.
fn to_wall(instant: Instant, now: Instant, wall: SystemTime) -> u64 {
    millis(wall).saturating_sub(now.saturating_duration_since(instant).as_millis() as u64)
}

fn record(rollout: &Rollout, now: Instant, wall: SystemTime) -> Saved {
    Saved {
        namespace: rollout.namespace.clone(),
        name: rollout.name.clone(),
        spec_hash: rollout.spec_hash.clone(),
        phase: rollout.phase,
        step: rollout.step,
        canary_weight: rollout.canary_weight,
        failures: rollout.failures,
        message: rollout.message.clone(),
        last_analysis_ms: to_wall(rollout.last_analysis, now, wall),
        last_advance_ms: to_wall(rollout.last_advance, now, wall),
        saved_ms: millis(wall),
    }
}

/// The rollout as it stood when saved. The time the reconciler was down does not count
/// against `progressDeadline` (nobody could watch the traffic then), and the first
/// analysis after the restart waits a whole interval: the traffic windows were lost.
fn restore(canary: &Canary, saved: &Saved, now: Instant, wall: SystemTime) -> Rollout {
    let mut rollout = Rollout::start(canary, saved.canary_weight, now);
    rollout.phase = saved.phase;
    rollout.step = saved.step;
    rollout.failures = saved.failures;
    let waited = Duration::from_millis(saved.saved_ms.saturating_sub(saved.last_advance_ms));
    rollout.last_advance = now.checked_sub(waited).unwrap_or(now);
    rollout.last_analysis = now;
    let down = Duration::from_millis(millis(wall).saturating_sub(saved.saved_ms));
    rollout.message = format!(
        "resumed at {}% after a restart (down {:.0}s): {}",
        saved.canary_weight,
        down.as_secs_f64(),
        saved.message
    );
    rollout
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canary() -> Canary {
        let mut canary = Canary::example(&[10, 20, 30, 40]);
        canary.analysis.min_requests = 5;
        canary
    }

    #[test]
    fn a_saved_rollout_resumes_at_its_step_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let canary = canary();
        let hash = super::super::rollout::spec_hash(&canary);
        let start = Instant::now();
        let mut rollout = Rollout::start(&canary, 0, start);
        rollout.step = Some(2);
        rollout.canary_weight = 30;
        rollout.failures = 1;
        let store = ProgressStore::open(dir.path()).unwrap();
        store.save([&rollout], Instant::now()).unwrap();
        assert!(!dir.path().join("canaries.json.tmp").exists());

        let reopened = ProgressStore::open(dir.path()).unwrap();
        let Resume::Resumed(resumed) = reopened.resume(&canary, &hash, Instant::now()) else {
            panic!("the same spec resumes");
        };
        assert_eq!(
            (resumed.step, resumed.canary_weight, resumed.failures),
            (Some(2), 30, 1)
        );
        assert_eq!(resumed.phase, Phase::Progressing);
        assert!(resumed.message.starts_with("resumed at 30%"));
        assert!(matches!(
            reopened.resume(&canary, &hash, Instant::now()),
            Resume::Fresh
        ));
    }

    #[test]
    fn progress_of_another_spec_is_stale_and_a_pause_survives() {
        let dir = tempfile::tempdir().unwrap();
        let canary = canary();
        let mut rollout = Rollout::start(&canary, 10, Instant::now());
        rollout.phase = Phase::Paused;
        let store = ProgressStore::open(dir.path()).unwrap();
        store.save([&rollout], Instant::now()).unwrap();
        let reopened = ProgressStore::open(dir.path()).unwrap();
        assert!(matches!(
            reopened.resume(&canary, "another-hash", Instant::now()),
            Resume::Stale { .. }
        ));
        let reopened = ProgressStore::open(dir.path()).unwrap();
        let hash = super::super::rollout::spec_hash(&canary);
        let Resume::Resumed(resumed) = reopened.resume(&canary, &hash, Instant::now()) else {
            panic!("the same spec resumes");
        };
        assert_eq!(resumed.phase, Phase::Paused);
    }
}
