//! meshcd's reconciler: GitOps for a service mesh.
//!
//! This crate owns the pipeline from a config tree to a validated model —
//! `load` (files → positioned YAML documents) → `validate` (schema, conversion of every
//! SMI version into one `model`, checks across documents) — and the command line that
//! drives it. Diagnostics are data (`diagnostics`), rendered at the edge. The reconcile
//! loop, control plane and Kubernetes applier build on the same pipeline.

pub mod accept;
pub mod admin;
pub mod canary;
pub mod cli;
pub mod compile;
pub mod control;
pub mod defaults;
pub mod diagnostics;
pub mod diff;
pub mod http_client;
pub mod identity;
pub mod inventory;
pub mod kubernetes;
pub mod load;
pub mod metrics;
pub mod model;
pub mod reconcile;
pub mod source;
#[cfg(test)]
mod test_support;
pub mod validate;

/// The version and the Git commit this binary was built from.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub const GIT_COMMIT: &str = env!("MESHCD_GIT_COMMIT");
