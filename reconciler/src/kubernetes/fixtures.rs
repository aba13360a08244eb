//! Configs for the Kubernetes tests, built through the real pipeline (load → validate).

use std::path::{Path, PathBuf};

use crate::load::{load_files, load_path};
use crate::model::Config;
use crate::validate::validate;

/// The config of `examples-repo/`.
pub fn examples_config() -> Config {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples-repo");
    let loaded = load_path(&root).expect("examples-repo loads");
    let validated = validate(&loaded);
    validated.config.unwrap_or_else(|| {
        panic!(
            "examples-repo is valid: {:?}",
            validated
                .diagnostics
                .0
                .iter()
                .map(|d| &d.message)
                .collect::<Vec<_>>()
        )
    })
}

/// The config of an in-memory tree of (path, YAML) files.
pub fn config_from(files: &[(&str, &str)]) -> Config {
    let loaded = load_files(
        files
            .iter()
            .map(|(path, text)| (PathBuf::from(path), text.to_string()))
            .collect(),
    );
    let validated = validate(&loaded);
    validated.config.unwrap_or_else(|| {
        panic!(
            "the tree is valid: {:?}",
            validated
                .diagnostics
                .0
                .iter()
                .map(|d| &d.message)
                .collect::<Vec<_>>()
        )
    })
}
