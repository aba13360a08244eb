//! `meshcd token create|revoke|list`: bootstrap tokens for local-mode proxies.

use std::path::PathBuf;

use crate::defaults;
use crate::identity::tokens::TokenStore;
use crate::model::Identity;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print a new token for one identity (only its hash is stored).
    Create {
        #[arg(long)]
        namespace: String,
        #[arg(long, default_value = "default")]
        service_account: String,
        #[arg(long, default_value = defaults::STATE_DIR, env = "MESHCD_STATE_DIR")]
        state_dir: PathBuf,
    },
    /// Revoke a token by its id (or the whole token).
    Revoke {
        id: String,
        #[arg(long, default_value = defaults::STATE_DIR, env = "MESHCD_STATE_DIR")]
        state_dir: PathBuf,
    },
    /// List token ids and identities.
    List {
        #[arg(long, default_value = defaults::STATE_DIR, env = "MESHCD_STATE_DIR")]
        state_dir: PathBuf,
    },
}

pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Create {
            namespace,
            service_account,
            state_dir,
        } => {
            let (record, token) = TokenStore::new(&state_dir).create(&Identity {
                namespace,
                service_account,
            })?;
            eprintln!(
                "token {} for {}/{} (shown once)",
                record.id, record.namespace, record.service_account
            );
            println!("{token}");
        }
        Command::Revoke { id, state_dir } => {
            let record = TokenStore::new(&state_dir).revoke(&id)?;
            println!(
                "revoked token {} for {}/{}",
                record.id, record.namespace, record.service_account
            );
        }
        Command::List { state_dir } => {
            for record in TokenStore::new(&state_dir).list()? {
                println!(
                    "{}\t{}/{}",
                    record.id, record.namespace, record.service_account
                );
            }
        }
    }
    Ok(())
}
