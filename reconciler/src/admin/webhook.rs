//! `POST /webhook`: a Git host's push delivery, proven by its HMAC signature, turned into
//! a sync when it concerns the followed reference.

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};

use super::{Admin, owned_text, text};
use crate::reconcile::Trigger;
use crate::source::credentials::Secret;
use crate::source::git::Reference;
use crate::source::webhook;

/// GitHub sends at most 25 MB; a push payload is far smaller, and nothing more is read.
const WEBHOOK_BODY_LIMIT: usize = 25 * 1024 * 1024;

/// What the webhook needs: the secret senders sign with, and what the reconciler follows.
pub struct Webhook {
    pub secret: Secret,
    pub reference: Reference,
}

/// Verifies the signature over the raw body first; only a signed delivery is read.
pub async fn receive_webhook(
    admin: &Admin,
    hook: &Webhook,
    request: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, WEBHOOK_BODY_LIMIT).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return text(StatusCode::PAYLOAD_TOO_LARGE, "payload too large\n"),
    };
    let signature = parts
        .headers
        .get(webhook::SIGNATURE_HEADER)
        .map(|value| value.as_bytes());
    if let Err(error) = webhook::verify(hook.secret.expose().as_bytes(), signature, &body) {
        tracing::warn!(%error, "webhook delivery refused");
        let code = match error {
            webhook::WebhookError::Unsigned => StatusCode::UNAUTHORIZED,
            _ => StatusCode::FORBIDDEN,
        };
        return owned_text(code, format!("refused: {error}\n"));
    }
    let event = parts
        .headers
        .get(webhook::EVENT_HEADER)
        .and_then(|value| value.to_str().ok());
    match webhook::parse(event, &body) {
        Ok(webhook::Event::Ping) => text(StatusCode::OK, "pong\n"),
        Ok(webhook::Event::Other(name)) => {
            owned_text(StatusCode::OK, format!("ignored: {name} event\n"))
        }
        Ok(webhook::Event::Push { reference }) => {
            let followed = admin.status.lock().await.followed.clone();
            if webhook::concerns(&hook.reference, followed.as_deref(), &reference) {
                tracing::info!(pushed = %reference, "webhook: push received; fetching");
                // A full channel already holds a pending trigger: nothing is lost.
                let _ = admin.triggers.try_send(Trigger::Webhook);
                owned_text(
                    StatusCode::ACCEPTED,
                    format!("sync requested: push to {reference}\n"),
                )
            } else {
                owned_text(
                    StatusCode::OK,
                    format!("ignored: push to {reference}, which is not followed\n"),
                )
            }
        }
        Err(error) => owned_text(StatusCode::BAD_REQUEST, format!("{error}\n")),
    }
}
