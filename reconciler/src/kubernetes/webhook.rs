//! The mutating admission webhook's HTTPS server (`POST /inject`), and the patch that
//! puts the mesh CA into its MutatingWebhookConfiguration so the API server trusts it.

use std::collections::BTreeSet;
use std::sync::Arc;

use base64::Engine as _;
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use k8s_openapi::api::admissionregistration::v1::MutatingWebhookConfiguration;
use kube::Client;
use kube::api::{Api, Patch, PatchParams};
use serde_json::{Value, json};
use tokio::sync::watch;

use super::inject::{self, Settings};

/// AdmissionReviews carry the whole pod; the API server caps requests at 3 MiB.
const MAX_REVIEW_BYTES: usize = 4 * 1024 * 1024;
/// How long a caller may take over its TLS handshake, and over each HTTP/1.1 request
/// head: the API server sends at once, so a connection that does not is holding one of
/// the listener's `--max-connections` slots (and, with `failurePolicy: Fail`, every pod
/// creation) hostage.
const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// The webhook's name in the configuration `meshcd install` renders.
pub const WEBHOOK_NAME: &str = "inject.meshcd.dev";

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("reading the webhook's certificate and key")]
    Certificate(#[source] rustls::pki_types::pem::Error),
    #[error("configuring TLS")]
    Tls(#[from] rustls::Error),
    #[error("patching the caBundle of MutatingWebhookConfiguration {name}")]
    CaBundle {
        name: String,
        #[source]
        source: kube::Error,
    },
}

/// A TLS acceptor for the webhook from a PEM certificate chain and key.
pub fn acceptor(cert_pem: &str, key_pem: &str) -> Result<tokio_rustls::TlsAcceptor, WebhookError> {
    use rustls::pki_types::pem::PemObject as _;
    let certs = rustls::pki_types::CertificateDer::pem_slice_iter(cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(WebhookError::Certificate)?;
    let key = rustls::pki_types::PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
        .map_err(WebhookError::Certificate)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// Serves admission reviews until the task is dropped. `onboarded` holds the namespaces
/// of the revision in force.
pub async fn serve(
    mut connections: crate::accept::Acceptor,
    acceptor: tokio_rustls::TlsAcceptor,
    settings: Settings,
    onboarded: watch::Receiver<BTreeSet<String>>,
) {
    let settings = Arc::new(settings);
    loop {
        // Within the connection cap, pausing when accepting fails (accept.rs).
        let stream = connections.accept().await;
        let acceptor = acceptor.clone();
        let settings = settings.clone();
        let onboarded = onboarded.clone();
        tokio::spawn(async move {
            let Ok(Ok(stream)) =
                tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
            else {
                return;
            };
            let http2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
            let service = hyper::service::service_fn(move |request| {
                handle(request, settings.clone(), onboarded.clone())
            });
            // The protocol ALPN settled, never sniffed: sniffing would wait unbounded for a
            // first byte. HTTP/2 connections are kept alive by pings that time out.
            let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            let mut builder = if http2 {
                builder.http2_only()
            } else {
                builder.http1_only()
            };
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(HANDSHAKE_TIMEOUT);
            builder
                .http2()
                .timer(TokioTimer::new())
                .keep_alive_interval(Some(HANDSHAKE_TIMEOUT))
                .keep_alive_timeout(HANDSHAKE_TIMEOUT);
            let _ = builder
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn handle(
    request: Request<hyper::body::Incoming>,
    settings: Arc<Settings>,
    onboarded: watch::Receiver<BTreeSet<String>>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let reply = |status: StatusCode, body: Value| {
        Ok(Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body.to_string())))
            .expect("a valid response"))
    };
    match (request.method(), request.uri().path()) {
        (&Method::GET, "/healthz") => reply(StatusCode::OK, json!({"status": "ok"})),
        (&Method::POST, "/inject") => {
            let body = match Limited::new(request.into_body(), MAX_REVIEW_BYTES)
                .collect()
                .await
            {
                Ok(body) => body.to_bytes(),
                Err(error) => {
                    return reply(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        json!({"error": error.to_string()}),
                    );
                }
            };
            let review: Value = match serde_json::from_slice(&body) {
                Ok(review) => review,
                Err(error) => {
                    return reply(
                        StatusCode::BAD_REQUEST,
                        json!({"error": format!("not JSON: {error}")}),
                    );
                }
            };
            let namespaces = onboarded.borrow().clone();
            match inject::review(
                &review,
                |namespace| namespaces.contains(namespace),
                &settings,
            ) {
                Ok(response) => {
                    if response["response"].get("patch").is_some() {
                        tracing::info!(
                            namespace = review["request"]["namespace"].as_str().unwrap_or_default(),
                            "injected the meshcd proxy into a pod"
                        );
                    }
                    reply(StatusCode::OK, response)
                }
                Err(error) => reply(StatusCode::BAD_REQUEST, json!({"error": error})),
            }
        }
        _ => reply(StatusCode::NOT_FOUND, json!({"error": "not found"})),
    }
}

/// Sets the `caBundle` of every webhook in the configuration to the mesh CA, which signs
/// the webhook's serving certificate. A JSON patch per webhook: the rest of the object
/// belongs to whoever installed it.
pub async fn patch_ca_bundle(
    client: &Client,
    name: &str,
    bundle_pem: &str,
) -> Result<(), WebhookError> {
    let api: Api<MutatingWebhookConfiguration> = Api::all(client.clone());
    let error = |source| WebhookError::CaBundle {
        name: name.to_string(),
        source,
    };
    let configuration = api.get(name).await.map_err(error)?;
    let bundle = base64::engine::general_purpose::STANDARD.encode(bundle_pem);
    let operations: Vec<Value> = (0..configuration.webhooks.map_or(0, |w| w.len()))
        .map(|index| json!({"op": "add", "path": format!("/webhooks/{index}/clientConfig/caBundle"), "value": bundle}))
        .collect();
    let patch: json_patch::Patch =
        serde_json::from_value(Value::Array(operations)).expect("well-formed add operations");
    api.patch(name, &PatchParams::default(), &Patch::<()>::Json(patch))
        .await
        .map_err(error)?;
    Ok(())
}

#[cfg(test)]
#[path = "webhook_tests.rs"]
mod tests;
