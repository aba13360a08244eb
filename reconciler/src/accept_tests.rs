//! The cap and the pause, on real loopback sockets.

use tokio::io::AsyncReadExt as _;

use super::*;

fn encode(metrics: &ListenerMetrics) -> String {
    let mut registry = prometheus_client::registry::Registry::default();
    metrics.register(&mut registry, &["test"]);
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
    text
}

#[test]
fn the_pause_doubles_from_5ms_to_at_most_1s() {
    assert_eq!(BACKOFF.delay_after(1), Duration::from_millis(5));
    assert_eq!(BACKOFF.delay_after(2), Duration::from_millis(10));
    assert_eq!(BACKOFF.delay_after(8), Duration::from_millis(640));
    assert_eq!(BACKOFF.delay_after(9), Duration::from_secs(1));
    assert_eq!(BACKOFF.delay_after(u32::MAX), Duration::from_secs(1));
}

#[test]
fn only_errors_about_one_connection_skip_the_pause() {
    use std::io::{Error, ErrorKind};
    assert!(is_per_connection(&Error::from(
        ErrorKind::ConnectionAborted
    )));
    // Linux's EMFILE, ENFILE, ENOBUFS, ENOMEM.
    for errno in [24, 23, 105, 12] {
        assert!(
            !is_per_connection(&Error::from_raw_os_error(errno)),
            "{errno}"
        );
    }
}

#[test]
fn an_episode_is_logged_once_and_ends_only_after_a_quiet_second() {
    let start = Instant::now();
    let mut episode = Episode::default();
    assert!(episode.occurred(start), "the first occurrence starts it");
    assert!(!episode.occurred(start + Duration::from_millis(10)));
    // A success right after trouble does not end it, so the next trouble logs nothing.
    assert_eq!(episode.ended(start + Duration::from_millis(20)), None);
    assert!(!episode.occurred(start + Duration::from_millis(30)));
    assert_eq!(episode.ended(start + Duration::from_millis(1030)), Some(3));
    assert!(
        episode.occurred(start + Duration::from_secs(2)),
        "a new episode"
    );
}

#[tokio::test]
async fn past_the_cap_new_connections_are_closed_and_counted_while_held_ones_stay() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let metrics = ListenerMetrics::default();
    let mut acceptor = Acceptor::new(listener, "test", 2, metrics.clone());

    let _first_client = TcpStream::connect(address).await.unwrap();
    let first = acceptor.accept().await;
    let _second_client = TcpStream::connect(address).await.unwrap();
    let second = acceptor.accept().await;
    assert_ne!(first.peer(), second.peer());

    // The third is accepted and closed at once: its client reads the end of the stream.
    let mut third_client = TcpStream::connect(address).await.unwrap();
    let mut fourth_client = TcpStream::connect(address).await.unwrap();
    let waiting = tokio::spawn(async move { acceptor.accept().await.peer() });
    let mut buffer = [0u8; 1];
    let read = tokio::time::timeout(Duration::from_secs(5), third_client.read(&mut buffer))
        .await
        .expect("the refused connection is closed, not left hanging");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    let read = tokio::time::timeout(Duration::from_secs(5), fourth_client.read(&mut buffer))
        .await
        .expect("the refused connection is closed, not left hanging");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    assert!(
        encode(&metrics)
            .contains(r#"meshcd_listener_connections_refused_total{listener="test"} 2"#),
        "{}",
        encode(&metrics)
    );

    // A slot freed is a connection served.
    drop(first);
    let fifth_client = TcpStream::connect(address).await.unwrap();
    let peer = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("accepted once a slot is free")
        .unwrap();
    assert_eq!(peer, fifth_client.local_addr().unwrap());
    drop(second);
}
