//! Reading OSM's IngressBackend: what is read, and each mistake reported at its file, line
//! and object.

use crate::load::load_files;
use crate::model::{IngressBackendPort, IngressProtocol, IngressSource};
use crate::test_support::config;
use crate::validate::validate;

/// A namespace and an IngressBackend `edge` whose spec is `spec` (indented YAML).
fn ingress(spec: &str) -> String {
    format!(
        "apiVersion: v1
kind: Namespace
metadata: {{name: shop}}
---
apiVersion: policy.openservicemesh.io/v1alpha1
kind: IngressBackend
metadata: {{name: edge, namespace: shop}}
spec:
{spec}"
    )
}

/// The errors as `file:line object: message`.
fn errors(yaml: &str) -> Vec<String> {
    let loaded = load_files(vec![("ingress.yaml".into(), yaml.to_string())]);
    let validated = validate(&loaded);
    assert!(
        validated.config.is_none(),
        "the invalid config was accepted"
    );
    validated
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| {
            let object = d
                .object
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default();
            format!("{}:{} {object}: {}", d.file.display(), d.line, d.message)
        })
        .collect()
}

fn assert_reported(found: &[String], expected: &str) {
    assert!(
        found.iter().any(|error| error.starts_with(expected)),
        "{expected:?} not in {found:#?}"
    );
}

#[test]
fn an_ingress_backend_is_read_with_its_backends_and_both_kinds_of_source() {
    let config = config(&ingress(
        "  backends:
  - {name: api, port: {number: 80, protocol: http}}
  sources:
  - {kind: IPRange, name: 10.0.0.0/8}
  - {kind: IPRange, name: 192.0.2.7}
  - {kind: Service, name: ingress-nginx, namespace: ingress}
  - {kind: Service, name: gateway}
",
    ));
    let ingress = &config.ingress_backends[0].value;
    assert_eq!(
        ingress.backends,
        [IngressBackendPort {
            service: "api".into(),
            port: 80,
            protocol: IngressProtocol::Http,
        }]
    );
    assert_eq!(
        ingress.sources,
        [
            IngressSource::IpRange("10.0.0.0/8".parse().unwrap()),
            IngressSource::IpRange("192.0.2.7/32".parse().unwrap()),
            IngressSource::Service {
                namespace: "ingress".into(),
                name: "ingress-nginx".into()
            },
            // Without a namespace: the IngressBackend's own.
            IngressSource::Service {
                namespace: "shop".into(),
                name: "gateway".into()
            },
        ]
    );
}

#[test]
fn a_bad_cidr_is_an_error_at_its_line_saying_what_is_wrong() {
    let found = errors(&ingress(
        "  backends:
  - {name: api, port: {number: 80, protocol: http}}
  sources:
  - {kind: IPRange, name: 10.0.0/8}
  - {kind: IPRange, name: 10.1.2.3/8}
  - {kind: IPRange, name: 10.0.0.0/40}
",
    ));
    assert_reported(
        &found,
        "ingress.yaml:12 IngressBackend shop/edge: IPRange \"10.0.0/8\": \"10.0.0\" is not an IPv4 or IPv6 address",
    );
    assert_reported(
        &found,
        "ingress.yaml:13 IngressBackend shop/edge: IPRange \"10.1.2.3/8\": \"10.1.2.3/8\" has bits set past its /8 prefix: the range is 10.0.0.0/8",
    );
    assert_reported(
        &found,
        "ingress.yaml:14 IngressBackend shop/edge: IPRange \"10.0.0.0/40\": prefix length \"40\" is not a number from 0 to 32",
    );
}

#[test]
fn a_bad_source_kind_and_a_bad_backend_are_errors_naming_the_field() {
    let found = errors(&ingress(
        "  backends:
  - {name: api.other, port: {number: 80, protocol: http}}
  - {name: web, port: {number: 80, protocol: grpc}}
  sources:
  - {kind: ServiceAccount, name: ingress}
  - {kind: AuthenticatedPrincipal, name: \"spiffe://cluster.local/ns/shop/sa/web\"}
",
    ));
    assert_reported(
        &found,
        "ingress.yaml:10 IngressBackend shop/edge: backend \"api.other\" is not the name of a Service",
    );
    assert_reported(
        &found,
        "ingress.yaml:11 IngressBackend shop/edge: protocol \"grpc\" is not one an IngressBackend serves",
    );
    assert_reported(
        &found,
        "ingress.yaml:13 IngressBackend shop/edge: \"ServiceAccount\" is not a kind of IngressBackend source",
    );
    assert_reported(
        &found,
        "ingress.yaml:14 IngressBackend shop/edge: AuthenticatedPrincipal \"spiffe://cluster.local/ns/shop/sa/web\" is not a name an ingress's certificate may carry",
    );
}

#[test]
fn what_meshcd_does_not_implement_is_refused_by_name() {
    let found = errors(&ingress(
        "  backends:
  - name: api
    port: {number: 443, protocol: https}
    tls: {skipClientCertValidation: true, sniHosts: [api.example.com]}
  sources:
  - {kind: AuthenticatedPrincipal, name: ingress.example.com}
  matches:
  - {apiGroup: policy.openservicemesh.io/v1alpha1, kind: UpstreamTrafficSetting, name: limits}
",
    ));
    assert_reported(
        &found,
        "ingress.yaml:12 IngressBackend shop/edge: skipClientCertValidation is not implemented in meshcd",
    );
    assert_reported(
        &found,
        "ingress.yaml:12 IngressBackend shop/edge: sniHosts is not implemented in meshcd",
    );
    assert_reported(
        &found,
        "ingress.yaml:15 IngressBackend shop/edge: an IngressBackend's `matches` is not implemented in meshcd",
    );
}

#[test]
fn an_https_backend_is_reached_by_a_principal_and_an_http_one_by_an_address() {
    let config = config(&ingress(
        "  backends:
  - name: api
    port: {number: 443, protocol: https}
    tls: {skipClientCertValidation: false}
  - {name: api, port: {number: 80, protocol: http}}
  sources:
  - {kind: AuthenticatedPrincipal, name: ingress.example.com}
  - {kind: IPRange, name: 10.0.0.0/8}
",
    ));
    let read = &config.ingress_backends[0].value;
    assert_eq!(read.backends[0].protocol, IngressProtocol::Https);
    assert_eq!(
        read.sources[0],
        IngressSource::AuthenticatedPrincipal("ingress.example.com".into())
    );
    let found = errors(&ingress(
        "  backends:
  - {name: api, port: {number: 443, protocol: https}}
  - {name: web, port: {number: 80, protocol: http}}
  sources:
  - {kind: IPRange, name: 10.0.0.0/8}
",
    ));
    assert_reported(
        &found,
        "ingress.yaml:10 IngressBackend shop/edge: protocol https needs an AuthenticatedPrincipal source",
    );
    let found = errors(&ingress(
        "  backends:
  - {name: web, port: {number: 80, protocol: http}}
  sources:
  - {kind: AuthenticatedPrincipal, name: ingress.example.com}
",
    ));
    assert_reported(
        &found,
        "ingress.yaml:10 IngressBackend shop/edge: protocol http needs an IPRange or Service source",
    );
}

#[test]
fn an_ingress_backend_needs_a_backend_and_a_source() {
    let found = errors(&ingress("  backends: []\n  sources: []\n"));
    assert_reported(
        &found,
        "ingress.yaml:9 IngressBackend shop/edge: an IngressBackend needs at least one backend",
    );
    assert_reported(
        &found,
        "ingress.yaml:10 IngressBackend shop/edge: an IngressBackend needs at least one source",
    );
}
