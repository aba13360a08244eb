//! `meshcd status`, `sync`, `suspend`, `resume`: talk to a running reconciler.

use std::fmt::Write as _;

use anyhow::{Context as _, bail};

use crate::admin::StatusDocument;
use crate::canary::rollout::{Rollout, Verdict};
use crate::kubernetes::sync::KubernetesStatus;
use crate::reconcile::{Rejected, SourceStatus};

use crate::source::git::Revision;

use super::admin_token::TokenArgs;
use super::http::call;
use crate::defaults;

#[derive(Debug, clap::Args)]
pub struct ServerArgs {
    /// The reconciler's admin URL.
    #[arg(long, default_value = defaults::ADMIN_URL, env = "MESHCD_SERVER")]
    pub server: String,
    #[command(flatten)]
    pub token: TokenArgs,
}

impl ServerArgs {
    /// One call to the admin API at `path` (`/status`, `/sync`…), with the admin token.
    pub async fn call(&self, method: &str, path: &str) -> anyhow::Result<(u16, String)> {
        let url = format!("{}{path}", self.server.trim_end_matches('/'));
        call(method, &url, &self.token.credentials()?).await
    }
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// text for people, or json: the reconciler's status document as it sends it.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

pub async fn status(args: StatusArgs) -> anyhow::Result<()> {
    let (code, body) = args.server.call("GET", "/status").await?;
    if code != 200 {
        bail!("status request failed with HTTP {code}: {body}");
    }
    match args.format {
        Format::Json => outln!("{body}"),
        Format::Text => {
            let status: StatusDocument =
                serde_json::from_str(&body).context("the reconciler's status document")?;
            out!("{}", render(&status));
        }
    }
    Ok(())
}

/// `action` is sync, suspend or resume.
pub async fn post(server: ServerArgs, action: &str) -> anyhow::Result<()> {
    let (code, body) = server.call("POST", &format!("/{action}")).await?;
    if !(200..300).contains(&code) {
        bail!("{action} failed with HTTP {code}: {body}");
    }
    out!("{body}");
    Ok(())
}

fn short(id: Option<&str>) -> String {
    id.map(|id| id.chars().take(12).collect())
        .unwrap_or_else(|| "-".into())
}

fn render(status: &StatusDocument) -> String {
    let mut out = String::new();
    source_lines(&mut out, &status.source);
    if let Some(rejected) = &status.source.rejected {
        rejected_lines(&mut out, rejected);
    }
    if let Some(cluster) = &status.kubernetes {
        cluster_lines(&mut out, cluster);
    }
    if let Some(trust) = &status.trust {
        super::ca::trust_lines(&mut out, trust, status.source.rotation_waiting.as_ref());
    }
    let _ = writeln!(out, "proxies:  {}", status.proxies.len());
    for proxy in &status.proxies {
        let _ = writeln!(
            out,
            "  {:<40} {}/{} acked {} {}",
            proxy.id,
            proxy.namespace,
            proxy.service_account,
            proxy.acked_version.as_deref().unwrap_or("-"),
            if proxy.in_sync { "in sync" } else { "PENDING" }
        );
    }
    if !status.workloads_without_policy.is_empty() {
        let _ = writeln!(
            out,
            "workloads no TrafficTarget names as destination (denied to everyone in deny mode):"
        );
        for workload in &status.workloads_without_policy {
            let _ = writeln!(out, "  {workload}");
        }
    }
    if !status.canaries.is_empty() {
        let _ = writeln!(out, "canaries: {}", status.canaries.len());
    }
    for canary in &status.canaries {
        out.push_str(&render_canary(canary));
    }
    for warning in &status.warnings {
        let _ = writeln!(out, "warning: {warning}");
    }
    out
}

/// What is followed, what is applied and fetched, and the last error.
fn source_lines(out: &mut String, source: &SourceStatus) {
    let followed = match &source.followed {
        Some(name) => format!(" → {name}"),
        None => String::new(),
    };
    let folder = match &source.path {
        Some(path) => format!(", folder {}", path.display()),
        None => String::new(),
    };
    let _ = writeln!(
        out,
        "source:   {} ({}{followed}){folder}",
        source.repository, source.reference
    );
    let signed_by = match &source.applied_signed_by {
        Some(signer) => format!(" (signed by {signer})"),
        None => String::new(),
    };
    let revision = |revision: Option<&Revision>| {
        format!(
            "{} {}",
            short(revision.map(|r| r.id.as_str())),
            revision.map(|r| r.summary.as_str()).unwrap_or("")
        )
    };
    let _ = writeln!(
        out,
        "applied:  {}{signed_by}",
        revision(source.applied.as_ref())
    );
    let _ = writeln!(out, "fetched:  {}", revision(source.last_fetched.as_ref()));
    if source.verify_signatures {
        let _ = writeln!(
            out,
            "signatures: required (only commits signed by an allowed signer are applied)"
        );
    }
    if source.suspended {
        let _ = writeln!(out, "state:    SUSPENDED (new revisions are not applied)");
    }
    if let Some(error) = &source.last_error {
        let reason = source.last_error_reason.map_or("error", |r| r.as_str());
        let retry = match source.retry_in_seconds {
            Some(seconds) => {
                let failures = source.consecutive_failures;
                format!(
                    " ({failures} failure{} in a row; next attempt in {seconds:.0}s)",
                    if failures == 1 { "" } else { "s" }
                )
            }
            _ => String::new(),
        };
        let _ = writeln!(out, "error:    {reason}: {error}{retry}");
    }
}

/// A rejected revision and why: validation errors one per line, other reasons in one.
fn rejected_lines(out: &mut String, rejected: &Rejected) {
    let why = if rejected.errors.is_empty() {
        format!("{}; ", rejected.message)
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "rejected: {} ({}): {why}the applied revision stays in force",
        short(rejected.revision.as_ref().map(|r| r.id.as_str())),
        rejected.reason.as_str(),
    );
    for error in &rejected.errors {
        let _ = writeln!(
            out,
            "  error: {} --> {}:{}",
            error.message,
            error.file.display(),
            error.line
        );
    }
}

fn cluster_lines(out: &mut String, cluster: &KubernetesStatus) {
    let _ = writeln!(
        out,
        "kubernetes: {} (applied {})",
        if cluster.leader {
            "leader"
        } else {
            "standby (the leader applies and serves the proxies)"
        },
        short(cluster.applied_revision.as_deref()),
    );
    if let Some(sidecars) = &cluster.sidecars {
        let _ = writeln!(out, "  injecting {sidecars}");
    }
    if let Some(error) = &cluster.last_error {
        let _ = writeln!(out, "  apply error: {error}");
    }
}

/// One rollout of `/status`: where it stands, then what the last analysis saw and why.
pub(crate) fn render_canary(canary: &Rollout) -> String {
    let mut out = String::new();
    let step = match canary.step {
        Some(step) => format!("step {} of {}", step + 1, canary.steps),
        None => format!("step 0 of {}", canary.steps),
    };
    let _ = writeln!(
        out,
        "  {}/{}  {:?}  canary {}%  {step}  failed analyses {} of {}",
        canary.namespace,
        canary.name,
        canary.phase,
        canary.canary_weight,
        canary.failures,
        canary.failure_threshold
    );
    let _ = writeln!(
        out,
        "    last analysis: {}",
        verdict_summary(canary.last_verdict.as_ref())
    );
    let _ = writeln!(out, "    {}", canary.message);
    out
}

/// A verdict of `/status` in one phrase: the figures the decision was made on.
pub(crate) fn verdict_summary(verdict: Option<&Verdict>) -> String {
    match verdict {
        Some(Verdict::Pass {
            requests,
            success_rate,
            p99_ms,
        }) => {
            let p99 = match p99_ms {
                Some(p99) => format!(", p99 {p99:.0}ms"),
                None => String::new(),
            };
            format!("passed: {requests} requests, success rate {success_rate:.2}%{p99}")
        }
        Some(Verdict::Fail {
            metric,
            value,
            threshold,
        }) => format!("failed: {metric} {value} (threshold {threshold})"),
        Some(Verdict::Wait {
            requests,
            min_requests,
        }) => format!("waiting: {requests} requests, {min_requests} needed"),
        None => "none yet".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_remote_shows_the_cause_the_backoff_and_the_rejected_commit() {
        let status = serde_json::json!({
            "source": {
                "repository": "https://git.example.com/mesh.git",
                "reference": "branch main",
                "followed": "refs/heads/main",
                "applied": {"id": "aaaaaaaaaaaaaaaa", "summary": "good", "author": "alice", "time": 0},
                "appliedSignedBy": "alice@example.com",
                "lastFetched": {"id": "bbbbbbbbbbbbbbbb", "summary": "unsigned", "author": "mallory", "time": 0},
                "verifySignatures": true,
                "lastError": "fetching https://git.example.com/mesh.git: connection refused",
                "lastErrorReason": "fetch",
                "consecutiveFailures": 3,
                "retryInSeconds": 4.2,
                "rejected": {
                    "revision": {"id": "bbbbbbbbbbbbbbbb", "summary": "unsigned", "author": "mallory", "time": 0},
                    "reason": "signature",
                    "message": "commit bbbbbbbbbbbb is not accepted: the commit is not signed",
                    "errors": []
                }
            },
            "proxies": []
        });
        let text = render(&serde_json::from_value(status).unwrap());
        for line in [
            "source:   https://git.example.com/mesh.git (branch main → refs/heads/main)",
            "applied:  aaaaaaaaaaaa good (signed by alice@example.com)",
            "error:    fetch: fetching https://git.example.com/mesh.git: connection refused (3 failures in a row; next attempt in 4s)",
            "rejected: bbbbbbbbbbbb (signature): commit bbbbbbbbbbbb is not accepted: the commit is not signed; the applied revision stays in force",
        ] {
            assert!(text.contains(line), "{line:?} missing from\n{text}");
        }
    }

    #[test]
    fn a_cluster_replica_says_whether_it_leads_and_how_proxies_are_injected() {
        let status = serde_json::json!({
            "source": {},
            "kubernetes": {
                "leader": false,
                "appliedRevision": "cccccccccccccccc",
                "sidecars": "sidecar containers: Kubernetes 1.28 has no native sidecars by default",
            },
        });
        let text = render(&serde_json::from_value(status).unwrap());
        for line in [
            "kubernetes: standby (the leader applies and serves the proxies) (applied cccccccccccc)",
            "  injecting sidecar containers: Kubernetes 1.28 has no native sidecars by default",
        ] {
            assert!(text.contains(line), "{line:?} missing from\n{text}");
        }
    }

    #[test]
    fn a_rollout_as_the_reconciler_serialises_it_renders_with_its_figures() {
        use crate::canary::rollout::{Rollout, Verdict};
        let canary = crate::model::Canary {
            interval: std::time::Duration::from_secs(2),
            progress_deadline: std::time::Duration::from_secs(600),
            ..crate::model::Canary::example(&[10, 20, 30, 40, 50])
        };
        let now = std::time::Instant::now();
        let mut rollout = Rollout::start(&canary, 10, now);
        let passing = Verdict::Pass {
            requests: 146,
            success_rate: 100.0,
            p99_ms: Some(25.0),
        };
        rollout.analyse(&canary, passing.clone(), now);
        rollout.analyse(&canary, passing, now);
        let status = serde_json::json!({"source": {}, "canaries": [rollout]});
        let text = render(&serde_json::from_value(status).unwrap());
        for line in [
            "  shop/api  Progressing  canary 20%  step 2 of 5  failed analyses 0 of 3",
            "    last analysis: passed: 146 requests, success rate 100.00%, p99 25ms",
        ] {
            assert!(text.contains(line), "{line:?} missing from\n{text}");
        }
    }

    #[test]
    fn each_canary_shows_its_phase_weight_step_failures_and_last_analysis() {
        let status = serde_json::json!({
            "source": {},
            "proxies": [],
            "canaries": [
                {
                    "namespace": "shop", "name": "api", "specHash": "abc-api-v2",
                    "phase": "Progressing", "step": 2, "steps": 5, "canaryWeight": 30,
                    "failures": 1, "failureThreshold": 3,
                    "lastVerdict": {"result": "Pass", "requests": 412, "successRate": 100.0, "p99Ms": 25.0},
                    "message": "step 3 of 5: canary at 30% (success rate 100.00%, p99 <= 25ms)"
                },
                {
                    "namespace": "shop", "name": "web", "specHash": "def-web-v2",
                    "phase": "RolledBack", "step": null, "steps": 2, "canaryWeight": 0,
                    "failures": 2, "failureThreshold": 2,
                    "lastVerdict": {"result": "Fail", "metric": "successRate", "value": "0.00%", "threshold": ">= 99%"},
                    "message": "rolled back: successRate 0.00% (threshold >= 99%), 2 failed analyses"
                }
            ]
        });
        let text = render(&serde_json::from_value(status).unwrap());
        for line in [
            "canaries: 2",
            "  shop/api  Progressing  canary 30%  step 3 of 5  failed analyses 1 of 3",
            "    last analysis: passed: 412 requests, success rate 100.00%, p99 25ms",
            "    step 3 of 5: canary at 30% (success rate 100.00%, p99 <= 25ms)",
            "  shop/web  RolledBack  canary 0%  step 0 of 2  failed analyses 2 of 2",
            "    last analysis: failed: successRate 0.00% (threshold >= 99%)",
        ] {
            assert!(text.contains(line), "{line:?} missing from\n{text}");
        }
    }
}
