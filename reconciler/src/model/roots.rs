//! The mesh's roots of trust (OSM's MeshRootCertificate, `config.openservicemesh.io/v1alpha2`):
//! which roots proxies trust and which one issues their certificates.

use std::path::PathBuf;

/// What a root does in the mesh (`spec.role`, a meshcd addition to OSM's kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum RootRole {
    /// Issues workload certificates, and is trusted.
    #[default]
    Active,
    /// Trusted only: the first step of a rotation, and the old root's last one.
    Passive,
    /// Neither trusted nor issuing: as if the object were gone.
    Inactive,
}

impl RootRole {
    /// The spelling of the config repository.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Passive => "passive",
            Self::Inactive => "inactive",
        }
    }

    /// Parses the config repository's spelling; the JSON Schema admits no other.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Active, Self::Passive, Self::Inactive]
            .into_iter()
            .find(|role| role.as_str() == text)
    }
}

/// Where a root's certificate and signing key come from. Keys never come from Git.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RootSource {
    /// meshcd's own self-signed CA (OSM's `tresor`): made by the reconciler on first use
    /// and kept under this name (the state directory in local mode, this Secret in a
    /// cluster). The name `meshcd-ca` is the CA a mesh has before any MeshRootCertificate.
    Generated { secret: String, namespace: String },
    /// An operator's intermediate CA from files on the reconciler's host.
    IntermediateFiles {
        certificate: PathBuf,
        key: PathBuf,
        /// The certificates above the intermediate, the operator's root last.
        chain: PathBuf,
    },
    /// An operator's intermediate CA from a Secret (`tls.crt`, `tls.key`, `ca.crt`).
    IntermediateSecret { name: String, namespace: String },
}

impl RootSource {
    /// One line for status, diff and logs.
    pub fn describe(&self) -> String {
        match self {
            Self::Generated { secret, namespace } => {
                format!("meshcd's own CA (Secret {namespace}/{secret})")
            }
            Self::IntermediateFiles { certificate, .. } => {
                format!("intermediate CA {}", certificate.display())
            }
            Self::IntermediateSecret { name, namespace } => {
                format!("intermediate CA (Secret {namespace}/{name})")
            }
        }
    }
}

/// One MeshRootCertificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeshRootCertificate {
    pub namespace: String,
    pub name: String,
    pub role: RootRole,
    pub source: RootSource,
}
