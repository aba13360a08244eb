//! Workload identity: the mesh CA and the bootstrap tokens proxies prove themselves with.

pub mod ca;
pub mod tokens;
