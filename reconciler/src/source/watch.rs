//! Watches a local repository with `notify` and asks for a reconcile when its refs move.

use std::path::Path;

use notify::{RecommendedWatcher, RecursiveMode, Watcher as _};
use tokio::sync::mpsc;

use crate::reconcile::Trigger;

/// Keeps watching while the returned watcher lives. `None` when the platform refuses
/// (the poll interval still applies).
pub fn watch_repository(
    path: &Path,
    triggers: mpsc::Sender<Trigger>,
) -> Option<RecommendedWatcher> {
    // A commit or a checkout moves refs and HEAD under .git; a bare repository has them
    // at its root.
    let git_dir = if path.join(".git").is_dir() {
        path.join(".git")
    } else {
        path.to_path_buf()
    };
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        let relevant = event.paths.iter().any(|p| {
            let text = p.to_string_lossy();
            !text.ends_with(".lock")
                && (text.contains("refs")
                    || text.ends_with("HEAD")
                    || text.ends_with("packed-refs"))
        });
        if relevant {
            // A full channel already holds a pending trigger: nothing is lost.
            let _ = triggers.try_send(Trigger::Watch);
        }
    })
    .map_err(|error| tracing::warn!(%error, "cannot watch the repository; polling only"))
    .ok()?;
    watcher
        .watch(&git_dir, RecursiveMode::Recursive)
        .map_err(|error| tracing::warn!(%error, path = %git_dir.display(), "cannot watch the repository; polling only"))
        .ok()?;
    Some(watcher)
}
