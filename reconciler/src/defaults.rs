//! Every default address and path of the reconciler, in one place (design §9).

pub const STATE_DIR: &str = ".meshcd";
pub const CONTROL_PLANE_ADDR: &str = "127.0.0.1:15012";
pub const ADMIN_ADDR: &str = "127.0.0.1:15014";
pub const ADMIN_URL: &str = "http://127.0.0.1:15014";

/// The API group of meshcd's own kinds (Mesh, Canary) and of the admin API's RBAC
/// resources (`get status.meshcd.dev`).
pub const API_GROUP: &str = "meshcd.dev";
