//! The heads of an exchange with the app: the request head as bytes, and the response
//! head parsed (by httparse) into an `http::Response` plus how its body is framed
//! (RFC 9112 §6.3) and whether the connection stays open after it.

use std::mem::MaybeUninit;
use std::ops::Range;

use bytes::{Bytes, BytesMut};
use http::header::{
    CONNECTION, CONTENT_LENGTH, HeaderMap, HeaderName, HeaderValue, TRANSFER_ENCODING,
};
use http::{Method, Request, Response, StatusCode, Version};

/// Headers a response head may carry; more is an error (hyper's client default too).
const MAX_HEADERS: usize = 100;

/// How the response body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body: HEAD, 204, 304, or `Content-Length: 0`.
    Empty,
    Length(u64),
    Chunked,
    /// Everything until the app closes the connection.
    UntilClose,
}

#[derive(Debug, thiserror::Error)]
pub enum HeadError {
    #[error("malformed response head: {0}")]
    Malformed(String),
    #[error("the response head has more than {MAX_HEADERS} headers")]
    TooManyHeaders,
    #[error("the response has conflicting or invalid Content-Length values")]
    BadLength,
    #[error("the app switched protocols (101) on a request that asked for no upgrade")]
    UnexpectedSwitch,
    #[error("the response uses a transfer coding other than a final chunked")]
    UnsupportedCoding,
}

/// Writes the request head (origin-form target, HTTP/1.1) into `out`. The caller has
/// already removed hop-by-hop headers and set `Host`.
pub fn encode_request<B>(request: &Request<B>, out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(request.method().as_str().as_bytes());
    out.push(b' ');
    let target = request
        .uri()
        .path_and_query()
        .map_or("/", |path| path.as_str());
    out.extend_from_slice(target.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    for (name, value) in request.headers() {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// A complete final response head taken off the front of the read buffer.
pub struct ResponseHead {
    pub response: Response<()>,
    pub framing: Framing,
    /// The connection may carry another exchange once this body has been read.
    pub keep_alive: bool,
}

/// Parses a response head at the front of `buf`. `Ok(None)`: more bytes are needed.
/// Interim (1xx) responses are consumed and skipped.
pub fn parse_response(
    buf: &mut BytesMut,
    method: &Method,
) -> Result<Option<ResponseHead>, HeadError> {
    loop {
        let Some(parsed) = parse_one(buf)? else {
            return Ok(None);
        };
        let status = parsed.status;
        if status.is_informational() {
            if status == StatusCode::SWITCHING_PROTOCOLS {
                return Err(HeadError::UnexpectedSwitch);
            }
            drop(buf.split_to(parsed.len));
            continue;
        }
        let head = buf.split_to(parsed.len).freeze();
        return Ok(Some(build(parsed, &head, method)?));
    }
}

/// What one parse found, as offsets into the buffer (the buffer is split after).
struct Parsed {
    len: usize,
    status: StatusCode,
    http10: bool,
    headers: Vec<(HeaderName, Range<usize>)>,
    content_length: Option<u64>,
    length_conflict: bool,
    chunked: bool,
    transfer_encoded: bool,
    close: bool,
    keep_alive_token: bool,
    /// Headers `Connection` names as hop-by-hop (besides close/keep-alive).
    connection_named: Vec<HeaderName>,
}

fn parse_one(buf: &BytesMut) -> Result<Option<Parsed>, HeadError> {
    let mut slots = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut []);
    let len = match httparse::ParserConfig::default().parse_response_with_uninit_headers(
        &mut response,
        buf,
        &mut slots,
    ) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(HeadError::TooManyHeaders),
        Err(error) => return Err(HeadError::Malformed(meshcd_support::error_chain(&error))),
    };
    let code = response.code.unwrap_or_default();
    let status = StatusCode::from_u16(code)
        .map_err(|_| HeadError::Malformed(format!("status code {code}")))?;
    let base = buf.as_ptr() as usize;
    let mut parsed = Parsed {
        len,
        status,
        http10: response.version == Some(0),
        headers: Vec::with_capacity(response.headers.len()),
        content_length: None,
        length_conflict: false,
        chunked: false,
        transfer_encoded: false,
        close: false,
        keep_alive_token: false,
        connection_named: Vec::new(),
    };
    for header in response.headers.iter() {
        let name = HeaderName::from_bytes(header.name.as_bytes())
            .map_err(|_| HeadError::Malformed(format!("header name {:?}", header.name)))?;
        let value = header.value;
        if name == CONNECTION {
            for token in value.split(|b| *b == b',') {
                let token = token.trim_ascii();
                if token.eq_ignore_ascii_case(b"close") {
                    parsed.close = true;
                } else if token.eq_ignore_ascii_case(b"keep-alive") {
                    parsed.keep_alive_token = true;
                } else if let Ok(named) = HeaderName::from_bytes(token) {
                    parsed.connection_named.push(named);
                }
            }
            continue;
        }
        if name == TRANSFER_ENCODING {
            parsed.transfer_encoded = true;
            // Only a final `chunked` coding delimits the body (RFC 9112 §6.3); empty list
            // elements do not count.
            let last = value
                .split(|b| *b == b',')
                .map(|coding| coding.trim_ascii())
                .rfind(|coding| !coding.is_empty())
                .unwrap_or_default();
            parsed.chunked = last.eq_ignore_ascii_case(b"chunked");
            continue;
        }
        if is_hop_by_hop(&name) {
            continue;
        }
        if name == CONTENT_LENGTH {
            for part in value.split(|b| *b == b',') {
                let length = std::str::from_utf8(part.trim_ascii())
                    .ok()
                    .filter(|digits| {
                        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
                    })
                    .and_then(|digits| digits.parse::<u64>().ok());
                match (length, parsed.content_length) {
                    (None, _) => parsed.length_conflict = true,
                    (Some(length), Some(seen)) if seen != length => parsed.length_conflict = true,
                    (Some(length), _) => parsed.content_length = Some(length),
                }
            }
        }
        let start = value.as_ptr() as usize - base;
        parsed.headers.push((name, start..start + value.len()));
    }
    Ok(Some(parsed))
}

/// Hop-by-hop headers besides `Connection` and `Transfer-Encoding` (handled while parsing).
fn is_hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "keep-alive" | "proxy-connection" | "upgrade" | "te"
    )
}

fn build(parsed: Parsed, head: &Bytes, method: &Method) -> Result<ResponseHead, HeadError> {
    let mut headers = HeaderMap::with_capacity(parsed.headers.len());
    for (name, range) in parsed.headers {
        if parsed.connection_named.contains(&name) {
            continue;
        }
        let value = HeaderValue::from_maybe_shared(head.slice(range))
            .map_err(|_| HeadError::Malformed(format!("value of header {name}")))?;
        headers.append(name, value);
    }
    let status = parsed.status;
    let framing = if *method == Method::HEAD
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
    {
        Framing::Empty
    } else if parsed.transfer_encoded {
        // Transfer-Encoding overrides Content-Length, which must not reach the client
        // (RFC 9112 §6.3). A coding other than a final `chunked` would reach it with the
        // coding's own header removed: refuse it instead of passing on a corrupt body.
        headers.remove(CONTENT_LENGTH);
        if !parsed.chunked {
            return Err(HeadError::UnsupportedCoding);
        }
        Framing::Chunked
    } else if parsed.length_conflict {
        return Err(HeadError::BadLength);
    } else {
        match parsed.content_length {
            Some(0) => Framing::Empty,
            Some(length) => Framing::Length(length),
            None => Framing::UntilClose,
        }
    };
    // Both Transfer-Encoding and Content-Length, or Transfer-Encoding from an HTTP/1.0
    // app, is faulty framing: read this response, then close (RFC 9112 §6.1).
    let faulty = parsed.transfer_encoded
        && (parsed.content_length.is_some() || parsed.length_conflict || parsed.http10);
    let keep_alive = framing != Framing::UntilClose
        && !parsed.close
        && !faulty
        && (!parsed.http10 || parsed.keep_alive_token);
    let mut response = Response::new(());
    *response.status_mut() = status;
    // The proxy speaks its own version to the caller (RFC 9110 §6.2), whatever the app's.
    *response.version_mut() = Version::HTTP_11;
    *response.headers_mut() = headers;
    Ok(ResponseHead {
        response,
        framing,
        keep_alive,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, method: Method) -> Result<Option<ResponseHead>, HeadError> {
        let mut buf = BytesMut::from(text.as_bytes());
        parse_response(&mut buf, &method)
    }

    #[test]
    fn a_request_head_has_an_origin_form_target_and_every_header() {
        let request = Request::get("http://app:8080/a/b?c=d")
            .header("host", "api")
            .header("x-one", "1")
            .body(())
            .unwrap();
        let mut out = Vec::new();
        encode_request(&request, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "GET /a/b?c=d HTTP/1.1\r\nhost: api\r\nx-one: 1\r\n\r\n"
        );
    }

    #[test]
    fn a_length_delimited_response_keeps_its_headers_but_not_hop_by_hop_ones() {
        let head = parse(
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive, x-private\r\n\
             Keep-Alive: timeout=5\r\nX-Private: 1\r\nX-App: a\r\n\r\nhello",
            Method::GET,
        )
        .unwrap()
        .unwrap();
        assert_eq!(head.framing, Framing::Length(5));
        assert!(head.keep_alive);
        let headers = head.response.headers();
        assert_eq!(headers["content-length"], "5");
        assert_eq!(headers["x-app"], "a");
        for gone in ["connection", "keep-alive", "x-private"] {
            assert!(!headers.contains_key(gone), "{gone} was forwarded");
        }
    }

    #[test]
    fn framing_follows_rfc_9112() {
        let framing = |text: &str, method: Method| parse(text, method).unwrap().unwrap().framing;
        assert_eq!(
            framing(
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 9\r\n\r\n",
                Method::GET
            ),
            Framing::Chunked
        );
        assert_eq!(
            framing("HTTP/1.1 200 OK\r\n\r\n", Method::GET),
            Framing::UntilClose
        );
        assert_eq!(
            framing("HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n", Method::HEAD),
            Framing::Empty
        );
        assert_eq!(
            framing(
                "HTTP/1.1 304 Not Modified\r\nContent-Length: 7\r\n\r\n",
                Method::GET
            ),
            Framing::Empty
        );
        assert_eq!(
            framing("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", Method::GET),
            Framing::Empty
        );
        let until_close = parse("HTTP/1.1 200 OK\r\n\r\n", Method::GET)
            .unwrap()
            .unwrap();
        assert!(!until_close.keep_alive);
        let old = parse("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n", Method::GET)
            .unwrap()
            .unwrap();
        assert!(!old.keep_alive, "HTTP/1.0 without keep-alive closes");
        let closing = parse(
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\n",
            Method::GET,
        )
        .unwrap()
        .unwrap();
        assert!(!closing.keep_alive);
    }

    #[test]
    fn transfer_codings_are_honoured_only_when_chunked_comes_last() {
        let head = parse(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, \r\nContent-Length: 3\r\n\r\n",
            Method::GET,
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            head.framing,
            Framing::Chunked,
            "an empty list element does not count"
        );
        assert!(!head.response.headers().contains_key("content-length"));
        assert!(
            !head.keep_alive,
            "both framings at once: close after this response"
        );
        assert!(matches!(
            parse(
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
                Method::GET
            ),
            Err(HeadError::UnsupportedCoding)
        ));
    }

    #[test]
    fn the_caller_gets_http_1_1_whatever_version_the_app_spoke() {
        let head = parse(
            "HTTP/1.0 200 OK\r\nContent-Length: 1\r\nConnection: keep-alive\r\n\r\n",
            Method::GET,
        )
        .unwrap()
        .unwrap();
        assert_eq!(head.response.version(), Version::HTTP_11);
        assert!(head.keep_alive, "HTTP/1.0 with keep-alive stays open");
    }

    #[test]
    fn interim_responses_are_skipped_and_partial_heads_wait_for_more() {
        let mut buf =
            BytesMut::from(&b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Le"[..]);
        assert!(parse_response(&mut buf, &Method::GET).unwrap().is_none());
        buf.extend_from_slice(b"ngth: 2\r\n\r\nok");
        let head = parse_response(&mut buf, &Method::GET).unwrap().unwrap();
        assert_eq!(head.response.status(), StatusCode::CREATED);
        assert_eq!(&buf[..], b"ok", "the body stays in the buffer");
    }

    #[test]
    fn conflicting_lengths_and_garbage_are_errors() {
        assert!(matches!(
            parse(
                "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
                Method::GET
            ),
            Err(HeadError::BadLength)
        ));
        assert!(matches!(
            parse("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", Method::GET),
            Err(HeadError::BadLength)
        ));
        assert!(matches!(
            parse("HTTP/1.1 2x0 OK\r\n\r\n", Method::GET),
            Err(HeadError::Malformed(_))
        ));
        assert!(matches!(
            parse("HTTP/1.1 101 Switching Protocols\r\n\r\n", Method::GET),
            Err(HeadError::UnexpectedSwitch)
        ));
    }
}
