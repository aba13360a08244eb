//! Policies on calls (issue 19): Faults only where the Mesh allows them, and one Fault, one
//! UpstreamTrafficSetting per Service, one Retry per source and destination.

use std::collections::BTreeMap;

use super::Key;
use crate::model::Identity;
use crate::validate::convert::Converted;
use crate::validate::report::{Object, Reporter};

pub(super) struct Policies<'o, 'a> {
    faults_allowed: bool,
    faulted: BTreeMap<Key, &'o Object<'a>>,
    limited: BTreeMap<Key, &'o Object<'a>>,
    retried: BTreeMap<(Identity, Key), &'o Object<'a>>,
}

impl<'o, 'a> Policies<'o, 'a> {
    pub(super) fn new(objects: &[(Object<'_>, Converted)]) -> Self {
        Policies {
            faults_allowed: objects.iter().any(
                |(_, converted)| matches!(converted, Converted::Mesh(mesh) if mesh.fault_injection),
            ),
            faulted: BTreeMap::new(),
            limited: BTreeMap::new(),
            retried: BTreeMap::new(),
        }
    }

    /// Checks one object (any other kind than the policies is left alone).
    pub(super) fn check(
        &mut self,
        object: &'o Object<'a>,
        converted: &Converted,
        reporter: &mut Reporter<'_>,
    ) {
        match converted {
            Converted::Fault(_) if !self.faults_allowed => {
                reporter
                    .error(object, "/kind", "fault injection is not allowed in this mesh: the Fault would break calls on purpose")
                    .hint("if that is meant (a test or staging mesh), set `faultInjection: allowed` in the Mesh's spec");
            }
            Converted::Fault(fault) => {
                let key = (fault.namespace.clone(), fault.destination.clone());
                once(
                    &mut self.faulted,
                    key,
                    object,
                    reporter,
                    "/spec/destination/name",
                    |first| {
                        format!(
                            "Service {}/{} already has Fault {first}",
                            fault.namespace, fault.destination
                        )
                    },
                )
                .map(|pending| {
                    pending.hint("one Fault per Service: merge their aborts and delays into one")
                });
            }
            Converted::UpstreamTrafficSetting(setting) => {
                let key = (setting.namespace.clone(), setting.destination.clone());
                once(
                    &mut self.limited,
                    key,
                    object,
                    reporter,
                    "/spec/host",
                    |first| {
                        format!(
                            "Service {}/{} already has UpstreamTrafficSetting {first}",
                            setting.namespace, setting.destination
                        )
                    },
                )
                .map(|pending| pending.hint("one UpstreamTrafficSetting per Service: merge them"));
            }
            Converted::Retry(retry) => {
                for (index, destination) in retry.destinations.iter().enumerate() {
                    let key = (retry.source.clone(), destination.clone());
                    let pointer = format!("/spec/destinations/{index}");
                    once(
                        &mut self.retried,
                        key,
                        object,
                        reporter,
                        &pointer,
                        |first| {
                            format!(
                                "{}/{}'s calls to {}/{} already follow Retry {first}",
                                retry.source.namespace,
                                retry.source.service_account,
                                destination.0,
                                destination.1
                            )
                        },
                    )
                    .map(|pending| pending.hint("one Retry per source and destination"));
                }
            }
            _ => {}
        }
    }
}

/// Records `object` under `key`, or, when an object is there already, reports an error
/// (`message` gets the first one's name and place) and returns it for a hint.
fn once<'r, 'p, 'o, 'a, K: Ord>(
    seen: &mut BTreeMap<K, &'o Object<'a>>,
    key: K,
    object: &'o Object<'a>,
    reporter: &'r mut Reporter<'p>,
    pointer: &str,
    message: impl FnOnce(String) -> String,
) -> Option<crate::validate::report::Pending<'r, 'p>> {
    let Some(first) = seen.get(&key) else {
        seen.insert(key, object);
        return None;
    };
    let origin = reporter.origin(first.document);
    let first = format!(
        "{} ({}:{})",
        first.id.name,
        origin.file.display(),
        origin.line
    );
    Some(reporter.error(object, pointer, message(first)))
}
