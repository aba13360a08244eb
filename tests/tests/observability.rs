//! What an operator reads from a proxy: its admin endpoints, its metrics (the numbers
//! canary analysis is built on) and its JSON access log.

use std::time::Duration;

use meshcd_e2e::pki::spiffe_id;
use meshcd_e2e::prometheus::sum;
use meshcd_e2e::proxy::Proxy;
use meshcd_e2e::snapshot::{SnapshotBuilder, allow_http, endpoints, http_match, http_service};
use meshcd_e2e::testapp::TestApp;
use meshcd_e2e::{TestMesh, eventually};

/// api admitting frontend to `GET /api/values`, and frontend's proxy (with an access log).
async fn frontend_and_api(mesh: &TestMesh) -> anyhow::Result<(TestApp, Proxy, Proxy)> {
    let app = mesh.app("api").await?;
    let identity = mesh.identity("shop", "api")?;
    let snapshot = SnapshotBuilder::new(&identity)
        .serves_http("api", app.address)
        .allow(allow_http(
            "shop/api",
            &[&spiffe_id("shop", "frontend")],
            vec![http_match(
                "shop/api-routes/values",
                "/api/values",
                &["GET"],
            )],
        ))
        .build();
    let api = mesh.start_proxy("api", &identity, snapshot).await?;
    let identity = mesh.identity("shop", "frontend")?;
    let snapshot = SnapshotBuilder::new(&identity)
        .service(http_service("api", "shop", endpoints(&[&api])))
        .build();
    let frontend = mesh
        .proxy("frontend", &identity, snapshot)?
        .access_log()
        .start()
        .await?;
    Ok((app, api, frontend))
}

/// Three allowed requests and two denied ones.
async fn three_allowed_two_denied(frontend: &Proxy) -> anyhow::Result<()> {
    for path in [
        "/api/values",
        "/api/values",
        "/api/values",
        "/admin",
        "/admin",
    ] {
        let response = frontend
            .client()
            .get(&format!("http://api.shop{path}"))
            .await?;
        let expected = if path == "/admin" { 403 } else { 200 };
        assert_eq!(response.status, expected, "{path}: {}", response.text());
    }
    Ok(())
}

#[tokio::test]
async fn admin_endpoints_say_live_ready_and_which_snapshot_is_served() -> anyhow::Result<()> {
    let mesh = TestMesh::new()?;
    let (_app, api, _frontend) = frontend_and_api(&mesh).await?;

    api.admin_get("/live").await?;
    api.admin_get("/ready").await?;
    let config = api.config().await?;

    assert_eq!(config["version"], "1");
    assert_eq!(
        config["snapshot"]["workload"]["identity"],
        spiffe_id("shop", "api")
    );
    Ok(())
}

#[tokio::test]
async fn metrics_count_requests_and_responses_by_status_class_on_both_sides() -> anyhow::Result<()>
{
    let mesh = TestMesh::new()?;
    let (_app, api, frontend) = frontend_and_api(&mesh).await?;

    three_allowed_two_denied(&frontend).await?;

    let frontend_identity = spiffe_id("shop", "frontend");
    let outbound = [("direction", "outbound"), ("destination", "api.shop")];
    eventually(Duration::from_secs(10), || async {
        let text = frontend.metrics().await?;
        let requests = sum(&text, "meshcd_proxy_requests_total", &outbound);
        let ok = sum(
            &text,
            "meshcd_proxy_responses_total",
            &[outbound[0], outbound[1], ("status_class", "2xx")],
        );
        let denied = sum(
            &text,
            "meshcd_proxy_responses_total",
            &[outbound[0], outbound[1], ("status_class", "4xx")],
        );
        anyhow::ensure!(
            (requests, ok, denied) == (5.0, 3.0, 2.0),
            "outbound {requests}/{ok}/{denied}:\n{text}"
        );
        let text = api.metrics().await?;
        let admitted = sum(
            &text,
            "meshcd_proxy_requests_total",
            &[
                ("direction", "inbound"),
                ("source", &frontend_identity),
                ("route", "shop/api-routes/values"),
            ],
        );
        let refused = sum(
            &text,
            "meshcd_proxy_inbound_denied_total",
            &[("source", &frontend_identity)],
        );
        anyhow::ensure!(
            (admitted, refused) == (3.0, 2.0),
            "inbound {admitted}/{refused}:\n{text}"
        );
        Ok(())
    })
    .await
}

#[tokio::test]
async fn access_log_prints_one_json_line_per_request() -> anyhow::Result<()> {
    let mesh = TestMesh::new()?;
    let (_app, _api, mut frontend) = frontend_and_api(&mesh).await?;

    three_allowed_two_denied(&frontend).await?;

    let entries = eventually(Duration::from_secs(10), || {
        let entries: Vec<serde_json::Value> = frontend
            .process()
            .stdout_lines()
            .iter()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter(|entry| entry["event"] == "access")
            .collect();
        async move {
            anyhow::ensure!(
                entries.len() >= 5,
                "{} access lines so far: {entries:?}",
                entries.len()
            );
            Ok(entries)
        }
    })
    .await?;

    assert_eq!(entries.len(), 5, "{entries:?}");
    let statuses: Vec<u64> = entries
        .iter()
        .filter_map(|entry| entry["status"].as_u64())
        .collect();
    assert_eq!(
        statuses.iter().filter(|status| **status == 200).count(),
        3,
        "{entries:?}"
    );
    assert_eq!(
        statuses.iter().filter(|status| **status == 403).count(),
        2,
        "{entries:?}"
    );
    Ok(())
}
