//! `meshcd install`: prints the manifests that install meshcd in a cluster (like `osm
//! install`), or writes them as the files of `deploy/`.

use std::path::PathBuf;

use anyhow::Context as _;

use crate::kubernetes::gateway_crds::{self, Decision};
use crate::kubernetes::manifests::{self, Manifest, Options};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The namespace meshcd runs in.
    #[arg(long, default_value = "meshcd-system")]
    pub namespace: String,
    /// The mesh's name: it must be the `Mesh` name of the config repository (the label
    /// `meshcd.dev/monitored-by=<name>` selects the namespaces whose pods are injected).
    #[arg(long, default_value = "meshcd")]
    pub mesh_name: String,
    /// The reconciler's image.
    #[arg(long)]
    pub image: Option<String>,
    /// The injected proxy's image.
    #[arg(long)]
    pub proxy_image: Option<String>,
    /// The config repository the reconciler follows (credentials: Secret
    /// meshcd-source-credentials). Required: no example URL is rendered in its place.
    #[arg(long, required = true)]
    pub repo: Option<String>,
    /// The branch of --repo.
    #[arg(long)]
    pub branch: Option<String>,
    /// Reconciler replicas; one leads (applies, runs canaries, serves the proxies), the others stand by to take over.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..))]
    pub replicas: u32,
    /// Inject the proxy as a native sidecar: `auto` (Kubernetes 1.29+), `always` (1.28
    /// with the SidecarContainers gate), `never` (an ordinary container).
    #[arg(long, value_enum, default_value = "auto")]
    pub native_sidecars: crate::kubernetes::inject::NativeSidecars,
    /// Write the files of deploy/ into this folder instead of printing one YAML stream.
    #[arg(long)]
    pub output_dir: Option<PathBuf>,
    /// The Gateway API CRDs meshcd routes with (HTTPRoute, GRPCRoute, ReferenceGrant;
    /// standard channel): `auto` adds those the current cluster (kubeconfig) lacks or has in
    /// an older release, never replacing a newer one; `always` adds all three; `never` none.
    #[arg(long, value_enum, default_value = "auto")]
    pub gateway_api_crds: GatewayApiCrds,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GatewayApiCrds {
    Auto,
    Always,
    Never,
}

/// How long `auto` waits for the cluster before leaving the CRDs out.
const CLUSTER_DEADLINE: std::time::Duration = std::time::Duration::from_secs(5);

pub fn run(args: Args) -> anyhow::Result<()> {
    let defaults = Options::default();
    let options = Options {
        namespace: args.namespace,
        mesh_name: args.mesh_name,
        image: args.image.unwrap_or(defaults.image),
        proxy_image: args.proxy_image.unwrap_or(defaults.proxy_image),
        repo: args.repo.unwrap_or(defaults.repo),
        branch: args.branch.or(defaults.branch),
        replicas: args.replicas,
        native_sidecars: args.native_sidecars,
    };
    let mut rendered = gateway_api_crds(args.gateway_api_crds)?;
    rendered.extend(manifests::render(&options));
    match args.output_dir {
        None => out!("{}", manifests::stream(&rendered)),
        Some(dir) => {
            for manifest in &rendered {
                let path = dir.join(&manifest.path);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)
                        .with_context(|| format!("creating {}", parent.display()))?;
                }
                std::fs::write(&path, &manifest.yaml)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            eprintln!(
                "meshcd: wrote {} manifests under {}",
                rendered.len(),
                dir.display()
            );
        }
    }
    Ok(())
}

/// The Gateway API CRDs to add, as manifests under `crds/gateway-api/`; what `auto` decided
/// is said on stderr.
fn gateway_api_crds(choice: GatewayApiCrds) -> anyhow::Result<Vec<Manifest>> {
    let vendored = meshcd_schemas::GATEWAY_API_BUNDLE_VERSION;
    let mut crds = Vec::new();
    for (file, yaml) in meshcd_schemas::gateway_api_crds() {
        let name = gateway_crds::crd_name(file)
            .context("a vendored CRD file not named <group>_<plural>.yaml")?;
        crds.push((name, file, yaml));
    }
    let installed = match choice {
        GatewayApiCrds::Never => return Ok(Vec::new()),
        GatewayApiCrds::Always => None,
        GatewayApiCrds::Auto => {
            let names: Vec<String> = crds.iter().map(|(name, _, _)| name.clone()).collect();
            match cluster_crds(&names) {
                Ok(installed) => Some(installed),
                Err(error) => {
                    eprintln!(
                        "meshcd: the Gateway API CRDs are left out: no cluster to check them in ({error}); `--gateway-api-crds always` adds them"
                    );
                    return Ok(Vec::new());
                }
            }
        }
    };
    let mut manifests = Vec::new();
    for (name, file, yaml) in crds {
        if let Some(installed) = &installed {
            match gateway_crds::decide(installed.get(&name), vendored) {
                Decision::Install => {}
                Decision::Upgrade { from } => {
                    eprintln!("meshcd: CRD {name}: the cluster's {from} is upgraded to {vendored}");
                }
                Decision::Keep { version } => {
                    let version = version.as_deref().unwrap_or("(no known release)");
                    eprintln!(
                        "meshcd: CRD {name}: the cluster's {version} is kept (newer, experimental or unknown: never replaced)"
                    );
                    continue;
                }
            }
        }
        manifests.push(Manifest {
            path: format!("crds/gateway-api/{file}"),
            yaml: format!(
                "# Gateway API {vendored}, standard channel, as upstream wrote it (meshcd install --gateway-api-crds).\n---\n{yaml}"
            ),
        });
    }
    Ok(manifests)
}

/// The CRDs named `names` the current kubeconfig's cluster has, with their releases.
fn cluster_crds(
    names: &[String],
) -> anyhow::Result<std::collections::BTreeMap<String, gateway_crds::Installed>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listed = async {
            let client = kube::Client::try_default()
                .await
                .context("no kubeconfig or in-cluster configuration")?;
            anyhow::Ok(gateway_crds::installed(&client, names).await?)
        };
        tokio::time::timeout(CLUSTER_DEADLINE, listed)
            .await
            .with_context(|| format!("the API server did not answer within {CLUSTER_DEADLINE:?}"))?
    })
}
