//! The optional JSON access log: one line per request or TCP stream on stdout, each with
//! `"event":"access"` so it can be told apart from the listener announcements.

use std::io::Write;
use std::time::Duration;

use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct HttpEntry<'a> {
    pub direction: &'static str,
    pub source: &'a str,
    pub destination: &'a str,
    pub backend: &'a str,
    pub route: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    pub status: u16,
    #[serde(serialize_with = "millis")]
    pub duration_ms: Duration,
    /// What a Fault did to the call (`abort`, `delay`, `delay+abort`); left out when
    /// nothing was injected.
    #[serde(skip_serializing_if = "str::is_empty")]
    pub injected: &'static str,
}

#[derive(Debug, Serialize)]
pub struct TcpEntry<'a> {
    pub direction: &'static str,
    pub source: &'a str,
    pub destination: &'a str,
    pub backend: &'a str,
    pub bytes_to_destination: u64,
    pub bytes_from_destination: u64,
    pub outcome: &'a str,
    #[serde(serialize_with = "millis")]
    pub duration_ms: Duration,
}

fn millis<S: serde::Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(duration.as_secs_f64() * 1000.0)
}

#[derive(Serialize)]
struct Line<'a, E> {
    event: &'static str,
    #[serde(flatten)]
    entry: &'a E,
}

/// Writes one line per call; whole lines, so concurrent writers never interleave.
#[derive(Debug, Clone, Copy)]
pub struct AccessLog;

impl AccessLog {
    pub fn write<E: Serialize>(&self, entry: &E) {
        let Ok(mut line) = serde_json::to_vec(&Line {
            event: "access",
            entry,
        }) else {
            return;
        };
        line.push(b'\n');
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(&line);
        let _ = stdout.flush();
    }
}
