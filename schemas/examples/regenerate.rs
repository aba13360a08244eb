//! Regenerates every generated file of `schemas/`: the protobuf code, the JSON Schemas and
//! the CRDs. Run `cargo run -p meshcd-schemas --example regenerate` after editing a source.

#[path = "../generate/mod.rs"]
mod generate;

use std::path::Path;

fn main() {
    let schemas_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = match generate::all(schemas_dir) {
        Ok(files) => files,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::exit(1);
        }
    };
    for (path, text) in files {
        let target = schemas_dir.join(&path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).expect("create output folder");
        }
        std::fs::write(&target, text).expect("write generated file");
        println!("wrote schemas/{}", path.display());
    }
}
