//! Checks each document against its kind's JSON Schema (from `meshcd-schemas`).

use std::collections::HashMap;

use jsonschema::Validator;
use jsonschema::error::ValidationErrorKind;

use super::report::{Object, Reporter};

/// Compiled validators, one per (apiVersion, kind), built on first use.
#[derive(Default)]
pub struct Schemas {
    /// The validator and its schema (which names the fields a typo may have meant).
    validators: HashMap<(String, String), Option<(Validator, serde_json::Value)>>,
}

impl Schemas {
    /// Reports every schema violation of `object`; true when there was none.
    ///
    /// Long because each kind of violation (missing field, misspelt field, wrong type,
    /// pattern, enum) gets its own message and hint here, where the schema is at hand.
    pub fn check(&mut self, object: &Object<'_>, reporter: &mut Reporter<'_>) -> bool {
        let key = (object.api_version.clone(), object.id.kind.clone());
        let validator = self.validators.entry(key).or_insert_with(|| {
            let text = meshcd_schemas::json_schema(&object.api_version, &object.id.kind)?;
            let schema: serde_json::Value = serde_json::from_str(text).ok()?;
            let validator = jsonschema::validator_for(&schema).ok()?;
            Some((validator, schema))
        });
        let Some((validator, schema)) = validator else {
            reporter.error(
                object,
                "",
                format!(
                    "no schema is available for {} {}",
                    object.api_version, object.id.kind
                ),
            );
            return false;
        };
        // Each error with the field it may be a misspelling of.
        let errors: Vec<_> = validator
            .iter_errors(&object.value)
            .map(|error| {
                let closest = closest_field(schema, &error);
                (error, closest)
            })
            .collect();
        // A misspelt field is one error: "unknown field `wieght`, did you mean `weight`?"
        // says it all, without "missing required field `weight`" beside it.
        let misspelt: std::collections::BTreeSet<(&str, &str)> = errors
            .iter()
            .filter_map(|(error, closest)| {
                Some((error.instance_path().as_str(), closest.as_deref()?))
            })
            .collect();
        let valid = errors.is_empty();
        for (error, closest) in &errors {
            if let ValidationErrorKind::Required { property } = error.kind()
                && misspelt.contains(&(
                    error.instance_path().as_str(),
                    property.as_str().unwrap_or_default(),
                ))
            {
                continue;
            }
            let mut pointer = error.instance_path().as_str().to_string();
            let message = match error.kind() {
                ValidationErrorKind::AdditionalProperties { unexpected } => {
                    if let Some(first) = unexpected.first() {
                        pointer =
                            format!("{pointer}/{}", first.replace('~', "~0").replace('/', "~1"));
                    }
                    let names = unexpected
                        .iter()
                        .map(|name| format!("`{name}`"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    format!(
                        "unknown field {names} at {}",
                        display_pointer(error.instance_path().as_str())
                    )
                }
                ValidationErrorKind::Required { property } => {
                    format!(
                        "missing required field `{}` in {}",
                        property.as_str().unwrap_or_default(),
                        display_pointer(&pointer)
                    )
                }
                ValidationErrorKind::AnyOf { .. } | ValidationErrorKind::OneOfNotValid { .. } => {
                    format!(
                        "{} does not have any accepted shape",
                        display_pointer(&pointer)
                    )
                }
                ValidationErrorKind::OneOfMultipleValid { .. } => {
                    format!(
                        "{} fits more than one accepted shape; use only one of them",
                        display_pointer(&pointer)
                    )
                }
                _ => format!(
                    "{} at {}",
                    shorten(&error.masked().to_string()),
                    display_pointer(&pointer)
                ),
            };
            let hint = closest
                .as_ref()
                .map(|field| format!("did you mean `{field}`?"))
                .or_else(|| hint_for(error.kind(), &object.api_version, &object.id.kind));
            let pending = reporter.error(object, &pointer, message);
            if let Some(hint) = hint {
                pending.hint(hint);
            }
        }
        valid
    }
}

/// For an unknown field, the field of the same object its name almost matches
/// (`pathRegx` → `pathRegex`).
fn closest_field(
    schema: &serde_json::Value,
    error: &jsonschema::ValidationError<'_>,
) -> Option<String> {
    let ValidationErrorKind::AdditionalProperties { unexpected } = error.kind() else {
        return None;
    };
    let unknown = unexpected.first()?;
    // `…/additionalProperties` is the keyword; its object schema holds `properties`.
    let keyword = error.schema_path().as_str();
    let object = keyword.strip_suffix("/additionalProperties")?;
    let fields = schema.pointer(object)?.get("properties")?.as_object()?;
    let (closest, distance) = fields
        .keys()
        .map(|field| (field, strsim::levenshtein(unknown, field)))
        .min_by_key(|(_, distance)| *distance)?;
    (distance <= (unknown.chars().count() / 3).max(2)).then(|| closest.clone())
}

fn display_pointer(pointer: &str) -> String {
    if pointer.is_empty() {
        "the document root".into()
    } else {
        format!("`{}`", pointer.trim_start_matches('/').replace('/', "."))
    }
}

fn shorten(text: &str) -> String {
    const LIMIT: usize = 160;
    if text.chars().count() <= LIMIT {
        return text.to_string();
    }
    let cut: String = text.chars().take(LIMIT).collect();
    format!("{cut}…")
}

fn hint_for(kind: &ValidationErrorKind, api_version: &str, object_kind: &str) -> Option<String> {
    match kind {
        ValidationErrorKind::AdditionalProperties { .. } => Some(format!(
            "check the spelling against the {object_kind} fields of {api_version}"
        )),
        ValidationErrorKind::Type { .. } => {
            Some("check the YAML type: quote strings that look like numbers".into())
        }
        _ => None,
    }
}
