//! Secret files (the CA key, the token store, the admin token) are private to their
//! owner: meshcd writes them so that they never sit in a file others can read and, like
//! ssh with a private key, refuses to read one that group or others can read or write,
//! naming the fix.

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

/// Whether these permissions grant group and others nothing.
pub fn is_private(metadata: &std::fs::Metadata) -> bool {
    metadata.permissions().mode() & GROUP_AND_OTHERS == 0
}

/// Writes a secret readable by its owner only. The text goes to a new file (created
/// 0600, never through a symlink) that then replaces `path`: whatever mode or link was at
/// `path` before, the secret never sits in a file others can read, and a reader never
/// sees half of it.
pub fn write(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = path.with_file_name(format!(
        ".{name}.{}.{:08x}.tmp",
        std::process::id(),
        rand::random::<u32>()
    ));
    // O_EXCL: fails on any existing name, a symlink included.
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temporary)?;
    let written = file
        .write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .and_then(|()| std::fs::rename(&temporary, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

/// Fails unless `path` grants group and others nothing.
pub fn ensure_private(path: &Path) -> Result<(), PrivateFileError> {
    let metadata = std::fs::metadata(path).map_err(|source| PrivateFileError::Metadata {
        path: path.to_path_buf(),
        source,
    })?;
    if !is_private(&metadata) {
        return Err(PrivateFileError::Exposed {
            path: path.display().to_string(),
            mode: metadata.permissions().mode() & 0o7777,
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
