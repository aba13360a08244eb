//! HTTP plumbing both directions share: the hop between proxies, header and path rules,
//! timeouts, lingering close, upgrades, the proxy's own responses and the access log.

pub mod access_log;
pub(crate) mod header_timeout;
pub(crate) mod headers;
pub mod hop;
pub(crate) mod linger;
pub mod path;
pub(crate) mod quickack;
pub(crate) mod respond;
pub(crate) mod upgrade;
