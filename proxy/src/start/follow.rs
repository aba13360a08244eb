//! Keeps the stores current for as long as the proxy runs: watches the snapshot and
//! certificate files, or holds the control-plane stream. Only a change wakes it.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use super::StartError;
use super::source::{Joined, Source};
use super::stores::Stores;
use crate::shutdown::Drain;
use crate::{join, watch};

/// Changes arriving this close together are applied once (an editor's or a test's
/// several writes to one file).
const SETTLE: Duration = Duration::from_millis(50);

/// Starts following `source` in the background; a joined proxy returns once its first
/// snapshot is applied.
pub async fn follow(
    source: &Source,
    joined: Option<Joined>,
    stores: Arc<Stores>,
    drain: Drain,
) -> Result<JoinHandle<()>, StartError> {
    match (source, joined) {
        (
            Source::Files {
                snapshot,
                certificate,
                key,
                ca_bundle,
            },
            _,
        ) => {
            let files = watch::FileWatch::new(&[
                snapshot.as_path(),
                certificate.as_path(),
                key.as_path(),
                ca_bundle.as_path(),
            ])?;
            Ok(tokio::spawn(watch_files(files, stores, drain)))
        }
        (Source::Join(_), Some(joined)) => {
            let handle = join::start(joined.channel, joined.options, stores, joined.first).await?;
            Ok(handle)
        }
        (Source::Join(_), None) => unreachable!("a joined proxy always has its first certificate"),
    }
}

async fn watch_files(mut files: watch::FileWatch, stores: Arc<Stores>, mut drain: Drain) {
    loop {
        tokio::select! {
            () = files.changed() => tokio::time::sleep(SETTLE).await,
            () = drain.signaled() => return,
        }
        stores.reload_files();
    }
}
