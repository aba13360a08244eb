//! The end-to-end harness: real meshcd processes, real sockets, real TLS.
//!
//! A scenario reads like prose: make a [`TestMesh`] (a temp dir and a test PKI), start
//! test apps and proxies in it, hand the proxies snapshots, and assert on what a client
//! sees. Every wait has a deadline ([`eventually`]); nothing sleeps for a fixed time.
//! Scenarios of the whole control loop make a [`LocalMesh`] instead: a Git config
//! repository, the reconciler watching it, and proxies that joined with bootstrap tokens;
//! they change the mesh by committing. Binaries are the workspace's own (`meshcd`,
//! `meshcd-proxy`, `meshcd-testapp`), built once per test process by [`binaries`].
//!
//! Running: `cargo test -p meshcd-e2e` is enough (the harness builds the reconciler and
//! the proxy); the control-loop scenarios also need `git`. CI builds
//! first and tells the harness so: `cargo build --workspace --bins &&
//! MESHCD_E2E_SKIP_BUILD=1 cargo test --workspace`, after `scripts/install-test-deps.sh`
//! (iptables and iproute2 for the transparent-mode scenario, which fails in CI (`CI=true`)
//! rather than skip when they or root are missing).

pub mod binaries;
pub mod config_repo;
pub mod control_plane;
pub mod environment;
pub mod eventually;
pub mod gamma;
pub mod grpc_echo;
pub mod http;
pub mod kube;
pub mod load;
pub mod local_mesh;
pub mod mesh;
pub mod netns;
pub mod pki;
pub mod process;
pub mod prometheus;
pub mod proxy;
pub mod snapshot;
pub mod sockets;
pub mod testapp;
pub mod tls;

pub use eventually::eventually;
pub use local_mesh::LocalMesh;
pub use mesh::TestMesh;
