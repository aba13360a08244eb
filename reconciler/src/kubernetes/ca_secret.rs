//! The mesh CA kept in a Secret, so every reconciler replica signs with the same key.
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

pub const DEFAULT_SECRET: &str = "meshcd-ca";
const CERT_KEY: &str = "tls.crt";
const KEY_KEY: &str = "tls.key";

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

fn from_secret(
    secret: &Secret,
    namespace: &str,
    name: &str,
) -> Result<CertificateAuthority, CaSecretError> {
    let field = |field: &'static str| {
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
    };
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
}
