//! The client's limits against misbehaving servers on loopback: each test's server
//! writes raw HTTP/1.1 so that it can break the protocol's good manners.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

use super::*;

const LIMITS: Limits = Limits {
    timeout: Duration::from_millis(500),
    body: 1024,
};

/// A server that reads a request head, then runs `answer` on the connection, for every
/// connection; returns its address and how many connections it accepted.
async fn server<F, Fut>(answer: F) -> (SocketAddr, Arc<AtomicUsize>)
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    let answer = Arc::new(answer);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(answer(stream));
        }
    });
    (address, accepted)
}

/// Reads until the end of a request head (the tests send no bodies).
async fn read_head(stream: &mut tokio::net::TcpStream) -> bool {
    let mut head = Vec::new();
    let mut buffer = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return false,
            Ok(read) => head.extend_from_slice(&buffer[..read]),
        }
    }
    true
}

fn get(address: SocketAddr) -> Request<Full<Bytes>> {
    Request::get(format!("http://{address}/"))
        .body(Full::new(Bytes::new()))
        .unwrap()
}

#[tokio::test]
async fn an_answer_within_the_limits_is_read_whole_over_one_pooled_connection() {
    let (address, accepted) = server(|mut stream| async move {
        while read_head(&mut stream).await {
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello")
                .await;
        }
    })
    .await;
    let client = HttpClient::plain();
    for _ in 0..3 {
        let answer = client.send(get(address), LIMITS).await.unwrap();
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.body, Bytes::from_static(b"hello"));
    }
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        1,
        "the connection is reused"
    );
}

#[tokio::test]
async fn a_declared_length_over_the_limit_is_refused_naming_the_limit() {
    let (address, _) = server(|mut stream| async move {
        read_head(&mut stream).await;
        let _ = stream
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 1000000000\r\n\r\n")
            .await;
        let chunk = vec![b'x'; 64 * 1024];
        while stream.write_all(&chunk).await.is_ok() {}
    })
    .await;
    let error = HttpClient::plain()
        .send(get(address), LIMITS)
        .await
        .unwrap_err();
    assert!(
        matches!(error, ClientError::TooLarge { limit: 1024, .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("1024-byte body limit"),
        "{error}"
    );
}

#[tokio::test]
async fn an_endless_chunked_body_stops_at_the_limit() {
    let (address, _) = server(|mut stream| async move {
        read_head(&mut stream).await;
        let _ = stream
            .write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
            .await;
        while stream.write_all(b"100\r\n").await.is_ok()
            && stream.write_all(&[b'x'; 256]).await.is_ok()
            && stream.write_all(b"\r\n").await.is_ok()
        {}
    })
    .await;
    let error = HttpClient::plain()
        .send(get(address), LIMITS)
        .await
        .unwrap_err();
    assert!(matches!(error, ClientError::TooLarge { .. }), "{error:?}");
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_naming_the_timeout() {
    let (address, _) = server(|mut stream| async move {
        read_head(&mut stream).await;
        // Holds the connection open without a byte of answer.
        let _ = stream.read(&mut [0u8; 1]).await;
    })
    .await;
    let started = std::time::Instant::now();
    let error = HttpClient::plain()
        .send(get(address), LIMITS)
        .await
        .unwrap_err();
    assert!(matches!(error, ClientError::Timeout { .. }), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(error.to_string().contains("within 500ms"), "{error}");
}

#[tokio::test]
async fn a_body_trickling_in_slower_than_the_timeout_is_cut_off() {
    let (address, _) = server(|mut stream| async move {
        read_head(&mut stream).await;
        let _ = stream
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n")
            .await;
        loop {
            if stream.write_all(b"x").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    let error = HttpClient::plain()
        .send(get(address), LIMITS)
        .await
        .unwrap_err();
    assert!(matches!(error, ClientError::Timeout { .. }), "{error:?}");
}

#[tokio::test]
async fn a_refused_connection_names_the_authority_and_the_io_error_once() {
    let address = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let error = HttpClient::plain()
        .send(get(address), LIMITS)
        .await
        .unwrap_err();
    let ClientError::Connect { source, .. } = &error else {
        panic!("{error:?}");
    };
    assert_eq!(source.kind(), std::io::ErrorKind::ConnectionRefused);
    assert_eq!(error.to_string(), format!("connecting to {address}"));
}

#[tokio::test]
async fn a_relative_uri_is_refused_before_connecting() {
    let request = Request::get("/status")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let error = HttpClient::plain().send(request, LIMITS).await.unwrap_err();
    assert!(matches!(error, ClientError::Uri(_)), "{error:?}");
}
