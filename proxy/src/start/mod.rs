//! The parts `crate::run` assembles into a running proxy, each with one job: where the
//! configuration comes from (`source`), the stores every listener reads and how changes
//! reach them (`stores`, `follow`), and the listeners with their announcements
//! (`listeners`).

pub mod follow;
pub mod listeners;
pub mod source;
pub mod stores;

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::join::JoinError;
use crate::tls::TlsError;

/// Why the proxy did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("load the workload certificate")]
    Tls(#[from] TlsError),
    #[error("bind the {name} listener on {address}")]
    Bind {
        name: &'static str,
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error("watch the snapshot and certificate files")]
    Watch(#[from] notify::Error),
    #[error("{0}")]
    Usage(String),
    #[error("read {}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("join the control plane")]
    Join(#[from] JoinError),
    #[error("set up the resolver of calls out of the mesh")]
    Egress(#[from] crate::outbound::egress::ResolveError),
}
