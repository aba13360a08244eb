//! meshcd-proxy: meshcd's sidecar data plane.
//!
//! It owns a workload's traffic in both directions. Outbound, the local app's HTTP
//! (explicit proxy, Host routing or transparent interception) and TCP calls are routed
//! to meshed services, split by TrafficSplit weights, balanced over endpoints and carried
//! over mTLS to the destination's proxy. Inbound, peers' calls are authenticated by their
//! SPIFFE certificate, authorized by the SMI rules of the snapshot and forwarded to the
//! app. Its whole configuration is one snapshot (`meshcd.v1.Snapshot`), read from a file
//! and swapped atomically when it changes.

mod accept;
pub mod admin;
pub mod app_probe;
pub mod config;
pub mod http;
pub mod inbound;
pub mod join;
pub mod metrics;
pub mod outbound;
pub mod shutdown;
pub mod snapshot;
mod start;
pub mod tls;
pub mod upstream;
pub mod wait_ready;
mod watch;

use std::sync::Arc;
use std::time::Duration;

use config::Config;
use http::access_log::AccessLog;
use inbound::{AppClients, Inbound};
use metrics::Metrics;
use outbound::Outbound;
use outbound::egress::EgressClient;
use outbound::on_demand::{Lookups, OnDemand};
use outbound::pool::Pool;
use outbound::tcp::TcpListeners;
use snapshot::SnapshotStore;
use start::listeners::{Listeners, Services};
use start::source::Source;
use start::stores::Stores;

pub use start::StartError;
use upstream::endpoint::EndpointRegistry;

/// How long shutdown waits for requests in flight before exiting anyway.
const DRAIN_DEADLINE: Duration = Duration::from_secs(10);

/// Runs the proxy until SIGTERM or SIGINT, then drains. The assembly of the parts in
/// `start`: listeners bound first (a taken port fails at once), then the first
/// certificate, the stores, the services over them, and the follower that keeps the
/// stores current.
pub async fn run(config: Config) -> Result<(), StartError> {
    let metrics = Arc::new(Metrics::new());
    let (shutdown, drain) = shutdown::channel();
    let listeners = Listeners::bind(&config).await?;
    let source = Source::from_config(&config, listeners.inbound_address(&config)?)?;

    let (tls, joined) = source.first_certificate().await?;
    let tls = Arc::new(tls);
    metrics.certificate_reload(true);
    tracing::info!(identity = %tls.current().identity, "workload certificate loaded");

    let snapshots = Arc::new(SnapshotStore::new(&source.snapshot_label()));
    let endpoints = Arc::new(EndpointRegistry::default());
    let lookups = Arc::new(Lookups::default());
    let access_log = config.access_log.then_some(AccessLog);
    let on_demand = source.is_join().then(|| {
        Arc::new(OnDemand::new(
            lookups.clone(),
            endpoints.clone(),
            metrics.clone(),
        ))
    });
    let outbound = Arc::new(Outbound {
        snapshots: snapshots.clone(),
        pool: Arc::new(Pool::new(tls.clone(), metrics.clone())),
        metrics: metrics.clone(),
        connect_timeout: config.connect_timeout,
        request_timeout: config.request_timeout,
        access_log,
        on_demand,
        budgets: Default::default(),
        breakers: Default::default(),
        egress: Arc::new(EgressClient::new(config.connect_timeout)?),
    });
    let inbound = Arc::new(Inbound {
        snapshots: snapshots.clone(),
        tls: tls.clone(),
        metrics: metrics.clone(),
        apps: AppClients::new(config.connect_timeout),
        connect_timeout: config.connect_timeout,
        access_log,
        rate_limiters: Default::default(),
    });
    let tcp = Arc::new(TcpListeners::new(
        outbound.clone(),
        config.outbound.ip(),
        config.max_connections as usize,
        drain.clone(),
    ));
    let stores = Arc::new(Stores {
        snapshots: snapshots.clone(),
        endpoints,
        metrics: metrics.clone(),
        tcp: tcp.clone(),
        tls,
        lookups,
    });
    if !source.is_join() {
        stores.load_first_snapshot();
    }
    let background = start::follow::follow(&source, joined, stores, drain.clone()).await?;

    listeners.announce(&tcp);
    let admin = Arc::new(admin::Admin {
        snapshots,
        metrics: metrics.clone(),
        tcp: tcp.clone(),
        app_probes: config.app_probes.clone().unwrap_or_default(),
    });
    let services = Services {
        outbound,
        inbound,
        admin,
    };
    listeners.serve(services, config.max_connections as usize, &metrics, &drain);
    drop(drain);

    shutdown::signal().await;
    tcp.close();
    let drained = shutdown.drain(DRAIN_DEADLINE).await;
    background.abort();
    if drained {
        tracing::info!("drained; exiting");
    } else {
        tracing::warn!("requests still in flight after {DRAIN_DEADLINE:?}; exiting anyway");
    }
    Ok(())
}
