//! Access control end to end: an allowed call reaches the app; every other call gets the
//! destination proxy's 403 or, without a mesh certificate, no connection at all.

use meshcd_e2e::TestMesh;
use meshcd_e2e::http::{self, Client};
use meshcd_e2e::pki::{Identity, spiffe_id};
use meshcd_e2e::proxy::Proxy;
use meshcd_e2e::snapshot::{SnapshotBuilder, allow_http, endpoints, http_match, http_service};
use meshcd_e2e::testapp::TestApp;
use meshcd_e2e::tls::{self, Outcome};

const VALUES: &str = "http://api.shop/api/values";

/// The osm-simple-app rule: `frontend` may `GET /api/values` on `api`, nothing else.
async fn api_admitting_frontend_to_get_values(mesh: &TestMesh) -> anyhow::Result<(TestApp, Proxy)> {
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
    let proxy = mesh.start_proxy("api", &identity, snapshot).await?;
    Ok((app, proxy))
}

/// A workload of `service_account` in shop whose proxy knows the api service.
async fn caller(mesh: &TestMesh, service_account: &str, api: &Proxy) -> anyhow::Result<Proxy> {
    let identity = mesh.identity("shop", service_account)?;
    caller_with(mesh, &identity, api).await
}

async fn caller_with(mesh: &TestMesh, identity: &Identity, api: &Proxy) -> anyhow::Result<Proxy> {
    let snapshot = SnapshotBuilder::new(identity)
        .service(http_service("api", "shop", endpoints(&[api])))
        .build();
    mesh.start_proxy(&identity.service_account, identity, snapshot)
        .await
}

#[tokio::test]
async fn allowed_route_from_a_listed_source_gets_the_apps_response() -> anyhow::Result<()> {
    let mesh = TestMesh::new()?;
    let (_app, api) = api_admitting_frontend_to_get_values(&mesh).await?;
    let frontend = caller(&mesh, "frontend", &api).await?;

    let response = frontend.client().get(VALUES).await?;

    assert_eq!(response.status, 200, "{}", response.text());
    let reply = response.app()?;
    assert_eq!(reply.name, "api");
    assert_eq!(reply.method, "GET");
    assert_eq!(reply.path, "/api/values");
    Ok(())
}

#[tokio::test]
async fn request_on_another_path_gets_403_with_a_reason() -> anyhow::Result<()> {
    let mesh = TestMesh::new()?;
    let (_app, api) = api_admitting_frontend_to_get_values(&mesh).await?;
    let frontend = caller(&mesh, "frontend", &api).await?;

    let response = frontend.client().get("http://api.shop/api/admin").await?;

    assert_eq!(response.status, 403, "{}", response.text());
    assert!(!response.text().trim().is_empty(), "a 403 names its reason");
    assert!(
        response.app().is_err(),
        "the app answered a denied request: {}",
        response.text()
    );
    // The path regex is a full match: a longer path that starts alike is another path.
    let response = frontend
        .client()
        .get("http://api.shop/api/values/extra")
        .await?;
    assert_eq!(response.status, 403, "{}", response.text());
    Ok(())
}

#[tokio::test]
async fn request_with_another_method_gets_403() -> anyhow::Result<()> {
    let mesh = TestMesh::new()?;
    let (_app, api) = api_admitting_frontend_to_get_values(&mesh).await?;
    let frontend = caller(&mesh, "frontend", &api).await?;

    let response = frontend
        .client()
        .send(http::request(http::Method::DELETE, VALUES))
        .await?;

    assert_eq!(response.status, 403, "{}", response.text());
    assert!(!response.text().trim().is_empty(), "a 403 names its reason");
    Ok(())
}

#[tokio::test]
async fn request_from_an_unlisted_source_identity_gets_403() -> anyhow::Result<()> {
    let mesh = TestMesh::new()?;
    let (_app, api) = api_admitting_frontend_to_get_values(&mesh).await?;
    let intruder = caller(&mesh, "intruder", &api).await?;

    let response = intruder.client().get(VALUES).await?;

    assert_eq!(response.status, 403, "{}", response.text());
    assert!(!response.text().trim().is_empty(), "a 403 names its reason");
    Ok(())
}

#[tokio::test]
async fn permissive_policy_admits_a_source_no_rule_names() -> anyhow::Result<()> {
    let mesh = TestMesh::new()?;
    let app = mesh.app("api").await?;
    let identity = mesh.identity("shop", "api")?;
    let snapshot = SnapshotBuilder::new(&identity)
        .serves_http("api", app.address)
        .permissive()
        .build();
    let api = mesh.start_proxy("api", &identity, snapshot).await?;
    let stranger = caller(&mesh, "stranger", &api).await?;

    let response = stranger
        .client()
        .send(http::request(
            http::Method::POST,
            "http://api.shop/anything",
        ))
        .await?;

    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.app()?.path, "/anything");
    Ok(())
}

#[tokio::test]
async fn client_certificate_from_another_ca_is_refused_during_the_handshake() -> anyhow::Result<()>
{
    let mesh = TestMesh::new()?;
    let (app, api) = api_admitting_frontend_to_get_values(&mesh).await?;
    // Same SPIFFE ID as the allowed caller, but signed by a CA the mesh does not trust.
    let impostor = mesh.foreign_pki()?.issue("shop", "frontend")?;

    let outcome = tls::probe(api.inbound, Some(&impostor)).await?;

    assert!(
        matches!(outcome, Outcome::Refused(_)),
        "a foreign certificate was accepted: {outcome:?}"
    );
    assert_app_never_reached(&app).await
}

#[tokio::test]
async fn peer_without_a_client_certificate_is_refused_during_the_handshake() -> anyhow::Result<()> {
    let mesh = TestMesh::new()?;
    let (app, api) = api_admitting_frontend_to_get_values(&mesh).await?;

    let outcome = tls::probe(api.inbound, None).await?;

    assert!(
        matches!(outcome, Outcome::Refused(_)),
        "a peer without certificate was accepted: {outcome:?}"
    );
    assert_app_never_reached(&app).await
}

#[tokio::test]
async fn the_handshake_probe_is_answered_when_the_certificate_is_the_meshs() -> anyhow::Result<()> {
    // The control for the two refusals above: the same probe with a mesh certificate
    // gets application data back, so "refused" is the proxy's judgement, not the probe's.
    let mesh = TestMesh::new()?;
    let (_app, api) = api_admitting_frontend_to_get_values(&mesh).await?;
    let frontend = mesh.identity("shop", "frontend")?;

    let outcome = tls::probe(api.inbound, Some(&frontend)).await?;

    assert!(
        matches!(outcome, Outcome::Answered(_)),
        "a mesh certificate was refused: {outcome:?}"
    );
    Ok(())
}

/// The app counts the connections it accepts; if the first one is ours, no refused peer
/// got through to it.
async fn assert_app_never_reached(app: &TestApp) -> anyhow::Result<()> {
    let reply = Client::new(app.address)
        .get("http://app.local/")
        .await?
        .app()?;
    assert_eq!(
        reply.connection, 1,
        "the app had accepted connections before this check"
    );
    Ok(())
}

#[tokio::test]
async fn plaintext_client_is_served_only_when_mtls_is_permissive() -> anyhow::Result<()> {
    let mesh = TestMesh::new()?;
    let app = mesh.app("api").await?;
    let identity = mesh.identity("shop", "api")?;
    let strict = SnapshotBuilder::new(&identity)
        .serves_http("api", app.address)
        .permissive();
    let api = mesh
        .start_proxy("api", &identity, strict.clone().build())
        .await?;
    // A client outside the mesh: plain HTTP straight to the inbound listener.
    let outsider = Client::new(api.inbound);
    let mut request = http::get("/api/values");
    request.headers_mut().insert("host", "api.shop".parse()?);

    let refused = outsider.send(request.clone()).await;
    api.apply(&strict.version("2").permissive_mtls().build())
        .await?;
    let served = outsider.send(request).await?;

    assert!(
        refused.is_err(),
        "strict mTLS served plaintext: {:?}",
        refused.map(|r| r.status)
    );
    assert_eq!(served.status, 200, "{}", served.text());
    assert_eq!(served.app()?.name, "api");
    Ok(())
}
