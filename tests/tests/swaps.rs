//! Snapshot swaps while traffic flows: a new snapshot takes effect, and a hundred of them
//! under load fail no request and do not churn upstream connections.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use meshcd_e2e::http;
use meshcd_e2e::load::{self, Load};
use meshcd_e2e::pki::{Identity, spiffe_id};
use meshcd_e2e::proxy::Proxy;
use meshcd_e2e::snapshot::{Snapshot, SnapshotBuilder, allow_all_http, endpoints, http_service};
use meshcd_e2e::sockets::established_peers;
use meshcd_e2e::testapp::TestApp;
use meshcd_e2e::{TestMesh, eventually};

const VALUES: &str = "http://api.shop/api/values";
const SWAPS: u32 = 100;

fn api_snapshot(identity: &Identity, app: &TestApp, version: u32) -> Snapshot {
    SnapshotBuilder::new(identity)
        .version(format!("v{version}"))
        .serves_http("api", app.address)
        .allow(allow_all_http(
            "shop/api",
            &[&spiffe_id("shop", "frontend")],
        ))
        .build()
}

/// The frontend's view; every version also changes an unrelated service, so each swap
/// carries a real change besides the version.
fn frontend_snapshot(identity: &Identity, api: &[&Proxy], version: u32) -> Snapshot {
    SnapshotBuilder::new(identity)
        .version(format!("v{version}"))
        .service(http_service("api", "shop", endpoints(api)))
        .service(http_service(
            &format!("unrelated-{version}"),
            "shop",
            Vec::new(),
        ))
        .build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_snapshot_moves_traffic_to_the_new_endpoint() -> anyhow::Result<()> {
    let mesh = TestMesh::new()?;
    let api_identity = mesh.identity("shop", "api")?;
    let blue_app = mesh.app("blue").await?;
    let blue = mesh
        .start_proxy(
            "blue",
            &api_identity,
            api_snapshot(&api_identity, &blue_app, 1),
        )
        .await?;
    let green_app = mesh.app("green").await?;
    let green = mesh
        .start_proxy(
            "green",
            &api_identity,
            api_snapshot(&api_identity, &green_app, 1),
        )
        .await?;
    let identity = mesh.identity("shop", "frontend")?;
    let frontend = mesh
        .start_proxy(
            "frontend",
            &identity,
            frontend_snapshot(&identity, &[&blue], 1),
        )
        .await?;
    let before = frontend.client().get(VALUES).await?;
    assert_eq!(before.app()?.name, "blue");

    frontend
        .apply(&frontend_snapshot(&identity, &[&green], 2))
        .await?;

    let report = load::run(frontend.client(), Arc::new(|| http::get(VALUES)), 50, 2).await;
    assert_eq!(report.failures(), 0, "{report:?}");
    assert_eq!(report.by_app.get("green"), Some(&50), "{:?}", report.by_app);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_snapshot_swaps_under_load_fail_no_request_and_keep_upstream_connections()
-> anyhow::Result<()> {
    let mesh = TestMesh::new()?;
    let app = mesh.app("api").await?;
    let api_identity = mesh.identity("shop", "api")?;
    let api = mesh
        .start_proxy("api", &api_identity, api_snapshot(&api_identity, &app, 1))
        .await?;
    let identity = mesh.identity("shop", "frontend")?;
    let frontend = mesh
        .start_proxy(
            "frontend",
            &identity,
            frontend_snapshot(&identity, &[&api], 1),
        )
        .await?;

    let load = Load::start(frontend.client(), Arc::new(|| http::get(VALUES)), 4);
    // Warm up until every client has been served a few times: the pools are as big as
    // this load needs them, and that is the baseline.
    eventually(Duration::from_secs(20), || async {
        let report = load.report();
        anyhow::ensure!(
            report.failures() == 0,
            "failures while warming up: {report:?}"
        );
        anyhow::ensure!(
            report.completed >= 200,
            "{} requests so far",
            report.completed
        );
        Ok(())
    })
    .await?;
    let warmed_up = load.report();
    let app_connections_before = warmed_up.connections_accepted_by("api");
    let proxy_connections_before = established_peers(api.inbound)?;
    let mut proxy_connections_seen: BTreeSet<_> = proxy_connections_before.clone();

    for version in 2..=SWAPS + 1 {
        let frontend_next = frontend_snapshot(&identity, &[&api], version);
        let api_next = api_snapshot(&api_identity, &app, version);
        let (frontend_swapped, api_swapped) =
            tokio::join!(frontend.apply(&frontend_next), api.apply(&api_next));
        frontend_swapped?;
        api_swapped?;
        proxy_connections_seen.extend(established_peers(api.inbound)?);
    }
    let report = load.stop().await;
    let app_connections_after = report.connections_accepted_by("api");
    eprintln!(
        "{} requests ({} before the swaps); app connections {app_connections_before} -> \
         {app_connections_after}; connections into the api proxy: {} before, {} distinct seen \
         across the swaps",
        report.completed,
        warmed_up.completed,
        proxy_connections_before.len(),
        proxy_connections_seen.len()
    );

    assert_eq!(
        report.failures(),
        0,
        "clients saw failures during the swaps: {report:?}"
    );
    assert!(
        report.completed >= warmed_up.completed + u64::from(SWAPS),
        "the load stalled during the swaps: {} requests before, {} after",
        warmed_up.completed,
        report.completed
    );
    assert!(
        app_connections_after <= app_connections_before + 2,
        "the api proxy opened {} new connections to its app over {SWAPS} swaps ({app_connections_before} before)",
        app_connections_after - app_connections_before
    );
    assert!(
        proxy_connections_seen.len() <= proxy_connections_before.len() + 2,
        "{} connections into the api proxy were seen over {SWAPS} swaps, {} before",
        proxy_connections_seen.len(),
        proxy_connections_before.len()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_in_flight_during_a_swap_finishes_on_the_old_snapshot() -> anyhow::Result<()> {
    let mesh = TestMesh::new()?;
    let app = mesh.app("api").await?;
    let api_identity = mesh.identity("shop", "api")?;
    let api = mesh
        .start_proxy("api", &api_identity, api_snapshot(&api_identity, &app, 1))
        .await?;
    let identity = mesh.identity("shop", "frontend")?;
    let frontend = mesh
        .start_proxy(
            "frontend",
            &identity,
            frontend_snapshot(&identity, &[&api], 1),
        )
        .await?;
    let client = frontend.client();
    let in_flight = tokio::spawn(async move { client.get("http://api.shop/slow?ms=1500").await });
    // The request is at the app once the api proxy holds a connection to it (the app is
    // fresh: nothing else connects to it).
    eventually(Duration::from_secs(10), || async {
        anyhow::ensure!(
            !established_peers(app.address)?.is_empty(),
            "the request has not reached the app"
        );
        Ok(())
    })
    .await?;

    // The new snapshot no longer has the api service at all.
    let without_api = SnapshotBuilder::new(&identity).version("2").build();
    frontend.apply(&without_api).await?;
    let after = frontend.client().get(VALUES).await?;
    let finished = in_flight.await??;

    assert_eq!(
        after.status,
        404,
        "a new request still saw the old snapshot: {}",
        after.text()
    );
    assert_eq!(
        finished.status,
        200,
        "the in-flight request: {}",
        finished.text()
    );
    assert_eq!(finished.app()?.path, "/slow");
    Ok(())
}

#[tokio::test]
async fn broken_snapshot_is_rejected_and_the_previous_one_stays_in_force() -> anyhow::Result<()> {
    let mesh = TestMesh::new()?;
    let app = mesh.app("api").await?;
    let api_identity = mesh.identity("shop", "api")?;
    let api = mesh
        .start_proxy("api", &api_identity, api_snapshot(&api_identity, &app, 1))
        .await?;
    let identity = mesh.identity("shop", "frontend")?;
    let frontend = mesh
        .start_proxy(
            "frontend",
            &identity,
            frontend_snapshot(&identity, &[&api], 1),
        )
        .await?;

    frontend.write_snapshot_text(r#"{"version": "2", "services": [{"name": 42}"#)?;
    // The proxy read and refused it: its reload counter says so.
    eventually(Duration::from_secs(10), || async {
        let text = frontend.metrics().await?;
        let rejected = meshcd_e2e::prometheus::sum(
            &text,
            "meshcd_proxy_snapshot_reloads_total",
            &[("result", "rejected")],
        );
        anyhow::ensure!(rejected >= 1.0, "no rejected reload yet:\n{text}");
        Ok(())
    })
    .await?;

    assert_eq!(frontend.config_version().await?, "v1");
    let response = frontend.client().get(VALUES).await?;
    assert_eq!(response.status, 200, "{}", response.text());
    Ok(())
}
