//! Edits of a config file's text that keep everything else byte for byte (comments,
//! layout, other documents): a TrafficSplit's or an HTTPRoute's weights, an object's
//! `status`. Positions come from meshcd's YAML parser; edits replace plain scalars or whole
//! `status` blocks.

use serde_json::json;

use crate::load::yaml::{Node, NodeValue, Position, parse_stream};

/// One object to find in a file: kind, namespace and name.
pub struct ObjectRef<'a> {
    pub kind: &'a str,
    pub namespace: &'a str,
    pub name: &'a str,
}

pub(super) fn find_document<'n>(
    documents: &'n [Node],
    object: &ObjectRef<'_>,
) -> Option<(usize, &'n Node)> {
    documents.iter().enumerate().find(|(_, node)| {
        let value = node.to_json();
        value["kind"] == object.kind
            && value.pointer("/metadata/name").and_then(|v| v.as_str()) == Some(object.name)
            && value
                .pointer("/metadata/namespace")
                .and_then(|v| v.as_str())
                == Some(object.namespace)
    })
}

/// Byte offset of a 1-based line and column.
fn offset(text: &str, position: Position) -> usize {
    let mut line_start = 0;
    for _ in 1..position.line {
        match text[line_start..].find('\n') {
            Some(end) => line_start += end + 1,
            None => return text.len(),
        }
    }
    let line = &text[line_start..];
    line_start
        + line
            .char_indices()
            .nth(position.column.saturating_sub(1))
            .map_or(line.len(), |(i, _)| i)
}

/// Sets `weight` of the named backends of a TrafficSplit, keeping everything else.
pub fn set_weights(
    text: &str,
    split: &ObjectRef<'_>,
    weights: &[(&str, u64)],
) -> Result<String, String> {
    let documents = parse_stream(text).map_err(|e| e.message)?;
    let (_, document) =
        find_document(&documents, split).ok_or("the TrafficSplit is not in this file any more")?;
    let backends = sequence(document, "/spec/backends");
    let mut replacements = Vec::new();
    for (service, weight) in weights {
        let backend = backends
            .iter()
            .find(|backend| backend.get("/service").map(Node::to_json) == Some(json!(service)))
            .ok_or_else(|| format!("backend {service:?} is not in the TrafficSplit"))?;
        let node = backend
            .get("/weight")
            .ok_or_else(|| format!("backend {service:?} has no weight"))?;
        replacements.push((node.position, weight.to_string()));
    }
    Ok(replace_scalars(text, replacements))
}

/// Sets `weight` of the named backendRefs (Services of the route's namespace) in an
/// HTTPRoute's rule named `rule`, or in every rule that has all of them; keeps
/// everything else.
pub fn set_route_weights(
    text: &str,
    route: &ObjectRef<'_>,
    rule: Option<&str>,
    weights: &[(&str, u64)],
) -> Result<String, String> {
    let documents = parse_stream(text).map_err(|e| e.message)?;
    let (_, document) =
        find_document(&documents, route).ok_or("the HTTPRoute is not in this file any more")?;
    // A backendRef to one of the named Services of the route's own namespace.
    let named = |backend: &Node, service: &str| {
        backend.get("/name").map(Node::to_json) == Some(json!(service))
            && backend
                .get("/namespace")
                .is_none_or(|namespace| namespace.to_json() == json!(route.namespace))
            && backend
                .get("/kind")
                .is_none_or(|kind| kind.to_json() == json!("Service"))
    };
    let mut replacements = Vec::new();
    for candidate in sequence(document, "/spec/rules") {
        let backends = sequence(candidate, "/backendRefs");
        let driven = match rule {
            Some(rule) => candidate.get("/name").map(Node::to_json) == Some(json!(rule)),
            None => weights
                .iter()
                .all(|(service, _)| backends.iter().any(|b| named(b, service))),
        };
        if !driven {
            continue;
        }
        for (service, weight) in weights {
            let mut found = false;
            for backend in backends.iter().filter(|b| named(b, service)) {
                found = true;
                let node = backend
                    .get("/weight")
                    .ok_or_else(|| format!("backendRef {service:?} has no weight"))?;
                replacements.push((node.position, weight.to_string()));
            }
            if !found {
                return Err(format!(
                    "backendRef {service:?} is not in the rule any more"
                ));
            }
        }
    }
    if replacements.is_empty() {
        return Err(match rule {
            Some(rule) => format!("the HTTPRoute has no rule {rule:?} any more"),
            None => "no rule of the HTTPRoute has these backendRefs any more".to_string(),
        });
    }
    Ok(replace_scalars(text, replacements))
}

/// The items of the sequence at `pointer` (none when it is absent or not a sequence).
fn sequence<'n>(node: &'n Node, pointer: &str) -> &'n [Node] {
    match node.get(pointer).map(|n| &n.value) {
        Some(NodeValue::Sequence(items)) => items,
        _ => &[],
    }
}

/// Replaces the plain scalars starting at `positions` with the new texts.
fn replace_scalars(text: &str, mut replacements: Vec<(Position, String)>) -> String {
    let mut text = text.to_string();
    // From the end, so that earlier offsets stay valid.
    replacements.sort_by_key(|(position, _)| std::cmp::Reverse(*position));
    replacements.dedup_by_key(|(position, _)| *position);
    for (position, replacement) in replacements {
        let start = offset(&text, position);
        let end = start
            + text[start..]
                .find(|c: char| c.is_whitespace() || matches!(c, ',' | '}' | ']' | '#'))
                .unwrap_or(text.len() - start);
        text.replace_range(start..end, &replacement);
    }
    text
}

/// Replaces (or adds) the top-level `status` of a document with `status` (a mapping).
pub fn set_status(
    text: &str,
    object: &ObjectRef<'_>,
    status: &serde_json::Value,
) -> Result<String, String> {
    let documents = parse_stream(text).map_err(|e| e.message)?;
    let (_, document) =
        find_document(&documents, object).ok_or("the object is not in this file any more")?;
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    // The document ends at the next `---` / `...` line after its start, or at the end.
    let start_line = document.position.line;
    let end_line = lines
        .iter()
        .enumerate()
        .skip(start_line)
        .find(|(_, line)| line.starts_with("---") || line.starts_with("..."))
        .map_or(lines.len(), |(i, _)| i);
    let rendered = serde_yaml::to_string(&serde_json::json!({ "status": status }))
        .map_err(|e| e.to_string())?;
    let (from, to) = match document.key_position("status") {
        Some(position) => {
            let from = position.line - 1;
            // Up to the next top-level key of the document (a line starting in column 1).
            let to = lines
                .iter()
                .enumerate()
                .take(end_line)
                .skip(from + 1)
                .find(|(_, line)| {
                    line.chars()
                        .next()
                        .is_some_and(|c| !c.is_whitespace() && c != '#')
                })
                .map_or(end_line, |(i, _)| i);
            (from, to)
        }
        None => {
            // After the document's last non-blank line.
            let mut to = end_line;
            while to > start_line && lines[to - 1].trim().is_empty() {
                to -= 1;
            }
            (to, to)
        }
    };
    let mut out = String::new();
    for line in &lines[..from] {
        out.push_str(line);
    }
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&rendered);
    for line in &lines[to..] {
        out.push_str(line);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPLIT: &str = "# the split\napiVersion: split.smi-spec.io/v1alpha4\nkind: TrafficSplit\nmetadata:\n  name: api\n  namespace: shop\nspec:\n  service: api\n  backends:\n  - service: api-v1\n    weight: 90   # stable\n  - {service: api-v2, weight: 10}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n";

    fn split() -> ObjectRef<'static> {
        ObjectRef {
            kind: "TrafficSplit",
            namespace: "shop",
            name: "api",
        }
    }

    #[test]
    fn weights_change_in_place_and_comments_survive() {
        let edited = set_weights(SPLIT, &split(), &[("api-v1", 0), ("api-v2", 100)]).unwrap();
        assert!(edited.contains("    weight: 0   # stable\n"), "{edited}");
        assert!(
            edited.contains("- {service: api-v2, weight: 100}\n"),
            "{edited}"
        );
        assert!(edited.starts_with("# the split\n"));
        assert!(edited.ends_with("metadata: {name: shop}\n"));
    }

    const ROUTE: &str = "# api's routes\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: api, namespace: shop}\nspec:\n  parentRefs: [{group: '', kind: Service, name: api, port: 80}]\n  rules:\n  - name: pinned\n    backendRefs: [{name: api-v1, port: 80, weight: 3}]\n  - name: rollout\n    backendRefs:\n    - name: api-v1\n      port: 80\n      weight: 80   # stable\n    - {name: api-v2, port: 80, weight: 20}\n    - {name: api-v2, namespace: other, port: 80, weight: 7}\n  - name: beta\n    backendRefs: [{name: api-v1, port: 80, weight: 1}, {name: api-v2, port: 80}]\n";

    fn route() -> ObjectRef<'static> {
        ObjectRef {
            kind: "HTTPRoute",
            namespace: "shop",
            name: "api",
        }
    }

    #[test]
    fn route_weights_change_in_place_in_the_named_rule_only() {
        let edited = set_route_weights(
            ROUTE,
            &route(),
            Some("rollout"),
            &[("api-v1", 0), ("api-v2", 100)],
        )
        .unwrap();
        let expected = ROUTE
            .replace("weight: 80   # stable", "weight: 0   # stable")
            .replace(
                "{name: api-v2, port: 80, weight: 20}",
                "{name: api-v2, port: 80, weight: 100}",
            );
        assert_eq!(edited, expected);
    }

    #[test]
    fn route_weights_change_in_every_rule_with_both_backends_and_each_must_be_written() {
        // `beta` holds both but leaves api-v2's weight out: nothing is written.
        let error = set_route_weights(ROUTE, &route(), None, &[("api-v1", 0), ("api-v2", 100)])
            .unwrap_err();
        assert_eq!(error, "backendRef \"api-v2\" has no weight");
        let weighted = ROUTE.replace(
            "{name: api-v2, port: 80}]",
            "{name: api-v2, port: 80, weight: 1}]",
        );
        let edited =
            set_route_weights(&weighted, &route(), None, &[("api-v1", 100), ("api-v2", 0)])
                .unwrap();
        assert!(edited.contains("weight: 100   # stable\n"), "{edited}");
        assert!(
            edited.contains(
                "[{name: api-v1, port: 80, weight: 100}, {name: api-v2, port: 80, weight: 0}]"
            ),
            "{edited}"
        );
        assert!(
            edited.contains("{name: api-v2, namespace: other, port: 80, weight: 7}"),
            "another namespace's Service is not the canary: {edited}"
        );
        assert!(
            edited.contains("[{name: api-v1, port: 80, weight: 3}]"),
            "{edited}"
        );
        let gone = set_route_weights(ROUTE, &route(), Some("gone"), &[("api-v1", 0)]).unwrap_err();
        assert_eq!(gone, "the HTTPRoute has no rule \"gone\" any more");
    }

    #[test]
    fn status_is_added_then_replaced_within_its_document() {
        let status = serde_json::json!({"phase": "Promoted", "message": "ok"});
        let added = set_status(SPLIT, &split(), &status).unwrap();
        assert!(
            added.contains(" weight: 10}\nstatus:\n  message: ok\n  phase: Promoted\n---\n"),
            "{added}"
        );
        let replaced = set_status(
            &added,
            &split(),
            &serde_json::json!({"phase": "RolledBack"}),
        )
        .unwrap();
        assert!(
            replaced.contains("weight: 10}\nstatus:\n  phase: RolledBack\n---\n"),
            "{replaced}"
        );
        assert!(!replaced.contains("Promoted"));
    }
}
