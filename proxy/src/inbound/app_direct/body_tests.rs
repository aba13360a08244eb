//! The decoder on a real loopback socket. Part of the body is already in the buffer, as
//! if it came in the read that carried the head, and the app writes the rest: the
//! decoder meets the boundary between the two as a partial read.

use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use http_body_util::BodyExt;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

use super::*;
use crate::inbound::app_direct::DirectPool;

const APP: &str = "127.0.0.1:9";

const WITH_TRAILERS: &[u8] = b"5;name=value\r\nhello\r\n1 ;q=\"x;y\"\r\n \r\nA\r\n0123456789\r\n\
      0\r\nx-checksum: 7\r\nx-more: a b\r\n\r\n";

struct Decoded {
    body: Vec<u8>,
    trailers: Option<HeaderMap>,
    end: Result<(), BodyError>,
    pool: Arc<DirectPool>,
    /// The app's end, open until the test is done with it.
    app: Option<TcpStream>,
}

impl Decoded {
    fn went_back_to_the_pool(&self) -> bool {
        self.pool.checkout(APP).is_some()
    }
}

/// Decodes a chunked body of which `buffered` came with the head and `later` is
/// written by the app after it; then the app closes the connection if `close`.
async fn decode(buffered: &[u8], later: &[u8], close: bool) -> Decoded {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let stream = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (mut app, _) = listener.accept().await.unwrap();
    app.write_all(later).await.unwrap();
    let app = if close {
        drop(app);
        None
    } else {
        Some(app)
    };
    let pool = DirectPool::new(Duration::from_secs(1));
    let connection = Box::new(AppConnection {
        stream,
        buffer: BytesMut::from(buffered),
        reused: false,
    });
    let checkin = Checkin {
        pool: pool.clone(),
        address: Arc::from(APP),
    };
    let mut body = DirectBody::new(connection, Framing::Chunked, true, checkin);
    let mut decoded = Decoded {
        body: Vec::new(),
        trailers: None,
        end: Ok(()),
        pool,
        app,
    };
    let drained = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(frame) = body.frame().await {
            match frame.map(Frame::into_data) {
                Ok(Ok(data)) => decoded.body.extend_from_slice(&data),
                Ok(Err(frame)) => decoded.trailers = frame.into_trailers().ok(),
                Err(error) => return Err(error),
            }
        }
        Ok(())
    })
    .await;
    decoded.end = drained.expect("the decoder waits for bytes that will never come");
    decoded
}

async fn decode_whole(body: &[u8]) -> Decoded {
    decode(b"", body, false).await
}

fn assert_chunked_error(decoded: &Decoded, input: &[u8]) {
    assert!(
        matches!(decoded.end, Err(BodyError::Chunked(_))),
        "{}: {:?}",
        input.escape_ascii(),
        decoded.end
    );
    assert!(
        !decoded.went_back_to_the_pool(),
        "{}: a connection in an unknown state went back to the pool",
        input.escape_ascii()
    );
}

#[tokio::test]
async fn chunk_sizes_are_read_in_either_hex_case_and_with_leading_zeros() {
    let mut body = b"a\r\n0123456789\r\nB\r\nabcdefghijk\r\n00fF\r\n".to_vec();
    body.extend_from_slice(&[b'x'; 0xff]);
    body.extend_from_slice(b"\r\n000\r\n\r\n");
    let decoded = decode_whole(&body).await;
    decoded.end.as_ref().unwrap();
    assert_eq!(decoded.body.len(), 10 + 11 + 0xff);
    assert!(decoded.body.starts_with(b"0123456789abcdefghijkxxx"));
}

#[tokio::test]
async fn chunk_extensions_are_skipped_whatever_they_hold() {
    let decoded = decode_whole(
        b"5;name=value\r\nhello\r\n1\t;a;b=\"x;y\"\r\n,\r\n\
          6 ; \x80\x00\r\n world\r\n0;end\r\n\r\n",
    )
    .await;
    decoded.end.as_ref().unwrap();
    assert_eq!(decoded.body, b"hello, world");
    assert!(decoded.trailers.is_none());
}

#[tokio::test]
async fn trailers_arrive_as_the_last_frame_and_the_connection_goes_back_to_the_pool() {
    let decoded = decode_whole(WITH_TRAILERS).await;
    decoded.end.as_ref().unwrap();
    assert_eq!(decoded.body, b"hello 0123456789");
    let trailers = decoded.trailers.as_ref().unwrap();
    assert_eq!(trailers["x-checksum"], "7");
    assert_eq!(trailers["x-more"], "a b");
    assert!(decoded.went_back_to_the_pool());
}

#[tokio::test]
async fn a_zero_size_last_chunk_alone_is_an_empty_body_and_keeps_the_connection() {
    let decoded = decode_whole(b"0\r\n\r\n").await;
    decoded.end.as_ref().unwrap();
    assert!(decoded.body.is_empty());
    assert!(decoded.trailers.is_none());
    assert!(decoded.went_back_to_the_pool());
}

#[tokio::test]
async fn a_body_split_at_every_byte_boundary_decodes_the_same() {
    for split in 0..=WITH_TRAILERS.len() {
        let (buffered, later) = WITH_TRAILERS.split_at(split);
        let decoded = decode(buffered, later, false).await;
        assert!(decoded.end.is_ok(), "split at {split}: {:?}", decoded.end);
        assert_eq!(decoded.body, b"hello 0123456789", "split at {split}");
        assert_eq!(
            decoded.trailers.as_ref().map(|t| t["x-checksum"].clone()),
            Some(http::HeaderValue::from_static("7")),
            "split at {split}"
        );
        assert!(decoded.went_back_to_the_pool(), "split at {split}");
    }
}

#[tokio::test]
async fn a_body_cut_at_any_byte_is_incomplete_never_a_short_success() {
    for cut in 0..WITH_TRAILERS.len() {
        let decoded = decode(b"", &WITH_TRAILERS[..cut], true).await;
        assert!(
            matches!(decoded.end, Err(BodyError::Incomplete)),
            "cut at {cut}: {:?}",
            decoded.end
        );
        assert!(!decoded.went_back_to_the_pool(), "cut at {cut}");
    }
}

#[tokio::test]
async fn malformed_chunk_size_lines_are_errors_and_the_connection_is_dropped() {
    let inputs: &[&[u8]] = &[
        // No hex digit: not the last chunk.
        b"\r\n",
        b"g\r\nhello\r\n0\r\n\r\n",
        b";ext\r\nhello\r\n0\r\n\r\n",
        b" 5\r\nhello\r\n0\r\n\r\n",
        b"-5\r\nhello\r\n0\r\n\r\n",
        b"+5\r\nhello\r\n0\r\n\r\n",
        b"0x5\r\nhello\r\n0\r\n\r\n",
        // A digit after the size's whitespace, or a size running into the data.
        b"5 5\r\nhello\r\n0\r\n\r\n",
        b"5hello\r\n0\r\n\r\n",
        // Beyond u64.
        b"1ffffffffffffffff\r\nhello\r\n0\r\n\r\n",
        // Line breaks other than CRLF, in the size or inside an extension.
        b"5\nhello\r\n0\r\n\r\n",
        b"5\r\rhello\r\n0\r\n\r\n",
        b"5;a\nb\r\nhello\r\n0\r\n\r\n",
        b"5\r\nhello\r\n0\n\r\n",
    ];
    for input in inputs {
        assert_chunked_error(&decode_whole(input).await, input);
    }
}

/// hyper's decoder accepts any number of leading zeros; httparse counts them against
/// its 16 digits. Refusing a size no app sends is the safe side of that difference.
#[tokio::test]
async fn more_than_sixteen_size_digits_are_refused_even_when_the_value_fits() {
    let input = b"00000000000000005\r\nhello\r\n0\r\n\r\n";
    assert_chunked_error(&decode_whole(input).await, input);
    let sixteen = decode_whole(b"0000000000000005\r\nhello\r\n0\r\n\r\n").await;
    sixteen.end.as_ref().unwrap();
    assert_eq!(sixteen.body, b"hello");
}

#[tokio::test]
async fn chunk_data_not_followed_by_crlf_is_an_error_after_the_data_that_came() {
    for input in [
        &b"5\r\nhelloXX0\r\n\r\n"[..],
        b"5\r\nhello\n0\r\n\r\n",
        b"5\r\nhello\r0\r\n\r\n",
        b"3\r\nhello\r\n0\r\n\r\n",
    ] {
        let decoded = decode_whole(input).await;
        assert_chunked_error(&decoded, input);
        assert!(
            b"hello".starts_with(&decoded.body),
            "{}",
            input.escape_ascii()
        );
    }
}

#[tokio::test]
async fn a_chunk_size_line_longer_than_the_limit_is_an_error() {
    let mut input = b"5;".to_vec();
    input.resize(MAX_CHUNK_LINE + 10, b'a');
    assert_chunked_error(&decode_whole(&input).await, b"5;aaa...");
}

/// httparse would end a trailer line, or the whole section, at a bare LF where hyper
/// reads on: the two would disagree on where the response ends.
#[tokio::test]
async fn a_trailer_section_with_a_bare_lf_is_an_error_like_a_chunk_size_line() {
    let inputs: &[&[u8]] = &[
        b"0\r\n\n",
        b"0\r\n\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil",
        b"0\r\nx-checksum: 7\n\r\n",
        b"0\r\nx-checksum: 7\r\n\n",
        b"0\r\nx-a: 1\nx-b: 2\r\n\r\n",
    ];
    for input in inputs {
        assert_chunked_error(&decode_whole(input).await, input);
    }
}

#[tokio::test]
async fn a_malformed_trailer_is_an_error() {
    let inputs: &[&[u8]] = &[
        b"0\r\nnot a field\r\n\r\n",
        b"0\r\nx-a: 1\r\n folded\r\n\r\n",
        b"0\r\n: empty name\r\n\r\n",
        b"0\r\nx-a: \x7f\r\n\r\n",
    ];
    for input in inputs {
        assert_chunked_error(&decode_whole(input).await, input);
    }
}

#[tokio::test]
async fn bytes_read_beyond_the_last_chunk_keep_the_connection_out_of_the_pool() {
    let mut input = b"5\r\nhello\r\n0\r\n\r\n".to_vec();
    input.extend_from_slice(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil");
    let decoded = decode(&input, b"", false).await;
    decoded.end.as_ref().unwrap();
    assert_eq!(decoded.body, b"hello");
    assert!(!decoded.went_back_to_the_pool());
}

#[tokio::test]
async fn bytes_arriving_after_the_last_chunk_keep_the_connection_from_being_taken_again() {
    let mut decoded = decode_whole(b"5\r\nhello\r\n0\r\n\r\n").await;
    decoded.end.as_ref().unwrap();
    let app = decoded.app.as_mut().unwrap();
    app.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil")
        .await
        .unwrap();
    // The probe only sees what the reactor has seen: let it notice the bytes.
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(!decoded.went_back_to_the_pool());
}
