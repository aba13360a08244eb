//! MeshRootCertificates together: while any is in the tree, exactly one is active (the
//! one that issues), and no two in use name the same CA.

use std::collections::BTreeMap;

use super::Converted;
use crate::model::{MeshRootCertificate, RootRole, RootSource};
use crate::validate::report::{Object, Reporter};

pub fn check(objects: &[(Object<'_>, Converted)], reporter: &mut Reporter<'_>) {
    let roots: Vec<(&Object<'_>, &MeshRootCertificate)> = objects
        .iter()
        .filter_map(|(object, converted)| match converted {
            Converted::MeshRootCertificate(root) => Some((object, root)),
            _ => None,
        })
        .collect();
    let mut active: Option<&Object<'_>> = None;
    let mut sources: BTreeMap<&RootSource, &Object<'_>> = BTreeMap::new();
    for &(object, root) in &roots {
        if root.role == RootRole::Inactive {
            continue;
        }
        if let Some(first) = sources.get(&root.source) {
            reporter
                .error(
                    object,
                    "/spec/provider",
                    format!(
                        "{} is already MeshRootCertificate {}",
                        root.source.describe(),
                        first.id.name
                    ),
                )
                .hint("each root in use names its own CA");
        } else {
            sources.insert(&root.source, object);
        }
        if root.role != RootRole::Active {
            continue;
        }
        match active {
            Some(first) => {
                reporter
                    .error(
                        object,
                        "/spec/role",
                        format!("MeshRootCertificate {} is already active", first.id.name),
                    )
                    .hint("one root issues certificates at a time: make the other one passive (trusted only)");
            }
            None => active = Some(object),
        }
    }
    if let (None, Some((first, _))) = (active, roots.first()) {
        reporter
            .error(first, "/spec/role", "no MeshRootCertificate is active")
            .hint("one root must issue workload certificates: set `role: active` on it");
    }
}
