//! A scenario's world: one temp dir, one test CA, and the apps and proxies started in it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context;
use meshcd_schemas::proto::Snapshot;

use crate::netns::NetworkNamespace;
use crate::pki::{Identity, TestPki, spiffe_id};
use crate::proxy::{Proxy, ProxyBuilder};
use crate::snapshot::{SnapshotBuilder, allow_all_http, endpoints, http_service};
use crate::testapp::{Mode, TestApp};

/// Everything one scenario creates lives under its temp dir, so parallel scenarios never
/// share files, and every listener picks a free port, so they never share ports.
pub struct TestMesh {
    directory: tempfile::TempDir,
    pki: TestPki,
    started: AtomicUsize,
}

impl TestMesh {
    /// A fresh temp dir with a CA in it.
    pub fn new() -> anyhow::Result<Self> {
        let directory = tempfile::Builder::new()
            .prefix("meshcd-e2e-")
            .tempdir()
            .context("temp dir")?;
        let pki = TestPki::generate(&directory.path().join("pki"), "mesh")?;
        Ok(Self {
            directory,
            pki,
            started: AtomicUsize::new(0),
        })
    }

    /// The scenario's temp dir.
    pub fn path(&self) -> &Path {
        self.directory.path()
    }

    /// The mesh CA.
    pub fn pki(&self) -> &TestPki {
        &self.pki
    }

    /// A workload identity issued by the mesh CA.
    pub fn identity(&self, namespace: &str, service_account: &str) -> anyhow::Result<Identity> {
        self.pki.issue(namespace, service_account)
    }

    /// A second CA that has nothing to do with the mesh, for peers that must be refused.
    pub fn foreign_pki(&self) -> anyhow::Result<TestPki> {
        TestPki::generate(&self.path().join("foreign-pki"), "foreign")
    }

    /// Starts an HTTP test app that answers with `name`.
    pub async fn app(&self, name: &str) -> anyhow::Result<TestApp> {
        TestApp::start(
            name,
            Mode::Http,
            &self.folder(&format!("app-{name}"))?,
            None,
        )
        .await
    }

    /// Starts a raw TCP echo app.
    pub async fn tcp_echo_app(&self, name: &str) -> anyhow::Result<TestApp> {
        TestApp::start(
            name,
            Mode::TcpEcho,
            &self.folder(&format!("app-{name}"))?,
            None,
        )
        .await
    }

    /// Starts a gRPC echo app that answers with `name` ([`Mode::Grpc`]).
    pub async fn grpc_app(&self, name: &str) -> anyhow::Result<TestApp> {
        TestApp::start(
            name,
            Mode::Grpc,
            &self.folder(&format!("grpc-app-{name}"))?,
            None,
        )
        .await
    }

    /// Starts an app that writes like Python's http.server ([`Mode::Naive`]).
    pub async fn naive_app(&self, name: &str) -> anyhow::Result<TestApp> {
        TestApp::start(
            name,
            Mode::Naive,
            &self.folder(&format!("app-{name}"))?,
            None,
        )
        .await
    }

    /// api in shop (behind its proxy, in front of `app`) admitting frontend to every HTTP
    /// request, and frontend's proxy, which knows api: `(api, frontend)`.
    pub async fn frontend_and_api(&self, app: &TestApp) -> anyhow::Result<(Proxy, Proxy)> {
        let identity = self.identity("shop", "api")?;
        let snapshot = SnapshotBuilder::new(&identity)
            .serves_http("api", app.address)
            .allow(allow_all_http(
                "shop/api",
                &[&spiffe_id("shop", "frontend")],
            ))
            .build();
        let api = self.start_proxy("api", &identity, snapshot).await?;
        let identity = self.identity("shop", "frontend")?;
        let snapshot = SnapshotBuilder::new(&identity)
            .service(http_service("api", "shop", endpoints(&[&api])))
            .build();
        let frontend = self.start_proxy("frontend", &identity, snapshot).await?;
        Ok((api, frontend))
    }

    /// Starts an app inside `namespace`.
    pub async fn app_in(
        &self,
        namespace: &NetworkNamespace,
        name: &str,
    ) -> anyhow::Result<TestApp> {
        TestApp::start(
            name,
            Mode::Http,
            &self.folder(&format!("app-{name}"))?,
            Some(namespace),
        )
        .await
    }

    /// Options for a proxy with `identity` starting on `snapshot`; finish with `.start()`.
    pub fn proxy<'a>(
        &self,
        name: &str,
        identity: &Identity,
        snapshot: Snapshot,
    ) -> anyhow::Result<ProxyBuilder<'a>> {
        Ok(ProxyBuilder::new(
            name,
            identity,
            snapshot,
            &self.folder(&format!("proxy-{name}"))?,
        ))
    }

    /// Starts a proxy with default options.
    pub async fn start_proxy(
        &self,
        name: &str,
        identity: &Identity,
        snapshot: Snapshot,
    ) -> anyhow::Result<Proxy> {
        self.proxy(name, identity, snapshot)?.start().await
    }

    /// A new folder for one process's files; the counter keeps names reused in one
    /// scenario apart.
    fn folder(&self, name: &str) -> anyhow::Result<PathBuf> {
        let number = self.started.fetch_add(1, Ordering::SeqCst);
        let folder = self.path().join(format!("{number:02}-{name}"));
        std::fs::create_dir_all(&folder).with_context(|| format!("create {}", folder.display()))?;
        Ok(folder)
    }
}
