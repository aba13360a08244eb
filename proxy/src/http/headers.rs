//! Hop-by-hop header handling: what a proxy must not forward (RFC 9110 §7.6.1), and
//! whether a request asks for a protocol upgrade.

use http::header::{
    CONNECTION, COOKIE, HeaderMap, HeaderName, HeaderValue, TE, TRANSFER_ENCODING, UPGRADE,
};
use http::{Request, Version};

static KEEP_ALIVE: HeaderName = HeaderName::from_static("keep-alive");
static PROXY_CONNECTION: HeaderName = HeaderName::from_static("proxy-connection");

/// Removes the headers that describe one connection, including those the `Connection`
/// header names. Upgrade requests keep `Connection` and `Upgrade` (see `is_upgrade`).
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    // Runs twice per proxied request. A removal hashes its name even when the name is
    // absent, and most messages carry none of these headers but `Connection`: one pass
    // over the names present (a length check rejects nearly all) decides which removals
    // to make.
    let mut present = [false; 6];
    for name in headers.keys() {
        let index = match name.as_str() {
            "connection" => 0,
            "keep-alive" => 1,
            "proxy-connection" => 2,
            "transfer-encoding" => 3,
            "upgrade" => 4,
            "te" => 5,
            _ => continue,
        };
        present[index] = true;
    }
    if present == [false; 6] {
        return;
    }
    let [
        connection,
        keep_alive,
        proxy_connection,
        transfer_encoding,
        upgrade,
        te,
    ] = present;
    if connection
        && let Some(value) = headers.remove(CONNECTION)
        && let Ok(names) = value.to_str()
    {
        for name in names.split(',') {
            let name = name.trim();
            if name.is_empty() || name.eq_ignore_ascii_case("close") {
                continue;
            }
            // The usual `Connection: keep-alive` names a header removed below anyway.
            if name.eq_ignore_ascii_case(KEEP_ALIVE.as_str()) {
                continue;
            }
            headers.remove(name);
        }
    }
    if keep_alive {
        headers.remove(&KEEP_ALIVE);
    }
    if proxy_connection {
        headers.remove(&PROXY_CONNECTION);
    }
    if transfer_encoding {
        headers.remove(TRANSFER_ENCODING);
    }
    if upgrade {
        headers.remove(UPGRADE);
    }
    if te && headers.get(TE).is_some_and(|te| te != "trailers") {
        headers.remove(TE);
    }
}

/// An HTTP/2 caller may split `Cookie` into several fields; HTTP/1.1 allows one, so they
/// are joined with "; " before the request goes on as HTTP/1.1 (RFC 9113 §8.2.3).
pub fn join_cookies(headers: &mut HeaderMap) {
    let mut values = headers.get_all(COOKIE).iter();
    let (Some(_), Some(_)) = (values.next(), values.next()) else {
        return;
    };
    let parts: Vec<&[u8]> = headers
        .get_all(COOKIE)
        .iter()
        .map(HeaderValue::as_bytes)
        .collect();
    if let Ok(joined) = HeaderValue::from_bytes(&parts.join(&b"; "[..])) {
        headers.insert(COOKIE, joined);
    }
}

/// An HTTP/1.1 request asking to switch protocols (WebSocket, …).
pub fn is_upgrade<B>(request: &Request<B>) -> bool {
    request.version() == Version::HTTP_11
        && request.headers().contains_key(UPGRADE)
        && request
            .headers()
            .get_all(CONNECTION)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .any(|token| token.trim().eq_ignore_ascii_case("upgrade"))
}

/// An HTTP/2 gRPC request: it needs HTTP/2 all the way to the app; any other HTTP/2 request reaches the app
/// as HTTP/1.1, which every HTTP app speaks (like an Envoy cluster without
/// `http2_protocol_options`).
pub fn is_grpc<B>(request: &Request<B>) -> bool {
    request.version() == Version::HTTP_2
        && request
            .headers()
            .get(http::header::CONTENT_TYPE)
            .is_some_and(|value| value.as_bytes().starts_with(b"application/grpc"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_split_by_an_http2_caller_reach_the_app_as_one_field() {
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, HeaderValue::from_static("a=1"));
        headers.append(COOKIE, HeaderValue::from_static("b=2"));
        headers.append(COOKIE, HeaderValue::from_static("c=3"));
        join_cookies(&mut headers);
        let all: Vec<_> = headers.get_all(COOKIE).iter().collect();
        assert_eq!(all, ["a=1; b=2; c=3"]);

        let mut single = HeaderMap::new();
        single.append(COOKIE, HeaderValue::from_static("a=1"));
        join_cookies(&mut single);
        assert_eq!(single[COOKIE], "a=1");
    }

    #[test]
    fn connection_named_headers_and_hop_by_hop_ones_are_removed() {
        let mut headers = HeaderMap::new();
        headers.insert(CONNECTION, "keep-alive, x-session".parse().unwrap());
        headers.insert("x-session", "1".parse().unwrap());
        headers.insert("keep-alive", "timeout=5".parse().unwrap());
        headers.insert(TE, "gzip".parse().unwrap());
        headers.insert("x-kept", "yes".parse().unwrap());
        strip_hop_by_hop(&mut headers);
        assert_eq!(headers.len(), 1);
        assert!(headers.contains_key("x-kept"));
    }

    #[test]
    fn te_trailers_survives_for_grpc() {
        let mut headers = HeaderMap::new();
        headers.insert(TE, "trailers".parse().unwrap());
        strip_hop_by_hop(&mut headers);
        assert!(headers.contains_key(TE));
    }

    #[test]
    fn headers_named_by_connection_are_removed_standard_ones_too() {
        let mut headers = HeaderMap::new();
        headers.insert(CONNECTION, "Keep-Alive, Cookie".parse().unwrap());
        headers.insert("keep-alive", "timeout=5".parse().unwrap());
        headers.insert(http::header::COOKIE, "a=1".parse().unwrap());
        headers.insert(UPGRADE, "h2c".parse().unwrap());
        headers.insert(TRANSFER_ENCODING, "chunked".parse().unwrap());
        headers.insert("proxy-connection", "keep-alive".parse().unwrap());
        headers.insert(http::header::CONTENT_LENGTH, "0".parse().unwrap());
        strip_hop_by_hop(&mut headers);
        assert_eq!(
            headers.keys().collect::<Vec<_>>(),
            [http::header::CONTENT_LENGTH]
        );
    }

    #[test]
    fn a_message_without_hop_by_hop_headers_is_left_alone() {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::HOST, "web".parse().unwrap());
        headers.insert("x-kept", "yes".parse().unwrap());
        strip_hop_by_hop(&mut headers);
        assert_eq!(headers.len(), 2);
    }

    #[test]
    fn websocket_handshakes_are_upgrades() {
        let request = Request::builder()
            .header(CONNECTION, "keep-alive, Upgrade")
            .header(UPGRADE, "websocket")
            .body(())
            .unwrap();
        assert!(is_upgrade(&request));
        let plain = Request::builder()
            .header(UPGRADE, "websocket")
            .body(())
            .unwrap();
        assert!(!is_upgrade(&plain));
    }
}
