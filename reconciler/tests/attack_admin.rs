//! Attacks on the reconciler's admin API, against the built `meshcd run`: what a caller
//! without the admin token, with a wrong one, or a web page of another origin (carrying
//! the right token) gets, and that none of them changes what the reconciler does — it
//! still applies new commits, stays suspended when its operator suspended it, and a
//! running canary gets no commit — while the operator's own calls and the CLI work.
//!
//! The canary test needs `meshcd-proxy` next to the `meshcd` binary
//! (`cargo build --workspace --bins`).

mod canary_support;
mod git_support;
mod local_support;

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use git_support::upstream::namespace;
use git_support::{Reconciler, Upstream};
use http_body_util::{BodyExt as _, Empty};
use hyper_util::rt::TokioIo;

/// A token of the right shape that is not the reconciler's.
const WRONG_TOKEN: &str = "mcda_00000000000000000000000000000000000000000000000000000000deadbeef";
/// A page of another site, as a browser names it in `Origin`.
const EVIL_ORIGIN: &str = "http://evil.example";

/// Every route that reads or commands, each of which must refuse a stranger.
const PROTECTED: [(&str, &str); 9] = [
    ("GET", "/status"),
    ("GET", "/traffic"),
    ("POST", "/sync"),
    ("POST", "/suspend"),
    ("POST", "/resume"),
    ("POST", "/canaries/shop/api/promote"),
    ("POST", "/canaries/shop/api/abort"),
    ("POST", "/canaries/shop/api/pause"),
    ("POST", "/canaries/shop/api/resume"),
];

/// What the attacker gets back.
#[derive(Debug)]
struct Answer {
    code: u16,
    challenge: Option<String>,
    body: String,
}

/// One request to the admin listener with exactly `headers` (and the Host a client sends).
async fn attempt(
    admin: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> anyhow::Result<Answer> {
    let stream = tokio::net::TcpStream::connect(admin).await?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let mut request = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header(hyper::header::HOST, admin.to_string());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = sender
        .send_request(request.body(Empty::<Bytes>::new())?)
        .await?;
    let code = response.status().as_u16();
    let challenge = response
        .headers()
        .get(hyper::header::WWW_AUTHENTICATE)
        .and_then(|value| value.to_str().ok())
        .map(str::to_string);
    let body = response.into_body().collect().await?.to_bytes();
    Ok(Answer {
        code,
        challenge,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// A reconciler following a `file://` upstream that it polls once an hour: after the
/// first revision, only a sync makes it fetch. Returns the state folder's owner too.
async fn reconciler() -> anyhow::Result<(tempfile::TempDir, Upstream, Reconciler, String)> {
    let world = tempfile::Builder::new()
        .prefix("meshcd-attack-")
        .tempdir()?;
    let (upstream, first) = Upstream::create(&world.path().join("served"), world.path(), "config");
    let url = format!("file://{}", upstream.bare.display());
    let meshcd = follow(&url, &world.path().join("state"), &first).await?;
    Ok((world, upstream, meshcd, first))
}

/// `meshcd run` following `url` with its state in `state`, once `revision` is applied.
async fn follow(url: &str, state: &std::path::Path, revision: &str) -> anyhow::Result<Reconciler> {
    let meshcd = Reconciler::builder(url, state)
        .args(["--branch", "main"])
        .poll_interval("1h")
        .start()
        .await?;
    meshcd.wait_applied(revision).await?;
    Ok(meshcd)
}

/// The operator's `POST path`, with the admin token.
async fn as_operator(meshcd: &Reconciler, method: &str, path: &str) -> anyhow::Result<Answer> {
    let authorization = meshcd.authorization()?;
    attempt(
        meshcd.admin,
        method,
        path,
        &[("authorization", &authorization)],
    )
    .await
}

/// Neither suspended nor moved: the reconciler still has `first` applied and fetched,
/// and the operator's sync then applies `second`, which a suspended one would not.
async fn assert_unchanged(meshcd: &Reconciler, first: &str, second: &str) -> anyhow::Result<()> {
    let source = meshcd.status().await?["source"].clone();
    assert_eq!(source["suspended"], false, "{source:#}");
    assert_eq!(source["applied"]["id"], first, "{source:#}");
    assert_eq!(source["lastFetched"]["id"], first, "no fetch: {source:#}");
    let answer = as_operator(meshcd, "POST", "/sync").await?;
    assert_eq!(answer.code, 202, "{answer:?}");
    meshcd.wait_applied(second).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_calls_without_a_token_get_401_saying_why_and_change_nothing() -> anyhow::Result<()> {
    let (_world, upstream, meshcd, first) = reconciler().await?;
    let second = upstream.commit(&[namespace("billing")], "onboard billing");
    for (method, path) in PROTECTED {
        let answer = attempt(meshcd.admin, method, path, &[]).await?;
        assert_eq!(answer.code, 401, "{method} {path}: {answer:?}");
        assert!(
            answer
                .challenge
                .as_deref()
                .is_some_and(|c| c.starts_with("Bearer")),
            "{method} {path} names the scheme: {answer:?}"
        );
        assert!(
            answer.body.contains("missing bearer token"),
            "{method} {path} says why: {answer:?}"
        );
    }
    let answer = attempt(
        meshcd.admin,
        "POST",
        "/suspend",
        &[("authorization", "Basic b3BlcmF0b3I6aHVudGVyMg==")],
    )
    .await?;
    assert_eq!(answer.code, 401, "{answer:?}");
    assert!(answer.body.contains("malformed"), "{answer:?}");
    assert_unchanged(&meshcd, &first, &second).await
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_calls_with_a_wrong_token_get_403_that_does_not_echo_it_and_change_nothing()
-> anyhow::Result<()> {
    let (_world, upstream, meshcd, first) = reconciler().await?;
    let second = upstream.commit(&[namespace("billing")], "onboard billing");
    let bearer = format!("Bearer {WRONG_TOKEN}");
    for (method, path) in PROTECTED {
        let answer = attempt(meshcd.admin, method, path, &[("authorization", &bearer)]).await?;
        assert_eq!(answer.code, 403, "{method} {path}: {answer:?}");
        assert!(answer.body.contains("wrong admin token"), "{answer:?}");
        assert!(!answer.body.contains(WRONG_TOKEN), "echoed: {answer:?}");
    }
    assert!(
        !meshcd.output().contains(WRONG_TOKEN),
        "the token shows in the log"
    );
    assert_unchanged(&meshcd, &first, &second).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cross_origin_post_carrying_the_admin_token_gets_403_and_changes_nothing()
-> anyhow::Result<()> {
    let (_world, upstream, meshcd, first) = reconciler().await?;
    let second = upstream.commit(&[namespace("billing")], "onboard billing");
    let authorization = meshcd.authorization()?;
    for (method, path) in PROTECTED {
        for browser in [
            [("origin", EVIL_ORIGIN), ("sec-fetch-site", "cross-site")],
            // A page on another port of the same host: same site, another origin.
            [
                ("origin", "http://127.0.0.1:1"),
                ("sec-fetch-site", "same-site"),
            ],
        ] {
            let mut headers = vec![("authorization", authorization.as_str())];
            headers.extend(browser);
            let answer = attempt(meshcd.admin, method, path, &headers).await?;
            assert_eq!(answer.code, 403, "{method} {path} {browser:?}: {answer:?}");
            assert!(answer.body.contains("cross-origin"), "{answer:?}");
        }
    }
    // The listener's own origin (its own page, a same-origin fetch) is not refused.
    let own = format!("http://{}", meshcd.admin);
    let answer = attempt(
        meshcd.admin,
        "GET",
        "/status",
        &[("authorization", &authorization), ("origin", &own)],
    )
    .await?;
    assert_eq!(answer.code, 200, "{answer:?}");
    assert_unchanged(&meshcd, &first, &second).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stranger_cannot_resume_a_reconciler_its_operator_suspended() -> anyhow::Result<()> {
    let (_world, upstream, meshcd, first) = reconciler().await?;
    let answer = as_operator(&meshcd, "POST", "/suspend").await?;
    assert_eq!(answer.code, 200, "{answer:?}");
    let authorization = meshcd.authorization()?;
    let wrong = format!("Bearer {WRONG_TOKEN}");
    for (headers, code) in [
        (vec![], 401),
        (vec![("authorization", wrong.as_str())], 403),
        (
            vec![
                ("authorization", authorization.as_str()),
                ("origin", EVIL_ORIGIN),
            ],
            403,
        ),
    ] {
        let answer = attempt(meshcd.admin, "POST", "/resume", &headers).await?;
        assert_eq!(answer.code, code, "{headers:?}: {answer:?}");
    }
    // Still suspended: a new commit is fetched on the operator's sync, not applied.
    let second = upstream.commit(&[namespace("billing")], "onboard billing");
    assert_eq!(meshcd.status().await?["source"]["suspended"], true);
    assert_eq!(as_operator(&meshcd, "POST", "/sync").await?.code, 202);
    let source = meshcd
        .wait_for("the new commit fetched", |source| {
            source["lastFetched"]["id"] == second.as_str()
        })
        .await?;
    assert_eq!(source["applied"]["id"], first.as_str(), "{source:#}");
    assert_eq!(source["suspended"], true, "{source:#}");
    // The operator's resume applies it: the route itself works.
    assert_eq!(as_operator(&meshcd, "POST", "/resume").await?.code, 200);
    meshcd.wait_applied(&second).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn probes_and_metrics_answer_without_a_token_and_refusals_are_counted_by_reason()
-> anyhow::Result<()> {
    let (_world, _upstream, meshcd, _first) = reconciler().await?;
    for path in ["/healthz", "/livez", "/readyz", "/metrics"] {
        let answer = attempt(meshcd.admin, "GET", path, &[]).await?;
        assert_eq!(answer.code, 200, "{path}: {answer:?}");
    }
    let wrong = format!("Bearer {WRONG_TOKEN}");
    attempt(meshcd.admin, "POST", "/suspend", &[]).await?;
    attempt(
        meshcd.admin,
        "POST",
        "/suspend",
        &[("authorization", &wrong)],
    )
    .await?;
    attempt(meshcd.admin, "POST", "/sync", &[("authorization", &wrong)]).await?;
    attempt(meshcd.admin, "POST", "/sync", &[("origin", EVIL_ORIGIN)]).await?;
    let metrics = meshcd.metrics().await?;
    for line in [
        "meshcd_admin_requests_refused_total{reason=\"missing_token\"} 1",
        "meshcd_admin_requests_refused_total{reason=\"wrong_token\"} 2",
        "meshcd_admin_requests_refused_total{reason=\"cross_origin\"} 1",
        "meshcd_admin_requests_refused_total{reason=\"forbidden\"} 0",
    ] {
        assert!(metrics.contains(line), "{line} missing from\n{metrics}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_uses_the_state_dirs_admin_token_which_survives_a_restart() -> anyhow::Result<()> {
    let world = tempfile::Builder::new()
        .prefix("meshcd-attack-")
        .tempdir()?;
    let (upstream, first) = Upstream::create(&world.path().join("served"), world.path(), "config");
    let url = format!("file://{}", upstream.bare.display());
    let state = world.path().join("state");
    let meshcd = follow(&url, &state, &first).await?;
    let token_file = state.join("admin-token");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&token_file)?.permissions());
    assert_eq!(mode & 0o777, 0o600, "only the operator can read the token");
    let token = std::fs::read_to_string(&token_file)?;

    let text = meshcd.status_text().await?;
    assert!(
        text.contains(&format!("applied:  {}", &first[..12])),
        "{text}"
    );
    let second = upstream.commit(&[namespace("billing")], "onboard billing");
    let cli = |arguments: &[&str]| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_meshcd"));
        command
            .args(arguments)
            .args(["--server", &format!("http://{}", meshcd.admin)])
            .env_remove("MESHCD_ADMIN_TOKEN_FILE")
            .env_remove("MESHCD_STATE_DIR");
        command
    };
    let synced = cli(&["sync", "--state-dir", state.to_str().unwrap()]).output()?;
    assert!(synced.status.success(), "{synced:?}");
    meshcd.wait_applied(&second).await?;

    // Without the state directory's token the CLI is refused and says where it looked.
    let elsewhere = world.path().join("elsewhere");
    let refused = cli(&["status", "--state-dir", elsewhere.to_str().unwrap()]).output()?;
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("HTTP 401"), "{said}");
    assert!(
        said.contains(&elsewhere.join("admin-token").display().to_string()),
        "{said}"
    );

    // A restart keeps the token: the operator's session goes on.
    drop(meshcd);
    let meshcd = follow(&url, &state, &second).await?;
    assert_eq!(std::fs::read_to_string(&token_file)?, token);
    meshcd.status_text().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canary_commands_by_a_stranger_land_no_commit_and_the_operators_abort_does() {
    use canary_support::{canary_yaml, commit_by_meshcd, commit_canary, rollout};
    use local_support::{AdminApi, config_repo, git, mesh_with};

    let dir = tempfile::tempdir().unwrap();
    let repo = config_repo(dir.path());
    let (mesh, _frontend) = mesh_with(&repo, &dir.path().join("state"), 200, &[]).await;
    let admin = AdminApi::of(&mesh);
    // No traffic and a long deadline: the rollout waits at its first step.
    let operators = commit_canary(&repo, &canary_yaml(&[50], "5m", 2), "canary for api-v2");
    local_support::eventually(Duration::from_secs(15), || async {
        match rollout(&admin).await {
            Some(r) if r["phase"] == "Progressing" => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;

    let token = std::fs::read_to_string(mesh.admin_token_file()).unwrap();
    let right = format!("Bearer {}", token.trim());
    let wrong = format!("Bearer {WRONG_TOKEN}");
    for action in ["promote", "abort", "pause"] {
        let path = format!("/canaries/shop/api/{action}");
        for (headers, code) in [
            (vec![], 401),
            (vec![("authorization", wrong.as_str())], 403),
            (
                vec![("authorization", right.as_str()), ("origin", EVIL_ORIGIN)],
                403,
            ),
        ] {
            let answer = attempt(mesh.admin, "POST", &path, &headers).await.unwrap();
            assert_eq!(answer.code, code, "{action} {headers:?}: {answer:?}");
        }
    }
    let now = rollout(&admin).await.expect("the rollout still runs");
    assert_eq!(now["phase"], "Progressing", "{now}");
    assert_eq!(
        git(&repo, &["rev-parse", "HEAD"]),
        operators,
        "no commit landed"
    );

    // The operator's abort, with the token, does land its commit.
    let (code, said) = mesh
        .admin_call("POST", "/canaries/shop/api/abort")
        .await
        .unwrap();
    assert_eq!(code, 200, "{said}");
    let (_, message) = commit_by_meshcd(&repo, Duration::from_secs(15)).await;
    assert!(
        message.starts_with("meshcd: roll back canary shop/api"),
        "{message}"
    );
    mesh.stop().await;
}
