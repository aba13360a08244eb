//! `meshcd install`: prints the manifests that install meshcd in a cluster (like `osm
//! install`), or writes them as the files of `deploy/`.

use std::path::PathBuf;

use anyhow::Context as _;

use crate::kubernetes::manifests::{self, Options};

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
}

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
    let rendered = manifests::render(&options);
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
