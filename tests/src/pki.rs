//! A test PKI made at test time with rcgen: a CA and workload certificates carrying SPIFFE
//! URI SANs, written as PEM files the proxy reads. Never checked-in keys.

use std::path::{Path, PathBuf};

use anyhow::Context;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, SanType,
};

/// The trust domain of every identity the harness issues.
pub const TRUST_DOMAIN: &str = "cluster.local";

/// `spiffe://cluster.local/ns/<namespace>/sa/<service account>`.
pub fn spiffe_id(namespace: &str, service_account: &str) -> String {
    format!("spiffe://{TRUST_DOMAIN}/ns/{namespace}/sa/{service_account}")
}

/// A certificate authority whose certificate is `ca.pem` in its directory.
pub struct TestPki {
    directory: PathBuf,
    issuer: CertifiedIssuer<'static, KeyPair>,
    ca_bundle: PathBuf,
}

/// A workload identity: its certificate, PKCS#8 key and the CA bundle it trusts, as files.
#[derive(Clone, Debug)]
pub struct Identity {
    pub namespace: String,
    pub service_account: String,
    /// The SPIFFE URI in the certificate's SAN.
    pub spiffe_id: String,
    pub certificate: PathBuf,
    pub key: PathBuf,
    pub ca_bundle: PathBuf,
    pub certificate_pem: String,
    pub key_pem: String,
}

impl TestPki {
    /// Makes a CA named `name` and writes its certificate to `<directory>/ca.pem`. Two
    /// calls make two unrelated CAs (the second one serves negative tests).
    pub fn generate(directory: &Path, name: &str) -> anyhow::Result<Self> {
        std::fs::create_dir_all(directory)
            .with_context(|| format!("create {}", directory.display()))?;
        let mut params = CertificateParams::default();
        let mut subject = DistinguishedName::new();
        subject.push(DnType::CommonName, format!("meshcd test CA {name}"));
        subject.push(DnType::OrganizationName, "meshcd e2e");
        params.distinguished_name = subject;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate().context("generate CA key")?;
        let issuer = CertifiedIssuer::self_signed(params, key).context("self-sign CA")?;
        let ca_bundle = directory.join("ca.pem");
        std::fs::write(&ca_bundle, issuer.pem())
            .with_context(|| format!("write {}", ca_bundle.display()))?;
        Ok(Self {
            directory: directory.to_owned(),
            issuer,
            ca_bundle,
        })
    }

    /// The CA certificate (PEM file) peers of this PKI trust.
    pub fn ca_bundle(&self) -> &Path {
        &self.ca_bundle
    }

    /// Issues a workload certificate for `spiffe://cluster.local/ns/<namespace>/sa/<sa>`,
    /// usable as TLS server and client, written under `<directory>/<namespace>.<sa>/`.
    pub fn issue(&self, namespace: &str, service_account: &str) -> anyhow::Result<Identity> {
        let spiffe_id = spiffe_id(namespace, service_account);
        let san = SanType::URI(
            spiffe_id
                .clone()
                .try_into()
                .context("SPIFFE ID as IA5 string")?,
        );
        let mut identity = self.issue_with(
            &format!("{service_account}.{namespace}"),
            &format!("{namespace}.{service_account}"),
            san,
        )?;
        identity.namespace = namespace.to_owned();
        identity.service_account = service_account.to_owned();
        identity.spiffe_id = spiffe_id;
        Ok(identity)
    }

    /// Issues a certificate with no SPIFFE identity but the DNS name `name` (what an
    /// ingress outside the mesh presents), written under `<directory>/dns.<name>/`.
    pub fn issue_dns(&self, name: &str) -> anyhow::Result<Identity> {
        let san = SanType::DnsName(name.try_into().context("DNS name as IA5 string")?);
        self.issue_with(name, &format!("dns.{name}"), san)
    }

    fn issue_with(
        &self,
        common_name: &str,
        folder: &str,
        san: SanType,
    ) -> anyhow::Result<Identity> {
        let mut params = CertificateParams::default();
        let mut subject = DistinguishedName::new();
        subject.push(DnType::CommonName, common_name);
        params.distinguished_name = subject;
        params.subject_alt_names = vec![san];
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        params.use_authority_key_identifier_extension = true;
        let key = KeyPair::generate().context("generate workload key")?;
        let certificate = params
            .signed_by(&key, &self.issuer)
            .context("sign workload certificate")?;

        let folder = self.directory.join(folder);
        std::fs::create_dir_all(&folder).with_context(|| format!("create {}", folder.display()))?;
        let certificate_pem = certificate.pem();
        let key_pem = key.serialize_pem();
        let certificate_path = folder.join("cert.pem");
        let key_path = folder.join("key.pem");
        std::fs::write(&certificate_path, &certificate_pem)
            .with_context(|| format!("write {}", certificate_path.display()))?;
        std::fs::write(&key_path, &key_pem)
            .with_context(|| format!("write {}", key_path.display()))?;
        Ok(Identity {
            namespace: String::new(),
            service_account: common_name.to_owned(),
            spiffe_id: String::new(),
            certificate: certificate_path,
            key: key_path,
            ca_bundle: self.ca_bundle.clone(),
            certificate_pem,
            key_pem,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_certificate_carries_the_spiffe_id_and_a_pkcs8_key() {
        let directory = tempfile::tempdir().unwrap();
        let pki = TestPki::generate(directory.path(), "main").unwrap();
        let identity = pki.issue("shop", "api").unwrap();
        assert_eq!(identity.spiffe_id, "spiffe://cluster.local/ns/shop/sa/api");
        assert!(identity.key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        let (_, pem) =
            x509_parser::pem::parse_x509_pem(identity.certificate_pem.as_bytes()).unwrap();
        let certificate = pem.parse_x509().unwrap();
        let names = certificate.subject_alternative_name().unwrap().unwrap();
        assert!(names.value.general_names.iter().any(|name| matches!(
            name,
            x509_parser::extensions::GeneralName::URI("spiffe://cluster.local/ns/shop/sa/api")
        )));
        assert!(
            std::fs::read_to_string(pki.ca_bundle())
                .unwrap()
                .contains("BEGIN CERTIFICATE")
        );
    }
}
