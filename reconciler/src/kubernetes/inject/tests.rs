use base64::Engine as _;
use serde_json::{Value, json};

use super::*;
use crate::kubernetes::fake_api::json_patch;

fn settings() -> Settings {
    Settings {
        proxy_image: "meshcd/meshcd-proxy:0.1.0".into(),
        control_plane: "meshcd-control-plane.meshcd-system.svc:15012".into(),
        control_plane_name: "meshcd-control-plane.meshcd-system.svc".into(),
        native_sidecars: true,
    }
}

/// An AdmissionReview as the API server sends it for a pod a ReplicaSet creates (no
/// name, no uid yet; the namespace only in the request), trimmed of managedFields.
fn admission_review(pod: Value) -> Value {
    json!({
        "kind": "AdmissionReview",
        "apiVersion": "admission.k8s.io/v1",
        "request": {
            "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "requestKind": {"group": "", "version": "v1", "kind": "Pod"},
            "requestResource": {"group": "", "version": "v1", "resource": "pods"},
            "namespace": "osm-simple-app",
            "operation": "CREATE",
            "userInfo": {"username": "system:serviceaccount:kube-system:replicaset-controller",
                         "uid": "a5ba8dd7-7a4e-4a5c-9a1b-7c1e0a3a2d11",
                         "groups": ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"]},
            "object": pod,
            "oldObject": null,
            "dryRun": false,
            "options": {"kind": "CreateOptions", "apiVersion": "meta.k8s.io/v1"},
        }
    })
}

fn api_pod() -> Value {
    json!({
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {
            "generateName": "api-6d4cf56db6-",
            "namespace": "osm-simple-app",
            "labels": {"app": "api", "pod-template-hash": "6d4cf56db6"},
            "annotations": {"kubectl.kubernetes.io/restartedAt": "2024-05-01T10:00:00Z"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "api-6d4cf56db6",
                                 "uid": "8f1b5c1e-3c4d-4f5a-9b6c-7d8e9f0a1b2c", "controller": true, "blockOwnerDeletion": true}]
        },
        "spec": {
            "volumes": [{"name": "kube-api-access-x7k2p", "projected": {"sources": [{"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}}]}}],
            "initContainers": [{"name": "migrate", "image": "api:1.0", "command": ["/migrate"]}],
            "containers": [{
                "name": "api", "image": "api:1.0",
                "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                "volumeMounts": [{"name": "kube-api-access-x7k2p", "readOnly": true, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}],
                "terminationMessagePath": "/dev/termination-log", "imagePullPolicy": "IfNotPresent"
            }],
            "restartPolicy": "Always",
            "serviceAccountName": "api",
            "serviceAccount": "api",
            "securityContext": {},
            "schedulerName": "default-scheduler"
        },
        "status": {}
    })
}

fn respond(review: &Value, onboarded: bool) -> Value {
    super::review(
        review,
        |namespace| onboarded && namespace == "osm-simple-app",
        &settings(),
    )
    .unwrap()
}

fn patched(pod: &Value, response: &Value) -> Value {
    let patch = response["response"]["patch"].as_str().expect("a patch");
    let operations: Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(patch)
            .unwrap(),
    )
    .unwrap();
    let mut pod = pod.clone();
    json_patch(&mut pod, &operations).unwrap();
    pod
}

#[test]
fn a_pod_of_an_onboarded_namespace_gets_the_proxy_and_the_iptables_init_container() {
    let review = admission_review(api_pod());
    let response = respond(&review, true);
    assert_eq!(response["apiVersion"], "admission.k8s.io/v1");
    assert_eq!(response["kind"], "AdmissionReview");
    assert_eq!(
        response["response"]["uid"],
        "705ab4f5-6393-11e8-b7cc-42010a800002"
    );
    assert_eq!(response["response"]["allowed"], true);
    assert_eq!(response["response"]["patchType"], "JSONPatch");

    let pod = patched(&api_pod(), &response);
    let pod: Pod = serde_json::from_value(pod).expect("the patched pod is a valid Pod");
    let spec = pod.spec.unwrap();
    let init: Vec<&str> = spec
        .init_containers
        .iter()
        .flatten()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(init, ["meshcd-iptables", "meshcd-proxy", "migrate"]);
    let containers: Vec<&str> = spec.containers.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(containers, ["api"], "the app's containers are untouched");
    let proxy = &spec.init_containers.as_ref().unwrap()[1];
    assert_eq!(
        proxy.restart_policy.as_deref(),
        Some("Always"),
        "a native sidecar"
    );
    let env = |name: &str| {
        proxy
            .env
            .iter()
            .flatten()
            .find(|e| e.name == name)
            .and_then(|e| e.value.clone())
    };
    assert_eq!(
        env("MESHCD_PROXY_JOIN").as_deref(),
        Some("meshcd-control-plane.meshcd-system.svc:15012")
    );
    assert_eq!(
        env("MESHCD_PROXY_ADVERTISE").as_deref(),
        Some("$(POD_IP):15003")
    );
    assert_eq!(env("MESHCD_PROXY_SERVICES").as_deref(), Some("api"));
    assert_eq!(
        env("MESHCD_PROXY_PORTS").as_deref(),
        Some("8080=127.0.0.1:8080/http")
    );
    assert!(
        env("MESHCD_PROXY_TOKEN").is_none(),
        "the token is read from its file, not written into the pod spec"
    );
    assert_eq!(
        env("MESHCD_PROXY_TOKEN_FILE").as_deref(),
        Some("/var/run/secrets/meshcd/token"),
        "read again at every renewal: the kubelet rotates it"
    );
    assert_eq!(
        proxy.command.as_deref(),
        Some(&["meshcd-proxy".to_owned()][..])
    );
    let security = proxy.security_context.as_ref().unwrap();
    assert_eq!(security.run_as_user, Some(PROXY_UID));
    assert_eq!(security.read_only_root_filesystem, Some(true));
    assert_eq!(security.allow_privilege_escalation, Some(false));

    let iptables = &spec.init_containers.as_ref().unwrap()[0];
    let script = &iptables.command.as_ref().unwrap()[2];
    assert!(script.contains("--uid-owner 2102 -j RETURN"), "{script}");
    assert!(
        script.contains("--dport 15012 -j RETURN"),
        "the control plane is not redirected"
    );
    assert!(
        script.contains("--dport 53 -j RETURN"),
        "DNS is not redirected"
    );
    // Inbound: everything but the proxy's own ports reaches its mTLS listener, so the
    // app's port cannot be dialled around strict mTLS.
    assert!(
        script.contains("-A PREROUTING -p tcp -j MESHCD_INBOUND"),
        "{script}"
    );
    assert!(
        script.contains("-A MESHCD_INBOUND -p tcp -j REDIRECT --to-ports 15003"),
        "{script}"
    );
    for own in ["--dport 15003 -j RETURN", "--dport 15000 -j RETURN"] {
        assert!(script.contains(own), "{own}: {script}");
    }

    let volumes: Vec<&str> = spec
        .volumes
        .iter()
        .flatten()
        .map(|v| v.name.as_str())
        .collect();
    assert_eq!(
        volumes,
        ["kube-api-access-x7k2p", "meshcd-token", "meshcd-ca-bundle"]
    );
    let token = spec.volumes.as_ref().unwrap()[1]
        .projected
        .as_ref()
        .unwrap()
        .sources
        .as_ref()
        .unwrap()[0]
        .service_account_token
        .clone()
        .unwrap();
    assert_eq!(token.audience.as_deref(), Some("meshcd"));
    let annotations = pod.metadata.annotations.unwrap();
    assert_eq!(annotations["meshcd.dev/injected"], "true");
    assert_eq!(
        annotations["kubectl.kubernetes.io/restartedAt"],
        "2024-05-01T10:00:00Z"
    );
}

#[test]
fn a_pod_without_annotations_init_containers_or_volumes_gets_them_created() {
    let mut pod = api_pod();
    pod["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("annotations");
    pod["spec"]
        .as_object_mut()
        .unwrap()
        .remove("initContainers");
    pod["spec"].as_object_mut().unwrap().remove("volumes");
    let response = respond(&admission_review(pod.clone()), true);
    let pod: Pod = serde_json::from_value(patched(&pod, &response)).unwrap();
    let spec = pod.spec.unwrap();
    assert_eq!(spec.init_containers.unwrap().len(), 2);
    assert_eq!(spec.volumes.unwrap().len(), 2);
    assert_eq!(
        pod.metadata.annotations.unwrap()["meshcd.dev/injected"],
        "true"
    );
}

#[test]
fn a_pod_of_a_namespace_that_is_not_onboarded_is_allowed_unchanged() {
    let response = respond(&admission_review(api_pod()), false);
    assert_eq!(response["response"]["allowed"], true);
    assert!(response["response"].get("patch").is_none());
    assert_eq!(
        response["response"]["auditAnnotations"]["skipped"],
        "namespace is not onboarded"
    );
}

#[test]
fn an_opted_out_pod_is_allowed_unchanged() {
    let mut pod = api_pod();
    pod["metadata"]["annotations"]["meshcd.dev/inject"] = json!("disabled");
    let response = respond(&admission_review(pod), true);
    assert!(response["response"].get("patch").is_none());
    assert_eq!(
        response["response"]["auditAnnotations"]["skipped"],
        "pod opted out with meshcd.dev/inject: disabled"
    );
}

#[test]
fn an_injected_pod_is_never_injected_twice() {
    let first = respond(&admission_review(api_pod()), true);
    let injected = patched(&api_pod(), &first);
    let second = respond(&admission_review(injected.clone()), true);
    assert!(second["response"].get("patch").is_none());
    // Even without the annotation (removed by hand), the proxy container is seen.
    let mut stripped = injected;
    stripped["metadata"]["annotations"]
        .as_object_mut()
        .unwrap()
        .remove("meshcd.dev/injected");
    assert_eq!(
        patch(
            &serde_json::from_value(stripped).unwrap(),
            true,
            &settings()
        ),
        Err(Skip::AlreadyInjected)
    );
}

#[test]
fn a_review_of_something_else_than_a_pod_creation_is_allowed_unchanged() {
    let mut review = admission_review(api_pod());
    review["request"]["operation"] = json!("UPDATE");
    let response = respond(&review, true);
    assert_eq!(
        response["response"],
        json!({"uid": "705ab4f5-6393-11e8-b7cc-42010a800002", "allowed": true})
    );
    assert!(super::review(&json!({"kind": "AdmissionReview"}), |_| true, &settings()).is_err());
}

/// The injected pod passes Kubernetes' own Pod schema in strict mode (PyPI
/// `kubernetes-validate`, offline); reported as skipped where it is not installed.
#[test]
fn the_injected_pod_passes_the_kubernetes_pod_schema_in_strict_mode() {
    if !std::process::Command::new("kubernetes-validate")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success())
    {
        eprintln!(
            "SKIPPED: kubernetes-validate is not installed (pip install kubernetes-validate)"
        );
        return;
    }
    let response = respond(&admission_review(api_pod()), true);
    let mut pod = patched(&api_pod(), &response);
    pod["metadata"]["name"] = json!("api-6d4cf56db6-x7k2p");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pod.json");
    std::fs::write(&path, pod.to_string()).unwrap();
    let output = std::process::Command::new("kubernetes-validate")
        .args(["--strict", "--kubernetes-version", "1.33.0"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_pod_without_container_ports_gets_a_proxy_without_an_empty_port_list() {
    // A client: no declared port. `MESHCD_PROXY_PORTS=""` would be an invalid `--port`
    // and the proxy would never start (CrashLoopBackOff, seen on a real node).
    let mut pod = api_pod();
    pod["spec"]["containers"][0]
        .as_object_mut()
        .unwrap()
        .remove("ports");
    let response = respond(&admission_review(pod.clone()), true);
    let pod = patched(&pod, &response);
    let proxy = pod["spec"]["initContainers"]
        .as_array()
        .into_iter()
        .chain(pod["spec"]["containers"].as_array())
        .flatten()
        .find(|c| c["name"] == PROXY_CONTAINER)
        .expect("the proxy is injected")
        .clone();
    let env = proxy["env"].as_array().unwrap();
    assert!(
        !env.iter().any(|e| e["name"] == "MESHCD_PROXY_PORTS"),
        "{env:?}"
    );
    assert!(
        env.iter().all(|e| e.get("value") != Some(&json!(""))),
        "{env:?}"
    );
    assert!(env.iter().any(|e| e["name"] == "MESHCD_PROXY_SERVICES"));
}

fn env_value(container: &Value, name: &str) -> Option<String> {
    container["env"]
        .as_array()?
        .iter()
        .find(|e| e["name"] == name)
        .and_then(|e| e["value"].as_str().map(str::to_string))
}

#[test]
fn app_probes_are_rewritten_to_the_admin_port_and_handed_to_the_proxy() {
    // Inbound redirection sends the kubelet's plaintext probes of the app's port to the
    // mTLS listener; the proxy runs them instead, on loopback.
    let mut pod = api_pod();
    let api = &mut pod["spec"]["containers"][0];
    api["readinessProbe"] = json!({"httpGet": {"path": "healthz", "port": "http",
        "httpHeaders": [{"name": "X-Probe", "value": "1"}]}, "periodSeconds": 3});
    api["livenessProbe"] = json!({"tcpSocket": {"port": 8080}, "failureThreshold": 5});
    api["startupProbe"] = json!({"exec": {"command": ["/check"]}});
    let response = respond(&admission_review(pod.clone()), true);
    let pod = patched(&pod, &response);
    let api = &pod["spec"]["containers"][0];
    assert_eq!(
        api["readinessProbe"],
        json!({"httpGet": {"path": "/app-health/api/readiness", "port": 15000, "scheme": "HTTP"},
               "periodSeconds": 3})
    );
    assert_eq!(
        api["livenessProbe"],
        json!({"httpGet": {"path": "/app-health/api/liveness", "port": 15000, "scheme": "HTTP"},
               "failureThreshold": 5})
    );
    assert_eq!(
        api["startupProbe"],
        json!({"exec": {"command": ["/check"]}})
    );
    let proxy = &pod["spec"]["initContainers"][1];
    let probes: Value =
        serde_json::from_str(&env_value(proxy, "MESHCD_PROXY_APP_PROBES").unwrap()).unwrap();
    assert_eq!(
        probes,
        json!({
            "/app-health/api/readiness": {"port": 8080, "path": "/healthz",
                                          "headers": [{"name": "X-Probe", "value": "1"}]},
            "/app-health/api/liveness": {"port": 8080},
        })
    );
}

#[test]
fn without_native_sidecars_the_proxy_is_the_first_container_and_holds_the_app_back() {
    let mut pod = api_pod();
    pod["spec"]["containers"][0]["readinessProbe"] =
        json!({"httpGet": {"path": "/healthz", "port": 8080}});
    let settings = Settings {
        native_sidecars: false,
        ..settings()
    };
    let response = super::review(&admission_review(pod.clone()), |_| true, &settings).unwrap();
    let pod = patched(&pod, &response);
    let names = |field: &str| -> Vec<String> {
        pod["spec"][field]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_string())
            .collect()
    };
    // The pod's own init containers run before any proxy: they must not be redirected.
    assert_eq!(names("initContainers"), ["migrate", "meshcd-iptables"]);
    assert_eq!(names("containers"), ["meshcd-proxy", "api"]);
    let proxy = &pod["spec"]["containers"][0];
    assert_eq!(
        proxy.get("restartPolicy"),
        None,
        "1.28 rejects it without the gate"
    );
    assert_eq!(
        proxy["lifecycle"]["postStart"]["exec"]["command"],
        json!(["meshcd-proxy", "wait-ready"])
    );
    // The probe rewrite addressed the app container before the proxy moved it to 1.
    assert_eq!(
        pod["spec"]["containers"][1]["readinessProbe"]["httpGet"]["path"],
        "/app-health/api/readiness"
    );
    let pod: Pod = serde_json::from_value(pod).unwrap();
    assert!(pod.spec.is_some());
}

#[test]
fn the_sidecar_mode_follows_the_server_version_unless_chosen() {
    assert!(!sidecar_mode(NativeSidecars::Auto, Some((1, 28))).0);
    assert!(sidecar_mode(NativeSidecars::Auto, Some((1, 29))).0);
    assert!(sidecar_mode(NativeSidecars::Auto, Some((1, 33))).0);
    assert!(!sidecar_mode(NativeSidecars::Auto, None).0);
    assert!(sidecar_mode(NativeSidecars::Always, Some((1, 28))).0);
    assert!(!sidecar_mode(NativeSidecars::Never, Some((1, 33))).0);
    assert!(
        sidecar_mode(NativeSidecars::Auto, Some((1, 28)))
            .1
            .contains("Kubernetes 1.28 has no native sidecars")
    );
}
