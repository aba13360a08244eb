//! `meshcd top`: a live table of traffic between workloads (requests/s, success rate,
//! p50/p99 per source → destination and per split backend) from the reconciler's
//! `GET /traffic`, the proxies' client-side reports — what `linkerd viz stat` shows.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use anyhow::bail;
use serde::Serialize;

use super::http::call;
use crate::control::traffic::{Edge, Source, TrafficDocument, success_rate};
use crate::defaults;

const REFRESH: Duration = Duration::from_secs(2);
/// Moves the cursor home and clears the screen, so each refresh replaces the last.
const CLEAR: &str = "\x1b[H\x1b[2J";

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only traffic from or to this namespace.
    #[arg(long, short = 'n')]
    pub namespace: Option<String>,
    /// The reconciler's admin URL (`--server`, as for `meshcd status`; `--admin` also works).
    #[arg(long = "server", visible_alias = "admin", default_value = defaults::ADMIN_URL, env = "MESHCD_SERVER")]
    pub admin: String,
    #[command(flatten)]
    pub token: super::admin_token::TokenArgs,
    /// The window the figures are computed over, in seconds (1 to 600).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub window: u64,
    /// Print one table and exit instead of refreshing every 2 seconds.
    #[arg(long)]
    pub once: bool,
    /// text (a live table) or json (one document per refresh).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// One line of the table: a source → destination total, or one of its split backends.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Row {
    pub source: Source,
    pub namespace: String,
    pub service: String,
    /// `None` on a total row; the backend's name on a split backend's row.
    pub backend: Option<String>,
    pub requests: u64,
    pub failures: u64,
    pub requests_per_second: f64,
    pub success_rate: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

fn max(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// Groups edges by (source, destination service); a service reached through a split
/// (some backend named otherwise than the service) gets a row per backend under its total.
pub fn rows(edges: &[Edge], namespace: Option<&str>) -> Vec<Row> {
    let mut groups: BTreeMap<(Source, String, String), Vec<&Edge>> = BTreeMap::new();
    for edge in edges {
        if namespace.is_some_and(|n| edge.namespace != n && edge.source.namespace != n) {
            continue;
        }
        groups
            .entry((
                edge.source.clone(),
                edge.namespace.clone(),
                edge.service.clone(),
            ))
            .or_default()
            .push(edge);
    }
    let mut rows = Vec::new();
    for ((source, namespace, service), mut backends) in groups {
        backends.sort_by(|a, b| a.backend.cmp(&b.backend));
        let requests = backends.iter().map(|e| e.requests).sum();
        let failures = backends.iter().map(|e| e.failures).sum();
        rows.push(Row {
            source: source.clone(),
            namespace: namespace.clone(),
            service: service.clone(),
            backend: None,
            requests,
            failures,
            requests_per_second: backends.iter().map(|e| e.requests_per_second).sum(),
            success_rate: success_rate(requests, failures),
            // Backends report percentiles, not histograms: the largest is an upper bound
            // of the service's, which is what a latency alarm wants.
            p50_ms: backends.iter().fold(None, |acc, e| max(acc, e.p50_ms)),
            p99_ms: backends.iter().fold(None, |acc, e| max(acc, e.p99_ms)),
        });
        if backends.iter().any(|edge| edge.backend != service) {
            for edge in backends {
                rows.push(Row {
                    source: source.clone(),
                    namespace: namespace.clone(),
                    service: service.clone(),
                    backend: Some(edge.backend.clone()),
                    requests: edge.requests,
                    failures: edge.failures,
                    requests_per_second: edge.requests_per_second,
                    success_rate: success_rate(edge.requests, edge.failures),
                    p50_ms: edge.p50_ms,
                    p99_ms: edge.p99_ms,
                });
            }
        }
    }
    rows
}

fn milliseconds(value: Option<f64>) -> String {
    match value {
        None => "-".into(),
        // The top bucket is open-ended: the latency is only known to exceed its bound.
        Some(ms) if !ms.is_finite() => "slow".into(),
        Some(ms) if ms < 10.0 => format!("{ms:.1}ms"),
        Some(ms) => format!("{ms:.0}ms"),
    }
}

/// The table, as text: a header, then one line per row.
pub fn render(rows: &[Row], window_seconds: u64) -> String {
    if rows.is_empty() {
        return format!("no traffic in the last {window_seconds}s\n");
    }
    let header = [
        "SOURCE",
        "DESTINATION",
        "BACKEND",
        "RPS",
        "SUCCESS",
        "P50",
        "P99",
        "REQUESTS",
    ];
    let mut table = vec![header.map(String::from).to_vec()];
    for row in rows {
        let total = row.backend.is_none();
        table.push(vec![
            if total {
                format!("{}/{}", row.source.namespace, row.source.service_account)
            } else {
                String::new()
            },
            if total {
                format!("{}/{}", row.namespace, row.service)
            } else {
                String::new()
            },
            row.backend
                .as_ref()
                .map_or_else(|| "(all)".into(), |backend| format!("↳ {backend}")),
            format!("{:.1}", row.requests_per_second),
            row.success_rate
                .map_or_else(|| "-".into(), |rate| format!("{rate:.2}%")),
            milliseconds(row.p50_ms),
            milliseconds(row.p99_ms),
            row.requests.to_string(),
        ]);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|column| {
            table
                .iter()
                .map(|cells| cells[column].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for cells in &table {
        let mut line = String::new();
        for (column, cell) in cells.iter().enumerate() {
            let pad = widths[column] - cell.chars().count();
            // Text columns align left, figures right.
            if column < 3 {
                let _ = write!(line, "{cell}{}  ", " ".repeat(pad));
            } else {
                let _ = write!(line, "{}{cell}  ", " ".repeat(pad));
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out
}

async fn fetch(
    args: &Args,
    credentials: &super::admin_token::Credentials,
) -> anyhow::Result<(u64, Vec<Row>)> {
    let url = format!(
        "{}/traffic?window={}",
        args.admin.trim_end_matches('/'),
        args.window
    );
    let (code, body) = call("GET", &url, credentials).await?;
    if code != 200 {
        bail!("GET {url} failed with HTTP {code}: {}", body.trim());
    }
    let traffic: TrafficDocument = serde_json::from_str(&body)?;
    Ok((
        traffic.window_seconds,
        rows(&traffic.edges, args.namespace.as_deref()),
    ))
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let credentials = args.token.credentials()?;
    loop {
        let (window, rows) = fetch(&args, &credentials).await?;
        match args.format {
            Format::Json => outln!("{}", serde_json::to_string(&rows)?),
            Format::Text if args.once => out!("{}", render(&rows, window)),
            Format::Text => out!(
                "{CLEAR}traffic over the last {window}s from {} (every {}s; Ctrl-C to stop)\n\n{}",
                args.admin,
                REFRESH.as_secs(),
                render(&rows, window)
            ),
        }
        if args.once {
            return Ok(());
        }
        tokio::select! {
            _ = tokio::time::sleep(REFRESH) => {}
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edge(source: &str, service: &str, backend: &str, requests: u64, failures: u64) -> Edge {
        Edge {
            source: Source {
                namespace: "shop".into(),
                service_account: source.into(),
            },
            namespace: "shop".into(),
            service: service.into(),
            backend: backend.into(),
            requests,
            failures,
            requests_per_second: requests as f64 / 10.0,
            success_rate: success_rate(requests, failures),
            p50_ms: Some(1.0),
            p99_ms: Some(if backend == "api-v2" { 50.0 } else { 5.0 }),
        }
    }

    #[test]
    fn a_split_service_gets_a_total_row_and_one_row_per_backend() {
        let edges = [
            edge("frontend", "api", "api-v2", 100, 10),
            edge("frontend", "api", "api-v1", 900, 0),
        ];
        let rows = rows(&edges, None);
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].backend, None);
        assert_eq!(rows[0].requests, 1000);
        assert_eq!(rows[0].requests_per_second, 100.0);
        assert_eq!(rows[0].success_rate, Some(99.0));
        assert_eq!(
            rows[0].p99_ms,
            Some(50.0),
            "the slowest backend bounds the total"
        );
        assert_eq!(rows[1].backend.as_deref(), Some("api-v1"));
        assert_eq!(rows[2].backend.as_deref(), Some("api-v2"));
        assert_eq!(rows[2].success_rate, Some(90.0));

        let text = render(&rows, 10);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "SOURCE         DESTINATION  BACKEND     RPS  SUCCESS    P50    P99  REQUESTS",
                "shop/frontend  shop/api     (all)     100.0   99.00%  1.0ms   50ms      1000",
                "                            ↳ api-v1   90.0  100.00%  1.0ms  5.0ms       900",
                "                            ↳ api-v2   10.0   90.00%  1.0ms   50ms       100",
            ]
            .map(|line| line.to_string()),
            "{text}"
        );
    }

    #[test]
    fn a_service_without_split_is_one_row_and_the_namespace_filter_keeps_both_directions() {
        let mut other = edge("web", "checkout", "checkout", 20, 0);
        other.namespace = "payments".into();
        other.source.namespace = "store".into();
        let edges = [edge("frontend", "api", "api", 50, 0), other];
        assert_eq!(rows(&edges, None).len(), 2);
        let shop = rows(&edges, Some("shop"));
        assert_eq!(shop.len(), 1);
        assert_eq!(shop[0].service, "api");
        assert_eq!(
            rows(&edges, Some("store")).len(),
            1,
            "by the caller's namespace"
        );
        assert_eq!(
            rows(&edges, Some("payments")).len(),
            1,
            "by the destination's"
        );
        assert!(rows(&edges, Some("elsewhere")).is_empty());
    }

    #[test]
    fn no_traffic_says_so_and_unknown_latency_is_a_dash() {
        assert_eq!(render(&[], 10), "no traffic in the last 10s\n");
        let mut quiet = edge("frontend", "api", "api", 1, 1);
        quiet.p50_ms = None;
        quiet.p99_ms = Some(f64::INFINITY);
        let text = render(&rows(&[quiet], None), 10);
        assert!(text.contains("0.00%    -  slow"), "{text}");
    }
}
