//! What the reconciler and the proxy share that is not the contract (`meshcd-schemas`):
//! how long to wait before trying again, how an error is printed with its causes, and how
//! an address range is read and matched.
//! Plain functions over `std`; nothing here does I/O.

pub mod backoff;
pub mod cidr;
pub mod error_chain;

pub use backoff::Backoff;
pub use cidr::Cidr;
pub use error_chain::error_chain;
