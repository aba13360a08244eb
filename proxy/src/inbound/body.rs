//! What the inbound side answers with: the peer-facing response body is a relayed one
//! (an upgrade's, or the app's on a pooled or a direct HTTP/1.1 connection) or the
//! proxy's own.

use http::Response;
use http_body_util::Either;
use hyper::body::Incoming;

use super::app_direct::body::DirectBody;
use super::app_pool::AppBody;
use crate::http::respond::ResponseBody;

/// A body relayed from the app or an upgrade. The app's on a pooled HTTP/1.1 connection
/// goes back to the pool when the body ends.
pub type Relayed = Either<Incoming, Either<AppBody, DirectBody>>;

/// The inbound side's response body.
pub type InboundBody = ResponseBody<Relayed>;

/// A response received over a plain hyper connection (an upgrade, the app over HTTP/2).
pub fn from_hyper(response: Response<Incoming>) -> Response<InboundBody> {
    response.map(|body| Either::Left(Either::Left(body)))
}

/// A response from the app's connection pool.
pub fn from_app(response: Response<AppBody>) -> Response<InboundBody> {
    response.map(|body| Either::Left(Either::Right(Either::Left(body))))
}

/// A response read by `app_direct`.
pub fn from_app_direct(response: Response<DirectBody>) -> Response<InboundBody> {
    response.map(|body| Either::Left(Either::Right(Either::Right(body))))
}
