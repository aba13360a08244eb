//! Watches a local repository with `notify` and asks for a reconcile when its refs move.

use std::path::Path;

use notify::event::{AccessKind, AccessMode, EventKind, ModifyKind};
use notify::{RecommendedWatcher, RecursiveMode, Watcher as _};
use tokio::sync::mpsc;

use super::Trigger;

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
        // Resolving a revision opens and reads HEAD, refs and config: those events must not
        // ask for the next resolve, or every reconcile triggers another one forever.
        let relevant = moves_refs(&event.kind)
            && event.paths.iter().any(|p| {
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

/// Whether an event can change what a ref points at: a file created, written, renamed or
/// removed (Git updates a ref by writing `<ref>.lock` and renaming it over the ref).
fn moves_refs(kind: &EventKind) -> bool {
    match kind {
        EventKind::Create(_) | EventKind::Remove(_) | EventKind::Any => true,
        EventKind::Modify(modify) => !matches!(modify, ModifyKind::Metadata(_)),
        EventKind::Access(access) => matches!(access, AccessKind::Close(AccessMode::Write)),
        EventKind::Other => false,
    }
}

#[cfg(test)]
mod tests {
    use notify::event::{CreateKind, DataChange, MetadataKind, RenameMode};

    use super::*;

    #[test]
    fn reads_of_refs_do_not_count_as_moves() {
        for kind in [
            EventKind::Access(AccessKind::Open(AccessMode::Any)),
            EventKind::Access(AccessKind::Read),
            EventKind::Access(AccessKind::Close(AccessMode::Read)),
            EventKind::Modify(ModifyKind::Metadata(MetadataKind::AccessTime)),
            EventKind::Other,
        ] {
            assert!(!moves_refs(&kind), "{kind:?} is not a change");
        }
    }

    #[test]
    fn writes_renames_and_removals_of_refs_count_as_moves() {
        for kind in [
            EventKind::Create(CreateKind::File),
            EventKind::Modify(ModifyKind::Data(DataChange::Content)),
            EventKind::Modify(ModifyKind::Name(RenameMode::To)),
            EventKind::Access(AccessKind::Close(AccessMode::Write)),
            EventKind::Remove(notify::event::RemoveKind::File),
        ] {
            assert!(moves_refs(&kind), "{kind:?} is a change");
        }
    }
}
