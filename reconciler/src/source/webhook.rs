//! The push webhook: a GitHub-style payload whose HMAC-SHA256 signature
//! (`X-Hub-Signature-256: sha256=<hex>`) is checked, in constant time, over the raw body
//! before anything in it is read; then whether the push concerns the followed reference.

use hmac::{Hmac, Mac as _};
use sha2::Sha256;

use super::git::Reference;

pub const SIGNATURE_HEADER: &str = "x-hub-signature-256";
pub const EVENT_HEADER: &str = "x-github-event";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WebhookError {
    #[error("missing X-Hub-Signature-256 header")]
    Unsigned,
    #[error("malformed X-Hub-Signature-256 header: expected sha256=<hex>")]
    Malformed,
    #[error("the signature does not match the body")]
    Mismatch,
}

/// Checks the signature header against the body. `Mac::verify_slice` compares in
/// constant time, so the time taken says nothing about how much of a guess was right.
pub fn verify(secret: &[u8], header: Option<&[u8]>, body: &[u8]) -> Result<(), WebhookError> {
    let header = header.ok_or(WebhookError::Unsigned)?;
    let hex_digest = std::str::from_utf8(header)
        .ok()
        .and_then(|text| text.trim().strip_prefix("sha256="))
        .ok_or(WebhookError::Malformed)?;
    let expected = hex::decode(hex_digest).map_err(|_| WebhookError::Malformed)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).map_err(|_| WebhookError::Mismatch)?;
    mac.update(body);
    mac.verify_slice(&expected)
        .map_err(|_| WebhookError::Mismatch)
}

/// The header value a sender computes for `body`.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any size");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// What a verified delivery announces.
#[derive(Debug, PartialEq, Eq)]
pub enum Event {
    /// GitHub's hello when a hook is created.
    Ping,
    /// A push to `reference` (`refs/heads/main`).
    Push { reference: String },
    /// Any other event, by name.
    Other(String),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the payload is not a push event: {0}")]
pub struct PayloadError(String);

/// Reads the event from its header (`X-GitHub-Event`) and body. Senders that use other
/// header names (Gitea, GitLab) still put the pushed ref in `ref`.
pub fn parse(event: Option<&str>, body: &[u8]) -> Result<Event, PayloadError> {
    match event {
        Some("ping") => return Ok(Event::Ping),
        Some(name) if name != "push" => return Ok(Event::Other(name.to_string())),
        _ => {}
    }
    #[derive(serde::Deserialize)]
    struct Push {
        #[serde(rename = "ref")]
        reference: String,
    }
    let push: Push =
        serde_json::from_slice(body).map_err(|error| PayloadError(error.to_string()))?;
    Ok(Event::Push {
        reference: push.reference,
    })
}

/// Whether a push to `pushed` can move what the reconciler follows. `followed` is the
/// full reference name learned from the last fetch (the branch HEAD points at).
pub fn concerns(reference: &Reference, followed: Option<&str>, pushed: &str) -> bool {
    match (reference, followed) {
        // A commit never moves.
        (Reference::Commit(_), _) => false,
        (_, Some(followed)) => pushed == followed,
        (Reference::Branch(name), None) => pushed == format!("refs/heads/{name}"),
        (Reference::Tag(name), None) => pushed == format!("refs/tags/{name}"),
        (Reference::Head, None) => pushed.starts_with("refs/heads/"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"webhook-secret";

    #[test]
    fn a_body_signed_with_the_secret_verifies() {
        let body = br#"{"ref":"refs/heads/main"}"#;
        let header = sign(SECRET, body);
        assert_eq!(verify(SECRET, Some(header.as_bytes()), body), Ok(()));
    }

    #[test]
    fn a_missing_malformed_or_wrong_signature_is_refused() {
        let body = br#"{"ref":"refs/heads/main"}"#;
        assert_eq!(verify(SECRET, None, body), Err(WebhookError::Unsigned));
        assert_eq!(
            verify(SECRET, Some(b"sha1=abcd"), body),
            Err(WebhookError::Malformed)
        );
        assert_eq!(
            verify(SECRET, Some(b"sha256=zz"), body),
            Err(WebhookError::Malformed)
        );
        let other = sign(b"another-secret", body);
        assert_eq!(
            verify(SECRET, Some(other.as_bytes()), body),
            Err(WebhookError::Mismatch)
        );
        let tampered = sign(SECRET, br#"{"ref":"refs/heads/other"}"#);
        assert_eq!(
            verify(SECRET, Some(tampered.as_bytes()), body),
            Err(WebhookError::Mismatch)
        );
    }

    #[test]
    fn push_ping_and_other_events_are_told_apart() {
        let body = br#"{"ref":"refs/heads/main","after":"abc"}"#;
        assert_eq!(
            parse(Some("push"), body),
            Ok(Event::Push {
                reference: "refs/heads/main".into()
            })
        );
        assert_eq!(parse(Some("ping"), b"{}"), Ok(Event::Ping));
        assert_eq!(
            parse(Some("issues"), b"{}"),
            Ok(Event::Other("issues".into()))
        );
        assert!(parse(None, b"not json").is_err());
    }

    #[test]
    fn only_pushes_to_the_followed_reference_concern_the_reconciler() {
        let main = Reference::Branch("main".into());
        assert!(concerns(&main, None, "refs/heads/main"));
        assert!(!concerns(&main, None, "refs/heads/feature"));
        assert!(concerns(
            &Reference::Head,
            Some("refs/heads/trunk"),
            "refs/heads/trunk"
        ));
        assert!(!concerns(
            &Reference::Head,
            Some("refs/heads/trunk"),
            "refs/heads/main"
        ));
        assert!(concerns(&Reference::Tag("v1".into()), None, "refs/tags/v1"));
        assert!(!concerns(
            &Reference::Commit("abc".into()),
            None,
            "refs/heads/main"
        ));
    }
}
