//! The setting of the Gateway API's Mesh conformance tests (v1.6.1,
//! `conformance/mesh/manifests.yaml`) in local mode, and their way of checking a request.
//!
//! Namespace `gateway-conformance-mesh` holds two workloads: `echo-v1` (Services `echo-v1`
//! and `echo`) and `echo-v2` (Services `echo-v2` and `echo`), each serving HTTP on ports 80
//! and 8080 and gRPC on port 7070 (`grpc_echo`). Requests leave from echo-v1's proxy, as upstream's client is the echo-v1 pod.
//! Namespace `gateway-conformance-mesh-consumer` is onboarded too; its one workload, the
//! consumer routes' client, is started by the tests that need it.
//! The Mesh is permissive: these tests are about routing, not authorization. Route
//! manifests are upstream's own (`schemas/tests/gateway-conformance/`, Apache-2.0), committed
//! as they are.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;

use crate::grpc_echo::GrpcClient;
use crate::http::{Client, Response, request};
use crate::local_mesh::{JoinedProxy, LocalMesh};
use crate::testapp::TestApp;
use crate::{config_repo, eventually};

pub const NAMESPACE: &str = "gateway-conformance-mesh";

/// The service port of the workloads' gRPC apps (upstream's `grpc` port).
pub const GRPC_PORT: u16 = 7070;

/// Where upstream's consumer routes and their client live.
pub const CONSUMER_NAMESPACE: &str = "gateway-conformance-mesh-consumer";

/// How long a case may take to hold (upstream's `MaxTimeToConsistency`).
const CONVERGENCE: Duration = Duration::from_secs(30);

/// Upstream's `RequiredConsecutiveSuccesses`.
const CONSECUTIVE: usize = 3;

/// The upstream manifest `name` (a file of `schemas/tests/gateway-conformance/`).
fn upstream_manifest(name: &str) -> anyhow::Result<String> {
    let path = conformance_folder().join(name);
    std::fs::read_to_string(&path).with_context(|| format!("read {}", path.display()))
}

fn conformance_folder() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/tests/gateway-conformance")
}

/// The conformance namespace's two workloads, with `manifests` committed.
pub struct ConformanceMesh {
    pub mesh: LocalMesh,
    /// echo-v1's proxy: where requests leave from.
    pub client: Client,
    revision: String,
    /// Kept to the end: dropping one stops it.
    workloads: Vec<(TestApp, JoinedProxy)>,
    _grpc_apps: Vec<TestApp>,
}

impl ConformanceMesh {
    /// The mesh with the namespace onboarded, the Mesh permissive and the upstream
    /// `manifests` committed in one revision, which both proxies have acknowledged.
    pub async fn start(manifests: &[&str]) -> anyhow::Result<Self> {
        let mut files = Vec::new();
        for manifest in manifests {
            files.push(((*manifest).to_owned(), upstream_manifest(manifest)?));
        }
        Self::start_with(files, &[]).await
    }

    /// [`ConformanceMesh::start`] with manifests of our own, (file name, text), and
    /// `client_arguments` given to echo-v1's proxy (where requests leave from).
    pub async fn start_with(
        manifests: Vec<(String, String)>,
        client_arguments: &[&str],
    ) -> anyhow::Result<Self> {
        let mesh = LocalMesh::start(&[]).await?;
        let examples = config_repo::examples_repo();
        let mesh_file = std::fs::read_to_string(examples.join("mesh.yaml"))?
            .replace("trafficPolicy: deny", "trafficPolicy: permissive");
        anyhow::ensure!(mesh_file.contains("trafficPolicy: permissive"));
        let mut files = vec![("mesh.yaml".to_owned(), mesh_file)];
        for namespace in [NAMESPACE, CONSUMER_NAMESPACE] {
            files.push((
                format!("namespaces/{namespace}.yaml"),
                format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {namespace}\n"),
            ));
        }
        for (manifest, text) in manifests {
            // In the folder of the namespace of its (first) object.
            let folder = if text.contains(&format!("namespace: {CONSUMER_NAMESPACE}\n")) {
                CONSUMER_NAMESPACE
            } else {
                NAMESPACE
            };
            files.push((format!("{folder}/{manifest}"), text));
        }
        let revision = mesh.repo.commit_files(&files).await?;
        mesh.reconciler.await_applied(&revision).await?;
        let mut workloads = Vec::new();
        let mut grpc_apps = Vec::new();
        for name in ["echo-v1", "echo-v2"] {
            let app = mesh.app(name).await?;
            let grpc = mesh.test_mesh().grpc_app(name).await?;
            let mut join = mesh
                .join(NAMESPACE, name)
                .named(name)
                .service(name)
                .service("echo")
                .serves_http(app.address)
                .serves_http_on(8080, app.address)
                .serves_http_on(GRPC_PORT, grpc.address);
            if name == "echo-v1" {
                join = join.arguments(client_arguments);
            }
            let proxy = join.start().await?;
            workloads.push((app, proxy));
            grpc_apps.push(grpc);
        }
        mesh.reconciler.await_in_sync(&revision, 2).await?;
        let client = workloads[0].1.client();
        Ok(Self {
            mesh,
            client,
            revision,
            workloads,
            _grpc_apps: grpc_apps,
        })
    }

    /// Starts upstream's consumer client (`echo-v1` of `gateway-conformance-mesh-consumer`)
    /// and returns its proxy's client once every proxy is in sync. Upstream's has no
    /// Service; a meshcd workload belongs to one, so this one serves `echo-v1` of its own
    /// namespace, which no test calls.
    pub async fn consumer_client(&mut self) -> anyhow::Result<Client> {
        let app = self.mesh.app("consumer-echo-v1").await?;
        let proxy = self
            .mesh
            .join(CONSUMER_NAMESPACE, "echo-v1")
            .named("consumer-echo-v1")
            .service("echo-v1")
            .serves_http(app.address)
            .start()
            .await?;
        let client = proxy.client();
        self.workloads.push((app, proxy));
        self.mesh
            .reconciler
            .await_in_sync(&self.revision, self.workloads.len())
            .await?;
        Ok(client)
    }

    /// Where the app of workload `name` (`echo-v1`, `echo-v2`) listens: in local mode the
    /// workload's own address, as a pod IP and container port are in a cluster.
    pub fn app_address(&self, name: &str) -> Option<std::net::SocketAddr> {
        self.workloads
            .iter()
            .find(|(app, _)| app.name == name)
            .map(|(app, _)| app.address)
    }

    /// A gRPC client calling `authority` (`echo:7070`) from echo-v1.
    pub async fn grpc_client(&self, authority: &str) -> anyhow::Result<GrpcClient> {
        GrpcClient::connect(self.client.address(), authority).await
    }

    /// Each case holds `CONSECUTIVE` times in a row, within `CONVERGENCE`.
    pub async fn expect_all(&self, cases: &[Case]) -> anyhow::Result<()> {
        for case in cases {
            self.expect(case).await?;
        }
        Ok(())
    }

    pub async fn expect(&self, case: &Case) -> anyhow::Result<()> {
        self.expect_from(&self.client, case).await
    }

    /// [`ConformanceMesh::expect`] with the request sent from `client`.
    pub async fn expect_from(&self, client: &Client, case: &Case) -> anyhow::Result<()> {
        eventually(CONVERGENCE, || async {
            for _ in 0..CONSECUTIVE {
                let response = send(client, case).await?;
                case.check(&response).with_context(|| {
                    format!("{case:?}: {} {}", response.status, response.text())
                })?;
            }
            Ok(())
        })
        .await
    }

    /// The share of `requests` requests to `http://echo{path}` each backend answered,
    /// after every one of them was answered 200.
    pub async fn shares(
        &self,
        path: &str,
        requests: usize,
    ) -> anyhow::Result<std::collections::BTreeMap<String, f64>> {
        let mut counts = std::collections::BTreeMap::<String, usize>::new();
        for _ in 0..requests {
            let response = self.client.get(&format!("http://echo{path}")).await?;
            anyhow::ensure!(
                response.status == 200,
                "{} {}",
                response.status,
                response.text()
            );
            *counts.entry(response.app()?.name).or_default() += 1;
        }
        Ok(counts
            .into_iter()
            .map(|(name, count)| (name, count as f64 / requests as f64))
            .collect())
    }
}

/// `case`'s request, sent from `client`.
async fn send(client: &Client, case: &Case) -> anyhow::Result<Response> {
    let host = if case.host.is_empty() {
        "echo"
    } else {
        case.host
    };
    let mut sent = request(http::Method::GET, &format!("http://{host}{}", case.path));
    for (name, value) in &case.headers {
        sent.headers_mut().append(
            http::HeaderName::from_bytes(name.as_bytes())?,
            http::HeaderValue::from_static(value),
        );
    }
    client.send(sent).await
}

/// One request of an upstream test and what must come of it (upstream's
/// `http.ExpectedResponse`). Empty fields: no expectation.
#[derive(Clone, Debug, Default)]
pub struct Case {
    /// The URL's host (default `echo`), with a port when not 80.
    pub host: &'static str,
    /// Path and query.
    pub path: &'static str,
    /// Request headers (names are case-insensitive).
    pub headers: Vec<(&'static str, &'static str)>,
    /// 200 when 0.
    pub status: u16,
    /// The app that must answer.
    pub backend: &'static str,
    /// The path the app must see.
    pub backend_path: &'static str,
    /// Headers the app must see (repeated ones joined with ", ", names lower case).
    pub backend_headers: Vec<(&'static str, &'static str)>,
    pub backend_absent: Vec<&'static str>,
    /// Headers the client must see.
    pub response_headers: Vec<(&'static str, &'static str)>,
    pub response_absent: Vec<&'static str>,
    /// A redirect's Location.
    pub location: &'static str,
}

impl Case {
    /// A GET of `path` answered 200 by `backend`.
    pub fn reaches(path: &'static str, backend: &'static str) -> Case {
        Case {
            path,
            backend,
            ..Case::default()
        }
    }

    /// A GET of `path` answered `status`, by no app.
    pub fn answered(path: &'static str, status: u16) -> Case {
        Case {
            path,
            status,
            ..Case::default()
        }
    }

    pub fn with_header(mut self, name: &'static str, value: &'static str) -> Case {
        self.headers.push((name, value));
        self
    }

    fn check(&self, response: &Response) -> anyhow::Result<()> {
        let status = if self.status == 0 { 200 } else { self.status };
        anyhow::ensure!(response.status == status, "status, want {status}");
        for (name, value) in &self.response_headers {
            let seen = response.headers.get(*name).and_then(|v| v.to_str().ok());
            anyhow::ensure!(
                seen == Some(value),
                "response header {name}: {seen:?}, want {value:?}"
            );
        }
        for name in &self.response_absent {
            anyhow::ensure!(
                !response.headers.contains_key(*name),
                "response header {name} present"
            );
        }
        if !self.location.is_empty() {
            let seen = response.headers.get(http::header::LOCATION);
            anyhow::ensure!(
                seen.is_some_and(|v| v == self.location),
                "Location {seen:?}, want {:?}",
                self.location
            );
        }
        let wants_app = !self.backend.is_empty()
            || !self.backend_path.is_empty()
            || !self.backend_headers.is_empty()
            || !self.backend_absent.is_empty();
        if !wants_app {
            return Ok(());
        }
        let app = response.app()?;
        anyhow::ensure!(
            self.backend.is_empty() || app.name == self.backend,
            "answered by {}, want {}",
            app.name,
            self.backend
        );
        anyhow::ensure!(
            self.backend_path.is_empty() || app.path == self.backend_path,
            "the app saw path {}, want {}",
            app.path,
            self.backend_path
        );
        for (name, value) in &self.backend_headers {
            let seen = app.headers.get(*name);
            anyhow::ensure!(
                seen.is_some_and(|v| v == value),
                "the app saw {name}: {seen:?}, want {value:?}"
            );
        }
        for name in &self.backend_absent {
            anyhow::ensure!(!app.headers.contains_key(*name), "the app saw {name}");
        }
        Ok(())
    }
}
