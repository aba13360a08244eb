//! The control plane: the live mesh state and the gRPC service proxies connect to.

pub mod admission;
pub mod mesh;
pub mod server;
pub mod traffic;

#[cfg(test)]
mod cluster_tests;
#[cfg(test)]
mod mesh_tests;
#[cfg(test)]
mod rotation_tests;
#[cfg(test)]
mod server_tests;
