//! How the CLI finds the admin API's bearer token: `--admin-token-file`, else the
//! `admin-token` file `meshcd run` keeps in its state directory (as kubectl finds its
//! kubeconfig).

use std::path::PathBuf;

use anyhow::Context as _;

use crate::admin::token_file::{self, AdminToken};

#[derive(Debug, Clone, clap::Args)]
pub struct TokenArgs {
    /// A file holding the admin API's bearer token (default: the state directory's
    /// `admin-token`). In Kubernetes mode, a Kubernetes token (`kubectl create token`).
    #[arg(long, env = "MESHCD_ADMIN_TOKEN_FILE")]
    pub admin_token_file: Option<PathBuf>,
    #[command(flatten)]
    pub state: super::state_dir::StateDirArg,
}

/// The token to send, and where it was looked for (named when the reconciler says 401).
#[derive(Debug, Clone)]
pub struct Credentials {
    pub token: Option<AdminToken>,
    pub looked_at: PathBuf,
}

impl Credentials {
    /// The token in `file`, which must be readable.
    pub fn from_file(file: PathBuf) -> Result<Credentials, token_file::TokenFileError> {
        Ok(Credentials {
            token: Some(token_file::read(&file)?),
            looked_at: file,
        })
    }
}

impl TokenArgs {
    /// A file named with `--admin-token-file` must be readable; the state directory's
    /// may be missing (another machine's reconciler, a Kubernetes one): the request is
    /// then sent without a token and a 401 says where the CLI looked.
    pub fn credentials(&self) -> anyhow::Result<Credentials> {
        if let Some(file) = &self.admin_token_file {
            return Credentials::from_file(file.clone()).context("--admin-token-file");
        }
        let file = token_file::path(&self.state.locate().path);
        let token = match token_file::read(&file) {
            Ok(token) => Some(token),
            Err(token_file::TokenFileError::Read { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                None
            }
            Err(error) => return Err(error.into()),
        };
        Ok(Credentials {
            token,
            looked_at: file,
        })
    }
}
