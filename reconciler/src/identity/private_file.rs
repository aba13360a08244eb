//! Secret files meshcd reads (the CA key, the token store) must be private to their
//! owner: like ssh with a private key, meshcd refuses one that group or others can
//! read or write, and names the fix.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

/// The permission bits of group and others.
const GROUP_AND_OTHERS: u32 = 0o077;

#[derive(Debug, thiserror::Error)]
pub enum PrivateFileError {
    #[error(
        "{path} is accessible by group or others (mode {mode:04o}): it holds a secret; run `chmod 600 {path}`"
    )]
    Exposed { path: String, mode: u32 },
    #[error("reading the permissions of {path}")]
    Metadata {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Fails unless `path` grants group and others nothing.
pub fn ensure_private(path: &Path) -> Result<(), PrivateFileError> {
    let metadata = std::fs::metadata(path).map_err(|source| PrivateFileError::Metadata {
        path: path.to_path_buf(),
        source,
    })?;
    let mode = metadata.permissions().mode() & 0o7777;
    if mode & GROUP_AND_OTHERS != 0 {
        return Err(PrivateFileError::Exposed {
            path: path.display().to_string(),
            mode,
        });
    }
    Ok(())
}

/// Like [`ensure_private`], and a file that does not exist yet passes.
pub fn ensure_private_if_present(path: &Path) -> Result<(), PrivateFileError> {
    match ensure_private(path) {
        Err(PrivateFileError::Metadata { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            Ok(())
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_with_mode(dir: &Path, mode: u32) -> PathBuf {
        let path = dir.join(format!("secret-{mode:o}"));
        std::fs::write(&path, "secret").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        path
    }

    #[test]
    fn a_file_only_its_owner_can_touch_passes() {
        let dir = tempfile::tempdir().unwrap();
        for mode in [0o600, 0o400, 0o700] {
            ensure_private(&file_with_mode(dir.path(), mode)).unwrap();
        }
        ensure_private_if_present(&dir.path().join("absent")).unwrap();
    }

    #[test]
    fn a_file_group_or_others_can_read_or_write_is_refused_naming_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        for mode in [0o644, 0o640, 0o604, 0o620, 0o602, 0o666] {
            let path = file_with_mode(dir.path(), mode);
            let error = ensure_private(&path).unwrap_err();
            let message = error.to_string();
            assert!(
                message.contains(&format!("(mode {mode:04o})"))
                    && message.contains(&format!("chmod 600 {}", path.display())),
                "{message}"
            );
        }
    }
}
