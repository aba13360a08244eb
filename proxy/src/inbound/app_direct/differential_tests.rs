//! app_direct against hyper's client, on the same response bytes.
//!
//! A generated response (well-formed, subtly broken or mutated, cut short, written in
//! pieces) is served by two identical loopback apps: one is asked by `DirectPool::send`,
//! the path the proxy takes, the other by hyper's `client::conn::http1`, the client
//! app_direct stands in for. A response both accept must reach the caller the same:
//! status, the headers app_direct relays, body bytes and trailers. A response app_direct
//! accepts must be one hyper accepts. Where app_direct refuses what hyper accepts, the refusal
//! must be one of the documented differences below; where both refuse, app_direct must
//! not have relayed body bytes hyper would not have.
//!
//! Allowed differences, each checked for the exact inputs it covers:
//! - HTTP/1.0 with `Transfer-Encoding`: hyper refuses the response; app_direct reads it by
//!   its framing and closes the connection after it (RFC 9112 §6.1). Compared with hyper
//!   reading the same response as HTTP/1.1.
//! - A `Transfer-Encoding` list ending in empty elements (`chunked, `): hyper takes the
//!   empty last element for the final coding and reads until close, relaying the chunk
//!   framing as content; app_direct ignores empty elements (RFC 9110 §5.6.1) and decodes
//!   the chunks. Compared with hyper reading the list without its empty elements.
//! - A final coding other than `chunked`: hyper reads until close and relays the encoded
//!   body; app_direct refuses the response rather than relay a body whose
//!   `Transfer-Encoding` it removes.
//! - 101 to a request that asked for no upgrade: app_direct refuses it.
//! - A `Content-Length` beyond hyper's largest body (2^64 - 3): hyper refuses the head;
//!   app_direct relays it and its body can only end in an error, since no app can send
//!   that many bytes.
//!
//! Not generated, and covered by body.rs's unit tests instead: chunk sizes with more than
//! 16 digits (leading zeros; hyper accepts them, httparse does not), and chunk-size lines
//! or trailer sections beyond app_direct's limits (4 KiB, 64 KiB; hyper's are 16 KiB).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONNECTION, CONTENT_LENGTH, HeaderMap, HeaderName, TRANSFER_ENCODING};
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper::body::Body;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::{DirectPool, Prepared};

/// Enough for most pairs of the flaws below to meet; about 7 s in a debug build on two
/// cores.
const CASES: u32 = 512;
/// How long an app that keeps the connection open waits for another request before it
/// closes: a body delimited by the close ends then.
const APP_IDLE: Duration = Duration::from_millis(30);
const SENTINEL: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsentinel";
const STRAY_RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil";
/// hyper's `DecodedLength::MAX_LEN`.
const HYPER_MAX_LENGTH: u64 = u64::MAX - 2;

#[test]
fn app_direct_reads_every_response_as_hyper_does_or_refuses_it_for_a_documented_reason() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let config = Config {
        failure_persistence: None,
        ..Config::with_cases(CASES)
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha));
    if let Err(failure) = runner.run(&case(), |case| runtime.block_on(agree(&case))) {
        panic!("{failure}");
    }
}

// ---- The generated responses --------------------------------------------------------

#[derive(Debug, Clone)]
struct Case {
    method: Method,
    /// 1xx heads before the final one.
    interim: Vec<u16>,
    http10: bool,
    status: u16,
    reason: &'static str,
    /// How head lines end; httparse also takes a bare LF.
    line_end: &'static str,
    headers: Vec<Field>,
    body: BodySpec,
    /// After the body: a pipelined response, stray bytes or nothing.
    extra: Vec<u8>,
    mutations: Vec<(Index, Mutation)>,
    /// The app closes the connection after this many bytes.
    cut: Option<Index>,
    /// Where the stream is split into separate writes.
    splits: Vec<Index>,
    keep_open: bool,
}

#[derive(Debug, Clone)]
enum Field {
    ContentLength(Length),
    TransferEncoding(&'static str),
    Other(&'static str, &'static [u8]),
}

/// A `Content-Length` value, relative to the rendered body's length where it matters.
#[derive(Debug, Clone)]
enum Length {
    Exact,
    Off(i64),
    Repeated,
    Conflicting,
    Literal(&'static str),
}

#[derive(Debug, Clone)]
enum BodySpec {
    Raw(Vec<u8>),
    Chunked(Vec<Chunk>, LastChunk),
}

#[derive(Debug, Clone)]
struct Chunk {
    data: Vec<u8>,
    size: Size,
    extension: &'static str,
    size_end: &'static str,
    data_end: &'static str,
}

#[derive(Debug, Clone)]
enum Size {
    Exact { upper: bool, zeros: usize },
    Off(i64),
    Literal(&'static str),
}

#[derive(Debug, Clone)]
struct LastChunk {
    zeros: usize,
    extension: &'static str,
    trailers: Vec<(&'static str, &'static str, &'static str)>,
    end: &'static str,
}

#[derive(Debug, Clone)]
enum Mutation {
    Replace(u8),
    Insert(u8),
    Delete,
}

/// Bytes that mean something to an HTTP/1.1 parser.
const SIGNIFICANT: &[u8] = b"\r\n \t;:,0159aFgz-+=\"\x00\x7f\x80\xff";

fn significant_byte() -> impl Strategy<Value = u8> {
    prop_oneof![3 => proptest::sample::select(SIGNIFICANT), 1 => any::<u8>()]
}

fn content_length() -> impl Strategy<Value = Length> {
    prop_oneof![
        6 => Just(Length::Exact),
        1 => (-3i64..=3).prop_map(Length::Off),
        1 => Just(Length::Repeated),
        1 => Just(Length::Conflicting),
        2 => proptest::sample::select(vec![
            "-1", "+1", "", "abc", "0x10", "1 2", "1e3", "0",
            "18446744073709551616", "18446744073709551615", "18446744073709551614",
            "18446744073709551613", "99999999999999999999999",
        ])
        .prop_map(Length::Literal),
    ]
}

fn transfer_encoding() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        8 => proptest::sample::select(vec!["chunked", "Chunked", "CHUNKED", " chunked "]),
        2 => proptest::sample::select(vec![
            "gzip, chunked", "chunked, gzip", "gzip", "identity", "chunked, ", "chunked,",
            ", chunked", "", "chunked, chunked", "chunkedx", "chunked;q=1",
        ]),
    ]
}

fn other_field() -> impl Strategy<Value = Field> {
    proptest::sample::select(vec![
        ("Connection", &b"close"[..]),
        ("Connection", b"keep-alive"),
        ("Connection", b"x-private"),
        ("Connection", b"Close, X-Private"),
        ("Connection", b"content-length"),
        ("X-Private", b"1"),
        ("Keep-Alive", b"timeout=5"),
        ("Upgrade", b"h2c"),
        ("TE", b"trailers"),
        ("Proxy-Connection", b"close"),
        ("Trailer", b"x-checksum"),
        ("X-App", b"a"),
        ("x-app", b"b"),
        ("Content-Type", b"text/plain"),
        ("X-Empty", b""),
        ("X-Latin", b"caf\xe9"),
        ("X-Spaced", b"  a  b  "),
    ])
    .prop_map(|(name, value)| Field::Other(name, value))
}

fn field() -> impl Strategy<Value = Field> {
    prop_oneof![
        2 => content_length().prop_map(Field::ContentLength),
        2 => transfer_encoding().prop_map(Field::TransferEncoding),
        3 => other_field(),
    ]
}

fn body_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => proptest::collection::vec(proptest::sample::select(&b"abcxyz0123 "[..]), 0..24),
        1 => proptest::collection::vec(significant_byte(), 0..24),
    ]
}

fn line_end() -> impl Strategy<Value = &'static str> {
    prop_oneof![40 => Just("\r\n"), 1 => Just("\n"), 1 => Just("\r"), 1 => Just("")]
}

fn extension() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        12 => Just(""),
        6 => proptest::sample::select(vec![
            ";a=b", ";a", " ;a=\"x;y\"", "\t;x=1;y", ";", ";\x01\x7f", " ", "; a = b ",
        ]),
        1 => proptest::sample::select(vec![";a\nb", ";a\rb", "x", "=1"]),
    ]
}

fn chunk() -> impl Strategy<Value = Chunk> {
    let size = prop_oneof![
        30 => (any::<bool>(), 0usize..3).prop_map(|(upper, zeros)| Size::Exact { upper, zeros }),
        1 => (-2i64..=2).prop_map(Size::Off),
        1 => proptest::sample::select(vec![
            "", "g", "-1", "+5", "0x5", " 5", "5 5", "1ffffffffffffffff", "ffffffffffffffff",
            "fffffffffffffffff",
        ])
        .prop_map(Size::Literal),
    ];
    let data_end = prop_oneof![
        30 => Just("\r\n"),
        2 => proptest::sample::select(vec!["\n", "", "xx", "\r", "\rx", "\r\r", "\r\r\n", "\n\r"]),
    ];
    (
        proptest::collection::vec(proptest::sample::select(&b"abc\r\n0;"[..]), 1..20),
        size,
        extension(),
        line_end(),
        data_end,
    )
        .prop_map(|(data, size, extension, size_end, data_end)| Chunk {
            data,
            size,
            extension,
            size_end,
            data_end,
        })
}

fn last_chunk() -> impl Strategy<Value = LastChunk> {
    let trailer = (
        prop_oneof![
            6 => proptest::sample::select(vec!["x-checksum", "X-Trailer", "expires"]),
            1 => proptest::sample::select(vec!["bad name", "", "x:y"]),
        ],
        prop_oneof![
            6 => proptest::sample::select(vec!["7", "a b", "", " spaced "]),
            1 => proptest::sample::select(vec!["\x7f", "\x00", "a\rb"]),
        ],
        line_end(),
    );
    (
        1usize..4,
        extension(),
        prop_oneof![2 => Just(Vec::new()), 1 => proptest::collection::vec(trailer, 1..3)],
        line_end(),
    )
        .prop_map(|(zeros, extension, trailers, end)| LastChunk {
            zeros,
            extension,
            trailers,
            end,
        })
}

fn chunked_body() -> impl Strategy<Value = BodySpec> {
    (proptest::collection::vec(chunk(), 0..4), last_chunk())
        .prop_map(|(chunks, last)| BodySpec::Chunked(chunks, last))
}

/// The framing the head announces, as its fields and a body that mostly fits it.
fn framing() -> impl Strategy<Value = (Vec<Field>, BodySpec)> {
    let raw = || body_bytes().prop_map(BodySpec::Raw);
    let length = || Just(Field::ContentLength(Length::Exact));
    let chunked = || transfer_encoding().prop_map(Field::TransferEncoding);
    prop_oneof![
        // Until the app closes.
        2 => raw().prop_map(|body| (Vec::new(), body)),
        4 => (length(), raw()).prop_map(|(length, body)| (vec![length], body)),
        4 => (chunked(), chunked_body()).prop_map(|(coding, body)| (vec![coding], body)),
        // Ambiguous: both, either way round, or more than one length.
        1 => (chunked(), length(), chunked_body(), any::<bool>()).prop_map(
            |(coding, length, body, swap)| {
                (if swap { vec![length, coding] } else { vec![coding, length] }, body)
            }
        ),
        1 => (content_length(), content_length(), raw())
            .prop_map(|(first, second, body)| {
                (vec![Field::ContentLength(first), Field::ContentLength(second)], body)
            }),
        1 => (field(), prop_oneof![raw(), chunked_body()])
            .prop_map(|(field, body)| (vec![field], body)),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    let status = prop_oneof![
        8 => Just(200u16),
        4 => proptest::sample::select(vec![201u16, 204, 304, 404, 500, 599, 999]),
        1 => proptest::sample::select(vec![100u16, 101, 103, 199, 99]),
    ];
    let head = (
        prop_oneof![6 => Just(Method::GET), 1 => Just(Method::HEAD)],
        prop_oneof![6 => Just(Vec::new()), 1 => proptest::collection::vec(
            proptest::sample::select(vec![100u16, 102, 103, 199]), 1..3)],
        prop_oneof![5 => Just(false), 1 => Just(true)],
        status,
        proptest::sample::select(vec!["OK", "", "Some Reason"]),
        prop_oneof![20 => Just("\r\n"), 1 => Just("\n")],
    );
    let extra = prop_oneof![
        6 => Just(Vec::new()),
        1 => Just(STRAY_RESPONSE.to_vec()),
        1 => proptest::collection::vec(significant_byte(), 1..8),
    ];
    let delivery = (
        prop_oneof![
            6 => Just(Vec::new()),
            1 => proptest::collection::vec(
                (any::<Index>(), prop_oneof![
                    Just(Mutation::Delete),
                    significant_byte().prop_map(Mutation::Replace),
                    significant_byte().prop_map(Mutation::Insert),
                ]),
                1..4,
            ),
        ],
        proptest::option::weighted(0.15, any::<Index>()),
        proptest::collection::vec(any::<Index>(), 0..6),
        any::<bool>(),
    );
    (
        head,
        framing(),
        proptest::collection::vec(other_field(), 0..3),
        any::<Index>(),
        extra,
        delivery,
    )
        .prop_map(
            |(
                (method, interim, http10, status, reason, line_end),
                (framing, body),
                others,
                position,
                extra,
                (mutations, cut, splits, keep_open),
            )| {
                // The framing fields go anywhere among the others: order matters when a
                // field repeats.
                let mut headers = others;
                let at = position.index(headers.len() + 1);
                headers.splice(at..at, framing);
                Case {
                    method,
                    interim,
                    http10,
                    status,
                    reason,
                    line_end,
                    headers,
                    body,
                    extra,
                    mutations,
                    cut,
                    splits,
                    keep_open,
                }
            },
        )
}

impl Case {
    fn body_bytes(&self) -> Vec<u8> {
        match &self.body {
            BodySpec::Raw(bytes) => bytes.clone(),
            BodySpec::Chunked(chunks, last) => {
                let mut out = Vec::new();
                for chunk in chunks {
                    let len = chunk.data.len() as i64;
                    let size = match &chunk.size {
                        Size::Exact { upper, zeros } => {
                            let digits = if *upper {
                                format!("{len:X}")
                            } else {
                                format!("{len:x}")
                            };
                            format!("{}{digits}", "0".repeat(*zeros))
                        }
                        Size::Off(delta) => format!("{:x}", (len + delta).max(0)),
                        Size::Literal(size) => (*size).to_owned(),
                    };
                    out.extend_from_slice(size.as_bytes());
                    out.extend_from_slice(chunk.extension.as_bytes());
                    out.extend_from_slice(chunk.size_end.as_bytes());
                    out.extend_from_slice(&chunk.data);
                    out.extend_from_slice(chunk.data_end.as_bytes());
                }
                out.extend_from_slice("0".repeat(last.zeros).as_bytes());
                out.extend_from_slice(last.extension.as_bytes());
                out.extend_from_slice(b"\r\n");
                for (name, value, end) in &last.trailers {
                    out.extend_from_slice(format!("{name}: {value}{end}").as_bytes());
                }
                out.extend_from_slice(last.end.as_bytes());
                out
            }
        }
    }

    /// The bytes the app sends, before the cut.
    fn stream(&self) -> Vec<u8> {
        let end = self.line_end;
        let mut out = Vec::new();
        for code in &self.interim {
            out.extend_from_slice(
                format!("HTTP/1.1 {code} Interim{end}X-Hint: 1{end}{end}").as_bytes(),
            );
        }
        let version = if self.http10 { "HTTP/1.0" } else { "HTTP/1.1" };
        out.extend_from_slice(format!("{version} {} {}{end}", self.status, self.reason).as_bytes());
        let body = self.body_bytes();
        let len = body.len() as i64;
        for field in &self.headers {
            let (name, value): (&str, Vec<u8>) = match field {
                Field::ContentLength(length) => {
                    let value = match length {
                        Length::Exact => len.to_string(),
                        Length::Off(delta) => (len + delta).to_string(),
                        Length::Repeated => format!("{len}, {len}"),
                        Length::Conflicting => format!("{len}, {}", len + 1),
                        Length::Literal(value) => (*value).to_owned(),
                    };
                    ("Content-Length", value.into_bytes())
                }
                Field::TransferEncoding(coding) => {
                    ("Transfer-Encoding", coding.as_bytes().to_vec())
                }
                Field::Other(name, value) => (name, value.to_vec()),
            };
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(&value);
            out.extend_from_slice(end.as_bytes());
        }
        out.extend_from_slice(end.as_bytes());
        out.extend_from_slice(&body);
        out.extend_from_slice(&self.extra);
        for (at, mutation) in &self.mutations {
            match mutation {
                Mutation::Replace(byte) if !out.is_empty() => {
                    let at = at.index(out.len());
                    out[at] = *byte;
                }
                Mutation::Insert(byte) => out.insert(at.index(out.len() + 1), *byte),
                Mutation::Delete if !out.is_empty() => {
                    out.remove(at.index(out.len()));
                }
                _ => {}
            }
        }
        if let Some(cut) = &self.cut {
            out.truncate(cut.index(out.len() + 1));
        }
        out
    }

    fn pieces(&self, stream: &[u8]) -> Vec<Vec<u8>> {
        let mut at: Vec<usize> = self
            .splits
            .iter()
            .map(|i| i.index(stream.len() + 1))
            .collect();
        at.push(0);
        at.push(stream.len());
        at.sort_unstable();
        at.dedup();
        at.windows(2).map(|w| stream[w[0]..w[1]].to_vec()).collect()
    }

    /// A cut stream ends with the close; otherwise the app may keep the connection.
    fn keeps_open(&self) -> bool {
        self.keep_open && self.cut.is_none()
    }
}

// ---- The apps ---------------------------------------------------------------------

/// An app whose first connection answers its first request with the crafted pieces,
/// one write each with a pause between so the client meets them as separate reads; any
/// other request gets `SENTINEL`.
struct CraftedApp {
    address: Arc<str>,
    written: Option<oneshot::Receiver<()>>,
    accepting: JoinHandle<()>,
}

impl Drop for CraftedApp {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

impl CraftedApp {
    async fn start(pieces: Vec<Vec<u8>>, keep_open: bool) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address: Arc<str> = Arc::from(listener.local_addr().unwrap().to_string());
        let (done, written) = oneshot::channel();
        let accepting = tokio::spawn(async move {
            let mut crafted = Some((pieces, done));
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                tokio::spawn(serve(stream, crafted.take(), keep_open));
            }
        });
        Self {
            address,
            written: Some(written),
            accepting,
        }
    }

    /// Until the app has written all it had to say on the crafted connection.
    async fn written(&mut self) {
        if let Some(written) = self.written.take() {
            let _ = written.await;
        }
    }
}

async fn serve(
    mut stream: TcpStream,
    mut crafted: Option<(Vec<Vec<u8>>, oneshot::Sender<()>)>,
    keep_open: bool,
) {
    let mut idle = Duration::from_secs(10);
    loop {
        match tokio::time::timeout(idle, read_request_head(&mut stream)).await {
            Ok(true) => {}
            _ => return,
        }
        let Some((pieces, done)) = crafted.take() else {
            if stream.write_all(SENTINEL).await.is_err() {
                return;
            }
            continue;
        };
        for (n, piece) in pieces.iter().enumerate() {
            if n > 0 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            if stream.write_all(piece).await.is_err() {
                break;
            }
        }
        let _ = done.send(());
        if !keep_open {
            return;
        }
        idle = APP_IDLE;
    }
}

/// Reads one body-less request head; false at the end of the connection.
async fn read_request_head(stream: &mut TcpStream) -> bool {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        match stream.read(&mut byte).await {
            Ok(1) => head.push(byte[0]),
            _ => return false,
        }
    }
    true
}

// ---- The clients ------------------------------------------------------------------

#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "two per case, built once and only borrowed after"
)]
enum Outcome {
    /// No response head.
    Refused(String),
    Answered {
        status: StatusCode,
        headers: HeaderMap,
        /// What arrived, up to the end or the error.
        body: Vec<u8>,
        trailers: HeaderMap,
        end: Result<(), String>,
    },
}

impl Outcome {
    fn accepted(&self) -> bool {
        matches!(self, Outcome::Answered { end: Ok(()), .. })
    }

    fn body(&self) -> &[u8] {
        match self {
            Outcome::Refused(_) => &[],
            Outcome::Answered { body, .. } => body,
        }
    }
}

async fn drain<B>(status: StatusCode, headers: HeaderMap, mut body: B) -> Outcome
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    let mut bytes = Vec::new();
    let mut trailers = HeaderMap::new();
    let end = loop {
        match body.frame().await {
            None => break Ok(()),
            Some(Err(error)) => break Err(error.to_string()),
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) => bytes.extend_from_slice(&data),
                Err(frame) => {
                    if let Ok(more) = frame.into_trailers() {
                        trailers.extend(more);
                    }
                }
            },
        }
    };
    Outcome::Answered {
        status,
        headers,
        body: bytes,
        trailers,
        end,
    }
}

fn request<B>(method: &Method, body: B) -> Request<B> {
    Request::builder()
        .method(method.clone())
        .uri("/")
        .header("host", "app")
        .body(body)
        .unwrap()
}

async fn via_app_direct(pool: &Arc<DirectPool>, address: &Arc<str>, method: &Method) -> Outcome {
    match pool
        .send(address, &Prepared::new(&request(method, ())))
        .await
    {
        Err(error) => Outcome::Refused(error.to_string()),
        Ok(response) => {
            let (parts, body) = response.into_parts();
            drain(parts.status, parts.headers, body).await
        }
    }
}

async fn via_hyper(address: &str, method: &Method) -> Outcome {
    let stream = TcpStream::connect(address).await.unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(connection);
    match sender
        .send_request(request(method, Empty::<Bytes>::new()))
        .await
    {
        Err(error) => Outcome::Refused(error.to_string()),
        Ok(response) => {
            let (parts, body) = response.into_parts();
            drain(parts.status, parts.headers, body).await
        }
    }
}

async fn within_time<F: Future<Output = Outcome>>(who: &str, exchange: F) -> Outcome {
    tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .unwrap_or_else(|_| panic!("{who} hangs"))
}

// ---- The verdicts -----------------------------------------------------------------

/// What the allowed differences need to know of the final response head, read as both
/// clients read it (httparse, interim 1xx skipped, 101 included).
#[derive(Debug, Default)]
struct Head {
    /// The same response as hyper must read it to be compared with app_direct: HTTP/1.1,
    /// and the last `Transfer-Encoding` without empty list elements.
    hyper_equivalent: Option<Vec<u8>>,
    /// A body-bearing response whose final coding is not `chunked`.
    unsupported_coding: bool,
    switching: bool,
    beyond_hyper_length: bool,
}

fn final_head(stream: &[u8], method: &Method) -> Head {
    let mut start = 0;
    loop {
        let mut slots = [httparse::EMPTY_HEADER; 100];
        let mut response = httparse::Response::new(&mut slots);
        let Ok(httparse::Status::Complete(len)) = response.parse(&stream[start..]) else {
            return Head::default();
        };
        let code = response.code.unwrap_or_default();
        if matches!(code, 100 | 102..=199) {
            start += len;
            continue;
        }
        let bodiless = *method == Method::HEAD || code == 204 || code == 304;
        let is = |name: &str, header: &httparse::Header<'_>| header.name.eq_ignore_ascii_case(name);
        let codings = response
            .headers
            .iter()
            .rposition(|header| is("transfer-encoding", header));
        let elements = |value: &[u8]| -> Vec<Vec<u8>> {
            value
                .split(|b| *b == b',')
                .map(|element| element.trim_ascii().to_vec())
                .collect()
        };
        let mut head = Head {
            switching: code == 101,
            ..Head::default()
        };
        if let Some(last) = codings {
            let listed = elements(response.headers[last].value);
            let named: Vec<&Vec<u8>> = listed.iter().filter(|e| !e.is_empty()).collect();
            head.unsupported_coding = !bodiless
                && code != 101
                && !named
                    .last()
                    .is_some_and(|e| e.eq_ignore_ascii_case(b"chunked"));
            if response.version == Some(0) || listed.last().is_some_and(|e| e.is_empty()) {
                let mut rewritten = stream[..start].to_vec();
                rewritten.extend_from_slice(format!("HTTP/1.1 {code} R\r\n").as_bytes());
                for (n, header) in response.headers.iter().enumerate() {
                    rewritten.extend_from_slice(header.name.as_bytes());
                    rewritten.extend_from_slice(b": ");
                    if n == last {
                        let named: Vec<&[u8]> = named.iter().map(|e| e.as_slice()).collect();
                        rewritten.extend_from_slice(&named.join(&b", "[..]));
                    } else {
                        rewritten.extend_from_slice(header.value);
                    }
                    rewritten.extend_from_slice(b"\r\n");
                }
                rewritten.extend_from_slice(b"\r\n");
                rewritten.extend_from_slice(&stream[start + len..]);
                head.hyper_equivalent = Some(rewritten);
            }
        } else if !bodiless {
            let lengths: Option<Vec<u64>> = response
                .headers
                .iter()
                .filter(|header| is("content-length", header))
                .flat_map(|header| elements(header.value))
                .map(|digits| {
                    std::str::from_utf8(&digits)
                        .ok()
                        .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
                        .and_then(|d| d.parse().ok())
                })
                .collect();
            head.beyond_hyper_length = lengths.is_some_and(|lengths| {
                lengths
                    .first()
                    .is_some_and(|first| *first > HYPER_MAX_LENGTH)
                    && lengths.iter().all(|length| length == &lengths[0])
            });
        }
        return head;
    }
}

/// hyper's response headers as app_direct relays them: without hop-by-hop fields, those
/// `Connection` names, and `Content-Length` when `Transfer-Encoding` frames the body.
fn as_app_direct_relays(headers: &HeaderMap, status: StatusCode, method: &Method) -> HeaderMap {
    let named: Vec<HeaderName> = headers
        .get_all(CONNECTION)
        .iter()
        .flat_map(|value| value.as_bytes().split(|b| *b == b','))
        .map(|token| token.trim_ascii())
        .filter(|token| {
            !token.eq_ignore_ascii_case(b"close") && !token.eq_ignore_ascii_case(b"keep-alive")
        })
        .filter_map(|token| HeaderName::from_bytes(token).ok())
        .collect();
    let bodiless = *method == Method::HEAD
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED;
    let transfer_coded = headers.contains_key(TRANSFER_ENCODING) && !bodiless;
    let mut relayed = HeaderMap::new();
    for (name, value) in headers {
        let hop_by_hop = matches!(
            name.as_str(),
            "connection"
                | "transfer-encoding"
                | "keep-alive"
                | "proxy-connection"
                | "upgrade"
                | "te"
        );
        if hop_by_hop || named.contains(name) || (name == CONTENT_LENGTH && transfer_coded) {
            continue;
        }
        relayed.append(name.clone(), value.clone());
    }
    relayed
}

async fn agree(case: &Case) -> Result<(), TestCaseError> {
    let stream = case.stream();
    let shown = stream.escape_ascii().to_string();
    let pieces = case.pieces(&stream);
    let method = &case.method;
    let head = final_head(&stream, method);

    let pool = DirectPool::new(Duration::from_secs(1));
    let mut direct_app = CraftedApp::start(pieces.clone(), case.keeps_open()).await;
    let hyper_app = CraftedApp::start(pieces, case.keeps_open()).await;
    let equivalent_app = match &head.hyper_equivalent {
        Some(bytes) => Some(CraftedApp::start(vec![bytes.clone()], case.keeps_open()).await),
        None => None,
    };
    let (direct, hyper) = tokio::join!(
        within_time(
            "app_direct",
            via_app_direct(&pool, &direct_app.address, method)
        ),
        async {
            match &equivalent_app {
                Some(app) => within_time("hyper", via_hyper(&app.address, method)).await,
                None => within_time("hyper", via_hyper(&hyper_app.address, method)).await,
            }
        },
    );
    let context = || format!("stream: b\"{shown}\"\napp_direct: {direct:?}\nhyper: {hyper:?}");

    match (&direct, &hyper) {
        (
            Outcome::Answered {
                status,
                headers,
                body,
                trailers,
                end: Ok(()),
            },
            Outcome::Answered {
                status: hyper_status,
                headers: hyper_headers,
                body: hyper_body,
                trailers: hyper_trailers,
                end: Ok(()),
            },
        ) => {
            prop_assert_eq!(status, hyper_status, "{}", context());
            let expected = as_app_direct_relays(hyper_headers, *hyper_status, method);
            prop_assert_eq!(headers, &expected, "{}", context());
            prop_assert_eq!(body, hyper_body, "{}", context());
            prop_assert_eq!(trailers, hyper_trailers, "{}", context());
        }
        (direct, _) if direct.accepted() => {
            return Err(TestCaseError::fail(format!(
                "app_direct accepts a response hyper refuses\n{}",
                context()
            )));
        }
        (direct, hyper) if hyper.accepted() => {
            let expected = match direct {
                Outcome::Refused(error) if head.unsupported_coding => {
                    error.contains("transfer coding other than a final chunked")
                }
                Outcome::Refused(error) if head.switching => error.contains("switched protocols"),
                _ => false,
            };
            prop_assert!(
                expected,
                "app_direct refuses a response hyper accepts, for no documented reason\n{}",
                context()
            );
        }
        // Both refuse, at the head or in the body.
        (direct, hyper) => {
            if let (Outcome::Answered { status, .. }, Outcome::Refused(_)) = (direct, hyper) {
                prop_assert!(
                    head.beyond_hyper_length,
                    "app_direct relays a head hyper refuses ({})\n{}",
                    status,
                    context()
                );
            } else {
                prop_assert!(
                    hyper.body().starts_with(direct.body()),
                    "app_direct relays body bytes hyper does not\n{}",
                    context()
                );
            }
        }
    }

    // Whatever the first response was, a stray byte after it never reaches the next
    // caller: once the app has sent it all, the next request gets the next answer.
    direct_app.written().await;
    tokio::time::sleep(Duration::from_millis(2)).await;
    let next = within_time(
        "app_direct's next request",
        via_app_direct(&pool, &direct_app.address, &Method::GET),
    )
    .await;
    let answered_next = matches!(
        &next,
        Outcome::Answered { status, body, end: Ok(()), .. }
            if *status == StatusCode::OK && body == b"sentinel"
    );
    prop_assert!(
        answered_next,
        "the next request on the pool got {:?}\nafter: b\"{}\"",
        next,
        shown
    );
    Ok(())
}
