//! The proxy's own responses (404, 403, 502, …): a status and a plain-text body that
//! says what happened, so the app's developer can tell a proxy error from an app error.

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Response, StatusCode};
use http_body_util::{Either, Full};
use hyper::body::Incoming;

use crate::inbound::app_direct::body::DirectBody;
use crate::inbound::app_pool::AppBody;

/// A response body: the peer's or app's own, or one the proxy wrote.
pub type ResponseBody = Either<Relayed, Full<Bytes>>;

/// A body relayed from elsewhere: a peer's or an upgrade's, or the app's on a pooled
/// HTTP/1.1 connection (which goes back to the pool when the body ends).
pub type Relayed = Either<Incoming, Either<AppBody, DirectBody>>;

/// A response as received from a peer proxy or the app, ready to pass on.
pub fn relayed(response: Response<Incoming>) -> Response<ResponseBody> {
    response.map(|body| Either::Left(Either::Left(body)))
}

/// A response from the app's connection pool, ready to pass on.
pub fn from_app(response: Response<AppBody>) -> Response<ResponseBody> {
    response.map(|body| Either::Left(Either::Right(Either::Left(body))))
}

/// A response read by `app_direct`, ready to pass on.
pub fn from_app_direct(response: Response<DirectBody>) -> Response<ResponseBody> {
    response.map(|body| Either::Left(Either::Right(Either::Right(body))))
}

static TEXT: HeaderValue = HeaderValue::from_static("text/plain; charset=utf-8");

pub fn text(status: StatusCode, body: impl Into<String>) -> Response<ResponseBody> {
    let mut body = body.into();
    body.push('\n');
    let mut response = Response::new(Either::Right(Full::new(Bytes::from(body))));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, TEXT.clone());
    response
}
