//! The reconciler's two listeners: the control plane (gRPC over TLS, for proxies) and the
//! admin API. Bound before anything is served, so that an address in use fails the start
//! with the flag that moves it; announced once everything runs.

use std::net::SocketAddr;
use std::path::Path;

use anyhow::{Context as _, bail};
use tokio::net::TcpListener;

use super::ServeArgs;

pub struct Listeners {
    pub control: TcpListener,
    pub admin: TcpListener,
    pub control_addr: SocketAddr,
    pub admin_addr: SocketAddr,
}

impl Listeners {
    pub async fn bind(args: &ServeArgs) -> anyhow::Result<Listeners> {
        let control = bind(
            "the control plane",
            args.control_plane_addr,
            "--control-plane-addr",
        )
        .await?;
        let admin = bind("the admin listener", args.admin_addr, "--admin-addr").await?;
        Ok(Listeners {
            control_addr: control.local_addr()?,
            admin_addr: admin.local_addr()?,
            control,
            admin,
        })
    }
}

/// One JSON line on stdout (tests and tools parse it) and one for people on stderr.
pub fn announce(control_addr: SocketAddr, admin_addr: SocketAddr, bundle_path: &Path) {
    sayln!(
        "{}",
        serde_json::json!({
            "event": "listening",
            "controlPlane": control_addr.to_string(),
            "admin": admin_addr.to_string(),
            "caBundle": bundle_path.display().to_string(),
        })
    );
    eprintln!(
        "meshcd: control plane on {control_addr} (TLS, CA bundle {}), admin on http://{admin_addr}",
        bundle_path.display()
    );
}

/// Binds `address`; an address in use names the flag that moves it.
async fn bind(what: &str, address: SocketAddr, flag: &str) -> anyhow::Result<TcpListener> {
    match TcpListener::bind(address).await {
        Ok(listener) => Ok(listener),
        Err(error) if error.kind() == std::io::ErrorKind::AddrInUse => bail!(
            "binding {what} to {address}: the address is in use (another meshcd?): \
             choose another with {flag} (port 0 picks a free one, e.g. {flag} {}:0)",
            address.ip()
        ),
        Err(error) => Err(error).with_context(|| format!("binding {what} to {address} ({flag})")),
    }
}
