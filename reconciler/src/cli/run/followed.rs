//! The file in a state directory naming the local repository its reconciler follows, so
//! that `meshcd namespace add` commits where the reconciler looks.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::state_lock;
use crate::source::Source;
use crate::source::git::Reference;

const FOLLOWED_REPOSITORY: &str = "repository";

/// Records the folder `source` is read from (with `--path`), or removes the record when
/// nothing here can take a commit: a remote, or a pinned reference.
pub fn record(state_dir: &Path, source: &Source, subpath: Option<&Path>) -> anyhow::Result<()> {
    // Only a checked-out HEAD can take a commit where this reconciler reads.
    let local = source
        .local_path()
        .filter(|_| matches!(source.reference(), Reference::Head))
        .map(|root| match subpath {
            Some(sub) => root.join(sub),
            None => root.to_path_buf(),
        });
    let file = state_dir.join(FOLLOWED_REPOSITORY);
    // A folder that cannot be resolved (a --path not created yet) is not recorded.
    match local.and_then(|path| path.canonicalize().ok()) {
        Some(absolute) => std::fs::write(&file, absolute.as_os_str().as_encoded_bytes()),
        None => match std::fs::remove_file(&file) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error),
            _ => Ok(()),
        },
    }
    .with_context(|| format!("writing {}", file.display()))
}

/// The local repository folder the reconciler of `state_dir` follows, while it runs.
pub fn followed_repository(state_dir: &Path) -> Option<PathBuf> {
    if !state_lock::is_held(state_dir) {
        return None;
    }
    let text = std::fs::read_to_string(state_dir.join(FOLLOWED_REPOSITORY)).ok()?;
    let path = PathBuf::from(text.trim_end_matches('\n'));
    path.is_dir().then_some(path)
}
