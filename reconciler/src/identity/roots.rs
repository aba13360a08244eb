//! The mesh's roots of trust in force: the MeshRootCertificates of the applied config,
//! resolved into the CAs behind them (their keys made and kept here, or read from an
//! operator's files), with the root that issues and the bundle every proxy trusts.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use meshcd_schemas::proto;
use sha2::{Digest, Sha256};

use super::ca::{CaError, CertificateAuthority};
use crate::model::{MeshRootCertificate, RootRole, RootSource};

/// The name of meshcd's own CA (`tresor` with this Secret), the one a mesh has before
/// any MeshRootCertificate: in local mode `ca.crt`/`ca.key` of the state directory.
pub const DEFAULT_ROOT: &str = "meshcd-ca";

#[derive(Debug, thiserror::Error)]
pub enum RootError {
    #[error("MeshRootCertificate {namespace}/{name}")]
    Ca {
        namespace: String,
        name: String,
        #[source]
        source: CaError,
    },
    #[error(
        "MeshRootCertificate {namespace}/{name} names Secret {secret_namespace}/{secret}: in Kubernetes mode meshcd keeps only its default CA's Secret ({DEFAULT_ROOT}); bring a second root as an intermediate CA from files"
    )]
    ClusterRoot {
        namespace: String,
        name: String,
        secret_namespace: String,
        secret: String,
    },
    #[error(
        "MeshRootCertificate {namespace}/{name} names Secret {secret_namespace}/{secret}: meshcd reads an intermediate CA from files only; mount the Secret into the reconciler and give certificateFile, keyFile and chainFile"
    )]
    IntermediateSecret {
        namespace: String,
        name: String,
        secret_namespace: String,
        secret: String,
    },
}

/// One trusted root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Root {
    /// `namespace/name` of its MeshRootCertificate, or [`DEFAULT_ROOT`].
    pub name: String,
    /// SHA-256 (hex) of its DER: how proxies name it.
    pub fingerprint: String,
    pub pem: String,
}

/// The roots in force and the CA that issues.
pub struct Trust {
    /// Trusted roots (active and passive), the issuing one first.
    pub roots: Vec<Root>,
    pub issuer: Arc<CertificateAuthority>,
}

impl Trust {
    /// Only the CA the mesh was started with.
    pub fn single(ca: Arc<CertificateAuthority>) -> Trust {
        Trust {
            roots: vec![root(DEFAULT_ROOT.to_string(), ca.anchor_pem())],
            issuer: ca,
        }
    }

    /// The fingerprint of the root that issues.
    pub fn issuing(&self) -> &str {
        &self.roots[0].fingerprint
    }

    pub fn bundle_pem(&self) -> String {
        self.roots.iter().map(|root| root.pem.as_str()).collect()
    }

    /// What proxies are sent.
    pub fn message(&self) -> proto::TrustBundle {
        proto::TrustBundle {
            roots_pem: self.bundle_pem(),
            issuing_root: self.issuing().to_string(),
        }
    }

    /// The name of the root with this fingerprint, if trusted.
    pub fn name_of(&self, fingerprint: &str) -> Option<&str> {
        self.roots
            .iter()
            .find(|root| root.fingerprint == fingerprint)
            .map(|root| root.name.as_str())
    }
}

fn root(name: String, pem: &str) -> Root {
    Root {
        fingerprint: fingerprint(pem),
        name,
        pem: if pem.ends_with('\n') {
            pem.to_string()
        } else {
            format!("{pem}\n")
        },
    }
}

/// SHA-256 (hex) of the DER of the first certificate of `pem` (of the text itself when
/// it holds none, which a CA never has).
pub fn fingerprint(pem: &str) -> String {
    match x509_parser::pem::parse_x509_pem(pem.as_bytes()) {
        Ok((_, block)) => hex::encode(Sha256::digest(&block.contents)),
        Err(_) => hex::encode(Sha256::digest(pem.as_bytes())),
    }
}

/// Resolves MeshRootCertificates into CAs, each made or read once and kept.
pub struct RootStore {
    /// The CA the mesh was started with (flags, the cluster's Secret, the state directory).
    default: Arc<CertificateAuthority>,
    /// Where the keys of the roots meshcd makes are kept (`roots/<name>/` in local mode).
    dir: PathBuf,
    trust_domain: String,
    /// Local mode: roots meshcd makes keep their keys in `dir`. In a cluster every
    /// replica must sign with the same key, which only the default CA's Secret holds yet.
    local: bool,
    cache: Mutex<BTreeMap<RootSource, Arc<CertificateAuthority>>>,
}

impl RootStore {
    pub fn new(
        default: Arc<CertificateAuthority>,
        state_dir: PathBuf,
        trust_domain: &str,
        local: bool,
    ) -> Self {
        RootStore {
            default,
            dir: state_dir.join("roots"),
            trust_domain: trust_domain.to_string(),
            local,
            cache: Mutex::default(),
        }
    }

    /// The trust a config's MeshRootCertificates make: none, the default CA alone.
    pub fn resolve<'a>(
        &self,
        roots: impl IntoIterator<Item = &'a MeshRootCertificate>,
    ) -> Result<Trust, RootError> {
        let mut in_use: Vec<&MeshRootCertificate> = roots
            .into_iter()
            .filter(|root| root.role != RootRole::Inactive)
            .collect();
        // Validation holds exactly one active root whenever there is any.
        in_use.sort_by_key(|root| root.role);
        let Some(active) = in_use.first().filter(|root| root.role == RootRole::Active) else {
            return Ok(Trust::single(self.default.clone()));
        };
        let issuer = self.ca(active)?;
        let mut trusted = Vec::new();
        for certificate in &in_use {
            let ca = self.ca(certificate)?;
            let name = format!("{}/{}", certificate.namespace, certificate.name);
            trusted.push(root(name, ca.anchor_pem()));
        }
        Ok(Trust {
            roots: trusted,
            issuer,
        })
    }

    fn ca(&self, root: &MeshRootCertificate) -> Result<Arc<CertificateAuthority>, RootError> {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(ca) = cache.get(&root.source) {
            return Ok(ca.clone());
        }
        let failed = |source| RootError::Ca {
            namespace: root.namespace.clone(),
            name: root.name.clone(),
            source,
        };
        let ca = match &root.source {
            RootSource::Generated { secret, .. } if secret == DEFAULT_ROOT => self.default.clone(),
            RootSource::Generated { secret, namespace } if !self.local => {
                return Err(RootError::ClusterRoot {
                    namespace: root.namespace.clone(),
                    name: root.name.clone(),
                    secret_namespace: namespace.clone(),
                    secret: secret.clone(),
                });
            }
            RootSource::Generated { secret, .. } => Arc::new(
                CertificateAuthority::load_or_create(&self.dir.join(secret), &self.trust_domain)
                    .map_err(failed)?,
            ),
            RootSource::IntermediateFiles {
                certificate,
                key,
                chain,
            } => Arc::new(intermediate(certificate, key, chain).map_err(failed)?),
            RootSource::IntermediateSecret { name, namespace } => {
                return Err(RootError::IntermediateSecret {
                    namespace: root.namespace.clone(),
                    name: root.name.clone(),
                    secret_namespace: namespace.clone(),
                    secret: name.clone(),
                });
            }
        };
        cache.insert(root.source.clone(), ca.clone());
        Ok(ca)
    }
}

/// An operator's intermediate CA from its files; its key must be private to its owner.
fn intermediate(
    certificate: &std::path::Path,
    key: &std::path::Path,
    chain: &std::path::Path,
) -> Result<CertificateAuthority, CaError> {
    super::private_file::ensure_private(key)?;
    let read = |path: &std::path::Path| {
        std::fs::read_to_string(path).map_err(|source| CaError::Io {
            path: path.to_path_buf(),
            source,
        })
    };
    CertificateAuthority::intermediate(read(certificate)?, &read(key)?, &read(chain)?)
}
