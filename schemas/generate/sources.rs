//! Reads the sources of every config-kind schema: the upstream SMI CRDs and meshcd's overlays.
//!
//! Trees stay `serde_yaml::Value`s throughout generation: their mappings keep the source order
//! whatever features other crates turn on for `serde_json`, so the output is the same in every
//! build (a `serde_json::Map` is sorted or not depending on `preserve_order`).

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_yaml::{Mapping, Value};

/// The schema of one (apiVersion, kind) as its source states it, before meshcd's patches.
pub struct KindSchema {
    /// `group/version`, or `v1` for the core group.
    pub api_version: String,
    pub kind: String,
    pub namespaced: bool,
    /// The `openAPIV3Schema` of the object (Kubernetes structural-schema dialect).
    pub schema: Value,
    /// Where it comes from, relative to `schemas/`.
    pub origin: String,
    /// For overlays: the text that justifies the hand-written schema.
    pub because: Option<String>,
}

/// A CustomResourceDefinition to re-emit under `crds/`.
pub struct CrdSource {
    pub origin: String,
    pub group: String,
    pub plural: String,
    pub document: Value,
}

/// An edit of some kinds' schemas, from `overlays/smi-patches.yaml`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Patch {
    /// `<apiVersion>/<Kind>` of each schema it edits.
    #[serde(rename = "for")]
    pub targets: Vec<String>,
    pub because: String,
    /// JSON pointer into the openAPIV3Schema → value to put there, in order.
    #[serde(default)]
    pub set: Mapping,
    #[serde(default)]
    pub remove: Vec<String>,
}

/// Everything the generators read.
pub struct Sources {
    pub kinds: Vec<KindSchema>,
    pub crds: Vec<CrdSource>,
    pub patches: Vec<Patch>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SchemaOverlay {
    schema: OverlayBody,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct OverlayBody {
    api_version: String,
    kind: String,
    scope: String,
    because: String,
    #[serde(rename = "openAPIV3Schema")]
    open_api_v3_schema: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchFile {
    /// Only there to hold YAML anchors that the patches refer to.
    #[serde(default, rename = "definitions")]
    _definitions: Value,
    patches: Vec<Patch>,
}

/// Where the vendored Gateway API CRDs are, relative to `schemas/`.
const GATEWAY_API: &str = "upstream/gateway-api/";

/// Reads `upstream/**/*.yaml` and `overlays/*.yaml`, in file-name order.
pub fn read(schemas_dir: &Path) -> Result<Sources, String> {
    let mut sources = Sources {
        kinds: Vec::new(),
        crds: Vec::new(),
        patches: Vec::new(),
    };
    let mut files = yaml_files(&schemas_dir.join("upstream"))?;
    files.extend(yaml_files(&schemas_dir.join("overlays"))?);
    for path in files {
        let origin = path
            .strip_prefix(schemas_dir)
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(&path).map_err(|e| format!("reading {origin}: {e}"))?;
        for document in serde_yaml::Deserializer::from_str(&text) {
            let document =
                Value::deserialize(document).map_err(|e| format!("parsing {origin}: {e}"))?;
            read_document(&origin, document, &mut sources)?;
        }
    }
    Ok(sources)
}

fn read_document(origin: &str, document: Value, sources: &mut Sources) -> Result<(), String> {
    if document.is_null() {
        return Ok(());
    }
    if document.get("kind").and_then(Value::as_str) == Some("CustomResourceDefinition") {
        return read_crd(origin, document, sources);
    }
    if document.get("schema").is_some() {
        let overlay: SchemaOverlay =
            serde_yaml::from_value(document).map_err(|e| format!("{origin}: {e}"))?;
        let body = overlay.schema;
        sources.kinds.push(KindSchema {
            api_version: body.api_version,
            kind: body.kind,
            namespaced: namespaced(origin, &body.scope)?,
            schema: body.open_api_v3_schema,
            origin: origin.to_string(),
            because: Some(body.because),
        });
        return Ok(());
    }
    if document.get("patches").is_some() {
        let file: PatchFile =
            serde_yaml::from_value(document).map_err(|e| format!("{origin}: {e}"))?;
        sources.patches.extend(file.patches);
        return Ok(());
    }
    Err(format!(
        "{origin}: a document is neither a CustomResourceDefinition, a `schema:` overlay nor a `patches:` list"
    ))
}

fn read_crd(origin: &str, document: Value, sources: &mut Sources) -> Result<(), String> {
    let spec = field(&document, "spec", origin)?;
    let group = text(spec, "group", origin)?;
    let names = field(spec, "names", origin)?;
    let kind = text(names, "kind", origin)?;
    let plural = text(names, "plural", origin)?;
    let namespaced = namespaced(origin, text(spec, "scope", origin)?)?;
    let versions = field(spec, "versions", origin)?
        .as_sequence()
        .ok_or_else(|| format!("{origin}: spec.versions is not a list"))?;
    for version in versions {
        let name = text(version, "name", origin)?;
        let Some(schema) = version.get("schema").and_then(|s| s.get("openAPIV3Schema")) else {
            continue;
        };
        sources.kinds.push(KindSchema {
            api_version: format!("{group}/{name}"),
            kind: kind.to_string(),
            namespaced,
            schema: schema.clone(),
            origin: origin.to_string(),
            because: None,
        });
    }
    // Gateway API's CRDs are shared with every other Gateway API implementation in a
    // cluster: `meshcd install` may install them only where they are missing, never over a
    // newer bundle (issue 18's Kubernetes part), so they are not among the CRDs it always
    // ships. Their schemas are read like any other.
    if origin.starts_with(GATEWAY_API) {
        return Ok(());
    }
    sources.crds.push(CrdSource {
        origin: origin.to_string(),
        group: group.to_string(),
        plural: plural.to_string(),
        document,
    });
    Ok(())
}

fn namespaced(origin: &str, scope: &str) -> Result<bool, String> {
    match scope {
        "Namespaced" => Ok(true),
        "Cluster" => Ok(false),
        other => Err(format!(
            "{origin}: scope {other:?} is neither Namespaced nor Cluster"
        )),
    }
}

fn field<'a>(value: &'a Value, key: &str, origin: &str) -> Result<&'a Value, String> {
    value
        .get(key)
        .ok_or_else(|| format!("{origin}: missing `{key}`"))
}

fn text<'a>(value: &'a Value, key: &str, origin: &str) -> Result<&'a str, String> {
    field(value, key, origin)?
        .as_str()
        .ok_or_else(|| format!("{origin}: `{key}` is not a string"))
}

fn yaml_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries =
            std::fs::read_dir(&dir).map_err(|e| format!("listing {}: {e}", dir.display()))?;
        for entry in entries {
            let path = entry
                .map_err(|e| format!("listing {}: {e}", dir.display()))?
                .path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}
