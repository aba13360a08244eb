//! The reconcile loop: on every trigger, resolve the tracked revision; when it changed,
//! check it out, load, validate and apply it. An invalid revision is never applied, not
//! even partly: the last valid one stays in force and the status says why.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Mutex, mpsc};

use crate::control::mesh::Mesh;
use crate::diagnostics::Diagnostic;
use crate::load::load_path;
use crate::model::Config;
use crate::source::git::{GitSource, Revision};
use crate::validate::validate;

/// Why a reconcile ran; shown in logs.
#[derive(Debug, Clone, Copy)]
pub enum Trigger {
    Start,
    Poll,
    Watch,
    Sync,
    Resume,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Rejected {
    pub revision: Option<Revision>,
    pub errors: Vec<Diagnostic>,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct SourceStatus {
    pub repository: String,
    pub reference: String,
    pub path: Option<PathBuf>,
    pub last_fetched: Option<Revision>,
    pub applied: Option<Revision>,
    pub rejected: Option<Rejected>,
    pub last_error: Option<String>,
    pub suspended: bool,
    pub warnings: Vec<Diagnostic>,
}

enum Outcome {
    Unchanged,
    Valid(Revision, Box<Config>, Vec<Diagnostic>),
    Invalid(Revision, Vec<Diagnostic>),
}

pub struct Reconciler {
    pub source: Arc<GitSource>,
    pub subpath: Option<PathBuf>,
    /// Where revisions are checked out, one folder at a time.
    pub scratch: PathBuf,
    pub mesh: Arc<Mesh>,
    pub status: Arc<Mutex<SourceStatus>>,
}

impl Reconciler {
    pub async fn run(self, mut triggers: mpsc::Receiver<Trigger>, poll_interval: Duration) {
        let mut last_seen: Option<String> = None;
        let mut pending: Option<(Revision, Box<Config>)> = None;
        let mut ticker = tokio::time::interval(poll_interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let trigger = tokio::select! {
                _ = ticker.tick() => if last_seen.is_none() { Trigger::Start } else { Trigger::Poll },
                trigger = triggers.recv() => match trigger { Some(trigger) => trigger, None => return },
            };
            let suspended = self.status.lock().await.suspended;
            if matches!(trigger, Trigger::Resume) && !suspended {
                if let Some((revision, config)) = pending.take() {
                    self.apply(revision, *config).await;
                }
                continue;
            }
            let source = self.source.clone();
            let subpath = self.subpath.clone();
            let scratch = self.scratch.clone();
            let seen = last_seen.clone();
            let outcome = tokio::task::spawn_blocking(move || {
                evaluate(&source, subpath, &scratch, seen.as_deref())
            })
            .await;
            let outcome = match outcome {
                Ok(Ok(outcome)) => outcome,
                Ok(Err(error)) => {
                    tracing::warn!(?trigger, %error, "reconcile failed; the last valid revision stays in force");
                    self.status.lock().await.last_error = Some(error);
                    continue;
                }
                Err(join) => {
                    self.status.lock().await.last_error =
                        Some(format!("reconcile task failed: {join}"));
                    continue;
                }
            };
            match outcome {
                Outcome::Unchanged => {}
                Outcome::Invalid(revision, errors) => {
                    last_seen = Some(revision.id.clone());
                    tracing::warn!(revision = %revision.id, errors = errors.len(), "revision rejected; the last valid revision stays in force");
                    for error in errors.iter().take(5) {
                        tracing::warn!(
                            "{}:{}:{}: {}",
                            error.file.display(),
                            error.line,
                            error.column,
                            error.message
                        );
                    }
                    let mut status = self.status.lock().await;
                    status.last_fetched = Some(revision.clone());
                    status.last_error = None;
                    status.rejected = Some(Rejected {
                        revision: Some(revision),
                        errors,
                    });
                }
                Outcome::Valid(revision, config, warnings) => {
                    last_seen = Some(revision.id.clone());
                    {
                        let mut status = self.status.lock().await;
                        status.last_fetched = Some(revision.clone());
                        status.last_error = None;
                        status.rejected = None;
                        status.warnings = warnings;
                    }
                    if self.status.lock().await.suspended {
                        tracing::info!(revision = %revision.id, "suspended: revision validated but not applied");
                        pending = Some((revision, config));
                    } else {
                        self.apply(revision, *config).await;
                    }
                }
            }
        }
    }

    async fn apply(&self, revision: Revision, config: Config) {
        tracing::info!(revision = %revision.id, summary = %revision.summary, "applying revision");
        self.mesh.apply(revision.id.clone(), config).await;
        self.status.lock().await.applied = Some(revision);
    }
}

fn evaluate(
    source: &GitSource,
    subpath: Option<PathBuf>,
    scratch: &std::path::Path,
    last_seen: Option<&str>,
) -> Result<Outcome, String> {
    let revision = source.resolve().map_err(|error| error.to_string())?;
    if last_seen == Some(revision.id.as_str()) {
        return Ok(Outcome::Unchanged);
    }
    let checkout = scratch.join(&revision.id);
    let _ = std::fs::remove_dir_all(&checkout);
    source
        .checkout(&revision.id, &checkout)
        .map_err(|error| error.to_string())?;
    let root = subpath.map_or_else(|| checkout.clone(), |sub| checkout.join(sub));
    let result = match load_path(&root) {
        Ok(loaded) => {
            let validated = validate(&loaded);
            match validated.config {
                Some(config) => {
                    let warnings = validated
                        .diagnostics
                        .0
                        .into_iter()
                        .filter(|d| d.severity == crate::diagnostics::Severity::Warning)
                        .collect();
                    Ok(Outcome::Valid(revision, Box::new(config), warnings))
                }
                None => Ok(Outcome::Invalid(
                    revision,
                    validated.diagnostics.errors().cloned().collect(),
                )),
            }
        }
        Err(error) => Ok(Outcome::Invalid(
            revision,
            vec![Diagnostic {
                severity: crate::diagnostics::Severity::Error,
                file: PathBuf::from("."),
                line: 1,
                column: 1,
                object: None,
                message: error.to_string(),
                hint: None,
            }],
        )),
    };
    let _ = std::fs::remove_dir_all(&checkout);
    result
}
