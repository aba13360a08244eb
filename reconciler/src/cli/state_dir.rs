//! Which state directory a command uses, found the way kubectl finds its config: the
//! `--state-dir` flag (or `MESHCD_STATE_DIR`), else the nearest `.meshcd` in the working
//! directory or above it (as git finds `.git`), else one per user under
//! `$XDG_STATE_HOME/meshcd` (`~/.local/state/meshcd`). So `meshcd token create` in any
//! folder reaches the reconciler `meshcd up` started, instead of a new empty state.

use std::path::{Path, PathBuf};

use anyhow::bail;

use crate::defaults;

#[derive(Debug, Clone, clap::Args)]
pub struct StateDirArg {
    /// The reconciler's state directory: CA key, bootstrap-token hashes, admin token
    /// (default: the nearest .meshcd here or above, else ~/.local/state/meshcd).
    #[arg(long = "state-dir", env = "MESHCD_STATE_DIR", value_name = "DIR")]
    pub named: Option<PathBuf>,
}

/// How the directory was found, said when it is created or missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    Named,
    Upward,
    PerUser,
    /// No home to speak of: `.meshcd` in the working directory.
    Here,
}

#[derive(Debug, Clone)]
pub struct StateDir {
    pub path: PathBuf,
    pub found: Found,
}

impl StateDirArg {
    pub fn locate(&self) -> StateDir {
        locate(
            self.named.as_deref(),
            &std::env::current_dir().unwrap_or_default(),
            per_user(),
        )
    }

    /// The directory of a command that serves (`run`, `up`): created when missing,
    /// and then named on the terminal, since every later command must find it.
    pub fn for_serving(&self) -> anyhow::Result<PathBuf> {
        let state = self.locate();
        if !state.path.is_dir() {
            // Private from the start: it holds the CA key, the token store and clones of
            // the config repository.
            std::os::unix::fs::DirBuilderExt::mode(
                std::fs::DirBuilder::new().recursive(true),
                0o700,
            )
            .create(&state.path)
            .map_err(|error| {
                anyhow::anyhow!("creating state directory {}: {error}", state.path.display())
            })?;
            eprintln!(
                "meshcd: new state directory {} (CA key, tokens, admin token){}",
                state.path.display(),
                match state.found {
                    Found::Named => "",
                    _ => "; other meshcd commands find it from here, or pass --state-dir",
                }
            );
        }
        Ok(state.path)
    }

    /// The directory of a command that only reads or adds to a reconciler's state
    /// (`token`): it must exist, or the command would write where no reconciler looks.
    pub fn existing(&self) -> anyhow::Result<PathBuf> {
        let state = self.locate();
        if state.path.is_dir() {
            return Ok(state.path);
        }
        match state.found {
            Found::Named => bail!(
                "no state directory at {} (from --state-dir or MESHCD_STATE_DIR): name the one \
                 the reconciler uses (`meshcd run` prints it when it creates it)",
                state.path.display()
            ),
            found => bail!(
                "no meshcd state found: no {} in {} or above{}; start a reconciler first \
                 (`meshcd up`), or pass --state-dir (MESHCD_STATE_DIR) naming its state \
                 directory",
                defaults::STATE_DIR,
                std::env::current_dir().unwrap_or_default().display(),
                match found {
                    Found::Here => " (and no HOME for a per-user one)".to_string(),
                    _ => format!(", and no {}", state.path.display()),
                }
            ),
        }
    }
}

fn locate(named: Option<&Path>, cwd: &Path, per_user: Option<PathBuf>) -> StateDir {
    if let Some(path) = named {
        return StateDir {
            path: path.to_path_buf(),
            found: Found::Named,
        };
    }
    if let Some(path) = cwd
        .ancestors()
        .map(|folder| folder.join(defaults::STATE_DIR))
        .find(|candidate| is_ours(candidate))
    {
        return StateDir {
            path,
            found: Found::Upward,
        };
    }
    match per_user {
        Some(path) => StateDir {
            path,
            found: Found::PerUser,
        },
        // No home to speak of (a bare container): the working directory, as before.
        None => StateDir {
            path: cwd.join(defaults::STATE_DIR),
            found: Found::Here,
        },
    }
}

/// A `.meshcd` found above the working directory is used only when it is a directory of
/// this user that nobody else may write (as git's `safe.directory`): one planted in a
/// shared folder (`/tmp/.meshcd`) would receive this user's clones and steer its commits.
fn is_ours(candidate: &Path) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    let Ok(metadata) = std::fs::metadata(candidate) else {
        return false;
    };
    // /proc/self belongs to the process's effective user.
    let Ok(me) = std::fs::metadata("/proc/self").map(|own| own.uid()) else {
        return false;
    };
    metadata.is_dir() && metadata.uid() == me && metadata.mode() & 0o022 == 0
}

/// `$XDG_STATE_HOME/meshcd`, else `$HOME/.local/state/meshcd` (XDG Base Directory; a
/// relative `XDG_STATE_HOME` is ignored, as the specification says).
fn per_user() -> Option<PathBuf> {
    let non_empty = |name| std::env::var_os(name).filter(|value| !value.is_empty());
    non_empty("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|path| path.is_absolute())
        .or_else(|| non_empty("HOME").map(|home| Path::new(&home).join(".local/state")))
        .map(|base| base.join("meshcd"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_named_directory_wins_over_any_found_one() {
        let world = tempfile::tempdir().unwrap();
        std::fs::create_dir(world.path().join(".meshcd")).unwrap();
        let named = world.path().join("mine");
        let state = locate(Some(&named), world.path(), None);
        assert_eq!((state.path, state.found), (named, Found::Named));
    }

    #[test]
    fn the_nearest_dot_meshcd_above_the_working_directory_is_found() {
        let world = tempfile::tempdir().unwrap();
        std::fs::create_dir(world.path().join(".meshcd")).unwrap();
        let deep = world.path().join("a/b");
        std::fs::create_dir_all(&deep).unwrap();
        let state = locate(None, &deep, Some(world.path().join("user")));
        assert_eq!(
            (state.path, state.found),
            (world.path().join(".meshcd"), Found::Upward)
        );
    }

    #[test]
    fn a_dot_meshcd_others_may_write_is_passed_over() {
        use std::os::unix::fs::PermissionsExt as _;
        let world = tempfile::tempdir().unwrap();
        let planted = world.path().join(".meshcd");
        std::fs::create_dir(&planted).unwrap();
        std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(0o777)).unwrap();
        let state = locate(None, world.path(), Some(world.path().join("user")));
        assert_eq!(state.path, world.path().join("user"));
    }

    #[test]
    fn without_one_the_per_user_directory_is_used() {
        let world = tempfile::tempdir().unwrap();
        let state = locate(None, world.path(), Some(world.path().join("user")));
        assert_eq!(
            (state.path, state.found),
            (world.path().join("user"), Found::PerUser)
        );
    }
}
