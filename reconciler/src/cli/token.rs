//! `meshcd token create|revoke|list`: bootstrap tokens for local-mode proxies.

use std::time::Duration;

use super::state_dir::StateDirArg;
use crate::identity::tokens::TokenStore;
use crate::model::Identity;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print a new token for one identity and the services its holder may serve (only
    /// its hash is stored).
    Create {
        /// The namespace of the identity the token proves.
        #[arg(long)]
        namespace: String,
        /// The service account of the identity the token proves.
        #[arg(long, default_value = "default")]
        service_account: String,
        /// A service the holder may serve (repeat for several; at least one).
        #[arg(long = "service", required = true)]
        services: Vec<String>,
        /// How long the token proves its identity (e.g. 30m, 24h).
        #[arg(long, default_value = "24h", value_parser = crate::validate::convert::units::parse_duration)]
        ttl: Duration,
        #[command(flatten)]
        state: StateDirArg,
    },
    /// Revoke a token by its id (or the whole token).
    Revoke {
        /// The token's id (as `token list` shows it), or the whole token.
        id: String,
        #[command(flatten)]
        state: StateDirArg,
    },
    /// List token ids, identities, services and expiry.
    List {
        #[command(flatten)]
        state: StateDirArg,
    },
}

pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Create {
            namespace,
            service_account,
            services,
            ttl,
            state,
        } => {
            let identity = Identity {
                namespace,
                service_account,
            };
            let (record, token) =
                TokenStore::new(&state.existing()?).create(&identity, &services, ttl)?;
            eprintln!(
                "token {} for {}/{} serving {} until {} (shown once)",
                record.id,
                record.namespace,
                record.service_account,
                record.services.join(","),
                record.expiry()
            );
            outln!("{token}");
        }
        Command::Revoke { id, state } => {
            let record = TokenStore::new(&state.existing()?).revoke(&id)?;
            outln!(
                "revoked token {} for {}/{}",
                record.id,
                record.namespace,
                record.service_account
            );
        }
        Command::List { state } => {
            for record in TokenStore::new(&state.existing()?).list()? {
                outln!(
                    "{}\t{}/{}\t{}\t{}",
                    record.id,
                    record.namespace,
                    record.service_account,
                    if record.services.is_empty() {
                        "-".to_string()
                    } else {
                        record.services.join(",")
                    },
                    record.expiry()
                );
            }
        }
    }
    Ok(())
}
