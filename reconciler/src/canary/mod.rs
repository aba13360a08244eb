//! Progressive canary rollouts: weights shifted step by step, each step judged from the
//! proxies' client-side traffic reports, the outcome committed back to Git.

pub mod controller;
pub mod rollout;
pub mod writeback;
