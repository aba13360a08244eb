//! The stores every listener reads (snapshot, endpoints, TLS, per-service TCP listeners,
//! on-demand lookups) and how a new snapshot or certificate gets into them, from files or
//! from the control plane: swapped whole, or refused with the previous one kept in force.

use std::sync::Arc;

use meshcd_schemas::proto;
use meshcd_support::error_chain;

use super::listeners::announce_tcp_listeners;
use crate::join::{JoinSink, WorkloadCertificate};
use crate::metrics::{Activity, BackendTotals, Direction, Metrics};
use crate::outbound::on_demand::Lookups;
use crate::outbound::tcp::TcpListeners;
use crate::snapshot::{self, CompileContext, Snapshot, SnapshotStore};
use crate::tls::TlsStore;
use crate::upstream::endpoint::EndpointRegistry;

pub struct Stores {
    pub snapshots: Arc<SnapshotStore>,
    pub endpoints: Arc<EndpointRegistry>,
    pub metrics: Arc<Metrics>,
    pub tcp: Arc<TcpListeners>,
    pub tls: Arc<TlsStore>,
    pub lookups: Arc<Lookups>,
}

impl Stores {
    /// The snapshot file as found at start; its TCP listeners are announced with the others.
    pub fn load_first_snapshot(&self) {
        if let Some(snapshot) = self.reload_snapshot() {
            self.tcp.sync(&snapshot);
        }
    }

    /// After a change to the watched files: the snapshot, its TCP listeners and the
    /// certificate, each kept as it was if the new files are not usable.
    pub fn reload_files(&self) {
        if let Some(snapshot) = self.reload_snapshot()
            && self.tcp.sync(&snapshot)
        {
            announce_tcp_listeners(&self.tcp);
        }
        self.reload_certificates();
    }

    fn reload_snapshot(&self) -> Option<Arc<Snapshot>> {
        let previous = self.snapshots.current().map(|s| s.version.clone());
        match self.snapshots.reload(&self.context()) {
            Ok(snapshot::Reload::Applied(snapshot)) => {
                self.applied(&snapshot, previous.as_deref());
                Some(snapshot)
            }
            Ok(snapshot::Reload::Unchanged) => None,
            Err(error) => {
                self.metrics.snapshot_reload(None, None);
                let error = error_chain(&error);
                match previous {
                    Some(version) => tracing::error!(
                        %error,
                        "snapshot rejected; version {version} stays in force"
                    ),
                    None => tracing::error!(
                        %error,
                        "snapshot rejected; not ready until a valid one arrives"
                    ),
                }
                None
            }
        }
    }

    fn reload_certificates(&self) {
        match self.tls.reload() {
            Ok(true) => {
                self.metrics.certificate_reload(true);
                tracing::info!(identity = %self.tls.current().identity, "workload certificate reloaded");
            }
            Ok(false) => {}
            Err(error) => {
                self.metrics.certificate_reload(false);
                tracing::warn!(error = %error_chain(&error), "certificate files rejected; the previous ones stay in force");
            }
        }
    }

    fn context(&self) -> CompileContext<'_> {
        CompileContext {
            endpoints: &self.endpoints,
            metrics: &self.metrics,
        }
    }

    /// What follows a swapped-in snapshot, whichever way it came.
    fn applied(&self, snapshot: &Snapshot, previous: Option<&str>) {
        self.endpoints.sweep();
        self.metrics
            .snapshot_reload(Some(&snapshot.version), previous);
        tracing::info!(
            version = %snapshot.version,
            services = snapshot.services.len(),
            rules = snapshot.rules.len(),
            "snapshot applied"
        );
    }
}

/// What the control plane sends goes into the same stores.
impl JoinSink for Stores {
    fn apply_snapshot(&self, snapshot: proto::Snapshot) -> Result<(), String> {
        let previous = self.snapshots.current().map(|s| s.version.clone());
        match self.snapshots.apply(snapshot, &self.context()) {
            Ok(snapshot) => {
                self.applied(&snapshot, previous.as_deref());
                if self.tcp.sync(&snapshot) {
                    announce_tcp_listeners(&self.tcp);
                }
                Ok(())
            }
            Err(error) => {
                self.metrics.snapshot_reload(None, None);
                Err(error_chain(&error))
            }
        }
    }

    fn apply_certificate(&self, certificate: &WorkloadCertificate) -> Result<(), String> {
        let result = self.tls.apply([
            certificate.chain_pem.clone().into_bytes(),
            certificate.key_pem.clone().into_bytes(),
            certificate.ca_bundle_pem.clone().into_bytes(),
        ]);
        self.metrics.certificate_reload(result.is_ok());
        result.map_err(|error| error_chain(&error))
    }

    fn apply_trust(&self, roots_pem: &str) -> Result<(), String> {
        match self.tls.apply_bundle(roots_pem.as_bytes()) {
            Ok(changed) => {
                if changed {
                    tracing::info!("trusted roots changed");
                }
                Ok(())
            }
            Err(error) => Err(error_chain(&error)),
        }
    }

    fn traffic_totals(&self, direction: Direction) -> Vec<BackendTotals> {
        self.metrics.totals(direction)
    }

    fn traffic_activity(&self) -> Arc<Activity> {
        self.metrics.activity().clone()
    }

    fn lookups(&self) -> Arc<Lookups> {
        self.lookups.clone()
    }

    fn current_version(&self) -> Option<String> {
        self.snapshots.current().map(|s| s.version.to_string())
    }
}
