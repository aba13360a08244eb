//! The mesh CA kept in a Secret, so every reconciler replica signs with the same key; the
//! same for each root a MeshRootCertificate names, and an operator's intermediate read
//! from its Secret.
//!
//! The first replica to start creates it; a replica that loses that race reads the
//! winner's. The key never touches a disk of the reconciler's.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::Client;
use kube::api::{Api, ObjectMeta, PostParams};

use super::{MANAGED_BY_LABEL, MANAGED_BY_VALUE};
use crate::identity::ca::{CaError, CertificateAuthority};
use crate::identity::roots::{SecretCa, SecretError, SecretKeys};

pub const DEFAULT_SECRET: &str = "meshcd-ca";
const CERT_KEY: &str = "tls.crt";
const KEY_KEY: &str = "tls.key";
/// An intermediate's chain up to the operator's root (cert-manager's key for it).
const CHAIN_KEY: &str = "ca.crt";

#[derive(Debug, thiserror::Error)]
pub enum CaSecretError {
    #[error("reading or creating Secret {namespace}/{name}")]
    Api {
        namespace: String,
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("Secret {namespace}/{name} has no {field}")]
    Missing {
        namespace: String,
        name: String,
        field: &'static str,
    },
    #[error("the CA in Secret {namespace}/{name}")]
    Ca {
        namespace: String,
        name: String,
        #[source]
        source: CaError,
    },
}

/// Loads the CA from `namespace/name`, creating the Secret with a new CA when missing.
pub async fn load_or_create(
    client: &Client,
    namespace: &str,
    name: &str,
    trust_domain: &str,
) -> Result<CertificateAuthority, CaSecretError> {
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let api_error = |source| CaSecretError::Api {
        namespace: namespace.into(),
        name: name.into(),
        source,
    };
    if let Some(secret) = api.get_opt(name).await.map_err(api_error)? {
        return from_secret(&secret, namespace, name);
    }
    let (ca, key_pem) =
        CertificateAuthority::generate(trust_domain).map_err(|source| CaSecretError::Ca {
            namespace: namespace.into(),
            name: name.into(),
            source,
        })?;
    let secret = Secret {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some(namespace.into()),
            labels: Some(BTreeMap::from([(
                MANAGED_BY_LABEL.into(),
                MANAGED_BY_VALUE.into(),
            )])),
            ..ObjectMeta::default()
        },
        type_: Some("kubernetes.io/tls".into()),
        data: Some(BTreeMap::from([
            (
                CERT_KEY.into(),
                ByteString(ca.bundle_pem().as_bytes().to_vec()),
            ),
            (KEY_KEY.into(), ByteString(key_pem.into_bytes())),
        ])),
        ..Secret::default()
    };
    match api.create(&PostParams::default(), &secret).await {
        Ok(_) => {
            tracing::info!(%namespace, %name, "created the mesh CA");
            Ok(ca)
        }
        // Another replica created it first: use theirs, so there is one CA.
        Err(kube::Error::Api(status)) if status.code == 409 => {
            let secret = api.get(name).await.map_err(api_error)?;
            from_secret(&secret, namespace, name)
        }
        Err(error) => Err(api_error(error)),
    }
}

/// An operator's intermediate CA from Secret `namespace/name`: `tls.crt`, `tls.key` and
/// `ca.crt` (the certificates above it, the root last).
pub async fn intermediate(
    client: &Client,
    namespace: &str,
    name: &str,
) -> Result<CertificateAuthority, CaSecretError> {
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let secret = api.get(name).await.map_err(|source| CaSecretError::Api {
        namespace: namespace.into(),
        name: name.into(),
        source,
    })?;
    let field = |field: &'static str| text_field(&secret, namespace, name, field);
    CertificateAuthority::intermediate(field(CERT_KEY)?, &field(KEY_KEY)?, &field(CHAIN_KEY)?)
        .map_err(|source| CaSecretError::Ca {
            namespace: namespace.into(),
            name: name.into(),
            source,
        })
}

/// The roots of MeshRootCertificates kept in the cluster's Secrets.
pub struct ClusterRootKeys {
    pub client: Client,
    pub trust_domain: String,
}

impl SecretKeys for ClusterRootKeys {
    fn generated<'a>(&'a self, namespace: &'a str, name: &'a str) -> SecretCa<'a> {
        Box::pin(async move {
            load_or_create(&self.client, namespace, name, &self.trust_domain)
                .await
                .map_err(|error| Box::new(error) as SecretError)
        })
    }

    fn intermediate<'a>(&'a self, namespace: &'a str, name: &'a str) -> SecretCa<'a> {
        Box::pin(async move {
            intermediate(&self.client, namespace, name)
                .await
                .map_err(|error| Box::new(error) as SecretError)
        })
    }
}

fn text_field(
    secret: &Secret,
    namespace: &str,
    name: &str,
    field: &'static str,
) -> Result<String, CaSecretError> {
    secret
        .data
        .as_ref()
        .and_then(|data| data.get(field))
        .and_then(|bytes| String::from_utf8(bytes.0.clone()).ok())
        .ok_or_else(|| CaSecretError::Missing {
            namespace: namespace.into(),
            name: name.into(),
            field,
        })
}

fn from_secret(
    secret: &Secret,
    namespace: &str,
    name: &str,
) -> Result<CertificateAuthority, CaSecretError> {
    let field = |field: &'static str| text_field(secret, namespace, name, field);
    CertificateAuthority::from_pem(field(CERT_KEY)?, &field(KEY_KEY)?).map_err(|source| {
        CaSecretError::Ca {
            namespace: namespace.into(),
            name: name.into(),
            source,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kubernetes::fake_api::FakeApi;

    #[tokio::test]
    async fn the_first_replica_creates_the_ca_secret_and_the_others_use_it() {
        let api = FakeApi::new();
        let first = load_or_create(
            &api.client(),
            "meshcd-system",
            DEFAULT_SECRET,
            "cluster.local",
        )
        .await
        .unwrap();
        let writes = api.take_writes();
        assert_eq!(writes.len(), 1);
        assert_eq!(
            writes[0].line(),
            "POST /api/v1/namespaces/meshcd-system/secrets"
        );
        assert_eq!(
            writes[0].body.as_ref().unwrap()["type"],
            "kubernetes.io/tls"
        );

        let second = load_or_create(
            &api.client(),
            "meshcd-system",
            DEFAULT_SECRET,
            "cluster.local",
        )
        .await
        .unwrap();
        assert_eq!(first.bundle_pem(), second.bundle_pem());
        assert_eq!(api.take_writes(), vec![], "the second replica only reads");
    }

    #[tokio::test]
    async fn replicas_starting_together_end_up_with_one_ca() {
        let api = FakeApi::new();
        let client = api.client();
        let (a, b) = tokio::join!(
            load_or_create(&client, "meshcd-system", DEFAULT_SECRET, "cluster.local"),
            load_or_create(&client, "meshcd-system", DEFAULT_SECRET, "cluster.local"),
        );
        assert_eq!(a.unwrap().bundle_pem(), b.unwrap().bundle_pem());
    }

    #[tokio::test]
    async fn each_root_meshcd_makes_keeps_its_key_in_its_own_secret_shared_by_replicas() {
        let api = FakeApi::new();
        let keys = ClusterRootKeys {
            client: api.client(),
            trust_domain: "cluster.local".into(),
        };
        let first = keys.generated("mesh", "root-2027").await.unwrap();
        let writes = api.take_writes();
        assert_eq!(writes.len(), 1);
        assert_eq!(writes[0].line(), "POST /api/v1/namespaces/mesh/secrets");
        assert_eq!(
            writes[0].body.as_ref().unwrap()["metadata"]["name"],
            "root-2027"
        );
        // Another replica, or this one after a restart, signs with the same key.
        let again = ClusterRootKeys {
            client: api.client(),
            trust_domain: "cluster.local".into(),
        };
        let second = again.generated("mesh", "root-2027").await.unwrap();
        assert_eq!(first.anchor_pem(), second.anchor_pem());
        assert_eq!(api.take_writes(), vec![]);
        let other = keys.generated("mesh", "root-2028").await.unwrap();
        assert_ne!(other.anchor_pem(), first.anchor_pem());
    }

    #[tokio::test]
    async fn an_operators_intermediate_is_read_from_its_secret_and_a_missing_field_is_named() {
        use base64::Engine as _;
        let api = FakeApi::new();
        let (root, _) = CertificateAuthority::generate("example").unwrap();
        // An intermediate stands in as its own CA here: what matters is what is read.
        let (intermediate, key) = CertificateAuthority::generate("mesh").unwrap();
        let encode = |text: &str| base64::engine::general_purpose::STANDARD.encode(text);
        let secret = |data: serde_json::Value| {
            serde_json::json!({
                "apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": "corp-intermediate", "namespace": "mesh"},
                "data": data,
            })
        };
        api.insert(secret(serde_json::json!({
            "tls.crt": encode(intermediate.anchor_pem()),
            "tls.key": encode(&key),
            "ca.crt": encode(root.anchor_pem()),
        })));
        let keys = ClusterRootKeys {
            client: api.client(),
            trust_domain: "cluster.local".into(),
        };
        let read = keys
            .intermediate("mesh", "corp-intermediate")
            .await
            .unwrap();
        assert_eq!(read.anchor_pem(), root.anchor_pem());

        api.insert(secret(serde_json::json!({
            "tls.crt": encode(intermediate.anchor_pem()),
            "tls.key": encode(&key),
        })));
        let error = keys
            .intermediate("mesh", "corp-intermediate")
            .await
            .err()
            .expect("no chain");
        assert_eq!(
            error.to_string(),
            "Secret mesh/corp-intermediate has no ca.crt"
        );
    }
}
