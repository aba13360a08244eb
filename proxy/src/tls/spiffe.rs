//! SPIFFE identities on mesh certificates: chain-only verification of a peer proxy's
//! certificate and the URI SAN that names it.
//!
//! rustls and webpki check DNS and IP names only, never URI SANs, so a workload
//! certificate that carries only `spiffe://…` fails the stock server verifier. The
//! verifier here checks the chain against the mesh CA (signatures, validity, key usage)
//! and requires a SPIFFE URI SAN; which identity it must be is checked per endpoint
//! right after the handshake (`expect_identity`), before any byte of a request is sent.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{CertificateError, DigitallySignedStruct, Error, RootCertStore, SignatureScheme};
use x509_parser::extensions::GeneralName;

/// The SPIFFE URI SAN of a DER certificate, if it has one.
pub fn identity_of(certificate: &[u8]) -> Option<String> {
    let (_, parsed) = x509_parser::parse_x509_certificate(certificate).ok()?;
    let names = parsed.subject_alternative_name().ok()??;
    names
        .value
        .general_names
        .iter()
        .find_map(|name| match name {
            GeneralName::URI(uri) if uri.starts_with("spiffe://") => Some((*uri).to_owned()),
            _ => None,
        })
}

/// The DNS and URI SANs of a DER certificate (an ingress's names, matched against
/// IngressBackends' AuthenticatedPrincipals).
pub fn names_of(certificate: &[u8]) -> Vec<String> {
    let Ok((_, parsed)) = x509_parser::parse_x509_certificate(certificate) else {
        return Vec::new();
    };
    let Ok(Some(names)) = parsed.subject_alternative_name() else {
        return Vec::new();
    };
    names
        .value
        .general_names
        .iter()
        .filter_map(|name| match name {
            GeneralName::DNSName(name) | GeneralName::URI(name) => Some((*name).to_owned()),
            _ => None,
        })
        .collect()
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum IdentityError {
    #[error("peer presented no certificate")]
    NoCertificate,
    #[error("peer certificate carries no SPIFFE URI SAN")]
    NoIdentity,
    #[error("peer is {actual:?}, expected {expected:?}")]
    Mismatch { expected: String, actual: String },
}

/// Checks that the leaf of a verified chain names the expected identity.
pub fn expect_identity(
    chain: Option<&[CertificateDer<'_>]>,
    expected: &str,
) -> Result<(), IdentityError> {
    let leaf = chain
        .and_then(|chain| chain.first())
        .ok_or(IdentityError::NoCertificate)?;
    let actual = identity_of(leaf).ok_or(IdentityError::NoIdentity)?;
    if actual == expected {
        Ok(())
    } else {
        Err(IdentityError::Mismatch {
            expected: expected.to_owned(),
            actual,
        })
    }
}

/// Verifies a peer proxy's chain against the mesh CA, ignoring the server name.
#[derive(Debug)]
pub struct MeshServerVerifier {
    roots: Arc<RootCertStore>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl MeshServerVerifier {
    pub fn new(roots: Arc<RootCertStore>, algorithms: WebPkiSupportedAlgorithms) -> Self {
        Self { roots, algorithms }
    }
}

impl ServerCertVerifier for MeshServerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let certificate = ParsedCertificate::try_from(end_entity)?;
        rustls::client::verify_server_cert_signed_by_trust_anchor(
            &certificate,
            &self.roots,
            intermediates,
            now,
            self.algorithms.all,
        )?;
        if identity_of(end_entity).is_none() {
            return Err(Error::InvalidCertificate(CertificateError::NotValidForName));
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, ExtendedKeyUsagePurpose, IsCa,
        KeyPair, KeyUsagePurpose, SanType,
    };

    /// A CA and a way to issue workload certificates, as PEM, for tests.
    pub(crate) struct TestCa {
        issuer: CertifiedIssuer<'static, KeyPair>,
    }

    pub(crate) struct Issued {
        pub der: CertificateDer<'static>,
    }

    impl TestCa {
        pub(crate) fn new() -> Self {
            let mut params = CertificateParams::default();
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
            let issuer =
                CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
            Self { issuer }
        }

        pub(crate) fn der(&self) -> CertificateDer<'static> {
            self.issuer.der().clone()
        }

        pub(crate) fn issue(&self, uri: Option<&str>) -> Issued {
            let mut params = CertificateParams::default();
            if let Some(uri) = uri {
                params.subject_alt_names = vec![SanType::URI(uri.try_into().unwrap())];
            } else {
                params.subject_alt_names =
                    vec![SanType::DnsName("api.example".try_into().unwrap())];
            }
            params.is_ca = IsCa::ExplicitNoCa;
            params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
            params.extended_key_usages = vec![
                ExtendedKeyUsagePurpose::ServerAuth,
                ExtendedKeyUsagePurpose::ClientAuth,
            ];
            let key = KeyPair::generate().unwrap();
            let certificate = params.signed_by(&key, &self.issuer).unwrap();
            Issued {
                der: certificate.der().clone(),
            }
        }
    }

    const API: &str = "spiffe://cluster.local/ns/shop/sa/api";

    fn verifier(ca: &TestCa) -> MeshServerVerifier {
        let mut roots = RootCertStore::empty();
        roots.add(ca.der()).unwrap();
        MeshServerVerifier::new(
            Arc::new(roots),
            rustls::crypto::ring::default_provider().signature_verification_algorithms,
        )
    }

    fn verify(verifier: &MeshServerVerifier, leaf: &CertificateDer<'_>) -> Result<(), Error> {
        verifier
            .verify_server_cert(
                leaf,
                &[],
                &ServerName::try_from("ignored.invalid").unwrap(),
                &[],
                UnixTime::now(),
            )
            .map(|_| ())
    }

    #[test]
    fn a_spiffe_only_certificate_from_the_mesh_ca_verifies_whatever_the_server_name() {
        let ca = TestCa::new();
        let leaf = ca.issue(Some(API));
        assert_eq!(verify(&verifier(&ca), &leaf.der), Ok(()));
    }

    #[test]
    fn a_certificate_from_another_ca_is_refused() {
        let ca = TestCa::new();
        let other = TestCa::new();
        let leaf = other.issue(Some(API));
        assert!(verify(&verifier(&ca), &leaf.der).is_err());
    }

    #[test]
    fn a_certificate_without_a_spiffe_id_is_refused() {
        let ca = TestCa::new();
        let leaf = ca.issue(None);
        assert!(verify(&verifier(&ca), &leaf.der).is_err());
    }

    #[test]
    fn the_expected_identity_must_be_the_one_in_the_uri_san() {
        let ca = TestCa::new();
        let leaf = ca.issue(Some(API));
        let chain = [leaf.der.clone()];
        assert_eq!(identity_of(&leaf.der).as_deref(), Some(API));
        assert_eq!(expect_identity(Some(&chain), API), Ok(()));
        assert_eq!(
            expect_identity(Some(&chain), "spiffe://cluster.local/ns/shop/sa/web"),
            Err(IdentityError::Mismatch {
                expected: "spiffe://cluster.local/ns/shop/sa/web".into(),
                actual: API.into()
            })
        );
        assert_eq!(
            expect_identity(None, API),
            Err(IdentityError::NoCertificate)
        );
    }
}
