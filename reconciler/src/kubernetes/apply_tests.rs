use serde_json::{Value, json};

use super::*;
use crate::kubernetes::fake_api::{FakeApi, Recorded};
use crate::kubernetes::fixtures::{config_from, examples_config};
use crate::model::WeightOverrides;

const CANARY_NS: &str = "osm-canary-deployment-sample-app";

/// The writes as `{method, path, query, contentType, body}` objects, for golden files.
fn golden(writes: &[Recorded]) -> Value {
    writes
        .iter()
        .map(|write| {
            json!({
                "request": write.line(),
                "query": write.query,
                "contentType": write.content_type,
                "body": write.body,
            })
        })
        .collect()
}

fn assert_golden(name: &str, actual: &Value) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/kubernetes/testdata")
        .join(name);
    let text = serde_json::to_string_pretty(actual).unwrap() + "\n";
    if std::env::var_os("MESHCD_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        expected == text,
        "{} differs from the requests made (rerun with MESHCD_UPDATE_GOLDEN=1 to accept):\n{text}",
        path.display()
    );
}

#[tokio::test]
async fn the_first_apply_onboards_namespaces_and_server_side_applies_every_object() {
    let api = FakeApi::new();
    let report = Applier::new(api.client())
        .apply(&examples_config(), &WeightOverrides::new())
        .await
        .unwrap();
    assert_eq!(report.failures, vec![]);
    assert_eq!(report.namespaces_onboarded, [CANARY_NS, "osm-simple-app"]);
    assert!(report.objects.iter().all(|o| o.change == Change::Created));
    let writes = api.take_writes();
    for write in &writes {
        assert_eq!(write.method, "PATCH");
        assert_eq!(
            write.content_type.as_deref(),
            Some("application/apply-patch+yaml")
        );
        assert_eq!(
            write.query.get("fieldManager").map(String::as_str),
            Some("meshcd")
        );
        assert_eq!(write.query.get("force").map(String::as_str), Some("true"));
    }
    assert_golden("apply-examples-repo.json", &golden(&writes));

    let namespace = api.get("v1", "Namespace", None, "osm-simple-app").unwrap();
    assert_eq!(
        namespace["metadata"]["labels"]["meshcd.dev/monitored-by"],
        "meshcd"
    );
    let split = api
        .get(
            "split.smi-spec.io/v1alpha4",
            "TrafficSplit",
            Some(CANARY_NS),
            "api",
        )
        .unwrap();
    assert_eq!(
        split["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "meshcd"
    );
}

#[tokio::test]
async fn applying_the_same_config_again_writes_nothing() {
    let api = FakeApi::new();
    let applier = Applier::new(api.client());
    applier
        .apply(&examples_config(), &WeightOverrides::new())
        .await
        .unwrap();
    api.take_requests();
    let report = applier
        .apply(&examples_config(), &WeightOverrides::new())
        .await
        .unwrap();
    assert!(
        report.objects.iter().all(|o| o.change == Change::Unchanged),
        "{report:?}"
    );
    assert_eq!(api.take_writes(), vec![]);
}

#[tokio::test]
async fn a_namespace_that_leaves_the_repo_loses_its_label_and_is_never_deleted() {
    let api = FakeApi::new();
    let applier = Applier::new(api.client());
    let mut config = examples_config();
    applier
        .apply(&config, &WeightOverrides::new())
        .await
        .unwrap();
    api.take_requests();

    config.namespaces.remove("osm-simple-app");
    config
        .traffic_targets
        .retain(|t| t.value.namespace != "osm-simple-app");
    config
        .http_route_groups
        .retain(|g| g.value.namespace != "osm-simple-app");
    let report = applier
        .apply(&config, &WeightOverrides::new())
        .await
        .unwrap();
    assert_eq!(report.namespaces_released, ["osm-simple-app"]);

    let writes = api.take_writes();
    let namespace_writes: Vec<&Recorded> = writes
        .iter()
        .filter(|w| w.path.starts_with("/api/v1/namespaces"))
        .collect();
    assert_eq!(namespace_writes.len(), 1, "{writes:#?}");
    assert_eq!(
        namespace_writes[0].line(),
        "PATCH /api/v1/namespaces/osm-simple-app"
    );
    assert_eq!(
        namespace_writes[0].content_type.as_deref(),
        Some("application/merge-patch+json")
    );
    assert_eq!(
        namespace_writes[0].body,
        Some(json!({"metadata": {"labels": {"meshcd.dev/monitored-by": null}}}))
    );
    assert!(
        !writes
            .iter()
            .any(|w| w.line() == "DELETE /api/v1/namespaces/osm-simple-app")
    );
    let namespace = api
        .get("v1", "Namespace", None, "osm-simple-app")
        .expect("never deleted");
    assert!(
        namespace["metadata"]["labels"]
            .get("meshcd.dev/monitored-by")
            .is_none()
    );
}

#[tokio::test]
async fn managed_objects_that_left_the_repo_are_pruned_and_nothing_else_is() {
    let api = FakeApi::new();
    let applier = Applier::new(api.client());
    let mut config = examples_config();
    applier
        .apply(&config, &WeightOverrides::new())
        .await
        .unwrap();
    // Someone else's split, and another mesh's: neither is meshcd's to delete.
    api.insert(
        json!({"apiVersion": "split.smi-spec.io/v1alpha4", "kind": "TrafficSplit",
        "metadata": {"name": "theirs", "namespace": CANARY_NS},
        "spec": {"service": "x", "backends": []}}),
    );
    api.insert(json!({"apiVersion": "split.smi-spec.io/v1alpha4", "kind": "TrafficSplit",
        "metadata": {"name": "other-mesh", "namespace": CANARY_NS,
                     "labels": {"app.kubernetes.io/managed-by": "meshcd", "meshcd.dev/mesh": "other"}},
        "spec": {"service": "x", "backends": []}}));
    api.take_requests();

    config.canaries.clear();
    config.traffic_splits.clear();
    let report = applier
        .apply(&config, &WeightOverrides::new())
        .await
        .unwrap();
    assert_eq!(
        report.pruned,
        [
            format!("TrafficSplit {CANARY_NS}/api"),
            format!("Canary {CANARY_NS}/api"),
        ]
    );
    let deletes: Vec<String> = api
        .take_writes()
        .iter()
        .filter(|w| w.method == "DELETE")
        .map(Recorded::line)
        .collect();
    assert_eq!(
        deletes,
        [
            format!(
                "DELETE /apis/split.smi-spec.io/v1alpha4/namespaces/{CANARY_NS}/trafficsplits/api"
            ),
            format!("DELETE /apis/meshcd.dev/v1alpha1/namespaces/{CANARY_NS}/canaries/api"),
        ]
    );
    assert!(
        api.get(
            "split.smi-spec.io/v1alpha4",
            "TrafficSplit",
            Some(CANARY_NS),
            "theirs"
        )
        .is_some()
    );
    assert!(
        api.get(
            "split.smi-spec.io/v1alpha4",
            "TrafficSplit",
            Some(CANARY_NS),
            "other-mesh"
        )
        .is_some()
    );
}

#[tokio::test]
async fn a_hand_edit_of_an_applied_field_is_corrected_and_reported_on_the_next_apply() {
    let api = FakeApi::new();
    let applier = Applier::new(api.client());
    applier
        .apply(&examples_config(), &WeightOverrides::new())
        .await
        .unwrap();
    api.edit(
        "split.smi-spec.io/v1alpha4",
        "TrafficSplit",
        Some(CANARY_NS),
        "api",
        |split| {
            split["spec"]["backends"][1]["weight"] = json!(90);
        },
    );
    // A label someone added is theirs, not drift.
    api.edit(
        "access.smi-spec.io/v1alpha3",
        "TrafficTarget",
        Some("osm-simple-app"),
        "frontend-to-api",
        |target| {
            target["metadata"]["labels"]["team"] = json!("payments");
        },
    );
    api.take_requests();

    let report = applier
        .apply(&examples_config(), &WeightOverrides::new())
        .await
        .unwrap();
    let updated: Vec<&str> = report.updated().map(|o| o.object.as_str()).collect();
    assert_eq!(updated, [format!("TrafficSplit {CANARY_NS}/api")]);
    let writes = api.take_writes();
    assert_eq!(writes.len(), 1, "{writes:#?}");
    assert_eq!(
        writes[0].body.as_ref().unwrap()["spec"]["backends"],
        json!([{"service": "api-v1", "weight": 90}, {"service": "api-v2", "weight": 10}])
    );
    let split = api
        .get(
            "split.smi-spec.io/v1alpha4",
            "TrafficSplit",
            Some(CANARY_NS),
            "api",
        )
        .unwrap();
    assert_eq!(split["spec"]["backends"][1]["weight"], 10);
}

#[tokio::test]
async fn the_version_the_cluster_serves_is_written_and_what_it_cannot_express_is_reported() {
    let api = FakeApi::new();
    // Open Service Mesh's CRDs: TrafficSplit served as v1alpha2 only.
    api.serve(Kind::TrafficSplit, &["v1alpha2"]);
    let config = config_from(&[
        (
            "ns.yaml",
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n",
        ),
        (
            "splits.yaml",
            "apiVersion: specs.smi-spec.io/v1alpha4\nkind: HTTPRouteGroup\nmetadata: {name: beta, namespace: shop}\nspec: {matches: [{name: beta, headers: [{x-beta: '1'}]}]}\n---\napiVersion: split.smi-spec.io/v1alpha4\nkind: TrafficSplit\nmetadata: {name: ab, namespace: shop}\nspec:\n  service: web\n  matches: [{kind: HTTPRouteGroup, name: beta}]\n  backends: [{service: web-v1, weight: 1}, {service: web-v2, weight: 1}]\n---\napiVersion: split.smi-spec.io/v1alpha4\nkind: TrafficSplit\nmetadata: {name: api, namespace: shop}\nspec:\n  service: api\n  backends: [{service: api-v1, weight: 9}, {service: api-v2, weight: 1}]\n",
        ),
    ]);
    let report = Applier::new(api.client())
        .apply(&config, &WeightOverrides::new())
        .await
        .unwrap();
    assert_eq!(
        report.failures,
        vec![ObjectFailure {
            object: "TrafficSplit shop/ab".into(),
            error: "split.smi-spec.io/v1alpha2 cannot express matches [\"beta\"] (A/B splits need v1alpha3 or later)".into(),
        }]
    );
    let lines: Vec<String> = api.take_writes().iter().map(Recorded::line).collect();
    assert!(
        lines.contains(
            &"PATCH /apis/split.smi-spec.io/v1alpha2/namespaces/shop/trafficsplits/api".to_string()
        ),
        "{lines:#?}"
    );
    assert!(!lines.iter().any(|line| line.ends_with("/trafficsplits/ab")));
}

#[tokio::test]
async fn a_kind_without_its_crd_is_reported_on_each_object_and_nothing_is_pruned_for_it() {
    let api = FakeApi::new();
    api.serve(Kind::Canary, &[]);
    let report = Applier::new(api.client())
        .apply(&examples_config(), &WeightOverrides::new())
        .await
        .unwrap();
    assert_eq!(
        report.failures,
        vec![ObjectFailure {
            object: format!("Canary {CANARY_NS}/api"),
            error:
                "the cluster serves no version of Canary that meshcd writes (is its CRD installed?)"
                    .into(),
        }]
    );
    assert!(
        api.take_writes()
            .iter()
            .all(|w| !w.path.contains("canaries"))
    );
}

#[test]
fn drift_is_a_difference_in_the_fields_meshcd_applies_only() {
    let desired =
        json!({"metadata": {"labels": {"a": "1"}}, "spec": {"backends": [{"weight": 1}]}});
    let live = json!({"metadata": {"labels": {"a": "1", "b": "2"}, "uid": "x"},
                      "spec": {"backends": [{"weight": 1}]}, "status": {}});
    assert!(contains(&live, &desired));
    let edited = json!({"metadata": {"labels": {"a": "1"}}, "spec": {"backends": [{"weight": 2}]}});
    assert!(!contains(&edited, &desired));
    let added = json!({"metadata": {"labels": {"a": "1"}}, "spec": {"backends": [{"weight": 1}, {"weight": 1}]}});
    assert!(!contains(&added, &desired));
}

/// A repository with Gateway API routes: an HTTPRoute, a GRPCRoute and a ReferenceGrant.
fn routed_config() -> crate::model::Config {
    config_from(&[
        (
            "ns.yaml",
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: billing}\n",
        ),
        (
            "routes.yaml",
            "apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: api, namespace: shop}
spec:
  parentRefs: [{group: '', kind: Service, name: api, port: 80}]
  rules:
  - name: v2
    matches: [{path: {type: PathPrefix, value: /v2}}]
    backendRefs: [{name: api-v2, port: 80}, {name: ledger, namespace: billing, port: 80, weight: 0}]
  - backendRefs: [{name: api-v1, port: 80}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: echo, namespace: shop}
spec:
  parentRefs: [{group: '', kind: Service, name: echo, port: 7070}]
  rules: [{backendRefs: [{name: echo-v1, port: 7070}]}]
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: shop-routes, namespace: billing}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: shop}]
  to: [{group: '', kind: Service}]
",
        ),
    ])
}

#[tokio::test]
async fn gateway_routes_are_applied_with_strict_field_validation_and_pruned() {
    let api = FakeApi::new();
    let applier = Applier::new(api.client());
    let mut config = routed_config();
    let report = applier
        .apply(&config, &WeightOverrides::new())
        .await
        .unwrap();
    assert_eq!(report.failures, vec![]);
    let writes = api.take_writes();
    let gateway: Vec<&Recorded> = writes
        .iter()
        .filter(|w| w.path.starts_with("/apis/gateway.networking.k8s.io/"))
        .collect();
    assert_eq!(
        gateway.iter().map(|w| w.line()).collect::<Vec<_>>(),
        [
            "PATCH /apis/gateway.networking.k8s.io/v1/namespaces/billing/referencegrants/shop-routes",
            "PATCH /apis/gateway.networking.k8s.io/v1/namespaces/shop/httproutes/api",
            "PATCH /apis/gateway.networking.k8s.io/v1/namespaces/shop/httproutes/api/status",
            "PATCH /apis/gateway.networking.k8s.io/v1/namespaces/shop/grpcroutes/echo",
            "PATCH /apis/gateway.networking.k8s.io/v1/namespaces/shop/grpcroutes/echo/status",
        ]
    );
    for write in gateway.iter().filter(|w| !w.path.ends_with("/status")) {
        assert_eq!(
            write.query.get("fieldValidation").map(String::as_str),
            Some("Strict"),
            "{}",
            write.line()
        );
    }
    let route = api
        .get(
            "gateway.networking.k8s.io/v1",
            "HTTPRoute",
            Some("shop"),
            "api",
        )
        .unwrap();
    assert_eq!(
        route["spec"]["rules"][0]["backendRefs"][1],
        json!({"group": "", "kind": "Service", "name": "ledger", "namespace": "billing", "port": 80, "weight": 0})
    );
    assert_eq!(
        route["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "meshcd"
    );
    // Accepted, through the status subresource, by meshcd's controller name.
    assert!(
        writes.iter().any(|w| w.line()
            == "PATCH /apis/gateway.networking.k8s.io/v1/namespaces/shop/httproutes/api/status"),
        "{:#?}",
        writes.iter().map(Recorded::line).collect::<Vec<_>>()
    );
    let parent = &route["status"]["parents"][0];
    assert_eq!(parent["controllerName"], "meshcd.dev/mesh");
    assert_eq!(parent["parentRef"]["name"], "api");
    assert_eq!(parent["conditions"][0]["type"], "Accepted");
    assert_eq!(parent["conditions"][0]["status"], "True");
    // At rest: the same config again writes nothing, status included.
    applier
        .apply(&config, &WeightOverrides::new())
        .await
        .unwrap();
    assert_eq!(
        api.take_writes()
            .iter()
            .map(Recorded::line)
            .collect::<Vec<_>>(),
        Vec::<String>::new()
    );

    config
        .http_routes
        .retain(|route| route.value.name != "echo");
    let report = applier
        .apply(&config, &WeightOverrides::new())
        .await
        .unwrap();
    assert_eq!(report.pruned, ["GRPCRoute shop/echo"]);
}
