//! The object a rollout drives, as the applied config holds it: a TrafficSplit or an
//! HTTPRoute. What the controller reads of it: Git's weights, the Service whose traffic
//! is judged, and the file the outcome is committed to.

use crate::model::{Canary, CanaryTarget, Config, HttpRoute, Located, Origin, TrafficSplit};

pub(super) enum Target<'c> {
    Split(&'c Located<TrafficSplit>),
    Route(&'c Located<HttpRoute>),
}

impl<'c> Target<'c> {
    /// The canary's target in `config`; `None` when it is not there (validation makes
    /// that impossible for an applied revision).
    pub(super) fn of(config: &'c Config, canary: &Canary) -> Option<Target<'c>> {
        let namespace = &canary.namespace;
        match &canary.target {
            CanaryTarget::TrafficSplit(name) => config
                .traffic_splits
                .iter()
                .find(|s| &s.value.namespace == namespace && &s.value.name == name)
                .map(Target::Split),
            CanaryTarget::HttpRoute { name, .. } => config
                .http_routes
                .iter()
                .find(|r| {
                    r.value.kind == crate::model::GatewayRouteKind::Http
                        && &r.value.namespace == namespace
                        && &r.value.name == name
                })
                .map(Target::Route),
        }
    }

    pub(super) fn origin(&self) -> &'c Origin {
        match self {
            Target::Split(split) => &split.origin,
            Target::Route(route) => &route.origin,
        }
    }

    /// The Service clients call, whose traffic to the canary backend is judged: the
    /// split's root, or the route's parent (validation allows one).
    pub(super) fn service(&self) -> &'c str {
        match self {
            Target::Split(split) => &split.value.service,
            Target::Route(route) => route
                .value
                .parents
                .first()
                .map_or("", |parent| parent.name.as_str()),
        }
    }

    /// The canary backend's share of stable + canary in Git, in percent (in the first
    /// rule a route's Canary drives).
    pub(super) fn canary_percent(&self, canary: &Canary) -> u32 {
        let (stable, canary_weight) = match self {
            Target::Split(split) => {
                let weight = |name: &str| {
                    split
                        .value
                        .backends
                        .iter()
                        .find(|b| b.service == name)
                        .map_or(0, |b| b.weight)
                };
                (weight(&canary.stable), weight(&canary.canary))
            }
            Target::Route(route) => {
                let route = &route.value;
                let CanaryTarget::HttpRoute { rule, .. } = &canary.target else {
                    return 0;
                };
                let backends = [canary.stable.as_str(), canary.canary.as_str()];
                let Some((_, rule)) = route.canary_rules(rule.as_deref(), &backends).next() else {
                    return 0;
                };
                let weight = |name: &str| {
                    rule.backend_in(&route.namespace, name)
                        .map_or(0, |b| u64::from(b.weight))
                };
                (weight(&canary.stable), weight(&canary.canary))
            }
        };
        (canary_weight * 100)
            .checked_div(stable + canary_weight)
            .map_or(0, |percent| percent as u32)
    }
}
