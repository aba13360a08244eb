//! Kubernetes service-account tokens checked with the TokenReview API: how a proxy in a
//! cluster proves its identity (its pod's projected token, bound to meshcd's audience).

use k8s_openapi::api::authentication::v1::{
    TokenReview, TokenReviewSpec, TokenReviewStatus, UserInfo,
};
use kube::Client;
use kube::api::{Api, PostParams};

use crate::model::Identity;

/// The audience meshcd asks the kubelet to bind proxies' projected tokens to, so a token
/// minted for meshcd is useless against the API server and the other way round.
pub const AUDIENCE: &str = "meshcd";

#[derive(Debug, thiserror::Error)]
pub enum TokenReviewError {
    #[error("asking the API server to review the token")]
    Api(#[source] kube::Error),
}

#[derive(Clone)]
pub struct TokenReviewer {
    client: Client,
    audience: String,
}

impl TokenReviewer {
    pub fn new(client: Client, audience: impl Into<String>) -> Self {
        TokenReviewer {
            client,
            audience: audience.into(),
        }
    }

    /// The service account a token proves, or `None` when the API server does not
    /// authenticate it for our audience (expired, revoked, deleted pod, other audience).
    pub async fn verify(&self, token: &str) -> Result<Option<Identity>, TokenReviewError> {
        let status = review(&self.client, token, Some(vec![self.audience.clone()])).await?;
        Ok(status.and_then(|status| {
            // The API server answers with the audiences the token is valid for; an empty
            // answer means it did not check them, which a meshcd token must not skip.
            if !status
                .audiences
                .unwrap_or_default()
                .contains(&self.audience)
            {
                return None;
            }
            service_account(status.user?.username.as_deref()?)
        }))
    }
}

/// Who a token authenticates as for the API server's own audiences (a person's or a
/// service account's token, as kubectl sends it), or `None`: the admin API's caller,
/// whose rights RBAC then decides.
pub async fn review_user(
    client: &Client,
    token: &str,
) -> Result<Option<UserInfo>, TokenReviewError> {
    Ok(review(client, token, None)
        .await?
        .and_then(|status| status.user)
        .filter(|user| {
            user.username
                .as_deref()
                .is_some_and(|name| !name.is_empty())
        }))
}

/// The API server's review of `token` for `audiences` (its own when `None`), when it
/// authenticates the token.
async fn review(
    client: &Client,
    token: &str,
    audiences: Option<Vec<String>>,
) -> Result<Option<TokenReviewStatus>, TokenReviewError> {
    let review = TokenReview {
        spec: TokenReviewSpec {
            token: Some(token.to_string()),
            audiences,
        },
        ..TokenReview::default()
    };
    let api: Api<TokenReview> = Api::all(client.clone());
    let reviewed = api
        .create(&PostParams::default(), &review)
        .await
        .map_err(TokenReviewError::Api)?;
    Ok(reviewed
        .status
        .filter(|status| status.authenticated == Some(true)))
}

/// `system:serviceaccount:<namespace>:<name>` → the identity.
pub fn service_account(username: &str) -> Option<Identity> {
    let rest = username.strip_prefix("system:serviceaccount:")?;
    let (namespace, name) = rest.split_once(':')?;
    (!namespace.is_empty() && !name.is_empty() && !name.contains(':')).then(|| Identity {
        namespace: namespace.to_string(),
        service_account: name.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kubernetes::fake_api::FakeApi;

    #[test]
    fn only_service_account_usernames_are_identities() {
        assert_eq!(
            service_account("system:serviceaccount:shop:api"),
            Some(Identity {
                namespace: "shop".into(),
                service_account: "api".into()
            })
        );
        assert_eq!(service_account("system:node:worker-1"), None);
        assert_eq!(service_account("system:serviceaccount:shop"), None);
        assert_eq!(service_account("alice"), None);
    }

    #[tokio::test]
    async fn a_projected_token_proves_its_pods_service_account_and_a_forged_one_nothing() {
        let api = FakeApi::new();
        api.accept_token("projected-token", "shop", "api");
        let reviewer = TokenReviewer::new(api.client(), AUDIENCE);
        assert_eq!(
            reviewer.verify("projected-token").await.unwrap(),
            Some(Identity {
                namespace: "shop".into(),
                service_account: "api".into()
            })
        );
        assert_eq!(reviewer.verify("forged").await.unwrap(), None);
        let reviews = api.take_writes();
        assert_eq!(
            reviews[0].line(),
            "POST /apis/authentication.k8s.io/v1/tokenreviews"
        );
        assert_eq!(
            reviews[0].body.as_ref().unwrap()["spec"],
            serde_json::json!({"token": "projected-token", "audiences": ["meshcd"]})
        );
    }
}
