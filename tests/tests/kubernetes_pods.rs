//! The walkthrough on real pods: meshcd installed in a real cluster with `meshcd
//! install` (its own service account's rights), following a Git repository served by
//! `git daemon` on the node's address; the sample apps as Deployments whose pods the
//! webhook injects; every call made from inside a pod.
//!
//! Opt-in: needs `MESHCD_TEST_KUBECONFIG` (a cluster with a node, e.g. kube-local) and
//! the images `scripts/images.sh --testapp` loaded into it; otherwise it reports SKIPPED.
//!
//!     scripts/images.sh --testapp
//!     MESHCD_TEST_KUBECONFIG=/var/tmp/kube-local/kubeconfig \
//!       cargo test -p meshcd-e2e --test kubernetes_pods -- --nocapture
//!
//! `MESHCD_TEST_NATIVE_SIDECARS=always` installs with `--native-sidecars always` (for a
//! 1.28 cluster started with the SidecarContainers gate); by default the reconciler picks
//! by the server's version, which on a stock 1.28 means an ordinary proxy container.

use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use meshcd_e2e::config_repo::{CANARY_ROLLOUT, SIMPLE_ACCESS, examples_repo};
use meshcd_e2e::eventually;
use meshcd_e2e::kube::{GitDaemon, Kube, git, image_tag};

const MESH: &str = "meshcd-e2e";
/// meshcd's own namespace in this scenario (its CA Secret, Lease, Deployment).
const SYSTEM: &str = "meshcd-e2e";
const SIMPLE: &str = "osm-simple-app";
const CANARY: &str = "osm-canary-deployment-sample-app";
/// A namespace the mesh does not onboard: its pods have no proxy.
const OUTSIDE: &str = "meshcd-e2e-outside";
/// Pods start, images unpack, proxies join: minutes on a busy two-core node.
const POD_DEADLINE: Duration = Duration::from_secs(240);

#[tokio::test(flavor = "multi_thread")]
async fn the_walkthrough_runs_on_real_pods() -> anyhow::Result<()> {
    let kube = match Kube::from_environment() {
        Ok(kube) => kube,
        Err(reason) => {
            // Straight to stderr, past the test harness's capture, so a run shows it.
            let _ = writeln!(
                std::io::stderr().lock(),
                "SKIPPED the_walkthrough_runs_on_real_pods: {reason}"
            );
            return Ok(());
        }
    };
    let started = Instant::now();
    kube.delete_namespaces(&[SYSTEM, SIMPLE, CANARY, OUTSIDE])
        .await?;

    // The config repository: examples-repo/ for this mesh, without frontend's access
    // to api in osm-simple-app and without the Canary (both come later, as commits).
    let dir = tempfile::tempdir()?;
    let bare = dir.path().join("git/config.git");
    std::fs::create_dir_all(&bare)?;
    git(
        &bare,
        &["init", "--quiet", "--bare", "--initial-branch=main"],
    )
    .await?;
    let work = dir.path().join("work");
    copy_examples(&work)?;
    let mesh_file = std::fs::read_to_string(work.join("mesh.yaml"))?;
    std::fs::write(
        work.join("mesh.yaml"),
        mesh_file.replace("name: meshcd\n", &format!("name: {MESH}\n")),
    )?;
    for later in [SIMPLE_ACCESS, CANARY_ROLLOUT] {
        std::fs::remove_file(work.join(later))?;
    }
    git(&work, &["init", "--quiet", "--initial-branch=main"]).await?;
    git(&work, &["add", "--all"]).await?;
    git(
        &work,
        &["commit", "--quiet", "-m", "the mesh, no access yet"],
    )
    .await?;
    git(
        &work,
        &["remote", "add", "origin", bare.to_str().context("path")?],
    )
    .await?;
    git(&work, &["push", "--quiet", "origin", "main"]).await?;
    let node = kube.node_address().await?;
    let daemon = GitDaemon::start(&dir.path().join("git"), &node)?;
    daemon.wait_ready("config.git").await?;

    // Install as an operator would, with the images of scripts/images.sh.
    let tag = image_tag();
    let native = std::env::var("MESHCD_TEST_NATIVE_SIDECARS").unwrap_or_else(|_| "auto".into());
    let install = tokio::process::Command::new(meshcd_e2e::binaries::meshcd()?)
        .args([
            "install",
            "--namespace",
            SYSTEM,
            "--mesh-name",
            MESH,
            "--replicas",
            "2",
            "--branch",
            "main",
        ])
        .args(["--image", &format!("meshcd/meshcd:{tag}")])
        .args(["--proxy-image", &format!("meshcd/meshcd-proxy:{tag}")])
        .args(["--repo", &daemon.url("config.git")])
        .args(["--native-sidecars", &native])
        // `--gateway-api-crds auto` asks this cluster which Gateway API CRDs it lacks.
        .env("KUBECONFIG", kube.kubeconfig())
        .output()
        .await?;
    ensure!(
        install.status.success(),
        "meshcd install: {}",
        String::from_utf8_lossy(&install.stderr)
    );
    kube.apply(&String::from_utf8(install.stdout)?).await?;
    rollout(&kube, SYSTEM, "meshcd").await?;
    let first_leader = eventually(POD_DEADLINE, || leader(&kube)).await?;
    eprintln!(
        "installed: 2 replicas Ready, leader {first_leader} ({:.0?})",
        started.elapsed()
    );

    // The leader onboards the namespaces of the repository.
    for namespace in [SIMPLE, CANARY] {
        eventually(POD_DEADLINE, || async {
            let label = kube
                .ok(&[
                    "get",
                    "namespace",
                    namespace,
                    "-o",
                    r"jsonpath={.metadata.labels.meshcd\.dev/monitored-by}",
                ])
                .await?;
            ensure!(label.trim() == MESH, "{namespace} is not onboarded yet");
            Ok(())
        })
        .await?;
    }
    kube.ok(&["create", "namespace", OUTSIDE]).await?;
    kube.apply(&apps(&tag)).await?;
    for (namespace, deployment) in [
        (SIMPLE, "frontend"),
        (SIMPLE, "api"),
        (CANARY, "frontend"),
        (CANARY, "api-v1"),
        (CANARY, "api-v2"),
        (OUTSIDE, "client"),
    ] {
        rollout(&kube, namespace, deployment).await?;
    }
    // Native sidecars are init containers that keep running; otherwise the proxy is the
    // first ordinary container.
    let field = if native == "always" {
        "initContainers"
    } else {
        "containers"
    };
    let jsonpath = format!("jsonpath={{.items[*].spec.{field}[*].name}}");
    let containers = kube
        .ok(&[
            "-n", CANARY, "get", "pods", "-l", "app=api", "-o", &jsonpath,
        ])
        .await?;
    ensure!(
        containers.matches("meshcd-proxy").count() == 2,
        "api's pods have no meshcd-proxy in {field}: {containers}"
    );
    let logs = kube
        .ok(&["-n", SYSTEM, "logs", &format!("pod/{first_leader}")])
        .await?;
    let injecting = logs
        .lines()
        .find(|line| line.contains("injecting"))
        .unwrap_or_default()
        .to_owned();
    eprintln!("{injecting}");
    eprintln!("apps Ready and injected ({:.0?})", started.elapsed());

    // 403 before the TrafficTarget commit, 200 after.
    let values = "http://api.osm-simple-app.svc.cluster.local:8080/api/values";
    let call = format!("wget -S -qO- {values} 2>&1");
    eventually(POD_DEADLINE, || async {
        let output = kube
            .exec(SIMPLE, "deploy/frontend", "frontend", &call)
            .await?;
        ensure!(
            output.stdout.contains("403 Forbidden"),
            "not 403 yet: {}",
            output.stdout
        );
        Ok(())
    })
    .await?;
    eprintln!("frontend -> api without a TrafficTarget: 403");
    let access = std::fs::read_to_string(examples_repo().join(SIMPLE_ACCESS))?;
    commit(
        &work,
        SIMPLE_ACCESS,
        &access,
        "frontend may GET /api/values",
    )
    .await?;
    eventually(POD_DEADLINE, || async {
        let output = kube
            .exec(SIMPLE, "deploy/frontend", "frontend", &call)
            .await?;
        ensure!(
            output.stdout.contains("200 OK") && output.stdout.contains(r#""name":"api""#),
            "not 200 yet: {}",
            output.stdout
        );
        Ok(())
    })
    .await?;
    eprintln!("after the commit: 200 from api");

    // A Gateway API route for api, committed: the in-cluster reconciler applies it with
    // its own rights and reports it Accepted; frontend's proxy follows it.
    commit(
        &work,
        "osm-simple-app/route.yaml",
        API_ROUTE,
        "route api with an HTTPRoute",
    )
    .await?;
    eventually(POD_DEADLINE, || async {
        let accepted = kube
            .ok(&[
                "-n",
                SIMPLE,
                "get",
                "httproute",
                "api",
                "-o",
                "jsonpath={.status.parents[0].controllerName} {.status.parents[0].conditions[?(@.type==\"Accepted\")].status}",
            ])
            .await?;
        ensure!(accepted.trim() == "meshcd.dev/mesh True", "not accepted yet: {accepted:?}");
        let routed = kube
            .exec(SIMPLE, "deploy/frontend", "frontend", &call)
            .await?;
        ensure!(
            routed.stdout.to_ascii_lowercase().contains("x-routed-by: meshcd"),
            "not routed yet: {}",
            routed.stdout
        );
        Ok(())
    })
    .await?;
    let redirected = kube
        .exec(
            SIMPLE,
            "deploy/frontend",
            "frontend",
            "wget -S -qO- http://api.osm-simple-app.svc.cluster.local:8080/old/values 2>&1",
        )
        .await?;
    ensure!(
        redirected.stdout.contains("302")
            && redirected
                .stdout
                .to_ascii_lowercase()
                .contains("location: http://api.osm-simple-app.svc.cluster.local:8080/api/values")
            && redirected.stdout.contains(r#""name":"api""#),
        "the redirect was not answered and followed: {}",
        redirected.stdout
    );
    eprintln!(
        "HTTPRoute applied, Accepted by meshcd.dev/mesh; header set, /old redirected to /api"
    );

    // Strict mTLS: a pod outside the mesh dials api's pod directly on the app port.
    let api_ip = kube
        .ok(&[
            "-n",
            SIMPLE,
            "get",
            "pods",
            "-l",
            "app=api",
            "-o",
            "jsonpath={.items[0].status.podIP}",
        ])
        .await?;
    let direct = kube
        .exec(
            OUTSIDE,
            "deploy/client",
            "client",
            &format!("wget -qO- http://{}:8080/api/values 2>&1", api_ip.trim()),
        )
        .await?;
    ensure!(
        !direct.success && !direct.stdout.contains(r#""name""#),
        "a non-meshed pod reached the app around its proxy: {direct:?}"
    );
    eprintln!(
        "non-meshed pod -> api pod {}:8080 directly: refused ({})",
        api_ip.trim(),
        direct.stdout.trim()
    );

    // The TrafficSplit 90/10, over 1,000 calls from frontend's pod.
    let calls = kube
        .exec(CANARY, "deploy/frontend", "frontend", "i=0; while [ $i -lt 1000 ]; do wget -qO- http://api:8080/ || echo FAILED; echo; i=$((i+1)); done")
        .await?;
    let v1 = calls.stdout.matches(r#""name":"api-v1""#).count();
    let v2 = calls.stdout.matches(r#""name":"api-v2""#).count();
    let failed = calls.stdout.matches("FAILED").count();
    eprintln!("split over 1,000 calls: api-v1 {v1}, api-v2 {v2}, failed {failed}");
    ensure!(
        failed == 0 && v1 + v2 == 1000,
        "calls failed: {}",
        calls.stderr
    );
    ensure!(
        (70..=130).contains(&v2),
        "api-v2 got {v2} of 1,000 calls, not about 100"
    );

    // The Canary: traffic runs from frontend's pod until the end; the leader is killed
    // mid-rollout; the new leader carries on from the weight reached and commits the
    // promotion.
    let traffic = tokio::spawn({
        let kube = Kube::from_environment().map_err(anyhow::Error::msg)?;
        async move {
            kube.exec(CANARY, "deploy/frontend", "frontend",
                "rm -f /tmp/stop; ok=0; failed=0; while [ ! -e /tmp/stop ]; do \
                 if wget -qO /dev/null http://api:8080/; then ok=$((ok+1)); else failed=$((failed+1)); fi; done; \
                 echo ok=$ok failed=$failed").await
        }
    });
    let canary = std::fs::read_to_string(examples_repo().join(CANARY_ROLLOUT))?
        .replace("interval: 30s", "interval: 5s")
        .replace("minRequests: 20", "minRequests: 10");
    commit(&work, CANARY_ROLLOUT, &canary, "roll api-v2 out").await?;
    let weight_at_kill = eventually(POD_DEADLINE, || async {
        let weight = canary_weight(&kube).await?;
        ensure!(weight >= 20, "canary at {weight}%");
        Ok(weight)
    })
    .await?;
    let killed = leader_now(&kube).await?;
    let kill_time = Instant::now();
    kube.ok(&[
        "-n",
        SYSTEM,
        "delete",
        "pod",
        &killed,
        "--grace-period=0",
        "--force",
    ])
    .await?;
    let new_leader = eventually(POD_DEADLINE, || async {
        let holder = leader(&kube).await?;
        ensure!(holder != killed, "{killed} still holds the lease");
        Ok(holder)
    })
    .await?;
    let takeover = kill_time.elapsed();
    eprintln!(
        "leader {killed} killed at canary weight {weight_at_kill}%: {new_leader} leads after {takeover:.1?}"
    );
    let resumed = eventually(POD_DEADLINE, || async {
        let message = kube
            .ok(&[
                "-n",
                CANARY,
                "get",
                "canary",
                "api",
                "-o",
                "jsonpath={.status.progress.message}",
            ])
            .await?;
        ensure!(message.contains("resumed at"), "not resumed yet: {message}");
        Ok(message)
    })
    .await?;
    eprintln!("new leader: {resumed}");

    let promotion = eventually(Duration::from_secs(300), || async {
        let author = git(&bare, &["log", "-1", "--format=%an: %s", "main"]).await?;
        ensure!(
            author.starts_with("meshcd"),
            "no commit by meshcd yet (last: {})",
            author.trim()
        );
        let split = git(
            &bare,
            &["show", "main:osm-canary-deployment-sample-app/split.yaml"],
        )
        .await?;
        let canary = git(
            &bare,
            &["show", "main:osm-canary-deployment-sample-app/canary.yaml"],
        )
        .await?;
        ensure!(
            canary.contains("Promoted"),
            "the committed Canary is not Promoted: {canary}"
        );
        Ok(format!("{}\n{split}", author.trim()))
    })
    .await?;
    eprintln!("promotion committed: {promotion}");

    kube.exec(CANARY, "deploy/frontend", "frontend", "touch /tmp/stop")
        .await?;
    let traffic = traffic.await??;
    eprintln!(
        "traffic through the rollout and the leader's death: {}",
        traffic.stdout.trim()
    );
    let (ok, failed) = parse_traffic(&traffic.stdout)?;
    ensure!(
        ok > 0 && failed == 0,
        "calls between meshed pods failed: {}",
        traffic.stdout
    );

    // No reconciler at all: the webhook's failurePolicy (Fail) refuses new pods in
    // onboarded namespaces rather than start them outside the mesh; other namespaces
    // are not affected; meshed pods keep calling each other on their last snapshot.
    kube.ok(&["-n", SYSTEM, "scale", "deploy/meshcd", "--replicas=0"])
        .await?;
    kube.ok(&[
        "-n",
        SYSTEM,
        "wait",
        "--for=delete",
        "pod",
        "-l",
        "app.kubernetes.io/name=meshcd",
        "--timeout=120s",
    ])
    .await?;
    let image = format!("meshcd/meshcd-testapp:{tag}");
    let late_pod = |namespace: &'static str| {
        let image = image.clone();
        let kube = &kube;
        async move {
            let args = [
                "-n",
                namespace,
                "run",
                "late",
                "--image",
                &image,
                "--restart=Never",
            ];
            let app = ["--", "--listen", "0.0.0.0:8080"];
            kube.run(&[&args[..], &app[..]].concat(), None).await
        }
    };
    let refused = late_pod(SIMPLE).await?;
    ensure!(
        !refused.success && refused.stderr.contains("inject.meshcd.dev"),
        "a pod started in an onboarded namespace without the webhook: {refused:?}"
    );
    eprintln!(
        "reconciler scaled to 0: a new pod in {SIMPLE} is refused: {}",
        refused.stderr.trim()
    );
    let outside = late_pod(OUTSIDE).await?;
    ensure!(
        outside.success,
        "a pod outside the mesh was refused: {outside:?}"
    );
    let output = kube
        .exec(SIMPLE, "deploy/frontend", "frontend", &call)
        .await?;
    ensure!(
        output.stdout.contains("200 OK"),
        "without a control plane, frontend -> api: {}",
        output.stdout
    );
    eprintln!("without a control plane, frontend -> api: still 200");
    eprintln!("walkthrough done in {:.0?}", started.elapsed());

    if std::env::var_os("MESHCD_TEST_KEEP").is_none() {
        kube.delete_namespaces(&[SIMPLE, CANARY, OUTSIDE, SYSTEM])
            .await?;
    }
    drop(daemon);
    Ok(())
}

async fn rollout(kube: &Kube, namespace: &str, deployment: &str) -> anyhow::Result<()> {
    let output = kube
        .run(
            &[
                "-n",
                namespace,
                "rollout",
                "status",
                &format!("deploy/{deployment}"),
                "--timeout=240s",
            ],
            None,
        )
        .await?;
    if !output.success {
        let pods = kube
            .run(&["-n", namespace, "get", "pods", "-o", "wide"], None)
            .await?;
        bail!(
            "{namespace}/{deployment} did not become Ready: {}\n{}\n(images loaded? scripts/images.sh --testapp)",
            output.stderr.trim(),
            pods.stdout
        );
    }
    Ok(())
}

/// The leader Lease's holder, when it is one of meshcd's running pods.
async fn leader(kube: &Kube) -> anyhow::Result<String> {
    let holder = leader_now(kube).await?;
    let pods = kube
        .ok(&[
            "-n",
            SYSTEM,
            "get",
            "pods",
            "--field-selector=status.phase=Running",
            "-o",
            "jsonpath={.items[*].metadata.name}",
        ])
        .await?;
    ensure!(
        pods.split_whitespace().any(|pod| pod == holder),
        "the lease holder {holder:?} is not a running pod ({pods})"
    );
    Ok(holder)
}

async fn leader_now(kube: &Kube) -> anyhow::Result<String> {
    let holder = kube
        .ok(&[
            "-n",
            SYSTEM,
            "get",
            "lease",
            "meshcd-leader",
            "-o",
            "jsonpath={.spec.holderIdentity}",
        ])
        .await?;
    ensure!(!holder.trim().is_empty(), "no leader");
    Ok(holder.trim().to_owned())
}

async fn canary_weight(kube: &Kube) -> anyhow::Result<u32> {
    let weight = kube
        .ok(&[
            "-n",
            CANARY,
            "get",
            "canary",
            "api",
            "-o",
            "jsonpath={.status.progress.canaryWeight}",
        ])
        .await?;
    weight
        .trim()
        .parse()
        .with_context(|| format!("no progress in the Canary's status yet ({weight:?})"))
}

fn parse_traffic(summary: &str) -> anyhow::Result<(u64, u64)> {
    let field = |name: &str| -> anyhow::Result<u64> {
        summary
            .split_whitespace()
            .find_map(|part| part.strip_prefix(name))
            .context(format!("no {name} in {summary:?}"))?
            .parse()
            .context("a count")
    };
    Ok((field("ok=")?, field("failed=")?))
}

/// api's HTTPRoute: a redirect from `/old` to `/api`, and a response header on the rest.
const API_ROUTE: &str = "apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: api
  namespace: osm-simple-app
spec:
  parentRefs:
  - {group: '', kind: Service, name: api, port: 8080}
  rules:
  - matches: [{path: {type: PathPrefix, value: /old}}]
    filters:
    - type: RequestRedirect
      requestRedirect: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /api}}
  - filters:
    - type: ResponseHeaderModifier
      responseHeaderModifier: {set: [{name: X-Routed-By, value: meshcd}]}
    backendRefs: [{name: api, port: 8080}]
";

async fn commit(work: &Path, relative: &str, text: &str, message: &str) -> anyhow::Result<()> {
    std::fs::write(work.join(relative), text)?;
    git(work, &["add", "--", relative]).await?;
    git(work, &["commit", "--quiet", "-m", message]).await?;
    // The reconciler pushes outcome commits to the same branch: take them first.
    git(work, &["pull", "--quiet", "--rebase", "origin", "main"]).await?;
    git(work, &["push", "--quiet", "origin", "main"]).await?;
    Ok(())
}

/// examples-repo/ without what only local mode reads (`workloads/`) or CI runs.
fn copy_examples(to: &Path) -> anyhow::Result<()> {
    fn copy(from: &Path, to: &Path) -> anyhow::Result<()> {
        std::fs::create_dir_all(to)?;
        for entry in std::fs::read_dir(from)? {
            let entry = entry?;
            let name = entry.file_name();
            if name == "workloads" || name == ".github" {
                continue;
            }
            let path = entry.path();
            if path.is_dir() {
                copy(&path, &to.join(&name))?;
            } else {
                std::fs::copy(&path, to.join(&name))?;
            }
        }
        Ok(())
    }
    copy(&examples_repo(), to)
}

/// The sample apps: frontend → api in osm-simple-app; frontend → api (api-v1, api-v2
/// behind a 90/10 split) in the canary namespace; a client outside the mesh.
fn apps(tag: &str) -> String {
    let image = format!("meshcd/meshcd-testapp:{tag}");
    let mut yaml = String::new();
    let mut deployment = |namespace: &str, name: &str, account: &str, labels: &str| {
        yaml.push_str(&format!(
            "---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: {account}, namespace: {namespace}}}\n\
             ---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: {namespace}}}\n\
             spec:\n  replicas: 1\n  selector: {{matchLabels: {{{labels}}}}}\n  template:\n    metadata: {{labels: {{{labels}}}}}\n\
             \x20   spec:\n      serviceAccountName: {account}\n      containers:\n      - name: {container}\n\
             \x20       image: {image}\n        args: [--listen, 0.0.0.0:8080, --name, {name}]\n\
             \x20       ports: [{{name: http, containerPort: 8080}}]\n\
             \x20       readinessProbe: {{httpGet: {{path: /ready, port: http}}, periodSeconds: 2}}\n\
             \x20       livenessProbe: {{tcpSocket: {{port: 8080}}, periodSeconds: 10}}\n",
            container = if name.starts_with("api") { "api" } else { name },
        ));
    };
    deployment(SIMPLE, "frontend", "frontend", "app: frontend");
    deployment(SIMPLE, "api", "api", "app: api");
    deployment(CANARY, "frontend", "frontend", "app: frontend");
    deployment(CANARY, "api-v1", "api", "app: api, version: v1");
    deployment(CANARY, "api-v2", "api", "app: api, version: v2");
    deployment(OUTSIDE, "client", "client", "app: client");
    let mut service = |namespace: &str, name: &str, selector: &str| {
        yaml.push_str(&format!(
            "---\napiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: {namespace}}}\n\
             spec:\n  selector: {{{selector}}}\n  ports: [{{name: http, port: 8080, targetPort: 8080, appProtocol: http}}]\n"
        ));
    };
    service(SIMPLE, "api", "app: api");
    service(CANARY, "api", "app: api");
    service(CANARY, "api-v1", "app: api, version: v1");
    service(CANARY, "api-v2", "app: api, version: v2");
    yaml
}
