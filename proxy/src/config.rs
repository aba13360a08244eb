//! The proxy's command line: every setting, its environment variable and its default.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

/// Environment variable names, one per flag, so deployments can configure the proxy
/// without a command line (the sidecar injector does).
pub mod env {
    pub const SNAPSHOT: &str = "MESHCD_PROXY_SNAPSHOT";
    pub const CERT: &str = "MESHCD_PROXY_CERT";
    pub const KEY: &str = "MESHCD_PROXY_KEY";
    pub const CA_BUNDLE: &str = "MESHCD_PROXY_CA_BUNDLE";
    pub const OUTBOUND: &str = "MESHCD_PROXY_OUTBOUND";
    pub const INBOUND: &str = "MESHCD_PROXY_INBOUND";
    pub const ADMIN: &str = "MESHCD_PROXY_ADMIN";
    pub const ACCESS_LOG: &str = "MESHCD_PROXY_ACCESS_LOG";
    pub const CONNECT_TIMEOUT: &str = "MESHCD_PROXY_CONNECT_TIMEOUT";
    pub const REQUEST_TIMEOUT: &str = "MESHCD_PROXY_REQUEST_TIMEOUT";
    pub const LOG: &str = "MESHCD_PROXY_LOG";
}

/// Defaults (design §9): the sidecar ports of a pod or network namespace.
pub mod defaults {
    pub const OUTBOUND: &str = "127.0.0.1:15001";
    pub const INBOUND: &str = "127.0.0.1:15003";
    pub const ADMIN: &str = "127.0.0.1:15000";
    pub const CONNECT_TIMEOUT: &str = "1s";
    pub const REQUEST_TIMEOUT: &str = "15s";
    pub const LOG: &str = "info";
}

/// meshcd's sidecar proxy: routes the local app's calls into the mesh over mTLS and
/// authorizes the calls that reach it.
#[derive(Debug, Clone, Parser)]
#[command(name = "meshcd-proxy", version, about)]
pub struct Config {
    /// Snapshot file (protobuf JSON mapping of meshcd.v1.Snapshot); reloaded on change.
    #[arg(long, env = env::SNAPSHOT, value_name = "FILE")]
    pub snapshot: PathBuf,

    /// PEM workload certificate chain; the leaf carries the SPIFFE URI SAN.
    #[arg(long, env = env::CERT, value_name = "FILE")]
    pub cert: PathBuf,

    /// PEM PKCS#8 private key of the workload certificate.
    #[arg(long, env = env::KEY, value_name = "FILE")]
    pub key: PathBuf,

    /// PEM certificate(s) of the mesh CA.
    #[arg(long, env = env::CA_BUNDLE, value_name = "FILE")]
    pub ca_bundle: PathBuf,

    /// Listener for the local app's outbound calls (port 0 picks a free port).
    #[arg(long, env = env::OUTBOUND, value_name = "ADDR", default_value = defaults::OUTBOUND)]
    pub outbound: SocketAddr,

    /// mTLS listener for peers' calls to this workload.
    #[arg(long, env = env::INBOUND, value_name = "ADDR", default_value = defaults::INBOUND)]
    pub inbound: SocketAddr,

    /// Admin listener: /metrics, /ready, /live, /config.
    #[arg(long, env = env::ADMIN, value_name = "ADDR", default_value = defaults::ADMIN)]
    pub admin: SocketAddr,

    /// Print one JSON line per request or TCP stream on stdout ("event":"access").
    #[arg(long, env = env::ACCESS_LOG)]
    pub access_log: bool,

    /// Time allowed to open a connection to a peer proxy (TCP and TLS), e.g. 1s, 500ms.
    #[arg(long, env = env::CONNECT_TIMEOUT, value_name = "DUR",
          default_value = defaults::CONNECT_TIMEOUT, value_parser = parse_duration)]
    pub connect_timeout: Duration,

    /// Time allowed for a request's response headers to arrive (504 after it).
    #[arg(long, env = env::REQUEST_TIMEOUT, value_name = "DUR",
          default_value = defaults::REQUEST_TIMEOUT, value_parser = parse_duration)]
    pub request_timeout: Duration,

    /// Log filter (tracing EnvFilter syntax); logs go to stderr.
    #[arg(long, env = env::LOG, value_name = "FILTER", default_value = defaults::LOG)]
    pub log: String,
}

/// Parses `250ms`, `1s`, `1.5s`, `2m`, `1h` (a bare number is seconds).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration (e.g. 500ms, 1s, 2m)"))?;
    let seconds = match unit.trim() {
        "ms" => value / 1000.0,
        "" | "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        other => return Err(format!("unknown duration unit {other:?} (use ms, s, m or h)")),
    };
    if !seconds.is_finite() || seconds <= 0.0 {
        return Err(format!("{text:?} must be a positive duration"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_accept_the_usual_units() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1s"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("1d").is_err());
    }

    #[test]
    fn defaults_match_the_documented_ports() {
        let config = Config::try_parse_from([
            "meshcd-proxy", "--snapshot", "s.json", "--cert", "c.pem", "--key", "k.pem",
            "--ca-bundle", "ca.pem",
        ])
        .unwrap();
        assert_eq!(config.outbound.port(), 15001);
        assert_eq!(config.inbound.port(), 15003);
        assert_eq!(config.admin.port(), 15000);
        assert_eq!(config.connect_timeout, Duration::from_secs(1));
        assert_eq!(config.request_timeout, Duration::from_secs(15));
        assert!(!config.access_log);
    }
}
