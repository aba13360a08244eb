//! Tells the outside world how rollouts go: the canary metrics, a log line per analysis,
//! and the optional webhook that receives a JSON document on each outcome.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;

use meshcd_support::Backoff;

use super::metrics::CanaryMetrics;
use super::rollout::{Rollout, Verdict};
use crate::http_client::{ClientError, HttpClient, Limits};

/// Attempts per notification; the waits between them double from [`FIRST_BACKOFF`] up to
/// [`MAX_BACKOFF`].
const ATTEMPTS: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// A receiver that accepts the connection but never answers must not hold a delivery.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// Only the status matters; the body is read (so that the connection can be reused) up
/// to a size no acknowledgement needs.
const ANSWER_BODY_LIMIT: usize = 64 * 1024;
const ATTEMPT_LIMITS: Limits = Limits {
    timeout: ATTEMPT_TIMEOUT,
    body: ANSWER_BODY_LIMIT,
};

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("{0}: expected an http:// or https:// URL with a host")]
    Url(String),
    #[error("reading the CA bundle {path}")]
    CaFile {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the CA bundle {path} is not valid PEM")]
    CaPem {
        path: String,
        #[source]
        source: rustls::pki_types::pem::Error,
    },
    #[error("the CA bundle {0} holds no certificate")]
    CaEmpty(String),
    #[error("no usable system root certificate")]
    NoSystemRoots,
    #[error("building the TLS client")]
    Tls(#[from] rustls::Error),
}

/// Why one attempt failed.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("building the request")]
    Request(#[from] http::Error),
    /// Connect (TCP or TLS), timeout, body limit, or HTTP.
    #[error(transparent)]
    Exchange(#[from] ClientError),
    #[error("the receiver answered HTTP {0}")]
    Status(u16),
}

/// The `--canary-webhook` value parser: a usage error before anything starts.
pub fn parse_url(text: &str) -> Result<String, String> {
    let uri: hyper::Uri = text
        .parse()
        .map_err(|_| WebhookError::Url(text.into()).to_string())?;
    match (uri.scheme_str(), uri.host()) {
        (Some("http" | "https"), Some(host)) if !host.is_empty() => Ok(text.to_string()),
        _ => Err(WebhookError::Url(text.into()).to_string()),
    }
}

/// Where outcome documents are POSTed.
pub struct Webhook {
    uri: hyper::Uri,
    /// Trusts `--canary-webhook-ca`, else the system roots.
    client: HttpClient,
    first_backoff: Duration,
    limits: Limits,
}

impl Webhook {
    /// `ca_file` replaces the system roots for an https:// receiver (a private CA).
    pub fn new(url: &str, ca_file: Option<&Path>) -> Result<Webhook, WebhookError> {
        let uri: hyper::Uri = url.parse().map_err(|_| WebhookError::Url(url.into()))?;
        let secure = match uri.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            _ => return Err(WebhookError::Url(url.into())),
        };
        if uri.host().is_none_or(str::is_empty) {
            return Err(WebhookError::Url(url.into()));
        }
        // An http:// receiver needs no roots: loading the system's would only cost.
        let roots = if secure {
            roots(ca_file)?
        } else {
            rustls::RootCertStore::empty()
        };
        Ok(Webhook {
            uri,
            client: HttpClient::with_roots(roots)?,
            first_backoff: FIRST_BACKOFF,
            limits: ATTEMPT_LIMITS,
        })
    }

    /// The URL without its path and query, which may carry a token: for logs.
    fn describe(&self) -> String {
        format!(
            "{}://{}",
            self.uri.scheme_str().unwrap_or("http"),
            self.uri.authority().map(|a| a.as_str()).unwrap_or("")
        )
    }

    /// One POST; any status outside 2xx is a failure.
    pub async fn post(&self, body: Bytes) -> Result<u16, DeliveryError> {
        let request = hyper::Request::post(self.uri.clone())
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .header(
                hyper::header::USER_AGENT,
                format!("meshcd/{}", crate::VERSION),
            )
            .body(Full::new(body))?;
        let status = self
            .client
            .send(request, self.limits)
            .await?
            .status
            .as_u16();
        if (200..300).contains(&status) {
            Ok(status)
        } else {
            Err(DeliveryError::Status(status))
        }
    }

    /// Delivers in the background, retrying with backoff; the controller never waits.
    pub fn deliver(self: &Arc<Self>, document: serde_json::Value, metrics: CanaryMetrics) {
        let webhook = self.clone();
        tokio::spawn(async move {
            let body = Bytes::from(serde_json::to_vec(&document).unwrap_or_default());
            let canary = format!("{}/{}", document["namespace"], document["canary"]);
            let mut backoff = Backoff::new(webhook.first_backoff, MAX_BACKOFF);
            for attempt in 1..=ATTEMPTS {
                match webhook.post(body.clone()).await {
                    Ok(status) => {
                        tracing::info!(%canary, receiver = %webhook.describe(), status, attempt, "canary outcome notified");
                        metrics.delivered(true);
                        return;
                    }
                    Err(error) => {
                        let error = meshcd_support::error_chain(&error);
                        if attempt == ATTEMPTS {
                            tracing::warn!(%canary, receiver = %webhook.describe(), %error, attempt, "canary outcome notification failed; giving up");
                            metrics.delivered(false);
                            return;
                        }
                        let retry_in = backoff.next_delay();
                        tracing::warn!(%canary, receiver = %webhook.describe(), %error, attempt, ?retry_in, "canary outcome notification failed");
                        tokio::time::sleep(retry_in).await;
                    }
                }
            }
        });
    }
}

/// The roots an https:// receiver is verified with.
fn roots(ca_file: Option<&Path>) -> Result<rustls::RootCertStore, WebhookError> {
    let mut roots = rustls::RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let describe = || path.display().to_string();
            let pem = std::fs::read(path).map_err(|source| WebhookError::CaFile {
                path: describe(),
                source,
            })?;
            for certificate in <rustls::pki_types::CertificateDer as rustls::pki_types::pem::PemObject>::pem_slice_iter(&pem) {
                let certificate = certificate.map_err(|source| WebhookError::CaPem {
                    path: describe(),
                    source,
                })?;
                roots.add(certificate)?;
            }
            if roots.is_empty() {
                return Err(WebhookError::CaEmpty(describe()));
            }
        }
        None => {
            let (added, _) =
                roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
            if added == 0 {
                return Err(WebhookError::NoSystemRoots);
            }
        }
    }
    Ok(roots)
}

/// What a rollout's end reached: the outcome in Git, or a decision Git could not take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Promoted { commit: String },
    RolledBack { commit: String },
    NotWritten { promoted: bool, reason: String },
}

impl Outcome {
    pub fn new(promoted: bool, written: &Result<String, String>) -> Outcome {
        match (written, promoted) {
            (Ok(commit), true) => Outcome::Promoted {
                commit: commit.clone(),
            },
            (Ok(commit), false) => Outcome::RolledBack {
                commit: commit.clone(),
            },
            (Err(reason), promoted) => Outcome::NotWritten {
                promoted,
                reason: reason.clone(),
            },
        }
    }

    /// The `outcome` of the document and of `meshcd_canary_outcomes_total`.
    pub fn name(&self) -> &'static str {
        match self {
            Outcome::Promoted { .. } => "promoted",
            Outcome::RolledBack { .. } => "rolledBack",
            Outcome::NotWritten { .. } => "notWritten",
        }
    }
}

/// The figures an analysis was decided on, in the document's camelCase.
fn evidence(verdict: Option<&Verdict>) -> serde_json::Value {
    match verdict {
        None => serde_json::Value::Null,
        Some(Verdict::Pass {
            requests,
            success_rate,
            p99_ms,
        }) => serde_json::json!({
            "result": "pass",
            "requests": requests,
            "successRate": success_rate,
            "p99Ms": p99_ms.filter(|p99| p99.is_finite()),
        }),
        Some(Verdict::Fail {
            metric,
            value,
            threshold,
        }) => serde_json::json!({
            "result": "fail",
            "metric": metric,
            "value": value,
            "threshold": threshold,
        }),
        Some(Verdict::Wait {
            requests,
            min_requests,
        }) => serde_json::json!({
            "result": "wait",
            "requests": requests,
            "minRequests": min_requests,
        }),
    }
}

/// The JSON document POSTed on an outcome. `rollout` is the rollout as decided.
pub fn outcome_document(rollout: &Rollout, outcome: &Outcome, time: &str) -> serde_json::Value {
    let (commit, reason, decision) = match outcome {
        Outcome::Promoted { commit } => (Some(commit.as_str()), None, "promote"),
        Outcome::RolledBack { commit } => (Some(commit.as_str()), None, "rollBack"),
        Outcome::NotWritten { promoted, reason } => (
            None,
            Some(reason.as_str()),
            if *promoted { "promote" } else { "rollBack" },
        ),
    };
    serde_json::json!({
        "kind": "CanaryOutcome",
        "canary": rollout.name,
        "namespace": rollout.namespace,
        "outcome": outcome.name(),
        "decision": decision,
        "weight": rollout.canary_weight,
        "step": rollout.step.map_or(0, |step| step + 1),
        "steps": rollout.steps,
        "failedAnalyses": rollout.failures,
        "failureThreshold": rollout.failure_threshold,
        "analysis": evidence(rollout.last_verdict.as_ref()),
        "message": rollout.message,
        "commit": commit,
        "reason": reason,
        "time": time,
    })
}

/// What the controller reports to: metrics always, the webhook when configured.
pub struct Observers {
    pub metrics: CanaryMetrics,
    pub webhook: Option<Arc<Webhook>>,
}

impl Observers {
    pub fn publish(&self, rollouts: &[Rollout]) {
        self.metrics.publish(rollouts);
    }

    /// After an interval's analysis (`rollout.last_verdict` holds it).
    pub fn analysed(&self, rollout: &Rollout) {
        let Some(verdict) = &rollout.last_verdict else {
            return;
        };
        self.metrics.analysed(rollout, verdict);
        let canary = format!("{}/{}", rollout.namespace, rollout.name);
        let step = rollout.step.map_or(0, |step| step + 1);
        match verdict {
            Verdict::Pass {
                requests,
                success_rate,
                p99_ms,
            } => {
                tracing::info!(%canary, result = "pass", requests, success_rate, p99_ms, step, steps = rollout.steps, weight = rollout.canary_weight, "canary analysis")
            }
            Verdict::Fail {
                metric,
                value,
                threshold,
            } => {
                tracing::warn!(%canary, result = "fail", %metric, %value, %threshold, failures = rollout.failures, failure_threshold = rollout.failure_threshold, weight = rollout.canary_weight, "canary analysis")
            }
            Verdict::Wait {
                requests,
                min_requests,
            } => {
                tracing::info!(%canary, result = "wait", requests, min_requests, weight = rollout.canary_weight, "canary analysis")
            }
        }
    }

    /// When the outcome is decided and Git was (or could not be) written.
    pub fn decided(&self, rollout: &Rollout, promoted: bool, written: &Result<String, String>) {
        let outcome = Outcome::new(promoted, written);
        self.metrics.decided(rollout, outcome.name());
        if let Some(webhook) = &self.webhook {
            let time = time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default();
            webhook.deliver(
                outcome_document(rollout, &outcome, &time),
                self.metrics.clone(),
            );
        }
    }
}

#[cfg(test)]
#[path = "notify_tests.rs"]
mod tests;
