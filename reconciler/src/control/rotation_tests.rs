//! A rotation step is put in force only when it cannot fail a call: a new issuing root
//! once every proxy ACKed a snapshot that trusts it, a dropped root once no proxy serves
//! a certificate from it; and a step that waits is woken by the proxies, not a timer.

use std::sync::Arc;

use meshcd_schemas::proto;
use tokio::sync::mpsc;

use super::mesh::{Mesh, RotationWait};
use crate::identity::ca::CertificateAuthority;
use crate::identity::roots::{Root, Trust, fingerprint};
use crate::inventory::Workload;
use crate::model::{Config, Identity};

fn shop() -> Config {
    Config {
        namespaces: ["shop".to_string()].into(),
        ..Config::default()
    }
}

fn ca() -> Arc<CertificateAuthority> {
    Arc::new(CertificateAuthority::generate("cluster.local").unwrap().0)
}

/// `issuer` issues; every CA of `trusted` (the issuer among them) is trusted.
fn trust(issuer: &Arc<CertificateAuthority>, others: &[&Arc<CertificateAuthority>]) -> Arc<Trust> {
    let root = |name: &str, ca: &CertificateAuthority| Root {
        name: name.to_string(),
        fingerprint: fingerprint(ca.anchor_pem()),
        pem: ca.anchor_pem().to_string(),
    };
    let mut roots = vec![root("issuer", issuer)];
    roots.extend(
        others
            .iter()
            .enumerate()
            .map(|(i, ca)| root(&format!("other-{i}"), ca)),
    );
    Arc::new(Trust {
        roots,
        issuer: issuer.clone(),
    })
}

struct Proxy {
    id: String,
    stream: mpsc::Receiver<Result<proto::ControlMessage, tonic::Status>>,
}

impl Proxy {
    async fn join(mesh: &Arc<Mesh>, id: &str, root: &CertificateAuthority) -> Proxy {
        let (sender, stream) = mpsc::channel(8);
        let workload = Workload {
            id: id.into(),
            identity: Identity {
                namespace: "shop".into(),
                service_account: "api".into(),
            },
            services: vec!["api".into()],
            ports: Vec::new(),
            inbound_address: format!("127.0.0.1:{}", 15000 + id.len()),
        };
        mesh.connect(id.into(), workload, None, sender)
            .await
            .unwrap();
        mesh.certificate_root(id, fingerprint(root.anchor_pem()))
            .await;
        Proxy {
            id: id.into(),
            stream,
        }
    }

    /// ACKs the newest snapshot sent, serving a certificate of `root`.
    async fn ack_latest(&mut self, mesh: &Mesh, root: &CertificateAuthority) {
        let mut version = None;
        while let Ok(message) = self.stream.try_recv() {
            if let Some(proto::control_message::Message::Snapshot(snapshot)) =
                message.unwrap().message
            {
                version = Some(snapshot.version);
            }
        }
        let version = version.expect("a snapshot was sent");
        mesh.ack(&self.id, version, Some(fingerprint(root.anchor_pem())))
            .await;
    }
}

#[tokio::test]
async fn a_new_root_issues_only_once_every_proxy_acked_a_snapshot_trusting_it() {
    let (old, new) = (ca(), ca());
    let mesh = Arc::new(Mesh::default());
    mesh.apply_with_trust("r1".into(), shop(), trust(&old, &[]))
        .await
        .unwrap();
    let mut a = Proxy::join(&mesh, "a", &old).await;
    let mut b = Proxy::join(&mesh, "b", &old).await;
    tokio::time::sleep(super::mesh::MEMBERSHIP_SETTLE * 3).await;

    // Skipping the first step: nobody trusts the new root yet.
    let refused = mesh
        .apply_with_trust("r2".into(), shop(), trust(&new, &[&old]))
        .await;
    assert!(
        matches!(&refused, Err(RotationWait::Trust { proxies, .. }) if proxies.len() == 2),
        "{refused:?}"
    );
    assert_eq!(mesh.applied().await.unwrap().revision, "r1");

    mesh.apply_with_trust("r3".into(), shop(), trust(&old, &[&new]))
        .await
        .expect("adding a passive root is always safe");
    let mut progress = mesh.subscribe_rotation();
    progress.mark_unchanged();
    let waiting = mesh
        .apply_with_trust("r4".into(), shop(), trust(&new, &[&old]))
        .await;
    assert!(waiting.is_err(), "no proxy ACKed r3 yet");
    a.ack_latest(&mesh, &old).await;
    assert!(
        progress.has_changed().unwrap(),
        "an ACK wakes a waiting step"
    );
    let one_left = mesh
        .apply_with_trust("r4".into(), shop(), trust(&new, &[&old]))
        .await;
    assert!(
        matches!(&one_left, Err(RotationWait::Trust { proxies, .. }) if proxies == &["b".to_string()]),
        "{one_left:?}"
    );
    b.ack_latest(&mesh, &old).await;
    mesh.apply_with_trust("r4".into(), shop(), trust(&new, &[&old]))
        .await
        .expect("both proxies trust the new root");
    let status = mesh.trust_status().await.unwrap();
    assert_eq!(status.phase, "reissuing");
    assert_eq!(status.proxies_on_old_roots, ["a", "b"]);
}

#[tokio::test]
async fn a_root_is_dropped_only_once_no_proxy_serves_a_certificate_from_it() {
    let (old, new) = (ca(), ca());
    let mesh = Arc::new(Mesh::default());
    mesh.apply_with_trust("r1".into(), shop(), trust(&new, &[&old]))
        .await
        .unwrap();
    let mut a = Proxy::join(&mesh, "a", &new).await;
    let mut b = Proxy::join(&mesh, "b", &old).await;
    tokio::time::sleep(super::mesh::MEMBERSHIP_SETTLE * 3).await;
    a.ack_latest(&mesh, &new).await;
    b.ack_latest(&mesh, &old).await;

    let refused = mesh
        .apply_with_trust("r2".into(), shop(), trust(&new, &[]))
        .await;
    assert!(
        matches!(&refused, Err(RotationWait::Certificates { proxies, .. }) if proxies == &["b".to_string()]),
        "{refused:?}"
    );
    let status = mesh.trust_status().await.unwrap();
    assert!(status.waiting.is_some());

    // b renews: its ACK of the same version says so.
    mesh.ack(
        "b",
        mesh.proxies().await[1].acked_version.clone().unwrap(),
        Some(fingerprint(new.anchor_pem())),
    )
    .await;
    mesh.apply_with_trust("r2".into(), shop(), trust(&new, &[]))
        .await
        .expect("no proxy serves a certificate of the old root");
    let status = mesh.trust_status().await.unwrap();
    assert_eq!(status.phase, "single-root");
    assert!(status.waiting.is_none());
}
