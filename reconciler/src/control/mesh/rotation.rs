//! Root CA rotation: a change of the roots in force is applied only when no proxy can
//! lose a connection over it. A new issuing root must be trusted by every proxy first
//! (each ACKed a snapshot carrying it); a root stops being trusted only when no proxy
//! serves a certificate of it any more. A step that does not hold yet is refused whole
//! (the last good revision stays in force), and checked again when a proxy says more.

use std::collections::BTreeSet;
use std::sync::Arc;

use tokio::sync::watch;

use super::*;

/// Why a revision's roots cannot be put in force yet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", tag = "waitingFor")]
pub enum RotationWait {
    #[error(
        "root {root} cannot issue yet: {} proxies have not acknowledged a trust bundle holding it ({})",
        proxies.len(), shortlist(proxies)
    )]
    Trust { root: String, proxies: Vec<String> },
    #[error(
        "root {root} cannot be dropped yet: {} proxies still serve a certificate from it or have not said which root theirs is from ({})",
        proxies.len(), shortlist(proxies)
    )]
    Certificates { root: String, proxies: Vec<String> },
}

fn shortlist(proxies: &[String]) -> String {
    let mut text = proxies
        .iter()
        .take(5)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if proxies.len() > 5 {
        text.push_str(", …");
    }
    text
}

/// The rotation as `meshcd status` shows it.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrustStatus {
    /// `single-root`; `distributing` (some proxy has not acknowledged every root);
    /// `reissuing` (some proxy serves a certificate of another root than the issuing
    /// one); `reissued` (every proxy's certificate is from the issuing root, the others
    /// are trusted only and may be dropped).
    pub phase: String,
    /// `name (fingerprint prefix)`, the issuing root first.
    pub roots: Vec<String>,
    pub issuing: String,
    /// Proxies whose certificate is not from the issuing root (or unknown).
    pub proxies_on_old_roots: Vec<String>,
    /// The step refused, while it waits.
    pub waiting: Option<RotationWait>,
}

impl Mesh {
    /// Puts `trust` in force with a validated revision, when the rotation step it makes
    /// holds; otherwise nothing changes and the refusal says what it waits for.
    pub async fn apply_with_trust(
        &self,
        revision: String,
        config: Config,
        trust: Arc<Trust>,
    ) -> Result<(), RotationWait> {
        let mut inner = self.inner.lock().await;
        if let Err(wait) = check(&inner, &trust) {
            inner.rotation_wait = Some(wait.clone());
            return Err(wait);
        }
        inner.rotation_wait = None;
        inner.trusted = Arc::new(
            trust
                .roots
                .iter()
                .map(|root| root.fingerprint.clone())
                .collect(),
        );
        inner.trust = Some(trust);
        self.put_in_force(&mut inner, revision, config);
        Ok(())
    }

    /// The CA that issues workload certificates now (`None`: the one the mesh started with).
    pub async fn trust(&self) -> Option<Arc<Trust>> {
        self.inner.lock().await.trust.clone()
    }

    /// Changes when proxies say something a waiting rotation step may need.
    pub fn subscribe_rotation(&self) -> watch::Receiver<u64> {
        self.rotation_progress.subscribe()
    }

    pub(super) fn rotation_progressed(&self, inner: &Inner) {
        // At rest (no step waits) nobody needs waking.
        if inner.rotation_wait.is_some() {
            self.rotation_progress.send_modify(|count| *count += 1);
        }
    }

    pub async fn trust_status(&self) -> Option<TrustStatus> {
        let inner = self.inner.lock().await;
        let trust = inner.trust.as_ref()?;
        let issuing = trust.issuing();
        let proxies_on_old_roots: Vec<String> = inner
            .proxies
            .iter()
            .filter(|(_, proxy)| proxy.certificate_root.as_deref() != Some(issuing))
            .map(|(id, _)| id.clone())
            .collect();
        let distributing = inner
            .proxies
            .values()
            .any(|proxy| !inner.trusted.is_subset(&proxy.trusted));
        let phase = if trust.roots.len() == 1 {
            "single-root"
        } else if distributing {
            "distributing"
        } else if !proxies_on_old_roots.is_empty() {
            "reissuing"
        } else {
            "reissued"
        };
        Some(TrustStatus {
            phase: phase.to_string(),
            roots: trust
                .roots
                .iter()
                .map(|root| format!("{} ({})", root.name, &root.fingerprint[..12]))
                .collect(),
            issuing: trust.roots[0].name.clone(),
            proxies_on_old_roots,
            waiting: inner.rotation_wait.clone(),
        })
    }
}

/// Whether going from the roots in force to `next` can drop a connection.
fn check(inner: &Inner, next: &Trust) -> Result<(), RotationWait> {
    let Some(current) = &inner.trust else {
        // The first roots of this process: proxies reconnecting bring what they hold.
        return Ok(());
    };
    let issuing = next.issuing();
    if issuing != current.issuing() {
        let proxies = waiting(inner, |proxy| !proxy.trusted.contains(issuing));
        if !proxies.is_empty() {
            return Err(RotationWait::Trust {
                root: next.roots[0].name.clone(),
                proxies,
            });
        }
    }
    let next_roots: BTreeSet<&str> = next
        .roots
        .iter()
        .map(|root| root.fingerprint.as_str())
        .collect();
    for dropped in current
        .roots
        .iter()
        .filter(|root| !next_roots.contains(root.fingerprint.as_str()))
    {
        let proxies = waiting(inner, |proxy| {
            proxy
                .certificate_root
                .as_deref()
                .is_none_or(|root| root == dropped.fingerprint)
        });
        if !proxies.is_empty() {
            return Err(RotationWait::Certificates {
                root: dropped.name.clone(),
                proxies,
            });
        }
    }
    Ok(())
}

fn waiting(inner: &Inner, blocks: impl Fn(&Proxy) -> bool) -> Vec<String> {
    inner
        .proxies
        .iter()
        .filter(|(_, proxy)| blocks(proxy))
        .map(|(id, _)| id.clone())
        .collect()
}
