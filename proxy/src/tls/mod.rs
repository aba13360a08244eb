//! The proxy's TLS: its workload certificate, the mesh CA, and the rustls configurations
//! built from them (TLS 1.3 only, ring provider, mTLS both ways), reloadable as a whole.

pub mod spiffe;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::{self, PemObject as _};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};

use crate::http::hop;
use spiffe::MeshServerVerifier;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("read {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: no PEM certificate found")]
    NoCertificate { path: PathBuf },
    #[error("{path}: no PEM private key found")]
    NoKey { path: PathBuf },
    #[error("{path}: not valid PEM")]
    Pem {
        path: PathBuf,
        source: rustls::pki_types::pem::Error,
    },
    #[error("{path}: the leaf certificate carries no SPIFFE URI SAN")]
    NoIdentity { path: PathBuf },
    #[error("CA bundle {path}")]
    Roots {
        path: PathBuf,
        source: rustls::Error,
    },
    #[error("client certificate verifier")]
    Verifier(#[from] rustls::server::VerifierBuilderError),
    #[error("certificate and key do not form a usable TLS identity")]
    Config(#[from] rustls::Error),
}

/// The three files the proxy's TLS is made of.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub certificate: PathBuf,
    pub key: PathBuf,
    pub ca_bundle: PathBuf,
}

impl TlsFiles {
    pub fn paths(&self) -> [&Path; 3] {
        [&self.certificate, &self.key, &self.ca_bundle]
    }
}

/// Everything built from one set of files.
pub struct TlsMaterial {
    /// The workload's own SPIFFE identity, from its certificate.
    pub identity: String,
    /// Inbound: client certificate required, chain checked against the mesh CA.
    pub server: Arc<ServerConfig>,
    /// Outbound, per ALPN (see `hop`): pooled HTTP/2, upgrades, TCP streams.
    pub client_http2: Arc<ClientConfig>,
    pub client_http1: Arc<ClientConfig>,
    pub client_tcp: Arc<ClientConfig>,
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_owned(),
        source,
    })
}

fn certificates(path: &Path, pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certificates = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| TlsError::Pem {
            path: path.to_owned(),
            source,
        })?;
    if certificates.is_empty() {
        return Err(TlsError::NoCertificate {
            path: path.to_owned(),
        });
    }
    Ok(certificates)
}

impl TlsMaterial {
    /// Builds the configurations from PEM contents (`[certificate, key, ca_bundle]`).
    pub fn from_pem(files: &TlsFiles, contents: &[Vec<u8>; 3]) -> Result<Self, TlsError> {
        let [certificate_pem, key_pem, ca_pem] = contents;
        let chain = certificates(&files.certificate, certificate_pem)?;
        let identity = spiffe::identity_of(&chain[0]).ok_or_else(|| TlsError::NoIdentity {
            path: files.certificate.clone(),
        })?;
        let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|source| match source {
            pem::Error::NoItemsFound => TlsError::NoKey {
                path: files.key.clone(),
            },
            source => TlsError::Pem {
                path: files.key.clone(),
                source,
            },
        })?;
        let mut roots = RootCertStore::empty();
        for ca in certificates(&files.ca_bundle, ca_pem)? {
            roots.add(ca).map_err(|source| TlsError::Roots {
                path: files.ca_bundle.clone(),
                source,
            })?;
        }
        let roots = Arc::new(roots);
        let provider = provider();

        let client_verifier =
            WebPkiClientVerifier::builder_with_provider(roots.clone(), provider.clone()).build()?;
        let mut server = ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13])?
            .with_client_cert_verifier(client_verifier)
            .with_single_cert(chain.clone(), key.clone_key())?;
        server.alpn_protocols = vec![
            hop::ALPN_HTTP2.to_vec(),
            hop::ALPN_HTTP1.to_vec(),
            hop::ALPN_TCP.to_vec(),
        ];

        let server_verifier = Arc::new(MeshServerVerifier::new(
            roots,
            provider.signature_verification_algorithms,
        ));
        let client = |alpn: &[u8]| -> Result<Arc<ClientConfig>, TlsError> {
            let mut config = ClientConfig::builder_with_provider(provider.clone())
                .with_protocol_versions(&[&rustls::version::TLS13])?
                .dangerous()
                .with_custom_certificate_verifier(server_verifier.clone())
                .with_client_auth_cert(chain.clone(), key.clone_key())?;
            config.alpn_protocols = vec![alpn.to_vec()];
            // Peers are addressed by IP; there is no name worth sending.
            config.enable_sni = false;
            Ok(Arc::new(config))
        };
        Ok(Self {
            identity,
            server: Arc::new(server),
            client_http2: client(hop::ALPN_HTTP2)?,
            client_http1: client(hop::ALPN_HTTP1)?,
            client_tcp: client(hop::ALPN_TCP)?,
        })
    }
}

/// The TLS material in force, swapped whole when the files change.
pub struct TlsStore {
    files: TlsFiles,
    current: ArcSwap<TlsMaterial>,
    last_contents: Mutex<[Vec<u8>; 3]>,
}

impl TlsStore {
    /// Loads the files; the proxy cannot start without them.
    pub fn load(files: TlsFiles) -> Result<Self, TlsError> {
        let contents = Self::read_all(&files)?;
        let material = TlsMaterial::from_pem(&files, &contents)?;
        Ok(Self {
            files,
            current: ArcSwap::from_pointee(material),
            last_contents: Mutex::new(contents),
        })
    }

    /// Material that did not come from files (a certificate the control plane issued);
    /// `files` only label errors.
    pub fn from_contents(files: TlsFiles, contents: [Vec<u8>; 3]) -> Result<Self, TlsError> {
        let material = TlsMaterial::from_pem(&files, &contents)?;
        Ok(Self {
            files,
            current: ArcSwap::from_pointee(material),
            last_contents: Mutex::new(contents),
        })
    }

    fn read_all(files: &TlsFiles) -> Result<[Vec<u8>; 3], TlsError> {
        Ok([
            read(&files.certificate)?,
            read(&files.key)?,
            read(&files.ca_bundle)?,
        ])
    }

    pub fn files(&self) -> &TlsFiles {
        &self.files
    }

    pub fn current(&self) -> Arc<TlsMaterial> {
        self.current.load_full()
    }

    /// Reads the files again. `Ok(true)` when new material is in force; a bad set of
    /// files (for instance a certificate written before its key) keeps the old one.
    pub fn reload(&self) -> Result<bool, TlsError> {
        let contents = Self::read_all(&self.files)?;
        let mut last = self.last_contents.lock().unwrap_or_else(|e| e.into_inner());
        if *last == contents {
            return Ok(false);
        }
        let material = TlsMaterial::from_pem(&self.files, &contents)?;
        *last = contents;
        self.current.store(Arc::new(material));
        Ok(true)
    }

    /// Trusts exactly the roots of `bundle_pem` (a root rotation), with the certificate
    /// and key in force. `Ok(false)` when they are the roots already trusted. New
    /// handshakes use them; established connections keep going.
    pub fn apply_bundle(&self, bundle_pem: &[u8]) -> Result<bool, TlsError> {
        let mut last = self.last_contents.lock().unwrap_or_else(|e| e.into_inner());
        if last[2] == bundle_pem {
            return Ok(false);
        }
        let contents = [last[0].clone(), last[1].clone(), bundle_pem.to_vec()];
        let material = TlsMaterial::from_pem(&self.files, &contents)?;
        *last = contents;
        self.current.store(Arc::new(material));
        Ok(true)
    }

    /// Puts PEM material that did not come from the files in force (a certificate the
    /// control plane issued): `[certificate chain, key, CA bundle]`.
    pub fn apply(&self, contents: [Vec<u8>; 3]) -> Result<(), TlsError> {
        let material = TlsMaterial::from_pem(&self.files, &contents)?;
        *self.last_contents.lock().unwrap_or_else(|e| e.into_inner()) = contents;
        self.current.store(Arc::new(material));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair, SanType};

    use super::*;

    fn root() -> CertifiedIssuer<'static, KeyPair> {
        let mut params = CertificateParams::default();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
    }

    fn files() -> TlsFiles {
        TlsFiles {
            certificate: "issued.crt".into(),
            key: "issued.key".into(),
            ca_bundle: "trust.pem".into(),
        }
    }

    #[test]
    fn a_new_bundle_replaces_the_roots_and_keeps_the_certificate_and_a_bad_one_changes_nothing() {
        let (old, new) = (root(), root());
        let mut params = CertificateParams::default();
        params.subject_alt_names = vec![SanType::URI(
            "spiffe://cluster.local/ns/shop/sa/api".try_into().unwrap(),
        )];
        let key = KeyPair::generate().unwrap();
        let leaf = params.signed_by(&key, &old).unwrap();
        let store = TlsStore::from_contents(
            files(),
            [
                leaf.pem().into_bytes(),
                key.serialize_pem().into_bytes(),
                old.pem().into_bytes(),
            ],
        )
        .unwrap();
        let before = store.current();

        let both = format!("{}{}", new.pem(), old.pem());
        assert!(store.apply_bundle(both.as_bytes()).unwrap());
        assert!(
            !store.apply_bundle(both.as_bytes()).unwrap(),
            "the same roots again"
        );
        let after = store.current();
        assert!(!Arc::ptr_eq(&before, &after));
        assert_eq!(after.identity, "spiffe://cluster.local/ns/shop/sa/api");

        assert!(store.apply_bundle(b"not a certificate").is_err());
        assert!(
            Arc::ptr_eq(&after, &store.current()),
            "a bad bundle changes nothing"
        );
    }
}
