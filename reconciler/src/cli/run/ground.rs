//! What every part of a running reconciler stands on, prepared before any of them runs:
//! the state directory (locked, so that a second reconciler cannot share it), the
//! cluster connection in Kubernetes mode, trust, and the bound listeners.

use std::path::{Path, PathBuf};

use anyhow::bail;

use super::ServeArgs;
use super::followed;
use super::listeners::Listeners;
use super::state_lock::{self, StateLock};
use super::trust::Trust;
use crate::cli::cluster::{Cluster, ClusterArgs};
use crate::source::Source;

pub struct Ground {
    pub state_dir: PathBuf,
    pub cluster: Option<Cluster>,
    pub trust: Trust,
    pub listeners: Listeners,
    /// The control plane's serving certificate and key (PEM).
    pub server_certificate: (String, String),
    _lock: StateLock,
}

pub async fn prepare(
    source: &Source,
    subpath: Option<&Path>,
    args: &ServeArgs,
    cluster: Option<ClusterArgs>,
) -> anyhow::Result<Ground> {
    if let Some(path) = source.local_path()
        && !path.exists()
    {
        bail!("config repository {} does not exist", path.display());
    }
    let state_dir = args.state.for_serving()?;
    let lock = state_lock::lock(&state_dir)?;
    followed::record(&state_dir, source, subpath)?;
    let cluster = match cluster {
        Some(args) => {
            Some(Cluster::connect(args, &crate::model::Mesh::default().trust_domain).await?)
        }
        None => None,
    };
    let trust = Trust::prepare(args, &state_dir, cluster.as_ref())?;
    let listeners = Listeners::bind(args).await?;
    let server_certificate =
        trust.server_certificate(listeners.control_addr, &args.server_names, cluster.as_ref())?;
    Ok(Ground {
        state_dir,
        cluster,
        trust,
        listeners,
        server_certificate,
        _lock: lock,
    })
}
