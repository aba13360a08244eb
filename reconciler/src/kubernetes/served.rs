//! Which version of each kind the cluster serves, from the API's group versions.
//!
//! A cluster may serve an older SMI version than the repository uses (Open Service Mesh's
//! CRDs serve split v1alpha2, for instance); meshcd writes the newest version that the
//! cluster serves and it can write.

use std::collections::{BTreeMap, BTreeSet};

use kube::Client;

use super::convert::Kind;

/// Asks the API server which versions of meshcd's groups serve which kinds.
pub async fn discover(client: &Client) -> Result<BTreeMap<Kind, String>, kube::Error> {
    let groups: BTreeSet<&str> = Kind::ALL.iter().map(|kind| kind.group()).collect();
    let mut served = Vec::new();
    for group in client.list_api_groups().await?.groups {
        if !groups.contains(group.name.as_str()) {
            continue;
        }
        for version in &group.versions {
            let resources = match client
                .list_api_group_resources(&version.group_version)
                .await
            {
                Ok(resources) => resources,
                // A CRD removed between the two calls.
                Err(kube::Error::Api(status)) if status.code == 404 => continue,
                Err(error) => return Err(error),
            };
            for resource in resources.resources {
                // Subresources (`canaries/status`) are not kinds of their own.
                if !resource.name.contains('/') {
                    served.push(Served {
                        group: group.name.clone(),
                        version: version.version.clone(),
                        kind: resource.kind,
                    });
                }
            }
        }
    }
    Ok(choose(&served))
}

/// One (group, version, kind) the API serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    pub group: String,
    pub version: String,
    pub kind: String,
}

/// For each kind, the newest version meshcd writes among those served; kinds the cluster
/// does not serve are absent.
pub fn choose(served: &[Served]) -> BTreeMap<Kind, String> {
    Kind::ALL
        .iter()
        .filter_map(|kind| {
            kind.versions()
                .iter()
                .rev()
                .find(|version| {
                    served.iter().any(|s| {
                        s.group == kind.group() && s.kind == kind.name() && s.version == **version
                    })
                })
                .map(|version| (*kind, version.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn served(group: &str, version: &str, kind: &str) -> Served {
        Served {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
        }
    }

    #[test]
    fn the_newest_served_version_of_each_kind_is_chosen() {
        // Open Service Mesh v1.2's CRDs: split serves v1alpha2 only.
        let chosen = choose(&[
            served("split.smi-spec.io", "v1alpha2", "TrafficSplit"),
            served("access.smi-spec.io", "v1alpha3", "TrafficTarget"),
            served("access.smi-spec.io", "v1alpha2", "TrafficTarget"),
            served("specs.smi-spec.io", "v1alpha4", "HTTPRouteGroup"),
            served("specs.smi-spec.io", "v1alpha4", "TCPRoute"),
            served("specs.smi-spec.io", "v1alpha3", "HTTPRouteGroup"),
            served("specs.smi-spec.io", "v1alpha9", "HTTPRouteGroup"),
        ]);
        assert_eq!(
            chosen.into_iter().collect::<Vec<_>>(),
            vec![
                (Kind::HttpRouteGroup, "v1alpha4".to_string()),
                (Kind::TcpRoute, "v1alpha4".to_string()),
                (Kind::TrafficTarget, "v1alpha3".to_string()),
                (Kind::TrafficSplit, "v1alpha2".to_string()),
            ]
        );
    }

    #[test]
    fn a_kind_served_only_in_a_version_meshcd_does_not_write_is_not_served() {
        let chosen = choose(&[served("split.smi-spec.io", "v1beta1", "TrafficSplit")]);
        assert!(chosen.is_empty());
    }
}
