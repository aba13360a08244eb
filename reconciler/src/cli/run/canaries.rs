//! The canary controller of a running reconciler: where its outcomes can be committed,
//! where its progress is kept, what judges a step and who is told of an outcome.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use tokio::sync::watch;

use super::ServeArgs;
use crate::canary::controller::{CanaryController, Leadership, Settings, Writable};
use crate::canary::metrics::CanaryMetrics;
use crate::canary::metrics_source::MetricSource;
use crate::canary::notify::{Observers, Webhook};
use crate::canary::progress::{ProgressStore, Saved};
use crate::canary::signing::CommitSigner;
use crate::control::mesh::Mesh;
use crate::source::Source;
use crate::source::git::Reference;

/// What the controller is built from, besides the flags.
pub struct Parts<'a> {
    pub source: &'a Source,
    pub subpath: Option<&'a Path>,
    pub signer: Option<Arc<CommitSigner>>,
    pub verify_signatures: bool,
    pub state_dir: &'a Path,
    pub leadership: Option<Leadership>,
    /// `meshcd up`: new canaries wait for `meshcd canary resume`.
    pub hold_new: bool,
}

/// What judges a step and who is told of an outcome, from the flags: read before anything
/// else starts, so that a bad flag changes nothing on disk.
pub struct Judging {
    webhook: Option<Arc<Webhook>>,
    metric_source: MetricSource,
}

impl Judging {
    pub fn from_flags(args: &ServeArgs) -> anyhow::Result<Judging> {
        let webhook = match &args.canary_webhook {
            Some(url) => Some(Arc::new(
                Webhook::new(url, args.canary_webhook_ca.as_deref()).context("--canary-webhook")?,
            )),
            None => None,
        };
        let metric_source =
            MetricSource::from_flag(&args.canary_metrics, args.canary_prometheus_window)
                .context("--canary-metrics")?;
        Ok(Judging {
            webhook,
            metric_source,
        })
    }
}

/// The controller, and its progress as it changes (which a cluster mirrors into the
/// Canaries' status).
pub fn controller(
    judging: Judging,
    parts: Parts<'_>,
    mesh: Arc<Mesh>,
    metrics: CanaryMetrics,
) -> (Arc<CanaryController>, watch::Receiver<Vec<Saved>>) {
    let Judging {
        webhook,
        metric_source,
    } = judging;
    let writable = writable(
        parts.source,
        parts.subpath,
        parts.signer,
        parts.verify_signatures,
        parts.state_dir,
    );
    if let Err(reason) = &writable {
        tracing::info!(%reason, "canary outcomes cannot be committed: canaries hold their last step");
    }
    let (progress_sender, progress) = watch::channel(Vec::new());
    let store = ProgressStore::open(parts.state_dir).unwrap_or_else(|error| {
        tracing::warn!(error = %meshcd_support::error_chain(&error), "canary progress unreadable; running canaries start over");
        ProgressStore::empty(parts.state_dir)
    });
    let settings = Settings {
        writable,
        progress: store.mirror_to(progress_sender),
        leadership: parts.leadership,
        hold_new: parts.hold_new,
        metric_source,
        observers: Observers { metrics, webhook },
    };
    (CanaryController::new(mesh, settings), progress)
}

/// Where canary outcomes can be committed: a local repository on its checked-out branch,
/// or a remote's followed branch (through a clone of meshcd's own under the state
/// directory). With signature verification on, outcome commits must be signed: without
/// a signing key, canaries hold their last step and say why rather than push commits
/// the reconciler itself would refuse.
fn writable(
    source: &Source,
    subpath: Option<&Path>,
    signer: Option<Arc<CommitSigner>>,
    verify_signatures: bool,
    state_dir: &Path,
) -> Result<Writable, String> {
    use crate::canary::writeback::Target;
    if verify_signatures && signer.is_none() {
        return Err("signature verification is on and no --signing-key is given: meshcd cannot sign its outcome commit".into());
    }
    let branch = match source.reference() {
        Reference::Head => None,
        Reference::Branch(branch) => Some(branch.clone()),
        pinned => {
            return Err(format!(
                "the source is pinned to {pinned}: nothing can be committed"
            ));
        }
    };
    let target = match source {
        Source::Local(local) => {
            let path = local.path();
            if let Some(branch) = &branch {
                let head = git2::Repository::open(path)
                    .ok()
                    .and_then(|repository| repository.head().ok()?.shorthand().map(str::to_string));
                if head.as_deref() != Some(branch.as_str()) {
                    return Err(format!(
                        "branch {branch} is not checked out in {}",
                        path.display()
                    ));
                }
            }
            Target::Local(path.to_path_buf())
        }
        Source::Remote(mirror) => Target::Remote(Arc::new(crate::canary::push::RemoteTarget::new(
            mirror.url().clone(),
            branch,
            state_dir.join("outcomes"),
            mirror.credentials().clone(),
            mirror.redactor().clone(),
        ))),
    };
    Ok(Writable {
        target,
        subpath: subpath.map(Path::to_path_buf),
        signer,
    })
}
