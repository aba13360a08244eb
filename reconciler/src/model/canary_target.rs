//! What a Canary drives, and the weights running canaries hold in place of Git's: the
//! backends of a TrafficSplit, or the backendRefs of an HTTPRoute's rules (Flagger's
//! Gateway API provider). Both `compile` (the proxies' snapshots) and `kubernetes` (the
//! objects applied to a cluster) read a config through [`Config::with_weights`], so the
//! two never disagree on what a rollout's step means.

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::{Config, GatewayRouteKind, HttpRoute, HttpRouteRule};

/// The object a Canary shifts weight in (`spec.trafficSplit` or `spec.httpRoute`), in
/// the Canary's namespace. Serialized as the Canary writes it (`trafficSplit: api`,
/// `httpRoute: {name: api, rule: main}`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum CanaryTarget {
    TrafficSplit(String),
    /// An HTTPRoute's rule named `rule`, or (`None`) every rule of the route whose
    /// backendRefs name both the stable and the canary Service.
    HttpRoute {
        name: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        rule: Option<String>,
    },
}

impl CanaryTarget {
    pub fn kind(&self) -> &'static str {
        match self {
            CanaryTarget::TrafficSplit(_) => "TrafficSplit",
            CanaryTarget::HttpRoute { .. } => "HTTPRoute",
        }
    }

    pub fn name(&self) -> &str {
        match self {
            CanaryTarget::TrafficSplit(name) | CanaryTarget::HttpRoute { name, .. } => name,
        }
    }
}

/// The weights running canaries hold, by (namespace, target) then backend Service name.
pub type WeightOverrides = BTreeMap<(String, CanaryTarget), BTreeMap<String, u64>>;

impl HttpRoute {
    /// The rules a Canary on this route drives, with their indexes: the rule named
    /// `rule`, or every rule with a backendRef to each of `backends` in the route's own
    /// namespace.
    pub fn canary_rules<'r>(
        &'r self,
        rule: Option<&'r str>,
        backends: &'r [&'r str],
    ) -> impl Iterator<Item = (usize, &'r HttpRouteRule)> + 'r {
        self.rules
            .iter()
            .enumerate()
            .filter(move |(_, candidate)| match rule {
                Some(rule) => candidate.name.as_deref() == Some(rule),
                None => backends
                    .iter()
                    .all(|backend| candidate.backend_in(&self.namespace, backend).is_some()),
            })
    }
}

impl HttpRouteRule {
    /// Its first backendRef to Service `namespace/name`, if any.
    pub fn backend_in(&self, namespace: &str, name: &str) -> Option<&super::BackendRef> {
        self.backends
            .iter()
            .find(|backend| backend.namespace == namespace && backend.name == name)
    }
}

impl Config {
    /// This config with the weights running canaries hold in place of Git's (borrowed
    /// as it is when none run).
    pub fn with_weights(&self, overrides: &WeightOverrides) -> Cow<'_, Config> {
        if overrides.is_empty() {
            return Cow::Borrowed(self);
        }
        let mut config = self.clone();
        for split in &mut config.traffic_splits {
            let key = (
                split.value.namespace.clone(),
                CanaryTarget::TrafficSplit(split.value.name.clone()),
            );
            if let Some(weights) = overrides.get(&key) {
                for backend in &mut split.value.backends {
                    if let Some(weight) = weights.get(&backend.service) {
                        backend.weight = *weight;
                    }
                }
            }
        }
        for ((namespace, target), weights) in overrides {
            let CanaryTarget::HttpRoute { name, rule } = target else {
                continue;
            };
            let Some(route) = config.http_routes.iter_mut().find(|route| {
                route.value.kind == GatewayRouteKind::Http
                    && &route.value.namespace == namespace
                    && &route.value.name == name
            }) else {
                continue;
            };
            let backends: Vec<&str> = weights.keys().map(String::as_str).collect();
            let driven: Vec<usize> = route
                .value
                .canary_rules(rule.as_deref(), &backends)
                .map(|(index, _)| index)
                .collect();
            for index in driven {
                for backend in &mut route.value.rules[index].backends {
                    if let Some(weight) = weights.get(&backend.name)
                        && &backend.namespace == namespace
                    {
                        backend.weight = u32::try_from(*weight).unwrap_or(u32::MAX);
                    }
                }
            }
        }
        Cow::Owned(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::config;

    const ROUTED: &str = "apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: api, namespace: shop}
spec:
  parentRefs: [{group: '', kind: Service, name: api, port: 80}]
  rules:
  - name: pinned
    matches: [{path: {type: PathPrefix, value: /v1}}]
    backendRefs: [{name: api-v1, port: 80, weight: 3}]
  - name: rollout
    backendRefs:
    - {name: api-v1, port: 80, weight: 80}
    - {name: api-v2, port: 80, weight: 20}
  - name: beta
    matches: [{path: {type: PathPrefix, value: /beta}}]
    backendRefs:
    - {name: api-v1, port: 80, weight: 1}
    - {name: api-v2, port: 80, weight: 1}
";

    fn weights_of(config: &Config) -> Vec<Vec<u32>> {
        config.http_routes[0]
            .value
            .rules
            .iter()
            .map(|rule| rule.backends.iter().map(|b| b.weight).collect())
            .collect()
    }

    fn held(rule: Option<&str>) -> WeightOverrides {
        WeightOverrides::from([(
            (
                "shop".to_string(),
                CanaryTarget::HttpRoute {
                    name: "api".into(),
                    rule: rule.map(str::to_string),
                },
            ),
            BTreeMap::from([("api-v1".to_string(), 60), ("api-v2".to_string(), 40)]),
        )])
    }

    #[test]
    fn a_route_canary_holds_the_weights_of_the_rules_with_both_backends() {
        let config = config(ROUTED);
        assert_eq!(
            weights_of(&config.with_weights(&held(None))),
            [vec![3], vec![60, 40], vec![60, 40]]
        );
    }

    #[test]
    fn a_route_canary_on_a_named_rule_holds_that_rule_alone() {
        let config = config(ROUTED);
        assert_eq!(
            weights_of(&config.with_weights(&held(Some("beta")))),
            [vec![3], vec![80, 20], vec![60, 40]]
        );
    }

    #[test]
    fn without_running_canaries_the_config_is_borrowed_as_it_is() {
        let config = config(ROUTED);
        assert!(matches!(
            config.with_weights(&WeightOverrides::new()),
            Cow::Borrowed(_)
        ));
    }
}
