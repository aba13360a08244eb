//! Watches the cluster's Services, EndpointSlices and Pods (kube-runtime reflectors: one
//! list, then watch events, never polling) and publishes the inventory they describe.

use std::sync::Arc;

use futures_util::{Stream, StreamExt as _};
use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt as _, watcher};
use kube::{Api, Client};
use tokio::sync::{Notify, watch};

use super::workloads;
use crate::inventory::Inventory;

/// Runs until the task is dropped; `publish` holds the newest complete inventory. Nothing
/// is published before every watch has listed once, so a starting reconciler never
/// announces a partial inventory.
pub async fn run(client: Client, publish: watch::Sender<Inventory>) {
    let changed = Arc::new(Notify::new());
    let (services, services_stream) = reflect::<Service>(&client);
    let (slices, slices_stream) = reflect::<EndpointSlice>(&client);
    let (pods, pods_stream) = reflect::<Pod>(&client);
    let publisher = async {
        let ready = async {
            services.wait_until_ready().await?;
            slices.wait_until_ready().await?;
            pods.wait_until_ready().await
        };
        if ready.await.is_err() {
            return;
        }
        loop {
            let services = services.state();
            let slices = slices.state();
            let pods = pods.state();
            let inventory = workloads::inventory(
                services.iter().map(AsRef::as_ref),
                slices.iter().map(AsRef::as_ref),
                pods.iter().map(AsRef::as_ref),
            );
            publish.send_if_modified(|current| {
                let modified = *current != inventory;
                *current = inventory;
                modified
            });
            // A burst of events leaves one permit: one recomputation for the burst.
            changed.notified().await;
        }
    };
    tokio::join!(
        drain("Service", services_stream, &changed),
        drain("EndpointSlice", slices_stream, &changed),
        drain("Pod", pods_stream, &changed),
        publisher,
    );
}

type Events<K> =
    std::pin::Pin<Box<dyn Stream<Item = Result<watcher::Event<K>, watcher::Error>> + Send>>;

fn reflect<K>(client: &Client) -> (Store<K>, Events<K>)
where
    K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug
        + Send
        + Sync
        + 'static,
{
    let (reader, writer) = reflector::store::<K>();
    let api: Api<K> = Api::all(client.clone());
    let stream = reflector::reflector(
        writer,
        watcher(api, watcher::Config::default()).default_backoff(),
    );
    (reader, Box::pin(stream))
}

async fn drain<K>(kind: &str, mut events: Events<K>, changed: &Notify) {
    while let Some(event) = events.next().await {
        match event {
            Ok(_) => changed.notify_one(),
            // The watcher re-lists after a backoff; the store keeps the last good state.
            Err(error) => tracing::warn!(%kind, %error, "watch failed; retrying"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::*;
    use crate::kubernetes::fake_api::FakeApi;

    async fn eventually(
        receiver: &mut watch::Receiver<Inventory>,
        what: &str,
        check: impl Fn(&Inventory) -> bool,
    ) {
        let deadline = Duration::from_secs(10);
        let found = matches!(
            tokio::time::timeout(deadline, receiver.wait_for(|inventory| check(inventory))).await,
            Ok(Ok(_))
        );
        assert!(
            found,
            "{what} within {deadline:?}; last inventory: {:?}",
            receiver.borrow()
        );
    }

    #[tokio::test]
    async fn a_pod_that_becomes_an_endpoint_joins_the_inventory_and_leaves_with_its_pod() {
        let api = FakeApi::new();
        api.insert(json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "api", "namespace": "shop"},
            "spec": {"clusterIP": "10.96.0.10", "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}}));
        let (sender, mut receiver) = watch::channel(Inventory::default());
        let discovery = tokio::spawn(run(api.client(), sender));

        eventually(
            &mut receiver,
            "the Service's cluster IP is known",
            |inventory| {
                inventory
                    .services
                    .get(&("shop".into(), "api".into()))
                    .is_some_and(|s| s.cluster_ips == ["10.96.0.10"])
            },
        )
        .await;

        api.insert(json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "api-1", "namespace": "shop", "uid": "pod-1",
                         "annotations": {"meshcd.dev/injected": "true"}},
            "spec": {"serviceAccountName": "api", "containers": []},
            "status": {"podIP": "10.244.0.9"}}));
        api.insert(json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
            "metadata": {"name": "api-x", "namespace": "shop", "labels": {"kubernetes.io/service-name": "api"}},
            "endpoints": [{"addresses": ["10.244.0.9"], "conditions": {"ready": true},
                           "targetRef": {"kind": "Pod", "name": "api-1", "namespace": "shop"}}],
            "ports": [{"name": "http", "port": 8080}]}));
        eventually(
            &mut receiver,
            "the pod is an endpoint of api",
            |inventory| {
                inventory.workloads.get("pod-1").is_some_and(|w| {
                    w.services == ["api"] && w.inbound_address == "10.244.0.9:15003"
                })
            },
        )
        .await;

        api.remove("v1", "Pod", Some("shop"), "api-1");
        eventually(&mut receiver, "the deleted pod leaves", |inventory| {
            !inventory.workloads.contains_key("pod-1")
        })
        .await;
        let requests = api.take_requests();
        assert!(
            requests.iter().any(|r| r.path == "/api/v1/pods"
                && r.query.get("watch").map(String::as_str) == Some("true")),
            "pods are watched, not polled: {:?}",
            requests
                .iter()
                .map(|r| (r.line(), r.query.clone()))
                .collect::<Vec<_>>()
        );
        discovery.abort();
    }
}
