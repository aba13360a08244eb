//! `meshcd ca rotate`: the three commits of a root rotation (add the new root passive;
//! make it active and the old one passive; drop the old one), each written to one file
//! of the config repository and committed once the reconciler has applied the previous
//! step and every proxy is ready for the next.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde_json::{Value, json};

use crate::admin::StatusDocument;
use crate::cli::status::ServerArgs;
use crate::identity::roots::DEFAULT_ROOT;
use crate::load::load_path;

const KIND: &str = "MeshRootCertificate";
const API_VERSION: &str = "config.openservicemesh.io/v1alpha2";
/// How often the reconciler's status is read while a step settles: a command that waits
/// for people's infrastructure, not a server at rest.
const STATUS_EVERY: Duration = Duration::from_millis(500);

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Rotate the mesh's root CA to a new one, in three commits, waiting between them
    /// until the reconciler applied the step and every proxy is ready for the next.
    Rotate(RotateArgs),
}

#[derive(Debug, clap::Args)]
pub struct RotateArgs {
    /// The new root's MeshRootCertificate name (and, for meshcd's own CA, the name its
    /// key is kept under).
    #[arg(long)]
    to: String,
    /// The onboarded namespace the MeshRootCertificates live in.
    #[arg(long)]
    namespace: String,
    /// The file of the config repository that holds the MeshRootCertificates.
    #[arg(long, default_value = "mesh-roots.yaml")]
    file: PathBuf,
    /// The new root is this intermediate CA of yours (with --intermediate-key and
    /// --intermediate-chain; absolute paths on the reconciler's host), not a root meshcd
    /// makes.
    #[arg(long, requires_all = ["intermediate_key", "intermediate_chain"])]
    intermediate_certificate: Option<PathBuf>,
    /// The intermediate's private key (mode 0600 on the reconciler's host).
    #[arg(long)]
    intermediate_key: Option<PathBuf>,
    /// The certificates above the intermediate, the root last.
    #[arg(long)]
    intermediate_chain: Option<PathBuf>,
    /// The config repository's working tree that the reconciler follows.
    #[arg(long, env = "MESHCD_REPO", value_name = "DIR")]
    repo: Option<PathBuf>,
    /// How long each step may take to settle.
    #[arg(long, default_value = "10m", value_parser = crate::validate::convert::units::parse_duration)]
    step_timeout: Duration,
    #[command(flatten)]
    server: ServerArgs,
}

pub async fn run(command: Command) -> anyhow::Result<()> {
    let Command::Rotate(args) = command;
    let repo =
        crate::cli::namespace::resolve_repository(args.repo.as_deref(), &args.server.token.state)?;
    let path = repo.join(&args.file);
    let old = current_active(&repo, &path, &args.namespace)?;
    let old_name = old["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if old_name == args.to {
        bail!("{} is already the active root", args.to);
    }
    let new = new_root(&args);
    let steps = [
        (
            "add",
            vec![with_role(&old, "active"), with_role(&new, "passive")],
            "reissued",
        ),
        (
            "switch",
            vec![with_role(&old, "passive"), with_role(&new, "active")],
            "reissued",
        ),
        ("remove", vec![with_role(&new, "active")], "single-root"),
    ];
    for (name, documents, phase) in steps {
        write(&path, &documents)?;
        let message = format!("meshcd ca rotate: {name} ({old_name} → {})", args.to);
        let commit = crate::cli::git::commit_paths(&repo, &[&path], &message)?;
        outln!("{name}: commit {}", &commit[..12]);
        settle(&args.server, &commit, phase, args.step_timeout).await?;
    }
    outln!("rotated: {} issues and is the only root trusted", args.to);
    Ok(())
}

/// The active MeshRootCertificate of `path` (the only file that may hold any), or the CA
/// the mesh started with.
fn current_active(repo: &Path, path: &Path, namespace: &str) -> anyhow::Result<Value> {
    let loaded = load_path(repo).with_context(|| format!("reading {}", repo.display()))?;
    let mut active = None;
    for document in &loaded.documents {
        let value = document.value();
        if value["kind"] != KIND {
            continue;
        }
        let file = loaded.path(document.file);
        if !same_file(file, path) {
            bail!(
                "{} holds a MeshRootCertificate; meshcd ca rotate keeps them all in {}: move it there",
                file.display(),
                path.display()
            );
        }
        if value["spec"]["role"].as_str().unwrap_or("active") == "active" {
            active = Some(value);
        }
    }
    Ok(active.unwrap_or_else(|| {
        root(
            DEFAULT_ROOT,
            namespace,
            json!({"tresor": {"ca": {"secretRef": {"name": DEFAULT_ROOT, "namespace": namespace}}}}),
        )
    }))
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

fn new_root(args: &RotateArgs) -> Value {
    let provider = match (
        &args.intermediate_certificate,
        &args.intermediate_key,
        &args.intermediate_chain,
    ) {
        (Some(certificate), Some(key), Some(chain)) => json!({"intermediate": {
            "certificateFile": certificate, "keyFile": key, "chainFile": chain,
        }}),
        _ => {
            json!({"tresor": {"ca": {"secretRef": {"name": args.to, "namespace": args.namespace}}}})
        }
    };
    root(&args.to, &args.namespace, provider)
}

fn root(name: &str, namespace: &str, provider: Value) -> Value {
    json!({
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"role": "active", "provider": provider},
    })
}

fn with_role(root: &Value, role: &str) -> Value {
    let mut root = root.clone();
    root["spec"]["role"] = json!(role);
    root
}

fn write(path: &Path, documents: &[Value]) -> anyhow::Result<()> {
    let mut text = String::from("# The mesh's roots of trust, written by `meshcd ca rotate`.\n");
    for document in documents {
        text.push_str("---\n");
        text.push_str(&serde_yaml::to_string(document).context("writing YAML")?);
    }
    if let Some(folder) = path.parent() {
        std::fs::create_dir_all(folder)?;
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// Waits until `commit` is applied and the roots are in `phase`; says what it waits for
/// when it changes, and fails when the revision is rejected or the time is up.
async fn settle(
    server: &ServerArgs,
    commit: &str,
    phase: &str,
    timeout: Duration,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut said = String::new();
    loop {
        let (code, body) = server.call("GET", "/status").await?;
        if code != 200 {
            bail!("status request failed with HTTP {code}: {body}");
        }
        let status: StatusDocument =
            serde_json::from_str(&body).context("the reconciler's status document")?;
        let source = &status.source;
        if let Some(rejected) = source.rejected.as_ref().filter(|r| {
            r.revision
                .as_ref()
                .is_some_and(|revision| revision.id == commit)
        }) {
            bail!(
                "the reconciler rejected {}: {}",
                &commit[..12],
                rejected.message
            );
        }
        let applied = source
            .applied
            .as_ref()
            .is_some_and(|revision| revision.id == commit);
        let trust = status.trust.as_ref();
        if applied && trust.is_some_and(|trust| trust.phase == phase) {
            return Ok(());
        }
        let waiting = match (&source.rotation_waiting, trust) {
            (Some(held), _) => held.message.clone(),
            (None, Some(trust)) if applied => format!(
                "phase {}; proxies not yet on the issuing root: {}",
                trust.phase,
                trust.proxies_on_old_roots.len()
            ),
            _ => "the reconciler has not applied it yet".to_string(),
        };
        if waiting != said {
            eprintln!("  waiting: {waiting}");
            said = waiting;
        }
        if started.elapsed() > timeout {
            bail!(
                "{} did not settle within {timeout:?}: {said}",
                &commit[..12]
            );
        }
        tokio::time::sleep(STATUS_EVERY).await;
    }
}
