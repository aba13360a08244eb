//! Fails when a checked-in generated file differs from what its source generates now.

#[path = "../generate/mod.rs"]
mod generate;

use std::path::Path;

#[test]
fn generated_files_match_their_sources() {
    let schemas_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = generate::all(schemas_dir).expect("generators run");
    let mut stale = Vec::new();
    for (path, expected) in files {
        let actual = std::fs::read_to_string(schemas_dir.join(&path)).unwrap_or_default();
        if actual != expected {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "stale generated files (run `cargo run -p meshcd-schemas --example regenerate`): {stale:?}"
    );
}
