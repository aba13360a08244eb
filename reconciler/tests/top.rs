//! `meshcd top` against a running local mesh under load: the frontend → api row, its
//! split backends, a non-zero rate and every request successful.
//!
//! Needs `meshcd-proxy` next to the `meshcd` binary (`cargo build --workspace --bins`).

mod local_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use local_support::{config_repo, eventually, keep_calling, mesh_with};
use meshcd::cli::local_mesh::LocalMesh;

/// Runs `meshcd top --once` with `args` and returns its stdout.
async fn top(mesh: &LocalMesh, args: &[&str]) -> Result<String, String> {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_meshcd"));
    command
        .args([
            "top",
            "--once",
            "--admin",
            &format!("http://{}", mesh.admin),
        ])
        .arg("--admin-token-file")
        .arg(mesh.admin_token_file())
        .args(args);
    let output = command.output().await.map_err(|e| e.to_string())?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn top_shows_the_frontend_calling_api_with_a_rate_and_full_success_per_backend() {
    let dir = tempfile::tempdir().unwrap();
    let repo = config_repo(dir.path());
    let (mesh, frontend) = mesh_with(&repo, &dir.path().join("state"), 200, &[]).await;
    let stop = Arc::new(AtomicBool::new(false));
    let load = keep_calling(frontend, stop.clone());

    let table = eventually(Duration::from_secs(30), || async {
        let text = top(&mesh, &["--namespace", "shop", "--window", "5"]).await?;
        let row = text
            .lines()
            .find(|line| line.starts_with("shop/frontend") && line.contains("shop/api"))
            .ok_or_else(|| text.clone())?;
        // SOURCE DESTINATION BACKEND RPS SUCCESS P50 P99 REQUESTS
        let cells: Vec<&str> = row.split_whitespace().collect();
        let rate: f64 = cells[3].parse().map_err(|_| text.clone())?;
        let backends = ["↳ api-v1", "↳ api-v2"]
            .iter()
            .all(|backend| text.contains(backend));
        (rate > 0.0 && cells[4] == "100.00%" && backends)
            .then_some(text.clone())
            .ok_or(text)
    })
    .await;
    assert!(table.starts_with("SOURCE"), "{table}");

    let json = top(&mesh, &["--format", "json", "--window", "5"])
        .await
        .unwrap();
    let rows: serde_json::Value = serde_json::from_str(&json).unwrap();
    let total = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["service"] == "api" && row["backend"].is_null())
        .unwrap_or_else(|| panic!("no frontend → api total in {json}"));
    assert_eq!(total["source"]["serviceAccount"], "frontend");
    assert!(total["requestsPerSecond"].as_f64().unwrap() > 0.0, "{json}");
    assert_eq!(total["successRate"], 100.0, "{json}");

    let elsewhere = top(&mesh, &["--namespace", "elsewhere"]).await.unwrap();
    assert_eq!(elsewhere, "no traffic in the last 10s\n");

    stop.store(true, Ordering::Relaxed);
    let _ = load.await;
    mesh.stop().await;
}
