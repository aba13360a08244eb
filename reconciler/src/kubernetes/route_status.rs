//! Each applied Gateway API route's `status.parents[]`, as GAMMA implementations write it:
//! for every Service the route binds, meshcd's entry (`controllerName: meshcd.dev/mesh`)
//! with `Accepted` and `ResolvedRefs` at the route's generation, through the status
//! subresource. Entries of other controllers are kept; a condition whose status did not
//! change keeps its `lastTransitionTime`; a route whose status already says so is not
//! written, so a pass over unchanged routes writes nothing.
//!
//! meshcd applies a revision only once all of it is valid, so an applied route is accepted
//! and its references resolved: kinds, namespaces and ReferenceGrants were checked before.

use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde_json::{Value, json};

/// The controller name meshcd's entries carry.
pub const CONTROLLER_NAME: &str = "meshcd.dev/mesh";

/// Writes the status of route `name` through `api` (the route's kind and namespace) when
/// meshcd's entries would change `object`, the route as the API server holds it after it
/// was applied; whether it was written.
pub async fn update(
    api: &Api<DynamicObject>,
    name: &str,
    object: &Value,
) -> Result<bool, kube::Error> {
    let now = Timestamp::now().to_string();
    let Some(parents) = parents(object, &now) else {
        return Ok(false);
    };
    // The version read: a controller that wrote meanwhile makes this fail (409) rather
    // than lose its entry; the next pass reads again.
    let body = json!({
        "metadata": { "resourceVersion": object["metadata"]["resourceVersion"] },
        "status": { "parents": parents },
    });
    api.patch_status(name, &PatchParams::default(), &Patch::Merge(&body))
        .await?;
    Ok(true)
}

/// The `status.parents` `object` should have, or `None` when it has it already: other
/// controllers' entries, then one of meshcd's per Service parentRef of its spec.
pub fn parents(object: &Value, now: &str) -> Option<Vec<Value>> {
    let generation = object["metadata"]["generation"].as_i64().unwrap_or(0);
    let existing: Vec<Value> = object["status"]["parents"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let is_ours = |entry: &Value| entry["controllerName"] == CONTROLLER_NAME;
    let refs = object["spec"]["parentRefs"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let ours: Vec<Value> = refs
        .iter()
        .filter(|parent| parent["kind"] == "Service")
        .map(|parent| {
            let previous = existing
                .iter()
                .find(|entry| is_ours(entry) && entry["parentRef"] == *parent);
            entry(object, parent, previous, generation, now)
        })
        .collect();
    // Order is no change: another controller that appends its entry after ours must not
    // make both rewrite the list in turn.
    let held: Vec<&Value> = existing.iter().filter(|entry| is_ours(entry)).collect();
    if held.len() == ours.len() && ours.iter().all(|entry| held.contains(&entry)) {
        return None;
    }
    let mut parents: Vec<Value> = existing.into_iter().filter(|e| !is_ours(e)).collect();
    parents.extend(ours);
    Some(parents)
}

/// meshcd's entry for `parent` of `object`, keeping the transition times of `previous`
/// (its entry so far) for conditions whose status did not change.
fn entry(
    object: &Value,
    parent: &Value,
    previous: Option<&Value>,
    generation: i64,
    now: &str,
) -> Value {
    let condition = |kind: &str, reason: &str, message: String| {
        let since = previous
            .and_then(|entry| entry["conditions"].as_array())
            .and_then(|conditions| {
                conditions
                    .iter()
                    .find(|c| c["type"] == kind && c["status"] == "True")
            })
            .and_then(|c| c["lastTransitionTime"].as_str())
            .unwrap_or(now)
            .to_string();
        json!({
            "type": kind,
            "status": "True",
            "reason": reason,
            "message": message,
            "observedGeneration": generation,
            "lastTransitionTime": since,
        })
    };
    let service = format!(
        "{}/{}",
        parent["namespace"]
            .as_str()
            .or_else(|| object["metadata"]["namespace"].as_str())
            .unwrap_or_default(),
        parent["name"].as_str().unwrap_or_default()
    );
    json!({
        "parentRef": parent,
        "controllerName": CONTROLLER_NAME,
        "conditions": [
            condition(
                "Accepted",
                "Accepted",
                format!("meshcd routes calls to Service {service} by this route"),
            ),
            condition(
                "ResolvedRefs",
                "ResolvedRefs",
                "every backendRef names a Service meshcd may send to".to_string(),
            ),
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(status: Value) -> Value {
        json!({
            "metadata": { "name": "api", "namespace": "shop", "generation": 3, "resourceVersion": "7" },
            "spec": { "parentRefs": [
                { "group": "", "kind": "Service", "name": "api", "port": 80 },
                { "group": "", "kind": "Service", "name": "web", "namespace": "front" },
            ] },
            "status": status,
        })
    }

    #[test]
    fn each_service_parent_gets_an_accepted_entry_and_others_entries_stay() {
        let theirs = json!({ "parentRef": { "name": "gw" }, "controllerName": "example.com/gateway", "conditions": [] });
        let parents = parents(
            &route(json!({ "parents": [theirs] })),
            "2026-12-07T12:00:00Z",
        )
        .expect("a change");
        assert_eq!(parents.len(), 3);
        assert_eq!(parents[0], theirs);
        let ours = &parents[1];
        assert_eq!(ours["controllerName"], "meshcd.dev/mesh");
        assert_eq!(ours["parentRef"]["name"], "api");
        assert_eq!(ours["conditions"][0]["type"], "Accepted");
        assert_eq!(ours["conditions"][0]["status"], "True");
        assert_eq!(ours["conditions"][0]["observedGeneration"], 3);
        assert_eq!(ours["conditions"][1]["type"], "ResolvedRefs");
        assert!(
            parents[2]["conditions"][0]["message"]
                .as_str()
                .unwrap()
                .contains("front/web")
        );
    }

    #[test]
    fn another_controller_appending_after_ours_is_no_change() {
        let ours = parents(&route(json!({})), "2026-12-07T12:00:00Z").unwrap();
        let theirs = json!({ "parentRef": { "name": "gw" }, "controllerName": "example.com/gateway", "conditions": [] });
        let mut both = ours.clone();
        both.push(theirs);
        assert_eq!(
            parents(&route(json!({ "parents": both })), "2026-12-07T13:00:00Z"),
            None
        );
    }

    #[test]
    fn a_status_that_already_says_so_is_not_written_again_and_keeps_its_times() {
        let first = parents(&route(json!({})), "2026-12-07T12:00:00Z").unwrap();
        let written = route(json!({ "parents": first }));
        assert_eq!(parents(&written, "2026-12-07T13:00:00Z"), None);
        let mut newer = written.clone();
        newer["metadata"]["generation"] = json!(4);
        let again = parents(&newer, "2026-12-07T13:00:00Z").expect("the generation moved");
        assert_eq!(again[0]["conditions"][0]["observedGeneration"], 4);
        assert_eq!(
            again[0]["conditions"][0]["lastTransitionTime"],
            "2026-12-07T12:00:00Z"
        );
    }
}
