//! Every config kind's JSON Schema compiles, accepts a minimal object and catches a typo.

mod support;

use std::collections::BTreeSet;

use support::{assert_invalid, assert_valid, object, validator};

/// design.md §2, "Accepted kinds".
const DESIGN_KINDS: &[(&str, &str)] = &[
    ("v1", "Namespace"),
    ("access.smi-spec.io/v1alpha1", "TrafficTarget"),
    ("access.smi-spec.io/v1alpha2", "TrafficTarget"),
    ("access.smi-spec.io/v1alpha3", "TrafficTarget"),
    ("specs.smi-spec.io/v1alpha1", "HTTPRouteGroup"),
    ("specs.smi-spec.io/v1alpha2", "HTTPRouteGroup"),
    ("specs.smi-spec.io/v1alpha3", "HTTPRouteGroup"),
    ("specs.smi-spec.io/v1alpha4", "HTTPRouteGroup"),
    ("specs.smi-spec.io/v1alpha1", "TCPRoute"),
    ("specs.smi-spec.io/v1alpha2", "TCPRoute"),
    ("specs.smi-spec.io/v1alpha3", "TCPRoute"),
    ("specs.smi-spec.io/v1alpha4", "TCPRoute"),
    ("specs.smi-spec.io/v1alpha4", "UDPRoute"),
    ("split.smi-spec.io/v1alpha1", "TrafficSplit"),
    ("split.smi-spec.io/v1alpha2", "TrafficSplit"),
    ("split.smi-spec.io/v1alpha3", "TrafficSplit"),
    ("split.smi-spec.io/v1alpha4", "TrafficSplit"),
    ("meshcd.dev/v1alpha1", "Mesh"),
    ("meshcd.dev/v1alpha1", "Canary"),
    // Issue 19: meshcd's Fault and OSM's policy kinds.
    ("meshcd.dev/v1alpha1", "Fault"),
    ("policy.openservicemesh.io/v1alpha1", "Retry"),
    (
        "policy.openservicemesh.io/v1alpha1",
        "UpstreamTrafficSetting",
    ),
    ("policy.openservicemesh.io/v1alpha1", "Egress"),
    // Issue 20: OSM's MeshRootCertificate.
    ("config.openservicemesh.io/v1alpha2", "MeshRootCertificate"),
    // Issue 20: OSM's IngressBackend.
    ("policy.openservicemesh.io/v1alpha1", "IngressBackend"),
    // Issue 18: the Gateway API kinds of a mesh (GAMMA).
    ("gateway.networking.k8s.io/v1", "HTTPRoute"),
    ("gateway.networking.k8s.io/v1beta1", "HTTPRoute"),
    ("gateway.networking.k8s.io/v1", "GRPCRoute"),
    ("gateway.networking.k8s.io/v1", "ReferenceGrant"),
    ("gateway.networking.k8s.io/v1beta1", "ReferenceGrant"),
];

/// Per kind: a minimal valid object, and the same object with one misspelt field.
const EXAMPLES: &[(&str, &str)] = &[
    (
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, lables: {a: b}}\n",
    ),
    (
        "apiVersion: access.smi-spec.io/v1alpha1\nkind: TrafficTarget\nmetadata: {name: t, namespace: shop}\n\
         destination: {kind: ServiceAccount, name: api}\n\
         specs: [{kind: HTTPRouteGroup, name: routes}]\nsources: [{kind: ServiceAccount, name: web}]\n",
        "apiVersion: access.smi-spec.io/v1alpha1\nkind: TrafficTarget\nmetadata: {name: t, namespace: shop}\n\
         destination: {kind: ServiceAccount, name: api}\n\
         spec: [{kind: HTTPRouteGroup, name: routes}]\nsources: [{kind: ServiceAccount, name: web}]\n",
    ),
    (
        "apiVersion: access.smi-spec.io/v1alpha2\nkind: TrafficTarget\nmetadata: {name: t, namespace: shop}\n\
         spec:\n  destination: {kind: ServiceAccount, name: api, port: 8080}\n",
        "apiVersion: access.smi-spec.io/v1alpha2\nkind: TrafficTarget\nmetadata: {name: t, namespace: shop}\n\
         spec:\n  destinaton: {kind: ServiceAccount, name: api}\n",
    ),
    (
        "apiVersion: access.smi-spec.io/v1alpha3\nkind: TrafficTarget\nmetadata: {name: t, namespace: shop}\n\
         spec:\n  destination: {kind: ServiceAccount, name: api}\n\
         \x20 rules: [{kind: HTTPRouteGroup, name: routes, matches: [api]}]\n\
         \x20 sources: [{kind: ServiceAccount, name: web, namespace: shop}]\n",
        "apiVersion: access.smi-spec.io/v1alpha3\nkind: TrafficTarget\nmetadata: {name: t, namespace: shop}\n\
         spec:\n  destination: {kind: ServiceAccount, name: api}\n\
         \x20 rules: [{kind: HTTPRouteGroup, name: routes, match: [api]}]\n\
         \x20 sources: [{kind: ServiceAccount, name: web}]\n",
    ),
    (
        "apiVersion: specs.smi-spec.io/v1alpha1\nkind: HTTPRouteGroup\nmetadata: {name: r, namespace: shop}\n\
         matches: [{name: api, pathRegex: /api, methods: [GET]}]\n",
        "apiVersion: specs.smi-spec.io/v1alpha1\nkind: HTTPRouteGroup\nmetadata: {name: r, namespace: shop}\n\
         matches: [{name: api, pathregex: /api}]\n",
    ),
    (
        "apiVersion: specs.smi-spec.io/v1alpha2\nkind: HTTPRouteGroup\nmetadata: {name: r, namespace: shop}\n\
         matches: [{name: api, headers: [{user-agent: .*Firefox.*}]}]\n",
        "apiVersion: specs.smi-spec.io/v1alpha2\nkind: HTTPRouteGroup\nmetadata: {name: r, namespace: shop}\n\
         matches: [{name: api, header: [{user-agent: .*Firefox.*}]}]\n",
    ),
    (
        "apiVersion: specs.smi-spec.io/v1alpha3\nkind: HTTPRouteGroup\nmetadata: {name: r, namespace: shop}\n\
         spec: {matches: [{name: api, pathRegex: /api, methods: ['*']}]}\n",
        "apiVersion: specs.smi-spec.io/v1alpha3\nkind: HTTPRouteGroup\nmetadata: {name: r, namespace: shop}\n\
         spec: {matches: [{name: api, method: ['*']}]}\n",
    ),
    (
        "apiVersion: specs.smi-spec.io/v1alpha4\nkind: HTTPRouteGroup\nmetadata: {name: r, namespace: shop}\n\
         spec: {matches: [{name: api, pathRegex: /api/values, methods: [GET]}]}\n",
        "apiVersion: specs.smi-spec.io/v1alpha4\nkind: HTTPRouteGroup\nmetadata: {name: r, namespace: shop}\n\
         spec: {matchs: [{name: api}]}\n",
    ),
    (
        "apiVersion: specs.smi-spec.io/v1alpha1\nkind: TCPRoute\nmetadata: {name: r, namespace: shop}\n",
        "apiVersion: specs.smi-spec.io/v1alpha1\nkind: TCPRoute\nmetadata: {name: r, namespace: shop}\nspce: {}\n",
    ),
    (
        "apiVersion: specs.smi-spec.io/v1alpha2\nkind: TCPRoute\nmetadata: {name: r, namespace: shop}\n",
        "apiVersion: specs.smi-spec.io/v1alpha2\nkind: TCPRoute\nmetadata: {name: r, namespace: shop}\nmatches: {}\n",
    ),
    (
        "apiVersion: specs.smi-spec.io/v1alpha3\nkind: TCPRoute\nmetadata: {name: r, namespace: shop}\nspec: {}\n",
        "apiVersion: specs.smi-spec.io/v1alpha3\nkind: TCPRoute\nmetadata: {name: r, namespace: shop}\nspec: {port: 80}\n",
    ),
    (
        "apiVersion: specs.smi-spec.io/v1alpha4\nkind: TCPRoute\nmetadata: {name: r, namespace: shop}\n\
         spec: {matches: {ports: [3306]}}\n",
        "apiVersion: specs.smi-spec.io/v1alpha4\nkind: TCPRoute\nmetadata: {name: r, namespace: shop}\n\
         spec: {matches: {port: [3306]}}\n",
    ),
    (
        "apiVersion: specs.smi-spec.io/v1alpha4\nkind: UDPRoute\nmetadata: {name: r, namespace: shop}\n\
         spec: {matches: {ports: [53]}}\n",
        "apiVersion: specs.smi-spec.io/v1alpha4\nkind: UDPRoute\nmetadata: {name: r, namespace: shop}\n\
         spec: {match: {ports: [53]}}\n",
    ),
    (
        "apiVersion: split.smi-spec.io/v1alpha1\nkind: TrafficSplit\nmetadata: {name: s, namespace: shop}\n\
         spec: {service: api, backends: [{service: api-v1, weight: 1}, {service: api-v2, weight: 500m}]}\n",
        "apiVersion: split.smi-spec.io/v1alpha1\nkind: TrafficSplit\nmetadata: {name: s, namespace: shop}\n\
         spec: {service: api, backends: [{service: api-v1, wieght: 1}]}\n",
    ),
    (
        "apiVersion: split.smi-spec.io/v1alpha2\nkind: TrafficSplit\nmetadata: {name: s, namespace: shop}\n\
         spec: {service: api, backends: [{service: api-v1, weight: 90}, {service: api-v2, weight: 10}]}\n",
        "apiVersion: split.smi-spec.io/v1alpha2\nkind: TrafficSplit\nmetadata: {name: s, namespace: shop}\n\
         spec: {service: api, backend: [{service: api-v1, weight: 90}]}\n",
    ),
    (
        "apiVersion: split.smi-spec.io/v1alpha3\nkind: TrafficSplit\nmetadata: {name: s, namespace: shop}\n\
         spec: {service: api, matches: [{kind: HTTPRouteGroup, name: ab}], backends: [{service: api-v2, weight: 100}]}\n",
        "apiVersion: split.smi-spec.io/v1alpha3\nkind: TrafficSplit\nmetadata: {name: s, namespace: shop}\n\
         spec: {service: api, matches: [{kind: HTTPRouteGroup, nmae: ab}], backends: [{service: api-v2, weight: 100}]}\n",
    ),
    (
        "apiVersion: split.smi-spec.io/v1alpha4\nkind: TrafficSplit\nmetadata: {name: s, namespace: shop}\n\
         spec: {service: api.shop.svc.cluster.local, backends: [{service: api-v1, weight: 0}]}\n",
        "apiVersion: split.smi-spec.io/v1alpha4\nkind: TrafficSplit\nmetadata: {name: s, namespace: shop}\n\
         spec: {servce: api, backends: [{service: api-v1, weight: 0}]}\n",
    ),
    (
        "apiVersion: meshcd.dev/v1alpha1\nkind: Mesh\nmetadata: {name: meshcd}\n",
        "apiVersion: meshcd.dev/v1alpha1\nkind: Mesh\nmetadata: {name: meshcd}\nspec: {trafficPolicies: deny}\n",
    ),
    (
        "apiVersion: meshcd.dev/v1alpha1\nkind: Canary\nmetadata: {name: api, namespace: shop}\n\
         spec: {trafficSplit: api, stable: api-v1, canary: api-v2}\n",
        "apiVersion: meshcd.dev/v1alpha1\nkind: Canary\nmetadata: {name: api, namespace: shop}\n\
         spec: {trafficSplit: api, stable: api-v1, canary: api-v2, intervall: 30s}\n",
    ),
    (
        "apiVersion: meshcd.dev/v1alpha1\nkind: Fault\nmetadata: {name: chaos, namespace: shop}\n\
         spec: {destination: {kind: Service, name: api}, abort: {percent: 10, httpStatus: 503}}\n",
        "apiVersion: meshcd.dev/v1alpha1\nkind: Fault\nmetadata: {name: chaos, namespace: shop}\n\
         spec: {destination: {kind: Service, name: api}, abort: {percent: 10, status: 503}}\n",
    ),
    (
        "apiVersion: policy.openservicemesh.io/v1alpha1\nkind: Retry\nmetadata: {name: retry, namespace: shop}\n\
         spec: {source: {kind: ServiceAccount, name: web, namespace: shop}, \
         destinations: [{kind: Service, name: api, namespace: shop}], \
         retryPolicy: {retryOn: 5xx, perTryTimeout: 1s, numRetries: 3, retryBackoffBaseInterval: 10ms}}\n",
        "apiVersion: policy.openservicemesh.io/v1alpha1\nkind: Retry\nmetadata: {name: retry, namespace: shop}\n\
         spec: {source: {kind: ServiceAccount, name: web, namespace: shop}, \
         destinations: [{kind: Service, name: api, namespace: shop}], \
         retryPolicy: {retryOn: 5xx, perTryTimeout: 1s, retries: 3, retryBackoffBaseInterval: 10ms}}\n",
    ),
    (
        "apiVersion: policy.openservicemesh.io/v1alpha1\nkind: UpstreamTrafficSetting\n\
         metadata: {name: limits, namespace: shop}\nspec: {host: api.shop.svc.cluster.local}\n",
        "apiVersion: policy.openservicemesh.io/v1alpha1\nkind: UpstreamTrafficSetting\n\
         metadata: {name: limits, namespace: shop}\nspec: {hostname: api.shop.svc.cluster.local}\n",
    ),
    (
        "apiVersion: policy.openservicemesh.io/v1alpha1\nkind: Egress\nmetadata: {name: out, namespace: shop}\n\
         spec: {sources: [{kind: ServiceAccount, name: web, namespace: shop}], hosts: [api.example], \
         ports: [{number: 443, protocol: https}]}\n",
        "apiVersion: policy.openservicemesh.io/v1alpha1\nkind: Egress\nmetadata: {name: out, namespace: shop}\n\
         spec: {sources: [{kind: ServiceAccount, name: web, namespace: shop}], hostz: [api.example], \
         ports: [{number: 443, protocol: https}]}\n",
    ),
    (
        "apiVersion: config.openservicemesh.io/v1alpha2\nkind: MeshRootCertificate\nmetadata: {name: r, namespace: shop}\n\
         spec: {role: passive, provider: {tresor: {ca: {secretRef: {name: r, namespace: shop}}}}}\n",
        "apiVersion: config.openservicemesh.io/v1alpha2\nkind: MeshRootCertificate\nmetadata: {name: r, namespace: shop}\n\
         spec: {rol: passive, provider: {tresor: {ca: {secretRef: {name: r, namespace: shop}}}}}\n",
    ),
    (
        "apiVersion: policy.openservicemesh.io/v1alpha1\nkind: IngressBackend\n\
         metadata: {name: edge, namespace: shop}\nspec: {backends: [{name: api, port: {number: 80, protocol: http}}], \
         sources: [{kind: IPRange, name: 10.0.0.0/8}]}\n",
        "apiVersion: policy.openservicemesh.io/v1alpha1\nkind: IngressBackend\n\
         metadata: {name: edge, namespace: shop}\nspec: {backends: [{name: api, port: {number: 80, protocol: http}}], \
         source: [{kind: IPRange, name: 10.0.0.0/8}]}\n",
    ),
    (
        "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: api, namespace: shop}\n\
         spec: {parentRefs: [{kind: Service, name: api}], rules: [{backendRefs: [{name: api-v1, port: 80}]}]}\n",
        "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: api, namespace: shop}\n\
         spec: {parentRefs: [{kind: Service, name: api}], rules: [{backendRef: [{name: api-v1, port: 80}]}]}\n",
    ),
    (
        "apiVersion: gateway.networking.k8s.io/v1beta1\nkind: HTTPRoute\nmetadata: {name: api, namespace: shop}\n\
         spec: {parentRefs: [{kind: Service, name: api}]}\n",
        "apiVersion: gateway.networking.k8s.io/v1beta1\nkind: HTTPRoute\nmetadata: {name: api, namespace: shop}\n\
         spec: {parentRef: [{kind: Service, name: api}]}\n",
    ),
    (
        "apiVersion: gateway.networking.k8s.io/v1\nkind: GRPCRoute\nmetadata: {name: api, namespace: shop}\n\
         spec: {parentRefs: [{kind: Service, name: api}], rules: [{matches: [{method: {service: shop.Api}}]}]}\n",
        "apiVersion: gateway.networking.k8s.io/v1\nkind: GRPCRoute\nmetadata: {name: api, namespace: shop}\n\
         spec: {parentRefs: [{kind: Service, name: api}], rules: [{matches: [{methd: {service: shop.Api}}]}]}\n",
    ),
    (
        "apiVersion: gateway.networking.k8s.io/v1\nkind: ReferenceGrant\nmetadata: {name: g, namespace: shop}\n\
         spec: {from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: web}], to: [{group: '', kind: Service}]}\n",
        "apiVersion: gateway.networking.k8s.io/v1\nkind: ReferenceGrant\nmetadata: {name: g, namespace: shop}\n\
         spec: {from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: web}], too: [{group: '', kind: Service}]}\n",
    ),
    (
        "apiVersion: gateway.networking.k8s.io/v1beta1\nkind: ReferenceGrant\nmetadata: {name: g, namespace: shop}\n\
         spec: {from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: web}], to: [{group: '', kind: Service}]}\n",
        "apiVersion: gateway.networking.k8s.io/v1beta1\nkind: ReferenceGrant\nmetadata: {name: g, namespace: shop}\n\
         spec: {from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: web}], to: [{group: '', kind: Service, nam: a}]}\n",
    ),
];

#[test]
fn every_kind_of_the_design_has_a_schema_and_no_other_does() {
    let design: BTreeSet<_> = DESIGN_KINDS.iter().collect();
    let listed: BTreeSet<_> = meshcd_schemas::CONFIG_KINDS.iter().collect();
    assert_eq!(listed, design);
    for (api_version, kind) in meshcd_schemas::CONFIG_KINDS {
        assert!(
            meshcd_schemas::json_schema(api_version, kind).is_some(),
            "{api_version} {kind}"
        );
    }
}

#[test]
fn every_schema_is_valid_draft_2020_12_and_compiles() {
    for (api_version, kind) in meshcd_schemas::CONFIG_KINDS {
        let text =
            meshcd_schemas::json_schema(api_version, kind).expect("listed kinds have schemas");
        let schema: serde_json::Value = serde_json::from_str(text).expect("the schema is JSON");
        assert!(
            jsonschema::draft202012::meta::is_valid(&schema),
            "{api_version} {kind} is not a valid 2020-12 schema"
        );
        validator(api_version, kind);
    }
}

#[test]
fn every_kind_accepts_a_minimal_object_and_rejects_a_misspelt_field() {
    let mut covered = BTreeSet::new();
    for (valid, typo) in EXAMPLES {
        let value = object(valid);
        covered.insert((value["apiVersion"].to_string(), value["kind"].to_string()));
        assert_valid(valid);
        assert_invalid(typo, "Additional properties are not allowed");
    }
    assert_eq!(covered.len(), DESIGN_KINDS.len(), "one example per kind");
}

#[test]
fn unknown_kinds_and_versions_have_no_schema() {
    assert!(meshcd_schemas::json_schema("access.smi-spec.io/v1alpha4", "TrafficTarget").is_none());
    assert!(meshcd_schemas::json_schema("specs.smi-spec.io/v1alpha3", "UDPRoute").is_none());
    assert!(meshcd_schemas::json_schema("split.smi-spec.io/v1alpha4", "Trafficsplit").is_none());
    assert!(meshcd_schemas::json_schema("apps/v1", "Deployment").is_none());
}

#[test]
fn the_object_must_name_its_own_api_version_and_kind() {
    let text = meshcd_schemas::json_schema("specs.smi-spec.io/v1alpha4", "TCPRoute").unwrap();
    let schema: serde_json::Value = serde_json::from_str(text).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let udp = object(
        "apiVersion: specs.smi-spec.io/v1alpha4\nkind: UDPRoute\nmetadata: {name: r, namespace: shop}\n\
         spec: {matches: {ports: [53]}}\n",
    );
    assert!(!validator.is_valid(&udp));
}
