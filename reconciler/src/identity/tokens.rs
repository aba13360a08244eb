//! Bootstrap tokens: how a proxy proves its identity, and the services it may serve, in
//! local mode.
//!
//! A token is `mcd_<id>_<secret>`; only the SHA-256 of the secret is stored, in
//! `tokens.json` under the state directory (mode 0600), with the identity, the services
//! the holder may serve and the expiry. Every check looks at the file (and reads it again
//! when it changed), so `meshcd token revoke` takes effect at once on a running reconciler. Updates hold an advisory lock on
//! `tokens.json.lock` and replace the file by a rename, so concurrent `create`/`revoke`
//! never lose each other's record and a reader never sees half a file.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq as _;

use crate::model::Identity;

const TOKENS_FILE: &str = "tokens.json";
const LOCK_FILE: &str = "tokens.json.lock";

/// How long a token proves its identity unless `--ttl` says otherwise.
pub const DEFAULT_TTL: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("reading or writing {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a token store")]
    Corrupt {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("no token {0}")]
    Unknown(String),
    #[error("a token names at least one service its holder may serve")]
    NoService,
    #[error("refusing the token store")]
    Exposed(#[from] crate::identity::private_file::PrivateFileError),
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TokenRecord {
    pub id: String,
    pub namespace: String,
    pub service_account: String,
    /// Hex SHA-256 of the secret part.
    pub secret_sha256: String,
    /// The services the holder may serve. Records written before tokens named them have
    /// none, and with no `expires_at` they are refused (see [`Verdict::Outdated`]).
    #[serde(default)]
    pub services: Vec<String>,
    /// Unix seconds after which the token proves nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
}

impl TokenRecord {
    /// The expiry as RFC 3339, or `never (outdated token)` for records without one.
    pub fn expiry(&self) -> String {
        self.expires_at
            .map_or_else(|| "never (outdated token)".to_string(), rfc3339)
    }
}

/// What a token proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub identity: Identity,
    /// The services its holder may serve.
    pub services: Vec<String>,
}

/// The answer to a presented token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Valid(Grant),
    /// The secret matched but the token expired at the given time (RFC 3339).
    Expired(String),
    /// The secret matched a record from before tokens expired and named services: it is
    /// refused rather than trusted for ever with any service.
    Outdated(String),
    /// Unknown, revoked or forged: nothing more is said.
    Invalid,
}

pub struct TokenStore {
    path: PathBuf,
    lock: PathBuf,
    /// The records by id as last read, and the file they were read from: a fleet's
    /// joins cost a `stat` each, not a parse of every token.
    cache: std::sync::Mutex<Option<(FileStamp, ById)>>,
}

/// Token records by id.
type ById = Arc<HashMap<String, TokenRecord>>;

/// What tells one version of the store file from another: updates replace it by a
/// rename, so a new inode at least.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileStamp {
    device: u64,
    inode: u64,
    len: u64,
    modified: (i64, i64),
    changed: (i64, i64),
}

impl TokenStore {
    pub fn new(state_dir: &Path) -> Self {
        TokenStore {
            path: state_dir.join(TOKENS_FILE),
            lock: state_dir.join(LOCK_FILE),
            cache: std::sync::Mutex::new(None),
        }
    }

    /// The file the tokens are kept in.
    pub fn file(&self) -> &Path {
        &self.path
    }

    /// Fails when group or others may read or write the store (a missing one passes):
    /// whoever can write it mints identities, whoever can read it learns which exist.
    pub fn ensure_private(&self) -> Result<(), TokenError> {
        Ok(super::private_file::ensure_private_if_present(&self.path)?)
    }

    pub fn list(&self) -> Result<Vec<TokenRecord>, TokenError> {
        // Checked at every read, not only at start.
        self.ensure_private()?;
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|source| TokenError::Corrupt {
                path: self.path.clone(),
                source,
            }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(source) => Err(io(&self.path, source)),
        }
    }

    /// Creates a token for `identity` to serve `services` until `ttl` from now, and
    /// returns it; it is never shown again.
    pub fn create(
        &self,
        identity: &Identity,
        services: &[String],
        ttl: Duration,
    ) -> Result<(TokenRecord, String), TokenError> {
        let (record, token) = new_token(identity, services, ttl)?;
        self.update(|records| {
            records.push(record.clone());
            Ok(())
        })?;
        Ok((record, token))
    }

    /// [`TokenStore::create`] for many identities in one update of the store (a fleet
    /// provisioned at once).
    pub fn create_all(
        &self,
        grants: &[(Identity, Vec<String>)],
        ttl: Duration,
    ) -> Result<Vec<(TokenRecord, String)>, TokenError> {
        let created = grants
            .iter()
            .map(|(identity, services)| new_token(identity, services, ttl))
            .collect::<Result<Vec<_>, _>>()?;
        self.update(|records| {
            records.extend(created.iter().map(|(record, _)| record.clone()));
            Ok(())
        })?;
        Ok(created)
    }

    /// Revokes by token id or by the whole token.
    pub fn revoke(&self, id_or_token: &str) -> Result<TokenRecord, TokenError> {
        let id = parse(id_or_token).map_or(id_or_token, |(id, _)| id);
        self.update(|records| {
            let position = records
                .iter()
                .position(|record| record.id == id)
                .ok_or_else(|| TokenError::Unknown(id.to_string()))?;
            Ok(records.remove(position))
        })
    }

    /// What a token proves now.
    pub fn verify(&self, token: &str) -> Result<Verdict, TokenError> {
        self.verify_at(token, SystemTime::now())
    }

    fn verify_at(&self, token: &str, now: SystemTime) -> Result<Verdict, TokenError> {
        let Some((id, secret)) = parse(token) else {
            return Ok(Verdict::Invalid);
        };
        let digest = hex::encode(Sha256::digest(secret.as_bytes()));
        let records = self.by_id()?;
        let Some(record) = records
            .get(id)
            .filter(|record| bool::from(record.secret_sha256.as_bytes().ct_eq(digest.as_bytes())))
        else {
            return Ok(Verdict::Invalid);
        };
        let record = record.clone();
        Ok(match record.expires_at {
            None => Verdict::Outdated(record.id),
            Some(at) if unix_seconds(now) >= at => Verdict::Expired(rfc3339(at)),
            Some(_) => Verdict::Valid(Grant {
                identity: Identity {
                    namespace: record.namespace,
                    service_account: record.service_account,
                },
                services: record.services,
            }),
        })
    }

    /// The records by id, read again only when the file changed, so a revocation still
    /// takes effect at the next check.
    fn by_id(&self) -> Result<ById, TokenError> {
        use std::os::unix::fs::MetadataExt as _;
        self.ensure_private()?;
        let stamp = match std::fs::metadata(&self.path) {
            Ok(metadata) => Some(FileStamp {
                device: metadata.dev(),
                inode: metadata.ino(),
                len: metadata.len(),
                modified: (metadata.mtime(), metadata.mtime_nsec()),
                changed: (metadata.ctime(), metadata.ctime_nsec()),
            }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => return Err(io(&self.path, source)),
        };
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let (Some(stamp), Some((cached, records))) = (&stamp, cache.as_ref())
            && stamp == cached
        {
            return Ok(records.clone());
        }
        let records: ById = Arc::new(
            self.list()?
                .into_iter()
                .map(|record| (record.id.clone(), record))
                .collect(),
        );
        *cache = stamp.map(|stamp| (stamp, records.clone()));
        Ok(records)
    }

    /// Reads, changes and writes the records under the store's lock.
    fn update<T>(
        &self,
        change: impl FnOnce(&mut Vec<TokenRecord>) -> Result<T, TokenError>,
    ) -> Result<T, TokenError> {
        if let Some(parent) = self.path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| io(parent, source))?;
        }
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&self.lock)
            .map_err(|source| io(&self.lock, source))?;
        // Released when `lock` is dropped, also when `change` fails.
        lock.lock().map_err(|source| io(&self.lock, source))?;
        let mut records = self.list()?;
        let result = change(&mut records)?;
        self.save(&records)?;
        Ok(result)
    }

    fn save(&self, records: &[TokenRecord]) -> Result<(), TokenError> {
        let text = serde_json::to_string_pretty(records).unwrap_or_default();
        super::private_file::write(&self.path, &text).map_err(|source| io(&self.path, source))
    }
}

fn new_token(
    identity: &Identity,
    services: &[String],
    ttl: Duration,
) -> Result<(TokenRecord, String), TokenError> {
    if services.is_empty() {
        return Err(TokenError::NoService);
    }
    let mut id_bytes = [0u8; 6];
    let mut secret_bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut id_bytes);
    rand::rng().fill_bytes(&mut secret_bytes);
    let id = hex::encode(id_bytes);
    let secret = hex::encode(secret_bytes);
    let mut services = services.to_vec();
    services.sort();
    services.dedup();
    let record = TokenRecord {
        id: id.clone(),
        namespace: identity.namespace.clone(),
        service_account: identity.service_account.clone(),
        secret_sha256: hex::encode(Sha256::digest(secret.as_bytes())),
        services,
        expires_at: Some(unix_seconds(SystemTime::now() + ttl)),
    };
    Ok((record, format!("mcd_{id}_{secret}")))
}

fn io(path: &Path, source: std::io::Error) -> TokenError {
    TokenError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn unix_seconds(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

fn rfc3339(unix_seconds: u64) -> String {
    time::OffsetDateTime::from_unix_timestamp(i64::try_from(unix_seconds).unwrap_or(i64::MAX))
        .ok()
        .and_then(|at| {
            at.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("unix time {unix_seconds}"))
}

fn parse(token: &str) -> Option<(&str, &str)> {
    let rest = token.strip_prefix("mcd_")?;
    let (id, secret) = rest.split_once('_')?;
    (!id.is_empty() && !secret.is_empty()).then_some((id, secret))
}

#[cfg(test)]
#[path = "tokens_tests.rs"]
mod tests;
