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
    #[error("MeshRootCertificate {namespace}/{name}: Secret {secret_namespace}/{secret}")]
    Secret {
        namespace: String,
        name: String,
        secret_namespace: String,
        secret: String,
        #[source]
        source: SecretError,
    },
    #[error(
        "MeshRootCertificate {namespace}/{name} names Secret {secret_namespace}/{secret}, which only a reconciler in Kubernetes mode reads; in local mode give certificateFile, keyFile and chainFile"
    )]
    IntermediateSecret {
        namespace: String,
        name: String,
        secret_namespace: String,
        secret: String,
    },
}

/// A boxed error of a [`SecretKeys`] implementation, which lives in a higher layer.
pub type SecretError = Box<dyn std::error::Error + Send + Sync>;

/// The CA behind a Secret, or why it could not be had.
pub type SecretCa<'a> = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<CertificateAuthority, SecretError>> + Send + 'a>,
>;

/// Roots whose keys live in a cluster's Secrets (Kubernetes mode), so that every replica
/// signs with the same key.
pub trait SecretKeys: Send + Sync {
    /// meshcd's own CA kept in Secret `namespace/name`, made there when missing.
    fn generated<'a>(&'a self, namespace: &'a str, name: &'a str) -> SecretCa<'a>;
    /// An operator's intermediate CA in Secret `namespace/name` (`tls.crt`, `tls.key`,
    /// `ca.crt`: the chain up to the root).
    fn intermediate<'a>(&'a self, namespace: &'a str, name: &'a str) -> SecretCa<'a>;
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
    /// Kubernetes mode: the cluster's Secrets, where roots meshcd makes keep their keys
    /// and intermediates may be read from. Local mode: none, keys are kept in `dir`.
    secrets: Option<Arc<dyn SecretKeys>>,
    cache: Mutex<BTreeMap<RootSource, Arc<CertificateAuthority>>>,
}

impl RootStore {
    pub fn new(
        default: Arc<CertificateAuthority>,
        state_dir: PathBuf,
        trust_domain: &str,
        secrets: Option<Arc<dyn SecretKeys>>,
    ) -> Self {
        RootStore {
            default,
            dir: state_dir.join("roots"),
            trust_domain: trust_domain.to_string(),
            secrets,
            cache: Mutex::default(),
        }
    }

    /// The trust a config's MeshRootCertificates make: none, the default CA alone.
    pub async fn resolve<'a>(
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
        let issuer = self.ca(active).await?;
        let mut trusted = Vec::new();
        for certificate in &in_use {
            let ca = self.ca(certificate).await?;
            let name = format!("{}/{}", certificate.namespace, certificate.name);
            trusted.push(root(name, ca.anchor_pem()));
        }
        Ok(Trust {
            roots: trusted,
            issuer,
        })
    }

    async fn ca(&self, root: &MeshRootCertificate) -> Result<Arc<CertificateAuthority>, RootError> {
        if let Some(ca) = self.cached(&root.source) {
            return Ok(ca);
        }
        let failed = |source| RootError::Ca {
            namespace: root.namespace.clone(),
            name: root.name.clone(),
            source,
        };
        let from_secret = |secret_namespace: &str, secret: &str| {
            let (secret_namespace, secret) = (secret_namespace.to_string(), secret.to_string());
            move |source| RootError::Secret {
                namespace: root.namespace.clone(),
                name: root.name.clone(),
                secret_namespace,
                secret,
                source,
            }
        };
        let ca = match (&root.source, &self.secrets) {
            (RootSource::Generated { secret, .. }, _) if secret == DEFAULT_ROOT => {
                self.default.clone()
            }
            (RootSource::Generated { secret, namespace }, Some(secrets)) => Arc::new(
                secrets
                    .generated(namespace, secret)
                    .await
                    .map_err(from_secret(namespace, secret))?,
            ),
            (RootSource::Generated { secret, .. }, None) => Arc::new(
                CertificateAuthority::load_or_create(&self.dir.join(secret), &self.trust_domain)
                    .map_err(failed)?,
            ),
            (
                RootSource::IntermediateFiles {
                    certificate,
                    key,
                    chain,
                },
                _,
            ) => Arc::new(intermediate(certificate, key, chain).map_err(failed)?),
            (RootSource::IntermediateSecret { name, namespace }, Some(secrets)) => Arc::new(
                secrets
                    .intermediate(namespace, name)
                    .await
                    .map_err(from_secret(namespace, name))?,
            ),
            (RootSource::IntermediateSecret { name, namespace }, None) => {
                return Err(RootError::IntermediateSecret {
                    namespace: root.namespace.clone(),
                    name: root.name.clone(),
                    secret_namespace: namespace.clone(),
                    secret: name.clone(),
                });
            }
        };
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        Ok(cache.entry(root.source.clone()).or_insert(ca).clone())
    }

    fn cached(&self, source: &RootSource) -> Option<Arc<CertificateAuthority>> {
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.get(source).cloned()
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

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};

    use super::*;

    fn store(dir: &std::path::Path) -> RootStore {
        let default = CertificateAuthority::load_or_create(dir, "cluster.local").unwrap();
        RootStore::new(Arc::new(default), dir.to_path_buf(), "cluster.local", None)
    }

    fn generated(name: &str, role: RootRole, secret: &str) -> MeshRootCertificate {
        MeshRootCertificate {
            namespace: "mesh".into(),
            name: name.into(),
            role,
            source: RootSource::Generated {
                secret: secret.into(),
                namespace: "mesh".into(),
            },
        }
    }

    #[tokio::test]
    async fn the_active_root_issues_and_comes_first_and_an_inactive_one_is_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path());
        let trust = store
            .resolve(&[
                generated("old", RootRole::Passive, DEFAULT_ROOT),
                generated("new", RootRole::Active, "root-2"),
                generated("gone", RootRole::Inactive, "root-0"),
            ])
            .await
            .unwrap();
        let names: Vec<&str> = trust.roots.iter().map(|root| root.name.as_str()).collect();
        assert_eq!(names, ["mesh/new", "mesh/old"]);
        assert_eq!(trust.issuing(), fingerprint(trust.issuer.anchor_pem()));
        // meshcd-ca is the state directory's CA; a new root's key is kept beside it.
        assert_eq!(trust.roots[1].pem, store.default.anchor_pem());
        let key = dir.path().join("roots/root-2/ca.key");
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert!(
            !dir.path().join("roots/root-0").exists(),
            "an inactive root is not made"
        );
        // Made once: the same key on the next resolve.
        let again = store
            .resolve(&[generated("new", RootRole::Active, "root-2")])
            .await
            .unwrap();
        assert_eq!(again.issuing(), trust.issuing());
        assert_eq!(
            store.resolve(&[]).await.unwrap().issuing(),
            fingerprint(store.default.anchor_pem())
        );
    }

    #[tokio::test]
    async fn an_operators_intermediate_signs_chains_to_its_root_and_its_key_must_be_private() {
        let dir = tempfile::tempdir().unwrap();
        let mut params = CertificateParams::default();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let root_key = KeyPair::generate().unwrap();
        let root = rcgen::CertifiedIssuer::self_signed(params.clone(), root_key).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        let key = KeyPair::generate().unwrap();
        let intermediate = params.signed_by(&key, &root).unwrap();
        let write = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
            path
        };
        let source = RootSource::IntermediateFiles {
            certificate: write("intermediate.crt", &intermediate.pem()),
            key: write("intermediate.key", &key.serialize_pem()),
            chain: write("chain.pem", &root.pem()),
        };
        let corp = MeshRootCertificate {
            namespace: "mesh".into(),
            name: "corp".into(),
            role: RootRole::Active,
            source,
        };
        let trust = store(dir.path())
            .resolve(std::slice::from_ref(&corp))
            .await
            .unwrap();
        assert_eq!(trust.roots[0].fingerprint, fingerprint(&root.pem()));
        let workload_key = KeyPair::generate().unwrap();
        let csr = CertificateParams::default()
            .serialize_request(&workload_key)
            .unwrap()
            .pem()
            .unwrap();
        let issued = trust
            .issuer
            .sign_workload(
                &csr,
                "spiffe://cluster.local/ns/shop/sa/api",
                std::time::Duration::from_secs(60),
            )
            .unwrap();
        assert_eq!(
            issued.certificate_pem.matches("BEGIN CERTIFICATE").count(),
            2
        );
        assert!(issued.certificate_pem.ends_with(&intermediate.pem()));

        std::fs::set_permissions(
            dir.path().join("intermediate.key"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        let error = store(dir.path())
            .resolve(&[corp])
            .await
            .err()
            .expect("an exposed key is refused");
        let chain = meshcd_support::error_chain(&error);
        assert!(
            chain.contains("mesh/corp") && chain.contains("chmod 600"),
            "{chain}"
        );
    }
}
