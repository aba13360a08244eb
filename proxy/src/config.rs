//! The proxy's command line: every setting, its environment variable and its default.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

/// Environment variable names, one per flag: the contract with the sidecar injector,
/// which sets them, so they live in `meshcd-schemas`.
pub use meshcd_schemas::proxy_env as env;

/// Defaults (design §9): the sidecar ports of a pod or network namespace.
pub mod defaults {
    pub const OUTBOUND: &str = "127.0.0.1:15001";
    pub const INBOUND: &str = "127.0.0.1:15003";
    pub const ADMIN: &str = "127.0.0.1:15000";
    pub const CONNECT_TIMEOUT: &str = "1s";
    pub const REQUEST_TIMEOUT: &str = "15s";
    pub const LOG: &str = "info";
    pub const CONTROL_PLANE_NAME: &str = "localhost";
    pub const SERVICE_ACCOUNT: &str = "default";
    pub const MAX_CONNECTIONS: &str = "10000";
}

/// meshcd's sidecar proxy: routes the local app's calls into the mesh over mTLS and
/// authorizes the calls that reach it. It runs from files (`--snapshot`, `--cert`,
/// `--key`) or joined to a control plane (`--join`), which issues its certificate and
/// streams its snapshots.
#[derive(Debug, Clone, Parser)]
#[command(name = "meshcd-proxy", version, about)]
pub struct Config {
    /// Snapshot file (protobuf JSON mapping of meshcd.v1.Snapshot); reloaded on change.
    #[arg(long, env = env::SNAPSHOT, value_name = "FILE", required_unless_present = "join",
          conflicts_with = "join", requires_all = ["cert", "key"])]
    pub snapshot: Option<PathBuf>,

    /// PEM workload certificate chain; the leaf carries the SPIFFE URI SAN.
    #[arg(long, env = env::CERT, value_name = "FILE", conflicts_with = "join")]
    pub cert: Option<PathBuf>,

    /// PEM PKCS#8 private key of the workload certificate.
    #[arg(long, env = env::KEY, value_name = "FILE", conflicts_with = "join")]
    pub key: Option<PathBuf>,

    /// PEM certificate(s) of the mesh CA (with --join: the CA the control plane's
    /// certificate must chain to).
    #[arg(long, env = env::CA_BUNDLE, value_name = "FILE")]
    pub ca_bundle: PathBuf,

    /// Join the control plane at this host:port (TLS) instead of reading files.
    #[arg(long, env = env::JOIN, value_name = "ADDR",
          requires_all = ["namespace", "services"])]
    pub join: Option<String>,

    /// The name the control plane's certificate must carry.
    #[arg(long, env = env::CONTROL_PLANE_NAME, value_name = "NAME",
          default_value = defaults::CONTROL_PLANE_NAME)]
    pub control_plane_name: String,

    /// Bootstrap token proving the workload's identity (`meshcd token create`).
    #[arg(long, env = env::TOKEN, value_name = "TOKEN", hide_env_values = true,
          conflicts_with = "token_file")]
    pub token: Option<String>,

    /// A file holding the token, read again for every join and certificate renewal: a
    /// Kubernetes projected service-account token is replaced before it expires.
    #[arg(long, env = env::TOKEN_FILE, value_name = "FILE")]
    pub token_file: Option<PathBuf>,

    /// The workload's namespace.
    #[arg(long, env = env::NAMESPACE)]
    pub namespace: Option<String>,

    /// The workload's service account.
    #[arg(long, env = env::SERVICE_ACCOUNT, default_value = defaults::SERVICE_ACCOUNT)]
    pub service_account: String,

    /// A service the workload belongs to (repeat for several).
    #[arg(long = "service", env = env::SERVICES, value_name = "NAME", value_delimiter = ',')]
    pub services: Vec<String>,

    /// SERVICE_PORT=APP_ADDRESS/PROTOCOL (http or tcp), e.g. 80=127.0.0.1:8080/http.
    #[arg(long = "port", env = env::PORTS, value_name = "PORT=ADDR/PROTO",
          value_delimiter = ',', value_parser = parse_port)]
    pub ports: Vec<WorkloadPort>,

    /// A stable id for this proxy (default: derived from its identity and address).
    #[arg(long, env = env::PROXY_ID)]
    pub proxy_id: Option<String>,

    /// The inbound address peers should dial, when it differs from the listener's.
    #[arg(long, env = env::ADVERTISE, value_name = "ADDR")]
    pub advertise: Option<SocketAddr>,

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

    /// Connections each listener (inbound, outbound, admin, every TCP service's) holds
    /// open at most; one past it is closed at once and counted in
    /// meshcd_proxy_connections_refused_total, while the open ones keep being served.
    #[arg(long, env = env::MAX_CONNECTIONS, value_name = "N",
          default_value = defaults::MAX_CONNECTIONS,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,

    /// The app's Kubernetes probes, answered on the admin port at their paths: a JSON
    /// map from `/app-health/CONTAINER/KIND` to `{"port": P, "path": "/healthz"}` (no
    /// path: a TCP connect). The sidecar injector sets it.
    #[arg(long, env = env::APP_PROBES, value_name = "JSON",
          value_parser = crate::app_probe::parse)]
    pub app_probes: Option<crate::app_probe::AppProbes>,

    /// Log filter (tracing EnvFilter syntax); logs go to stderr.
    #[arg(long, env = env::LOG, value_name = "FILTER", default_value = defaults::LOG)]
    pub log: String,
}

/// One `--port`: what clients call, where the app listens, and how to treat it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkloadPort {
    pub service_port: u16,
    pub app_address: SocketAddr,
    pub tcp: bool,
}

/// Parses `80=127.0.0.1:8080/http`.
pub fn parse_port(text: &str) -> Result<WorkloadPort, String> {
    let usage = || {
        format!("{text:?} is not SERVICE_PORT=APP_ADDRESS/PROTOCOL (e.g. 80=127.0.0.1:8080/http)")
    };
    let (port, rest) = text.split_once('=').ok_or_else(usage)?;
    let (address, protocol) = rest.rsplit_once('/').unwrap_or((rest, "http"));
    let service_port: u16 = port.parse().ok().filter(|p| *p > 0).ok_or_else(usage)?;
    let app_address: SocketAddr = address.parse().map_err(|_| usage())?;
    let tcp = match protocol {
        "http" => false,
        "tcp" => true,
        _ => return Err(format!("{text:?}: protocol must be http or tcp")),
    };
    Ok(WorkloadPort {
        service_port,
        app_address,
        tcp,
    })
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
        other => {
            return Err(format!(
                "unknown duration unit {other:?} (use ms, s, m or h)"
            ));
        }
    };
    if !seconds.is_finite() || seconds <= 0.0 {
        return Err(format!("{text:?} must be a positive duration"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    /// Every flag says what it does in `--help`.
    #[test]
    fn every_flag_has_help_text() {
        let command = <Config as clap::CommandFactory>::command();
        let missing: Vec<&str> = command
            .get_arguments()
            .filter(|argument| !matches!(argument.get_id().as_str(), "help" | "version"))
            .filter(|argument| argument.get_help().is_none() && argument.get_long_help().is_none())
            .map(|argument| argument.get_id().as_str())
            .collect();
        assert!(missing.is_empty(), "without help text: {missing:?}");
    }

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
            "meshcd-proxy",
            "--snapshot",
            "s.json",
            "--cert",
            "c.pem",
            "--key",
            "k.pem",
            "--ca-bundle",
            "ca.pem",
        ])
        .unwrap();
        assert_eq!(config.outbound.port(), 15001);
        assert_eq!(config.inbound.port(), 15003);
        assert_eq!(config.admin.port(), 15000);
        assert_eq!(config.connect_timeout, Duration::from_secs(1));
        assert_eq!(config.request_timeout, Duration::from_secs(15));
        assert!(!config.access_log);
        assert_eq!(config.max_connections, 10_000);
    }

    #[test]
    fn join_mode_needs_no_files_but_an_identity() {
        let config = Config::try_parse_from([
            "meshcd-proxy",
            "--join",
            "127.0.0.1:15012",
            "--ca-bundle",
            "ca.pem",
            "--token",
            "t",
            "--namespace",
            "shop",
            "--service",
            "api",
            "--service",
            "api-v1",
            "--port",
            "80=127.0.0.1:8080/http",
            "--port",
            "5432=127.0.0.1:5432/tcp",
        ])
        .unwrap();
        assert_eq!(config.services, vec!["api", "api-v1"]);
        assert_eq!(config.service_account, "default");
        assert!(config.ports[1].tcp);
        assert!(
            Config::try_parse_from(["meshcd-proxy", "--join", "x:1", "--ca-bundle", "ca.pem"])
                .is_err()
        );
        assert!(Config::try_parse_from(["meshcd-proxy", "--ca-bundle", "ca.pem"]).is_err());
    }

    #[test]
    fn ports_parse_with_their_protocol() {
        assert_eq!(parse_port("80=127.0.0.1:8080").unwrap().service_port, 80);
        assert!(parse_port("80=127.0.0.1:8080/udp").is_err());
        assert!(parse_port("0=127.0.0.1:8080/http").is_err());
        assert!(parse_port("nonsense").is_err());
    }
}
