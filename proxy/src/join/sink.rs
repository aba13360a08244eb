//! Puts what the control plane sends into the proxy's stores: snapshots into the
//! snapshot store (and the per-service TCP listeners), certificates into the TLS store.

use std::sync::Arc;

use meshcd_schemas::proto;

use super::{JoinSink, WorkloadCertificate};
use crate::metrics::{Direction, Metrics};
use crate::outbound::on_demand::Lookups;
use crate::outbound::tcp::TcpListeners;
use crate::snapshot::{CompileContext, SnapshotStore};
use crate::tls::TlsStore;
use crate::upstream::endpoint::EndpointRegistry;

pub struct StoreSink {
    pub snapshots: Arc<SnapshotStore>,
    pub endpoints: Arc<EndpointRegistry>,
    pub metrics: Arc<Metrics>,
    pub tcp: Arc<TcpListeners>,
    pub tls: Arc<TlsStore>,
    pub lookups: Arc<Lookups>,
}

impl JoinSink for StoreSink {
    fn apply_snapshot(&self, snapshot: proto::Snapshot) -> Result<(), String> {
        let previous = self.snapshots.current().map(|s| s.version.clone());
        let context = CompileContext {
            endpoints: &self.endpoints,
            metrics: &self.metrics,
        };
        match self.snapshots.apply(snapshot, &context) {
            Ok(snapshot) => {
                self.endpoints.sweep();
                self.metrics
                    .snapshot_reload(Some(&snapshot.version), previous.as_deref());
                tracing::info!(version = %snapshot.version, services = snapshot.services.len(), rules = snapshot.rules.len(), "snapshot applied");
                if self.tcp.sync(&snapshot) {
                    crate::announce_tcp_listeners(&self.tcp);
                }
                Ok(())
            }
            Err(error) => {
                self.metrics.snapshot_reload(None, None);
                Err(meshcd_support::error_chain(&error))
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
        result.map_err(|error| meshcd_support::error_chain(&error))
    }

    fn traffic_totals(&self, direction: Direction) -> Vec<crate::metrics::BackendTotals> {
        self.metrics.totals(direction)
    }

    fn traffic_activity(&self) -> Arc<crate::metrics::Activity> {
        self.metrics.activity().clone()
    }

    fn lookups(&self) -> Arc<Lookups> {
        self.lookups.clone()
    }

    fn current_version(&self) -> Option<String> {
        self.snapshots.current().map(|s| s.version.to_string())
    }
}
