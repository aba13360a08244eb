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
pub mod tls;
pub mod upstream;
pub mod wait_ready;
mod watch;

use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::net::TcpListener;

use accept::Acceptor;
use admin::Admin;
use config::Config;
use http::access_log::AccessLog;
use inbound::{AppClients, Inbound};
use metrics::Metrics;
use outbound::Outbound;
use outbound::on_demand::{Lookups, OnDemand};
use outbound::pool::Pool;
use outbound::tcp::TcpListeners;
use snapshot::{CompileContext, Snapshot, SnapshotStore};
use tls::{TlsError, TlsFiles, TlsStore};
use upstream::endpoint::EndpointRegistry;

/// How long shutdown waits for requests in flight before exiting anyway.
const DRAIN_DEADLINE: Duration = Duration::from_secs(10);
/// Changes arriving this close together are applied once (an editor's or a test's
/// several writes to one file).
const SETTLE: Duration = Duration::from_millis(50);

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
    Join(#[from] join::JoinError),
}

#[derive(Serialize)]
struct Listening<'a> {
    event: &'static str,
    outbound: String,
    inbound: String,
    admin: String,
    tcp: &'a BTreeMap<String, String>,
}

#[derive(Serialize)]
struct TcpAnnouncement<'a> {
    event: &'static str,
    tcp: &'a BTreeMap<String, String>,
}

/// One line of JSON on stdout: the announcements tests and tools parse.
fn announce<T: Serialize>(line: &T) {
    if let Ok(text) = serde_json::to_string(line) {
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{text}");
        let _ = stdout.flush();
    }
}

async fn bind(name: &'static str, address: SocketAddr) -> Result<TcpListener, StartError> {
    TcpListener::bind(address)
        .await
        .map_err(|source| StartError::Bind {
            name,
            address,
            source,
        })
}

fn local(listener: &TcpListener) -> String {
    listener
        .local_addr()
        .map(|address| address.to_string())
        .unwrap_or_default()
}

/// Where the proxy's snapshot and certificate come from.
enum Source {
    Files {
        snapshot: PathBuf,
        certificate: PathBuf,
        key: PathBuf,
    },
    Join(Box<join::JoinOptions>),
}

fn source(config: &Config, inbound: SocketAddr) -> Result<Source, StartError> {
    if let (Some(snapshot), Some(certificate), Some(key)) =
        (&config.snapshot, &config.cert, &config.key)
    {
        return Ok(Source::Files {
            snapshot: snapshot.clone(),
            certificate: certificate.clone(),
            key: key.clone(),
        });
    }
    let token = match (&config.token, &config.token_file) {
        (Some(token), _) => Some(join::Token::Value(token.clone())),
        (None, Some(file)) => Some(join::Token::File(file.clone())),
        (None, None) => None,
    };
    let (Some(control_plane), Some(token), Some(namespace)) =
        (&config.join, token, &config.namespace)
    else {
        return Err(StartError::Usage(
            "give --snapshot, --cert and --key, or --join with --token (or --token-file), \
             --namespace and --service"
                .into(),
        ));
    };
    let ca_bundle_pem =
        std::fs::read_to_string(&config.ca_bundle).map_err(|source| StartError::Read {
            path: config.ca_bundle.clone(),
            source,
        })?;
    let advertised = config
        .advertise
        .unwrap_or(if inbound.ip().is_unspecified() {
            SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), inbound.port())
        } else {
            inbound
        });
    let proxy_id = config
        .proxy_id
        .clone()
        .unwrap_or_else(|| format!("{namespace}/{}@{advertised}", config.service_account));
    Ok(Source::Join(Box::new(join::JoinOptions {
        control_plane: control_plane.clone(),
        control_plane_name: config.control_plane_name.clone(),
        ca_bundle_pem,
        ca_bundle_path: config.ca_bundle.clone(),
        token,
        proxy_id,
        workload: meshcd_schemas::proto::Workload {
            namespace: namespace.clone(),
            service_account: config.service_account.clone(),
            identity: String::new(),
            services: config.services.clone(),
            ports: config
                .ports
                .iter()
                .map(|port| meshcd_schemas::proto::InboundPort {
                    service_port: u32::from(port.service_port),
                    app_address: port.app_address.to_string(),
                    protocol: if port.tcp {
                        meshcd_schemas::proto::Protocol::Tcp
                    } else {
                        meshcd_schemas::proto::Protocol::Http
                    } as i32,
                })
                .collect(),
        },
        inbound_address: advertised.to_string(),
    })))
}

/// Runs the proxy until SIGTERM or SIGINT, then drains.
pub async fn run(config: Config) -> Result<(), StartError> {
    let metrics = Arc::new(Metrics::new());
    let (shutdown, drain) = shutdown::channel();
    let outbound_listener = bind("outbound", config.outbound).await?;
    let inbound_listener = bind("inbound", config.inbound).await?;
    let admin_listener = bind("admin", config.admin).await?;
    let inbound_address = inbound_listener
        .local_addr()
        .map_err(|source| StartError::Bind {
            name: "inbound",
            address: config.inbound,
            source,
        })?;
    let source = source(&config, inbound_address)?;

    // Joined: the first certificate comes from the control plane, with a key made here.
    let (tls, joining) = match &source {
        Source::Files {
            certificate, key, ..
        } => {
            let tls = TlsStore::load(TlsFiles {
                certificate: certificate.clone(),
                key: key.clone(),
                ca_bundle: config.ca_bundle.clone(),
            })?;
            (tls, None)
        }
        Source::Join(options) => {
            let (channel, first) = join::first_certificate(options).await?;
            let labels = TlsFiles {
                certificate: PathBuf::from("<certificate issued by the control plane>"),
                key: PathBuf::from("<key generated by this proxy>"),
                ca_bundle: PathBuf::from("<CA bundle from the control plane>"),
            };
            let tls = TlsStore::from_contents(
                labels,
                [
                    first.chain_pem.clone().into_bytes(),
                    first.key_pem.clone().into_bytes(),
                    first.ca_bundle_pem.clone().into_bytes(),
                ],
            )?;
            (tls, Some((channel, options.as_ref().clone(), first)))
        }
    };
    let tls = Arc::new(tls);
    metrics.certificate_reload(true);
    tracing::info!(identity = %tls.current().identity, "workload certificate loaded");

    let endpoints = Arc::new(EndpointRegistry::default());
    let snapshot_path = match &source {
        Source::Files { snapshot, .. } => snapshot.clone(),
        Source::Join(options) => {
            PathBuf::from(format!("<control plane {}>", options.control_plane))
        }
    };
    let snapshots = Arc::new(SnapshotStore::new(&snapshot_path));
    if matches!(source, Source::Files { .. }) {
        reload_snapshot(&snapshots, &endpoints, &metrics);
    }

    let access_log = config.access_log.then_some(AccessLog);
    let lookups = Arc::new(Lookups::default());
    let on_demand = matches!(source, Source::Join(_)).then(|| {
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
    });
    let inbound = Arc::new(Inbound {
        snapshots: snapshots.clone(),
        tls: tls.clone(),
        metrics: metrics.clone(),
        apps: AppClients::new(config.connect_timeout),
        connect_timeout: config.connect_timeout,
        access_log,
    });
    let tcp = Arc::new(TcpListeners::new(
        outbound.clone(),
        config.outbound.ip(),
        config.max_connections as usize,
        drain.clone(),
    ));

    let background = match (&source, joining) {
        (
            Source::Files {
                snapshot,
                certificate,
                key,
            },
            _,
        ) => {
            if let Some(current) = snapshots.current() {
                tcp.sync(&current);
            }
            let mut files = watch::FileWatch::new(&[
                snapshot.as_path(),
                certificate.as_path(),
                key.as_path(),
                config.ca_bundle.as_path(),
            ])?;
            let tcp = tcp.clone();
            let tls = tls.clone();
            let snapshots = snapshots.clone();
            let endpoints = endpoints.clone();
            let metrics = metrics.clone();
            let mut drain = drain.clone();
            tokio::spawn(async move {
                // Only a change notification wakes this loop: at rest it costs nothing.
                loop {
                    tokio::select! {
                        () = files.changed() => tokio::time::sleep(SETTLE).await,
                        () = drain.signaled() => return,
                    }
                    if let Some(snapshot) = reload_snapshot(&snapshots, &endpoints, &metrics)
                        && tcp.sync(&snapshot)
                    {
                        announce_tcp_listeners(&tcp);
                    }
                    reload_certificates(&tls, &metrics);
                }
            })
        }
        (Source::Join(_), Some((channel, options, first))) => {
            let sink = Arc::new(join::StoreSink {
                snapshots: snapshots.clone(),
                endpoints: endpoints.clone(),
                metrics: metrics.clone(),
                tcp: tcp.clone(),
                tls: tls.clone(),
                lookups,
            });
            join::start(channel, options, sink, first).await?
        }
        (Source::Join(_), None) => unreachable!("a joined proxy always has its first certificate"),
    };

    announce(&Listening {
        event: "listening",
        outbound: local(&outbound_listener),
        inbound: local(&inbound_listener),
        admin: local(&admin_listener),
        tcp: &tcp.addresses(),
    });
    tracing::info!(
        outbound = %local(&outbound_listener),
        inbound = %local(&inbound_listener),
        admin = %local(&admin_listener),
        "listening"
    );

    let max_connections = config.max_connections as usize;
    let accept = |listener: TcpListener, name: &'static str| {
        Acceptor::new(listener, name, max_connections, &metrics)
    };
    tokio::spawn(outbound::listener::serve(
        accept(outbound_listener, "outbound"),
        outbound.clone(),
        drain.clone(),
    ));
    tokio::spawn(inbound::listener::serve(
        accept(inbound_listener, "inbound"),
        inbound,
        drain.clone(),
    ));
    let admin = Arc::new(Admin {
        snapshots: snapshots.clone(),
        metrics: metrics.clone(),
        tcp: tcp.clone(),
        app_probes: config.app_probes.clone().unwrap_or_default(),
    });
    tokio::spawn(admin::serve(
        accept(admin_listener, "admin"),
        admin,
        drain.clone(),
    ));
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

/// Announces the per-service TCP listeners again after a snapshot added some.
pub(crate) fn announce_tcp_listeners(tcp: &TcpListeners) {
    announce(&TcpAnnouncement {
        event: "tcp-listeners",
        tcp: &tcp.addresses(),
    });
}

/// Re-reads the snapshot file; a bad file keeps the snapshot in force and says why.
fn reload_snapshot(
    snapshots: &SnapshotStore,
    endpoints: &EndpointRegistry,
    metrics: &Metrics,
) -> Option<Arc<Snapshot>> {
    let previous = snapshots.current().map(|s| s.version.clone());
    let context = CompileContext { endpoints, metrics };
    match snapshots.reload(&context) {
        Ok(snapshot::Reload::Applied(snapshot)) => {
            endpoints.sweep();
            metrics.snapshot_reload(Some(&snapshot.version), previous.as_deref());
            tracing::info!(
                version = %snapshot.version,
                services = snapshot.services.len(),
                rules = snapshot.rules.len(),
                "snapshot applied"
            );
            Some(snapshot)
        }
        Ok(snapshot::Reload::Unchanged) => None,
        Err(error) => {
            metrics.snapshot_reload(None, None);
            match previous {
                Some(version) => tracing::error!(
                    error = %meshcd_support::error_chain(&error),
                    "snapshot rejected; version {version} stays in force"
                ),
                None => {
                    tracing::error!(error = %meshcd_support::error_chain(&error), "snapshot rejected; not ready until a valid one arrives")
                }
            }
            None
        }
    }
}

fn reload_certificates(tls: &TlsStore, metrics: &Metrics) {
    match tls.reload() {
        Ok(true) => {
            metrics.certificate_reload(true);
            tracing::info!(identity = %tls.current().identity, "workload certificate reloaded");
        }
        Ok(false) => {}
        Err(error) => {
            metrics.certificate_reload(false);
            tracing::warn!(error = %meshcd_support::error_chain(&error), "certificate files rejected; the previous ones stay in force");
        }
    }
}
