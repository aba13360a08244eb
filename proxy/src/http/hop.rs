//! The protocol between two meshcd proxies: how a call crosses the mTLS hop.
//!
//! Every hop is one TLS 1.3 connection with client and server certificates from the
//! mesh CA. ALPN says what the connection carries:
//!
//! - `h2`: HTTP requests, multiplexed; one pooled connection per endpoint carries every
//!   request the calling proxy sends there.
//! - `http/1.1`: one HTTP/1.1 request that asks for an upgrade (WebSocket and friends);
//!   a dedicated connection, since an upgraded stream owns its connection.
//! - `meshcd-tcp/1`: one TCP stream. The client's first bytes are one preamble line,
//!   `<service>.<namespace>:<port>\n`, then the stream's bytes follow untouched.
//!
//! An HTTP request names the service port it is for in the `meshcd-destination` header:
//! `<service>.<namespace>:<port>`, with `;h2` appended for gRPC (an HTTP/2 request with
//! an `application/grpc` content type), so the destination speaks HTTP/2 to its app as
//! well; every other request reaches the app as HTTP/1.1, whatever the caller spoke. The
//! receiving proxy removes the header before the request reaches the app; the Host
//! header (or `:authority`) is the app's own and travels untouched.
//!
//! When the destination proxy cannot reach its app it answers 503 with
//! `meshcd-proxy-error: app-unavailable`, which tells the calling proxy that the request
//! never reached an application, so it may retry elsewhere and count the failure.

use http::{HeaderName, HeaderValue};

pub const ALPN_HTTP2: &[u8] = b"h2";
pub const ALPN_HTTP1: &[u8] = b"http/1.1";
pub const ALPN_TCP: &[u8] = b"meshcd-tcp/1";

pub static DESTINATION_HEADER: HeaderName = HeaderName::from_static("meshcd-destination");
pub static PROXY_ERROR_HEADER: HeaderName = HeaderName::from_static("meshcd-proxy-error");
pub const APP_UNAVAILABLE: &str = "app-unavailable";

/// Longest preamble line accepted; longer means a confused or hostile client.
pub const MAX_PREAMBLE: usize = 512;

const HTTP2_SUFFIX: &str = ";h2";

/// The service port a call is for, as carried across the hop.
#[derive(Debug, PartialEq, Eq)]
pub struct Destination<'a> {
    pub service: &'a str,
    pub port: u16,
    /// The destination app must get HTTP/2 (gRPC).
    pub http2: bool,
}

/// The destination header's value for a service port.
pub fn destination_value(service: &str, port: u16, http2: bool) -> HeaderValue {
    let suffix = if http2 { HTTP2_SUFFIX } else { "" };
    HeaderValue::try_from(format!("{service}:{port}{suffix}"))
        .unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}

pub fn parse_destination(value: &[u8]) -> Option<Destination<'_>> {
    let text = std::str::from_utf8(value).ok()?;
    let (text, http2) = match text.strip_suffix(HTTP2_SUFFIX) {
        Some(rest) => (rest, true),
        None => (text, false),
    };
    let (service, port) = text.rsplit_once(':')?;
    Some(Destination {
        service,
        port: port.parse().ok()?,
        http2,
    })
}

/// The first line a TCP stream carries across the hop.
pub fn tcp_preamble(service: &str, port: u16) -> Vec<u8> {
    format!("{service}:{port}\n").into_bytes()
}

/// Splits a buffer that holds a whole preamble line into the destination and the
/// stream bytes that followed it. `None` until a full line is there.
pub fn parse_tcp_preamble(buffer: &[u8]) -> Option<(Option<Destination<'_>>, &[u8])> {
    let end = buffer.iter().position(|&b| b == b'\n')?;
    let line = &buffer[..end];
    let destination = parse_destination(line).filter(|d| !d.http2);
    Some((destination, &buffer[end + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destination_header_round_trips_for_both_http_versions() {
        for http2 in [false, true] {
            let value = destination_value("api-v1.shop", 8080, http2);
            assert_eq!(
                parse_destination(value.as_bytes()),
                Some(Destination {
                    service: "api-v1.shop",
                    port: 8080,
                    http2
                })
            );
        }
    }

    #[test]
    fn preamble_separates_the_destination_from_the_stream_bytes() {
        let mut buffer = tcp_preamble("db.shop", 5432);
        buffer.extend_from_slice(b"hello");
        let (destination, rest) = parse_tcp_preamble(&buffer).unwrap();
        assert_eq!(destination.unwrap().port, 5432);
        assert_eq!(rest, b"hello");
        assert!(parse_tcp_preamble(b"db.shop:54").is_none());
        assert_eq!(parse_tcp_preamble(b"garbage\n").unwrap().0, None);
    }
}
