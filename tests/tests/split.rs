//! Traffic splits end to end: weights hold over many requests, a weight of 0 gets nothing,
//! and A/B matches send only matching requests to the split's backends.

use std::sync::Arc;

use meshcd_e2e::TestMesh;
use meshcd_e2e::http::{self, Client};
use meshcd_e2e::load::{self, LoadReport};
use meshcd_e2e::pki::spiffe_id;
use meshcd_e2e::proxy::Proxy;
use meshcd_e2e::snapshot::{
    Service, SnapshotBuilder, Split, allow_all_http, backend, endpoints, header_match,
    http_service, split,
};
use meshcd_e2e::testapp::TestApp;

const VALUES: &str = "http://api.shop/api/values";

/// One version of the api: its app (answering with `name`) and its proxy, admitting
/// frontend to everything.
async fn api_version(mesh: &TestMesh, name: &str) -> anyhow::Result<(TestApp, Proxy)> {
    let app = mesh.app(name).await?;
    let identity = mesh.identity("shop", name)?;
    let snapshot = SnapshotBuilder::new(&identity)
        .serves_http(name, app.address)
        .serves_http("api", app.address)
        .allow(allow_all_http(
            "shop/api",
            &[&spiffe_id("shop", "frontend")],
        ))
        .build();
    let proxy = mesh.start_proxy(name, &identity, snapshot).await?;
    Ok((app, proxy))
}

/// The frontend's proxy: the root service `api` has `root` as its own endpoints and
/// `split` over the versions.
async fn frontend(mesh: &TestMesh, root: &Proxy, split: Split) -> anyhow::Result<Proxy> {
    let identity = mesh.identity("shop", "frontend")?;
    let api = Service {
        split: Some(split),
        ..http_service("api", "shop", endpoints(&[root]))
    };
    let snapshot = SnapshotBuilder::new(&identity).service(api).build();
    mesh.start_proxy("frontend", &identity, snapshot).await
}

async fn get_values(client: Client, total: u64) -> LoadReport {
    load::run(client, Arc::new(|| http::get(VALUES)), total, 8).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ninety_ten_split_sends_ten_percent_of_ten_thousand_requests_to_the_canary()
-> anyhow::Result<()> {
    let mesh = TestMesh::new()?;
    let (_v1_app, v1) = api_version(&mesh, "api-v1").await?;
    let (_v2_app, v2) = api_version(&mesh, "api-v2").await?;
    let split = split(
        "shop/api",
        vec![
            backend("api-v1", 90, endpoints(&[&v1])),
            backend("api-v2", 10, endpoints(&[&v2])),
        ],
    );
    let frontend = frontend(&mesh, &v1, split).await?;

    let report = get_values(frontend.client(), 10_000).await;

    assert_eq!(report.failures(), 0, "{report:?}");
    assert_eq!(report.by_app.values().sum::<u64>(), 10_000, "{report:?}");
    let canary = report.percent_from("api-v2");
    eprintln!("api-v2 got {canary:.2}% of {} requests", report.completed);
    assert!(
        (canary - 10.0).abs() <= 1.5,
        "api-v2 got {canary:.2}% of requests, want 10 ± 1.5: {:?}",
        report.by_app
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_zero_split_sends_every_request_to_the_weighted_backend() -> anyhow::Result<()> {
    let mesh = TestMesh::new()?;
    let (_v1_app, v1) = api_version(&mesh, "api-v1").await?;
    let (_v2_app, v2) = api_version(&mesh, "api-v2").await?;
    // The root's own endpoints are v2, so a request that escaped the split would show.
    let split = split(
        "shop/api",
        vec![
            backend("api-v1", 1, endpoints(&[&v1])),
            backend("api-v2", 0, endpoints(&[&v2])),
        ],
    );
    let frontend = frontend(&mesh, &v2, split).await?;

    let report = get_values(frontend.client(), 2_000).await;

    assert_eq!(report.failures(), 0, "{report:?}");
    assert_eq!(
        report.by_app.get("api-v1"),
        Some(&2_000),
        "{:?}",
        report.by_app
    );
    assert_eq!(
        report.by_app.get("api-v2"),
        None,
        "weight 0 got traffic: {:?}",
        report.by_app
    );
    Ok(())
}

#[tokio::test]
async fn requests_matching_the_split_go_to_its_backends_and_the_rest_to_the_root_service()
-> anyhow::Result<()> {
    let mesh = TestMesh::new()?;
    let (_v1_app, v1) = api_version(&mesh, "api-v1").await?;
    let (_v2_app, v2) = api_version(&mesh, "api-v2").await?;
    let split = Split {
        matches: vec![header_match(
            "shop/canary-users/testers",
            "x-canary",
            "true|yes",
        )],
        ..split("shop/api", vec![backend("api-v2", 100, endpoints(&[&v2]))])
    };
    let frontend = frontend(&mesh, &v1, split).await?;
    let client = frontend.client();

    let with_header = |value: &'static str| {
        move || {
            let mut request = http::get(VALUES);
            request
                .headers_mut()
                .insert("x-canary", value.parse().expect("header value"));
            request
        }
    };
    let testers = load::run(client, Arc::new(with_header("true")), 100, 4).await;
    let others = load::run(client, Arc::new(|| http::get(VALUES)), 100, 4).await;
    // The header regex is a full match: "truely" is not "true".
    let near_miss = load::run(client, Arc::new(with_header("truely")), 50, 4).await;

    for report in [&testers, &others, &near_miss] {
        assert_eq!(report.failures(), 0, "{report:?}");
    }
    assert_eq!(
        testers.by_app.get("api-v2"),
        Some(&100),
        "matching requests: {:?}",
        testers.by_app
    );
    assert_eq!(
        others.by_app.get("api-v1"),
        Some(&100),
        "other requests: {:?}",
        others.by_app
    );
    assert_eq!(
        near_miss.by_app.get("api-v1"),
        Some(&50),
        "near misses: {:?}",
        near_miss.by_app
    );
    Ok(())
}
