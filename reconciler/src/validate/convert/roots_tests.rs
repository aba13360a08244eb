//! Reading MeshRootCertificates, alone and together.

use crate::model::{RootRole, RootSource};
use crate::test_support::{config, diagnostics};

const NAMESPACE: &str = "apiVersion: v1\nkind: Namespace\nmetadata: {name: mesh}\n";

fn root(name: &str, role: &str, provider: &str) -> String {
    format!(
        "---
apiVersion: config.openservicemesh.io/v1alpha2
kind: MeshRootCertificate
metadata: {{name: {name}, namespace: mesh}}
spec:
  role: {role}
  provider:
    {provider}
"
    )
}

fn tresor(secret: &str) -> String {
    format!("tresor: {{ca: {{secretRef: {{name: {secret}, namespace: mesh}}}}}}")
}

#[test]
fn roots_are_read_with_their_role_and_where_their_key_comes_from() {
    let intermediate = "intermediate: {certificateFile: /etc/pki/mesh.crt, keyFile: /etc/pki/mesh.key, chainFile: /etc/pki/root.pem}";
    let config = config(
        &[
            NAMESPACE.to_string(),
            root("old", "passive", &tresor("meshcd-ca")),
            root("corp", "active", intermediate),
        ]
        .concat(),
    );
    let roots: Vec<_> = config.roots.iter().map(|root| &root.value).collect();
    assert_eq!(roots[0].role, RootRole::Passive);
    assert_eq!(
        roots[0].source,
        RootSource::Generated {
            secret: "meshcd-ca".into(),
            namespace: "mesh".into()
        }
    );
    assert_eq!(roots[1].role, RootRole::Active);
    assert!(matches!(
        &roots[1].source,
        RootSource::IntermediateFiles { chain, .. } if chain.as_os_str() == "/etc/pki/root.pem"
    ));
    assert_eq!(config.roots[1].origin.line, 13);
}

#[test]
fn two_active_roots_are_refused_at_the_second_naming_the_first() {
    let found = diagnostics(
        &[
            NAMESPACE.to_string(),
            root("old", "active", &tresor("meshcd-ca")),
            root("new", "active", &tresor("root-2")),
        ]
        .concat(),
    );
    assert_eq!(found, ["17: MeshRootCertificate old is already active"]);
}

#[test]
fn roots_none_of_which_is_active_are_refused() {
    let found = diagnostics(
        &[
            NAMESPACE.to_string(),
            root("old", "inactive", &tresor("meshcd-ca")),
            root("new", "passive", &tresor("root-2")),
        ]
        .concat(),
    );
    assert_eq!(found, ["9: no MeshRootCertificate is active"]);
}

#[test]
fn two_roots_in_use_naming_one_ca_are_refused() {
    let found = diagnostics(
        &[
            NAMESPACE.to_string(),
            root("old", "active", &tresor("meshcd-ca")),
            root("again", "passive", &tresor("meshcd-ca")),
        ]
        .concat(),
    );
    assert_eq!(
        found,
        ["18: meshcd's own CA (Secret mesh/meshcd-ca) is already MeshRootCertificate old"]
    );
}

#[test]
fn a_provider_meshcd_has_not_and_a_relative_path_are_refused_at_the_field() {
    let vault = "vault: {host: vault.example, port: 8200, role: mesh, protocol: https, token: {secretKeyRef: {name: t, key: token, namespace: mesh}}}";
    let relative = "intermediate: {certificateFile: mesh.crt, keyFile: /etc/pki/mesh.key, chainFile: /etc/pki/root.pem}";
    let found = diagnostics(
        &[
            NAMESPACE.to_string(),
            root("vault", "active", vault),
            root("relative", "passive", relative),
        ]
        .concat(),
    );
    assert_eq!(
        found,
        [
            "11: meshcd has no vault provider",
            "19: certificateFile \"mesh.crt\" is not an absolute path"
        ]
    );
}

#[test]
fn a_role_outside_the_schema_is_refused() {
    let found = diagnostics(
        &[
            NAMESPACE.to_string(),
            root("old", "issuing", &tresor("meshcd-ca")),
        ]
        .concat(),
    );
    assert_eq!(
        found,
        ["9: value is not one of \"active\", \"passive\" or \"inactive\" at `spec.role`"]
    );
}
