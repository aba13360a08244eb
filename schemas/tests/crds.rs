//! The embedded CRDs: what a cluster gets is the upstream SMI CRDs and meshcd's Mesh and Canary.
//! (Gateway API's CRDs are not among them: see `generate/sources.rs`.)

use std::collections::BTreeSet;
use std::path::Path;

use serde::Deserialize;
use serde_yaml::Value;

fn crd(file: &str) -> Value {
    let (_, text) = meshcd_schemas::crds()
        .iter()
        .find(|(name, _)| *name == file)
        .unwrap_or_else(|| panic!("no CRD file {file}"));
    serde_yaml::from_str(text).expect("the CRD is YAML")
}

fn upstream(file: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("upstream/smi-sdk-go")
        .join(file);
    let text = std::fs::read_to_string(path).expect("upstream CRD readable");
    let mut documents = serde_yaml::Deserializer::from_str(&text).map(Value::deserialize);
    let first = documents
        .next()
        .expect("one document")
        .expect("upstream CRD is YAML");
    assert!(documents.next().is_none(), "{file} holds one CRD");
    first
}

#[test]
fn crds_are_apiextensions_v1_and_named_after_group_and_plural() {
    let names: BTreeSet<&str> = meshcd_schemas::crds()
        .iter()
        .map(|(name, _)| *name)
        .collect();
    let expected = BTreeSet::from([
        "access.smi-spec.io_traffictargets.yaml",
        "specs.smi-spec.io_httproutegroups.yaml",
        "specs.smi-spec.io_tcproutes.yaml",
        "specs.smi-spec.io_udproutes.yaml",
        "split.smi-spec.io_trafficsplits.yaml",
        "meshcd.dev_meshes.yaml",
        "meshcd.dev_canaries.yaml",
        // Issue 19: meshcd's Fault, and OSM's policy kinds as OSM wrote them.
        "meshcd.dev_faults.yaml",
        "policy.openservicemesh.io_retries.yaml",
        "policy.openservicemesh.io_upstreamtrafficsettings.yaml",
        // Issue 20: OSM's Egress as OSM wrote it.
        "policy.openservicemesh.io_egresses.yaml",
        // Issue 20: OSM's MeshRootCertificate, with meshcd's role and intermediate CA.
        "config.openservicemesh.io_meshrootcertificates.yaml",
        // Issue 20: OSM's IngressBackend as OSM wrote it.
        "policy.openservicemesh.io_ingressbackends.yaml",
    ]);
    assert_eq!(names, expected);
    for name in names {
        let document = crd(name);
        assert_eq!(document["apiVersion"], "apiextensions.k8s.io/v1", "{name}");
        assert_eq!(document["kind"], "CustomResourceDefinition", "{name}");
        let spec = &document["spec"];
        let file = format!(
            "{}_{}.yaml",
            spec["group"].as_str().unwrap(),
            spec["names"]["plural"].as_str().unwrap()
        );
        assert_eq!(file, name);
        let metadata_name = format!(
            "{}.{}",
            spec["names"]["plural"].as_str().unwrap(),
            spec["group"].as_str().unwrap()
        );
        assert_eq!(
            document["metadata"]["name"].as_str(),
            Some(metadata_name.as_str())
        );
    }
}

#[test]
fn smi_crds_are_the_upstream_ones_unchanged() {
    for (upstream_file, crd_file) in [
        ("access.yaml", "access.smi-spec.io_traffictargets.yaml"),
        (
            "httproutegroup.yaml",
            "specs.smi-spec.io_httproutegroups.yaml",
        ),
        ("tcproute.yaml", "specs.smi-spec.io_tcproutes.yaml"),
        ("udproute.yaml", "specs.smi-spec.io_udproutes.yaml"),
        ("split.yaml", "split.smi-spec.io_trafficsplits.yaml"),
    ] {
        assert_eq!(crd(crd_file), upstream(upstream_file), "{crd_file}");
    }
}

#[test]
fn the_canary_crd_is_namespaced_with_a_status_subresource_that_keeps_any_field() {
    let canary = crd("meshcd.dev_canaries.yaml");
    assert_eq!(canary["spec"]["scope"], "Namespaced");
    let version = &canary["spec"]["versions"][0];
    assert_eq!(version["name"], "v1alpha1");
    assert_eq!(version["storage"], true);
    assert!(version["subresources"]["status"].is_mapping());
    let status = &version["schema"]["openAPIV3Schema"]["properties"]["status"];
    assert_eq!(status["x-kubernetes-preserve-unknown-fields"], true);
}

#[test]
fn the_mesh_crd_is_cluster_scoped() {
    let mesh = crd("meshcd.dev_meshes.yaml");
    assert_eq!(mesh["spec"]["scope"], "Cluster");
    assert_eq!(mesh["spec"]["names"]["kind"], "Mesh");
}

#[test]
fn meshcd_crds_and_json_schemas_define_the_same_spec_fields() {
    for (file, kind) in [
        ("meshcd.dev_meshes.yaml", "Mesh"),
        ("meshcd.dev_canaries.yaml", "Canary"),
        ("meshcd.dev_faults.yaml", "Fault"),
    ] {
        let document = crd(file);
        let crd_fields: BTreeSet<String> = document["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
            .as_mapping()
            .expect("spec properties")
            .keys()
            .map(|k| k.as_str().unwrap().to_string())
            .collect();
        let schema: serde_json::Value =
            serde_json::from_str(meshcd_schemas::json_schema("meshcd.dev/v1alpha1", kind).unwrap())
                .unwrap();
        let json_fields: BTreeSet<String> = schema["properties"]["spec"]["properties"]
            .as_object()
            .expect("spec properties")
            .keys()
            .cloned()
            .collect();
        assert_eq!(crd_fields, json_fields, "{kind}");
    }
}

#[test]
fn every_generated_file_on_disk_is_embedded_in_the_library() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut embedded = BTreeSet::new();
    for (api_version, kind) in meshcd_schemas::CONFIG_KINDS {
        embedded.insert(format!("json/{api_version}/{kind}.json"));
    }
    for (name, _) in meshcd_schemas::crds() {
        embedded.insert(format!("crds/{name}"));
    }
    let mut on_disk = BTreeSet::new();
    let mut pending = vec![root.join("json"), root.join("crds")];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("generated folder exists") {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                on_disk.insert(
                    path.strip_prefix(root)
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/"),
                );
            }
        }
    }
    assert_eq!(
        on_disk, embedded,
        "files under json/ or crds/ that no source generates any more"
    );
}
