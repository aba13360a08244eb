//! `POST /webhook`: a Git host's push delivery, proven by its HMAC signature, turned into
//! a sync when it concerns the followed reference.

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};

use super::{Admin, text};
use crate::reconcile::Trigger;
use crate::source::credentials::Secret;
use crate::source::git::Reference;
use crate::source::webhook;

/// Push payloads carry at most 20 commits (GitHub, GitLab, Gitea): tens of KiB. A
/// delivery is read whole before its signature can be checked, so what one unsigned
/// sender can make meshcd buffer is this limit times [`CONCURRENT_READS`].
const WEBHOOK_BODY_LIMIT: usize = 2 * 1024 * 1024;
/// Deliveries read at once; more get 503 (a Git host's missed delivery only delays the
/// sync to the next poll).
const CONCURRENT_READS: usize = 4;
/// A sender that trickles its body does not hold a read slot longer than this.
const WEBHOOK_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// What the webhook needs: the secret senders sign with, and what the reconciler follows.
pub struct Webhook {
    pub secret: Secret,
    pub reference: Reference,
    reading: tokio::sync::Semaphore,
}

impl Webhook {
    pub fn new(secret: Secret, reference: Reference) -> Webhook {
        Webhook {
            secret,
            reference,
            reading: tokio::sync::Semaphore::new(CONCURRENT_READS),
        }
    }
}

/// Verifies the signature over the raw body first; only a signed delivery is read.
pub async fn receive_webhook(
    admin: &Admin,
    hook: &Webhook,
    request: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let refuse = |error: webhook::WebhookError| {
        tracing::warn!(%error, "webhook delivery refused");
        let code = match error {
            webhook::WebhookError::Unsigned => StatusCode::UNAUTHORIZED,
            _ => StatusCode::FORBIDDEN,
        };
        text(code, format!("refused: {error}\n"))
    };
    let (parts, body) = request.into_parts();
    // An unsigned delivery is refused before a byte of its body is read.
    let Some(signature) = parts
        .headers
        .get(webhook::SIGNATURE_HEADER)
        .map(|value| value.as_bytes())
    else {
        return refuse(webhook::WebhookError::Unsigned);
    };
    let Ok(_slot) = hook.reading.try_acquire() else {
        return text(
            StatusCode::SERVICE_UNAVAILABLE,
            "too many deliveries being read; the next poll fetches anyway\n",
        );
    };
    let read = tokio::time::timeout(
        WEBHOOK_READ_TIMEOUT,
        Limited::new(body, WEBHOOK_BODY_LIMIT).collect(),
    );
    let body = match read.await {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(_)) => return text(StatusCode::PAYLOAD_TOO_LARGE, "payload too large\n"),
        Err(_) => return text(StatusCode::REQUEST_TIMEOUT, "payload not sent in time\n"),
    };
    if let Err(error) = webhook::verify(hook.secret.expose().as_bytes(), Some(signature), &body) {
        return refuse(error);
    }
    let event = parts
        .headers
        .get(webhook::EVENT_HEADER)
        .and_then(|value| value.to_str().ok());
    match webhook::parse(event, &body) {
        Ok(webhook::Event::Ping) => text(StatusCode::OK, "pong\n"),
        Ok(webhook::Event::Other(name)) => text(StatusCode::OK, format!("ignored: {name} event\n")),
        Ok(webhook::Event::Push { reference }) => {
            let followed = admin.status.lock().await.followed.clone();
            if webhook::concerns(&hook.reference, followed.as_deref(), &reference) {
                tracing::info!(pushed = %reference, "webhook: push received; fetching");
                // A full channel already holds a pending trigger: nothing is lost.
                let _ = admin.triggers.try_send(Trigger::Webhook);
                text(
                    StatusCode::ACCEPTED,
                    format!("sync requested: push to {reference}\n"),
                )
            } else {
                text(
                    StatusCode::OK,
                    format!("ignored: push to {reference}, which is not followed\n"),
                )
            }
        }
        Err(error) => text(StatusCode::BAD_REQUEST, format!("{error}\n")),
    }
}
