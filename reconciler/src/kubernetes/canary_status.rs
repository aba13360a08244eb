//! Canary progress in the cluster, so that any replica can carry a rollout on: the
//! leader writes each rollout's progress to its Canary's `status.progress`; a replica
//! that becomes the leader resumes from there; the others read it to serve their own
//! proxies the leader's weights while they follow.

use std::collections::BTreeMap;

use futures_util::StreamExt as _;
use kube::Client;
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams};
use kube::runtime::{WatchStreamExt as _, watcher};
use serde_json::json;
use tokio::sync::watch;

use super::apply::resource;
use super::convert::Kind;
use crate::canary::progress::Saved;

fn canaries(client: &Client) -> Api<DynamicObject> {
    Api::all_with(client.clone(), &resource(Kind::Canary, "v1alpha1"))
}

/// The progress the Canaries' status holds, as a new leader resumes it.
pub async fn load(client: &Client) -> Result<Vec<Saved>, kube::Error> {
    let list = canaries(client).list(&ListParams::default()).await?;
    Ok(list.items.iter().filter_map(progress_of).collect())
}

fn progress_of(object: &DynamicObject) -> Option<Saved> {
    let progress = object.data.get("status")?.get("progress")?;
    let saved: Saved = serde_json::from_value(progress.clone()).ok()?;
    // The object is the authority on which Canary this is.
    let same = object.metadata.namespace.as_deref() == Some(saved.namespace.as_str())
        && object.metadata.name.as_deref() == Some(saved.name.as_str());
    same.then_some(saved)
}

/// Writes every change of `progress` to the Canaries' status while this replica leads;
/// a rollout that ended (its outcome in Git, its Canary gone) has its progress removed.
pub async fn write(
    client: Client,
    mut progress: watch::Receiver<Vec<Saved>>,
    leader: watch::Receiver<bool>,
) {
    let mut written: BTreeMap<(String, String), Saved> = BTreeMap::new();
    while progress.changed().await.is_ok() {
        let records = progress.borrow_and_update().clone();
        if !*leader.borrow() {
            // Another replica writes meanwhile: next time, write everything again.
            written.clear();
            continue;
        }
        let current: BTreeMap<_, _> = records
            .into_iter()
            .map(|saved| ((saved.namespace.clone(), saved.name.clone()), saved))
            .collect();
        // What failed stays different from `written`: the next change tries it again.
        for (key, saved) in &current {
            if written.get(key) != Some(saved) && patch(&client, key, json!(saved)).await {
                written.insert(key.clone(), saved.clone());
            }
        }
        let ended: Vec<_> = written
            .keys()
            .filter(|key| !current.contains_key(*key))
            .cloned()
            .collect();
        for key in ended {
            if patch(&client, &key, serde_json::Value::Null).await {
                written.remove(&key);
            }
        }
    }
}

/// Whether the status now holds `progress`.
async fn patch(
    client: &Client,
    (namespace, name): &(String, String),
    progress: serde_json::Value,
) -> bool {
    let api: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        namespace,
        &resource(Kind::Canary, "v1alpha1"),
    );
    let body = json!({"status": {"progress": progress}});
    match api
        .patch_status(name, &PatchParams::default(), &Patch::Merge(&body))
        .await
    {
        Ok(_) => true,
        // A Canary deleted meanwhile has no status to clean.
        Err(kube::Error::Api(status)) if status.code == 404 => true,
        Err(error) => {
            tracing::warn!(canary = %format!("{namespace}/{name}"), %error, "canary progress not written to its status; the next change tries again");
            false
        }
    }
}

/// Publishes the progress every Canary's status holds, on each change: a follower
/// serves its proxies the leader's weights from it.
pub async fn watch_progress(client: Client, sender: watch::Sender<Vec<Saved>>) {
    let mut held: BTreeMap<(String, String), Saved> = BTreeMap::new();
    let mut initial: Option<BTreeMap<(String, String), Saved>> = None;
    let stream = watcher::watcher(canaries(&client), watcher::Config::default()).default_backoff();
    let mut stream = std::pin::pin!(stream);
    while let Some(event) = stream.next().await {
        let key = |object: &DynamicObject| {
            (
                object.metadata.namespace.clone().unwrap_or_default(),
                object.metadata.name.clone().unwrap_or_default(),
            )
        };
        match event {
            Ok(watcher::Event::Init) => initial = Some(BTreeMap::new()),
            Ok(watcher::Event::InitApply(object)) => {
                if let (Some(initial), Some(saved)) = (&mut initial, progress_of(&object)) {
                    initial.insert(key(&object), saved);
                }
                continue;
            }
            Ok(watcher::Event::InitDone) => held = initial.take().unwrap_or_default(),
            Ok(watcher::Event::Apply(object)) => match progress_of(&object) {
                Some(saved) => {
                    held.insert(key(&object), saved);
                }
                None => {
                    held.remove(&key(&object));
                }
            },
            Ok(watcher::Event::Delete(object)) => {
                held.remove(&key(&object));
            }
            Err(error) => {
                tracing::debug!(%error, "watching canaries");
                continue;
            }
        }
        let records: Vec<Saved> = held.values().cloned().collect();
        sender.send_if_modified(|current| {
            let changed = *current != records;
            *current = records;
            changed
        });
    }
}
