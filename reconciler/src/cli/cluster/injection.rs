//! The sidecar injection webhook: a serving certificate from the mesh CA (which the API
//! server trusts through the configuration's caBundle), the namespaces it injects into
//! (those the applied revision onboards) and the way it injects (native sidecars or not,
//! by the API server's version).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use meshcd_support::Backoff;
use tokio::sync::{Mutex, watch};
use tokio::task::JoinHandle;

use super::{ClusterArgs, service_names};
use crate::control::mesh::Mesh;
use crate::identity::ca::CertificateAuthority;
use crate::kubernetes::inject::{Settings, sidecar_mode};
use crate::kubernetes::sync::KubernetesStatus;
use crate::kubernetes::webhook;

/// Starts the webhook; says how it injects.
pub async fn start(
    args: &ClusterArgs,
    client: &kube::Client,
    ca: &CertificateAuthority,
    mesh: &Arc<Mesh>,
    status: &Mutex<KubernetesStatus>,
    caps: &crate::accept::Caps,
    tasks: &mut Vec<JoinHandle<()>>,
) -> anyhow::Result<String> {
    let namespace = &args.namespace;
    let names = service_names("meshcd-webhook", namespace);
    let (cert, key) = ca.issue_server(&names, Duration::from_secs(365 * 24 * 3600))?;
    let acceptor = webhook::acceptor(&cert, &key)?;
    let listener = tokio::net::TcpListener::bind(args.webhook_addr)
        .await
        .with_context(|| format!("binding the webhook to {}", args.webhook_addr))?;
    if let Err(error) =
        webhook::patch_ca_bundle(client, &args.webhook_configuration, ca.bundle_pem()).await
    {
        tracing::warn!(error = %meshcd_support::error_chain(&error), "the API server may not trust the webhook yet");
    }
    let (onboarded_sender, onboarded) = watch::channel(BTreeSet::new());
    let revisions_mesh = mesh.clone();
    tasks.push(tokio::spawn(async move {
        let mut revisions = revisions_mesh.subscribe_revisions();
        loop {
            if let Some(applied) = revisions_mesh.applied().await {
                onboarded_sender.send_replace(applied.config.namespaces.clone());
            }
            if revisions.changed().await.is_err() {
                return;
            }
        }
    }));
    let version = server_version(client).await;
    let (native_sidecars, sidecars) = sidecar_mode(args.native_sidecars, version);
    status.lock().await.sidecars = Some(sidecars.clone());
    let settings = Settings {
        native_sidecars,
        proxy_image: args.proxy_image.clone(),
        control_plane: format!("meshcd-control-plane.{namespace}.svc:15012"),
        control_plane_name: format!("meshcd-control-plane.{namespace}.svc"),
    };
    tasks.push(tokio::spawn(webhook::serve(
        caps.acceptor(listener, "webhook"),
        acceptor,
        settings,
        onboarded,
    )));
    Ok(sidecars)
}

/// `major.minor` of the API server; a minor such as `28+` (managed clusters) counts as 28.
async fn server_version(client: &kube::Client) -> Option<(u32, u32)> {
    // Every replica must inject alike: a passing API error is not "unknown version".
    let mut info = None;
    let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(1));
    for attempt in 1..=5 {
        match client.apiserver_version().await {
            Ok(answer) => {
                info = Some(answer);
                break;
            }
            Err(error) => {
                tracing::warn!(%error, attempt, "asking the API server for its version");
                tokio::time::sleep(backoff.next_delay()).await;
            }
        }
    }
    let info = info?;
    let number = |text: &str| -> Option<u32> {
        text.trim_end_matches(|c: char| !c.is_ascii_digit())
            .parse()
            .ok()
    };
    Some((number(&info.major)?, number(&info.minor)?))
}
