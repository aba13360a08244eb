//! Kubernetes mode: the admin API's bearer token is reviewed by the API server
//! (TokenReview) and the action authorised by RBAC (SubjectAccessReview), the
//! kube-rbac-proxy pattern, so a RoleBinding decides who may promote a canary.

use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec,
};
use kube::Client;
use kube::api::{Api, PostParams};

use super::auth::{API_GROUP, Action, Reason, Refusal};
use crate::identity::token_review::review_user;

#[derive(Clone)]
pub struct ClusterAuthorizer {
    client: Client,
}

impl ClusterAuthorizer {
    pub fn new(client: Client) -> Self {
        ClusterAuthorizer { client }
    }

    /// Ok when the token's user may do `action`. A failing API server refuses (503):
    /// the admin API never fails open.
    pub async fn authorize(&self, token: &str, action: &Action) -> Result<(), Refusal> {
        let unavailable = |what: &str, error: &dyn std::error::Error| {
            tracing::warn!(error = %meshcd_support::error_chain(error), "admin API: {what} failed");
            Refusal::new(
                Reason::ReviewFailed,
                format!("could not {what}: the API server did not answer; try again"),
            )
        };
        let user = review_user(&self.client, token)
            .await
            .map_err(|error| unavailable("review the token", &error))?
            .ok_or_else(|| {
                Refusal::new(
                    Reason::WrongToken,
                    "the API server does not authenticate this token",
                )
            })?;
        let username = user.username.clone().unwrap_or_default();
        let review = SubjectAccessReview {
            spec: SubjectAccessReviewSpec {
                user: user.username,
                uid: user.uid,
                groups: user.groups,
                extra: user.extra,
                resource_attributes: Some(ResourceAttributes {
                    group: Some(API_GROUP.to_string()),
                    resource: Some(action.resource.to_string()),
                    verb: Some(action.verb.clone()),
                    namespace: action.namespace.clone(),
                    name: action.name.clone(),
                    ..ResourceAttributes::default()
                }),
                ..SubjectAccessReviewSpec::default()
            },
            ..SubjectAccessReview::default()
        };
        let api: Api<SubjectAccessReview> = Api::all(self.client.clone());
        let reviewed = api
            .create(&PostParams::default(), &review)
            .await
            .map_err(|error| unavailable("review the access", &error))?;
        if reviewed
            .status
            .as_ref()
            .is_some_and(|status| status.allowed)
        {
            return Ok(());
        }
        Err(Refusal::new(
            Reason::Forbidden,
            format!("{username} may not {}", describe(action)),
        ))
    }
}

/// The RBAC rule that would allow `action`, as an operator writes it.
fn describe(action: &Action) -> String {
    let scope = match (&action.namespace, &action.name) {
        (Some(namespace), Some(name)) => format!(" {name} in namespace {namespace}"),
        (Some(namespace), None) => format!(" in namespace {namespace}"),
        _ => String::new(),
    };
    format!(
        "{} {}.{API_GROUP}{scope} (RBAC: verb {}, resource {}, apiGroup {API_GROUP})",
        action.verb, action.resource, action.verb, action.resource
    )
}
