//! The app's response body, read from the connection as the client's side asks for it:
//! by length, chunk by chunk (trailers included), or until the app closes. At its end the
//! connection goes back to the pool when it can carry another exchange.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes};
use http::HeaderMap;
use http::header::{HeaderName, HeaderValue};
use hyper::body::{Body, Frame, SizeHint};

use super::head::Framing;
use super::{AppConnection, Checkin};

/// The longest chunk-size line (with extensions) or trailer section accepted.
const MAX_CHUNK_LINE: usize = 4096;
const MAX_TRAILERS: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("the app closed the connection before the end of the response body")]
    Incomplete,
    #[error("reading the response body")]
    Read(#[from] std::io::Error),
    #[error("malformed chunked response body: {0}")]
    Chunked(&'static str),
}

#[derive(Debug, Clone, Copy)]
enum State {
    Length(u64),
    ChunkSize,
    ChunkData(u64),
    ChunkEnd,
    Trailers,
    UntilClose,
    Done,
}

pub struct DirectBody {
    connection: Option<Box<AppConnection>>,
    state: State,
    keep_alive: bool,
    checkin: Option<Checkin>,
}

impl DirectBody {
    pub(super) fn new(
        connection: Box<AppConnection>,
        framing: Framing,
        keep_alive: bool,
        checkin: Checkin,
    ) -> Self {
        let state = match framing {
            Framing::Empty => State::Done,
            Framing::Length(length) => State::Length(length),
            Framing::Chunked => State::ChunkSize,
            Framing::UntilClose => State::UntilClose,
        };
        let mut body = Self {
            connection: Some(connection),
            state,
            keep_alive,
            checkin: Some(checkin),
        };
        if matches!(body.state, State::Done) {
            body.finish();
        }
        body
    }

    /// The exchange is over: a connection with nothing left unread goes back.
    fn finish(&mut self) {
        self.state = State::Done;
        if let (Some(connection), Some(checkin)) = (self.connection.take(), self.checkin.take())
            && self.keep_alive
            && connection.buffer.is_empty()
        {
            checkin.give_back(connection);
        }
    }

    fn fail(&mut self, error: BodyError) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        self.state = State::Done;
        self.connection = None;
        Poll::Ready(Some(Err(error)))
    }
}

impl Body for DirectBody {
    type Data = Bytes;
    type Error = BodyError;

    /// Long because it is the decoder's state machine (length, chunk size, chunk data,
    /// trailers, done), one arm per state; split, the states would lose sight of each other.
    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let this = self.get_mut();
        loop {
            let Some(connection) = this.connection.as_mut() else {
                return Poll::Ready(None);
            };
            let buffer = &mut connection.buffer;
            // Each arm either yields, or needs more bytes (falls through to the read).
            match this.state {
                State::Done => {
                    this.finish();
                    return Poll::Ready(None);
                }
                State::Length(left) | State::ChunkData(left) if !buffer.is_empty() => {
                    let take = usize::try_from(left)
                        .unwrap_or(usize::MAX)
                        .min(buffer.len());
                    let data = buffer.split_to(take).freeze();
                    let left = left - take as u64;
                    this.state = match this.state {
                        State::Length(_) if left == 0 => State::Done,
                        State::Length(_) => State::Length(left),
                        _ if left == 0 => State::ChunkEnd,
                        _ => State::ChunkData(left),
                    };
                    if matches!(this.state, State::Done) {
                        this.finish();
                    }
                    return Poll::Ready(Some(Ok(Frame::data(data))));
                }
                State::UntilClose if !buffer.is_empty() => {
                    let data = buffer.split().freeze();
                    return Poll::Ready(Some(Ok(Frame::data(data))));
                }
                // At least one hex digit, and CRLF as the only line break (RFC 9112 §7.1):
                // httparse alone would take an empty line for the last chunk.
                State::ChunkSize if buffer.first().is_some_and(|b| !b.is_ascii_hexdigit()) => {
                    return this.fail(BodyError::Chunked("chunk size without a hex digit"));
                }
                State::ChunkSize => match httparse::parse_chunk_size(buffer) {
                    Ok(httparse::Status::Complete((used, _)))
                        if buffer[..used].iter().filter(|b| **b == b'\n').count() != 1
                            || !buffer[..used].ends_with(b"\r\n") =>
                    {
                        return this.fail(BodyError::Chunked("chunk-size line not ended by CRLF"));
                    }
                    Ok(httparse::Status::Complete((used, size))) => {
                        buffer.advance(used);
                        this.state = if size == 0 {
                            State::Trailers
                        } else {
                            State::ChunkData(size)
                        };
                        continue;
                    }
                    Ok(httparse::Status::Partial) if buffer.len() > MAX_CHUNK_LINE => {
                        return this.fail(BodyError::Chunked("chunk-size line too long"));
                    }
                    Ok(httparse::Status::Partial) => {}
                    Err(_) => return this.fail(BodyError::Chunked("invalid chunk size")),
                },
                State::ChunkEnd if buffer.len() >= 2 => {
                    if &buffer[..2] != b"\r\n" {
                        return this.fail(BodyError::Chunked("chunk data not followed by CRLF"));
                    }
                    buffer.advance(2);
                    this.state = State::ChunkSize;
                    continue;
                }
                State::Trailers => match trailers(buffer) {
                    Ok(Some((used, trailers))) => {
                        buffer.advance(used);
                        this.finish();
                        return Poll::Ready(trailers.map(|t| Ok(Frame::trailers(t))));
                    }
                    Ok(None) if buffer.len() > MAX_TRAILERS => {
                        return this.fail(BodyError::Chunked("trailer section too large"));
                    }
                    Ok(None) => {}
                    Err(reason) => return this.fail(BodyError::Chunked(reason)),
                },
                State::Length(_) | State::ChunkData(_) | State::ChunkEnd | State::UntilClose => {}
            }
            match ready!(connection.poll_fill(cx, true)) {
                Ok(0) if matches!(this.state, State::UntilClose) => {
                    this.keep_alive = false;
                    this.finish();
                    return Poll::Ready(None);
                }
                Ok(0) => return this.fail(BodyError::Incomplete),
                Ok(_) => {}
                Err(error) => return this.fail(BodyError::Read(error)),
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self.state, State::Done)
    }

    fn size_hint(&self) -> SizeHint {
        match self.state {
            State::Done => SizeHint::with_exact(0),
            State::Length(left) => SizeHint::with_exact(left),
            _ => SizeHint::default(),
        }
    }
}

/// The trailer section after the last chunk: `(bytes used, trailers if any)`, or `None`
/// while incomplete.
fn trailers(buffer: &[u8]) -> Result<Option<(usize, Option<HeaderMap>)>, &'static str> {
    let mut slots = [httparse::EMPTY_HEADER; 100];
    match httparse::parse_headers(buffer, &mut slots) {
        Ok(httparse::Status::Complete((used, parsed))) => {
            // CRLF as the only line break, as on chunk-size lines: httparse also ends a
            // line, or the whole section, at a bare LF, where hyper reads on. An app
            // sending one leaves the end of its response in doubt, and the next bytes
            // could be taken for the next response.
            let bare_lf =
                (0..used).any(|at| buffer[at] == b'\n' && (at == 0 || buffer[at - 1] != b'\r'));
            if bare_lf {
                return Err("trailer section line not ended by CRLF");
            }
            if parsed.is_empty() {
                return Ok(Some((used, None)));
            }
            let mut map = HeaderMap::with_capacity(parsed.len());
            for header in parsed {
                let name = HeaderName::from_bytes(header.name.as_bytes())
                    .map_err(|_| "invalid trailer name")?;
                let value =
                    HeaderValue::from_bytes(header.value).map_err(|_| "invalid trailer value")?;
                map.append(name, value);
            }
            Ok(Some((used, Some(map))))
        }
        Ok(httparse::Status::Partial) => Ok(None),
        Err(_) => Err("invalid trailer section"),
    }
}

#[cfg(test)]
#[path = "body_tests.rs"]
mod tests;
