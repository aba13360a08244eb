//! The contract between meshcd's reconciler and its proxies.
//!
//! This crate owns the control-plane protobuf (`proto`), the JSON Schemas of every config
//! kind the reconciler accepts, and the CRDs Kubernetes needs. Everything under
//! `src/generated/`, `json/` and `crds/` is produced by
//! `cargo run -p meshcd-schemas --example regenerate`; a test fails when it is stale.

/// Control-plane messages and service (`meshcd.v1`), with protobuf JSON mapping.
#[allow(clippy::all, missing_docs)]
pub mod proto {
    include!("generated/meshcd.v1.rs");
    include!("generated/meshcd.v1.serde.rs");
}
