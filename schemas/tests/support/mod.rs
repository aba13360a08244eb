//! Validates YAML objects against the crate's JSON Schemas, for the schema tests.

use serde_json::Value;

/// A YAML object as the validator sees it (serde_json values).
pub fn object(yaml: &str) -> Value {
    serde_yaml::from_str(yaml).unwrap_or_else(|e| panic!("test YAML does not parse: {e}\n{yaml}"))
}

/// The compiled schema of this (apiVersion, kind).
pub fn validator(api_version: &str, kind: &str) -> jsonschema::Validator {
    let text = meshcd_schemas::json_schema(api_version, kind)
        .unwrap_or_else(|| panic!("no schema for {api_version} {kind}"));
    let schema: Value = serde_json::from_str(text).expect("the schema is JSON");
    jsonschema::validator_for(&schema)
        .unwrap_or_else(|e| panic!("the schema of {api_version} {kind} does not compile: {e}"))
}

/// Every schema error of a YAML object, as `<JSON pointer>: <message>`, using the schema its
/// own `apiVersion` and `kind` select.
pub fn errors(yaml: &str) -> Vec<String> {
    let value = object(yaml);
    let api_version = value["apiVersion"]
        .as_str()
        .expect("the object has an apiVersion");
    let kind = value["kind"].as_str().expect("the object has a kind");
    let validator = validator(api_version, kind);
    validator
        .iter_errors(&value)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

#[track_caller]
pub fn assert_valid(yaml: &str) {
    let errors = errors(yaml);
    assert!(errors.is_empty(), "expected valid, got {errors:#?}\n{yaml}");
}

/// Asserts the object is rejected with an error that mentions `fragment` (a pointer or part
/// of the message).
#[track_caller]
pub fn assert_invalid(yaml: &str, fragment: &str) {
    let errors = errors(yaml);
    assert!(
        errors.iter().any(|e| e.contains(fragment)),
        "expected an error mentioning {fragment:?}, got {errors:#?}\n{yaml}"
    );
}
