//! The reconciler as a process: `meshcd run` on a config repository, its bootstrap tokens
//! (`meshcd token create|revoke`), its `/status`, and waits for a revision to be applied
//! and acknowledged by every proxy.
//!
//! The contract this module relies on: `meshcd run --repo PATH --state-dir DIR
//! --control-plane-addr ADDR --admin-addr ADDR --poll-interval DUR` prints one JSON line
//! `{"event":"listening","controlPlane":..,"admin":..,"caBundle":..}` once bound, keeps
//! its CA as `DIR/ca.crt` and `DIR/ca.key`, and serves `GET /status` on the admin address.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use rcgen::{
    CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use serde_json::Value;

use crate::binaries;
use crate::eventually::{DEADLINE, eventually};
use crate::http::{self, Client};
use crate::pki::{Identity, spiffe_id};
use crate::process::Process;

/// How long the reconciler may take to print its listening line.
const START_DEADLINE: Duration = Duration::from_secs(20);

/// How often the reconciler polls the repository. The `notify` watch normally sees a
/// commit at once; the poll is only the safety net of a busy machine.
pub const POLL_INTERVAL: &str = "2s";

/// A running `meshcd run`.
pub struct Reconciler {
    /// The gRPC (TLS) address proxies join.
    pub control_plane: SocketAddr,
    /// The admin HTTP address (`/status`).
    pub admin: SocketAddr,
    /// The mesh CA bundle proxies trust the control plane with.
    pub ca_bundle: PathBuf,
    launch: Launch,
    starts: usize,
    process: Process,
}

/// A bootstrap token as `meshcd token create` printed it.
#[derive(Clone, Debug)]
pub struct Token {
    /// `mcd_<id>_<secret>`: what a proxy presents.
    pub secret: String,
    /// What `meshcd token revoke` takes.
    pub id: String,
}

/// What every start of one reconciler shares.
#[derive(Clone, Debug)]
struct Launch {
    repository: PathBuf,
    state_directory: PathBuf,
    log_directory: PathBuf,
    poll_interval: String,
}

impl Reconciler {
    /// Starts `meshcd run` on `repository` with its state in `state_directory`, picking
    /// free ports, and waits for its listening line (not for a revision to be applied).
    pub async fn start(
        repository: &Path,
        state_directory: &Path,
        log_directory: &Path,
        poll_interval: &str,
    ) -> anyhow::Result<Self> {
        let launch = Launch {
            repository: repository.to_owned(),
            state_directory: state_directory.to_owned(),
            log_directory: log_directory.to_owned(),
            poll_interval: poll_interval.to_owned(),
        };
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        launch.start(loopback, 1).await
    }

    /// CPU time the reconciler process has used so far.
    pub fn cpu_time(&self) -> anyhow::Result<Duration> {
        self.process.cpu_time()
    }

    /// The state directory (CA key, token hashes).
    pub fn state_directory(&self) -> &Path {
        &self.launch.state_directory
    }

    /// Kills the reconciler at once (SIGKILL), as a crash or an evicted pod.
    pub fn kill(&mut self) {
        self.process.kill();
    }

    /// Starts the reconciler again after [`Reconciler::kill`]: same repository, same state
    /// directory (so the same CA and tokens), and the same control-plane address, so the
    /// proxies that were joined find it again. The admin address may change.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        self.process.kill();
        *self = self
            .launch
            .start(self.control_plane, self.starts + 1)
            .await?;
        Ok(())
    }

    /// A workload certificate for `namespace`/`service_account` signed with the mesh CA's
    /// own key (`ca.key` in the state directory), exactly what a joined workload of that
    /// identity holds: for peers that are genuine members of the mesh, but not who they
    /// would like to pass as.
    pub fn mesh_certificate(
        &self,
        namespace: &str,
        service_account: &str,
    ) -> anyhow::Result<Identity> {
        self.certificate_signed_in("", namespace, service_account)
    }

    /// [`Reconciler::mesh_certificate`] signed by the CA whose `ca.crt`/`ca.key` are in
    /// `folder` of the state directory (`roots/<name>` for a root the reconciler made
    /// for a MeshRootCertificate).
    pub fn certificate_signed_in(
        &self,
        folder: &str,
        namespace: &str,
        service_account: &str,
    ) -> anyhow::Result<Identity> {
        let spiffe_id = spiffe_id(namespace, service_account);
        let san = SanType::URI(
            spiffe_id
                .clone()
                .try_into()
                .context("SPIFFE ID as IA5 string")?,
        );
        let written = format!(
            "mesh-certificate-{}-{namespace}.{service_account}",
            folder.replace('/', "_")
        );
        let mut identity = self.signed_by_mesh_ca(san, folder, &written)?;
        identity.namespace = namespace.to_owned();
        identity.service_account = service_account.to_owned();
        identity.spiffe_id = spiffe_id;
        Ok(identity)
    }

    /// A certificate from the mesh CA with no SPIFFE identity but the DNS name `name`: what
    /// an operator issues an ingress that an IngressBackend names as AuthenticatedPrincipal.
    pub fn ingress_certificate(&self, name: &str) -> anyhow::Result<Identity> {
        let san = SanType::DnsName(name.try_into().context("DNS name as IA5 string")?);
        let written = format!("ingress-certificate-{name}");
        let mut identity = self.signed_by_mesh_ca(san, "", &written)?;
        identity.service_account = name.to_owned();
        Ok(identity)
    }

    /// A leaf for `san` signed by the CA in `ca_folder` of the state directory, written
    /// to `written` in the log directory.
    fn signed_by_mesh_ca(
        &self,
        san: SanType,
        ca_folder: &str,
        written: &str,
    ) -> anyhow::Result<Identity> {
        let read = |name: &str| {
            let path = self.state_directory().join(ca_folder).join(name);
            std::fs::read_to_string(&path).with_context(|| format!("read {}", path.display()))
        };
        let key = KeyPair::from_pem(&read("ca.key")?).context("the mesh CA key")?;
        let issuer = Issuer::from_ca_cert_pem(&read("ca.crt")?, key).context("the mesh CA")?;

        let mut params = CertificateParams::default();
        params.subject_alt_names = vec![san];
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let key = KeyPair::generate().context("generate a workload key")?;
        let certificate = params
            .signed_by(&key, &issuer)
            .context("sign with the mesh CA")?;

        let folder = self.launch.log_directory.join(written);
        std::fs::create_dir_all(&folder).with_context(|| format!("create {}", folder.display()))?;
        let identity = Identity {
            namespace: String::new(),
            service_account: String::new(),
            spiffe_id: String::new(),
            certificate: folder.join("cert.pem"),
            key: folder.join("key.pem"),
            ca_bundle: self.ca_bundle.clone(),
            certificate_pem: certificate.pem(),
            key_pem: key.serialize_pem(),
        };
        std::fs::write(&identity.certificate, &identity.certificate_pem)
            .context("write the certificate")?;
        std::fs::write(&identity.key, &identity.key_pem).context("write the key")?;
        Ok(identity)
    }

    /// `meshcd token create`: a bootstrap token for `namespace`/`service_account` whose
    /// holder may serve `services`, valid for the default 24 hours.
    pub async fn create_token(
        &self,
        namespace: &str,
        service_account: &str,
        services: &[&str],
    ) -> anyhow::Result<Token> {
        self.create_token_for(namespace, service_account, services, "24h")
            .await
    }

    /// `meshcd token create --ttl TTL`: like [`Reconciler::create_token`], expiring after
    /// `ttl` (`2s`, `30m`).
    pub async fn create_token_for(
        &self,
        namespace: &str,
        service_account: &str,
        services: &[&str],
        ttl: &str,
    ) -> anyhow::Result<Token> {
        let mut arguments = vec![
            "token",
            "create",
            "--namespace",
            namespace,
            "--service-account",
            service_account,
            "--ttl",
            ttl,
        ];
        for service in services {
            arguments.extend(["--service", service]);
        }
        let secret = self.cli(&arguments).await?.trim().to_owned();
        // `mcd_<id>_<secret>`: the id is what revocation takes.
        let id = secret
            .strip_prefix("mcd_")
            .and_then(|rest| rest.split_once('_'))
            .map(|(id, _)| id.to_owned())
            .with_context(|| format!("`meshcd token create` printed no token: {secret:?}"))?;
        Ok(Token { secret, id })
    }

    /// `meshcd token revoke`.
    pub async fn revoke_token(&self, token: &Token) -> anyhow::Result<()> {
        self.cli(&["token", "revoke", &token.id]).await.map(drop)
    }

    async fn cli(&self, arguments: &[&str]) -> anyhow::Result<String> {
        let output = tokio::process::Command::new(binaries::meshcd()?)
            .args(arguments)
            .arg("--state-dir")
            .arg(self.state_directory())
            .output()
            .await
            .with_context(|| format!("run meshcd {arguments:?}"))?;
        if !output.status.success() {
            bail!(
                "meshcd {arguments:?} failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
        }
        String::from_utf8(output.stdout).context("meshcd output is not UTF-8")
    }

    /// `GET /status` as JSON.
    pub async fn status(&self) -> anyhow::Result<Value> {
        self.admin_json("/status").await
    }

    /// `GET path` of the admin API (`/status`, `/traffic?window=60`) as JSON, with the
    /// operator's credentials.
    pub async fn admin_json(&self, path: &str) -> anyhow::Result<Value> {
        let mut request = http::get(path);
        request
            .headers_mut()
            .insert(::http::header::HOST, "localhost".parse()?);
        // The operator's credentials: the admin token `meshcd run` keeps beside its CA.
        let token_file = self.state_directory().join("admin-token");
        let token = std::fs::read_to_string(&token_file)
            .with_context(|| format!("reading {}", token_file.display()))?;
        request.headers_mut().insert(
            ::http::header::AUTHORIZATION,
            format!("Bearer {}", token.trim()).parse()?,
        );
        let response = Client::new(self.admin).send(request).await?;
        anyhow::ensure!(
            response.status.is_success(),
            "GET {path}: {} {}",
            response.status,
            response.text()
        );
        serde_json::from_slice(&response.body)
            .with_context(|| format!("{path} is not JSON: {}", response.text()))
    }

    /// Waits until the status says `revision` is applied, and returns the status.
    pub async fn await_applied(&self, revision: &str) -> anyhow::Result<Value> {
        self.await_applied_within(revision, DEADLINE).await
    }

    /// [`Reconciler::await_applied`] with a deadline of its own (a promise of how soon).
    pub async fn await_applied_within(
        &self,
        revision: &str,
        deadline: Duration,
    ) -> anyhow::Result<Value> {
        self.await_status_within(deadline, |status| applied(status, revision))
            .await
    }

    /// Waits until the status says `revision` is applied and lists exactly `proxies`
    /// proxies, each having acknowledged the snapshot it was last sent, at `revision`.
    pub async fn await_in_sync(&self, revision: &str, proxies: usize) -> anyhow::Result<Value> {
        self.await_status(|status| {
            applied(status, revision)?;
            let listed = proxy_list(status);
            anyhow::ensure!(
                listed.len() == proxies,
                "{} proxies listed, want {proxies}",
                listed.len()
            );
            for proxy in listed {
                anyhow::ensure!(
                    proxy["inSync"] == true && proxy["ackedRevision"] == revision,
                    "proxy {} is not in sync at {revision}: {proxy}",
                    proxy["id"]
                );
            }
            Ok(())
        })
        .await
    }

    async fn await_status(
        &self,
        check: impl Fn(&Value) -> anyhow::Result<()>,
    ) -> anyhow::Result<Value> {
        self.await_status_within(DEADLINE, check).await
    }

    async fn await_status_within(
        &self,
        deadline: Duration,
        check: impl Fn(&Value) -> anyhow::Result<()>,
    ) -> anyhow::Result<Value> {
        let waited = eventually(deadline, || async {
            let status = self.status().await?;
            check(&status).with_context(|| format!("status: {status:#}"))?;
            Ok(status)
        })
        .await;
        waited.with_context(|| format!("reconciler stderr:\n{}", self.process.stderr_tail()))
    }
}

/// The proxies a status lists.
pub fn proxy_list(status: &Value) -> Vec<Value> {
    status["proxies"].as_array().cloned().unwrap_or_default()
}

/// Whether a status says `revision` is applied; a rejection of it is reported as such.
fn applied(status: &Value, revision: &str) -> anyhow::Result<()> {
    let source = &status["source"];
    if source["rejected"]["revision"]["id"] == revision {
        bail!(
            "the reconciler rejected {revision}: {}",
            source["rejected"]["errors"]
        );
    }
    anyhow::ensure!(
        source["applied"]["id"] == revision,
        "applied revision is {}, want {revision}",
        source["applied"]["id"]
    );
    Ok(())
}

impl Launch {
    /// Runs `meshcd run` with the control plane on `control_plane` and waits for its
    /// listening line; `start` numbers the process's log file.
    async fn start(&self, control_plane: SocketAddr, start: usize) -> anyhow::Result<Reconciler> {
        let mut command = std::process::Command::new(binaries::meshcd()?);
        command
            .arg("run")
            .arg("--repo")
            .arg(&self.repository)
            .arg("--state-dir")
            .arg(&self.state_directory)
            .arg("--control-plane-addr")
            .arg(control_plane.to_string())
            .args(["--admin-addr", "127.0.0.1:0"])
            .args(["--poll-interval", &self.poll_interval]);
        let name = format!("reconciler-{start}");
        let (process, listening) =
            Process::spawn(&name, command, &self.log_directory, START_DEADLINE).await?;
        let address = |key: &str| -> anyhow::Result<SocketAddr> {
            listening[key]
                .as_str()
                .with_context(|| format!("listening line without {key}: {listening}"))?
                .parse()
                .with_context(|| format!("{key} address in {listening}"))
        };
        let ca_bundle = listening["caBundle"]
            .as_str()
            .with_context(|| format!("listening line without caBundle: {listening}"))?;
        Ok(Reconciler {
            control_plane: address("controlPlane")?,
            admin: address("admin")?,
            ca_bundle: PathBuf::from(ca_bundle),
            launch: self.clone(),
            starts: start,
            process,
        })
    }
}
