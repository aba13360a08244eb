//! One reconciler per state directory: two would share a CA, a token store and canary
//! progress, and both would commit canary outcomes to the same repository. The lock is
//! the OS's (flock on `STATE/lock`): it goes with the process, however that ends.

use std::io::{Read as _, Seek as _, Write as _};
use std::path::Path;

use anyhow::Context as _;

/// The lock's file in the state directory.
const LOCK_FILE: &str = "lock";

/// Held while the reconciler runs; dropping it releases the directory.
pub struct StateLock {
    _file: std::fs::File,
}

pub fn lock(state_dir: &Path) -> anyhow::Result<StateLock> {
    let path = state_dir.join(LOCK_FILE);
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            let holder = if holder.is_empty() {
                "another process".to_string()
            } else {
                format!("meshcd (pid {holder})")
            };
            anyhow::bail!(
                "state directory {} is in use by {holder}: stop it, or give this one another \
                 --state-dir",
                state_dir.display()
            );
        }
        Err(std::fs::TryLockError::Error(error)) => {
            return Err(error).with_context(|| format!("locking {}", path.display()));
        }
    }
    file.set_len(0)?;
    file.rewind()?;
    write!(file, "{}", std::process::id())?;
    file.flush()?;
    Ok(StateLock { _file: file })
}

/// Whether a reconciler holds `state_dir` now (its lock is taken).
pub fn is_held(state_dir: &Path) -> bool {
    let Ok(file) = std::fs::OpenOptions::new()
        .read(true)
        .open(state_dir.join(LOCK_FILE))
    else {
        return false;
    };
    matches!(
        file.try_lock_shared(),
        Err(std::fs::TryLockError::WouldBlock)
    )
}
