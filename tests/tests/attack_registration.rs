//! Attacks on registration, against a real reconciler, proxies and apps: a proxy may
//! register only what its token's identity is entitled to, can never replace another
//! identity's registration, and an expired token lets nobody in.

use std::time::{Duration, Instant};

use meshcd_e2e::config_repo::{CANARY_ACCESS, CANARY_ROLLOUT, CANARY_SPLIT};
use meshcd_e2e::control_plane::proxy_list;
use meshcd_e2e::eventually::DEADLINE;
use meshcd_e2e::http::Client;
use meshcd_e2e::{LocalMesh, eventually};

const SIMPLE: &str = "osm-simple-app";
const VALUES: &str = "http://api.osm-simple-app/api/values";

/// In force: only the simple app's policy (frontend may call api).
const CANARY_FILES: [&str; 3] = [CANARY_ACCESS, CANARY_SPLIT, CANARY_ROLLOUT];

/// Calls api `calls` times through `client`; returns how many replies came from the app
/// named `name` with 200, and how many from anything else (or failed).
async fn answered_by(client: &Client, calls: usize, name: &str) -> anyhow::Result<(usize, usize)> {
    let mut by_name = 0;
    let mut other = 0;
    for _ in 0..calls {
        let response = client.get(VALUES).await?;
        match response.app() {
            Ok(reply) if response.status == 200 && reply.name == name => by_name += 1,
            _ => other += 1,
        }
    }
    Ok((by_name, other))
}

#[tokio::test]
async fn frontend_token_claiming_api_is_refused_and_none_of_1000_calls_to_api_reach_it()
-> anyhow::Result<()> {
    let mesh = LocalMesh::start(&CANARY_FILES).await?;
    let _api = mesh.workload(SIMPLE, "api", &["api"]).await?;
    let frontend = mesh.workload(SIMPLE, "frontend", &["frontend"]).await?;
    mesh.await_in_sync(2).await?;

    let intruder = mesh.app("intruder").await?;
    let frontend_token = mesh
        .reconciler
        .create_token(SIMPLE, "frontend", &["frontend"])
        .await?;
    let refusal = mesh
        .join(SIMPLE, "frontend")
        .named("intruder")
        .service("api")
        .serves_http(intruder.address)
        .token(&frontend_token)
        .refused()
        .await?;

    refusal.assert_says(&format!(
        r#"the token for {SIMPLE}/frontend may serve [frontend], not "api""#
    ));
    let (from_api, other) = answered_by(&frontend.proxy.client(), 1000, "api").await?;
    assert_eq!(
        (from_api, other),
        (1000, 0),
        "calls to api answered by someone else"
    );
    assert_eq!(proxy_list(&mesh.reconciler.status().await?).len(), 2);
    Ok(())
}

#[tokio::test]
async fn another_identity_reusing_the_victims_proxy_id_neither_takes_its_service_nor_evicts_it()
-> anyhow::Result<()> {
    let mesh = LocalMesh::start(&CANARY_FILES).await?;
    let api_app = mesh.app("api").await?;
    let _api = mesh
        .join(SIMPLE, "api")
        .service("api")
        .serves_http(api_app.address)
        .proxy_id("api-1")
        .start()
        .await?;
    let frontend = mesh.workload(SIMPLE, "frontend", &["frontend"]).await?;
    mesh.await_in_sync(2).await?;

    let intruder = mesh.app("intruder").await?;
    let token = mesh
        .reconciler
        .create_token(SIMPLE, "intruder", &["intruder"])
        .await?;
    let join = || {
        mesh.join(SIMPLE, "intruder")
            .serves_http(intruder.address)
            .proxy_id("api-1")
            .token(&token)
    };
    // Under the victim's id and claiming its service: refused.
    let refusal = join().service("api").refused().await?;
    refusal.assert_says(r#"not "api""#);
    // Under the victim's id with its own service: a registration of its own, beside the
    // victim's, not in its place.
    let _intruder = join().service("intruder").start().await?;
    let status = mesh.await_in_sync(3).await?;

    let ids: Vec<String> = proxy_list(&status)
        .iter()
        .filter_map(|proxy| proxy["id"].as_str().map(str::to_owned))
        .collect();
    assert!(ids.contains(&format!("{SIMPLE}/api/api-1")), "{ids:?}");
    assert!(ids.contains(&format!("{SIMPLE}/intruder/api-1")), "{ids:?}");
    let (from_api, other) = answered_by(&frontend.proxy.client(), 200, "api").await?;
    assert_eq!((from_api, other), (200, 0), "the victim stopped serving");
    Ok(())
}

#[tokio::test]
async fn expired_token_is_refused_at_join_saying_when_it_expired() -> anyhow::Result<()> {
    let mesh = LocalMesh::start(&CANARY_FILES).await?;
    let app = mesh.app("api").await?;
    let ttl = Duration::from_secs(8);
    let created = Instant::now();
    let token = mesh
        .reconciler
        .create_token_for(SIMPLE, "api", &["api"], "8s")
        .await?;
    let join = || {
        mesh.join(SIMPLE, "api")
            .service("api")
            .serves_http(app.address)
            .token(&token)
    };
    // While valid, the token lets its proxy in.
    let first = join().start().await?;
    mesh.await_in_sync(1).await?;
    drop(first);

    eventually(DEADLINE, || async {
        anyhow::ensure!(created.elapsed() > ttl, "the token has not expired yet");
        Ok(())
    })
    .await?;
    let refusal = join().refused().await?;

    refusal.assert_says("token expired at");
    Ok(())
}
