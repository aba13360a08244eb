//! Which proof of identity the control plane accepts: bootstrap tokens in local mode,
//! service-account tokens checked with TokenReview in a cluster.

use std::collections::BTreeSet;

use super::token_review::{TokenReviewError, TokenReviewer};
use super::tokens::{TokenError, TokenStore, Verdict};
use crate::model::Identity;

pub enum Verifier {
    Bootstrap(TokenStore),
    Kubernetes(TokenReviewer),
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("token store")]
    Store(#[from] TokenError),
    #[error("token review")]
    Review(#[from] TokenReviewError),
}

/// What a token proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proven {
    pub identity: Identity,
    /// The services the holder may serve: a bootstrap token names them; `None` for a
    /// service-account token, whose services only the cluster's Pods and EndpointSlices
    /// say.
    pub services: Option<BTreeSet<String>>,
}

/// The answer to a presented token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proof {
    Proven(Proven),
    /// Proves nothing; the reason is safe to tell whoever presented it.
    Refused(String),
}

impl Verifier {
    /// What a token proves.
    pub async fn verify(&self, token: &str) -> Result<Proof, VerifyError> {
        match self {
            Verifier::Bootstrap(store) => Ok(match store.verify(token)? {
                Verdict::Valid(grant) => Proof::Proven(Proven {
                    identity: grant.identity,
                    services: Some(grant.services.into_iter().collect()),
                }),
                Verdict::Expired(at) => Proof::Refused(format!("token expired at {at}")),
                Verdict::Outdated(id) => Proof::Refused(format!(
                    "token {id} predates tokens that name services and expire: create a new one with `meshcd token create --service`"
                )),
                // Whether the id exists is nobody's business who cannot show its secret.
                Verdict::Invalid => {
                    // The operator's side of "wrong state directory": which store was asked.
                    tracing::warn!(
                        tokens = %store.file().display(),
                        "refused a bootstrap token this store does not hold"
                    );
                    Proof::Refused(
                        "invalid or revoked bootstrap token: tokens come from `meshcd token create` \
                         run against this reconciler's state directory (`meshcd run` names it \
                         when it creates it; --state-dir or MESHCD_STATE_DIR)"
                            .into(),
                    )
                }
            }),
            Verifier::Kubernetes(reviewer) => Ok(match reviewer.verify(token).await? {
                Some(identity) => Proof::Proven(Proven {
                    identity,
                    services: None,
                }),
                None => Proof::Refused(
                    "the API server does not authenticate this service-account token for meshcd"
                        .into(),
                ),
            }),
        }
    }
}

impl From<TokenStore> for Verifier {
    fn from(store: TokenStore) -> Self {
        Verifier::Bootstrap(store)
    }
}

impl From<TokenReviewer> for Verifier {
    fn from(reviewer: TokenReviewer) -> Self {
        Verifier::Kubernetes(reviewer)
    }
}
