use std::path::{Path, PathBuf};

use serde::Deserialize as _;
use serde_json::Value;

use super::*;

/// Every document of the stream as JSON.
fn documents(text: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(text)
        .map(|document| Value::deserialize(document).expect("each document parses as YAML"))
        .filter(|value| !value.is_null())
        .collect()
}

fn find<'a>(documents: &'a [Value], kind: &str, name: &str) -> &'a Value {
    documents
        .iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy")
}

#[test]
fn meshcd_install_renders_yaml_documents_of_the_expected_kinds() {
    let documents = documents(&stream(&render(&Options::default())));
    let kinds: Vec<String> = documents
        .iter()
        .map(|d| {
            format!(
                "{} {}",
                d["kind"].as_str().unwrap(),
                d["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "CustomResourceDefinition traffictargets.access.smi-spec.io",
            "CustomResourceDefinition meshrootcertificates.config.openservicemesh.io",
            "CustomResourceDefinition canaries.meshcd.dev",
            "CustomResourceDefinition faults.meshcd.dev",
            "CustomResourceDefinition meshes.meshcd.dev",
            "CustomResourceDefinition egresses.policy.openservicemesh.io",
            "CustomResourceDefinition ingressbackends.policy.openservicemesh.io",
            "CustomResourceDefinition retries.policy.openservicemesh.io",
            "CustomResourceDefinition upstreamtrafficsettings.policy.openservicemesh.io",
            "CustomResourceDefinition httproutegroups.specs.smi-spec.io",
            "CustomResourceDefinition tcproutes.specs.smi-spec.io",
            "CustomResourceDefinition udproutes.specs.smi-spec.io",
            "CustomResourceDefinition trafficsplits.split.smi-spec.io",
            "Namespace meshcd-system",
            "ServiceAccount meshcd",
            "ClusterRole meshcd-meshcd",
            "ClusterRoleBinding meshcd-meshcd",
            "Role meshcd",
            "RoleBinding meshcd",
            "ClusterRole meshcd-operator",
            "ClusterRole meshcd-viewer",
            "ConfigMap meshcd-source",
            "Deployment meshcd",
            "PodDisruptionBudget meshcd",
            "Service meshcd-control-plane",
            "Service meshcd-admin",
            "Service meshcd-webhook",
            "NetworkPolicy meshcd",
            "MutatingWebhookConfiguration meshcd-meshcd",
        ]
    );
}

#[test]
fn deploy_holds_exactly_what_meshcd_install_renders() {
    let manifests = render(&Options::default());
    let mut stale = Vec::new();
    for manifest in &manifests {
        let path = deploy_dir().join(&manifest.path);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(manifest.yaml.as_str()) {
            stale.push(manifest.path.clone());
        }
    }
    let mut extra = Vec::new();
    for folder in ["", "crds"] {
        for entry in std::fs::read_dir(deploy_dir().join(folder)).unwrap() {
            let path = entry.unwrap().path();
            let relative = path
                .strip_prefix(deploy_dir())
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if path.extension().is_some_and(|e| e == "yaml")
                && !manifests.iter().any(|m| m.path == relative)
            {
                extra.push(relative);
            }
        }
    }
    assert!(
        stale.is_empty() && extra.is_empty(),
        "deploy/ is stale (regenerate: cargo run -p meshcd -- install --repo https://git.example.com/platform/mesh-config.git --gateway-api-crds never --output-dir deploy): differs {stale:?}, not rendered {extra:?}"
    );
}

#[test]
fn the_cluster_role_grants_only_the_verbs_meshcd_uses() {
    let documents = documents(&stream(&render(&Options::default())));
    let role = find(&documents, "ClusterRole", "meshcd-meshcd");
    let mut grants: Vec<String> = Vec::new();
    for rule in role["rules"].as_array().unwrap() {
        for group in rule["apiGroups"].as_array().unwrap() {
            for resource in rule["resources"].as_array().unwrap() {
                let verbs: Vec<&str> = rule["verbs"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap())
                    .collect();
                grants.push(format!(
                    "{}/{}: {}",
                    group.as_str().unwrap(),
                    resource.as_str().unwrap(),
                    verbs.join(",")
                ));
            }
        }
    }
    assert_eq!(
        grants,
        [
            // Server-side apply of an object that does not exist yet needs `create`
            // besides `patch` (a real API server refused every apply without it).
            "/namespaces: list,create,patch",
            "/configmaps: list,create,patch,delete",
            "/services: list,watch",
            "/pods: list,watch",
            "discovery.k8s.io/endpointslices: list,watch",
            "access.smi-spec.io/traffictargets: list,create,patch,delete",
            "specs.smi-spec.io/httproutegroups: list,create,patch,delete",
            "specs.smi-spec.io/tcproutes: list,create,patch,delete",
            "specs.smi-spec.io/udproutes: list,create,patch,delete",
            "split.smi-spec.io/trafficsplits: list,create,patch,delete",
            "meshcd.dev/meshes: list,create,patch,delete",
            "meshcd.dev/canaries: list,create,patch,delete",
            "meshcd.dev/faults: list,create,patch,delete",
            "policy.openservicemesh.io/retries: list,create,patch,delete",
            "policy.openservicemesh.io/upstreamtrafficsettings: list,create,patch,delete",
            "policy.openservicemesh.io/egresses: list,create,patch,delete",
            "policy.openservicemesh.io/ingressbackends: list,create,patch,delete",
            "gateway.networking.k8s.io/httproutes: list,create,patch,delete",
            "gateway.networking.k8s.io/grpcroutes: list,create,patch,delete",
            "gateway.networking.k8s.io/referencegrants: list,create,patch,delete",
            "gateway.networking.k8s.io/httproutes/status: patch",
            "gateway.networking.k8s.io/grpcroutes/status: patch",
            // Canary progress: the leader writes it to the status, followers watch it.
            "meshcd.dev/canaries: watch",
            "meshcd.dev/canaries/status: patch",
            "authentication.k8s.io/tokenreviews: create",
            "authorization.k8s.io/subjectaccessreviews: create",
            "events.k8s.io/events: create,patch",
            "admissionregistration.k8s.io/mutatingwebhookconfigurations: get,patch",
        ]
    );
    for rbac in documents
        .iter()
        .filter(|d| d["kind"] == "Role" || d["kind"] == "ClusterRole")
    {
        let rules = serde_json::to_string(&rbac["rules"]).unwrap();
        assert!(!rules.contains("\"*\""), "no wildcard in {}", rbac["kind"]);
    }
}

#[test]
fn the_reconciler_runs_unprivileged_with_probes_and_limits() {
    let documents = documents(&stream(&render(&Options::default())));
    let deployment = find(&documents, "Deployment", "meshcd");
    let pod = &deployment["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    let container = &pod["containers"][0];
    assert_eq!(
        container["args"],
        serde_json::json!(["run", "--kubernetes"])
    );
    assert_eq!(container["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(
        container["securityContext"]["allowPrivilegeEscalation"],
        false
    );
    assert_eq!(
        container["securityContext"]["capabilities"]["drop"],
        serde_json::json!(["ALL"])
    );
    assert!(container["livenessProbe"].is_object() && container["readinessProbe"].is_object());
    assert!(
        container["resources"]["requests"].is_object()
            && container["resources"]["limits"].is_object()
    );
    let ports: Vec<i64> = container["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["containerPort"].as_i64().unwrap())
        .collect();
    assert_eq!(ports, [15012, 15014, 15017]);
}

#[test]
fn options_reach_every_object_that_names_them() {
    let options = Options {
        namespace: "mesh".into(),
        mesh_name: "payments".into(),
        image: "registry.local/meshcd:dev".into(),
        ..Options::default()
    };
    let documents = documents(&stream(&render(&options)));
    for document in documents
        .iter()
        .filter(|d| d["metadata"]["namespace"].is_string())
    {
        assert_eq!(
            document["metadata"]["namespace"], "mesh",
            "{}",
            document["kind"]
        );
    }
    let webhook = find(
        &documents,
        "MutatingWebhookConfiguration",
        "meshcd-payments",
    );
    assert_eq!(
        webhook["webhooks"][0]["clientConfig"]["service"]["namespace"],
        "mesh"
    );
    assert_eq!(
        webhook["webhooks"][0]["namespaceSelector"]["matchLabels"]["meshcd.dev/monitored-by"],
        "payments"
    );
    let deployment = find(&documents, "Deployment", "meshcd");
    assert_eq!(
        deployment["spec"]["template"]["spec"]["containers"][0]["image"],
        "registry.local/meshcd:dev"
    );
}

/// Kubernetes' own schemas, offline, in strict mode (unknown fields are errors), from the
/// PyPI package `kubernetes-validate`; reported as skipped where it is not installed.
#[test]
fn the_rendered_manifests_pass_kubernetes_schemas_in_strict_mode() {
    let Ok(output) = std::process::Command::new("kubernetes-validate")
        .arg("--version")
        .output()
    else {
        eprintln!(
            "SKIPPED: kubernetes-validate is not installed (pip install kubernetes-validate)"
        );
        return;
    };
    if !output.status.success() {
        eprintln!("SKIPPED: kubernetes-validate does not run");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for manifest in render(&Options::default()) {
        // CRDs are validated as CustomResourceDefinitions like any other object.
        let path = dir.path().join(manifest.path.replace('/', "_"));
        std::fs::write(&path, &manifest.yaml).unwrap();
        files.push(path);
    }
    let output = std::process::Command::new("kubernetes-validate")
        .args(["--strict", "--kubernetes-version", "1.33.0"])
        .args(&files)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "kubernetes-validate --strict failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
