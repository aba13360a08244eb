//! Which proof of identity the control plane accepts: bootstrap tokens in local mode,
//! service-account tokens checked with TokenReview in a cluster.

use super::token_review::{TokenReviewError, TokenReviewer};
use super::tokens::{TokenError, TokenStore};
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

impl Verifier {
    /// The identity a token proves, or `None` when it proves none.
    pub async fn verify(&self, token: &str) -> Result<Option<Identity>, VerifyError> {
        match self {
            Verifier::Bootstrap(store) => Ok(store.verify(token)?),
            Verifier::Kubernetes(reviewer) => Ok(reviewer.verify(token).await?),
        }
    }
}

impl Verifier {
    /// What a proxy is told when its token proves nothing.
    pub fn refusal(&self) -> &'static str {
        match self {
            Verifier::Bootstrap(_) => "invalid or revoked bootstrap token",
            Verifier::Kubernetes(_) => {
                "the API server does not authenticate this service-account token for meshcd"
            }
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
