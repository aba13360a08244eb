//! What the snapshot builds and the outbound side sends through: the registry of peer
//! endpoints (with their shared connections and health) and the weighted choice of a
//! split's backend. Below both, so that neither climbs to the other.

use bytes::Bytes;
use http_body_util::{Either, Full};
use hyper::body::Incoming;

pub mod endpoint;
pub mod outlier;
pub mod split;

/// The body of a request sent to a peer: the app's own as it streams, or a copy kept to
/// send again (empty, or read in full for a route's retries).
pub type UpstreamBody = Either<Incoming, Full<Bytes>>;
