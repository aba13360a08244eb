//! What the reconciler and the proxy share that is not the contract (`meshcd-schemas`):
//! how long to wait before trying again, and how an error is printed with its causes.
//! Plain functions over `std`; nothing here does I/O.

pub mod backoff;
pub mod error_chain;

pub use backoff::Backoff;
pub use error_chain::error_chain;
