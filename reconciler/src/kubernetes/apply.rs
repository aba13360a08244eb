//! Applies a validated config to the cluster: onboarded namespaces labelled (created when
//! missing, never deleted), SMI and meshcd objects server-side applied in the versions the
//! cluster serves, drift corrected, and managed objects that left the repository pruned.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::Client;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams,
};
use serde::Serialize;
use serde_json::{Value, json};

use super::convert::{self, Desired, Kind, ObjectKey};
use super::inject::{CA_BUNDLE_CONFIG_MAP, CA_BUNDLE_KEY};
use super::route_status;
use super::{
    FIELD_MANAGER, MANAGED_BY_LABEL, MANAGED_BY_VALUE, MESH_LABEL, MONITORED_BY_LABEL,
    managed_selector, served,
};
use crate::model::{Config, WeightOverrides};

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("discovering the versions the cluster serves")]
    Discovery(#[source] kube::Error),
    #[error("listing {what}")]
    List {
        what: String,
        #[source]
        source: kube::Error,
    },
}

/// What happened to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Created,
    /// The live object differed from the repository: a new revision, or drift.
    Updated,
    Unchanged,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectOutcome {
    pub object: String,
    pub api_version: String,
    pub change: Change,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ObjectFailure {
    pub object: String,
    pub error: String,
}

/// What one apply did; the reconciler reports it in its status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplyReport {
    /// Namespaces created or labelled `meshcd.dev/monitored-by` by this apply.
    pub namespaces_onboarded: Vec<String>,
    /// Namespaces that left the repository: the label removed, the namespace kept.
    pub namespaces_released: Vec<String>,
    pub objects: Vec<ObjectOutcome>,
    pub pruned: Vec<String>,
    pub failures: Vec<ObjectFailure>,
}

impl ApplyReport {
    /// Objects that were corrected or changed (not created, not unchanged).
    pub fn updated(&self) -> impl Iterator<Item = &ObjectOutcome> {
        self.objects
            .iter()
            .filter(|outcome| outcome.change == Change::Updated)
    }
}

#[derive(Clone)]
pub struct Applier {
    client: Client,
    /// The mesh CA, kept in a ConfigMap of every onboarded namespace for injected proxies.
    ca_bundle: Option<String>,
}

impl Applier {
    pub fn new(client: Client) -> Self {
        Applier {
            client,
            ca_bundle: None,
        }
    }

    pub fn with_ca_bundle(mut self, bundle_pem: &str) -> Self {
        self.ca_bundle = Some(bundle_pem.to_string());
        self
    }

    /// Applies `config`; `weights` are the splits' weights of running canaries.
    pub async fn apply(
        &self,
        config: &Config,
        weights: &WeightOverrides,
    ) -> Result<ApplyReport, ApplyError> {
        let mesh = config.mesh.name.as_str();
        let served = served::discover(&self.client)
            .await
            .map_err(ApplyError::Discovery)?;
        let plan = convert::plan(config, &served, weights);
        let mut report = ApplyReport::default();
        self.namespaces(config, &mut report).await?;
        if let Some(bundle) = &self.ca_bundle {
            self.ca_bundles(config, bundle, &mut report).await?;
        }

        let live = self.live(&served, mesh).await?;

        for (key, error) in &plan.errors {
            report.failures.push(ObjectFailure {
                object: key.to_string(),
                error: error.to_string(),
            });
        }
        for desired in &plan.objects {
            self.apply_object(desired, live.get(&desired.key), &mut report)
                .await;
        }

        let keep: BTreeSet<&ObjectKey> = plan.keys().collect();
        for key in live.keys().filter(|key| !keep.contains(key)) {
            match self
                .api(key, &served[&key.kind])
                .delete(&key.name, &DeleteParams::default())
                .await
            {
                Ok(_) => report.pruned.push(key.to_string()),
                Err(kube::Error::Api(status)) if status.code == 404 => {}
                Err(error) => report.failures.push(ObjectFailure {
                    object: key.to_string(),
                    error: format!("pruning: {}", api_error(&error)),
                }),
            }
        }
        Ok(report)
    }

    /// Every managed object of every served kind, before any change.
    async fn live(
        &self,
        served: &BTreeMap<Kind, String>,
        mesh: &str,
    ) -> Result<BTreeMap<ObjectKey, Value>, ApplyError> {
        let mut live: BTreeMap<ObjectKey, Value> = BTreeMap::new();
        for (kind, version) in served {
            let api: Api<DynamicObject> =
                Api::all_with(self.client.clone(), &resource(*kind, version));
            let list = api
                .list(&ListParams::default().labels(&managed_selector(mesh)))
                .await
                .map_err(|source| ApplyError::List {
                    what: format!("managed {kind} objects"),
                    source,
                })?;
            for object in list.items {
                let key = ObjectKey {
                    kind: *kind,
                    namespace: object.metadata.namespace.clone(),
                    name: object.metadata.name.clone().unwrap_or_default(),
                };
                live.insert(key, serde_json::to_value(&object).unwrap_or_default());
            }
        }
        Ok(live)
    }

    /// Applies `desired` unless `live` holds it already; a Gateway API route's status is
    /// written after it.
    async fn apply_object(
        &self,
        desired: &Desired,
        live: Option<&Value>,
        report: &mut ApplyReport,
    ) {
        let change = match live {
            None => Change::Created,
            Some(live) if contains(live, &desired.body) => Change::Unchanged,
            Some(_) => Change::Updated,
        };
        let applied = match (change, live) {
            (Change::Unchanged, Some(live)) => live.clone(),
            _ => match self.server_side_apply(desired).await {
                Ok(object) => serde_json::to_value(&object).unwrap_or_default(),
                Err(error) => {
                    report.failures.push(ObjectFailure {
                        object: desired.key.to_string(),
                        error: api_error(&error),
                    });
                    return;
                }
            },
        };
        if matches!(desired.key.kind, Kind::HttpRoute | Kind::GrpcRoute)
            && let Err(error) = route_status::update(
                &self.api(&desired.key, &desired.version),
                &desired.key.name,
                &applied,
            )
            .await
        {
            report.failures.push(ObjectFailure {
                object: desired.key.to_string(),
                error: format!("writing its status: {}", api_error(&error)),
            });
        }
        report.objects.push(ObjectOutcome {
            object: desired.key.to_string(),
            api_version: format!("{}/{}", desired.key.kind.group(), desired.version),
            change,
        });
    }

    /// Labels the namespaces of the repository (creating missing ones) and unlabels those
    /// that left it. A namespace is never deleted: it holds workloads meshcd does not own.
    async fn namespaces(
        &self,
        config: &Config,
        report: &mut ApplyReport,
    ) -> Result<(), ApplyError> {
        let mesh = config.mesh.name.as_str();
        let api: Api<Namespace> = Api::all(self.client.clone());
        let labelled: BTreeSet<String> = api
            .list(&ListParams::default().labels(&format!("{MONITORED_BY_LABEL}={mesh}")))
            .await
            .map_err(|source| ApplyError::List {
                what: "namespaces".into(),
                source,
            })?
            .items
            .into_iter()
            .filter_map(|namespace| namespace.metadata.name)
            .collect();
        for name in config.namespaces.difference(&labelled) {
            let body = json!({
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": { "name": name, "labels": { MONITORED_BY_LABEL: mesh } },
            });
            match api.patch(name, &apply_params(), &Patch::Apply(&body)).await {
                Ok(_) => report.namespaces_onboarded.push(name.clone()),
                Err(error) => report.failures.push(ObjectFailure {
                    object: format!("Namespace {name}"),
                    error: api_error(&error),
                }),
            }
        }
        for name in labelled.difference(&config.namespaces) {
            // A merge patch, not an apply: the label goes whoever set it.
            let body = json!({ "metadata": { "labels": { MONITORED_BY_LABEL: null } } });
            match api
                .patch(name, &PatchParams::default(), &Patch::Merge(&body))
                .await
            {
                Ok(_) => report.namespaces_released.push(name.clone()),
                Err(error) => report.failures.push(ObjectFailure {
                    object: format!("Namespace {name}"),
                    error: api_error(&error),
                }),
            }
        }
        Ok(())
    }

    /// The CA bundle ConfigMap in every onboarded namespace (injected proxies mount it),
    /// and in no other.
    async fn ca_bundles(
        &self,
        config: &Config,
        bundle: &str,
        report: &mut ApplyReport,
    ) -> Result<(), ApplyError> {
        let mesh = config.mesh.name.as_str();
        let all: Api<ConfigMap> = Api::all(self.client.clone());
        let live: BTreeMap<String, Option<String>> = all
            .list(&ListParams::default().labels(&managed_selector(mesh)))
            .await
            .map_err(|source| ApplyError::List {
                what: "CA bundle ConfigMaps".into(),
                source,
            })?
            .items
            .into_iter()
            .filter(|map| map.metadata.name.as_deref() == Some(CA_BUNDLE_CONFIG_MAP))
            .filter_map(|map| {
                let bundle = map.data.and_then(|data| data.get(CA_BUNDLE_KEY).cloned());
                map.metadata.namespace.map(|namespace| (namespace, bundle))
            })
            .collect();
        for namespace in &config.namespaces {
            if live.get(namespace).and_then(Option::as_deref) == Some(bundle) {
                continue;
            }
            let body = json!({
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {
                    "name": CA_BUNDLE_CONFIG_MAP,
                    "namespace": namespace,
                    "labels": { MANAGED_BY_LABEL: MANAGED_BY_VALUE, MESH_LABEL: mesh },
                },
                "data": { CA_BUNDLE_KEY: bundle },
            });
            let api: Api<ConfigMap> = Api::namespaced(self.client.clone(), namespace);
            if let Err(error) = api
                .patch(CA_BUNDLE_CONFIG_MAP, &apply_params(), &Patch::Apply(&body))
                .await
            {
                report.failures.push(ObjectFailure {
                    object: format!("ConfigMap {namespace}/{CA_BUNDLE_CONFIG_MAP}"),
                    error: api_error(&error),
                });
            }
        }
        for namespace in live
            .keys()
            .filter(|namespace| !config.namespaces.contains(*namespace))
        {
            let api: Api<ConfigMap> = Api::namespaced(self.client.clone(), namespace);
            match api
                .delete(CA_BUNDLE_CONFIG_MAP, &DeleteParams::default())
                .await
            {
                Ok(_) => {}
                Err(kube::Error::Api(status)) if status.code == 404 => {}
                Err(error) => report.failures.push(ObjectFailure {
                    object: format!("ConfigMap {namespace}/{CA_BUNDLE_CONFIG_MAP}"),
                    error: format!("pruning: {}", api_error(&error)),
                }),
            }
        }
        Ok(())
    }

    /// The API of `key`'s kind and namespace, at `version`.
    fn api(&self, key: &ObjectKey, version: &str) -> Api<DynamicObject> {
        let resource = resource(key.kind, version);
        match &key.namespace {
            Some(namespace) => Api::namespaced_with(self.client.clone(), namespace, &resource),
            None => Api::all_with(self.client.clone(), &resource),
        }
    }

    async fn server_side_apply(&self, desired: &Desired) -> Result<DynamicObject, kube::Error> {
        self.api(&desired.key, &desired.version)
            .patch(
                &desired.key.name,
                &object_apply_params(desired.key.kind),
                &Patch::Apply(&desired.body),
            )
            .await
    }
}

/// meshcd is the authority over the fields it applies: a hand edit of them is drift, so
/// conflicts are forced through.
fn apply_params() -> PatchParams {
    PatchParams::apply(FIELD_MANAGER).force()
}

/// [`apply_params`] for an object of `kind`. A Gateway API object is applied with strict
/// field validation: a field the cluster's CRD lacks (HTTPRoute `retry` under the standard
/// channel's CRD) is an error naming it, not dropped in silence.
fn object_apply_params(kind: Kind) -> PatchParams {
    if kind.group() == "gateway.networking.k8s.io" {
        apply_params().validation_strict()
    } else {
        apply_params()
    }
}

pub fn resource(kind: Kind, version: &str) -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(kind.group(), version, kind.name()),
        kind.plural(),
    )
}

/// The API's own message for an API error (it names the field and the reason).
fn api_error(error: &kube::Error) -> String {
    match error {
        kube::Error::Api(status) => format!("{} ({})", status.message, status.code),
        other => other.to_string(),
    }
}

/// Whether every field of `desired` has the same value in `live`. Fields others added
/// (status, defaults, another manager's) do not count as drift; lists compare whole,
/// as the SMI CRDs declare none of them mergeable.
pub fn contains(live: &Value, desired: &Value) -> bool {
    match (live, desired) {
        (Value::Object(live), Value::Object(desired)) => desired.iter().all(|(field, value)| {
            live.get(field)
                .is_some_and(|live_value| contains(live_value, value))
        }),
        (Value::Number(live), Value::Number(desired)) => live.as_f64() == desired.as_f64(),
        (live, desired) => live == desired,
    }
}

#[cfg(test)]
#[path = "apply_tests.rs"]
mod tests;
