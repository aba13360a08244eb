//! OSM's MeshRootCertificate (`config.openservicemesh.io/v1alpha2`) → model: the root's
//! role and where its certificate and key come from.

use std::path::PathBuf;

use super::string;
use crate::model::{MeshRootCertificate, RootRole, RootSource};
use crate::validate::report::{Object, Reporter};

pub fn mesh_root_certificate(
    object: &Object<'_>,
    reporter: &mut Reporter<'_>,
) -> Option<MeshRootCertificate> {
    let value = &object.value;
    let namespace = object.id.namespace.clone().unwrap_or_default();
    // The schema admits only these words (and defaults to active).
    let role = string(value, "/spec/role")
        .and_then(|role| RootRole::parse(&role))
        .unwrap_or_default();
    let source = if let Some(secret) = string(value, "/spec/provider/tresor/ca/secretRef/name") {
        RootSource::Generated {
            secret,
            namespace: string(value, "/spec/provider/tresor/ca/secretRef/namespace")
                .unwrap_or_else(|| namespace.clone()),
        }
    } else if let Some(name) = string(value, "/spec/provider/intermediate/secretRef/name") {
        RootSource::IntermediateSecret {
            name,
            namespace: string(value, "/spec/provider/intermediate/secretRef/namespace")
                .unwrap_or_else(|| namespace.clone()),
        }
    } else if value.pointer("/spec/provider/intermediate").is_some() {
        let mut file = |field: &str| {
            let pointer = format!("/spec/provider/intermediate/{field}");
            let path = PathBuf::from(string(value, &pointer).unwrap_or_default());
            if !path.is_absolute() {
                reporter
                    .error(object, &pointer, format!("{field} {:?} is not an absolute path", path.display()))
                    .hint("the reconciler reads it from its own host: give the full path, e.g. /etc/meshcd/intermediate.crt");
            }
            path
        };
        RootSource::IntermediateFiles {
            certificate: file("certificateFile"),
            key: file("keyFile"),
            chain: file("chainFile"),
        }
    } else {
        let provider = ["certManager", "vault"]
            .into_iter()
            .find(|provider| {
                value
                    .pointer(&format!("/spec/provider/{provider}"))
                    .is_some()
            })
            .unwrap_or("certManager");
        reporter
            .error(
                object,
                &format!("/spec/provider/{provider}"),
                format!("meshcd has no {provider} provider"),
            )
            .hint("use `tresor` (meshcd's own CA, its key kept by the reconciler) or `intermediate` (your own intermediate CA)");
        return None;
    };
    Some(MeshRootCertificate {
        namespace,
        name: object.id.name.clone(),
        role,
        source,
    })
}

#[cfg(test)]
#[path = "roots_tests.rs"]
mod tests;
