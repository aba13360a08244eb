//! Notices changes to the files the proxy reads (snapshot, certificate, key, CA bundle).
//! Directories are watched rather than files, because the usual way to replace a file
//! atomically — write a temporary file and rename it — replaces the inode a file watch
//! would be attached to.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc;

/// Keeps the OS watch alive; `changed` wakes up after any change to a watched file.
pub struct FileWatch {
    _watcher: RecommendedWatcher,
    events: mpsc::Receiver<()>,
}

impl FileWatch {
    pub fn new(files: &[&Path]) -> notify::Result<Self> {
        let files: Vec<PathBuf> = files.iter().map(|file| absolute(file)).collect();
        let directories: BTreeSet<PathBuf> = files
            .iter()
            .filter_map(|file| file.parent().map(Path::to_path_buf))
            .collect();
        // One slot is enough: a pending wake-up already means "look again".
        let (sender, events) = mpsc::channel(1);
        let watched = files.clone();
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                let relevant = match &event {
                    // Opening and reading a file are events too; the proxy's own reads must
                    // not wake it up again.
                    Ok(event) if event.kind.is_access() || event.kind.is_other() => false,
                    Ok(event) => {
                        event.paths.is_empty()
                            || event
                                .paths
                                .iter()
                                .any(|path| watched.contains(path) || swaps_volume(path))
                    }
                    Err(_) => true,
                };
                if relevant {
                    let _ = sender.try_send(());
                }
            })?;
        for directory in &directories {
            watcher.watch(directory, RecursiveMode::NonRecursive)?;
        }
        Ok(Self {
            _watcher: watcher,
            events,
        })
    }

    /// Resolves at the next change (or never, if the watcher stopped).
    pub async fn changed(&mut self) {
        if self.events.recv().await.is_none() {
            std::future::pending::<()>().await;
        }
    }
}

/// Kubernetes updates a Secret or ConfigMap volume by renaming a `..data` symlink to a
/// new timestamped directory: the files themselves (symlinks through `..data`) see no
/// event of their own.
fn swaps_volume(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|name| name.to_string_lossy().starts_with(".."))
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}
