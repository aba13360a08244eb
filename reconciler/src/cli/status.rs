//! `meshcd status`, `sync`, `suspend`, `resume`: talk to a running reconciler.

use std::fmt::Write as _;

use anyhow::bail;
use serde_json::Value;

use super::http::call;
use crate::defaults;

#[derive(Debug, clap::Args)]
pub struct ServerArgs {
    /// The reconciler's admin URL.
    #[arg(long, default_value = defaults::ADMIN_URL, env = "MESHCD_SERVER")]
    pub server: String,
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
    for warning in status["warnings"].as_array().into_iter().flatten() {
        let _ = writeln!(out, "warning: {}", warning.as_str().unwrap_or(""));
    }
    out
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
}
