//! The mesh certificate authority: signs workload CSRs with SPIFFE URI SANs and the
//! control plane's own serving certificate.
//!
//! The CA key lives in the state directory with mode 0600 (local mode), in a Secret (in a
//! cluster, see `kubernetes::ca_secret`), or is supplied by the operator.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, CertificateSigningRequestParams, DistinguishedName,
    DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use time::OffsetDateTime;

const CA_CERT_FILE: &str = "ca.crt";
const CA_KEY_FILE: &str = "ca.key";
/// The CA outlives every certificate it signs by far; rotating it is an operator action.
const CA_LIFETIME: Duration = Duration::from_secs(10 * 365 * 24 * 3600);
/// Clocks of proxies and reconciler may disagree a little.
const BACKDATE: Duration = Duration::from_secs(300);

#[derive(Debug, thiserror::Error)]
pub enum CaError {
    #[error("reading or writing {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("refusing the CA key")]
    Exposed(#[from] super::private_file::PrivateFileError),
    #[error("the intermediate CA's chain holds no certificate: it must end with the root")]
    NoRoot,
    #[error("{what}")]
    Certificate {
        what: &'static str,
        #[source]
        source: rcgen::Error,
    },
}

pub struct CertificateAuthority {
    cert_pem: String,
    issuer: Issuer<'static, KeyPair>,
    /// What follows a signed leaf in its chain: nothing for a root; for an operator's
    /// intermediate, itself and the certificates above it, up to (not including) the root.
    chain_pem: String,
    /// The root peers verify against: this CA itself, or an intermediate's root.
    anchor_pem: String,
}

/// A signed certificate and when it expires.
#[derive(Debug, Clone)]
pub struct Issued {
    pub certificate_pem: String,
    pub not_after: OffsetDateTime,
}

impl CertificateAuthority {
    /// Loads `ca.crt` / `ca.key` from `dir`, creating them on first use.
    pub fn load_or_create(dir: &Path, trust_domain: &str) -> Result<Self, CaError> {
        let cert_path = dir.join(CA_CERT_FILE);
        let key_path = dir.join(CA_KEY_FILE);
        if cert_path.exists() && key_path.exists() {
            return Self::from_files(&cert_path, &key_path);
        }
        std::fs::create_dir_all(dir).map_err(|source| CaError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let (ca, key_pem) = Self::generate(trust_domain)?;
        write_private(&key_path, &key_pem)?;
        std::fs::write(&cert_path, ca.bundle_pem()).map_err(|source| CaError::Io {
            path: cert_path.clone(),
            source,
        })?;
        Ok(ca)
    }

    /// A new self-signed CA and its key (PEM), for the caller to keep: in the state
    /// directory in local mode, in a Secret in a cluster.
    pub fn generate(trust_domain: &str) -> Result<(Self, String), CaError> {
        let key = KeyPair::generate().map_err(|source| CaError::Certificate {
            what: "generating the CA key",
            source,
        })?;
        let mut params = CertificateParams::default();
        let mut name = DistinguishedName::new();
        name.push(
            DnType::CommonName,
            format!("meshcd mesh CA ({trust_domain})"),
        );
        name.push(DnType::OrganizationName, "meshcd");
        params.distinguished_name = name;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let now = OffsetDateTime::now_utc();
        params.not_before = now - BACKDATE;
        params.not_after = now + CA_LIFETIME;
        let cert = params
            .self_signed(&key)
            .map_err(|source| CaError::Certificate {
                what: "self-signing the CA",
                source,
            })?;
        let key_pem = key.serialize_pem();
        Ok((
            CertificateAuthority {
                cert_pem: cert.pem(),
                issuer: Issuer::new(params, key),
                chain_pem: String::new(),
                anchor_pem: cert.pem(),
            },
            key_pem,
        ))
    }

    /// A CA from its certificate and key (PEM).
    pub fn from_pem(cert_pem: String, key_pem: &str) -> Result<Self, CaError> {
        let key = KeyPair::from_pem(key_pem).map_err(|source| CaError::Certificate {
            what: "reading the CA key",
            source,
        })?;
        let issuer =
            Issuer::from_ca_cert_pem(&cert_pem, key).map_err(|source| CaError::Certificate {
                what: "reading the CA certificate",
                source,
            })?;
        Ok(CertificateAuthority {
            anchor_pem: cert_pem.clone(),
            cert_pem,
            issuer,
            chain_pem: String::new(),
        })
    }

    /// An operator's intermediate CA: its certificate and key (PEM), and the certificates
    /// above it, the operator's root last. Workload certificates carry the chain up to
    /// the root; proxies trust the root.
    pub fn intermediate(cert_pem: String, key_pem: &str, above_pem: &str) -> Result<Self, CaError> {
        let mut above: Vec<String> = pem_blocks(above_pem);
        let Some(anchor_pem) = above.pop() else {
            return Err(CaError::NoRoot);
        };
        let mut ca = Self::from_pem(cert_pem, key_pem)?;
        ca.chain_pem = std::iter::once(ca.cert_pem.clone()).chain(above).collect();
        ca.anchor_pem = anchor_pem;
        Ok(ca)
    }

    /// The root this CA's certificates chain to (PEM).
    pub fn anchor_pem(&self) -> &str {
        &self.anchor_pem
    }

    /// An operator-provided CA, or the state directory's. The key must be private to
    /// its owner.
    pub fn from_files(cert_path: &Path, key_path: &Path) -> Result<Self, CaError> {
        super::private_file::ensure_private(key_path)?;
        let cert_pem = std::fs::read_to_string(cert_path).map_err(|source| CaError::Io {
            path: cert_path.to_path_buf(),
            source,
        })?;
        let key_pem = std::fs::read_to_string(key_path).map_err(|source| CaError::Io {
            path: key_path.to_path_buf(),
            source,
        })?;
        Self::from_pem(cert_pem, &key_pem)
    }

    /// When the CA certificate expires (`None` when its PEM cannot be read back, which
    /// a CA that signs cannot have).
    pub fn not_after(&self) -> Option<OffsetDateTime> {
        let (_, pem) = x509_parser::pem::parse_x509_pem(self.cert_pem.as_bytes()).ok()?;
        let certificate = pem.parse_x509().ok()?;
        OffsetDateTime::from_unix_timestamp(certificate.validity().not_after.timestamp()).ok()
    }

    /// The PEM bundle proxies trust.
    pub fn bundle_pem(&self) -> &str {
        &self.cert_pem
    }

    /// Signs a workload CSR. Whatever names the CSR asks for, the certificate carries
    /// exactly the identity the caller proved.
    pub fn sign_workload(
        &self,
        csr_pem: &str,
        spiffe_id: &str,
        lifetime: Duration,
    ) -> Result<Issued, CaError> {
        let mut csr = CertificateSigningRequestParams::from_pem(csr_pem).map_err(|source| {
            CaError::Certificate {
                what: "reading the CSR",
                source,
            }
        })?;
        let now = OffsetDateTime::now_utc();
        let not_after = now + lifetime;
        let params = &mut csr.params;
        params.subject_alt_names = vec![SanType::URI(spiffe_id.try_into().map_err(|source| {
            CaError::Certificate {
                what: "encoding the SPIFFE id",
                source,
            }
        })?)];
        params.distinguished_name = DistinguishedName::new();
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        params.not_before = now - BACKDATE;
        params.not_after = not_after;
        params.use_authority_key_identifier_extension = true;
        let cert = csr
            .signed_by(&self.issuer)
            .map_err(|source| CaError::Certificate {
                what: "signing the workload certificate",
                source,
            })?;
        Ok(Issued {
            certificate_pem: cert.pem() + &self.chain_pem,
            not_after,
        })
    }

    /// A serving certificate (and its key) for the control plane and admin listeners.
    pub fn issue_server(
        &self,
        names: &[String],
        lifetime: Duration,
    ) -> Result<(String, String), CaError> {
        let key = KeyPair::generate().map_err(|source| CaError::Certificate {
            what: "generating a server key",
            source,
        })?;
        let mut params =
            CertificateParams::new(names.to_vec()).map_err(|source| CaError::Certificate {
                what: "naming the server certificate",
                source,
            })?;
        let now = OffsetDateTime::now_utc();
        params.not_before = now - BACKDATE;
        params.not_after = now + lifetime;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let cert = params
            .signed_by(&key, &self.issuer)
            .map_err(|source| CaError::Certificate {
                what: "signing the server certificate",
                source,
            })?;
        Ok((cert.pem(), key.serialize_pem()))
    }
}

/// Each PEM block of `text` (BEGIN to END, with a final newline).
fn pem_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let line = line.trim_end();
        if line.starts_with("-----BEGIN ") {
            current.clear();
        }
        current.push_str(line);
        current.push('\n');
        if line.starts_with("-----END ") {
            blocks.push(std::mem::take(&mut current));
        }
    }
    blocks
}

/// [`private_file::write`], failing with the path.
pub fn write_private(path: &Path, text: &str) -> Result<(), CaError> {
    super::private_file::write(path, text).map_err(|source| CaError::Io {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    #[test]
    fn the_ca_key_is_private_and_reloads() {
        let dir = tempfile::tempdir().unwrap();
        let ca = CertificateAuthority::load_or_create(dir.path(), "cluster.local").unwrap();
        let mode = std::fs::metadata(dir.path().join(CA_KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let again = CertificateAuthority::load_or_create(dir.path(), "cluster.local").unwrap();
        assert_eq!(ca.bundle_pem(), again.bundle_pem());
    }

    #[test]
    fn a_ca_key_others_can_read_is_refused_at_load_naming_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        CertificateAuthority::load_or_create(dir.path(), "cluster.local").unwrap();
        let key = dir.path().join(CA_KEY_FILE);
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let error = CertificateAuthority::load_or_create(dir.path(), "cluster.local")
            .err()
            .expect("an exposed key is refused");
        let chain = meshcd_support::error_chain(&error);
        assert!(
            chain.contains(&format!("chmod 600 {}", key.display())) && chain.contains("0644"),
            "{chain}"
        );
    }

    #[test]
    fn a_key_written_over_an_exposed_file_or_a_symlink_is_private_and_leaves_the_target_alone() {
        let dir = tempfile::tempdir().unwrap();
        CertificateAuthority::load_or_create(dir.path(), "cluster.local").unwrap();
        let key = dir.path().join(CA_KEY_FILE);
        // Without its certificate the CA is made anew, into the old key's place.
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::remove_file(dir.path().join(CA_CERT_FILE)).unwrap();
        CertificateAuthority::load_or_create(dir.path(), "cluster.local").unwrap();
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the new key is private");

        let elsewhere = dir.path().join("elsewhere");
        std::fs::write(&elsewhere, "not a key").unwrap();
        std::fs::remove_file(&key).unwrap();
        std::os::unix::fs::symlink(&elsewhere, &key).unwrap();
        write_private(&key, "secret").unwrap();
        assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "not a key");
        assert!(!std::fs::symlink_metadata(&key).unwrap().is_symlink());
        assert_eq!(std::fs::read_to_string(&key).unwrap(), "secret");
    }

    #[test]
    fn a_signed_workload_certificate_carries_only_the_proven_identity() {
        let dir = tempfile::tempdir().unwrap();
        let ca = CertificateAuthority::load_or_create(dir.path(), "cluster.local").unwrap();
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec!["evil.example".to_string()]).unwrap();
        params.subject_alt_names.push(SanType::URI(
            "spiffe://cluster.local/ns/x/sa/admin".try_into().unwrap(),
        ));
        let csr = params.serialize_request(&key).unwrap().pem().unwrap();
        let issued = ca
            .sign_workload(
                &csr,
                "spiffe://cluster.local/ns/shop/sa/api",
                Duration::from_secs(3600),
            )
            .unwrap();
        let der = rustls_pemfile_like(&issued.certificate_pem);
        let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
        let sans: Vec<String> = cert
            .subject_alternative_name()
            .unwrap()
            .unwrap()
            .value
            .general_names
            .iter()
            .map(|name| name.to_string())
            .collect();
        assert_eq!(sans, vec!["URI(spiffe://cluster.local/ns/shop/sa/api)"]);
    }

    fn rustls_pemfile_like(pem: &str) -> Vec<u8> {
        let parsed = x509_parser::pem::parse_x509_pem(pem.as_bytes()).unwrap().1;
        parsed.contents
    }
}
