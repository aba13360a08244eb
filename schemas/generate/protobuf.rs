//! Compiles the control-plane protobuf into Rust (prost + tonic + pbjson), without protoc.

use std::path::Path;

use prost::Message;

/// The generated files, by name, for the checked-in `src/generated/` folder.
pub fn generate(schemas_dir: &Path, out_dir: &Path) -> Result<Vec<(String, String)>, String> {
    let proto_dir = schemas_dir.join("proto");
    let file = proto_dir.join("meshcd/v1/mesh.proto");
    let fds = protox::compile([&file], [&proto_dir]).map_err(|e| format!("protox: {e:?}"))?;
    let descriptor_bytes = fds.encode_to_vec();

    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .build_transport(true)
        // Compiled only for the side a crate asks for (features `client`, `server`).
        .client_mod_attribute("meshcd.v1", "#[cfg(feature = \"client\")]")
        .server_mod_attribute("meshcd.v1", "#[cfg(feature = \"server\")]")
        .emit_rerun_if_changed(false)
        .out_dir(out_dir)
        .compile_fds(fds)
        .map_err(|e| format!("tonic-prost-build: {e}"))?;
    pbjson_build::Builder::new()
        .out_dir(out_dir)
        .register_descriptors(&descriptor_bytes)
        .map_err(|e| format!("pbjson-build: {e}"))?
        .build(&[".meshcd"])
        .map_err(|e| format!("pbjson-build: {e}"))?;

    let mut files = Vec::new();
    for name in ["meshcd.v1.rs", "meshcd.v1.serde.rs"] {
        let text = std::fs::read_to_string(out_dir.join(name))
            .map_err(|e| format!("reading generated {name}: {e}"))?;
        files.push((name.to_string(), text));
    }
    Ok(files)
}
