//! The proxy's three listeners (outbound, inbound, admin): bound before anything else so
//! that a taken port fails the start at once, announced on stdout as one JSON line each
//! time they change (tests and tools parse it), then served under one connection cap.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

use serde::Serialize;
use tokio::net::TcpListener;

use super::StartError;
use crate::accept::Acceptor;
use crate::admin::{self, Admin};
use crate::config::Config;
use crate::inbound::{self, Inbound};
use crate::metrics::Metrics;
use crate::outbound::tcp::TcpListeners;
use crate::outbound::{self, Outbound};
use crate::shutdown::Drain;

pub struct Listeners {
    outbound: TcpListener,
    inbound: TcpListener,
    admin: TcpListener,
}

/// What the listeners serve.
pub struct Services {
    pub outbound: Arc<Outbound>,
    pub inbound: Arc<Inbound>,
    pub admin: Arc<Admin>,
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

impl Listeners {
    pub async fn bind(config: &Config) -> Result<Listeners, StartError> {
        Ok(Listeners {
            outbound: bind("outbound", config.outbound).await?,
            inbound: bind("inbound", config.inbound).await?,
            admin: bind("admin", config.admin).await?,
        })
    }

    /// The inbound address as bound (its port chosen by the system when 0 was asked).
    pub fn inbound_address(&self, config: &Config) -> Result<SocketAddr, StartError> {
        self.inbound
            .local_addr()
            .map_err(|source| StartError::Bind {
                name: "inbound",
                address: config.inbound,
                source,
            })
    }

    /// Says where the proxy listens, on stdout (JSON) and in the log.
    pub fn announce(&self, tcp: &TcpListeners) {
        announce(&Listening {
            event: "listening",
            outbound: local(&self.outbound),
            inbound: local(&self.inbound),
            admin: local(&self.admin),
            tcp: &tcp.addresses(),
        });
        tracing::info!(
            outbound = %local(&self.outbound),
            inbound = %local(&self.inbound),
            admin = %local(&self.admin),
            "listening"
        );
    }

    /// Serves each listener in its own task until `drain` is signalled.
    pub fn serve(
        self,
        services: Services,
        max_connections: usize,
        metrics: &Metrics,
        drain: &Drain,
    ) {
        let accept = |listener: TcpListener, name: &'static str| {
            Acceptor::new(listener, name, max_connections, metrics)
        };
        tokio::spawn(outbound::listener::serve(
            accept(self.outbound, "outbound"),
            services.outbound,
            drain.clone(),
        ));
        tokio::spawn(inbound::listener::serve(
            accept(self.inbound, "inbound"),
            services.inbound,
            drain.clone(),
        ));
        tokio::spawn(admin::serve(
            accept(self.admin, "admin"),
            services.admin,
            drain.clone(),
        ));
    }
}

/// Announces the per-service TCP listeners again after a snapshot added some.
pub fn announce_tcp_listeners(tcp: &TcpListeners) {
    announce(&TcpAnnouncement {
        event: "tcp-listeners",
        tcp: &tcp.addresses(),
    });
}

/// One line of JSON on stdout.
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
