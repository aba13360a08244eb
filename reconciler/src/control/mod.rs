//! The control plane: the live mesh state and the gRPC service proxies connect to.

pub mod mesh;
pub mod server;
pub mod traffic;
