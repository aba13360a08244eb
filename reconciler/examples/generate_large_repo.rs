//! Writes a large, valid config repository for benchmarking `meshcd validate`
//! (`scripts/bench-validate.sh`): by default policies for 10,000 services, 50,000 SMI objects.
//!
//! Each service gets an HTTPRouteGroup of its API, an HTTPRouteGroup of its A/B match, a
//! TCPRoute, a TrafficTarget (its callers → it) and a TrafficSplit (v1 → v2); one in ten
//! also has a Canary. Services are spread over namespaces, each with its own folder and
//! several multi-document files, and one in ten is written in an older SMI version so the
//! conversions run too. The repository validates with no error and no warning.
//!
//! ```text
//! cargo run --release -p meshcd --example generate_large_repo -- OUT [--services 10000]
//! ```

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Parser;

/// SMI objects written per service.
const OBJECTS_PER_SERVICE: usize = 5;

#[derive(Debug, Parser)]
struct Args {
    /// The folder to write the repository into (created; must be empty if it exists).
    out: PathBuf,
    #[arg(long, default_value_t = 10_000)]
    services: usize,
    #[arg(long, default_value_t = 100)]
    namespaces: usize,
    /// Services per file (each file holds five documents per service).
    #[arg(long, default_value_t = 10)]
    services_per_file: usize,
}

fn main() -> Result<()> {
    let args = Args::parse();
    if args.namespaces == 0 || args.services_per_file == 0 {
        bail!("--namespaces and --services-per-file must be at least 1");
    }
    if args
        .out
        .read_dir()
        .is_ok_and(|mut entries| entries.next().is_some())
    {
        bail!("{} is not empty", args.out.display());
    }
    let mut files = 0;
    let mut documents = 0;
    write(&args.out.join("mesh.yaml"), MESH)?;
    files += 1;
    documents += 1;

    for namespace_index in 0..args.namespaces {
        let namespace = namespace_name(namespace_index);
        let folder = args.out.join(&namespace);
        write(
            &folder.join("namespace.yaml"),
            &format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {namespace}\n"),
        )?;
        files += 1;
        documents += 1;
        // Services are dealt round-robin, so every namespace gets its share.
        let services: Vec<usize> = (namespace_index..args.services)
            .step_by(args.namespaces)
            .collect();
        for (chunk_index, chunk) in services.chunks(args.services_per_file).enumerate() {
            let mut text = String::new();
            for &service in chunk {
                documents += service_documents(&mut text, service, &namespace, args.namespaces);
            }
            write(
                &folder.join(format!("services-{chunk_index:03}.yaml")),
                &text,
            )?;
            files += 1;
        }
    }
    println!(
        "wrote {} SMI objects for {} services ({documents} documents in {files} files, {} namespaces) to {}",
        args.services * OBJECTS_PER_SERVICE,
        args.services,
        args.namespaces,
        args.out.display()
    );
    Ok(())
}

fn namespace_name(index: usize) -> String {
    format!("team-{index:03}")
}

fn write(path: &Path, text: &str) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    let mut file =
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}

const MESH: &str = "\
apiVersion: meshcd.dev/v1alpha1
kind: Mesh
metadata:
  name: meshcd
spec:
  trustDomain: cluster.local
  trafficPolicy: deny
  mtls: strict
  certificateLifetime: 24h
  canaryDefaults:
    interval: 30s
    failureThreshold: 3
";

/// Appends the documents of one service; returns how many.
fn service_documents(
    out: &mut String,
    service: usize,
    namespace: &str,
    namespaces: usize,
) -> usize {
    let name = format!("svc-{service:05}");
    // Callers: the frontend and the previous service, which lives in another namespace.
    let caller = format!("svc-{:05}", service.saturating_sub(1));
    let caller_namespace = namespace_name(service.saturating_sub(1) % namespaces);
    let legacy = service % 10 == 9;

    let route_version = if legacy { "v1alpha3" } else { "v1alpha4" };
    let _ = write!(
        out,
        "---
apiVersion: specs.smi-spec.io/{route_version}
kind: HTTPRouteGroup
metadata:
  name: {name}-routes
  namespace: {namespace}
spec:
  matches:
  - name: read
    pathRegex: /api/v[0-9]+/{name}/.*
    methods: [GET, HEAD]
  - name: write
    pathRegex: /api/v[0-9]+/{name}/(items|orders)/[0-9]+
    methods: [POST, PUT, DELETE]
    headers:
    - content-type: application/json.*
  - name: health
    pathRegex: /(healthz|readyz)
---
apiVersion: specs.smi-spec.io/v1alpha4
kind: HTTPRouteGroup
metadata:
  name: {name}-beta-users
  namespace: {namespace}
spec:
  matches:
  - name: beta
    headers:
      x-beta-user: \"true\"
      user-agent: .*(Android|iPhone).*
---
apiVersion: specs.smi-spec.io/v1alpha4
kind: TCPRoute
metadata:
  name: {name}-tcp
  namespace: {namespace}
spec:
  matches:
    ports: [8080, 8443]
"
    );
    if legacy {
        let _ = write!(
            out,
            "---
apiVersion: access.smi-spec.io/v1alpha2
kind: TrafficTarget
metadata:
  name: {name}
  namespace: {namespace}
spec:
  destination:
    kind: ServiceAccount
    name: {name}
    namespace: {namespace}
  rules:
  - kind: HTTPRouteGroup
    name: {name}-routes
    matches: [read, write, health]
  sources:
  - kind: ServiceAccount
    name: frontend
    namespace: {namespace}
  - kind: ServiceAccount
    name: {caller}
    namespace: {caller_namespace}
---
apiVersion: split.smi-spec.io/v1alpha1
kind: TrafficSplit
metadata:
  name: {name}
  namespace: {namespace}
spec:
  service: {name}.{namespace}.svc.cluster.local
  backends:
  - service: {name}-v1
    weight: 900m
  - service: {name}-v2
    weight: 100m
"
        );
    } else {
        let _ = write!(
            out,
            "---
apiVersion: access.smi-spec.io/v1alpha3
kind: TrafficTarget
metadata:
  name: {name}
  namespace: {namespace}
spec:
  destination:
    kind: ServiceAccount
    name: {name}
    namespace: {namespace}
  rules:
  - kind: HTTPRouteGroup
    name: {name}-routes
    matches: [read, write, health]
  - kind: TCPRoute
    name: {name}-tcp
  sources:
  - kind: ServiceAccount
    name: frontend
    namespace: {namespace}
  - kind: ServiceAccount
    name: {caller}
    namespace: {caller_namespace}
---
apiVersion: split.smi-spec.io/v1alpha4
kind: TrafficSplit
metadata:
  name: {name}
  namespace: {namespace}
spec:
  service: {name}
  matches:
  - kind: HTTPRouteGroup
    name: {name}-beta-users
  backends:
  - service: {name}-v1
    weight: 90
  - service: {name}-v2
    weight: 10
"
        );
    }
    if service.is_multiple_of(10) {
        let _ = write!(
            out,
            "---
apiVersion: meshcd.dev/v1alpha1
kind: Canary
metadata:
  name: {name}
  namespace: {namespace}
spec:
  trafficSplit: {name}
  stable: {name}-v1
  canary: {name}-v2
  steps:
    stepWeight: 10
    maxWeight: 50
  interval: 30s
  progressDeadline: 10m
  analysis:
    successRate:
      min: 99
    latencyP99:
      max: 500ms
    minRequests: 20
"
        );
        return OBJECTS_PER_SERVICE + 1;
    }
    OBJECTS_PER_SERVICE
}
