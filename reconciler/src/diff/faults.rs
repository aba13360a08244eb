//! Faults HEAD adds or changes: each is a risk a reviewer must see, located at the Fault
//! (calls will fail or slow down on purpose once it lands).

use crate::diagnostics::{Diagnostic, ObjectId, Severity};
use crate::model::{Config, Fault};
use crate::validate::convert::units::format_duration;

pub fn warnings(base: &Config, head: &Config) -> Vec<Diagnostic> {
    head.faults
        .iter()
        .filter(|fault| !base.faults.iter().any(|before| before.value == fault.value))
        .map(|fault| {
            let value = &fault.value;
            let added = !base.faults.iter().any(|before| {
                before.value.namespace == value.namespace && before.value.name == value.name
            });
            Diagnostic {
                severity: Severity::Warning,
                file: fault.origin.file.clone(),
                line: fault.origin.line,
                column: 1,
                object: Some(ObjectId {
                    kind: "Fault".into(),
                    namespace: Some(value.namespace.clone()),
                    name: value.name.clone(),
                }),
                message: format!(
                    "{} Fault: {} of calls to {}/{} from {}",
                    if added { "a new" } else { "a changed" },
                    effects(value),
                    value.namespace,
                    value.destination,
                    callers(value)
                ),
                hint: Some(
                    "faults break calls on purpose: make sure this mesh is one to test in".into(),
                ),
            }
        })
        .collect()
}

/// `50% aborted with 503, 100% delayed 200ms`.
fn effects(fault: &Fault) -> String {
    let mut effects = Vec::new();
    if let Some(abort) = &fault.abort {
        effects.push(format!("{}% aborted with {}", abort.percent, abort.status));
    }
    if let Some(delay) = &fault.delay {
        effects.push(format!(
            "{}% delayed {}",
            delay.percent,
            format_duration(delay.duration)
        ));
    }
    effects.join(", ")
}

fn callers(fault: &Fault) -> String {
    if fault.sources.is_empty() {
        return "every caller".into();
    }
    fault
        .sources
        .iter()
        .map(|source| format!("{}/{}", source.namespace, source.service_account))
        .collect::<Vec<_>>()
        .join(", ")
}
