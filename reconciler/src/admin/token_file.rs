//! The local admin token: `meshcd run` keeps it in `<state-dir>/admin-token` (mode 0600)
//! and the CLI reads it from there by default, as kubectl reads its kubeconfig.

use std::fmt;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};

use rand::RngCore as _;

use crate::identity::private_file;

/// The file's name inside the state directory.
pub const FILE_NAME: &str = "admin-token";
/// Marks an admin token, so that a leaked one is recognised (and told from a proxy's
/// bootstrap token, `mcd_`).
const PREFIX: &str = "mcda_";

/// The admin API's bearer token in local mode. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminToken(String);

impl AdminToken {
    /// 256 random bits.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        AdminToken(format!("{PREFIX}{}", hex::encode(bytes)))
    }

    /// A token as a file holds it: one word, surrounding whitespace ignored.
    pub fn from_text(text: &str) -> Option<Self> {
        let token = text.trim();
        (!token.is_empty() && !token.contains(char::is_whitespace))
            .then(|| AdminToken(token.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AdminToken([redacted])")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TokenFileError {
    #[error("reading the admin token file {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the admin token file {path} holds no token")]
    Empty { path: PathBuf },
    #[error("writing the admin token file {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// `<state-dir>/admin-token`.
pub fn path(state_dir: &Path) -> PathBuf {
    state_dir.join(FILE_NAME)
}

/// What [`load_or_create`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The file of an earlier start was safe and is kept: CLI sessions survive restarts.
    Reused,
    /// There was none.
    Created,
    /// The file was readable by others, or not a plain file of ours: anyone may have
    /// read it, so it is replaced.
    Replaced,
}

/// The token of an earlier start when its file is a regular file of this user that
/// nobody else can read or write; otherwise a new token, written atomically at 0600.
pub fn load_or_create(state_dir: &Path) -> Result<(AdminToken, Origin), TokenFileError> {
    let file = path(state_dir);
    let origin = match std::fs::symlink_metadata(&file) {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Origin::Created,
        Err(source) => return Err(TokenFileError::Read { path: file, source }),
        Ok(metadata) => {
            let ours = metadata.file_type().is_file()
                && Some(metadata.uid()) == state_owner(state_dir)
                && private_file::is_private(&metadata);
            if ours && let Ok(token) = read(&file) {
                return Ok((token, Origin::Reused));
            }
            Origin::Replaced
        }
    };
    let token = AdminToken::generate();
    write(&file, &token)?;
    Ok((token, origin))
}

/// Reads a token file (the state directory's, or `--admin-token-file`).
pub fn read(file: &Path) -> Result<AdminToken, TokenFileError> {
    let text = std::fs::read_to_string(file).map_err(|source| TokenFileError::Read {
        path: file.to_path_buf(),
        source,
    })?;
    AdminToken::from_text(&text).ok_or_else(|| TokenFileError::Empty {
        path: file.to_path_buf(),
    })
}

/// The owner of the state directory: meshcd made it, so a token file owned by anyone
/// else was put there by someone else.
fn state_owner(state_dir: &Path) -> Option<u32> {
    std::fs::metadata(state_dir)
        .ok()
        .map(|metadata| metadata.uid())
}

/// Written atomically at 0600, so no reader ever sees a partial token and a symlink
/// planted at the path is replaced, not followed.
fn write(file: &Path, token: &AdminToken) -> Result<(), TokenFileError> {
    private_file::write(file, &format!("{}\n", token.expose())).map_err(|source| {
        TokenFileError::Write {
            path: file.to_path_buf(),
            source,
        }
    })
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    fn mode(file: &Path) -> u32 {
        std::fs::metadata(file).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_new_token_is_written_only_its_owner_can_read_and_reused_at_the_next_start() {
        let state = tempfile::tempdir().unwrap();
        let (first, origin) = load_or_create(state.path()).unwrap();
        assert_eq!(origin, Origin::Created);
        assert!(first.expose().starts_with(PREFIX));
        assert_eq!(mode(&path(state.path())), 0o600);
        assert_eq!(read(&path(state.path())).unwrap(), first);

        let (second, origin) = load_or_create(state.path()).unwrap();
        assert_eq!((second, origin), (first, Origin::Reused));
    }

    #[test]
    fn a_token_file_others_can_read_is_replaced_with_a_new_private_one() {
        let state = tempfile::tempdir().unwrap();
        let (first, _) = load_or_create(state.path()).unwrap();
        std::fs::set_permissions(path(state.path()), std::fs::Permissions::from_mode(0o644))
            .unwrap();
        let (second, origin) = load_or_create(state.path()).unwrap();
        assert_eq!(origin, Origin::Replaced);
        assert_ne!(second, first);
        assert_eq!(mode(&path(state.path())), 0o600);
    }

    #[test]
    fn a_symlink_at_the_path_is_replaced_and_its_target_left_alone() {
        let state = tempfile::tempdir().unwrap();
        let elsewhere = state.path().join("elsewhere");
        std::fs::write(&elsewhere, "planted\n").unwrap();
        std::os::unix::fs::symlink(&elsewhere, path(state.path())).unwrap();
        let (token, origin) = load_or_create(state.path()).unwrap();
        assert_eq!(origin, Origin::Replaced);
        assert_ne!(token.expose(), "planted");
        assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "planted\n");
    }

    #[test]
    fn the_debug_form_never_shows_the_token() {
        let token = AdminToken::generate();
        assert!(!format!("{token:?}").contains(token.expose()));
    }
}
