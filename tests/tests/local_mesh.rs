//! The mesh on one machine driven by Git: commits to the config repository change what
//! clients see, workloads join with their tokens, and only onboarded namespaces get in.

use std::time::{Duration, Instant};

use meshcd_e2e::config_repo::{
    CANARY_ACCESS, CANARY_ROLLOUT, CANARY_SPLIT, POLICY_FILES, SIMPLE_ACCESS,
};
use meshcd_e2e::control_plane::proxy_list;
use meshcd_e2e::http::Client;
use meshcd_e2e::local_mesh::Workload;
use meshcd_e2e::{LocalMesh, eventually};

const SIMPLE: &str = "osm-simple-app";
const CANARY: &str = "osm-canary-deployment-sample-app";
const VALUES: &str = "http://api.osm-simple-app/api/values";
const OTHER: &str = "http://api.osm-simple-app/api/other";

/// "Within a few seconds": how long a commit may take to change what a client sees.
const POLICY_DEADLINE: Duration = Duration::from_secs(5);

/// GETs `uri` through `client` until the status is `status`, within [`POLICY_DEADLINE`].
async fn until_status(
    client: Client,
    uri: &str,
    status: u16,
) -> anyhow::Result<meshcd_e2e::http::Response> {
    eventually(POLICY_DEADLINE, || async move {
        let response = client.get(uri).await?;
        anyhow::ensure!(
            response.status == status,
            "GET {uri}: {} {}",
            response.status,
            response.text()
        );
        Ok(response)
    })
    .await
}

/// The simple app's api and frontend joined, with no policy letting frontend call api.
async fn api_and_frontend() -> anyhow::Result<(LocalMesh, Workload, Workload)> {
    let mesh = LocalMesh::start(&POLICY_FILES).await?;
    let api = mesh.workload(SIMPLE, "api", &["api"]).await?;
    let frontend = mesh.workload(SIMPLE, "frontend", &["frontend"]).await?;
    mesh.await_in_sync(2).await?;
    Ok((mesh, api, frontend))
}

#[tokio::test]
async fn committed_policy_lets_frontend_get_values_and_committing_its_removal_denies_it_again()
-> anyhow::Result<()> {
    let (mesh, _api, frontend) = api_and_frontend().await?;
    let client = frontend.proxy.client();

    // Deny by default: the call reaches api's proxy, which answers 403 itself.
    let denied = client.get(VALUES).await?;
    assert_eq!(denied.status, 403, "{}", denied.text());
    assert!(denied.app().is_err(), "the app answered: {}", denied.text());

    let committed = Instant::now();
    let allowing = mesh.repo.commit_from_examples(SIMPLE_ACCESS).await?;
    let allowed = until_status(client, VALUES, 200).await?;
    eprintln!("commit → allowed in {:?}", committed.elapsed());
    let reply = allowed.app()?;
    assert_eq!(reply.name, "api");
    assert_eq!(reply.path, "/api/values");
    let other = client.get(OTHER).await?;
    assert_eq!(
        other.status,
        403,
        "only /api/values is allowed: {}",
        other.text()
    );
    mesh.reconciler.await_in_sync(&allowing, 2).await?;

    let committed = Instant::now();
    let removing = mesh.repo.commit_removal(SIMPLE_ACCESS).await?;
    let denied = until_status(client, VALUES, 403).await?;
    eprintln!("commit → denied in {:?}", committed.elapsed());
    assert!(denied.app().is_err(), "the app answered: {}", denied.text());
    mesh.reconciler.await_in_sync(&removing, 2).await?;
    Ok(())
}

#[tokio::test]
async fn workload_in_two_services_receives_traffic_addressed_to_either() -> anyhow::Result<()> {
    let mesh = LocalMesh::start(&[SIMPLE_ACCESS, CANARY_SPLIT, CANARY_ROLLOUT]).await?;
    // Like a pod selected by both its version's Service and the root Service.
    let api_v1 = mesh.workload(CANARY, "api", &["api-v1", "api"]).await?;
    let frontend = mesh.workload(CANARY, "frontend", &["frontend"]).await?;
    let status = mesh.await_in_sync(2).await?;
    let listed = proxy_list(&status);
    assert!(
        listed
            .iter()
            .any(|proxy| proxy["services"] == serde_json::json!(["api-v1", "api"])),
        "the status does not list the workload in both services: {status:#}"
    );

    for host in ["api-v1", "api"] {
        let uri = format!("http://{host}.{CANARY}/version");
        let response = frontend.proxy.client().get(&uri).await?;
        assert_eq!(response.status, 200, "GET {uri}: {}", response.text());
        assert_eq!(response.app()?.name, api_v1.app.name, "GET {uri}");
    }
    Ok(())
}

#[tokio::test]
async fn workload_in_a_namespace_that_is_not_onboarded_is_refused_until_a_commit_onboards_it()
-> anyhow::Result<()> {
    let mesh = LocalMesh::start(&POLICY_FILES).await?;
    let app = mesh.app("shop-api").await?;
    let token = mesh
        .reconciler
        .create_token("shop", "api", &["api"])
        .await?;
    let join = || {
        mesh.join("shop", "api")
            .service("api")
            .serves_http(app.address)
            .token(&token)
    };

    let refusal = join().refused().await?;

    assert!(!refusal.status.success(), "{refusal:?}");
    assert!(!refusal.listened(), "the proxy started: {refusal:?}");
    assert!(
        refusal
            .stderr
            .contains(r#"namespace "shop" is not onboarded"#)
            && refusal.stderr.contains("meshcd namespace add shop"),
        "the error does not say what is wrong and how to fix it:\n{}",
        refusal.stderr
    );
    assert!(proxy_list(&mesh.reconciler.status().await?).is_empty());

    let onboarding = mesh
        .repo
        .commit_file(
            "namespaces/shop.yaml",
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n",
        )
        .await?;
    mesh.reconciler.await_applied(&onboarding).await?;
    let _proxy = join().start().await?;
    mesh.reconciler.await_in_sync(&onboarding, 1).await?;
    Ok(())
}

#[tokio::test]
async fn commit_is_applied_without_waiting_for_the_poll_interval() -> anyhow::Result<()> {
    // With an hour between polls, only the watch on the repository can see the commit.
    let mesh = LocalMesh::start_polling_every(&POLICY_FILES, "1h").await?;

    let committed = Instant::now();
    let revision = mesh.repo.commit_from_examples(CANARY_ACCESS).await?;

    mesh.reconciler
        .await_applied_within(&revision, POLICY_DEADLINE)
        .await?;
    eprintln!("commit → applied in {:?}", committed.elapsed());
    Ok(())
}

/// The names of the services in a proxy's snapshot, from its admin `/config`.
async fn snapshot_services(
    proxy: &meshcd_e2e::local_mesh::JoinedProxy,
) -> anyhow::Result<Vec<String>> {
    let config = proxy.config().await?;
    Ok(config["snapshot"]["services"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|service| service["name"].as_str().map(String::from))
        .collect())
}

#[tokio::test]
async fn a_proxy_is_sent_only_the_services_it_may_call_yet_a_call_to_another_gets_the_403_naming_why()
-> anyhow::Result<()> {
    let (mesh, _api, frontend) = api_and_frontend().await?;
    let client = frontend.proxy.client();
    let services = snapshot_services(&frontend.proxy).await?;
    assert!(
        !services.iter().any(|s| s == "api"),
        "no target lets frontend call api, yet it was sent: {services:?}"
    );

    // Scoped away, api is still a meshed service: the call reaches api's proxy, whose 403
    // names the identities and why, exactly as when every proxy got every service.
    let denied = client.get(VALUES).await?;
    assert_eq!(denied.status, 403, "{}", denied.text());
    assert!(denied.app().is_err(), "the app answered: {}", denied.text());
    let reason = denied.text();
    assert!(
        reason.contains("sa/frontend") && reason.contains("sa/api"),
        "{reason}"
    );
    assert!(
        reason.contains("no traffic target allows this source"),
        "{reason}"
    );
    // A host no service answers to is still unknown.
    let unknown = client.get("http://nope.osm-simple-app/").await?;
    assert_eq!(unknown.status, 404, "{}", unknown.text());
    assert!(
        unknown.text().contains("no meshed service"),
        "{}",
        unknown.text()
    );

    mesh.repo.commit_from_examples(SIMPLE_ACCESS).await?;
    until_status(client, VALUES, 200).await?;
    let services = snapshot_services(&frontend.proxy).await?;
    assert!(services.iter().any(|s| s == "api"), "{services:?}");
    Ok(())
}
