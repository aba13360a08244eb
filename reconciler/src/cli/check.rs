//! `meshcd check`: the health of a mesh in one command, as `linkerd check` and `flux
//! check` give it: the reconciler answers and accepts the token, the repository is
//! reachable and applied, the CA is valid and not about to expire, every proxy holds the
//! applied revision; with `--kubernetes`, every object `meshcd install` renders exists
//! (CRDs, RBAC, webhook) and the reconciler is ready. Exit 1 when any check fails.

use std::time::Duration;

use anyhow::bail;
use time::OffsetDateTime;

use super::status::ServerArgs;
use crate::admin::StatusDocument;
use crate::canary::writeback::short;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub server: ServerArgs,
    /// Also check the cluster (current kubeconfig context): every object `meshcd install`
    /// renders, and the reconciler Deployment ready.
    #[arg(long)]
    pub kubernetes: bool,
    /// The namespace meshcd was installed in (with --kubernetes).
    #[arg(long, default_value = "meshcd-system")]
    pub namespace: String,
    /// The mesh name given to `meshcd install` (with --kubernetes).
    #[arg(long, default_value = "meshcd")]
    pub mesh_name: String,
    /// Warn when the CA expires within this long (default 30 days).
    #[arg(long, default_value = "720h", value_parser = crate::validate::convert::units::parse_duration)]
    pub ca_warning: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    Warn,
    Fail,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub outcome: Outcome,
    pub text: String,
}

impl Finding {
    pub fn new(outcome: Outcome, text: String) -> Finding {
        Finding { outcome, text }
    }
}

fn pass(text: String) -> Finding {
    Finding::new(Outcome::Pass, text)
}

fn warn(text: String) -> Finding {
    Finding::new(Outcome::Warn, text)
}

fn fail(text: String) -> Finding {
    Finding::new(Outcome::Fail, text)
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let mut findings = Vec::new();
    match args.server.call("GET", "/status").await {
        Ok((200, body)) => match serde_json::from_str::<StatusDocument>(&body) {
            Ok(status) => {
                findings.push(pass(format!(
                    "reconciler answers at {} (meshcd {}) and accepts the admin token",
                    args.server.server, status.version
                )));
                findings.extend(judge(&status, OffsetDateTime::now_utc(), args.ca_warning));
            }
            Err(error) => findings.push(fail(format!(
                "{}/status answered, but not with a meshcd status document: {error}",
                args.server.server.trim_end_matches('/')
            ))),
        },
        Ok((code, body)) => findings.push(fail(format!(
            "reconciler at {} refused: HTTP {code}: {}",
            args.server.server,
            body.trim()
        ))),
        Err(error) => findings.push(fail(format!(
            "reconciler at {}: {error:#}",
            args.server.server
        ))),
    }
    if args.kubernetes {
        findings.extend(super::check_cluster::check(&args.namespace, &args.mesh_name).await);
    }
    let failed = report(&findings);
    if failed > 0 {
        bail!("{failed} check(s) failed");
    }
    Ok(())
}

/// Prints one line per finding and the tally; the number of failures.
fn report(findings: &[Finding]) -> usize {
    for finding in findings {
        let mark = match finding.outcome {
            Outcome::Pass => "ok  ",
            Outcome::Warn => "warn",
            Outcome::Fail => "FAIL",
        };
        outln!("{mark}  {}", finding.text);
    }
    let count = |outcome| findings.iter().filter(|f| f.outcome == outcome).count();
    let (failed, warned) = (count(Outcome::Fail), count(Outcome::Warn));
    outln!(
        "\n{} checks: {} passed, {warned} warning(s), {failed} failed",
        findings.len(),
        count(Outcome::Pass)
    );
    failed
}

/// What a status document says about the mesh's health: plain data in, findings out.
pub fn judge(status: &StatusDocument, now: OffsetDateTime, ca_warning: Duration) -> Vec<Finding> {
    let mut findings = Vec::new();
    let source = &status.source;
    let applied = source.applied.as_ref().map(|r| short(&r.id).to_string());
    match (&source.last_error, &applied) {
        (Some(error), _) => findings.push(fail(format!(
            "repository {}: {error} ({} failure(s) in a row; {})",
            source.repository,
            source.consecutive_failures,
            match &applied {
                Some(applied) => format!("the applied revision {applied} stays in force"),
                None => "nothing applied yet".into(),
            }
        ))),
        (None, None) => findings.push(fail(format!(
            "repository {}: no revision applied yet",
            source.repository
        ))),
        (None, Some(applied)) => findings.push(pass(format!(
            "repository {} reachable; {applied} applied",
            source.repository
        ))),
    }
    if let Some(rejected) = &source.rejected {
        findings.push(warn(format!(
            "the latest revision {} was rejected: {}",
            rejected.revision.as_ref().map_or("-", |r| short(&r.id)),
            rejected.message
        )));
    }
    if source.suspended {
        findings.push(warn(
            "applying is suspended (`meshcd resume` applies new revisions again)".into(),
        ));
    }
    findings.push(ca_finding(status.ca_not_after, now, ca_warning));
    let behind: Vec<String> = status
        .proxies
        .iter()
        .filter(|proxy| !proxy.in_sync)
        .map(|proxy| {
            format!(
                "{}/{} ({}){}",
                proxy.namespace,
                proxy.service_account,
                proxy.id,
                match (&proxy.nack, &proxy.acked_revision) {
                    (Some(nack), _) => format!(" rejected the snapshot: {nack}"),
                    (None, Some(revision)) => format!(" holds {}", short(revision)),
                    (None, None) => " has acknowledged nothing".into(),
                }
            )
        })
        .collect();
    findings.push(match (status.proxies.len(), behind.is_empty()) {
        (0, _) => pass("no proxies connected".into()),
        (total, true) => pass(format!(
            "{total} prox{} in sync with {}",
            if total == 1 { "y" } else { "ies" },
            applied.as_deref().unwrap_or("the applied revision")
        )),
        (total, false) => fail(format!(
            "{} of {total} proxies not in sync: {}",
            behind.len(),
            behind.join("; ")
        )),
    });
    if let Some(kubernetes) = &status.kubernetes {
        findings.push(match &kubernetes.last_error {
            Some(error) => fail(format!("applying to the cluster failed: {error}")),
            None => pass(format!(
                "cluster: this replica {}; {} applied",
                if kubernetes.leader {
                    "leads"
                } else {
                    "stands by"
                },
                kubernetes
                    .applied_revision
                    .as_deref()
                    .map_or("nothing", short)
            )),
        });
    }
    findings
}

fn ca_finding(not_after: Option<i64>, now: OffsetDateTime, warning: Duration) -> Finding {
    let Some(not_after) = not_after.and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
    else {
        return warn("the reconciler does not say when its CA expires (an older meshcd?)".into());
    };
    let date = not_after
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let left = not_after - now;
    if left <= time::Duration::ZERO {
        fail(format!(
            "the mesh CA expired at {date}: proxies can no longer get certificates"
        ))
    } else if left < warning {
        warn(format!(
            "the mesh CA expires at {date}, in {} day(s): rotate it",
            left.whole_days()
        ))
    } else {
        pass(format!(
            "mesh CA valid until {date} ({} days)",
            left.whole_days()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(value: serde_json::Value) -> StatusDocument {
        serde_json::from_value(value).unwrap()
    }

    fn healthy() -> serde_json::Value {
        serde_json::json!({
            "source": {
                "repository": "/srv/mesh", "reference": "HEAD", "verifySignatures": false,
                "applied": {"id": "0f580f00389a8467", "summary": "s", "author": "a", "time": 1},
                "consecutiveFailures": 0, "suspended": false, "warnings": []
            },
            "proxies": [{
                "id": "p1", "namespace": "shop", "serviceAccount": "api", "services": ["api"],
                "inboundAddress": "127.0.0.1:1", "ackedRevision": "0f580f00389a8467", "inSync": true
            }],
            "kubernetes": null,
            "caNotAfter": 2_000_000_000
        })
    }

    const NOW: i64 = 1_900_000_000;
    const MONTH: Duration = Duration::from_secs(30 * 86_400);

    fn outcomes(value: serde_json::Value) -> Vec<(Outcome, String)> {
        judge(
            &document(value),
            OffsetDateTime::from_unix_timestamp(NOW).unwrap(),
            MONTH,
        )
        .into_iter()
        .map(|f| (f.outcome, f.text))
        .collect()
    }

    #[test]
    fn a_healthy_mesh_passes_every_check() {
        let found = outcomes(healthy());
        assert!(found.iter().all(|(o, _)| *o == Outcome::Pass), "{found:?}");
        assert!(
            found
                .iter()
                .any(|(_, t)| t == "1 proxy in sync with 0f580f00389a")
        );
    }

    #[test]
    fn a_proxy_behind_fails_and_is_named() {
        let mut value = healthy();
        value["proxies"][0]["inSync"] = false.into();
        value["proxies"][0]["ackedRevision"] = "aaaaaaaaaaaaaaaa".into();
        let found = outcomes(value);
        assert!(found.contains(&(
            Outcome::Fail,
            "1 of 1 proxies not in sync: shop/api (p1) holds aaaaaaaaaaaa".into()
        )));
    }

    #[test]
    fn a_ca_near_its_end_warns_and_an_expired_one_fails() {
        let mut value = healthy();
        value["caNotAfter"] = (NOW + 86_400 * 3).into();
        assert!(
            outcomes(value.clone())
                .iter()
                .any(|(o, t)| *o == Outcome::Warn && t.contains("in 3 day(s)"))
        );
        value["caNotAfter"] = (NOW - 1).into();
        assert!(
            outcomes(value)
                .iter()
                .any(|(o, t)| *o == Outcome::Fail && t.contains("expired"))
        );
    }

    #[test]
    fn an_unreachable_repository_fails() {
        let mut value = healthy();
        value["source"]["lastError"] = "connection refused".into();
        value["source"]["consecutiveFailures"] = 4.into();
        assert!(outcomes(value).iter().any(|(o, t)| *o == Outcome::Fail
            && t.contains("connection refused")
            && t.contains("4 failure(s)")));
    }
}
