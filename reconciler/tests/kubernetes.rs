//! Kubernetes mode against a real API server (kind, k3d, any test cluster):
//!
//! ```text
//! MESHCD_TEST_KUBECONFIG=$HOME/.kube/config cargo test -p meshcd --test kubernetes -- --nocapture
//! ```
//!
//! Without `MESHCD_TEST_KUBECONFIG` every test says it is skipped and passes. With it, the
//! suite installs the CRDs, reconciles `examples-repo/` under a mesh name of its own,
//! checks objects and labels, takes a namespace out of the repository (it stays, without
//! the label), edits a managed object by hand (it is corrected), runs two leader
//! elections (one leader), and removes what it created.

use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use kube::Client;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use meshcd::kubernetes::apply::{Applier, resource};
use meshcd::kubernetes::convert::Kind;
use meshcd::kubernetes::leader::Election;
use meshcd::model::{CanaryTarget, Config, WeightOverrides};
use serde_json::json;
use tokio::sync::watch;

const SIMPLE: &str = "osm-simple-app";
const CANARY: &str = "osm-canary-deployment-sample-app";

/// The cluster to test against, or `None` (and a line saying the test is skipped).
async fn cluster(test: &str) -> Option<Client> {
    let Some(path) = std::env::var_os("MESHCD_TEST_KUBECONFIG") else {
        // Straight to stderr, past the test harness's capture, so a run shows it.
        let _ = writeln!(
            std::io::stderr().lock(),
            "SKIPPED {test}: MESHCD_TEST_KUBECONFIG is not set (no Kubernetes API server)"
        );
        return None;
    };
    let kubeconfig = Kubeconfig::read_from(&path).expect("MESHCD_TEST_KUBECONFIG is a kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("the kubeconfig has a usable context");
    Some(Client::try_from(config).expect("a client for the test cluster"))
}

async fn eventually<F: std::future::Future<Output = bool>>(
    what: &str,
    mut check: impl FnMut() -> F,
) {
    meshcd_testkit::eventually(Duration::from_secs(60), || {
        let attempt = check();
        async move {
            anyhow::ensure!(attempt.await, "{what}");
            Ok(())
        }
    })
    .await
    .unwrap_or_else(|error| panic!("{error:#}"));
}

fn examples_config(mesh: &str) -> Config {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples-repo");
    let loaded = meshcd::load::load_path(&root).unwrap();
    let mut config = meshcd::validate::validate(&loaded)
        .config
        .expect("examples-repo is valid");
    config.mesh.name = mesh.to_string();
    config
}

/// Installs meshcd's CRDs (server-side apply of `schemas/crds/`) and waits until served.
async fn install_crds(client: &Client) {
    let crds = kube::discovery::ApiResource {
        group: "apiextensions.k8s.io".into(),
        version: "v1".into(),
        api_version: "apiextensions.k8s.io/v1".into(),
        kind: "CustomResourceDefinition".into(),
        plural: "customresourcedefinitions".into(),
    };
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &crds);
    // With the Gateway API's standard channel (v1.6.1) for the route kinds, as an operator
    // installs it.
    let all = meshcd_schemas::crds()
        .iter()
        .chain(meshcd_schemas::gateway_api_crds());
    for (_, yaml) in all {
        let crd: serde_json::Value =
            serde_yaml::from_str(yaml.split_once("---\n").map_or(yaml, |(_, rest)| rest)).unwrap();
        let name = crd["metadata"]["name"].as_str().unwrap().to_string();
        api.patch(
            &name,
            &PatchParams::apply("meshcd-test").force(),
            &Patch::Apply(&crd),
        )
        .await
        .unwrap_or_else(|error| panic!("installing CRD {name}: {error}"));
    }
    eventually("every CRD is served", || async {
        meshcd::kubernetes::served::discover(client)
            .await
            .is_ok_and(|served| Kind::ALL.iter().all(|kind| served.contains_key(kind)))
    })
    .await;
}

fn unique_mesh() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("meshcd-test-{nanos}")
}

#[tokio::test]
async fn the_repository_is_applied_and_kept_applied_in_a_real_kubernetes_cluster() {
    let Some(client) =
        cluster("the_repository_is_applied_and_kept_applied_in_a_real_kubernetes_cluster").await
    else {
        return;
    };
    install_crds(&client).await;
    // Another suite (tests/tests/kubernetes_pods.rs) uses the same namespaces: nothing
    // can be created in them while they are being deleted.
    let namespaces: Api<Namespace> = Api::all(client.clone());
    eventually("the examples' namespaces are not being deleted", || async {
        let mut terminating = false;
        for namespace in [SIMPLE, CANARY] {
            if let Ok(Some(found)) = namespaces.get_opt(namespace).await {
                terminating |= found.metadata.deletion_timestamp.is_some();
            }
        }
        !terminating
    })
    .await;
    let mesh = unique_mesh();
    let applier = Applier::new(client.clone()).with_ca_bundle("test bundle");
    let mut config = examples_config(&mesh);

    let report = applier
        .apply(&config, &WeightOverrides::new())
        .await
        .unwrap();
    assert_eq!(
        report.failures,
        vec![],
        "every object applies to a real API server"
    );
    let namespaces: Api<Namespace> = Api::all(client.clone());
    for namespace in [SIMPLE, CANARY] {
        let labels = namespaces
            .get(namespace)
            .await
            .unwrap()
            .metadata
            .labels
            .unwrap_or_default();
        assert_eq!(labels.get("meshcd.dev/monitored-by"), Some(&mesh));
    }
    let splits: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        CANARY,
        &resource(Kind::TrafficSplit, "v1alpha4"),
    );
    let split = splits.get("api").await.unwrap();
    assert_eq!(
        split.metadata.labels.unwrap()["app.kubernetes.io/managed-by"],
        "meshcd"
    );
    let managers: Vec<String> = split
        .metadata
        .managed_fields
        .unwrap_or_default()
        .into_iter()
        .filter_map(|entry| entry.manager)
        .collect();
    assert!(managers.contains(&"meshcd".to_string()), "{managers:?}");

    // A hand edit of a managed field is drift: corrected on the next apply.
    splits
        .patch(
            "api",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"backends": [{"service": "api-v1", "weight": 1}, {"service": "api-v2", "weight": 99}]}})),
        )
        .await
        .unwrap();
    let report = applier
        .apply(&config, &WeightOverrides::new())
        .await
        .unwrap();
    let corrected: Vec<&str> = report.updated().map(|o| o.object.as_str()).collect();
    assert_eq!(corrected, [format!("TrafficSplit {CANARY}/api")]);
    assert_eq!(
        splits.get("api").await.unwrap().data["spec"]["backends"][0]["weight"],
        90
    );

    // A namespace that leaves the repository keeps existing, without the label; its
    // objects are pruned.
    config.namespaces.remove(SIMPLE);
    config
        .traffic_targets
        .retain(|t| t.value.namespace != SIMPLE);
    config
        .http_route_groups
        .retain(|g| g.value.namespace != SIMPLE);
    let report = applier
        .apply(&config, &WeightOverrides::new())
        .await
        .unwrap();
    assert_eq!(report.namespaces_released, [SIMPLE]);
    let released = namespaces.get(SIMPLE).await.expect("never deleted");
    assert!(
        !released
            .metadata
            .labels
            .unwrap_or_default()
            .contains_key("meshcd.dev/monitored-by")
    );
    let targets: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        SIMPLE,
        &resource(Kind::TrafficTarget, "v1alpha3"),
    );
    assert!(
        targets.get_opt("frontend-to-api").await.unwrap().is_none(),
        "pruned"
    );

    // Clean up: an empty repository prunes every object and releases every namespace;
    // the namespaces this test created are deleted by the test, never by meshcd.
    let mut empty = Config::default();
    empty.mesh.name = mesh.clone();
    applier
        .apply(&empty, &WeightOverrides::new())
        .await
        .unwrap();
    for namespace in [SIMPLE, CANARY] {
        let _ = namespaces.delete(namespace, &DeleteParams::default()).await;
    }
}

#[tokio::test]
async fn two_replicas_elect_one_leader_in_a_real_kubernetes_cluster() {
    let Some(client) = cluster("two_replicas_elect_one_leader_in_a_real_kubernetes_cluster").await
    else {
        return;
    };
    let lease = unique_mesh();
    let election = |identity: &str| Election {
        lease_duration: Duration::from_secs(4),
        retry: Duration::from_millis(500),
        ..Election::new("default", &lease, identity)
    };
    let (a_sender, a) = watch::channel(false);
    let (b_sender, b) = watch::channel(false);
    let a_task = tokio::spawn(election("replica-a").run(client.clone(), a_sender));
    let b_task = tokio::spawn(election("replica-b").run(client.clone(), b_sender));
    eventually("one replica leads", || {
        let (a, b) = (*a.borrow(), *b.borrow());
        async move { a ^ b }
    })
    .await;
    let (leader, follower_task, mut follower) = if *a.borrow() {
        (a_task, b_task, b)
    } else {
        (b_task, a_task, a)
    };
    leader.abort();
    assert!(
        tokio::time::timeout(Duration::from_secs(10), follower.wait_for(|leads| *leads))
            .await
            .is_ok(),
        "the other replica takes over within the lease"
    );
    follower_task.abort();
    let leases: Api<k8s_openapi::api::coordination::v1::Lease> = Api::namespaced(client, "default");
    let _ = leases.delete(&lease, &DeleteParams::default()).await;
}

#[tokio::test]
async fn run_before_install_names_the_fix_in_a_real_kubernetes_cluster() {
    let test = "run_before_install_names_the_fix_in_a_real_kubernetes_cluster";
    if cluster(test).await.is_none() {
        return;
    }
    let state = tempfile::tempdir().unwrap();
    let namespace = format!("{}-not-installed", unique_mesh());
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_meshcd"))
        .args(["run", "--kubernetes", "--kubernetes-namespace", &namespace])
        .arg("--state-dir")
        .arg(state.path())
        .arg("--repo")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .env(
            "KUBECONFIG",
            std::env::var_os("MESHCD_TEST_KUBECONFIG").unwrap(),
        )
        .output();
    let output = tokio::time::timeout(Duration::from_secs(60), output)
        .await
        .expect("meshcd run exits")
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    // Which of the two is missing first depends on whether another test of this cluster
    // installed the CRDs already; either way the fix is named.
    assert!(
        (stderr.contains(&format!("namespace {namespace} does not exist"))
            || stderr.contains("meshcd is not installed in this cluster"))
            && stderr.contains("run `meshcd install"),
        "{stderr}"
    );
}

#[tokio::test]
async fn gateway_routes_are_applied_and_accepted_in_a_real_kubernetes_cluster() {
    let Some(client) =
        cluster("gateway_routes_are_applied_and_accepted_in_a_real_kubernetes_cluster").await
    else {
        return;
    };
    install_crds(&client).await;
    let namespace = "meshcd-gamma-test";
    let namespaces: Api<Namespace> = Api::all(client.clone());
    eventually("the test namespace is not being deleted", || async {
        !matches!(namespaces.get_opt(namespace).await, Ok(Some(found)) if found.metadata.deletion_timestamp.is_some())
    })
    .await;
    let mesh = unique_mesh();
    let applier = Applier::new(client.clone());
    let routes = format!(
        "apiVersion: v1
kind: Namespace
metadata: {{name: {namespace}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: api, namespace: {namespace}}}
spec:
  parentRefs: [{{group: '', kind: Service, name: api, port: 80}}]
  rules:
  - name: v2
    matches: [{{path: {{type: PathPrefix, value: /v2}}}}]
    filters: [{{type: RequestHeaderModifier, requestHeaderModifier: {{set: [{{name: x-v, value: '2'}}]}}}}]
    backendRefs: [{{name: api-v2, port: 80}}]
    timeouts: {{request: 10s}}
  - backendRefs: [{{name: api-v1, port: 80, weight: 90}}, {{name: api-v2, port: 80, weight: 10}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {{name: echo, namespace: {namespace}}}
spec:
  parentRefs: [{{group: '', kind: Service, name: echo, port: 7070}}]
  rules: [{{matches: [{{method: {{service: shop.Echo}}}}], backendRefs: [{{name: echo-v1, port: 7070}}]}}]
"
    );
    let loaded = meshcd::load::load_files(vec![("routes.yaml".into(), routes.clone())]);
    let mut config = meshcd::validate::validate(&loaded).config.expect("valid");
    config.mesh.name = mesh.clone();
    let report = applier
        .apply(&config, &WeightOverrides::new())
        .await
        .unwrap();
    assert_eq!(
        report.failures,
        vec![],
        "the routes apply to a real API server"
    );

    let http_routes: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), namespace, &resource(Kind::HttpRoute, "v1"));
    let route = http_routes.get("api").await.unwrap();
    assert_eq!(
        route.data["spec"]["rules"][1]["backendRefs"][0]["weight"],
        90
    );
    let parent = &route.data["status"]["parents"][0];
    eprintln!("HTTPRoute {namespace}/api status.parents[0]: {parent}");
    assert_eq!(parent["controllerName"], "meshcd.dev/mesh");
    assert_eq!(parent["parentRef"]["name"], "api");
    let accepted = parent["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Accepted")
        .expect("an Accepted condition");
    assert_eq!(accepted["status"], "True");
    assert_eq!(
        accepted["observedGeneration"],
        route.metadata.generation.unwrap()
    );
    let grpc_routes: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), namespace, &resource(Kind::GrpcRoute, "v1"));
    let echo = grpc_routes.get("echo").await.unwrap();
    assert_eq!(
        echo.data["status"]["parents"][0]["conditions"][0]["status"],
        "True"
    );

    // At rest: applying the same again writes nothing, status included.
    let report = applier
        .apply(&config, &WeightOverrides::new())
        .await
        .unwrap();
    assert_eq!(report.updated().count(), 0);
    let again = http_routes.get("api").await.unwrap();
    assert_eq!(
        again.metadata.resource_version,
        route.metadata.resource_version
    );

    // A Canary on the route: the real CRD takes `httpRoute`, and while the rollout holds
    // 50/50 the applied route carries it (the pinned `v2` rule keeps Git's weight).
    let canaried = format!(
        "{routes}---
apiVersion: meshcd.dev/v1alpha1
kind: Canary
metadata: {{name: api, namespace: {namespace}}}
spec:
  httpRoute: {{name: api}}
  stable: api-v1
  canary: api-v2
  steps: {{weights: [50]}}
---
apiVersion: meshcd.dev/v1alpha1
kind: Mesh
metadata: {{name: meshcd}}
spec: {{faultInjection: allowed}}
---
apiVersion: meshcd.dev/v1alpha1
kind: Fault
metadata: {{name: chaos, namespace: {namespace}}}
spec:
  destination: {{kind: Service, name: api-v2}}
  abort: {{percent: 10, httpStatus: 503}}
---
apiVersion: policy.openservicemesh.io/v1alpha1
kind: Retry
metadata: {{name: retry, namespace: {namespace}}}
spec:
  source: {{kind: ServiceAccount, name: frontend, namespace: {namespace}}}
  destinations: [{{kind: Service, name: api, namespace: {namespace}}}]
  retryPolicy: {{retryOn: 5xx, perTryTimeout: 1s, numRetries: 2, retryBackoffBaseInterval: 25ms}}
---
apiVersion: policy.openservicemesh.io/v1alpha1
kind: UpstreamTrafficSetting
metadata: {{name: limits, namespace: {namespace}}}
spec:
  host: api
  connectionSettings: {{tcp: {{maxConnections: 8}}, http: {{maxRequests: 100, maxPendingRequests: 10, maxRetries: 3}}}}
  rateLimit: {{local: {{http: {{requests: 50, unit: second, burst: 10}}, tcp: {{connections: 10, unit: second}}}}}}
  httpRoutes: [{{path: /orders/.*, rateLimit: {{local: {{requests: 5, unit: second}}}}}}]
  outlierDetection: {{consecutiveFailures: 3, baseEjectionTime: 2s}}
"
    );
    let loaded = meshcd::load::load_files(vec![("routes.yaml".into(), canaried)]);
    let mut canaried = meshcd::validate::validate(&loaded).config.expect("valid");
    canaried.mesh.name = mesh.clone();
    let held = WeightOverrides::from([(
        (
            namespace.to_string(),
            CanaryTarget::HttpRoute {
                name: "api".into(),
                rule: None,
            },
        ),
        [("api-v1".to_string(), 50), ("api-v2".to_string(), 50)].into(),
    )]);
    let report = applier.apply(&canaried, &held).await.unwrap();
    assert_eq!(
        report.failures,
        vec![],
        "the Canary and the held route apply"
    );
    let route = http_routes.get("api").await.unwrap();
    let weights: Vec<&serde_json::Value> = route.data["spec"]["rules"][1]["backendRefs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|backend| &backend["weight"])
        .collect();
    eprintln!("HTTPRoute {namespace}/api while a Canary holds it: rule 1 weights {weights:?}");
    assert_eq!(weights, [50, 50]);
    assert_eq!(
        route.data["spec"]["rules"][0]["backendRefs"][0]["weight"],
        1
    );
    let canaries: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        namespace,
        &resource(Kind::Canary, "v1alpha1"),
    );
    let canary = canaries.get("api").await.unwrap();
    assert_eq!(canary.data["spec"]["httpRoute"]["name"], "api");
    // Issue 19's kinds through their real CRDs (meshcd's Fault, OSM's two policies).
    let read = |kind: Kind, name: &'static str| {
        let api: Api<DynamicObject> =
            Api::namespaced_with(client.clone(), namespace, &resource(kind, "v1alpha1"));
        async move { api.get(name).await.unwrap().data["spec"].clone() }
    };
    let fault = read(Kind::Fault, "chaos").await;
    let retry = read(Kind::Retry, "retry").await;
    let limits = read(Kind::UpstreamTrafficSetting, "limits").await;
    eprintln!(
        "applied Fault spec {fault}\napplied Retry spec {retry}\napplied UpstreamTrafficSetting spec {limits}"
    );
    assert_eq!(fault["abort"]["httpStatus"], 503);
    assert_eq!(retry["retryPolicy"]["numRetries"], 2);
    assert_eq!(limits["connectionSettings"]["http"]["maxRequests"], 100);
    assert_eq!(limits["rateLimit"]["local"]["http"]["requests"], 50);
    // Kept by the API server: the rest of OSM's fields and meshcd's `outlierDetection`
    // (in the CRD `meshcd install` applies).
    assert_eq!(limits["connectionSettings"]["tcp"]["maxConnections"], 8);
    assert_eq!(limits["connectionSettings"]["http"]["maxRetries"], 3);
    assert_eq!(limits["rateLimit"]["local"]["tcp"]["connections"], 10);
    assert_eq!(limits["httpRoutes"][0]["path"], "/orders/.*");
    assert_eq!(limits["outlierDetection"]["consecutiveFailures"], 3);
    assert_eq!(limits["outlierDetection"]["baseEjectionTime"], "2s");

    // `retry` is experimental: the standard-channel CRD refuses it by name.
    let with_retry = routes.replace(
        "    timeouts: {request: 10s}",
        "    timeouts: {request: 10s}\n    retry: {codes: [503], attempts: 2}",
    );
    let loaded = meshcd::load::load_files(vec![("routes.yaml".into(), with_retry)]);
    let mut retried = meshcd::validate::validate(&loaded).config.expect("valid");
    retried.mesh.name = mesh.clone();
    let report = applier
        .apply(&retried, &WeightOverrides::new())
        .await
        .unwrap();
    eprintln!("with retry: {:?}", report.failures);
    assert_eq!(report.failures.len(), 1, "{:?}", report.failures);
    assert!(
        report.failures[0].error.contains("retry"),
        "{:?}",
        report.failures
    );

    // Routes that leave the repository are pruned.
    let mut empty = Config::default();
    empty.mesh.name = mesh;
    let report = applier
        .apply(&empty, &WeightOverrides::new())
        .await
        .unwrap();
    assert_eq!(
        report.pruned,
        [
            format!("HTTPRoute {namespace}/api"),
            format!("GRPCRoute {namespace}/echo")
        ]
    );
    let _ = namespaces.delete(namespace, &DeleteParams::default()).await;
}

/// A root meshcd makes for a MeshRootCertificate keeps its key in a Secret of the cluster
/// (every replica resolves the same root), and an operator's intermediate CA is read from
/// its Secret: the roots in force trust both during a rotation's first step, and the
/// intermediate's workload certificates chain to the operator's root.
#[tokio::test]
async fn mesh_root_certificates_keep_their_keys_in_secrets_of_a_real_kubernetes_cluster() {
    use meshcd::identity::ca::CertificateAuthority;
    use meshcd::identity::roots::{RootStore, SecretKeys};
    use meshcd::kubernetes::ca_secret::ClusterRootKeys;
    use meshcd::model::{MeshRootCertificate, RootRole, RootSource};
    use std::sync::Arc;

    let test = "mesh_root_certificates_keep_their_keys_in_secrets_of_a_real_kubernetes_cluster";
    let Some(client) = cluster(test).await else {
        return;
    };
    let namespace = format!("{}-roots", unique_mesh());
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let body: Namespace = serde_json::from_value(json!({"metadata": {"name": namespace}})).unwrap();
    namespaces.create(&Default::default(), &body).await.unwrap();

    // The operator's root and an intermediate below it, as cert-manager would store it.
    let root_key = rcgen::KeyPair::generate().unwrap();
    let mut root_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    root_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let operator_root = root_params.self_signed(&root_key).unwrap();
    let root_issuer = rcgen::Issuer::new(root_params, root_key);
    let intermediate_key = rcgen::KeyPair::generate().unwrap();
    let mut intermediate_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    intermediate_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Constrained(0));
    let intermediate = intermediate_params
        .signed_by(&intermediate_key, &root_issuer)
        .unwrap();
    let secrets: Api<k8s_openapi::api::core::v1::Secret> =
        Api::namespaced(client.clone(), &namespace);
    let secret = json!({
        "metadata": {"name": "operator-ca"},
        "type": "kubernetes.io/tls",
        "stringData": {
            "tls.crt": intermediate.pem(),
            "tls.key": intermediate_key.serialize_pem(),
            "ca.crt": operator_root.pem(),
        },
    });
    secrets
        .create(
            &Default::default(),
            &serde_json::from_value(secret).unwrap(),
        )
        .await
        .unwrap();

    let keys = || -> Arc<dyn SecretKeys> {
        Arc::new(ClusterRootKeys {
            client: client.clone(),
            trust_domain: "cluster.local".into(),
        })
    };
    let (default, _) = CertificateAuthority::generate("cluster.local").unwrap();
    let default = Arc::new(default);
    let state = tempfile::tempdir().unwrap();
    let replica = || {
        RootStore::new(
            default.clone(),
            state.path().into(),
            "cluster.local",
            Some(keys()),
        )
    };
    let mrc = |name: &str, role, source| MeshRootCertificate {
        namespace: namespace.clone(),
        name: name.into(),
        role,
        source,
    };
    let made = |role| {
        let source = RootSource::Generated {
            secret: "root-2027".into(),
            namespace: namespace.clone(),
        };
        mrc("root-2027", role, source)
    };
    let current = mrc(
        "current",
        RootRole::Active,
        RootSource::Generated {
            secret: "meshcd-ca".into(),
            namespace: namespace.clone(),
        },
    );

    // Step one of a rotation: the new root trusted, the current one still issuing.
    let passive = [current.clone(), made(RootRole::Passive)];
    let first = replica().resolve(&passive).await.unwrap();
    assert_eq!(first.roots.len(), 2, "both roots trusted");
    assert_eq!(first.issuing(), first.roots[0].fingerprint);
    assert_eq!(first.roots[0].pem.trim(), default.anchor_pem().trim());
    let kept = secrets.get("root-2027").await.unwrap();
    assert!(
        kept.data
            .as_ref()
            .is_some_and(|d| d.contains_key("tls.key")),
        "the new root's key is in its Secret"
    );
    // Another replica (no cache, no state shared) resolves the very same new root.
    let second = replica().resolve(&passive).await.unwrap();
    assert_eq!(second.roots[1].fingerprint, first.roots[1].fingerprint);

    // The operator's intermediate issues: its leaves chain to the operator's root.
    let from_secret = RootSource::IntermediateSecret {
        name: "operator-ca".into(),
        namespace: namespace.clone(),
    };
    let operator = [mrc("operator", RootRole::Active, from_secret)];
    let trust = replica().resolve(&operator).await.unwrap();
    assert_eq!(trust.roots[0].pem.trim(), operator_root.pem().trim());
    let csr_key = rcgen::KeyPair::generate().unwrap();
    let csr = rcgen::CertificateParams::new(Vec::<String>::new())
        .unwrap()
        .serialize_request(&csr_key)
        .unwrap()
        .pem()
        .unwrap();
    let issued = trust
        .issuer
        .sign_workload(
            &csr,
            "spiffe://cluster.local/ns/shop/sa/api",
            Duration::from_secs(3600),
        )
        .unwrap();
    assert!(
        issued.certificate_pem.contains(intermediate.pem().trim()),
        "the leaf is served with the intermediate"
    );
    let _ = namespaces
        .delete(&namespace, &DeleteParams::default())
        .await;
}
