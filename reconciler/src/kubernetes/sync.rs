//! Keeps the cluster at the revision in force: applies each new revision, re-applies
//! every resync interval (drift correction), only while this replica leads, and reports
//! each outcome in the status and as Events on the Mesh object.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use k8s_openapi::api::core::v1::ObjectReference;
use kube::Client;
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use serde::Serialize;
use tokio::sync::{Mutex, watch};

use super::apply::{Applier, ApplyReport, Change};
use crate::control::mesh::Mesh;

/// What `meshcd status` can show about the cluster.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KubernetesStatus {
    pub leader: bool,
    pub applied_revision: Option<String>,
    pub last_apply: Option<SystemTime>,
    pub last_report: Option<ApplyReport>,
    pub last_error: Option<String>,
    /// How proxies are injected (native sidecars or containers), and why.
    pub sidecars: Option<String>,
}

pub struct Sync {
    pub client: Client,
    pub applier: Applier,
    pub mesh: Arc<Mesh>,
    pub resync: Duration,
    pub leader: watch::Receiver<bool>,
    pub status: Arc<Mutex<KubernetesStatus>>,
    /// This replica's name, in the Events it reports.
    pub instance: String,
}

impl Sync {
    pub async fn run(mut self) {
        let recorder = Recorder::new(
            self.client.clone(),
            Reporter {
                controller: "meshcd".into(),
                instance: Some(self.instance.clone()),
            },
        );
        let mut revisions = self.mesh.subscribe_revisions();
        let mut ticker = tokio::time::interval(self.resync);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                changed = revisions.changed() => if changed.is_err() { return },
                changed = self.leader.changed() => if changed.is_err() { return },
            }
            let leader = *self.leader.borrow_and_update();
            self.status.lock().await.leader = leader;
            if !leader {
                continue;
            }
            let Some(applied) = self.mesh.applied().await else {
                continue;
            };
            let weights = self.mesh.canary_weights().await;
            let outcome = self.applier.apply(&applied.config, &weights).await;
            let reference = mesh_reference(&applied.config.mesh.name);
            let mut status = self.status.lock().await;
            status.last_apply = Some(SystemTime::now());
            match outcome {
                Ok(report) => {
                    for event in events(&applied.revision, &report) {
                        if let Err(error) = recorder.publish(&event, &reference).await {
                            tracing::warn!(%error, "publishing an Event failed");
                        }
                    }
                    log(&applied.revision, &report);
                    status.applied_revision = Some(applied.revision.clone());
                    status.last_error = None;
                    status.last_report = Some(report);
                }
                Err(error) => {
                    let message = meshcd_support::error_chain(&error);
                    tracing::warn!(revision = %applied.revision, error = %message, "applying to the cluster failed; retrying at the next resync");
                    status.last_error = Some(message);
                }
            }
        }
    }
}

fn mesh_reference(name: &str) -> ObjectReference {
    ObjectReference {
        api_version: Some("meshcd.dev/v1alpha1".into()),
        kind: Some("Mesh".into()),
        name: Some(name.into()),
        ..ObjectReference::default()
    }
}

/// The Events one apply is worth: nothing when nothing changed.
pub fn events(revision: &str, report: &ApplyReport) -> Vec<Event> {
    let mut events = Vec::new();
    let changed: Vec<&str> = report
        .objects
        .iter()
        .filter(|outcome| outcome.change != Change::Unchanged)
        .map(|outcome| outcome.object.as_str())
        .collect();
    if !changed.is_empty()
        || !report.pruned.is_empty()
        || !report.namespaces_onboarded.is_empty()
        || !report.namespaces_released.is_empty()
    {
        events.push(Event {
            type_: EventType::Normal,
            reason: "Applied".into(),
            note: Some(truncate(format!(
                "revision {revision}: {} applied, {} pruned, namespaces onboarded {:?}, released {:?}",
                changed.len(),
                report.pruned.len(),
                report.namespaces_onboarded,
                report.namespaces_released
            ))),
            action: "Apply".into(),
            secondary: None,
        });
    }
    for drift in report.updated() {
        events.push(Event {
            type_: EventType::Normal,
            reason: "Updated".into(),
            note: Some(truncate(format!(
                "{} set to revision {revision}",
                drift.object
            ))),
            action: "Apply".into(),
            secondary: None,
        });
    }
    for failure in &report.failures {
        events.push(Event {
            type_: EventType::Warning,
            reason: "ApplyFailed".into(),
            note: Some(truncate(format!("{}: {}", failure.object, failure.error))),
            action: "Apply".into(),
            secondary: None,
        });
    }
    events
}

/// Event notes are limited to 1 kB.
fn truncate(mut note: String) -> String {
    if note.len() > 1000 {
        let mut end = 1000;
        while !note.is_char_boundary(end) {
            end -= 1;
        }
        note.truncate(end);
    }
    note
}

fn log(revision: &str, report: &ApplyReport) {
    for failure in &report.failures {
        tracing::warn!(%revision, object = %failure.object, error = %failure.error, "not applied to the cluster");
    }
    for outcome in report
        .objects
        .iter()
        .filter(|o| o.change != Change::Unchanged)
    {
        tracing::info!(%revision, object = %outcome.object, change = ?outcome.change, "applied to the cluster");
    }
    for pruned in &report.pruned {
        tracing::info!(%revision, object = %pruned, "pruned from the cluster");
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::kubernetes::fake_api::FakeApi;
    use crate::kubernetes::fixtures::examples_config;

    async fn eventually(what: &str, check: impl AsyncFn() -> bool) {
        meshcd_testkit::eventually_holds(what, Duration::from_secs(10), check).await;
    }

    #[tokio::test]
    async fn only_the_leader_applies_and_drift_is_corrected_at_the_next_resync() {
        let api = FakeApi::new();
        let mesh = Arc::new(Mesh::default());
        let (leader, leader_receiver) = watch::channel(false);
        let status = Arc::new(Mutex::new(KubernetesStatus::default()));
        let task = tokio::spawn(
            Sync {
                client: api.client(),
                applier: Applier::new(api.client()).with_ca_bundle("CA PEM"),
                mesh: mesh.clone(),
                resync: Duration::from_millis(200),
                leader: leader_receiver,
                status: status.clone(),
                instance: "replica-a".into(),
            }
            .run(),
        );
        mesh.apply("rev-1".into(), examples_config()).await;
        // A follower: several resyncs, no write.
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(api.take_writes(), vec![], "a follower never writes");

        leader.send_replace(true);
        eventually("the leader applies the revision", async || {
            status.lock().await.applied_revision.as_deref() == Some("rev-1")
        })
        .await;
        let split = (
            "split.smi-spec.io/v1alpha4",
            "TrafficSplit",
            Some("osm-canary-deployment-sample-app"),
            "api",
        );
        assert!(api.get(split.0, split.1, split.2, split.3).is_some());
        let configmap = api
            .get(
                "v1",
                "ConfigMap",
                Some("osm-simple-app"),
                "meshcd-ca-bundle",
            )
            .unwrap();
        assert_eq!(configmap["data"]["ca.pem"], "CA PEM");

        api.edit(split.0, split.1, split.2, split.3, |split| {
            split["spec"]["backends"][0]["weight"] = serde_json::json!(1);
        });
        eventually("the drift is corrected", async || {
            api.get(split.0, split.1, split.2, split.3).unwrap()["spec"]["backends"][0]["weight"]
                == 90
        })
        .await;
        let reasons: BTreeSet<String> = api
            .take_writes()
            .iter()
            .filter(|w| w.path.starts_with("/apis/events.k8s.io/"))
            .filter_map(|w| {
                w.body
                    .as_ref()
                    .and_then(|b| b["reason"].as_str().map(str::to_string))
            })
            .collect();
        assert_eq!(
            reasons,
            BTreeSet::from(["Applied".to_string(), "Updated".to_string()])
        );
        task.abort();
    }
}
