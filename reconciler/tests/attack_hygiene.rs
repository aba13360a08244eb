//! Exhaustion and key hygiene, attacked on real processes: a CA key others can read, a
//! metrics server that answers without end or never, a connection flood past the cap,
//! and a flood that exhausts meshcd's file descriptors.
//!
//! The canary tests need `meshcd-proxy` next to `meshcd` (`cargo build --workspace --bins`).

mod canary_support;
mod hygiene_support;
mod local_support;

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use canary_support::{canary_yaml, commit_canary, rollout};
use hygiene_support::{
    KeepAlive, Meshcd, Misbehaviour, get_new, misbehaving_server, pid_with_argument, resident_kib,
    sample,
};
use local_support::{config_repo, eventually, mesh_with};
use meshcd::identity::ca::CertificateAuthority;

/// A loopback port free now, for a listener that must not come up.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs `meshcd run` on fixed loopback ports with `extra` flags until it exits; returns
/// its exit code, stdout and stderr, and whether anything listened on either port.
async fn run_to_exit(dir: &Path, extra: &[&str]) -> (Option<i32>, String, String, bool) {
    let repo = config_repo(dir);
    run_to_exit_on(dir, &repo, extra).await
}

/// [`run_to_exit`] on an existing repository.
async fn run_to_exit_on(
    dir: &Path,
    repo: &Path,
    extra: &[&str],
) -> (Option<i32>, String, String, bool) {
    let (control, admin) = (free_port(), free_port());
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_meshcd"))
        .arg("run")
        .arg("--repo")
        .arg(repo)
        .arg("--state-dir")
        .arg(dir.join("state"))
        .arg("--control-plane-addr")
        .arg(format!("127.0.0.1:{control}"))
        .arg("--admin-addr")
        .arg(format!("127.0.0.1:{admin}"))
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let output = tokio::time::timeout(Duration::from_secs(20), child.wait_with_output())
        .await
        .expect("meshcd exits instead of serving")
        .unwrap();
    let listened = [control, admin]
        .iter()
        .any(|port| std::net::TcpStream::connect(("127.0.0.1", *port)).is_ok());
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
        listened,
    )
}

/// Two reconcilers on one state directory would share its CA and tokens and both commit
/// canary outcomes: the second stops before it listens, naming the first.
#[tokio::test]
async fn a_second_reconciler_on_the_same_state_directory_stops_naming_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let repo = config_repo(dir.path());
    let first = Meshcd::start(dir.path(), &repo, &[], None).await;
    let (code, _, stderr, listened) = run_to_exit_on(dir.path(), &repo, &[]).await;
    assert_eq!(code, Some(1), "{stderr}");
    assert!(!listened, "the second reconciler listened");
    assert!(
        stderr.contains("is in use by meshcd (pid") && stderr.contains(&first.pid().to_string()),
        "{stderr}"
    );
    // Its log is a file, not a terminal: plain text, no colour codes.
    let log = first.stderr();
    assert!(log.contains("INFO"), "{log}");
    assert!(!log.contains('\x1b'), "colour codes in a log file: {log:?}");
    drop(first);
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[tokio::test]
async fn a_world_readable_ca_key_in_the_state_dir_stops_meshcd_before_it_listens() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    CertificateAuthority::load_or_create(&state, "cluster.local").unwrap();
    let key = state.join("ca.key");
    set_mode(&key, 0o644);

    let (code, stdout, stderr, listened) = run_to_exit(dir.path(), &[]).await;

    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(&key.display().to_string())
            && stderr.contains("mode 0644")
            && stderr.contains(&format!("chmod 600 {}", key.display())),
        "{stderr}"
    );
    assert!(!stdout.contains("listening"), "{stdout}");
    assert!(!listened, "nothing may listen with an exposed CA key");
}

#[tokio::test]
async fn an_operator_ca_key_readable_by_its_group_stops_meshcd_naming_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, key_pem) = CertificateAuthority::generate("cluster.local").unwrap();
    let (cert, key) = (
        dir.path().join("operator.crt"),
        dir.path().join("operator.key"),
    );
    std::fs::write(&cert, ca.bundle_pem()).unwrap();
    std::fs::write(&key, key_pem).unwrap();
    set_mode(&key, 0o640);
    let flags = [
        "--ca-cert",
        cert.to_str().unwrap(),
        "--ca-key",
        key.to_str().unwrap(),
    ];

    let (code, _, stderr, listened) = run_to_exit(dir.path(), &flags).await;

    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("chmod 600 {}", key.display())),
        "{stderr}"
    );
    assert!(!listened);
}

#[tokio::test]
async fn a_token_store_others_can_write_stops_meshcd_naming_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    let tokens = state.join("tokens.json");
    std::fs::write(&tokens, "[]").unwrap();
    set_mode(&tokens, 0o666);

    let (code, _, stderr, listened) = run_to_exit(dir.path(), &[]).await;

    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("chmod 600 {}", tokens.display())),
        "{stderr}"
    );
    assert!(!listened);
}

/// Starts a mesh judged by a Prometheus that `misbehaviour`s, commits a canary, and
/// returns the waiting message `/status` shows once an analysis hit the server, after
/// checking that meshcd stayed up, small, and counted no failed analysis.
async fn canary_judged_by(misbehaviour: Misbehaviour) -> String {
    let dir = tempfile::tempdir().unwrap();
    let repo = config_repo(dir.path());
    let prometheus = misbehaving_server(misbehaviour).await;
    let state = dir.path().join("state");
    let (mesh, _frontend) = mesh_with(
        &repo,
        &state,
        200,
        &[
            "--canary-metrics",
            &format!("prometheus=http://{prometheus}"),
        ],
    )
    .await;
    let pid = pid_with_argument(&state).expect("the reconciler's process");

    commit_canary(&repo, &canary_yaml(&[50], "10m", 1), "canary for api-v2");
    let admin = local_support::AdminApi::of(&mesh);
    let rollout = eventually(Duration::from_secs(30), || async {
        let rollout = rollout(&admin)
            .await
            .ok_or_else(|| "no rollout yet".to_string())?;
        let message = rollout["message"].as_str().unwrap_or_default();
        if message.starts_with("waiting: the metric source is unavailable") {
            Ok(rollout)
        } else {
            Err(format!("{rollout}"))
        }
    })
    .await;

    assert_eq!(
        rollout["failures"], 0,
        "an unread interval is no failed analysis"
    );
    let (status, _) = get_new(mesh.admin, "/healthz").await.unwrap();
    assert_eq!(status, 200, "meshcd still answers");
    let resident = resident_kib(pid);
    assert!(
        resident < 200 * 1024,
        "meshcd holds {resident} KiB after reading from the server"
    );
    mesh.stop().await;
    rollout["message"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_metrics_server_streaming_an_endless_answer_makes_the_canary_wait_naming_the_limit() {
    let message = canary_judged_by(Misbehaviour::EndlessBody).await;
    assert!(
        message.contains("answered more than 1048576 bytes (the answer size limit)"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_metrics_server_that_never_answers_makes_the_canary_wait_naming_the_timeout() {
    let message = canary_judged_by(Misbehaviour::Silence).await;
    assert!(message.contains("did not answer within 3s"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_flood_past_the_cap_leaves_an_established_client_served() {
    let dir = tempfile::tempdir().unwrap();
    let repo = config_repo(dir.path());
    let meshcd = Meshcd::start(dir.path(), &repo, &["--max-connections", "20"], None).await;
    let mut client = KeepAlive::connect(meshcd.admin).await.unwrap();
    assert_eq!(client.get("/healthz").await.unwrap().0, 200);

    // 200 connections held open: 19 fill the cap beside the client, 181 are refused.
    let mut flood = Vec::new();
    for _ in 0..200 {
        flood.push(tokio::net::TcpStream::connect(meshcd.admin).await.unwrap());
    }
    let refused = r#"meshcd_listener_connections_refused_total{listener="admin"}"#;
    let client = tokio::sync::Mutex::new(client);
    let metrics = eventually(Duration::from_secs(10), || async {
        let (status, metrics) = client.lock().await.get("/metrics").await?;
        match sample(&metrics, refused) {
            Some(count) if status == 200 && count >= 181.0 => Ok(metrics),
            count => Err(format!("HTTP {status}, {refused} {count:?}")),
        }
    })
    .await;
    assert_eq!(sample(&metrics, refused), Some(181.0), "{metrics}");
    for _ in 0..20 {
        assert_eq!(client.lock().await.get("/healthz").await.unwrap().0, 200);
    }
    assert!(
        get_new(meshcd.admin, "/healthz").await.is_err(),
        "a new client during the flood is refused"
    );
    assert_eq!(
        meshcd.stderr().matches("connection cap reached").count(),
        1,
        "one log line for the episode:\n{}",
        meshcd.stderr()
    );

    drop(flood);
    eventually(Duration::from_secs(10), || async {
        match get_new(meshcd.admin, "/healthz").await? {
            (200, _) => Ok(()),
            (status, body) => Err(format!("HTTP {status}: {body}")),
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_that_exhausts_file_descriptors_costs_no_busy_loop_and_service_returns() {
    let dir = tempfile::tempdir().unwrap();
    let repo = config_repo(dir.path());
    // The default cap is far above 64 descriptors: the flood runs meshcd out of them.
    let mut meshcd = Meshcd::start(dir.path(), &repo, &[], Some(64)).await;
    let mut client = KeepAlive::connect(meshcd.admin).await.unwrap();
    // The first revision applied, so that the flood only meets the listener.
    eventually(Duration::from_secs(20), || async {
        match get_new(meshcd.admin, "/readyz").await? {
            (200, _) => Ok(()),
            (status, body) => Err(format!("HTTP {status}: {body}")),
        }
    })
    .await;
    assert_eq!(client.get("/healthz").await.unwrap().0, 200);

    let mut flood = Vec::new();
    for _ in 0..150 {
        flood.push(tokio::net::TcpStream::connect(meshcd.admin).await.unwrap());
    }
    eventually(Duration::from_secs(10), || async {
        let log = meshcd.stderr();
        if log.contains("accepting a connection failed") {
            Ok(())
        } else {
            Err(log)
        }
    })
    .await;
    // Out of descriptors for 3 s: a loop retrying at once would burn those 3 s of CPU.
    let before = meshcd.cpu_ticks();
    let started = std::time::Instant::now();
    while started.elapsed() < Duration::from_secs(3) {
        assert_eq!(client.get("/healthz").await.unwrap().0, 200);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let spent = meshcd.cpu_ticks() - before;
    assert!(spent < 60, "meshcd spent {spent} ticks of CPU in 3 s");
    assert!(meshcd.is_running());
    assert_eq!(
        meshcd
            .stderr()
            .matches("accepting a connection failed")
            .count(),
        1,
        "one log line for the episode:\n{}",
        meshcd.stderr()
    );

    drop(flood);
    // New clients are served, and once accepting has worked for a quiet second the
    // episode's end is logged.
    eventually(Duration::from_secs(10), || async {
        match get_new(meshcd.admin, "/healthz").await? {
            (200, _) if meshcd.stderr().contains("accepting connections again") => Ok(()),
            (status, _) => Err(format!("HTTP {status}\n{}", meshcd.stderr())),
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_never_send_a_request_lose_their_slots_and_new_clients_are_served() {
    silent_clients_lose_their_slots(|meshcd| meshcd.admin).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxies_that_never_finish_a_tls_handshake_lose_their_control_plane_slots() {
    silent_clients_lose_their_slots(|meshcd| meshcd.control_plane).await;
}

/// A slow-loris attacker fills every slot of the listener `target` names and sends
/// nothing; the listener closes each connection once its deadline passes, and serves
/// again.
async fn silent_clients_lose_their_slots(target: fn(&Meshcd) -> std::net::SocketAddr) {
    let dir = tempfile::tempdir().unwrap();
    let repo = config_repo(dir.path());
    let meshcd = Meshcd::start(dir.path(), &repo, &["--max-connections", "3"], None).await;
    let address = target(&meshcd);
    let mut idle = Vec::new();
    for _ in 0..3 {
        idle.push(tokio::net::TcpStream::connect(address).await.unwrap());
    }
    if address == meshcd.admin {
        eventually(Duration::from_secs(10), || async {
            match get_new(meshcd.admin, "/healthz").await {
                Err(_) => Ok(()),
                Ok((status, _)) => Err(format!("HTTP {status} while every slot is held")),
            }
        })
        .await;
    }

    // The listener closes each silent connection once the request head is overdue.
    for stream in &mut idle {
        let mut byte = [0u8; 1];
        let read = tokio::time::timeout(
            Duration::from_secs(40),
            tokio::io::AsyncReadExt::read(stream, &mut byte),
        )
        .await
        .expect("meshcd closes a connection that sends no request");
        assert!(
            matches!(read, Ok(0) | Err(_)),
            "a silent client got {read:?}"
        );
    }
    eventually(Duration::from_secs(10), || async {
        match get_new(meshcd.admin, "/healthz").await? {
            (200, _) => Ok(()),
            (status, body) => Err(format!("HTTP {status}: {body}")),
        }
    })
    .await;
}
