//! `meshcd check --kubernetes`: every object `meshcd install` renders is in the cluster
//! (namespace, CRDs, RBAC, webhook, Services, Deployment), the webhook has a caBundle
//! (the reconciler writes it at start; it is not compared with the CA here), and the
//! reconciler Deployment has a ready replica. The list comes from the same
//! renderer as `install`, so the check cannot drift from what is installed.

use kube::api::{Api, DynamicObject};
use kube::core::GroupVersionKind;
use kube::discovery::{self, Scope};

use super::check::{Finding, Outcome};
use crate::kubernetes::manifests::{self, Options};

/// One rendered object: its kind and where it lives.
struct Wanted {
    gvk: GroupVersionKind,
    name: String,
    namespace: Option<String>,
}

pub async fn check(namespace: &str, mesh_name: &str) -> Vec<Finding> {
    let client = match kube::Client::try_default().await {
        Ok(client) => client,
        Err(error) => {
            return vec![Finding::new(
                Outcome::Fail,
                format!("no Kubernetes API from the kubeconfig: {error}"),
            )];
        }
    };
    let options = Options {
        namespace: namespace.into(),
        mesh_name: mesh_name.into(),
        ..Options::default()
    };
    let mut findings = Vec::new();
    let mut missing = Vec::new();
    let mut present = 0;
    let mut unreadable = 0;
    for wanted in rendered(&options) {
        let label = format!(
            "{} {}{}",
            wanted.gvk.kind,
            wanted
                .namespace
                .as_deref()
                .map_or(String::new(), |ns| format!("{ns}/")),
            wanted.name
        );
        let object = match get(&client, &wanted).await {
            Ok(Some(object)) => object,
            Ok(None) => {
                missing.push(label);
                continue;
            }
            Err(error) => {
                unreadable += 1;
                findings.push(Finding::new(
                    Outcome::Fail,
                    format!("reading {label}: {error}"),
                ));
                continue;
            }
        };
        present += 1;
        if let Some(problem) = problem_of(&wanted.gvk.kind, &object) {
            findings.push(Finding::new(Outcome::Fail, format!("{label}: {problem}")));
        }
    }
    let summary = if missing.is_empty() && unreadable == 0 {
        Finding::new(
            Outcome::Pass,
            format!(
                "cluster: all {present} objects of `meshcd install` present (CRDs, RBAC, webhook, reconciler)"
            ),
        )
    } else {
        Finding::new(
            Outcome::Fail,
            format!(
                "cluster: {present} object(s) of `meshcd install` present, {unreadable} unreadable, {} missing{} (`meshcd install --repo URL | kubectl apply -f -`)",
                missing.len(),
                if missing.is_empty() {
                    String::new()
                } else {
                    format!(": {}", missing.join(", "))
                }
            ),
        )
    };
    findings.insert(0, summary);
    findings
}

/// What is wrong with an object that exists, for the kinds whose state matters.
fn problem_of(kind: &str, object: &DynamicObject) -> Option<String> {
    match kind {
        "Deployment" => {
            let ready = object.data["status"]["readyReplicas"].as_u64().unwrap_or(0);
            (ready == 0).then(|| "no ready replica".to_string())
        }
        "MutatingWebhookConfiguration" => object.data["webhooks"]
            .as_array()
            .is_some_and(|webhooks| {
                webhooks.iter().any(|hook| {
                    hook["clientConfig"]["caBundle"]
                        .as_str()
                        .is_none_or(str::is_empty)
                })
            })
            .then(|| {
                "no caBundle yet: the reconciler writes the mesh CA into it when it starts"
                    .to_string()
            }),
        _ => None,
    }
}

fn rendered(options: &Options) -> Vec<Wanted> {
    let mut wanted = Vec::new();
    for manifest in manifests::render(options) {
        for document in serde_yaml::Deserializer::from_str(&manifest.yaml) {
            let Ok(value) = <serde_json::Value as serde::Deserialize>::deserialize(document) else {
                continue;
            };
            let (Some(api_version), Some(kind), Some(name)) = (
                value["apiVersion"].as_str(),
                value["kind"].as_str(),
                value["metadata"]["name"].as_str(),
            ) else {
                continue;
            };
            let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
            wanted.push(Wanted {
                gvk: GroupVersionKind::gvk(group, version, kind),
                name: name.to_string(),
                namespace: value["metadata"]["namespace"].as_str().map(str::to_string),
            });
        }
    }
    wanted
}

async fn get(client: &kube::Client, wanted: &Wanted) -> anyhow::Result<Option<DynamicObject>> {
    let (resource, capabilities) = discovery::pinned_kind(client, &wanted.gvk).await?;
    let api: Api<DynamicObject> = match (&capabilities.scope, &wanted.namespace) {
        (Scope::Namespaced, Some(namespace)) => {
            Api::namespaced_with(client.clone(), namespace, &resource)
        }
        _ => Api::all_with(client.clone(), &resource),
    };
    Ok(api.get_opt(&wanted.name).await?)
}
