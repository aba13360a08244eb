//! Who a running reconciler trusts and how it proves itself: the mesh CA (from flags, the
//! cluster's Secret, or the state directory), how proxies' bootstrap tokens and admin
//! callers are checked (local files, or the API server in a cluster), the CA bundle
//! proxies are given, and the control plane's own serving certificate.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;

use super::ServeArgs;
use crate::admin;
use crate::cli::cluster::Cluster;
use crate::identity::ca::CertificateAuthority;
use crate::identity::tokens::TokenStore;
use crate::identity::verifier::Verifier;

pub struct Trust {
    pub ca: Arc<CertificateAuthority>,
    pub tokens: Verifier,
    pub authenticator: admin::Authenticator,
    /// The CA bundle proxies join with, written at every start.
    pub bundle_path: PathBuf,
}

impl Trust {
    pub fn prepare(
        args: &ServeArgs,
        state_dir: &Path,
        cluster: Option<&Cluster>,
    ) -> anyhow::Result<Trust> {
        // In a cluster the CA lives in a Secret, shared by every replica.
        let ca = match (&args.ca_cert, &args.ca_key, cluster) {
            (Some(cert), Some(key), _) => Arc::new(CertificateAuthority::from_files(cert, key)?),
            (_, _, Some(cluster)) => cluster.ca.clone(),
            _ => Arc::new(CertificateAuthority::load_or_create(
                state_dir,
                &crate::model::Mesh::default().trust_domain,
            )?),
        };
        let tokens = match cluster {
            Some(cluster) => cluster.verifier(),
            None => {
                let store = TokenStore::new(state_dir);
                store.ensure_private()?;
                store.into()
            }
        };
        let authenticator = admin_authenticator(state_dir, cluster)?;
        let bundle_path = state_dir.join("ca-bundle.pem");
        std::fs::write(&bundle_path, ca.bundle_pem())
            .with_context(|| format!("writing {}", bundle_path.display()))?;
        Ok(Trust {
            ca,
            tokens,
            authenticator,
            bundle_path,
        })
    }

    /// The control plane's serving certificate (PEM chain and key), re-issued at every
    /// start for every name proxies may dial; it never leaves this process.
    pub fn server_certificate(
        &self,
        control_addr: SocketAddr,
        extra_names: &[String],
        cluster: Option<&Cluster>,
    ) -> anyhow::Result<(String, String)> {
        let mut names = vec![
            "localhost".to_string(),
            "meshcd-control-plane".to_string(),
            control_addr.ip().to_string(),
        ];
        names.extend(extra_names.iter().cloned());
        names.extend(
            cluster
                .iter()
                .flat_map(|cluster| cluster.control_plane_names()),
        );
        Ok(self
            .ca
            .issue_server(&names, Duration::from_secs(365 * 24 * 3600))?)
    }
}

/// Kubernetes mode asks the API server about each token; local mode keeps its own in
/// the state directory, where the CLI finds it.
fn admin_authenticator(
    state_dir: &Path,
    cluster: Option<&Cluster>,
) -> anyhow::Result<admin::Authenticator> {
    if let Some(cluster) = cluster {
        return Ok(admin::Authenticator::Cluster(cluster.admin_authorizer()));
    }
    let (token, origin) = admin::token_file::load_or_create(state_dir)?;
    let file = admin::token_file::path(state_dir);
    match origin {
        admin::token_file::Origin::Reused => {
            tracing::info!(file = %file.display(), "admin token kept from the last start")
        }
        admin::token_file::Origin::Created => {
            tracing::info!(file = %file.display(), "admin token written")
        }
        admin::token_file::Origin::Replaced => tracing::warn!(
            file = %file.display(),
            "the admin token file was readable by others or not meshcd's own; a new token replaces it"
        ),
    }
    Ok(admin::Authenticator::Local(Arc::new(token)))
}
