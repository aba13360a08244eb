//! Mints a throwaway mesh CA and workload certificates for trying the proxy by hand or
//! benchmarking it: `cargo run -p meshcd-proxy --example mint-certs -- DIR shop/api shop/web`
//! writes `DIR/ca.pem` and `DIR/<ns>.<sa>/{cert.pem,key.pem}` with SPIFFE URI SANs
//! `spiffe://cluster.local/ns/<ns>/sa/<sa>`.

use std::path::PathBuf;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, SanType,
};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let directory =
        PathBuf::from(args.next().ok_or_else(|| {
            anyhow::anyhow!("usage: mint-certs DIR NAMESPACE/SERVICE_ACCOUNT...")
        })?);
    std::fs::create_dir_all(&directory)?;

    let mut ca = CertificateParams::default();
    let mut subject = DistinguishedName::new();
    subject.push(DnType::CommonName, "meshcd example CA");
    ca.distinguished_name = subject;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let issuer = CertifiedIssuer::self_signed(ca, KeyPair::generate()?)?;
    std::fs::write(directory.join("ca.pem"), issuer.pem())?;

    for identity in args {
        let (namespace, service_account) = identity
            .split_once('/')
            .ok_or_else(|| anyhow::anyhow!("{identity:?} is not NAMESPACE/SERVICE_ACCOUNT"))?;
        let uri = format!("spiffe://cluster.local/ns/{namespace}/sa/{service_account}");
        let mut params = CertificateParams::default();
        params.subject_alt_names = vec![SanType::URI(uri.clone().try_into()?)];
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let key = KeyPair::generate()?;
        let certificate = params.signed_by(&key, &issuer)?;
        let folder = directory.join(format!("{namespace}.{service_account}"));
        std::fs::create_dir_all(&folder)?;
        std::fs::write(folder.join("cert.pem"), certificate.pem())?;
        std::fs::write(folder.join("key.pem"), key.serialize_pem())?;
        println!("{uri} -> {}", folder.display());
    }
    Ok(())
}
