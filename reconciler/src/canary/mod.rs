//! Progressive canary rollouts: weights shifted step by step, each step judged from the
//! proxies' client-side traffic reports, the outcome committed back to Git.

pub mod controller;
pub mod metrics;
pub mod metrics_source;
pub mod notify;
pub mod progress;
pub mod prometheus;
pub mod push;
pub mod rollout;
pub mod signing;
pub mod writeback;
mod yaml_edit;
