//! Where canary analysis reads a backend's traffic: the proxies' own one-second reports
//! over the control stream (the default), or a Prometheus server scraping the proxies.

use std::str::FromStr;
use std::time::{Duration, Instant};

use super::prometheus::{Prometheus, PrometheusError};
use crate::control::mesh::Mesh;
use crate::control::traffic::{Aggregate, BackendKey};

/// The value of `meshcd run --canary-metrics`: `proxies` or `prometheus=URL`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum MetricSourceFlag {
    #[default]
    Proxies,
    Prometheus(String),
}

impl FromStr for MetricSourceFlag {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text.split_once('=') {
            None if text == "proxies" => Ok(MetricSourceFlag::Proxies),
            Some(("prometheus", url)) => {
                // Checked here so that a bad URL is a usage error at start-up.
                Prometheus::new(url, Duration::ZERO).map_err(|error| error.to_string())?;
                Ok(MetricSourceFlag::Prometheus(url.to_string()))
            }
            _ => Err(format!(
                "{text:?}: expected `proxies` or `prometheus=http://host:port`"
            )),
        }
    }
}

impl std::fmt::Display for MetricSourceFlag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MetricSourceFlag::Proxies => write!(f, "proxies"),
            MetricSourceFlag::Prometheus(url) => write!(f, "prometheus={url}"),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub enum MetricSource {
    /// The reports the proxies send the reconciler every second.
    #[default]
    Proxies,
    Prometheus(Prometheus),
}

/// Why an interval's traffic could not be read; the interval waits.
#[derive(Debug, thiserror::Error)]
pub enum Unmeasured {
    #[error(transparent)]
    Prometheus(#[from] PrometheusError),
}

impl MetricSource {
    /// `window` is the least a Prometheus analysis looks back (see [`Prometheus`]).
    pub fn from_flag(
        flag: &MetricSourceFlag,
        window: Duration,
    ) -> Result<MetricSource, PrometheusError> {
        Ok(match flag {
            MetricSourceFlag::Proxies => MetricSource::Proxies,
            MetricSourceFlag::Prometheus(url) => {
                MetricSource::Prometheus(Prometheus::new(url, window)?)
            }
        })
    }

    /// The canary backend's traffic from `since` to `now`: from the proxies, what the
    /// backend served cross-checked with its allowed callers' failures (see
    /// [`crate::control::traffic::Traffic::judged`]); from Prometheus, the callers'
    /// client-side metrics (Prometheus scrapes what each proxy says of itself).
    pub async fn traffic(
        &self,
        mesh: &Mesh,
        key: &BackendKey,
        since: Instant,
        now: Instant,
    ) -> Result<Aggregate, Unmeasured> {
        match self {
            MetricSource::Proxies => {
                let callers = mesh.allowed_callers(&key.namespace, &key.backend).await;
                Ok(mesh.traffic.judged(key, since, callers.as_ref()))
            }
            MetricSource::Prometheus(prometheus) => {
                let traffic = prometheus
                    .traffic(key, now.saturating_duration_since(since))
                    .await;
                if let Err(error) = &traffic {
                    let error = meshcd_support::error_chain(error);
                    tracing::warn!(backend = %format!("{}/{}", key.namespace, key.backend), %error, "canary metrics unavailable; the interval waits");
                }
                Ok(traffic?)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_names_the_source_and_refuses_anything_else() {
        assert_eq!(
            "proxies".parse::<MetricSourceFlag>(),
            Ok(MetricSourceFlag::Proxies)
        );
        assert_eq!(
            "prometheus=http://127.0.0.1:9090".parse::<MetricSourceFlag>(),
            Ok(MetricSourceFlag::Prometheus("http://127.0.0.1:9090".into()))
        );
        for bad in ["prometheus", "prometheus=localhost:9090", "datadog=x", ""] {
            assert!(bad.parse::<MetricSourceFlag>().is_err(), "{bad}");
        }
    }
}
