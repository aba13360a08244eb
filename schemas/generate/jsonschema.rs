//! Turns each kind's openAPIV3Schema into the strict whole-object JSON Schema under `json/`.
//!
//! Steps, per (apiVersion, kind): apply the patches of `overlays/smi-patches.yaml`, wrap the
//! object schema with `apiVersion`, `kind` and `metadata`, then translate the Kubernetes
//! dialect to JSON Schema 2020-12 while closing every object that lists its properties
//! (`additionalProperties: false`), so that a misspelt field is an error, not a no-op.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_yaml::{Mapping, Value};

use super::sources::{KindSchema, Patch, Sources};

/// `metadata` of every kind: Kubernetes ObjectMeta, closed, so that a misspelt `lables` is
/// caught; the fields the API server fills in are accepted so exported objects validate.
const OBJECT_META: &str = r#"
description: Standard Kubernetes object metadata.
type: object
properties:
  name:
    description: Name of the object, a DNS-1123 subdomain.
    type: string
    minLength: 1
    maxLength: 253
    pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'
  namespace:
    description: Namespace of the object, a DNS-1123 label.
    type: string
    minLength: 1
    maxLength: 63
    pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'
  labels:
    type: object
    additionalProperties:
      type: string
  annotations:
    type: object
    additionalProperties:
      type: string
  generateName: { type: string }
  uid: { type: string }
  resourceVersion: { type: string }
  generation: { type: integer }
  selfLink: { type: string }
  creationTimestamp: {}
  deletionTimestamp: {}
  deletionGracePeriodSeconds: { type: integer }
  finalizers: { type: array, items: { type: string } }
  ownerReferences: { type: array }
  managedFields: { type: array }
"#;

/// Keywords the translation knows; anything else in a source is an error, not a silent pass.
const KNOWN_KEYWORDS: &[&str] = &[
    "$schema",
    "$id",
    "$comment",
    "title",
    "description",
    "type",
    "const",
    "enum",
    "required",
    "properties",
    "additionalProperties",
    "items",
    "minItems",
    "maxItems",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "pattern",
    "format",
    "anyOf",
    "oneOf",
    "allOf",
    "not",
    "if",
    "then",
    "else",
    "default",
    "x-kubernetes-preserve-unknown-fields",
    // Kubernetes-only, dropped from the JSON Schemas: CEL rules and list semantics
    // (Gateway API). The validator's cross-field checks enforce what meshcd relies on.
    "x-kubernetes-validations",
    "x-kubernetes-list-type",
    "x-kubernetes-list-map-keys",
];

/// The Kubernetes keywords that have no JSON Schema equivalent.
const KUBERNETES_ONLY: &[&str] = &[
    "x-kubernetes-validations",
    "x-kubernetes-list-type",
    "x-kubernetes-list-map-keys",
];

/// The JSON Schema files, `json/<apiVersion>/<Kind>.json`.
pub fn generate(sources: &Sources) -> Result<Vec<(PathBuf, String)>, String> {
    let mut seen = BTreeSet::new();
    let mut used_targets = BTreeSet::new();
    let mut files = Vec::new();
    for kind in &sources.kinds {
        let target = format!("{}/{}", kind.api_version, kind.kind);
        if !seen.insert(target.clone()) {
            return Err(format!("{target} has a schema in more than one source"));
        }
        let mut schema = kind.schema.clone();
        let mut reasons = Vec::new();
        for patch in sources
            .patches
            .iter()
            .filter(|p| p.targets.contains(&target))
        {
            apply(patch, &mut schema).map_err(|e| format!("patch for {target}: {e}"))?;
            reasons.push(patch.because.trim().to_string());
            used_targets.insert(target.clone());
        }
        let mut whole = wrap(kind, schema, &reasons)?;
        translate(&mut whole, &target, true)?;
        let text = serde_json::to_string_pretty(&whole)
            .map_err(|e| format!("serialising {target}: {e}"))?;
        files.push((
            PathBuf::from("json").join(format!("{target}.json")),
            text + "\n",
        ));
    }
    for patch in &sources.patches {
        if let Some(unknown) = patch.targets.iter().find(|t| !used_targets.contains(*t)) {
            return Err(format!("a patch is for {unknown}, which no source defines"));
        }
    }
    Ok(files)
}

fn apply(patch: &Patch, schema: &mut Value) -> Result<(), String> {
    for (pointer, value) in &patch.set {
        let pointer = pointer.as_str().ok_or("a `set` key is not a string")?;
        let (parent, last) = parent_of(schema, pointer)?;
        parent.insert(Value::from(last), value.clone());
    }
    for pointer in &patch.remove {
        let (parent, last) = parent_of(schema, pointer)?;
        parent
            .remove(last)
            .ok_or_else(|| format!("nothing to remove at {pointer}"))?;
    }
    Ok(())
}

/// The mapping that holds the last segment of `pointer`, which must exist.
fn parent_of<'a, 'p>(
    schema: &'a mut Value,
    pointer: &'p str,
) -> Result<(&'a mut Mapping, &'p str), String> {
    let path = pointer
        .strip_prefix('/')
        .ok_or_else(|| format!("{pointer} is not a JSON pointer"))?;
    let (parents, last) = path.rsplit_once('/').unwrap_or(("", path));
    let mut node = schema;
    for segment in parents.split('/').filter(|s| !s.is_empty()) {
        node = node
            .get_mut(segment)
            .ok_or_else(|| format!("{pointer}: the schema has no `{segment}`"))?;
    }
    let mapping = node
        .as_mapping_mut()
        .ok_or_else(|| format!("{pointer}: the parent is not a mapping"))?;
    Ok((mapping, last))
}

/// The whole-object schema: apiVersion, kind, metadata, and the source's own fields.
fn wrap(kind: &KindSchema, schema: Value, reasons: &[String]) -> Result<Value, String> {
    let target = format!("{}/{}", kind.api_version, kind.kind);
    let Value::Mapping(mut source) = schema else {
        return Err(format!("{target}: the openAPIV3Schema is not a mapping"));
    };
    let mut properties = match source.remove("properties") {
        Some(Value::Mapping(properties)) => properties,
        None => Mapping::new(),
        Some(_) => return Err(format!("{target}: `properties` is not a mapping")),
    };
    // A CRD may describe `apiVersion` and `kind` as plain strings (Gateway API's do); the
    // wrapper pins them to constants. Anything more specific would be lost: refuse it.
    for reserved in ["apiVersion", "kind"] {
        match properties.remove(reserved) {
            None => {}
            Some(schema) if is_plain_string(&schema) => {}
            Some(_) => {
                return Err(format!(
                    "{target}: the source schema constrains `{reserved}` itself"
                ));
            }
        }
    }
    let metadata = metadata_schema(kind, properties.remove("metadata"))?;
    let mut required: Vec<Value> = ["apiVersion", "kind", "metadata"].map(Value::from).into();
    if let Some(Value::Sequence(extra)) = source.remove("required") {
        required.extend(extra);
    }
    let description = source.remove("description");
    source.remove("type");

    let mut root = Mapping::new();
    root.insert(
        "$schema".into(),
        "https://json-schema.org/draft/2020-12/schema".into(),
    );
    root.insert(
        "$id".into(),
        format!("https://meshcd.dev/schemas/{target}.json").into(),
    );
    root.insert("$comment".into(), comment(kind, reasons).into());
    root.insert(
        "title".into(),
        format!("{} {}", kind.kind, kind.api_version).into(),
    );
    if let Some(description) = description {
        root.insert("description".into(), description);
    }
    root.insert("type".into(), "object".into());
    root.insert("required".into(), Value::Sequence(required));
    let mut all = Mapping::new();
    all.insert("apiVersion".into(), constant(&kind.api_version));
    all.insert("kind".into(), constant(&kind.kind));
    all.insert("metadata".into(), metadata);
    all.extend(properties);
    root.insert("properties".into(), Value::Mapping(all));
    root.extend(source);
    Ok(Value::Mapping(root))
}

/// `{type: string}`, with a description at most.
fn is_plain_string(schema: &Value) -> bool {
    schema.as_mapping().is_some_and(|mapping| {
        mapping.get("type").and_then(Value::as_str) == Some("string")
            && mapping
                .keys()
                .all(|key| matches!(key.as_str(), Some("type" | "description")))
    })
}

fn comment(kind: &KindSchema, reasons: &[String]) -> String {
    let mut text = format!(
        "Generated from schemas/{} by `cargo run -p meshcd-schemas --example regenerate`; do not edit.",
        kind.origin
    );
    if let Some(because) = &kind.because {
        text.push_str(&format!(" Overlay: {}", because.trim()));
    }
    for (number, reason) in reasons.iter().enumerate() {
        text.push_str(&format!(" Patch {}: {reason}", number + 1));
    }
    text
}

fn constant(value: &str) -> Value {
    let mut schema = Mapping::new();
    schema.insert("const".into(), value.into());
    Value::Mapping(schema)
}

/// ObjectMeta, with `namespace` required for namespaced kinds and the source's own
/// constraints on `name` (a CRD may restrict only `name` and `generateName`).
fn metadata_schema(kind: &KindSchema, source: Option<Value>) -> Result<Value, String> {
    let mut metadata: Value =
        serde_yaml::from_str(OBJECT_META).map_err(|e| format!("OBJECT_META: {e}"))?;
    let mut required = vec![Value::from("name")];
    if kind.namespaced {
        required.push("namespace".into());
    }
    let meta = metadata
        .as_mapping_mut()
        .ok_or("OBJECT_META is not a mapping")?;
    meta.insert("required".into(), Value::Sequence(required));
    if !kind.namespaced {
        let properties = meta.get_mut("properties").and_then(Value::as_mapping_mut);
        properties
            .ok_or("OBJECT_META has no properties")?
            .remove("namespace");
    }
    let Some(source) = source else {
        return Ok(metadata);
    };
    let source_properties = source.get("properties").and_then(Value::as_mapping);
    for (name, schema) in source_properties.into_iter().flatten() {
        if name.as_str() != Some("name") && name.as_str() != Some("generateName") {
            return Err(format!("{}: metadata may only constrain name", kind.kind));
        }
        let properties = metadata
            .get_mut("properties")
            .and_then(Value::as_mapping_mut);
        properties
            .ok_or("OBJECT_META has no properties")?
            .insert(name.clone(), schema.clone());
    }
    Ok(metadata)
}

/// Kubernetes dialect → JSON Schema, closing objects that list their properties.
fn translate(node: &mut Value, at: &str, close: bool) -> Result<(), String> {
    let Value::Mapping(schema) = node else {
        return Err(format!("{at}: a schema is not a mapping"));
    };
    for key in schema.keys() {
        let key = key.as_str().unwrap_or_default();
        if !KNOWN_KEYWORDS.contains(&key) {
            return Err(format!("{at}: unknown schema keyword {key:?}"));
        }
    }
    for keyword in KUBERNETES_ONLY {
        schema.remove(*keyword);
    }
    let free_form =
        schema.remove("x-kubernetes-preserve-unknown-fields") == Some(Value::Bool(true));
    if let Some(Value::Mapping(properties)) = schema.get_mut("properties") {
        for (name, property) in properties.iter_mut() {
            let name = name.as_str().unwrap_or_default();
            translate(property, &format!("{at}.{name}"), true)?;
        }
        if close && !free_form && !schema.contains_key("additionalProperties") {
            schema.insert("additionalProperties".into(), Value::Bool(false));
        }
    }
    for key in ["items", "additionalProperties", "then", "else"] {
        if let Some(sub @ Value::Mapping(_)) = schema.get_mut(key) {
            translate(sub, &format!("{at}.{key}"), true)?;
        }
    }
    // `if` and `not` only test; closing their objects would change what they mean.
    for key in ["if", "not"] {
        if let Some(sub @ Value::Mapping(_)) = schema.get_mut(key) {
            translate(sub, &format!("{at}.{key}"), false)?;
        }
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(Value::Sequence(branches)) = schema.get_mut(key) {
            for branch in branches {
                translate(branch, &format!("{at}.{key}"), close)?;
            }
        }
    }
    Ok(())
}
