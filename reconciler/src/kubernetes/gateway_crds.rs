//! The Gateway API CRDs `meshcd install` adds to a cluster: HTTPRoute, GRPCRoute and
//! ReferenceGrant of the vendored standard channel, each only when the cluster has no such
//! CRD or a standard-channel one of an older bundle version. A newer one, an experimental
//! one (its fields, and versions objects may be stored in, would be dropped), or one whose
//! release or channel cannot be read (a Gateway implementation's own build) is never
//! replaced: applying ours would take away what the cluster relies on.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Client;
use kube::api::Api;

/// The annotation the Gateway API's CRDs carry their release in.
pub const BUNDLE_VERSION_ANNOTATION: &str = "gateway.networking.k8s.io/bundle-version";
/// The annotation the Gateway API's CRDs carry their channel in (`standard`,
/// `experimental`).
pub const CHANNEL_ANNOTATION: &str = "gateway.networking.k8s.io/channel";

/// A CRD as the cluster has it: its bundle version and channel, when annotated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Installed {
    pub version: Option<String>,
    pub channel: Option<String>,
}

/// What to do with one of meshcd's Gateway API CRDs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The cluster lacks it.
    Install,
    /// The cluster's is older.
    Upgrade { from: String },
    /// The cluster's is as new or newer, or of an unknown version.
    Keep { version: Option<String> },
}

/// For the CRD the cluster has (`None`: none), given ours (standard channel) at `vendored`.
pub fn decide(installed: Option<&Installed>, vendored: &str) -> Decision {
    let Some(installed) = installed else {
        return Decision::Install;
    };
    let keep = || Decision::Keep {
        version: installed.version.clone(),
    };
    let (Some(version), Some("standard")) =
        (installed.version.as_deref(), installed.channel.as_deref())
    else {
        return keep();
    };
    match (release(version), release(vendored)) {
        (Some(theirs), Some(ours)) if theirs.cmp(&ours) == Ordering::Less => Decision::Upgrade {
            from: version.to_string(),
        },
        _ => keep(),
    }
}

/// `v1.6.1` → (1, 6, 1); a pre-release (`v1.7.0-rc1`) or anything else: `None`, which is
/// never replaced.
fn release(version: &str) -> Option<(u64, u64, u64)> {
    let mut parts = version.strip_prefix('v')?.split('.');
    let mut next = || parts.next()?.parse::<u64>().ok();
    let release = (next()?, next()?, next()?);
    parts.next().is_none().then_some(release)
}

/// The cluster's CRD of each of `names` that it has (`httproutes.gateway…`), by name.
/// Only metadata is read: a CRD's schema can run to megabytes.
pub async fn installed(
    client: &Client,
    names: &[String],
) -> Result<BTreeMap<String, Installed>, kube::Error> {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    let mut installed = BTreeMap::new();
    for name in names {
        let Some(crd) = api.get_metadata_opt(name).await? else {
            continue;
        };
        let annotations = crd.metadata.annotations.unwrap_or_default();
        let found = Installed {
            version: annotations.get(BUNDLE_VERSION_ANNOTATION).cloned(),
            channel: annotations.get(CHANNEL_ANNOTATION).cloned(),
        };
        installed.insert(name.clone(), found);
    }
    Ok(installed)
}

/// The CRD name of a vendored CRD file (`<group>_<plural>.yaml` → `<plural>.<group>`).
pub fn crd_name(file: &str) -> Option<String> {
    let (group, plural) = file.strip_suffix(".yaml")?.split_once('_')?;
    Some(format!("{plural}.{group}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn standard(version: &str) -> Installed {
        Installed {
            version: Some(version.into()),
            channel: Some("standard".into()),
        }
    }

    #[test]
    fn a_missing_or_older_standard_crd_is_installed_and_any_other_kept() {
        assert_eq!(decide(None, "v1.6.1"), Decision::Install);
        assert_eq!(
            decide(Some(&standard("v1.2.0")), "v1.6.1"),
            Decision::Upgrade {
                from: "v1.2.0".into()
            }
        );
        for kept in ["v1.6.1", "v1.7.0", "v2.0.0", "v1.7.0-rc1", "main"] {
            assert_eq!(
                decide(Some(&standard(kept)), "v1.6.1"),
                Decision::Keep {
                    version: Some(kept.into())
                },
                "{kept}"
            );
        }
        // An older experimental one holds fields and versions ours would take away.
        let experimental = Installed {
            version: Some("v1.2.0".into()),
            channel: Some("experimental".into()),
        };
        assert_eq!(
            decide(Some(&experimental), "v1.6.1"),
            Decision::Keep {
                version: Some("v1.2.0".into())
            }
        );
        for unknown in [
            Installed::default(),
            Installed {
                version: Some("v1.0.0".into()),
                channel: None,
            },
        ] {
            assert!(matches!(
                decide(Some(&unknown), "v1.6.1"),
                Decision::Keep { .. }
            ));
        }
    }

    #[test]
    fn the_vendored_crds_are_named_and_versioned() {
        for (file, yaml) in meshcd_schemas::gateway_api_crds() {
            let name = crd_name(file).unwrap();
            assert!(
                yaml.contains(&format!("  name: {name}\n")),
                "{file} names {name}"
            );
            assert!(name.ends_with(".gateway.networking.k8s.io"), "{name}");
            assert!(yaml.contains(&format!(
                "{BUNDLE_VERSION_ANNOTATION}: {}",
                meshcd_schemas::GATEWAY_API_BUNDLE_VERSION
            )));
        }
    }
}
