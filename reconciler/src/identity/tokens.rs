//! Bootstrap tokens: how a proxy proves its identity in local mode.
//!
//! A token is `mcd_<id>_<secret>`; only the SHA-256 of the secret is stored, in
//! `tokens.json` under the state directory (mode 0600). The file is read on every check,
//! so `meshcd token revoke` takes effect at once on a running reconciler.

use std::path::{Path, PathBuf};

use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq as _;

use crate::model::Identity;

const TOKENS_FILE: &str = "tokens.json";

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("reading or writing {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a token store: {source}")]
    Corrupt {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("no token {0}")]
    Unknown(String),
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TokenRecord {
    pub id: String,
    pub namespace: String,
    pub service_account: String,
    /// Hex SHA-256 of the secret part.
    pub secret_sha256: String,
}

pub struct TokenStore {
    path: PathBuf,
}

impl TokenStore {
    pub fn new(state_dir: &Path) -> Self {
        TokenStore {
            path: state_dir.join(TOKENS_FILE),
        }
    }

    /// The store's file (it may not exist yet).
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn list(&self) -> Result<Vec<TokenRecord>, TokenError> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|source| TokenError::Corrupt {
                path: self.path.clone(),
                source,
            }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(source) => Err(TokenError::Io {
                path: self.path.clone(),
                source,
            }),
        }
    }

    fn save(&self, records: &[TokenRecord]) -> Result<(), TokenError> {
        if let Some(parent) = self.path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| TokenError::Io {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let text = serde_json::to_string_pretty(records).unwrap_or_default();
        // Write then rename, so a concurrent reader never sees half a file.
        let temporary = self.path.with_extension("json.tmp");
        crate::identity::ca::write_private(&temporary, &text).map_err(|error| TokenError::Io {
            path: temporary.clone(),
            source: std::io::Error::other(error.to_string()),
        })?;
        std::fs::rename(&temporary, &self.path).map_err(|source| TokenError::Io {
            path: self.path.clone(),
            source,
        })
    }

    /// Creates a token for `identity` and returns it; it is never shown again.
    pub fn create(&self, identity: &Identity) -> Result<(TokenRecord, String), TokenError> {
        let mut id_bytes = [0u8; 6];
        let mut secret_bytes = [0u8; 24];
        rand::rng().fill_bytes(&mut id_bytes);
        rand::rng().fill_bytes(&mut secret_bytes);
        let id = hex::encode(id_bytes);
        let secret = hex::encode(secret_bytes);
        let record = TokenRecord {
            id: id.clone(),
            namespace: identity.namespace.clone(),
            service_account: identity.service_account.clone(),
            secret_sha256: hex::encode(Sha256::digest(secret.as_bytes())),
        };
        let mut records = self.list()?;
        records.push(record.clone());
        self.save(&records)?;
        Ok((record, format!("mcd_{id}_{secret}")))
    }

    /// Revokes by token id or by the whole token.
    pub fn revoke(&self, id_or_token: &str) -> Result<TokenRecord, TokenError> {
        let id = parse(id_or_token).map_or(id_or_token, |(id, _)| id);
        let mut records = self.list()?;
        let position = records
            .iter()
            .position(|record| record.id == id)
            .ok_or_else(|| TokenError::Unknown(id.to_string()))?;
        let removed = records.remove(position);
        self.save(&records)?;
        Ok(removed)
    }

    /// The identity a token proves, if it is valid and not revoked.
    pub fn verify(&self, token: &str) -> Result<Option<Identity>, TokenError> {
        let Some((id, secret)) = parse(token) else {
            return Ok(None);
        };
        let digest = hex::encode(Sha256::digest(secret.as_bytes()));
        Ok(self.list()?.into_iter().find_map(|record| {
            let matches = record.id == id
                && bool::from(record.secret_sha256.as_bytes().ct_eq(digest.as_bytes()));
            matches.then_some(Identity {
                namespace: record.namespace,
                service_account: record.service_account,
            })
        }))
    }
}

fn parse(token: &str) -> Option<(&str, &str)> {
    let rest = token.strip_prefix("mcd_")?;
    let (id, secret) = rest.split_once('_')?;
    (!id.is_empty() && !secret.is_empty()).then_some((id, secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(namespace: &str, service_account: &str) -> Identity {
        Identity {
            namespace: namespace.into(),
            service_account: service_account.into(),
        }
    }

    #[test]
    fn a_token_proves_its_identity_until_revoked() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::new(dir.path());
        let (record, token) = store.create(&identity("shop", "api")).unwrap();
        assert_eq!(store.verify(&token).unwrap(), Some(identity("shop", "api")));
        let stored = std::fs::read_to_string(dir.path().join(TOKENS_FILE)).unwrap();
        assert!(
            !stored.contains(token.rsplit('_').next().unwrap()),
            "the secret is never stored"
        );
        store.revoke(&record.id).unwrap();
        assert_eq!(store.verify(&token).unwrap(), None);
    }

    #[test]
    fn a_forged_secret_proves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::new(dir.path());
        let (record, _) = store.create(&identity("shop", "api")).unwrap();
        assert_eq!(
            store
                .verify(&format!("mcd_{}_deadbeef", record.id))
                .unwrap(),
            None
        );
        assert_eq!(store.verify("garbage").unwrap(), None);
    }
}
