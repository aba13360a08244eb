//! The proxy's own responses (404, 403, 502, …): a status and a plain-text body that
//! says what happened, so the app's developer can tell a proxy error from an app error.

use std::fmt::Write as _;

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

static GRPC: HeaderValue = HeaderValue::from_static("application/grpc");

/// gRPC status codes the proxy answers with.
pub const GRPC_UNIMPLEMENTED: u8 = 12;
pub const GRPC_UNAVAILABLE: u8 = 14;

/// A gRPC call answered by the proxy: HTTP 200 and a "trailers-only" response whose
/// headers carry `grpc-status` and the percent-encoded `grpc-message`.
pub fn grpc<R>(code: u8, message: &str) -> Response<ResponseBody<R>> {
    let mut response = Response::new(Either::Right(Full::new(Bytes::new())));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, GRPC.clone());
    headers.insert("grpc-status", HeaderValue::from(u16::from(code)));
    if let Ok(message) = HeaderValue::from_str(&grpc_message(message)) {
        headers.insert("grpc-message", message);
    }
    response
}

/// The gRPC spec's percent-encoding of `grpc-message`: printable ASCII but `%` as is.
fn grpc_message(message: &str) -> String {
    let mut encoded = String::with_capacity(message.len());
    for byte in message.bytes() {
        if (0x20..=0x7e).contains(&byte) && byte != b'%' {
            encoded.push(char::from(byte));
        } else {
            let _ = write!(encoded, "%{byte:02X}");
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grpc_answer_is_trailers_only_with_an_encoded_message() {
        let response: Response<ResponseBody> =
            grpc(GRPC_UNIMPLEMENTED, "no rule for /a.B/C: 100% é");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["grpc-status"], "12");
        assert_eq!(
            response.headers()["grpc-message"],
            "no rule for /a.B/C: 100%25 %C3%A9"
        );
        assert_eq!(response.headers()[CONTENT_TYPE], "application/grpc");
    }
}
