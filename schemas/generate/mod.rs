//! The generators behind `cargo run -p meshcd-schemas --example regenerate`, shared with the
//! test that fails when the checked-in output is stale.

pub mod crd;
pub mod index;
pub mod jsonschema;
pub mod protobuf;
pub mod sources;

use std::path::{Path, PathBuf};

/// Every generated file: path relative to `schemas/`, and its content.
pub fn all(schemas_dir: &Path) -> Result<Vec<(PathBuf, String)>, String> {
    let scratch = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let mut out = Vec::new();
    for (name, text) in protobuf::generate(schemas_dir, scratch.path())? {
        out.push((PathBuf::from("src/generated").join(name), text));
    }
    let sources = sources::read(schemas_dir)?;
    let json = jsonschema::generate(&sources)?;
    let crds = crd::generate(&sources)?;
    let index = index::generate(&json, &crds)?;
    out.push((PathBuf::from("src/generated/schema_index.rs"), index));
    out.extend(json);
    out.extend(crds);
    Ok(out)
}
