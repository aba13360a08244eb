//! Kubernetes mode (design §7): the repository applied to a cluster, workloads discovered
//! from it, proxies injected into its pods, and the manifests that install meshcd there.
//!
//! Pure functions (conversion of the model into the objects a cluster serves, mapping of
//! Services, EndpointSlices and Pods into the inventory, the sidecar patch, the rendered
//! manifests) are separate from the code that talks to the API server, so they are tested
//! without one; the API-facing parts are tested against an in-memory API service.

pub mod admin_manifests;
pub mod apply;
pub mod ca_secret;
pub mod canary_status;
pub mod convert;
pub mod discovery;
pub mod gateway_crds;
pub mod inject;
pub mod leader;
pub mod manifests;
pub mod route_status;
pub mod served;
pub mod sync;
pub mod webhook;
pub mod workloads;

#[cfg(test)]
pub(crate) mod fake_api;
#[cfg(test)]
pub(crate) mod fixtures;

/// The field manager of every server-side apply meshcd makes.
pub const FIELD_MANAGER: &str = "meshcd";
/// On a namespace: the mesh that onboarded it (`<mesh name>` as value).
pub const MONITORED_BY_LABEL: &str = "meshcd.dev/monitored-by";
/// On every object meshcd applies, with value `meshcd`.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
pub const MANAGED_BY_VALUE: &str = "meshcd";
/// On every object meshcd applies: which mesh owns it, so that two meshes sharing a
/// cluster never prune each other's objects.
pub const MESH_LABEL: &str = "meshcd.dev/mesh";
/// On a pod: `disabled` opts it out of sidecar injection.
pub const INJECT_ANNOTATION: &str = "meshcd.dev/inject";
/// On a pod: set by the injector, so a pod is never injected twice.
pub const INJECTED_ANNOTATION: &str = "meshcd.dev/injected";

/// The label selector of the objects one mesh manages.
pub fn managed_selector(mesh: &str) -> String {
    format!("{MANAGED_BY_LABEL}={MANAGED_BY_VALUE},{MESH_LABEL}={mesh}")
}
