//! The reconciler following a config repository over every transport, against real Git
//! servers started here (git daemon, smart HTTP with Basic auth, sshd, file://): pushes
//! are applied, force pushes followed; invalid, unsigned and wrongly signed commits,
//! unreachable servers and corrupted clones leave the last good revision in force with
//! the cause in the status; webhooks are signed; no credential ever shows.

mod git_support;

use std::path::Path;
use std::time::Duration;

use git_support::http_server::HttpGitServer;
use git_support::servers::{GitDaemon, SshServer};
use git_support::upstream::{broken_yaml, dangling_reference, namespace};
use git_support::{DEADLINE, Reconciler, Upstream, eventually, ssh_keygen};
use meshcd::source::webhook;
use serde_json::Value;

const PASSWORD: &str = "pa55-w0rd-never-shown";
const TOKEN: &str = "tok3n-never-shown-0123456789";
const WEBHOOK_SECRET: &str = "webhook-s3cret-never-shown";

/// A temp dir holding the served repositories, the working clones and the state.
struct World {
    directory: tempfile::TempDir,
}

impl World {
    fn new() -> Self {
        World {
            directory: tempfile::Builder::new()
                .prefix("meshcd-git-")
                .tempdir()
                .expect("temp dir"),
        }
    }

    fn path(&self) -> &Path {
        self.directory.path()
    }

    /// Where servers export bare repositories from.
    fn served(&self) -> std::path::PathBuf {
        self.path().join("served")
    }

    fn state(&self) -> std::path::PathBuf {
        self.path().join("state")
    }

    /// A config repository `config.git` with one valid commit; returns it and the commit.
    fn upstream(&self) -> (Upstream, String) {
        Upstream::create(&self.served(), self.path(), "config")
    }

    /// Writes a file (a secret, a key list) under the temp dir and returns its path.
    fn file(&self, name: &str, text: &str) -> String {
        let path = self.path().join(name);
        std::fs::write(&path, text).expect("write file");
        path.display().to_string()
    }
}

fn rejected_revision(source: &Value) -> &Value {
    &source["rejected"]["revision"]["id"]
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_url_applies_each_pushed_revision_and_follows_a_force_push() -> anyhow::Result<()> {
    let world = World::new();
    let (upstream, first) = world.upstream();
    let url = format!("file://{}", upstream.bare.display());
    let meshcd = Reconciler::builder(&url, &world.state())
        .args(["--branch", "main"])
        .poll_interval("200ms")
        .start()
        .await?;
    let source = meshcd.wait_applied(&first).await?;
    assert_eq!(source["repository"], url.as_str());
    assert_eq!(source["followed"], "refs/heads/main");
    // The reconciler works in its own clone, under the state directory.
    assert!(world.state().join("source/HEAD").exists());

    let second = upstream.commit(&[namespace("billing")], "onboard billing");
    meshcd.wait_applied(&second).await?;

    let rewritten = upstream.rewrite_last_commit(&[namespace("payments")], "payments, not billing");
    meshcd.wait_applied(&rewritten).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn git_daemon_applies_the_pushed_revision_following_the_remote_head() -> anyhow::Result<()> {
    let world = World::new();
    let (upstream, first) = world.upstream();
    let daemon = GitDaemon::start(&world.served()).await?;
    let meshcd = Reconciler::builder(&daemon.url("config"), &world.state())
        .poll_interval("200ms")
        .start()
        .await?;
    let source = meshcd.wait_applied(&first).await?;
    assert_eq!(source["reference"], "HEAD");
    assert_eq!(source["followed"], "refs/heads/main");

    let second = upstream.commit(&[namespace("billing")], "onboard billing");
    meshcd.wait_applied(&second).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn http_with_basic_auth_applies_the_pushed_revision_and_never_shows_the_password()
-> anyhow::Result<()> {
    let world = World::new();
    let (upstream, first) = world.upstream();
    let server = HttpGitServer::start(&world.served(), &[("deployer", PASSWORD)]).await?;
    let password_file = world.file("password", &format!("{PASSWORD}\n"));
    // The user rides in the URL; status and logs show the URL without it.
    let url = server.url("config").replace("http://", "http://deployer@");
    let meshcd = Reconciler::builder(&url, &world.state())
        .args(["--branch", "main", "--git-password-file", &password_file])
        .poll_interval("200ms")
        .start()
        .await?;
    let source = meshcd.wait_applied(&first).await?;
    assert_eq!(source["repository"], server.url("config").as_str());

    let second = upstream.commit(&[namespace("billing")], "onboard billing");
    meshcd.wait_applied(&second).await?;
    meshcd.assert_never_shows(&[PASSWORD, "deployer@"]).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn http_with_a_token_from_a_named_variable_applies_the_pushed_revision() -> anyhow::Result<()>
{
    let world = World::new();
    let (upstream, first) = world.upstream();
    let server = HttpGitServer::start(&world.served(), &[("git", TOKEN)]).await?;
    let meshcd = Reconciler::builder(&server.url("config"), &world.state())
        .args(["--branch", "main", "--git-token-env", "CONFIG_REPO_TOKEN"])
        .env("CONFIG_REPO_TOKEN", TOKEN)
        .poll_interval("200ms")
        .start()
        .await?;
    meshcd.wait_applied(&first).await?;
    let second = upstream.commit(&[namespace("billing")], "onboard billing");
    meshcd.wait_applied(&second).await?;
    meshcd.assert_never_shows(&[TOKEN]).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn https_checks_the_server_certificate_and_applies_the_pushed_revision() -> anyhow::Result<()>
{
    let world = World::new();
    let (upstream, first) = world.upstream();
    let certificate = world.path().join("git-server.pem");
    let server =
        HttpGitServer::start_https(&world.served(), &[("git", TOKEN)], &certificate).await?;
    let token_file = world.file("token", TOKEN);
    let reconciler = |state: &str, trusted: &Path| {
        Reconciler::builder(&server.url("config"), &world.path().join(state))
            .args(["--branch", "main", "--git-token-file", &token_file])
            // OpenSSL's own variable: the roots this reconciler trusts.
            .env("SSL_CERT_FILE", trusted.to_str().expect("UTF-8 path"))
            .poll_interval("200ms")
    };

    let stranger = world.path().join("stranger.pem");
    let key = rcgen::KeyPair::generate()?;
    let other = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])?.self_signed(&key)?;
    std::fs::write(&stranger, other.pem())?;
    let untrusting = reconciler("untrusting", &stranger).start().await?;
    let source = untrusting
        .wait_for("a certificate error", |source| {
            source["lastError"]
                .as_str()
                .is_some_and(|error| error.contains("certificate"))
        })
        .await?;
    assert_eq!(source["applied"], Value::Null);
    assert!(
        server.seen().is_empty(),
        "no request went to a server that is not trusted"
    );

    let meshcd = reconciler("trusting", &certificate).start().await?;
    meshcd.wait_applied(&first).await?;
    let second = upstream.commit(&[namespace("billing")], "onboard billing");
    meshcd.wait_applied(&second).await?;
    meshcd.assert_never_shows(&[TOKEN]).await?;
    untrusting.assert_never_shows(&[TOKEN]).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn http_with_a_wrong_password_is_refused_and_the_status_says_so_without_the_password()
-> anyhow::Result<()> {
    let world = World::new();
    let (_upstream, _first) = world.upstream();
    let server = HttpGitServer::start(&world.served(), &[("deployer", "the-right-one")]).await?;
    let password_file = world.file("password", PASSWORD);
    let meshcd = Reconciler::builder(&server.url("config"), &world.state())
        .args([
            "--git-username",
            "deployer",
            "--git-password-file",
            &password_file,
        ])
        .poll_interval("200ms")
        .start()
        .await?;
    let source = meshcd
        .wait_for("an authentication error", |source| {
            source["lastError"]
                .as_str()
                .is_some_and(|error| error.contains("refused the credentials"))
        })
        .await?;
    assert_eq!(source["lastErrorReason"], "fetch");
    assert_eq!(source["applied"], Value::Null);
    let text = meshcd.status_text().await?;
    assert!(text.contains("error:    fetch: "), "{text}");
    assert!(text.contains(&server.url("config")), "{text}");
    // Refused requests were refused by the server, not skipped by the client.
    assert!(server.seen().iter().any(|seen| seen.status == 401));
    meshcd
        .assert_never_shows(&[PASSWORD, "the-right-one"])
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn ssh_with_a_key_and_a_known_host_applies_the_pushed_revision() -> anyhow::Result<()> {
    let world = World::new();
    let Some(sshd) = SshServer::start(&world.path().join("sshd")).await? else {
        return Ok(());
    };
    let (upstream, first) = world.upstream();
    let known_hosts = world.file("known_hosts", &sshd.known_hosts_line(&sshd.host_key));
    let meshcd = Reconciler::builder(&sshd.url(&upstream.bare), &world.state())
        .args(["--branch", "main", "--ssh-known-hosts", &known_hosts])
        .arg("--ssh-key")
        .arg(&sshd.client_key)
        .poll_interval("200ms")
        .start()
        .await?;
    let source = meshcd.wait_applied(&first).await?;
    assert!(
        !source["repository"].as_str().unwrap_or("").contains('@'),
        "{source}"
    );
    let second = upstream.commit(&[namespace("billing")], "onboard billing");
    meshcd.wait_applied(&second).await?;
    let private_key = std::fs::read_to_string(&sshd.client_key)?;
    let key_body = private_key.lines().nth(1).unwrap_or_default();
    meshcd.assert_never_shows(&[key_body]).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn ssh_to_a_host_whose_key_is_not_the_known_one_is_refused() -> anyhow::Result<()> {
    let world = World::new();
    let Some(sshd) = SshServer::start(&world.path().join("sshd")).await? else {
        return Ok(());
    };
    let (upstream, _first) = world.upstream();
    let impostor = ssh_keygen(&world.path().join("impostor"), "impostor");
    let known_hosts = world.file("known_hosts", &sshd.known_hosts_line(&impostor));
    let meshcd = Reconciler::builder(&sshd.url(&upstream.bare), &world.state())
        .args(["--ssh-known-hosts", &known_hosts])
        .arg("--ssh-key")
        .arg(&sshd.client_key)
        .poll_interval("200ms")
        .start()
        .await?;
    let source = meshcd
        .wait_for("a host key error", |source| {
            source["lastError"]
                .as_str()
                .is_some_and(|error| error.contains("host key verification failed"))
        })
        .await?;
    assert_eq!(source["applied"], Value::Null);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invalid_commit_leaves_the_previous_revision_applied_and_the_status_names_file_and_line()
-> anyhow::Result<()> {
    let world = World::new();
    let (upstream, first) = world.upstream();
    let daemon = GitDaemon::start(&world.served()).await?;
    let meshcd = Reconciler::builder(&daemon.url("config"), &world.state())
        .args(["--branch", "main"])
        .poll_interval("200ms")
        .start()
        .await?;
    meshcd.wait_applied(&first).await?;

    let broken = upstream.commit(&[broken_yaml()], "a YAML syntax error");
    let source = meshcd
        .wait_for("the broken commit rejected", |s| {
            rejected_revision(s) == &broken
        })
        .await?;
    assert_eq!(source["applied"]["id"], first.as_str());
    assert_eq!(source["rejected"]["reason"], "validate");
    assert_eq!(source["rejected"]["errors"][0]["file"], "routes.yaml");
    assert_eq!(source["rejected"]["errors"][0]["line"], 3);
    let text = meshcd.status_text().await?;
    assert!(text.contains("(validate)"), "{text}");
    assert!(text.contains("routes.yaml:3"), "{text}");
    let (ready, _) = meshcd.request("GET", "/readyz", &[], b"").await?;
    assert_eq!(ready, 200, "the mesh keeps serving its revision");

    upstream.delete("routes.yaml");
    let dangling = upstream.commit(&[dangling_reference()], "a rule naming a missing group");
    let source = meshcd
        .wait_for("the dangling reference rejected", |s| {
            rejected_revision(s) == &dangling
        })
        .await?;
    assert_eq!(source["applied"]["id"], first.as_str());
    let error = &source["rejected"]["errors"][0];
    assert_eq!(error["file"], "target.yaml");
    assert_eq!(error["line"], 17);
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("api-routez")),
        "{error}"
    );

    upstream.delete("target.yaml");
    let fixed = upstream.commit(&[namespace("billing")], "fixed");
    let source = meshcd.wait_applied(&fixed).await?;
    assert_eq!(source["rejected"], Value::Null);
    let metrics = meshcd.metrics().await?;
    assert!(
        metrics.contains(r#"meshcd_reconcile_failures_total{reason="validate"} 2"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(&format!(
            r#"meshcd_source_revision_info{{state="applied",revision="{fixed}"}} 1"#
        )),
        "{metrics}"
    );
    assert!(
        metrics.contains("meshcd_commit_to_applied_seconds_count 2"),
        "{metrics}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn unsigned_and_wrongly_signed_commits_are_rejected_with_verify_signatures()
-> anyhow::Result<()> {
    let world = World::new();
    let (upstream, unsigned_first) = world.upstream();
    let alice_key = world.path().join("alice");
    let alice = ssh_keygen(&alice_key, "alice");
    let mallory_key = world.path().join("mallory");
    ssh_keygen(&mallory_key, "mallory");
    let allowed = world.file("allowed_signers", &format!("alice@example.com {alice}\n"));
    let url = format!("file://{}", upstream.bare.display());
    let meshcd = Reconciler::builder(&url, &world.state())
        .args(["--branch", "main", "--verify-signatures", &allowed])
        .poll_interval("200ms")
        .start()
        .await?;
    let source = meshcd
        .wait_for("the unsigned first commit rejected", |s| {
            rejected_revision(s) == &unsigned_first
        })
        .await?;
    assert_eq!(source["applied"], Value::Null);
    assert_eq!(source["rejected"]["reason"], "signature");

    let signed = upstream.commit_signed(&[namespace("billing")], "signed by alice", &alice_key);
    let source = meshcd.wait_applied(&signed).await?;
    assert_eq!(source["appliedSignedBy"], "alice@example.com");

    let unsigned = upstream.commit(&[namespace("payments")], "not signed");
    let source = meshcd
        .wait_for("the unsigned commit rejected", |s| {
            rejected_revision(s) == &unsigned
        })
        .await?;
    assert_eq!(source["applied"]["id"], signed.as_str());
    assert!(
        source["rejected"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("the commit is not signed")),
        "{source}"
    );

    let by_mallory = upstream.commit_signed(&[namespace("ads")], "signed by mallory", &mallory_key);
    let source = meshcd
        .wait_for("mallory's commit rejected", |s| {
            rejected_revision(s) == &by_mallory
        })
        .await?;
    assert_eq!(source["applied"]["id"], signed.as_str());
    assert!(
        source["rejected"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("which is not an allowed signer")),
        "{source}"
    );
    let text = meshcd.status_text().await?;
    assert!(text.contains("(signature)"), "{text}");
    assert!(text.contains("signatures: required"), "{text}");
    let metrics = meshcd.metrics().await?;
    assert!(
        metrics.contains(r#"meshcd_reconcile_failures_total{reason="signature"} 3"#),
        "{metrics}"
    );

    let signed_again = upstream.commit_signed(&[namespace("ads")], "alice again", &alice_key);
    meshcd.wait_applied(&signed_again).await?;
    Ok(())
}

/// A reconciler following `world`'s upstream over git:// with a webhook secret, its first
/// commit applied. An hour between polls: whatever is applied later came by webhook.
async fn webhook_reconciler(
    world: &World,
) -> anyhow::Result<(Upstream, String, GitDaemon, Reconciler)> {
    let (upstream, first) = world.upstream();
    let daemon = GitDaemon::start(&world.served()).await?;
    let secret_file = world.file("webhook-secret", &format!("{WEBHOOK_SECRET}\n"));
    let meshcd = Reconciler::builder(&daemon.url("config"), &world.state())
        .args(["--branch", "main", "--webhook-secret-file", &secret_file])
        .poll_interval("1h")
        .start()
        .await?;
    meshcd.wait_applied(&first).await?;
    Ok((upstream, first, daemon, meshcd))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_webhook_without_a_valid_signature_is_refused_and_a_signed_push_or_sync_applies_at_once()
-> anyhow::Result<()> {
    let world = World::new();
    let (upstream, first, _daemon, meshcd) = webhook_reconciler(&world).await?;
    let second = upstream.commit(&[namespace("billing")], "onboard billing");
    let body = format!(r#"{{"ref":"refs/heads/main","after":"{second}"}}"#);
    let push = |signature: Option<String>, body: String| {
        let meshcd = &meshcd;
        async move {
            let mut headers = vec![("x-github-event", "push".to_string())];
            if let Some(signature) = signature {
                headers.push(("x-hub-signature-256", signature));
            }
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
            meshcd
                .request("POST", "/webhook", &headers, body.as_bytes())
                .await
        }
    };

    let (code, _) = push(None, body.clone()).await?;
    assert_eq!(code, 401, "an unsigned delivery");
    let forged = webhook::sign(b"guessed-secret", body.as_bytes());
    let (code, _) = push(Some(forged), body.clone()).await?;
    assert_eq!(code, 403, "a delivery signed with another secret");
    let tampered = webhook::sign(WEBHOOK_SECRET.as_bytes(), br#"{"ref":"refs/heads/main"}"#);
    let (code, _) = push(Some(tampered), body.clone()).await?;
    assert_eq!(code, 403, "a signature over another body");
    let other_body = r#"{"ref":"refs/heads/feature"}"#.to_string();
    let other = webhook::sign(WEBHOOK_SECRET.as_bytes(), other_body.as_bytes());
    let (code, answer) = push(Some(other), other_body).await?;
    assert_eq!(
        (code, answer.starts_with("ignored")),
        (200, true),
        "{answer}"
    );
    assert_eq!(
        meshcd.status().await?["source"]["applied"]["id"],
        first.as_str(),
        "no refused or ignored delivery fetched"
    );

    let signed = webhook::sign(WEBHOOK_SECRET.as_bytes(), body.as_bytes());
    let (code, answer) = push(Some(signed), body).await?;
    assert_eq!(code, 202, "{answer}");
    meshcd.wait_applied(&second).await?;

    // `meshcd sync` asks for a fetch now, too.
    let third = upstream.commit(&[namespace("payments")], "onboard payments");
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_meshcd"))
        .args(["sync", "--server", &format!("http://{}", meshcd.admin)])
        .arg("--state-dir")
        .arg(&meshcd.state_dir)
        .output()
        .await?;
    assert!(output.status.success(), "{output:?}");
    meshcd.wait_applied(&third).await?;
    meshcd.assert_never_shows(&[WEBHOOK_SECRET]).await?;
    Ok(())
}

/// Sends a request head (and `body`) on a fresh connection and returns the status line
/// the listener answers with, or `None` when it answers nothing within `wait`.
async fn raw_exchange(
    address: std::net::SocketAddr,
    head: &str,
    body: &[u8],
    wait: Duration,
) -> anyhow::Result<Option<String>> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(address).await?;
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    let mut answer = Vec::new();
    let mut chunk = [0u8; 1024];
    let read = tokio::time::timeout(wait, async {
        while !answer.windows(2).any(|w| w == b"\r\n") {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await;
    Ok(read.ok().map(|()| {
        String::from_utf8_lossy(&answer)
            .lines()
            .next()
            .unwrap_or_default()
            .to_string()
    }))
}

#[tokio::test(flavor = "multi_thread")]
async fn webhook_deliveries_that_are_unsigned_oversized_or_trickled_are_refused_without_buffering()
-> anyhow::Result<()> {
    let world = World::new();
    let (_upstream, first, _daemon, meshcd) = webhook_reconciler(&world).await?;
    let head = |length: usize, signed: bool| {
        let signature = if signed {
            "X-Hub-Signature-256: sha256=00\r\n"
        } else {
            ""
        };
        format!(
            "POST /webhook HTTP/1.1\r\nHost: meshcd\r\nX-GitHub-Event: push\r\n{signature}Content-Length: {length}\r\n\r\n"
        )
    };

    // Unsigned: refused at once, though the 100 MB it announces never comes.
    let answer = raw_exchange(
        meshcd.admin,
        &head(100 << 20, false),
        b"",
        Duration::from_secs(5),
    )
    .await?;
    assert_eq!(
        answer.as_deref(),
        Some("HTTP/1.1 401 Unauthorized"),
        "unsigned"
    );
    // Signed-looking but larger than any push payload: not buffered whole.
    let big = vec![b'x'; 3 << 20];
    let answer = raw_exchange(
        meshcd.admin,
        &head(big.len(), true),
        &big,
        Duration::from_secs(10),
    )
    .await?;
    assert_eq!(
        answer.as_deref(),
        Some("HTTP/1.1 413 Payload Too Large"),
        "oversized"
    );
    // A body that trickles in does not hold a read slot for ever.
    let answer = raw_exchange(
        meshcd.admin,
        &head(1000, true),
        b"{",
        Duration::from_secs(20),
    )
    .await?;
    assert_eq!(
        answer.as_deref(),
        Some("HTTP/1.1 408 Request Timeout"),
        "trickled"
    );
    assert_eq!(
        meshcd.status().await?["source"]["applied"]["id"],
        first.as_str(),
        "no refused delivery fetched"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stopped_git_server_leaves_the_mesh_on_its_revision_and_recovery_is_automatic()
-> anyhow::Result<()> {
    let world = World::new();
    let (upstream, first) = world.upstream();
    let mut daemon = GitDaemon::start(&world.served()).await?;
    let meshcd = Reconciler::builder(&daemon.url("config"), &world.state())
        .args(["--branch", "main"])
        .poll_interval("200ms")
        .start()
        .await?;
    meshcd.wait_applied(&first).await?;

    daemon.stop().await;
    let second = upstream.commit(&[namespace("billing")], "pushed while the server is down");
    let source = meshcd
        .wait_for("two failed fetches in a row", |source| {
            source["consecutiveFailures"].as_u64() >= Some(2)
        })
        .await?;
    assert_eq!(source["lastErrorReason"], "fetch");
    assert_eq!(source["applied"]["id"], first.as_str());
    // Backing off: the second retry waits about 2 s, far beyond the 200 ms poll.
    let retry = source["retryInSeconds"].as_f64().unwrap_or_default();
    assert!(retry >= 1.8, "{source}");
    let (ready, _) = meshcd.request("GET", "/readyz", &[], b"").await?;
    assert_eq!(ready, 200, "the mesh keeps serving its revision");
    let text = meshcd.status_text().await?;
    assert!(text.contains("in a row; next attempt in"), "{text}");

    daemon.restart().await?;
    let source = meshcd.wait_applied(&second).await?;
    assert_eq!(source["lastError"], Value::Null);
    assert_eq!(source["consecutiveFailures"], 0);
    let metrics = meshcd.metrics().await?;
    assert!(
        !metrics.contains(r#"meshcd_reconcile_failures_total{reason="fetch"} 0"#),
        "{metrics}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_clone_whose_objects_were_corrupted_on_disk_is_cloned_again() -> anyhow::Result<()> {
    let world = World::new();
    let (upstream, first) = world.upstream();
    let daemon = GitDaemon::start(&world.served()).await?;
    let meshcd = Reconciler::builder(&daemon.url("config"), &world.state())
        .args(["--branch", "main"])
        .poll_interval("200ms")
        .start()
        .await?;
    meshcd.wait_applied(&first).await?;

    corrupt(&world.state().join("source/objects"));
    let second = upstream.commit(&[namespace("billing")], "after the corruption");
    meshcd.wait_applied(&second).await?;
    let output = meshcd.output();
    assert!(
        output.contains("the clone is damaged; cloning again"),
        "{output}"
    );
    Ok(())
}

/// Overwrites every object and pack file with garbage, as a failing disk might.
fn corrupt(folder: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    for entry in std::fs::read_dir(folder).expect("read objects") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            corrupt(&path);
        } else {
            // Git writes objects read-only.
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644))
                .expect("make writable");
            let length = std::fs::metadata(&path).expect("metadata").len() as usize;
            std::fs::write(&path, vec![0x5A; length]).expect("overwrite");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unchanged_revision_costs_only_the_ref_advertisement() -> anyhow::Result<()> {
    let world = World::new();
    let (_upstream, first) = world.upstream();
    let server = HttpGitServer::start(&world.served(), &[("git", TOKEN)]).await?;
    let token_file = world.file("token", TOKEN);
    let meshcd = Reconciler::builder(&server.url("config"), &world.state())
        .args(["--branch", "main", "--git-token-file", &token_file])
        .poll_interval("100ms")
        .start()
        .await?;
    meshcd.wait_applied(&first).await?;
    let settled = server.seen().len();
    let advertisements = |seen: &[git_support::http_server::Seen]| {
        seen.iter()
            .filter(|s| s.path.ends_with("/info/refs") && s.status == 200)
            .count()
    };
    eventually(DEADLINE, || async {
        let seen = server.seen();
        let polls = advertisements(&seen[settled..]);
        anyhow::ensure!(polls >= 5, "{polls} polls so far");
        Ok(())
    })
    .await?;
    let after: Vec<_> = server.seen()[settled..].to_vec();
    assert!(
        after
            .iter()
            .all(|s| s.method == "GET" && s.path.ends_with("/info/refs")),
        "an unchanged revision asked for more than the refs: {after:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_local_path_is_still_read_in_place_and_a_commit_is_seen_without_polling()
-> anyhow::Result<()> {
    let world = World::new();
    let (upstream, first) = world.upstream();
    let work = upstream.work().display().to_string();
    let meshcd = Reconciler::builder(&work, &world.state())
        .poll_interval("1h")
        .start()
        .await?;
    let source = meshcd.wait_applied(&first).await?;
    assert_eq!(source["repository"], work.as_str());
    assert!(
        !world.state().join("source").exists(),
        "no clone of a local path"
    );
    let second = upstream.commit(&[namespace("billing")], "onboard billing");
    tokio::time::timeout(Duration::from_secs(60), meshcd.wait_applied(&second)).await??;
    Ok(())
}
