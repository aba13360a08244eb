//! `meshcd top`: a live table of traffic between workloads (requests/s, success rate,
//! p50/p99 per source → destination and per split backend, and what resilience policies
//! did to the calls) from the reconciler's `GET /traffic`, the proxies' reports — what
//! `linkerd viz stat` shows.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use anyhow::bail;
use serde::Serialize;

use super::http::call;
use crate::control::traffic::{Edge, PolicyCounts, Source, TrafficDocument, success_rate};
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

/// One line of the table: a source → destination total, or one of its split backends;
/// or what a rate-limited service's own proxies served.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Row {
    pub side: Side,
    /// The caller; on a served row, the serving identity.
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
    /// What policies did: the caller's on a client row, the server's rate limit on a
    /// served one.
    #[serde(flatten)]
    pub policy: PolicyCounts,
}

/// Whose account a row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// What the caller's proxies sent.
    Client,
    /// What the destination's own proxies served, from every caller: only a rate limit's
    /// refusals are known there, not to which caller they went.
    Served,
}

fn max(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// Groups edges by (source, destination service); a service reached through a split
/// (some backend named otherwise than the service) gets a row per backend under its total.
/// Then a served row for each service whose proxies refused requests over its rate limit.
pub fn rows(traffic: &TrafficDocument, namespace: Option<&str>) -> Vec<Row> {
    let mut groups: BTreeMap<(Source, String, String), Vec<&Edge>> = BTreeMap::new();
    for edge in &traffic.edges {
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
        let mut policy = PolicyCounts::default();
        for edge in &backends {
            policy.add(&edge.policy);
        }
        rows.push(Row {
            side: Side::Client,
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
            policy,
        });
        if backends.iter().any(|edge| edge.backend != service) {
            for edge in backends {
                rows.push(Row {
                    side: Side::Client,
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
                    policy: edge.policy,
                });
            }
        }
    }
    let limited = traffic.served.iter().filter(|served| {
        served.policy.rate_limited > 0 && namespace.is_none_or(|n| served.namespace == n)
    });
    rows.extend(limited.map(|served| Row {
        side: Side::Served,
        source: served.server.clone(),
        namespace: served.namespace.clone(),
        service: served.service.clone(),
        backend: None,
        requests: served.requests,
        failures: served.failures,
        requests_per_second: served.requests_per_second,
        success_rate: served.success_rate,
        p50_ms: served.p50_ms,
        p99_ms: served.p99_ms,
        policy: served.policy,
    }));
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

/// A column of policy counts, shown only when some row of its table has one.
type CountColumn = (&'static str, fn(&PolicyCounts) -> u64);

/// What the callers' policies did: retries sent, retries the budget refused, calls a
/// circuit breaker answered with 503, calls a Fault aborted or delayed.
const CLIENT_COUNTS: [CountColumn; 4] = [
    ("RETRIES", |p| p.retries),
    ("NO-BUDGET", |p| p.retries_refused),
    ("BREAKER-503", |p| p.overflows),
    ("FAULTS", |p| p.faults_injected),
];

/// Requests the serving proxies refused over the service's rate limit (429 unless the
/// UpstreamTrafficSetting says otherwise).
const SERVED_COUNTS: [CountColumn; 1] = [("RATE-LIMITED", |p| p.rate_limited)];

/// The tables, as text: the callers' rows, then (when a rate limit refused requests) the
/// served rows, each a header and one line per row.
pub fn render(rows: &[Row], window_seconds: u64) -> String {
    if rows.is_empty() {
        return format!("no traffic in the last {window_seconds}s\n");
    }
    let (client, served): (Vec<&Row>, Vec<&Row>) =
        rows.iter().partition(|row| row.side == Side::Client);
    let mut out = String::new();
    if !client.is_empty() {
        let header = ["SOURCE", "DESTINATION", "BACKEND"];
        out += &table(&header, &client, &CLIENT_COUNTS);
    }
    if !served.is_empty() {
        if !out.is_empty() {
            out.push('\n');
        }
        out += &table(&["SERVED BY", "SERVICE", ""], &served, &SERVED_COUNTS);
    }
    out
}

/// One table: three text columns named `names` (the third dropped when empty), the
/// figures, and each of `counts` that some row has.
fn table(names: &[&str; 3], rows: &[&Row], counts: &[CountColumn]) -> String {
    let counts: Vec<&CountColumn> = counts
        .iter()
        .filter(|(_, count)| rows.iter().any(|row| count(&row.policy) > 0))
        .collect();
    let text_columns = if names[2].is_empty() { 2 } else { 3 };
    let mut header: Vec<String> = names[..text_columns]
        .iter()
        .map(|n| n.to_string())
        .collect();
    header.extend(["RPS", "SUCCESS", "P50", "P99", "REQUESTS"].map(String::from));
    header.extend(counts.iter().map(|(name, _)| name.to_string()));
    let mut table = vec![header];
    for row in rows {
        let total = row.backend.is_none();
        let mut cells = vec![
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
        ];
        cells.truncate(text_columns);
        cells.extend([
            format!("{:.1}", row.requests_per_second),
            row.success_rate
                .map_or_else(|| "-".into(), |rate| format!("{rate:.2}%")),
            milliseconds(row.p50_ms),
            milliseconds(row.p99_ms),
            row.requests.to_string(),
        ]);
        cells.extend(
            counts
                .iter()
                .map(|(_, count)| count(&row.policy).to_string()),
        );
        table.push(cells);
    }
    aligned(&table, text_columns)
}

/// The cells in columns as wide as their widest cell: text aligned left (the first
/// `text_columns`), figures right.
fn aligned(table: &[Vec<String>], text_columns: usize) -> String {
    let widths: Vec<usize> = (0..table[0].len())
        .map(|column| {
            table
                .iter()
                .map(|cells| cells[column].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for cells in table {
        let mut line = String::new();
        for (column, cell) in cells.iter().enumerate() {
            let pad = " ".repeat(widths[column] - cell.chars().count());
            if column < text_columns {
                let _ = write!(line, "{cell}{pad}  ");
            } else {
                let _ = write!(line, "{pad}{cell}  ");
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
        rows(&traffic, args.namespace.as_deref()),
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
    use crate::control::traffic::Served;

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
            policy: PolicyCounts::default(),
        }
    }

    fn document(edges: Vec<Edge>, served: Vec<Served>) -> TrafficDocument {
        TrafficDocument {
            window_seconds: 10,
            edges,
            served,
        }
    }

    fn of(edges: &[Edge], namespace: Option<&str>) -> Vec<Row> {
        rows(&document(edges.to_vec(), Vec::new()), namespace)
    }

    #[test]
    fn a_split_service_gets_a_total_row_and_one_row_per_backend() {
        let edges = [
            edge("frontend", "api", "api-v2", 100, 10),
            edge("frontend", "api", "api-v1", 900, 0),
        ];
        let rows = of(&edges, None);
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
        assert_eq!(of(&edges, None).len(), 2);
        let shop = of(&edges, Some("shop"));
        assert_eq!(shop.len(), 1);
        assert_eq!(shop[0].service, "api");
        assert_eq!(
            of(&edges, Some("store")).len(),
            1,
            "by the caller's namespace"
        );
        assert_eq!(
            of(&edges, Some("payments")).len(),
            1,
            "by the destination's"
        );
        assert!(of(&edges, Some("elsewhere")).is_empty());
    }

    #[test]
    fn no_traffic_says_so_and_unknown_latency_is_a_dash() {
        assert_eq!(render(&[], 10), "no traffic in the last 10s\n");
        let mut quiet = edge("frontend", "api", "api", 1, 1);
        quiet.p50_ms = None;
        quiet.p99_ms = Some(f64::INFINITY);
        let text = render(&of(&[quiet], None), 10);
        assert!(text.contains("0.00%    -  slow"), "{text}");
    }

    fn served(service: &str, requests: u64, rate_limited: u64) -> Served {
        Served {
            server: Source {
                namespace: "shop".into(),
                service_account: "api".into(),
            },
            namespace: "shop".into(),
            service: service.into(),
            requests,
            failures: 0,
            requests_per_second: requests as f64 / 10.0,
            success_rate: success_rate(requests, 0),
            p50_ms: Some(1.0),
            p99_ms: Some(5.0),
            policy: PolicyCounts {
                rate_limited,
                ..PolicyCounts::default()
            },
        }
    }

    #[test]
    fn policy_columns_appear_when_a_row_has_a_count_and_totals_add_up_the_backends() {
        let mut v1 = edge("frontend", "api", "api-v1", 900, 0);
        v1.policy.retries = 12;
        v1.policy.retries_refused = 2;
        let mut v2 = edge("frontend", "api", "api-v2", 100, 10);
        v2.policy.retries = 3;
        v2.policy.overflows = 7;
        let traffic = document(
            vec![v1, v2],
            vec![served("api-v1", 900, 40), served("api-v2", 100, 0)],
        );
        let rows = rows(&traffic, Some("shop"));
        assert_eq!(
            rows.len(),
            4,
            "the served row of api-v1 only: api-v2 refused none"
        );
        assert_eq!((rows[0].policy.retries, rows[0].policy.overflows), (15, 7));
        assert_eq!(rows[3].side, Side::Served);

        let text = render(&rows, 10);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "SOURCE         DESTINATION  BACKEND     RPS  SUCCESS    P50    P99  REQUESTS  RETRIES  NO-BUDGET  BREAKER-503",
                "shop/frontend  shop/api     (all)     100.0   99.00%  1.0ms   50ms      1000       15          2            7",
                "                            ↳ api-v1   90.0  100.00%  1.0ms  5.0ms       900       12          2            0",
                "                            ↳ api-v2   10.0   90.00%  1.0ms   50ms       100        3          0            7",
                "",
                "SERVED BY  SERVICE       RPS  SUCCESS    P50    P99  REQUESTS  RATE-LIMITED",
                "shop/api   shop/api-v1  90.0  100.00%  1.0ms  5.0ms       900            40",
            ]
            .map(|line| line.to_string()),
            "{text}"
        );

        let json = serde_json::to_value(&rows).unwrap();
        assert_eq!(json[0]["side"], "client");
        assert_eq!(json[0]["retriesRefused"], 2);
        assert_eq!(json[0]["faultsInjected"], 0);
        assert_eq!(json[3]["side"], "served");
        assert_eq!(json[3]["source"]["serviceAccount"], "api");
        assert_eq!(json[3]["rateLimited"], 40);
    }
}
