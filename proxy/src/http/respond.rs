//! The proxy's own responses (404, 403, 502, …): a status and a plain-text body that
//! says what happened, so the app's developer can tell a proxy error from an app error.

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Response, StatusCode};
use http_body_util::{Either, Full};
use hyper::body::Incoming;

/// A response body: one relayed from elsewhere (`R`: a peer's by default; the inbound side
/// adds the app's own bodies), or one the proxy wrote.
pub type ResponseBody<R = Incoming> = Either<R, Full<Bytes>>;

/// A response as received, ready to pass on.
pub fn relayed<R>(response: Response<R>) -> Response<ResponseBody<R>> {
    response.map(Either::Left)
}

static TEXT: HeaderValue = HeaderValue::from_static("text/plain; charset=utf-8");

pub fn text<R>(status: StatusCode, body: impl Into<String>) -> Response<ResponseBody<R>> {
    let mut body = body.into();
    body.push('\n');
    let mut response = Response::new(Either::Right(Full::new(Bytes::from(body))));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, TEXT.clone());
    response
}
