//! Workload identity: the mesh CA, and the proofs proxies give of who they are (bootstrap
//! tokens in local mode, service-account tokens checked with TokenReview in a cluster).

pub mod ca;
pub mod private_file;
pub mod roots;
pub mod token_review;
pub mod tokens;
pub mod verifier;
