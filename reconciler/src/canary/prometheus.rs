//! Canary traffic read from a Prometheus server: PromQL instant queries over the proxies'
//! own metrics (`meshcd_proxy_*`), as the calling (client-side) proxies counted them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::Full;

use crate::control::traffic::{Aggregate, BackendKey};
use crate::http_client::{ClientError, HttpClient, Limits};

/// How long an analysis's queries may take before the interval is judged unmeasured.
const QUERY_TIMEOUT: Duration = Duration::from_secs(3);
/// A query summed to one series answers in well under a kilobyte; 1 MiB leaves room for
/// a verbose error page and still bounds what a wrong or hostile server makes us buffer.
const ANSWER_BODY_LIMIT: usize = 1024 * 1024;
const QUERY_LIMITS: Limits = Limits {
    timeout: QUERY_TIMEOUT,
    body: ANSWER_BODY_LIMIT,
};

#[derive(Debug, thiserror::Error)]
pub enum PrometheusError {
    #[error("{0:?} is not a Prometheus URL (expected http://host:port[/prefix])")]
    InvalidUrl(String),
    #[error("connecting to Prometheus at {url}")]
    Connect {
        url: String,
        #[source]
        source: std::io::Error,
    },
    #[error("Prometheus at {url} did not answer within {QUERY_TIMEOUT:?}")]
    Timeout { url: String },
    #[error(
        "Prometheus at {url} answered more than {ANSWER_BODY_LIMIT} bytes (the answer size limit)"
    )]
    TooLarge { url: String },
    #[error("talking to Prometheus at {url}")]
    Http {
        url: String,
        #[source]
        source: ClientError,
    },
    #[error("Prometheus at {url} answered HTTP {status}: {body}")]
    Status {
        url: String,
        status: u16,
        body: String,
    },
    #[error("Prometheus at {url} rejected the query ({error_type}): {error}")]
    Query {
        url: String,
        error_type: String,
        error: String,
    },
    #[error("Prometheus at {url} answered something that is not a query result: {detail}")]
    Malformed { url: String, detail: String },
}

/// A Prometheus server's HTTP API.
#[derive(Debug, Clone)]
pub struct Prometheus {
    client: HttpClient,
    /// `host:port`.
    authority: String,
    /// Path prefix the API lives under (`/prometheus` behind some ingresses), no trailing `/`.
    prefix: String,
    /// Each analysis looks at least this far back, so that `increase()` sees two samples
    /// even when the canary's interval is shorter than two scrape intervals.
    window: Duration,
}

/// The PromQL an analysis runs for one backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queries {
    pub requests: String,
    pub failures: String,
    pub p50: String,
    pub p99: String,
}

impl Prometheus {
    /// `url` is `http://host:port` with an optional path prefix.
    pub fn new(url: &str, window: Duration) -> Result<Prometheus, PrometheusError> {
        let invalid = || PrometheusError::InvalidUrl(url.to_string());
        let uri: hyper::Uri = url.parse().map_err(|_| invalid())?;
        // TLS and credentials are left to a sidecar or a local Prometheus: the URL is
        // shown in status and logs, so it must not carry a secret.
        if uri.scheme_str() != Some("http") || uri.query().is_some() {
            return Err(invalid());
        }
        let authority = uri.authority().ok_or_else(invalid)?;
        if authority.as_str().contains('@') {
            return Err(invalid());
        }
        Ok(Prometheus {
            client: HttpClient::plain(),
            authority: authority.to_string(),
            prefix: uri.path().trim_end_matches('/').to_string(),
            window,
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}{}", self.authority, self.prefix)
    }

    /// The canary backend's traffic over the interval that ended now (`elapsed` long,
    /// widened to the configured window).
    pub async fn traffic(
        &self,
        key: &BackendKey,
        elapsed: Duration,
    ) -> Result<Aggregate, PrometheusError> {
        let queries = queries(key, elapsed.max(self.window));
        // One evaluation time for all four, so the figures describe the same window.
        let at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64();
        // Concurrently and under one deadline: the controller holds its rollouts while it
        // measures, so a slow Prometheus must not hold `/status` and operator commands.
        let (requests, failures, p50, p99) = tokio::time::timeout(QUERY_TIMEOUT, async {
            tokio::try_join!(
                self.query(&queries.requests, at),
                self.query(&queries.failures, at),
                self.query(&queries.p50, at),
                self.query(&queries.p99, at),
            )
        })
        .await
        .map_err(|_| PrometheusError::Timeout { url: self.url() })??;
        // increase() extrapolates to the window's edges, so counts come back fractional.
        let count = |value: Option<f64>| value.map_or(0, |v| v.max(0.0).round() as u64);
        let millis = |value: Option<f64>| value.map(|seconds| seconds * 1000.0);
        Ok(Aggregate {
            requests: count(requests),
            failures: count(failures),
            p50_ms: millis(p50),
            p99_ms: millis(p99),
        })
    }

    /// Runs an instant query whose answer is one number; `None` when the vector is empty
    /// or the value is NaN (no samples in the window).
    pub async fn query(&self, promql: &str, at: f64) -> Result<Option<f64>, PrometheusError> {
        let path = format!(
            "{}/api/v1/query?query={}&time={at:.3}",
            self.prefix,
            encode(promql)
        );
        let (status, body) = self.get(&path).await?;
        parse_answer(&self.url(), status, &body)
    }

    async fn get(&self, path: &str) -> Result<(u16, Bytes), PrometheusError> {
        let url = self.url();
        let request = hyper::Request::get(format!("http://{}{path}", self.authority))
            .header(hyper::header::ACCEPT, "application/json")
            .body(Full::new(Bytes::new()))
            .map_err(|error| PrometheusError::Malformed {
                url: url.clone(),
                detail: error.to_string(),
            })?;
        let answer =
            self.client
                .send(request, QUERY_LIMITS)
                .await
                .map_err(|error| match error {
                    ClientError::Connect { source, .. } => PrometheusError::Connect { url, source },
                    ClientError::Timeout { .. } => PrometheusError::Timeout { url },
                    ClientError::TooLarge { .. } => PrometheusError::TooLarge { url },
                    source => PrometheusError::Http { url, source },
                })?;
        Ok((answer.status.as_u16(), answer.body))
    }
}

/// The queries for `key` over `window`: responses the calling proxies (`direction=
/// "outbound"`, any source) got from the canary backend, those of class 5xx (the
/// client proxies' own 502/503/504 for refused connections and timeouts included), and
/// the latency quantiles from the histogram's buckets.
pub fn queries(key: &BackendKey, window: Duration) -> Queries {
    let selector = format!(
        r#"direction="outbound",destination="{}",backend="{}""#,
        escape(&format!("{}.{}", key.service, key.namespace)),
        escape(&format!("{}.{}", key.backend, key.namespace)),
    );
    let range = format!("{}ms", window.as_millis().max(1));
    let quantile = |q: &str| {
        format!(
            "histogram_quantile({q}, sum by (le) (increase(meshcd_proxy_request_duration_seconds_bucket{{{selector}}}[{range}])))"
        )
    };
    Queries {
        requests: format!("sum(increase(meshcd_proxy_responses_total{{{selector}}}[{range}]))"),
        failures: format!(
            r#"sum(increase(meshcd_proxy_responses_total{{{selector},status_class="5xx"}}[{range}]))"#
        ),
        p50: quantile("0.5"),
        p99: quantile("0.99"),
    }
}

fn parse_answer(url: &str, status: u16, body: &[u8]) -> Result<Option<f64>, PrometheusError> {
    let malformed = |detail: String| PrometheusError::Malformed {
        url: url.to_string(),
        detail,
    };
    let Ok(answer) = serde_json::from_slice::<serde_json::Value>(body) else {
        // Not the API's JSON: a proxy's error page, a wrong port.
        return Err(if status == 200 {
            malformed("the body is not JSON".into())
        } else {
            PrometheusError::Status {
                url: url.to_string(),
                status,
                body: String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
            }
        });
    };
    if answer["status"] != "success" {
        return Err(PrometheusError::Query {
            url: url.to_string(),
            error_type: answer["errorType"].as_str().unwrap_or("unknown").into(),
            error: answer["error"].as_str().unwrap_or("no reason given").into(),
        });
    }
    let result = &answer["data"]["result"];
    let samples = match answer["data"]["resultType"].as_str() {
        Some("vector") => result
            .as_array()
            .ok_or_else(|| malformed("a vector without samples".into()))?
            .iter()
            .map(|sample| &sample["value"])
            .collect::<Vec<_>>(),
        Some("scalar") => vec![result],
        other => return Err(malformed(format!("result type {other:?}"))),
    };
    match samples.as_slice() {
        [] => Ok(None),
        [value] => {
            let text = value[1]
                .as_str()
                .ok_or_else(|| malformed(format!("sample {value}")))?;
            let number: f64 = text
                .parse()
                .map_err(|_| malformed(format!("value {text:?}")))?;
            Ok((!number.is_nan()).then_some(number))
        }
        more => Err(malformed(format!(
            "{} series where the query sums to one",
            more.len()
        ))),
    }
}

/// Escapes a PromQL string literal's content.
fn escape(value: &str) -> String {
    value.replace('\\', r"\\").replace('"', "\\\"")
}

/// Percent-encodes a query parameter (RFC 3986 unreserved characters pass).
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 2);
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> BackendKey {
        BackendKey {
            namespace: "shop".into(),
            service: "api".into(),
            backend: "api-v2".into(),
        }
    }

    #[test]
    fn queries_select_the_canary_backend_as_the_calling_proxies_saw_it() {
        let queries = queries(&key(), Duration::from_secs(3));
        assert_eq!(
            queries.requests,
            r#"sum(increase(meshcd_proxy_responses_total{direction="outbound",destination="api.shop",backend="api-v2.shop"}[3000ms]))"#
        );
        assert!(
            queries.failures.contains(r#"status_class="5xx"}[3000ms]"#),
            "{}",
            queries.failures
        );
        assert_eq!(
            queries.p99,
            r#"histogram_quantile(0.99, sum by (le) (increase(meshcd_proxy_request_duration_seconds_bucket{direction="outbound",destination="api.shop",backend="api-v2.shop"}[3000ms])))"#
        );
    }

    #[test]
    fn urls_with_a_prefix_keep_it_and_others_are_refused() {
        let with_prefix = Prometheus::new("http://127.0.0.1:9090/prom/", Duration::ZERO).unwrap();
        assert_eq!(with_prefix.url(), "http://127.0.0.1:9090/prom");
        for bad in [
            "https://prometheus:9090",
            "http://user:secret@prometheus:9090",
            "prometheus:9090",
            "http://prometheus:9090/?x=1",
        ] {
            assert!(Prometheus::new(bad, Duration::ZERO).is_err(), "{bad}");
        }
    }

    #[test]
    fn answers_are_read_as_one_number_or_none() {
        let url = "http://prometheus";
        let vector = br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000.1,"41.7"]}]}}"#;
        assert_eq!(parse_answer(url, 200, vector).unwrap(), Some(41.7));
        let empty = br#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
        assert_eq!(parse_answer(url, 200, empty).unwrap(), None);
        let nan = br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"NaN"]}]}}"#;
        assert_eq!(parse_answer(url, 200, nan).unwrap(), None);
        let error = br#"{"status":"error","errorType":"bad_data","error":"parse error at char 4"}"#;
        let message = parse_answer(url, 400, error).unwrap_err().to_string();
        assert!(
            message.contains("bad_data") && message.contains("parse error"),
            "{message}"
        );
        let page = parse_answer(url, 502, b"<html>bad gateway</html>").unwrap_err();
        assert!(
            matches!(page, PrometheusError::Status { status: 502, .. }),
            "{page}"
        );
    }

    #[test]
    fn query_parameters_are_percent_encoded() {
        assert_eq!(encode(r#"a{b="c"}[1s]"#), "a%7Bb%3D%22c%22%7D%5B1s%5D");
    }
}
