//! `meshcd status`, `sync`, `suspend`, `resume`: talk to a running reconciler.

use std::fmt::Write as _;

use anyhow::bail;
use serde_json::Value;

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

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

pub async fn status(args: StatusArgs) -> anyhow::Result<()> {
    let (code, body) = call(
        "GET",
        &format!("{}/status", args.server.server.trim_end_matches('/')),
        &args.server.token.credentials()?,
    )
    .await?;
    if code != 200 {
        bail!("status request failed with HTTP {code}: {body}");
    }
    match args.format {
        Format::Json => println!("{body}"),
        Format::Text => print!("{}", render(&serde_json::from_str(&body)?)),
    }
    Ok(())
}

/// `action` is sync, suspend or resume.
pub async fn post(server: ServerArgs, action: &str) -> anyhow::Result<()> {
    let (code, body) = call(
        "POST",
        &format!("{}/{action}", server.server.trim_end_matches('/')),
        &server.token.credentials()?,
    )
    .await?;
    if !(200..300).contains(&code) {
        bail!("{action} failed with HTTP {code}: {body}");
    }
    print!("{body}");
    Ok(())
}

fn short(value: &Value) -> String {
    value
        .as_str()
        .map(|id| id.chars().take(12).collect())
        .unwrap_or_else(|| "-".into())
}

fn render(status: &Value) -> String {
    let mut out = String::new();
    let source = &status["source"];
    let followed = match source["followed"].as_str() {
        Some(name) => format!(" → {name}"),
        None => String::new(),
    };
    let folder = match source["path"].as_str() {
        Some(path) => format!(", folder {path}"),
        None => String::new(),
    };
    let _ = writeln!(
        out,
        "source:   {} ({}{followed}){folder}",
        source["repository"].as_str().unwrap_or("-"),
        source["reference"].as_str().unwrap_or("-")
    );
    let signed_by = match source["applied_signed_by"].as_str() {
        Some(signer) => format!(" (signed by {signer})"),
        None => String::new(),
    };
    let _ = writeln!(
        out,
        "applied:  {} {}{signed_by}",
        short(&source["applied"]["id"]),
        source["applied"]["summary"].as_str().unwrap_or("")
    );
    let _ = writeln!(
        out,
        "fetched:  {} {}",
        short(&source["last_fetched"]["id"]),
        source["last_fetched"]["summary"].as_str().unwrap_or("")
    );
    if source["verify_signatures"].as_bool() == Some(true) {
        let _ = writeln!(
            out,
            "signatures: required (only commits signed by an allowed signer are applied)"
        );
    }
    if source["suspended"].as_bool() == Some(true) {
        let _ = writeln!(out, "state:    SUSPENDED (new revisions are not applied)");
    }
    if let Some(error) = source["last_error"].as_str() {
        let reason = source["last_error_reason"].as_str().unwrap_or("error");
        let retry = match (
            source["consecutive_failures"].as_u64(),
            source["retry_in_seconds"].as_f64(),
        ) {
            (Some(failures), Some(seconds)) => format!(
                " ({failures} failure{} in a row; next attempt in {seconds:.0}s)",
                if failures == 1 { "" } else { "s" }
            ),
            _ => String::new(),
        };
        let _ = writeln!(out, "error:    {reason}: {error}{retry}");
    }
    if let Some(rejected) = source["rejected"].as_object() {
        // Validation errors follow one per line; other rejections say why in one line.
        let why = match rejected["errors"].as_array() {
            Some(errors) if !errors.is_empty() => String::new(),
            _ => format!("{}; ", rejected["message"].as_str().unwrap_or("")),
        };
        let _ = writeln!(
            out,
            "rejected: {} ({}): {why}the applied revision stays in force",
            short(&rejected["revision"]["id"]),
            rejected["reason"].as_str().unwrap_or("invalid"),
        );
        for error in rejected["errors"].as_array().into_iter().flatten() {
            let _ = writeln!(
                out,
                "  error: {} --> {}:{}",
                error["message"].as_str().unwrap_or(""),
                error["file"].as_str().unwrap_or(""),
                error["line"]
            );
        }
    }
    let proxies = status["proxies"].as_array().cloned().unwrap_or_default();
    let _ = writeln!(out, "proxies:  {}", proxies.len());
    for proxy in &proxies {
        let _ = writeln!(
            out,
            "  {:<40} {}/{} acked {} {}",
            proxy["id"].as_str().unwrap_or(""),
            proxy["namespace"].as_str().unwrap_or(""),
            proxy["service_account"].as_str().unwrap_or(""),
            proxy["acked_version"].as_str().unwrap_or("-"),
            if proxy["in_sync"].as_bool() == Some(true) {
                "in sync"
            } else {
                "PENDING"
            }
        );
    }
    let without = status["workloadsWithoutPolicy"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if !without.is_empty() {
        let _ = writeln!(
            out,
            "workloads no TrafficTarget names as destination (denied to everyone in deny mode):"
        );
        for workload in without {
            let _ = writeln!(out, "  {}", workload.as_str().unwrap_or(""));
        }
    }
    let canaries = status["canaries"].as_array().cloned().unwrap_or_default();
    if !canaries.is_empty() {
        let _ = writeln!(out, "canaries: {}", canaries.len());
    }
    for canary in &canaries {
        out.push_str(&render_canary(canary));
    }
    for warning in status["warnings"].as_array().into_iter().flatten() {
        let _ = writeln!(out, "warning: {}", warning.as_str().unwrap_or(""));
    }
    out
}

/// One rollout of `/status`: where it stands, then what the last analysis saw and why.
pub(crate) fn render_canary(canary: &Value) -> String {
    let mut out = String::new();
    let step = match (canary["step"].as_u64(), canary["steps"].as_u64()) {
        (Some(step), Some(steps)) => format!("step {} of {steps}", step + 1),
        (None, Some(steps)) => format!("step 0 of {steps}"),
        _ => "step -".into(),
    };
    let _ = writeln!(
        out,
        "  {}/{}  {}  canary {}%  {step}  failed analyses {} of {}",
        canary["namespace"].as_str().unwrap_or(""),
        canary["name"].as_str().unwrap_or(""),
        canary["phase"].as_str().unwrap_or("-"),
        canary["canary_weight"],
        canary["failures"],
        canary["failure_threshold"]
    );
    let _ = writeln!(
        out,
        "    last analysis: {}",
        verdict_summary(&canary["last_verdict"])
    );
    if let Some(message) = canary["message"].as_str() {
        let _ = writeln!(out, "    {message}");
    }
    out
}

/// A verdict of `/status` in one phrase: the figures the decision was made on.
pub(crate) fn verdict_summary(verdict: &Value) -> String {
    if let Some(pass) = verdict.get("Pass") {
        let p99 = match pass["p99_ms"].as_f64() {
            Some(p99) => format!(", p99 {p99:.0}ms"),
            None => String::new(),
        };
        return format!(
            "passed: {} requests, success rate {:.2}%{p99}",
            pass["requests"],
            pass["success_rate"].as_f64().unwrap_or(0.0)
        );
    }
    if let Some(fail) = verdict.get("Fail") {
        return format!(
            "failed: {} {} (threshold {})",
            fail["metric"].as_str().unwrap_or(""),
            fail["value"].as_str().unwrap_or(""),
            fail["threshold"].as_str().unwrap_or("")
        );
    }
    if let Some(wait) = verdict.get("Wait") {
        return format!(
            "waiting: {} requests, {} needed",
            wait["requests"], wait["min_requests"]
        );
    }
    "none yet".into()
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
                "applied": {"id": "aaaaaaaaaaaaaaaa", "summary": "good"},
                "applied_signed_by": "alice@example.com",
                "last_fetched": {"id": "bbbbbbbbbbbbbbbb", "summary": "unsigned"},
                "verify_signatures": true,
                "last_error": "fetching https://git.example.com/mesh.git: connection refused",
                "last_error_reason": "fetch",
                "consecutive_failures": 3,
                "retry_in_seconds": 4.2,
                "rejected": {
                    "revision": {"id": "bbbbbbbbbbbbbbbb"},
                    "reason": "signature",
                    "message": "commit bbbbbbbbbbbb is not accepted: the commit is not signed",
                    "errors": []
                }
            },
            "proxies": []
        });
        let text = render(&status);
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
        let text = render(&status);
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
                    "namespace": "shop", "name": "api", "spec_hash": "abc-api-v2",
                    "phase": "Progressing", "step": 2, "steps": 5, "canary_weight": 30,
                    "failures": 1, "failure_threshold": 3,
                    "last_verdict": {"Pass": {"requests": 412, "success_rate": 100.0, "p99_ms": 25.0}},
                    "message": "step 3 of 5: canary at 30% (success rate 100.00%, p99 <= 25ms)"
                },
                {
                    "namespace": "shop", "name": "web", "spec_hash": "def-web-v2",
                    "phase": "RolledBack", "step": null, "steps": 2, "canary_weight": 0,
                    "failures": 2, "failure_threshold": 2,
                    "last_verdict": {"Fail": {"metric": "successRate", "value": "0.00%", "threshold": ">= 99%"}},
                    "message": "rolled back: successRate 0.00% (threshold >= 99%), 2 failed analyses"
                }
            ]
        });
        let text = render(&status);
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
